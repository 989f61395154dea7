/*
 * "sim:MS": a simulated accelerator, to measure the pipeline itself (docs/PERFORMANCE.md).
 * A device thread takes submitted chunks in order and spends MS milliseconds of wall time
 * per input frame asleep, like a GPU whose host thread only waits. Its output is cheap:
 * each kept frame quantised at the input size with our colour code, then every sample
 * repeated `scale` times each way into the encoder's planes. That CPU work happens inside
 * the chunk's simulated time (it stands for the device's colour kernel and the copy back),
 * so the device takes MS per frame as long as it costs less than that.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "colour.h"
#include "engine.h"

#define SIM_PREFIX "sim:"
#define SIM_MAX_MS 60000.0

typedef struct sim_job {
    vsr_engine_chunk chunk;
    int result;
} sim_job;

typedef struct sim_engine {
    double ms;
    int oom_above;
    int in_w, in_h, scale;
    vsr_pixel_layout layout, mid_layout;
    vsr_planes mid; /* the input-size planes of the frame being written; data[0] owns all */
    int *col_map;   /* output sample -> input sample, per column, for luma and chroma */
    pthread_t thread;
    int started;

    pthread_mutex_t lock;
    pthread_cond_t cond;
    sim_job jobs[VSR_ENGINE_MAX_IN_FLIGHT];
    int64_t head, done, tail; /* collected <= finished <= submitted; slot n % MAX_IN_FLIGHT */
    int stop;
    double busy;
} sim_engine;

static int bad_spec(const char *model, const char *why, vsr_err *err)
{
    vsr_err_set(err,
                "-m %s: %s (expected sim:MS[,temporal][,oom-above=N], MS a positive number "
                "of milliseconds per frame, e.g. sim:100)",
                model, why);
    return VSR_ERROR;
}

int vsr_engine_sim_parse(const char *model, double *ms, int *temporal, int *oom_above, vsr_err *err)
{
    if (strncmp(model, SIM_PREFIX, strlen(SIM_PREFIX)))
        return 0;
    const char *p = model + strlen(SIM_PREFIX);
    char *end;
    errno = 0;
    double v = strtod(p, &end);
    if (end == p || errno || !isfinite(v) || (*end && *end != ','))
        return bad_spec(model, "MS is not a number", err);
    if (v <= 0 || v > SIM_MAX_MS)
        return bad_spec(model, "MS must be above 0 and at most 60000", err);
    int t = 0, oom = 0;
    for (const char *q = end; *q == ',';) {
        q++;
        if (!strncmp(q, "temporal", 8) && (q[8] == ',' || !q[8])) {
            t = 1;
            q += 8;
        } else if (!strncmp(q, "oom-above=", 10)) {
            long n = strtol(q + 10, &end, 10);
            if (end == q + 10 || n < 1 || n > 1000000 || (*end && *end != ','))
                return bad_spec(model, "oom-above takes a positive number of frames", err);
            oom = (int)n;
            q = end;
        } else {
            return bad_spec(model, "unknown option", err);
        }
    }
    if (ms)
        *ms = v;
    if (temporal)
        *temporal = t;
    if (oom_above)
        *oom_above = oom;
    return 1;
}

static int sample_bytes(const vsr_pixel_layout *l)
{
    return l->bits > 8 ? 2 : 1;
}

/* One output row from input row `src`, each sample picked by `map`. */
static void expand_row(const uint8_t *src, uint8_t *dst, const int *map, int n, int bytes)
{
    if (bytes == 2) {
        const uint16_t *s = (const uint16_t *)src;
        uint16_t *d = (uint16_t *)dst;
        for (int x = 0; x < n; x++)
            d[x] = s[map[x]];
    } else {
        for (int x = 0; x < n; x++)
            dst[x] = src[map[x]];
    }
}

