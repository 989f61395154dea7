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

static int probe_output_alloc(probe_output *o, const vsr_engine *e, int count)
{
    const vsr_pixel_layout *l = &e->options.out_layout;
    const int w = e->options.in_w * e->info.scale, h = e->options.in_h * e->info.scale;
    const int sample = l->bits > 8 ? 2 : 1;
    const int shift = l->rgb ? 0 : l->chroma_w_shift;
    const int chroma_w = (w + (1 << shift) - 1) >> shift;
    o->count = count;
    o->planes = calloc(count, sizeof(*o->planes));
    if (!o->planes)
        return VSR_ERROR;
    for (int i = 0; i < count; i++) {
        size_t luma = (size_t)w * h * sample, chroma = (size_t)chroma_w * h * sample;
        uint8_t *data = malloc(luma + 2 * chroma);
        if (!data)
            return VSR_ERROR;
        vsr_planes *p = &o->planes[i];
        p->data[0] = data;
        p->data[1] = data + luma;
        p->data[2] = data + luma + chroma;
        p->linesize[0] = w * sample;
        p->linesize[1] = p->linesize[2] = chroma_w * sample;
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

int vsr_chunk_fit_measure(vsr_engine *engine, int overlap, int64_t limit, int64_t pending,
                          vsr_chunk_fit *fit, vsr_err *err)
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
    /* The pipeline also holds each frame of a chunk as float R'G'B' in host memory. */
    int64_t per_frame =
        fit->per_frame + (fit->device ? 0 : (int64_t)(sizeof(float) * frame_floats));
    fit->pending = pending;
    fit->budget = limit > 0 ? limit : (int64_t)(FREE_SHARE * (double)(free_bytes - pending));
    int64_t frames = (fit->budget - fit->fixed) / per_frame;
    int64_t chunk = frames - 2 * (int64_t)overlap;
    fit->fits = chunk >= 1;
    fit->chunk = chunk < 1                        ? 1
                 : chunk > VSR_PLAN_DEFAULT_CHUNK ? VSR_PLAN_DEFAULT_CHUNK
                                                  : (int)chunk;
    ret = VSR_OK;
done:
    probe_output_free(&out);
    free(in);
    free(grey);
    return ret;
}

int64_t vsr_chunk_fit_peak(const vsr_chunk_fit *fit, int overlap)
{
    return fit->fixed + fit->per_frame * (fit->chunk + 2 * (int64_t)overlap);
}
