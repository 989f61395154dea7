/*
 * The TorchScript engine through its vtable, against an independent reference:
 * tests/data/make_torch_engine_fixtures.py builds tiny scripted models, crops real frames of
 * Megamind.avi, and computes the expected planes with its own eager model, padding and
 * float32 quantisation. Here the engine runs the same chunks; planes must agree within one
 * code value. Every open() error case is checked for a clear message naming the file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "fixture.h"
#include "engine.h"

#define GUARD_BYTES 32
#define GUARD_VALUE 0xA5

typedef struct test_case {
    char name[64], model[64], input[96], expected[96];
    int precision, w, h, n, keep_begin, keep_count;
    vsr_pixel_layout layout;
} test_case;

static char fixtures[64];
static const vsr_engine_ops *torch; /* the loaded module's vtable */

/*
 * LeakSanitizer hook (unused without -fsanitize): libtorch 1.13 leaks its zip reader state
 * when PyTorchStreamReader::init throws on a zip that is not TorchScript (plain.zip.pt).
 * libtorch has no frame pointers, so the fast unwinder sees only the library, not the
 * function: suppress leaks allocated inside libtorch_cpu. Our own objects are allocated in
 * our code and stay checked.
 */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:libtorch_cpu.so\n";
}

static int make_fixtures(void)
{
    const char *src = getenv("VSR_SOURCE_DIR"), *python = getenv("VSR_PYTHON");
    if (!src || !getenv("VSR_SHARED") || !python) {
        fprintf(stderr, "VSR_SOURCE_DIR, VSR_SHARED and VSR_PYTHON must be set (run through "
                        "ctest)\n");
        return -1;
    }
    if (!fixture_temp_dir(fixtures, sizeof(fixtures), "engine_torch"))
        return -1;
    return fixture_run("'%s' '%s/tests/data/make_torch_engine_fixtures.py' '%s' '%s'", python, src,
                       fixtures, fixture_media("Megamind.avi"))
               ? 0
               : -1;
}

static void *read_file(const char *name, size_t *size)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", fixtures, name);
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    void *data = malloc(n > 0 ? (size_t)n : 1);
    if (data && fread(data, 1, (size_t)n, f) != (size_t)n) {
        free(data);
        data = NULL;
    }
    fclose(f);
    *size = (size_t)n;
    return data;
}

static vsr_engine_options case_options(const test_case *c, const char *model_path,
                                       const char *device, int cuda_graphs)
{
    vsr_engine_options o = {0};
    o.model = model_path;
    o.device = device;
    o.precision = (enum vsr_precision)c->precision;
    o.threads = 2;
    o.cuda_graphs = cuda_graphs;
    o.in_w = c->w;
    o.in_h = c->h;
    o.out_layout = c->layout;
    return o;
}

typedef struct frame_buffers {
    vsr_planes planes[8];
    int width[3], height, bytes;
} frame_buffers;

/* Output frames with GUARD_BYTES of known padding after each row. */
static void alloc_frames(frame_buffers *fb, const test_case *c, int scale)
{
    const int w = scale * c->w;
    fb->height = scale * c->h;
    fb->bytes = c->layout.bits > 8 ? 2 : 1;
    for (int p = 0; p < 3; p++) {
        const int shift = p ? c->layout.chroma_w_shift : 0;
        fb->width[p] = (w + (1 << shift) - 1) >> shift;
    }
    for (int k = 0; k < c->keep_count; k++)
        for (int p = 0; p < 3; p++) {
            fb->planes[k].linesize[p] = fb->width[p] * fb->bytes + GUARD_BYTES;
            size_t size = (size_t)fb->planes[k].linesize[p] * fb->height;
            fb->planes[k].data[p] = malloc(size);
            memset(fb->planes[k].data[p], GUARD_VALUE, size);
        }
}

static void free_frames(frame_buffers *fb, int count)
{
    for (int k = 0; k < count; k++)
        for (int p = 0; p < 3; p++)
            free(fb->planes[k].data[p]);
}

/* Compares against the expected file (frame, plane, row order, packed, little endian). */
static void compare(const test_case *c, const frame_buffers *fb, const uint8_t *expected,
                    size_t expected_size, const char *label)
{
    size_t pos = 0, count = 0, guard_bad = 0;
    int max_diff = 0;
    double sum_diff = 0;
    for (int k = 0; k < c->keep_count; k++)
        for (int p = 0; p < 3; p++)
            for (int y = 0; y < fb->height; y++) {
                const uint8_t *row = fb->planes[k].data[p] + (size_t)y * fb->planes[k].linesize[p];
                for (int x = 0; x < fb->width[p] && pos + fb->bytes <= expected_size; x++) {
                    int want =
                        fb->bytes == 1 ? expected[pos] : expected[pos] | expected[pos + 1] << 8;
                    int got = fb->bytes == 1 ? row[x] : ((const uint16_t *)row)[x];
                    int d = abs(want - got);
                    max_diff = d > max_diff ? d : max_diff;
                    sum_diff += d;
                    pos += fb->bytes;
                    count++;
                }
                for (int g = 0; g < GUARD_BYTES; g++)
                    guard_bad += row[fb->width[p] * fb->bytes + g] != GUARD_VALUE;
            }
    CHECK(pos == expected_size, "%s: compared %zu of %zu expected bytes", label, pos,
          expected_size);
    CHECK(max_diff <= 1, "%s: max diff %d codes", label, max_diff);
    CHECK(guard_bad == 0, "%s: %zu bytes written past the row ends", label, guard_bad);
    printf("%-34s max diff %d, mean diff %.5f codes over %zu samples\n", label, max_diff,
           count ? sum_diff / count : 0.0, count);
}