static void write_frame(sim_engine *s, const float *rgb, const vsr_planes *out)
{
    vsr_colour_quantise(rgb, s->in_w, s->in_h, &s->mid_layout, &s->mid);
    const int bytes = sample_bytes(&s->layout);
    const int out_w = s->in_w * s->scale, out_h = s->in_h * s->scale;
    for (int p = 0; p < 3; p++) {
        const int shift = p && !s->layout.rgb ? s->layout.chroma_w_shift : 0;
        const int w = (out_w + (1 << shift) - 1) >> shift;
        const int *map = s->col_map + (shift ? out_w : 0);
        for (int y = 0; y < out_h; y += s->scale) {
            const uint8_t *src = s->mid.data[p] + (size_t)(y / s->scale) * s->mid.linesize[p];
            uint8_t *first = out->data[p] + (size_t)y * out->linesize[p];
            expand_row(src, first, map, w, bytes);
            for (int r = 1; r < s->scale; r++)
                memcpy(first + (size_t)r * out->linesize[p], first, (size_t)w * bytes);
        }
    }
}

static void sleep_until(const struct timespec *deadline)
{
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, deadline, NULL) == EINTR)
        ;
}

static void *device_thread(void *arg)
{
    sim_engine *s = arg;
    pthread_mutex_lock(&s->lock);
    for (;;) {
        while (!s->stop && s->done == s->tail)
            pthread_cond_wait(&s->cond, &s->lock);
        if (s->stop)
            break;
        sim_job *job = &s->jobs[s->done % VSR_ENGINE_MAX_IN_FLIGHT];
        pthread_mutex_unlock(&s->lock);

        double t0 = vsr_seconds();
        if (job->result == VSR_OK) {
            struct timespec deadline;
            clock_gettime(CLOCK_MONOTONIC, &deadline);
            double ns = s->ms * 1e6 * job->chunk.n_in + deadline.tv_nsec;
            deadline.tv_sec += (time_t)(ns / 1e9);
            deadline.tv_nsec = (long)fmod(ns, 1e9);
            const vsr_engine_chunk *c = &job->chunk;
            for (int i = 0; i < c->keep_count; i++)
                write_frame(s, c->in[c->keep_begin + i], &c->out[i]);
            sleep_until(&deadline);
        }
        double seconds = vsr_seconds() - t0;

        pthread_mutex_lock(&s->lock);
        s->busy += seconds;
        s->done++;
        pthread_cond_broadcast(&s->cond);
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

static int sim_submit(vsr_engine *engine, const vsr_engine_chunk *chunk, vsr_err *err)
{
    sim_engine *s = engine->priv;
    pthread_mutex_lock(&s->lock);
    int full = s->tail - s->head == VSR_ENGINE_MAX_IN_FLIGHT;
    if (!full) {
        sim_job *job = &s->jobs[s->tail++ % VSR_ENGINE_MAX_IN_FLIGHT];
        job->chunk = *chunk;
        /* Like a device, the failure shows at collect, after the chunks before it. */
        job->result = s->oom_above && chunk->n_in > s->oom_above ? VSR_ERROR_OOM : VSR_OK;
        pthread_cond_broadcast(&s->cond);
    }
    pthread_mutex_unlock(&s->lock);
    if (full) {
        vsr_err_set(err, "%s: more than %d chunks submitted", engine->info.name,
                    VSR_ENGINE_MAX_IN_FLIGHT);
        return VSR_ERROR;
    }
    return VSR_OK;
}

static int sim_collect(vsr_engine *engine, vsr_err *err)
{
    sim_engine *s = engine->priv;
    pthread_mutex_lock(&s->lock);
    int empty = s->head == s->tail;
    while (!empty && s->done == s->head)
        pthread_cond_wait(&s->cond, &s->lock);
    int ret = VSR_ERROR, n_in = 0;
    if (!empty) {
        sim_job *job = &s->jobs[s->head++ % VSR_ENGINE_MAX_IN_FLIGHT];
        ret = job->result;
        n_in = job->chunk.n_in;
    }
    pthread_mutex_unlock(&s->lock);
    if (empty)
        vsr_err_set(err, "%s: nothing submitted to collect", engine->info.name);
    else if (ret == VSR_ERROR_OOM)
        vsr_err_set(err, "simulated: %d frames exceed oom-above=%d", n_in, s->oom_above);
    return ret;
}

static double sim_busy_seconds(vsr_engine *engine)
{
    sim_engine *s = engine->priv;
    pthread_mutex_lock(&s->lock);
    double busy = s->busy;
    pthread_mutex_unlock(&s->lock);
    return busy;
}

static void sim_close(vsr_engine *engine)
{
    sim_engine *s = engine->priv;
    if (!s)
        return;
    if (s->started) {
        pthread_mutex_lock(&s->lock);
        s->stop = 1;
        pthread_cond_broadcast(&s->cond);
        pthread_mutex_unlock(&s->lock);
        pthread_join(s->thread, NULL);
    }
    pthread_cond_destroy(&s->cond);
    pthread_mutex_destroy(&s->lock);
    free(s->mid.data[0]);
    free(s->col_map);
    free(s);
    engine->priv = NULL;
}

/* Input-size 4:4:4 planes in the output's depth, matrix and range. */
static int alloc_mid(sim_engine *s)
{
    s->mid_layout = s->layout;
    s->mid_layout.chroma_w_shift = 0;
    const int bytes = sample_bytes(&s->layout);
    const size_t plane = (size_t)s->in_w * s->in_h * bytes;
    if (!(s->mid.data[0] = malloc(3 * plane)))
        return VSR_ERROR;
    for (int p = 0; p < 3; p++) {
        s->mid.data[p] = s->mid.data[0] + p * plane;
        s->mid.linesize[p] = s->in_w * bytes;
    }
    return VSR_OK;
}

/* Nearest input column of each output column; chroma columns of a subsampled layout sit
 * on every other luma column. */
static int alloc_col_map(sim_engine *s)
{
    const int out_w = s->in_w * s->scale, shift = s->layout.chroma_w_shift;
    if (!(s->col_map = malloc(sizeof(*s->col_map) * 2 * (size_t)out_w)))
        return VSR_ERROR;
    for (int x = 0; x < out_w; x++) {
        s->col_map[x] = x / s->scale;
        s->col_map[out_w + x] = ((x << shift) < out_w ? x << shift : out_w - 1) / s->scale;
    }
    return VSR_OK;
}

static int sim_open(vsr_engine *engine, const vsr_engine_options *options, vsr_err *err)
{
    double ms;
    int temporal, oom_above;
    if (vsr_engine_sim_parse(options->model, &ms, &temporal, &oom_above, err) <= 0)
        return VSR_ERROR;
    sim_engine *s = calloc(1, sizeof(*s));
    if (!s) {
        vsr_err_set(err, "out of memory");
        return VSR_ERROR;
    }
    engine->priv = s;
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->cond, NULL);
    s->ms = ms;
    s->oom_above = oom_above;
    s->in_w = options->in_w;
    s->in_h = options->in_h;
    s->scale = options->scale ? options->scale : 4;
    s->layout = options->out_layout;
    if (alloc_mid(s) < 0 || alloc_col_map(s) < 0) {
        sim_close(engine);
        vsr_err_set(err, "out of memory setting up %s", options->model);
        return VSR_ERROR;
    }
    if (pthread_create(&s->thread, NULL, device_thread, s) != 0) {
        sim_close(engine);
        vsr_err_set(err, "%s: cannot start the device thread", options->model);
        return VSR_ERROR;
    }
    s->started = 1;
    vsr_engine_info *info = &engine->info;
    snprintf(info->name, sizeof(info->name), "%s", options->model);
    snprintf(info->arch, sizeof(info->arch), "sim");
    snprintf(info->device, sizeof(info->device), "sim");
    snprintf(info->precision, sizeof(info->precision), "float32");
    info->scale = s->scale;
    info->temporal = temporal;
    info->min_frames = 1;
    info->multiple = 1;
    info->asynchronous = 1;
    return VSR_OK;
}

const vsr_engine_ops vsr_engine_sim_ops = {
    .name = "sim",
    .open = sim_open,
    .close = sim_close,
    .submit = sim_submit,
    .collect = sim_collect,
    .busy_seconds = sim_busy_seconds,
};
