/*
 * The asynchronous engine interface: sim specs, the sim engine's queue and output, its
 * simulated out-of-memory, and the adapter that runs a run-only engine (lanczos) at submit.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "colour.h"
#include "engine.h"

#define W 6
#define H 4
#define SCALE 4

static void test_specs(void)
{
    static const struct {
        const char *spec;
        int ret, temporal, oom;
        double ms;
    } cases[] = {
        {"sim:100", 1, 0, 0, 100},
        {"sim:2.5", 1, 0, 0, 2.5},
        {"sim:5,temporal", 1, 1, 0, 5},
        {"sim:5,oom-above=3,temporal", 1, 1, 3, 5},
        {"lanczos", 0, 0, 0, 0},
        {"simple.pt", 0, 0, 0, 0},
        {"sim:0", VSR_ERROR, 0, 0, 0},
        {"sim:-1", VSR_ERROR, 0, 0, 0},
        {"sim:abc", VSR_ERROR, 0, 0, 0},
        {"sim:", VSR_ERROR, 0, 0, 0},
        {"sim:inf", VSR_ERROR, 0, 0, 0},
        {"sim:5,", VSR_ERROR, 0, 0, 0},
        {"sim:5,temporalx", VSR_ERROR, 0, 0, 0},
        {"sim:5,oom-above=", VSR_ERROR, 0, 0, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        double ms = 0;
        int temporal = 0, oom = 0;
        vsr_err err = {{0}};
        int ret = vsr_engine_sim_parse(cases[i].spec, &ms, &temporal, &oom, &err);
        CHECK(ret == cases[i].ret, "%s: %d", cases[i].spec, ret);
        if (ret == 1)
            CHECK(ms == cases[i].ms && temporal == cases[i].temporal && oom == cases[i].oom,
                  "%s: %g %d %d", cases[i].spec, ms, temporal, oom);
        if (ret < 0)
            CHECK(strstr(err.msg, cases[i].spec) && !strchr(err.msg, '\n'), "%s: %s", cases[i].spec,
                  err.msg);
        CHECK(vsr_engine_is_builtin(cases[i].spec) ==
                  (ret != 0 || !strcmp(cases[i].spec, "lanczos")),
              "%s", cases[i].spec);
    }
}

/* Frames of W x H float RGB, each a different ramp. */
static void fill(float *rgb, int seed)
{
    for (int i = 0; i < 3 * W * H; i++)
        rgb[i] = (float)((i * 7 + seed * 13) % 101) / 100.0f;
}

typedef struct out_frames {
    vsr_planes planes[3];
    uint16_t data[3][3][W * SCALE * H * SCALE];
} out_frames;

static void out_init(out_frames *o, int chroma_shift)
{
    memset(o->data, 0xff, sizeof(o->data));
    for (int f = 0; f < 3; f++)
        for (int p = 0; p < 3; p++) {
            o->planes[f].data[p] = (uint8_t *)o->data[f][p];
            o->planes[f].linesize[p] =
                (int)sizeof(uint16_t) * ((W * SCALE) >> (p ? chroma_shift : 0));
        }
}

static vsr_engine *open_engine(const char *model, vsr_pixel_layout *layout)
{
    vsr_engine_options options = {.model = model, .in_w = W, .in_h = H, .threads = 1};
    vsr_colour_layout(AV_PIX_FMT_YUV422P10LE, &options.out_layout);
    *layout = options.out_layout;
    vsr_engine *e = NULL;
    vsr_err err = {{0}};
    CHECK(vsr_engine_open(&e, &options, &err) == VSR_OK, "%s: %s", model, err.msg);
    return e;
}

/* Each output sample repeats the input pixel quantised at 4:4:4 (chroma from the even
 * luma columns it sits on). */
static void check_replicated(const float *rgb, const vsr_planes *out, const vsr_pixel_layout *l)
{
    vsr_pixel_layout mid_layout = *l;
    mid_layout.chroma_w_shift = 0;
    uint16_t mid[3][W * H];
    vsr_planes mid_planes;
    for (int p = 0; p < 3; p++) {
        mid_planes.data[p] = (uint8_t *)mid[p];
        mid_planes.linesize[p] = (int)sizeof(uint16_t) * W;
    }
    vsr_colour_quantise(rgb, W, H, &mid_layout, &mid_planes);
    int wrong = 0;
    for (int p = 0; p < 3; p++) {
        int shift = p ? l->chroma_w_shift : 0;
        for (int y = 0; y < H * SCALE; y++)
            for (int x = 0; x < (W * SCALE) >> shift; x++) {
                const uint16_t *row = (const uint16_t *)(out->data[p] + y * out->linesize[p]);
                wrong += row[x] != mid[p][(y / SCALE) * W + (x << shift) / SCALE];
            }
    }
    CHECK(wrong == 0, "%d samples differ from the replicated input", wrong);
}

