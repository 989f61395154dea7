/*
 * A ring of jobs shared by the submitting thread, N encoder threads and the receiving
 * (muxing) thread. Jobs are taken in submission order by whichever worker is free, and
 * handed back in the same order, so the muxer sees packets in frame order whatever the
 * encoding order was.
 */
#include "encoder_pool.h"

#include "clock.h"

#include <pthread.h>
#include <stdlib.h>

enum job_state { JOB_FREE, JOB_QUEUED, JOB_ENCODING, JOB_DONE };

typedef struct job {
    enum job_state state;
    AVFrame *frame;
    AVPacket *packet;
    int error; /* AVERROR from the encoder, 0 if fine */
} job;

typedef struct worker {
    vsr_encoder_pool *pool;
    AVCodecContext *context;
    pthread_t thread;
    int started;
} worker;

struct vsr_encoder_pool {
    pthread_mutex_t lock;
    pthread_cond_t work;  /* a job was queued, or stop */
    pthread_cond_t done;  /* a job finished, or end or cancel */
    pthread_cond_t space; /* a job was received, or cancel */
    job *jobs;
    int depth;
    /* Monotonic counters; the slot of job n is n % depth. head <= take <= tail. */
    int64_t head;  /* oldest job not yet received */
    int64_t take;  /* next job for a worker */
    int64_t tail;  /* next free slot */
    int stop;      /* workers quit */
    int ended;     /* nothing more will be submitted */
    int cancelled; /* the receiver gave up: submit fails, receive returns nothing */
    double seconds;
    worker *workers;
    int count;
};

/* One frame in, one packet out: these encoders have no delay without frame threads. */
static int encode_one(AVCodecContext *context, const AVFrame *frame, AVPacket *packet)
{
    int ret = avcodec_send_frame(context, frame);
    if (ret < 0)
        return ret;
    ret = avcodec_receive_packet(context, packet);
    return ret == AVERROR(EAGAIN) ? AVERROR_BUG : ret;
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    vsr_encoder_pool *pool = w->pool;
    pthread_mutex_lock(&pool->lock);
    for (;;) {
        while (!pool->stop && pool->take == pool->tail)
            pthread_cond_wait(&pool->work, &pool->lock);
        if (pool->stop)
            break;
        job *j = &pool->jobs[pool->take++ % pool->depth];
        j->state = JOB_ENCODING;
        pthread_mutex_unlock(&pool->lock);

        double start = vsr_seconds();
        int error = encode_one(w->context, j->frame, j->packet);
        double seconds = vsr_seconds() - start;
        av_frame_free(&j->frame);

        pthread_mutex_lock(&pool->lock);
        j->error = error;
        j->state = JOB_DONE;
        pool->seconds += seconds;
        pthread_cond_broadcast(&pool->done);
    }
    pthread_mutex_unlock(&pool->lock);
    return NULL;
}

static void free_contexts(AVCodecContext **contexts, int count)
{
    for (int i = 0; i < count; i++)
        avcodec_free_context(&contexts[i]);
    free(contexts);
}

int vsr_encoder_pool_create(vsr_encoder_pool **out, AVCodecContext **contexts, int count, int depth,
                            vsr_err *err)
{
    vsr_encoder_pool *pool = calloc(1, sizeof(*pool));
    if (!pool) {
        free_contexts(contexts, count);
        vsr_err_set(err, "out of memory for the encoder pool");
        return VSR_ERROR;
    }
    pthread_mutex_init(&pool->lock, NULL);
    pthread_cond_init(&pool->work, NULL);
    pthread_cond_init(&pool->done, NULL);
    pthread_cond_init(&pool->space, NULL);
    pool->depth = depth;
    pool->jobs = calloc(depth, sizeof(*pool->jobs));
    pool->workers = calloc(count, sizeof(*pool->workers));
    pool->count = count;
    int ok = pool->jobs && pool->workers;
    for (int i = 0; ok && i < depth; i++)
        ok = (pool->jobs[i].packet = av_packet_alloc()) != NULL;
    for (int i = 0; i < count; i++) {
        if (pool->workers) {
            pool->workers[i].pool = pool;
            pool->workers[i].context = contexts[i];
        } else {
            avcodec_free_context(&contexts[i]);
        }
    }
    free(contexts);
    for (int i = 0; ok && i < count; i++) {
        ok = !pthread_create(&pool->workers[i].thread, NULL, worker_main, &pool->workers[i]);
        pool->workers[i].started = ok;
    }
    if (!ok) {
        vsr_encoder_pool_free(&pool);
        vsr_err_set(err, "cannot start %d encoder threads", count);
        return VSR_ERROR;
    }
    *out = pool;
    return VSR_OK;
}