/* Opens the case's model and runs the chunk `repeats` times on one engine. */
static void run_case(const test_case *c, const char *device, int cuda_graphs, int repeats)
{
    char model_path[512], label[128];
    snprintf(model_path, sizeof(model_path), "%s/%s", fixtures, c->model);
    snprintf(label, sizeof(label), "%s [%s]", c->name, device ? device : "default");
    size_t in_size, expected_size;
    float *input = read_file(c->input, &in_size);
    uint8_t *expected = read_file(c->expected, &expected_size);
    const size_t frame_floats = (size_t)3 * c->w * c->h;
    CHECK(input && expected && in_size == c->n * frame_floats * sizeof(float),
          "%s: fixture files missing or short", label);
    if (!input || !expected || in_size != c->n * frame_floats * sizeof(float))
        goto done;

    vsr_engine engine = {0};
    vsr_err err = {{0}};
    vsr_engine_options o = case_options(c, model_path, device, cuda_graphs);
    int ret = torch->open(&engine, &o, &err);
    CHECK(ret == VSR_OK, "%s: open failed: %s", label, err.msg);
    if (ret != VSR_OK)
        goto done;
    const float *in[16];
    for (int i = 0; i < c->n; i++)
        in[i] = input + i * frame_floats;
    for (int r = 0; r < repeats; r++) {
        frame_buffers fb;
        alloc_frames(&fb, c, engine.info.scale);
        ret = torch->run(&engine, in, c->n, c->keep_begin, c->keep_count, fb.planes, &err);
        CHECK(ret == VSR_OK, "%s: run failed: %s", label, err.msg);
        if (ret == VSR_OK)
            compare(c, &fb, expected, expected_size, label);
        free_frames(&fb, c->keep_count);
    }
    torch->close(&engine);
    CHECK(engine.priv == NULL, "%s: close left priv set", label);
done:
    free(input);
    free(expected);
}

static int read_cases(test_case *cases, int max)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/manifest.txt", fixtures);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    int n = 0;
    test_case c = {0};
    while (n < max &&
           fscanf(f, "%63s %63s %d %d %d %d %d %d %d %d %d %d %lf %lf %95s %95s", c.name, c.model,
                  &c.precision, &c.w, &c.h, &c.n, &c.keep_begin, &c.keep_count, &c.layout.rgb,
                  &c.layout.bits, &c.layout.chroma_w_shift, &c.layout.full_range, &c.layout.kr,
                  &c.layout.kb, c.input, c.expected) == 16)
        cases[n++] = c;
    fclose(f);
    return n;
}

static const vsr_pixel_layout yuv422p10 = {0, 10, 1, 0, 0.2126, 0.0722};

/* open() must fail with a message that contains `needle` (and the file name, if given). */
static void expect_open_error(const char *file, const char *device, enum vsr_precision precision,
                              int scale, const char *needle)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", fixtures, file);
    vsr_engine engine = {0};
    vsr_err err = {{0}};
    vsr_engine_options o = {.model = path,
                            .scale = scale,
                            .device = device,
                            .precision = precision,
                            .threads = 1,
                            .in_w = 64,
                            .in_h = 48,
                            .out_layout = yuv422p10};
    int ret = torch->open(&engine, &o, &err);
    CHECK(ret == VSR_ERROR, "%s: open should fail", file);
    if (ret == VSR_OK) {
        torch->close(&engine);
        return;
    }
    CHECK(strstr(err.msg, needle) != NULL, "%s: message \"%s\" lacks \"%s\"", file, err.msg,
          needle);
    CHECK(strstr(err.msg, file) != NULL, "%s: message \"%s\" does not name the file", file,
          err.msg);
    CHECK(strchr(err.msg, '\n') == NULL, "%s: message is not one line: \"%s\"", file, err.msg);
    printf("error case %-16s -> %s\n", file, err.msg);
}

static int cuda_available(void)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/tiny_t3.pt", fixtures);
    vsr_engine engine = {0};
    vsr_err err = {{0}};
    vsr_engine_options o = {
        .model = path, .threads = 1, .in_w = 64, .in_h = 48, .out_layout = yuv422p10};
    if (torch->open(&engine, &o, &err) != VSR_OK)
        return 0;
    int cuda = strncmp(engine.info.device, "cuda", 4) == 0;
    torch->close(&engine);
    return cuda;
}