static void test_sim_queue(void)
{
    vsr_pixel_layout layout;
    vsr_engine *e = open_engine("sim:1", &layout);
    if (!e)
        return;
    CHECK(vsr_engine_max_in_flight(e) == VSR_ENGINE_MAX_IN_FLIGHT && !e->info.temporal &&
              e->info.scale == SCALE,
          "sim info");
    static float rgb[3][3 * W * H];
    static out_frames out;
    out_init(&out, layout.chroma_w_shift);
    for (int i = 0; i < 3; i++)
        fill(rgb[i], i);
    const float *in[3] = {rgb[0], rgb[1], rgb[2]};
    vsr_err err = {{0}};
    /* Chunk A keeps frame 1 of 0..1; chunk B keeps frames 1 and 2 of 1..2 (index 0, 1). */
    vsr_engine_chunk a = {
        .in = in, .n_in = 2, .keep_begin = 1, .keep_count = 1, .out = &out.planes[0]};
    vsr_engine_chunk b = {
        .in = in + 1, .n_in = 2, .keep_begin = 0, .keep_count = 2, .out = &out.planes[1]};
    CHECK(vsr_engine_submit(e, &a, &err) == VSR_OK, "%s", err.msg);
    CHECK(vsr_engine_submit(e, &b, &err) == VSR_OK, "%s", err.msg);
    CHECK(vsr_engine_submit(e, &a, &err) == VSR_ERROR, "a third chunk in flight is refused");
    CHECK(vsr_engine_collect(e, &err) == VSR_OK, "%s", err.msg);
    check_replicated(rgb[1], &out.planes[0], &layout);
    CHECK(vsr_engine_collect(e, &err) == VSR_OK, "%s", err.msg);
    check_replicated(rgb[1], &out.planes[1], &layout);
    check_replicated(rgb[2], &out.planes[2], &layout);
    CHECK(vsr_engine_collect(e, &err) == VSR_ERROR, "nothing left to collect");
    CHECK(vsr_engine_busy_seconds(e) > 0, "the device was busy");
    vsr_engine_close(&e);
}

static void test_sim_oom(void)
{
    vsr_pixel_layout layout;
    vsr_engine *e = open_engine("sim:1,oom-above=2", &layout);
    if (!e)
        return;
    static float rgb[3 * W * H];
    static out_frames out;
    out_init(&out, layout.chroma_w_shift);
    fill(rgb, 0);
    const float *in[3] = {rgb, rgb, rgb};
    vsr_err err = {{0}};
    vsr_engine_chunk big = {
        .in = in, .n_in = 3, .keep_begin = 0, .keep_count = 3, .out = out.planes};
    vsr_engine_chunk small = {
        .in = in, .n_in = 2, .keep_begin = 0, .keep_count = 2, .out = out.planes};
    CHECK(vsr_engine_run(e, &big, &err) == VSR_ERROR_OOM && strstr(err.msg, "oom-above=2"), "%s",
          err.msg);
    const uint16_t untouched = 0xffff;
    CHECK(out.data[0][0][0] == untouched, "an out-of-memory chunk writes nothing");
    CHECK(vsr_engine_run(e, &small, &err) == VSR_OK, "%s", err.msg);
    check_replicated(rgb, &out.planes[1], &layout);
    vsr_engine_close(&e);
}

static void test_run_only_adapter(void)
{
    vsr_pixel_layout layout;
    vsr_engine *e = open_engine("lanczos", &layout);
    if (!e)
        return;
    CHECK(vsr_engine_max_in_flight(e) == 1, "a run-only engine keeps one chunk in flight");
    static float rgb[3 * W * H];
    static out_frames out;
    out_init(&out, layout.chroma_w_shift);
    fill(rgb, 0);
    const float *in[1] = {rgb};
    vsr_err err = {{0}};
    vsr_engine_chunk c = {.in = in, .n_in = 1, .keep_begin = 0, .keep_count = 1, .out = out.planes};
    CHECK(vsr_engine_collect(e, &err) == VSR_ERROR, "nothing submitted yet");
    CHECK(vsr_engine_submit(e, &c, &err) == VSR_OK, "%s", err.msg);
    CHECK(out.data[0][0][0] != 0xffff, "a run-only engine is done at submit");
    CHECK(vsr_engine_collect(e, &err) == VSR_OK, "%s", err.msg);
    CHECK(vsr_engine_collect(e, &err) == VSR_ERROR, "collected once");
    vsr_engine_close(&e);
}

int main(void)
{
    test_specs();
    test_sim_queue();
    test_sim_oom();
    test_run_only_adapter();
    return check_summary();
}
