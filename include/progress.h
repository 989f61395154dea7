/* The progress line on a terminal: frames done/total, fps, ETA. Silent elsewhere. */
#ifndef VSR_PROGRESS_H
#define VSR_PROGRESS_H

#include <stdint.h>

typedef struct vsr_progress {
    int enabled;   /* stderr is a terminal and not --quiet */
    int64_t total; /* 0 = unknown */
    double start, last_print;
    int printed;
} vsr_progress;

void vsr_progress_init(vsr_progress *p, int64_t total, int wanted);
/* Prints at most a few times a second; `final` prints once more and ends the line. */
void vsr_progress_update(vsr_progress *p, int64_t done, int final);

#endif
