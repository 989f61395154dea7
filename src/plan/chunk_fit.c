#include "chunk_fit.h"

#include <stdlib.h>

#include "memory.h"
#include "plan.h"

/* Share of the free memory a chunk may take: the rest is for the encoders, the reader, the
 * system and the error of a two-point measurement. */
#define FREE_SHARE 0.8

/* Output planes for `count` frames: allocated untouched, so only what a probe writes counts. */
typedef struct probe_output {
    vsr_planes *planes;
    int count;
} probe_output;

static void probe_output_free(probe_output *o)
{
    for (int i = 0; o->planes && i < o->count; i++)
        free(o->planes[i].data[0]);
    free(o->planes);
}

/* Bytes of one output frame's luma and one of its chroma planes, and their line sizes. */
static void output_plane_sizes(const vsr_engine *e, size_t size[2], int linesize[2])
{
    const vsr_pixel_layout *l = &e->options.out_layout;
    const int w = e->options.in_w * e->info.scale, h = e->options.in_h * e->info.scale;
    const int sample = l->bits > 8 ? 2 : 1;
    const int shift = l->rgb ? 0 : l->chroma_w_shift;
    const int chroma_w = (w + (1 << shift) - 1) >> shift;
    linesize[0] = w * sample;
    linesize[1] = chroma_w * sample;
    size[0] = (size_t)linesize[0] * h;
    size[1] = (size_t)linesize[1] * h;
}

static int probe_output_alloc(probe_output *o, const vsr_engine *e, int count)
{
    size_t size[2];
    int linesize[2];
    output_plane_sizes(e, size, linesize);
    o->count = count;
    o->planes = calloc(count, sizeof(*o->planes));
    if (!o->planes)
        return VSR_ERROR;
    for (int i = 0; i < count; i++) {
        size_t luma = size[0], chroma = size[1];
        uint8_t *data = malloc(luma + 2 * chroma);
        if (!data)
            return VSR_ERROR;
        vsr_planes *p = &o->planes[i];
        p->data[0] = data;
        p->data[1] = data + luma;
        p->data[2] = data + luma + chroma;
        p->linesize[0] = linesize[0];
        p->linesize[1] = p->linesize[2] = linesize[1];
    }
    return VSR_OK;
}

/* Peak memory of one run of `n` frames: of the device if the engine has one, else resident. */
static int probe(vsr_engine *e, const float *const *in, int n, const probe_output *out, int device,
                 int64_t *peak, vsr_err *err)
{
    int64_t unused;
    if (device)
        e->ops->device_memory(e, 1, &unused, &unused);
    else
        vsr_memory_reset_peak(); /* if refused, the peak so far still only grows with n */
    vsr_engine_chunk chunk = {
        .in = in, .n_in = n, .keep_begin = 0, .keep_count = n, .out = out->planes};
    int ret = vsr_engine_run(e, &chunk, err);
    if (ret < 0)
        return ret;
    if (device)
        return e->ops->device_memory(e, 0, peak, &unused);
    *peak = vsr_memory_peak();
    return *peak > 0 ? VSR_OK : VSR_ERROR;
}

/* The longest chunk with `overlap` in `room` bytes; below 1 if none fits. */
static int64_t longest_chunk(int64_t room, int64_t per_computed, int64_t per_kept, int overlap)
{
    int64_t left = room - 2 * (int64_t)overlap * per_computed;
    return left < 0 ? 0 : left / (per_computed + per_kept);
}

int vsr_chunk_fit_choose(int64_t room, int64_t per_computed, int64_t per_kept, int overlap,
                         int overlap_asked, int *chunk, int *overlap_out)
{
    if (per_computed < 1)
        per_computed = 1;
    if (per_kept < 0)
        per_kept = 0;
    if (!overlap_asked) {
        /* A chunk much shorter than its context computes most frames twice or more: a
         * narrower context costs a little quality at chunk borders and saves far more time. */
        const int floor = overlap < VSR_CHUNK_FIT_MIN_OVERLAP ? overlap : VSR_CHUNK_FIT_MIN_OVERLAP;
        while (overlap > floor && longest_chunk(room, per_computed, per_kept, overlap) <
                                      (int64_t)VSR_CHUNK_FIT_OVERLAPS_PER_CHUNK * overlap)
            overlap--;
    }
    const int64_t c = longest_chunk(room, per_computed, per_kept, overlap);
    *overlap_out = overlap;
    *chunk = c < 1 ? 1 : c > VSR_PLAN_DEFAULT_CHUNK ? VSR_PLAN_DEFAULT_CHUNK : (int)c;
    return c >= 1;
}

