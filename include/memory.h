/* What the process and the machine have in host memory (Linux /proc), for sizing chunks. */
#ifndef VSR_MEMORY_H
#define VSR_MEMORY_H

#include <stdint.h>

/* Bytes the kernel says can still be allocated without swapping (MemAvailable); -1 if unknown. */
int64_t vsr_memory_available(void);
/* Resident set size of this process now (VmRSS) and at its peak (VmHWM); -1 if unknown. */
int64_t vsr_memory_resident(void);
int64_t vsr_memory_peak(void);
/* Starts a new peak from the current resident size. VSR_OK, or VSR_ERROR if not allowed. */
int vsr_memory_reset_peak(void);

#endif