int vsr_encoder_pool_submit(vsr_encoder_pool *pool, AVFrame **frame)
{
    pthread_mutex_lock(&pool->lock);
    while (!pool->cancelled && pool->tail - pool->head >= pool->depth)
        pthread_cond_wait(&pool->space, &pool->lock);
    int ret = VSR_ERROR;
    if (!pool->cancelled) {
        job *j = &pool->jobs[pool->tail++ % pool->depth];
        j->frame = *frame;
        *frame = NULL;
        j->state = JOB_QUEUED;
        pthread_cond_signal(&pool->work);
        ret = VSR_OK;
    }
    pthread_mutex_unlock(&pool->lock);
    return ret;
}

int vsr_encoder_pool_receive(vsr_encoder_pool *pool, AVPacket *packet, vsr_err *err)
{
    pthread_mutex_lock(&pool->lock);
    job *j = &pool->jobs[pool->head % pool->depth];
    while (!pool->cancelled && (pool->head < pool->tail ? j->state != JOB_DONE : !pool->ended))
        pthread_cond_wait(&pool->done, &pool->lock);
    if (pool->cancelled || pool->head == pool->tail) {
        pthread_mutex_unlock(&pool->lock);
        return 0;
    }
    /* Out of the slot before it is freed: the submitter may fill it at once. */
    int error = j->error;
    if (error < 0)
        av_packet_unref(j->packet);
    else
        av_packet_move_ref(packet, j->packet);
    int64_t index = pool->head++;
    j->state = JOB_FREE;
    pthread_cond_signal(&pool->space);
    pthread_mutex_unlock(&pool->lock);

    if (error < 0) {
        vsr_err_set(err, "encoding frame %lld failed: %s", (long long)index, av_err2str(error));
        return VSR_ERROR;
    }
    return 1;
}

static void pool_set(vsr_encoder_pool *pool, int *flag)
{
    pthread_mutex_lock(&pool->lock);
    *flag = 1;
    pthread_cond_broadcast(&pool->done);
    pthread_cond_broadcast(&pool->space);
    pthread_mutex_unlock(&pool->lock);
}

void vsr_encoder_pool_end(vsr_encoder_pool *pool)
{
    pool_set(pool, &pool->ended);
}

void vsr_encoder_pool_cancel(vsr_encoder_pool *pool)
{
    pool_set(pool, &pool->cancelled);
}

int vsr_encoder_pool_count(const vsr_encoder_pool *pool)
{
    return pool->count;
}

double vsr_encoder_pool_seconds(vsr_encoder_pool *pool)
{
    pthread_mutex_lock(&pool->lock);
    double seconds = pool->seconds;
    pthread_mutex_unlock(&pool->lock);
    return seconds;
}

void vsr_encoder_pool_free(vsr_encoder_pool **pool_ptr)
{
    vsr_encoder_pool *pool = *pool_ptr;
    if (!pool)
        return;
    pthread_mutex_lock(&pool->lock);
    pool->stop = 1;
    pthread_cond_broadcast(&pool->work);
    pthread_mutex_unlock(&pool->lock);
    for (int i = 0; pool->workers && i < pool->count; i++) {
        if (pool->workers[i].started)
            pthread_join(pool->workers[i].thread, NULL);
        avcodec_free_context(&pool->workers[i].context);
    }
    for (int i = 0; pool->jobs && i < pool->depth; i++) {
        av_frame_free(&pool->jobs[i].frame);
        av_packet_free(&pool->jobs[i].packet);
    }
    free(pool->jobs);
    free(pool->workers);
    pthread_cond_destroy(&pool->work);
    pthread_cond_destroy(&pool->done);
    pthread_cond_destroy(&pool->space);
    pthread_mutex_destroy(&pool->lock);
    free(pool);
    *pool_ptr = NULL;
}
