/* Monotonic wall-clock seconds, for stage timings and the progress line. */
#ifndef VSR_CLOCK_H
#define VSR_CLOCK_H

double vsr_seconds(void);

#endif