double vsr_chunk_efficiency(int chunk, int overlap)
{
    return chunk > 0 ? (double)chunk / (chunk + 2.0 * (overlap > 0 ? overlap : 0)) : 0;
}

int vsr_chunk_fit_measure(vsr_engine *engine, int overlap, int overlap_asked, int64_t limit,
                          int64_t pending, vsr_chunk_fit *fit, vsr_err *err)
{
    const int n1 = engine->info.min_frames > 2 ? engine->info.min_frames : 2, n2 = n1 + 2;
    const size_t frame_floats = 3 * (size_t)engine->options.in_w * engine->options.in_h;
    int64_t peak1 = 0, peak2 = 0, free_bytes = 0;
    *fit = (vsr_chunk_fit){0};
    fit->device = engine->ops->device_memory &&
                  engine->ops->device_memory(engine, 0, &peak1, &free_bytes) == VSR_OK;
    if (!fit->device) {
        free_bytes = vsr_memory_available();
        int64_t resident = vsr_memory_resident();
        if (free_bytes < 0 || resident < 0) {
            vsr_err_set(err, "cannot read the memory figures in /proc: pass --chunk");
            return VSR_ERROR;
        }
        free_bytes += resident; /* the peak we measure includes what we hold already */
    }

    float *grey = malloc(sizeof(float) * frame_floats);
    const float **in = malloc(sizeof(*in) * n2);
    probe_output out = {0};
    int ret = VSR_ERROR;
    if (!grey || !in || probe_output_alloc(&out, engine, n2) < 0) {
        vsr_err_set(err, "out of memory for the chunk probe");
        goto done;
    }
    for (size_t i = 0; i < frame_floats; i++)
        grey[i] = 0.5f;
    for (int i = 0; i < n2; i++)
        in[i] = grey;
    if ((ret = probe(engine, in, n1, &out, fit->device, &peak1, err)) < 0 ||
        (ret = probe(engine, in, n2, &out, fit->device, &peak2, err)) < 0)
        goto done;

    fit->per_frame = (peak2 - peak1) / (n2 - n1);
    if (fit->per_frame < 1)
        fit->per_frame = 1;
    fit->fixed = peak1 - n1 * fit->per_frame;
    if (fit->fixed < 0)
        fit->fixed = 0;
    fit->per_computed = fit->per_frame;
    if (!fit->device) {
        /* The pipeline also holds each frame of a chunk as float R'G'B', and the output
         * frames of the chunks in flight plus one chunk queued for the encoders
         * (docs/DESIGN.md, "Overlapping the stages"). The probe's own output frames are
         * in the measured line already: counting them again errs on the safe side. */
        size_t size[2];
        int linesize[2];
        output_plane_sizes(engine, size, linesize);
        fit->per_computed += (int64_t)(sizeof(float) * frame_floats);
        fit->per_kept = (int64_t)(size[0] + 2 * size[1]) * (VSR_ENGINE_MAX_IN_FLIGHT + 1);
    }
    fit->pending = pending;
    fit->budget = limit > 0 ? limit : (int64_t)(FREE_SHARE * (double)(free_bytes - pending));
    fit->host_capped = limit <= 0 && !fit->device && fit->budget > VSR_CHUNK_FIT_HOST_BUDGET;
    if (fit->host_capped)
        fit->budget = VSR_CHUNK_FIT_HOST_BUDGET;
    fit->fits = vsr_chunk_fit_choose(fit->budget - fit->fixed, fit->per_computed, fit->per_kept,
                                     overlap, overlap_asked, &fit->chunk, &fit->overlap);
    ret = VSR_OK;
done:
    probe_output_free(&out);
    free(in);
    free(grey);
    return ret;
}

int64_t vsr_chunk_fit_peak(const vsr_chunk_fit *fit)
{
    return fit->fixed + fit->per_computed * (fit->chunk + 2 * (int64_t)fit->overlap) +
           fit->per_kept * fit->chunk;
}
