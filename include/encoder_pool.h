/*
 * Parallel intra-only encoding: N identically configured encoder contexts, each on its
 * own thread, take frames in turn; packets come back strictly in submission order.
 * Only one thread submits and receives; the workers are internal.
 */
#ifndef VSR_ENCODER_POOL_H
#define VSR_ENCODER_POOL_H

#include <libavcodec/avcodec.h>

#include "vsr_types.h"

typedef struct vsr_encoder_pool vsr_encoder_pool;

/*
 * Starts one thread per context. Takes ownership of the opened contexts (also on failure)
 * and of the `contexts` array itself. Each context must return exactly one packet per frame
 * (intra-only, no frame threading). `depth` frames at most are queued or in flight.
 */
int vsr_encoder_pool_create(vsr_encoder_pool **pool, AVCodecContext **contexts, int count,
                            int depth, vsr_err *err);
/* 1 while `depth` frames are queued or in flight: receive one before submitting. */
int vsr_encoder_pool_full(const vsr_encoder_pool *pool);
/* Takes *frame (sets it to NULL). The pool must not be full. */
void vsr_encoder_pool_submit(vsr_encoder_pool *pool, AVFrame **frame);
/*
 * The packet of the oldest submitted frame, moved into `packet`. With `wait` blocks until
 * it is encoded. Returns 1 with a packet, 0 when nothing is ready (or nothing is queued),
 * VSR_ERROR when that frame failed to encode (err says why).
 */
int vsr_encoder_pool_receive(vsr_encoder_pool *pool, AVPacket *packet, int wait, vsr_err *err);
/* Seconds spent inside the encoders, summed over threads. */
double vsr_encoder_pool_seconds(vsr_encoder_pool *pool);
/* Stops the threads (dropping queued frames) and frees the contexts. */
void vsr_encoder_pool_free(vsr_encoder_pool **pool);

#endif