static void test_errors(int have_cuda)
{
    expect_open_error("missing.pt", "cpu", VSR_PRECISION_AUTO, 0, "No such file");
    expect_open_error("text.pt", "cpu", VSR_PRECISION_AUTO, 0, "not a TorchScript archive");
    expect_open_error("plain.zip.pt", "cpu", VSR_PRECISION_AUTO, 0, "not a TorchScript archive");
    expect_open_error("no_json.pt", "cpu", VSR_PRECISION_AUTO, 0, "no vsrup.json");
    expect_open_error("bad_syntax.pt", "cpu", VSR_PRECISION_AUTO, 0,
                      "vsrup.json: parse error at line 1");
    expect_open_error("trailing_text.pt", "cpu", VSR_PRECISION_AUTO, 0, "expected end of input");
    expect_open_error("missing_scale.pt", "cpu", VSR_PRECISION_AUTO, 0, "\"scale\" is missing");
    expect_open_error("string_scale.pt", "cpu", VSR_PRECISION_AUTO, 0, "\"scale\" must be");
    expect_open_error("bad_dtype.pt", "cpu", VSR_PRECISION_AUTO, 0, "\"dtype\" must be");
    expect_open_error("no_forward.pt", "cpu", VSR_PRECISION_AUTO, 0, "no forward()");
    expect_open_error("tiny_t3.pt", "cpu", VSR_PRECISION_AUTO, 2, "upscales 4x, but 2x");
    expect_open_error("tiny_t3.pt", "cpu", VSR_PRECISION_FP16, 0, "float16 needs a CUDA device");
    if (have_cuda)
        printf("skipped: the cuda-requested-without-CUDA case (this machine has CUDA)\n");
    else
        expect_open_error("tiny_t3.pt", "cuda:0", VSR_PRECISION_AUTO, 0,
                          "this machine has no CUDA device");
}

static void test_info_and_bad_runs(void)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/tiny_f16.pt", fixtures);
    vsr_engine engine = {0};
    vsr_err err = {{0}};
    vsr_engine_options o = {.model = path,
                            .device = "cpu",
                            .threads = 1,
                            .in_w = 64,
                            .in_h = 48,
                            .out_layout = yuv422p10};
    int ret = torch->open(&engine, &o, &err);
    CHECK(ret == VSR_OK, "open tiny_f16.pt: %s", err.msg);
    if (ret != VSR_OK)
        return;
    const vsr_engine_info *i = &engine.info;
    CHECK(!strcmp(i->name, "tiny test model") && !strcmp(i->arch, "tiny"), "name/arch %s/%s",
          i->name, i->arch);
    CHECK(i->scale == 4 && i->temporal == 1 && i->min_frames == 3, "scale %d temporal %d min %d",
          i->scale, i->temporal, i->min_frames);
    CHECK(i->min_h == 16 && i->min_w == 16 && i->multiple == 4, "min %dx%d multiple %d", i->min_w,
          i->min_h, i->multiple);
    CHECK(!strcmp(i->device, "cpu"), "device %s", i->device);
    /* A float16 file with AUTO precision runs in float32 on the CPU. */
    CHECK(!strcmp(i->precision, "float32"), "precision %s", i->precision);

    static float frame[3 * 64 * 48];
    const float *in[2] = {frame, frame};
    vsr_planes out[2];
    memset(out, 0, sizeof(out));
    ret = torch->run(&engine, in, 2, 1, 2, out, &err);
    CHECK(ret == VSR_ERROR && strstr(err.msg, "bad chunk"), "keep past the chunk: %d %s", ret,
          err.msg);
    ret = torch->run(&engine, in, 2, 0, 1, out, &err);
    CHECK(ret == VSR_ERROR && strstr(err.msg, "missing"), "no output planes: %d %s", ret, err.msg);
    torch->close(&engine);
}

int main(void)
{
    vsr_err load_err = {{0}};
    torch = vsr_engine_torch_load(&load_err);
    if (!torch) {
        CHECK(0, "%s", load_err.msg);
        return check_summary();
    }
    if (make_fixtures() != 0) {
        CHECK(0, "could not build the fixtures with tests/data/make_torch_engine_fixtures.py");
        return check_summary();
    }
    test_case cases[32];
    const int n = read_cases(cases, 32);
    CHECK(n >= 10, "manifest has %d cases", n);
    const int have_cuda = cuda_available();

    for (int i = 0; i < n; i++)
        run_case(&cases[i], "cpu", 0, 2);
    if (have_cuda) {
        for (int i = 0; i < n; i++)
            run_case(&cases[i], "cuda", 1, 3); /* the second run captures, the third replays */
    } else {
        printf("skipped: GPU cases (no CUDA in this libtorch or on this machine)\n");
    }
    test_errors(have_cuda);
    test_info_and_bad_runs();

    if (!fixture_remove_dir(fixtures))
        fprintf(stderr, "could not remove %s\n", fixtures);
    return check_summary();
}
