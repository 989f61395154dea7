/*
 * The default chunk length of temporal models, from memory (docs/CHUNKS.md): a temporal
 * network keeps features of every frame of a chunk, so its memory grows linearly with the
 * chunk. Two probe chunks measure that line; the budget then buys the chunk and overlap that
 * keep most of the computed frames (vsr_chunk_fit_choose).
 */
#ifndef VSR_CHUNK_FIT_H
#define VSR_CHUNK_FIT_H

#include <stdint.h>

#include "engine.h"

/* An overlap the fit narrows to no further than this, unless the user asked for less. */
#define VSR_CHUNK_FIT_MIN_OVERLAP 2
/* The fit narrows the overlap only while the chunk is shorter than this many overlaps: a
 * narrowed overlap still keeps at least 4 / (4 + 2) = 2/3 of the computed frames. */
#define VSR_CHUNK_FIT_OVERLAPS_PER_CHUNK 4

/*
 * The default budget of a model on the CPU, if 80 % of the free memory is more: the machine
 * is shared with the encoders, the page cache and whatever else runs, and free memory read at
 * the start says nothing of the hours after it. A longer chunk only keeps more of the computed
 * frames: the tiny BasicVSR++ of docs/MODELS.md at 720x528 keeps 56 % in 4 GiB and 69 % in
 * 18 (docs/PERFORMANCE.md). --memory-limit sets another budget; a device's memory is its own.
 */
#define VSR_CHUNK_FIT_HOST_BUDGET ((int64_t)4 << 30)

typedef struct vsr_chunk_fit {
    int chunk;         /* output frames per chunk, 1..VSR_PLAN_DEFAULT_CHUNK */
    int overlap;       /* context frames on each side: the asked one, or narrowed to fit */
    int device;        /* 1: device memory was measured, 0: host memory */
    int64_t per_frame; /* bytes one more frame of a chunk costs the engine */
    /* What the budget pays per frame computed (the engine's, plus the float input frame in
     * host memory) and per frame kept (host memory: the output frames in flight). */
    int64_t per_computed, per_kept;
    int64_t fixed;   /* bytes the peak holds whatever the chunk (model, buffers) */
    int64_t budget;  /* bytes the peak may reach */
    int host_capped; /* 1: budget is VSR_CHUNK_FIT_HOST_BUDGET, less than 80 % of free memory */
    int fits;        /* 0: even a one-frame chunk exceeds the budget */
    int peers;       /* other vsrup processes on the device (device_share.h) */
    int64_t pending; /* bytes they have claimed but not yet allocated: not in the budget */
} vsr_chunk_fit;

/*
 * Measures `engine` on chunks of grey frames and fits a chunk of output frames plus
 * 2 * overlap context frames into `limit` bytes, or, when limit is 0, into 80 % of what the
 * device (or the machine, at most VSR_CHUNK_FIT_HOST_BUDGET) has free now less `pending`, the
 * bytes other processes on the device have claimed and not yet allocated (fit->pending). Host
 * memory includes the float input frames the pipeline holds for a chunk and the output frames of
 * the chunks in flight and in the encoder queue. `overlap` is narrowed as vsr_chunk_fit_choose says
 * unless `overlap_asked` (the user's --overlap). Returns VSR_OK, VSR_ERROR_OOM (a probe itself did
 * not fit) or VSR_ERROR.
 */
int vsr_chunk_fit_measure(vsr_engine *engine, int overlap, int overlap_asked, int64_t limit,
                          int64_t pending, vsr_chunk_fit *fit, vsr_err *err);
/* The peak a chunk of fit->chunk frames with fit->overlap reaches, by the measured line. */
int64_t vsr_chunk_fit_peak(const vsr_chunk_fit *fit);

/*
 * The chunk and overlap for `room` bytes (budget less fixed cost) when a computed frame costs
 * `per_computed` bytes and a kept one `per_kept` more: the longest chunk, up to
 * VSR_PLAN_DEFAULT_CHUNK, with `overlap`; unless `overlap_asked`, the overlap is first
 * narrowed, one frame at a time down to VSR_CHUNK_FIT_MIN_OVERLAP (or `overlap` if less),
 * while that chunk would be shorter than VSR_CHUNK_FIT_OVERLAPS_PER_CHUNK overlaps. Pure.
 * Returns 1 if it fits, 0 if even a one-frame chunk exceeds `room` (*chunk is then 1).
 */
int vsr_chunk_fit_choose(int64_t room, int64_t per_computed, int64_t per_kept, int overlap,
                         int overlap_asked, int *chunk, int *overlap_out);
/* Kept frames over computed frames of a chunk with full context on both sides, in (0, 1]. */
double vsr_chunk_efficiency(int chunk, int overlap);

#endif
