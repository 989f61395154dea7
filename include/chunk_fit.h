/*
 * The default chunk length of temporal models, from memory (docs/CHUNKS.md): a temporal
 * network keeps features of every frame of a chunk, so its memory grows linearly with the
 * chunk. Two probe chunks measure that line; the longest chunk under the budget wins.
 */
#ifndef VSR_CHUNK_FIT_H
#define VSR_CHUNK_FIT_H

#include <stdint.h>

#include "engine.h"

typedef struct vsr_chunk_fit {
    int chunk;         /* output frames per chunk, 1..VSR_PLAN_DEFAULT_CHUNK */
    int device;        /* 1: device memory was measured, 0: host memory */
    int64_t per_frame; /* bytes one more frame of a chunk costs */
    int64_t fixed;     /* bytes the peak holds whatever the chunk (model, buffers) */
    int64_t budget;    /* bytes the peak may reach */
    int fits;          /* 0: even a one-frame chunk exceeds the budget */
    int peers;         /* other vsrup processes on the device (device_share.h) */
    int64_t pending;   /* bytes they have claimed but not yet allocated: not in the budget */
} vsr_chunk_fit;

/*
 * Measures `engine` on chunks of grey frames and fits a chunk of output frames plus
 * 2 * overlap context frames into `limit` bytes, or, when limit is 0, into 80 % of what the
 * device (or the machine) has free now less `pending`, the bytes other processes on the
 * device have claimed and not yet allocated (fit->pending). Host memory includes the float
 * input frames the pipeline holds for a chunk. Returns VSR_OK, VSR_ERROR_OOM (a probe itself
 * did not fit) or VSR_ERROR.
 */
int vsr_chunk_fit_measure(vsr_engine *engine, int overlap, int64_t limit, int64_t pending,
                          vsr_chunk_fit *fit, vsr_err *err);
/* The peak a chunk of fit->chunk frames with `overlap` reaches, by the measured line. */
int64_t vsr_chunk_fit_peak(const vsr_chunk_fit *fit, int overlap);

#endif
