/*
 * The built-in engines "bicubic" and "lanczos", for previews, tests and I/O benchmarks.
 * Each frame is quantised at the input size into 16-bit planes with the output's own
 * matrix and range (our colour code, as for every engine), then libswscale resizes those
 * integer planes straight into the encoder's format. Source and destination share matrix
 * and range, so swscale converts no colour; and as the matrix is linear, resizing Y'CbCr
 * equals resizing R'G'B' and converting after, at a fraction of the cost (the float
 * route quantised every output pixel). Frames of a chunk are independent, so they are
 * resized by several threads at once.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libswscale/swscale.h>

#include "colour.h"
#include "engine.h"

typedef struct resize_worker {
    struct SwsContext *sws;
    vsr_planes mid; /* the input-size 16-bit planes; data[0] owns all three */
} resize_worker;

typedef struct resize_job {
    const struct resize_engine *engine;
    resize_worker *worker;
    const float *const *in;
    const vsr_planes *out;
    int first, step, count;
    int failed;
} resize_job;

typedef struct resize_engine {
    int in_w, in_h, out_w, out_h;
    vsr_pixel_layout layout, mid_layout;
    int nworkers;
    resize_worker *workers;
} resize_engine;

static int resize_frame(const resize_engine *r, resize_worker *w, const float *rgb,
                        const vsr_planes *out)
{
    /* At scale 1 there is nothing to resize: quantise straight into the encoder's planes. */
    if (!w->sws) {
        vsr_colour_quantise(rgb, r->out_w, r->out_h, &r->layout, out);
        return VSR_OK;
    }
    vsr_colour_quantise(rgb, r->in_w, r->in_h, &r->mid_layout, &w->mid);
    const uint8_t *const src[3] = {w->mid.data[0], w->mid.data[1], w->mid.data[2]};
    uint8_t *const dst[3] = {out->data[0], out->data[1], out->data[2]};
    if (sws_scale(w->sws, src, w->mid.linesize, 0, r->in_h, dst, out->linesize) != r->out_h)
        return VSR_ERROR;
    return VSR_OK;
}

static void *resize_thread(void *arg)
{
    resize_job *job = arg;
    for (int i = job->first; i < job->count; i += job->step)
        if (resize_frame(job->engine, job->worker, job->in[i], &job->out[i]) < 0)
            job->failed = 1;
    return NULL;
}

static void resize_close(vsr_engine *engine)
{
    resize_engine *r = engine->priv;
    if (!r)
        return;
    for (int i = 0; i < r->nworkers; i++) {
        sws_freeContext(r->workers[i].sws);
        free(r->workers[i].mid.data[0]);
    }
    free(r->workers);
    free(r);
    engine->priv = NULL;
}

static int resize_open(vsr_engine *engine, const vsr_engine_options *options, vsr_err *err)
{
    int scale = options->scale ? options->scale : 4;
    int lanczos = !strcmp(options->model, "lanczos");
    resize_engine *r = calloc(1, sizeof(*r));
    if (!r)
        goto oom;
    engine->priv = r;
    r->in_w = options->in_w;
    r->in_h = options->in_h;
    r->out_w = options->in_w * scale;
    r->out_h = options->in_h * scale;
    r->layout = options->out_layout;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    r->nworkers = options->threads > 0 ? options->threads : (cores > 0 ? (int)cores : 1);
    r->workers = calloc(r->nworkers, sizeof(*r->workers));
    if (!r->workers)
        goto oom;
    /* 4:4:4 (or planar RGB) at 16 bits, same matrix and range as the output. */
    r->mid_layout = r->layout;
    r->mid_layout.bits = 16;
    r->mid_layout.chroma_w_shift = 0;
    enum AVPixelFormat mid_fmt = vsr_colour_layout_format(&r->mid_layout);
    enum AVPixelFormat out_fmt = vsr_colour_layout_format(&r->layout);
    if (scale > 1 && (mid_fmt == AV_PIX_FMT_NONE || out_fmt == AV_PIX_FMT_NONE)) {
        resize_close(engine);
        vsr_err_set(err, "the %s resize cannot write this pixel layout", options->model);
        return VSR_ERROR;
    }
    int flags = lanczos ? SWS_LANCZOS : SWS_BICUBIC;
    size_t mid_plane = (size_t)r->in_w * r->in_h;
    for (int i = 0; i < r->nworkers; i++) {
        resize_worker *w = &r->workers[i];
        if (scale == 1)
            continue;
        w->sws = sws_getContext(r->in_w, r->in_h, mid_fmt, r->out_w, r->out_h, out_fmt, flags, NULL,
                                NULL, NULL);
        w->mid.data[0] = malloc(sizeof(uint16_t) * 3 * mid_plane);
        if (!w->sws || !w->mid.data[0])
            goto oom;
        for (int p = 0; p < 3; p++) {
            w->mid.data[p] = w->mid.data[0] + p * sizeof(uint16_t) * mid_plane;
            w->mid.linesize[p] = (int)sizeof(uint16_t) * r->in_w;
        }
    }
    vsr_engine_info *info = &engine->info;
    snprintf(info->name, sizeof(info->name), "%s", lanczos ? "lanczos" : "bicubic");
    snprintf(info->arch, sizeof(info->arch), "resize");
    snprintf(info->device, sizeof(info->device), "cpu");
    snprintf(info->precision, sizeof(info->precision), "float32");
    info->scale = scale;
    info->min_frames = 1;
    info->multiple = 1;
    return VSR_OK;
oom:
    resize_close(engine);
    vsr_err_set(err, "out of memory setting up the %s resize (%dx%d)", options->model,
                options->in_w, options->in_h);
    return VSR_ERROR;
}

static int resize_run(vsr_engine *engine, const float *const *in, int n_in, int keep_begin,
                      int keep_count, const vsr_planes *out, vsr_err *err)
{
    resize_engine *r = engine->priv;
    (void)n_in;
    if (keep_count <= 0)
        return VSR_OK;
    int nthreads = keep_count < r->nworkers ? keep_count : r->nworkers;
    resize_job jobs[nthreads];
    pthread_t threads[nthreads];
    int created[nthreads];
    for (int t = 0; t < nthreads; t++)
        jobs[t] = (resize_job){.engine = r,
                               .worker = &r->workers[t],
                               .in = in + keep_begin,
                               .out = out,
                               .first = t,
                               .step = nthreads,
                               .count = keep_count};
    /* Share 0 runs on this thread; a share whose thread cannot start runs here too. */
    for (int t = 1; t < nthreads; t++) {
        created[t] = pthread_create(&threads[t], NULL, resize_thread, &jobs[t]) == 0;
        if (!created[t])
            resize_thread(&jobs[t]);
    }
    resize_thread(&jobs[0]);
    int failed = jobs[0].failed;
    for (int t = 1; t < nthreads; t++) {
        if (created[t])
            pthread_join(threads[t], NULL);
        failed |= jobs[t].failed;
    }
    if (failed) {
        vsr_err_set(err, "resize of a %dx%d frame failed", r->in_w, r->in_h);
        return VSR_ERROR;
    }
    return VSR_OK;
}

const vsr_engine_ops vsr_engine_resize_ops = {
    .name = "resize",
    .open = resize_open,
    .run = resize_run,
    .close = resize_close,
};
