/*
 * Parallel intra-only encoding: N identically configured encoder contexts, each on its
 * own thread, take frames in turn; packets come back strictly in submission order.
 * One thread submits and one (maybe another) receives; the workers are internal.
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
/*
 * Takes *frame (sets it to NULL), blocking while `depth` frames are queued or in flight.
 * VSR_ERROR, frame not taken, once the pool is cancelled.
 */
int vsr_encoder_pool_submit(vsr_encoder_pool *pool, AVFrame **frame);
/*
 * The packet of the oldest submitted frame, moved into `packet`; blocks until it is
 * encoded. Returns 1 with a packet, 0 once the pool is ended and every packet received
 * (or it is cancelled), VSR_ERROR when that frame failed to encode (err says why).
 */
int vsr_encoder_pool_receive(vsr_encoder_pool *pool, AVPacket *packet, vsr_err *err);
/* The submitter is done: receive returns 0 after the last packet. */
void vsr_encoder_pool_end(vsr_encoder_pool *pool);
/* The receiver is done: blocked and later submits fail, receives return 0. */
void vsr_encoder_pool_cancel(vsr_encoder_pool *pool);
int vsr_encoder_pool_count(const vsr_encoder_pool *pool);
/* Seconds spent inside the encoders, summed over threads. */
double vsr_encoder_pool_seconds(vsr_encoder_pool *pool);
/* Stops the threads (dropping queued frames) and frees the contexts. */
void vsr_encoder_pool_free(vsr_encoder_pool **pool);

#endif
