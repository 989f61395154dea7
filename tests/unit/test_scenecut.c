/*
 * Scene-cut detection on real footage and on FFmpeg's lavfi patterns. Frames come from the
 * ffmpeg command-line tool as planar float RGB, independent of our reader; the expected
 * cuts were checked by eye (docs/CHUNKS.md lists them).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fixture.h"
#include "scenecut.h"

#define MAX_CUTS 64

typedef struct detection {
    int64_t frames;
    int64_t cuts[MAX_CUTS];
    int ncuts;
} detection;

/*
 * Runs `ffmpeg <inputs>` to raw planar RGB frames of w x h and pushes them through a new
 * detector as float RGB in [0, 1]. The frames travel as 8-bit gbrp and become floats
 * here: the sources are 8-bit, and the pipe carries a quarter of the float bytes.
 * Passthrough timing: by default the CLI duplicates frames to keep a constant rate
 * (Megamind.avi would give 271 frames instead of its 270).
 */
static int detect(const char *inputs, int w, int h, detection *d)
{
    const size_t plane = (size_t)w * h;
    uint8_t *gbr = malloc(3 * plane);
    float *rgb = malloc(3 * plane * sizeof(float));
    vsr_scenecut *sc = vsr_scenecut_alloc(w, h);
    FILE *pipe =
        fixture_pipe(FIXTURE_FFMPEG "%s -fps_mode passthrough -f rawvideo -pix_fmt gbrp -", inputs);
    memset(d, 0, sizeof(*d));
    if (!gbr || !rgb || !sc || !pipe) {
        CHECK(0, "cannot start ffmpeg %s", inputs);
    } else {
        while (fread(gbr, 1, 3 * plane, pipe) == 3 * plane) {
            /* gbrp plane order is G, B, R */
            for (int c = 0; c < 3; c++) {
                const uint8_t *src = gbr + (size_t)((c + 2) % 3) * plane;
                for (size_t i = 0; i < plane; i++)
                    rgb[c * plane + i] = src[i] / 255.0f;
            }
            if (vsr_scenecut_push(sc, rgb) && d->ncuts < MAX_CUTS)
                d->cuts[d->ncuts++] = d->frames;
            d->frames++;
        }
    }
    int status = pipe ? pclose(pipe) : -1;
    CHECK(status == 0, "ffmpeg failed (%d): %s", status, inputs);
    vsr_scenecut_free(&sc);
    free(gbr);
    free(rgb);
    return status == 0 ? 0 : -1;
}

static void expect_cuts(const char *what, const char *inputs, int w, int h, int64_t frames,
                        const int64_t *want, int nwant)
{
    detection d;
    if (detect(inputs, w, h, &d) < 0)
        return;
    CHECK(d.frames == frames, "%s: %lld frames, expected %lld", what, (long long)d.frames,
          (long long)frames);
    int same = d.ncuts == nwant;
    for (int i = 0; same && i < nwant; i++)
        same = d.cuts[i] == want[i];
    char got[512] = "";
    for (int i = 0; i < d.ncuts; i++)
        snprintf(got + strlen(got), sizeof(got) - strlen(got), " %lld", (long long)d.cuts[i]);
    CHECK(same, "%s: cuts at [%s ] differ from the %d expected", what, got, nwant);
    printf("%s: %lld frames, cuts at [%s ]\n", what, (long long)d.frames, got);
}

#define PATTERN "-f lavfi -i 'testsrc2=s=320x240:r=25:d=3"
#define MANDEL "-f lavfi -i 'mandelbrot=s=320x240:r=25'"

/* Gradual changes, flashes and camera motion on lavfi patterns: no cut anywhere. */
static void test_no_cut_patterns(void)
{
    static const struct {
        const char *what, *inputs;
    } cases[] = {
        {"fade out to black", PATTERN ",fade=t=out:st=1:d=1.5'"},
        {"fade in from black", PATTERN ",fade=t=in:st=0.5:d=1.5'"},
        {"flash frame", PATTERN ",format=yuv420p,eq=brightness=0.5:enable=eq(n\\,30)'"},
        {"tripled-gain flash", PATTERN ",format=rgb24,lutrgb=r=3*val:g=3*val:b=3*val"
                                       ":enable=eq(n\\,30)'"},
        {"slow pan, 4 px per frame", "-f lavfi -i 'testsrc2=s=1280x240:r=25:d=3"
                                     ",crop=320:240:n*4:0'"},
        {"fast pan, 12 px per frame", "-f lavfi -i 'testsrc2=s=1280x240:r=25:d=3"
                                      ",crop=320:240:n*12:0'"},
        {"mandelbrot pan, 16 px per frame", "-f lavfi -i 'mandelbrot=s=1600x240:r=25"
                                            ",crop=320:240:n*16:0' -frames:v 75"},
        {"mandelbrot zoom", MANDEL " -frames:v 75"},
        {"fade through black between two patterns",
         PATTERN "' " MANDEL " -filter_complex '[0]fade=t=out:st=2:d=1[a];"
                 "[1]trim=end_frame=75,fade=t=in:d=1[b];[a][b]concat=n=2'"},
        {"dissolve between two patterns",
         PATTERN "' " MANDEL " -filter_complex "
                 "'[1]trim=end_frame=75[b];"
                 "[0][b]xfade=transition=fade:duration=1:offset=2'"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
        detection d;
        if (detect(cases[i].inputs, 320, 240, &d) < 0)
            continue;
        CHECK(d.frames >= 75, "%s: only %lld frames", cases[i].what, (long long)d.frames);
        CHECK(d.ncuts == 0, "%s: %d cuts, the first at %lld", cases[i].what, d.ncuts,
              (long long)(d.ncuts ? d.cuts[0] : -1));
        printf("%s: %lld frames, %d cuts\n", cases[i].what, (long long)d.frames, d.ncuts);
    }
}

static void test_pattern_splices(void)
{
    const int64_t at75[] = {75}, at40[] = {40};
    expect_cuts("testsrc2 then mandelbrot",
                PATTERN "' " MANDEL " -filter_complex '[1]trim=end_frame=50[b];[0][b]concat=n=2'",
                320, 240, 125, at75, 1);
    expect_cuts("smptehdbars then testsrc2",
                "-f lavfi -i 'smptehdbars=s=320x240:r=25:d=1.6' " PATTERN
                "' -filter_complex '[0][1]concat=n=2'",
                320, 240, 115, at40, 1);
}

/* Real footage: paths under VSR_SHARED/media; skipped, and said so, without them. */
static void test_real_clips(void)
{
    char vtest[1024], megamind[1024];
    snprintf(vtest, sizeof(vtest), "%s", fixture_media("vtest.avi"));
    snprintf(megamind, sizeof(megamind), "%s", fixture_media("Megamind.avi"));
    FILE *f1 = fopen(vtest, "rb"), *f2 = fopen(megamind, "rb");
    int have = f1 && f2;
    if (f1)
        fclose(f1);
    if (f2)
        fclose(f2);
    if (!have) {
        printf("SKIP real clips: %s or %s missing (set VSR_SHARED)\n", vtest, megamind);
        return;
    }
    char in[4096];

    /* A fixed camera over a street with many small moving people. */
    snprintf(in, sizeof(in), "-i '%s'", vtest);
    expect_cuts("vtest.avi", in, 768, 576, 795, NULL, 0);

    /* The trailer: a black first frame, then four shots (checked by eye). */
    const int64_t megamind_cuts[] = {1, 98, 154, 200};
    snprintf(in, sizeof(in), "-i '%s'", megamind);
    expect_cuts("Megamind.avi", in, 720, 528, 270, megamind_cuts, 4);

    /* Splices of two cut-free shots, each way round: the street's first 120 frames and
     * one Megamind shot scaled to the street's size. */
    const int64_t at120[] = {120}, at70[] = {70};
    snprintf(in, sizeof(in),
             "-i '%s' -i '%s' -filter_complex '[0:v]trim=end_frame=120,setsar=1[a];"
             "[1:v]trim=start_frame=98:end_frame=154,setpts=PTS-STARTPTS,scale=768:576,"
             "setsar=1[b];[a][b]concat=n=2'",
             vtest, megamind);
    expect_cuts("vtest 0-119 + Megamind 98-153", in, 768, 576, 176, at120, 1);
    snprintf(in, sizeof(in),
             "-i '%s' -i '%s' -filter_complex '[1:v]trim=start_frame=200,"
             "setpts=PTS-STARTPTS,scale=768:576,setsar=1[a];"
             "[0:v]trim=end_frame=120,setsar=1[b];[a][b]concat=n=2'",
             vtest, megamind);
    expect_cuts("Megamind 200-269 + vtest 0-119", in, 768, 576, 190, at70, 1);
}

/* A frame of smooth structure, different for each `seed`, scaled by gain. */
static void fill_frame(float *rgb, int w, int h, int seed, float gain)
{
    for (int c = 0; c < 3; c++)
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                rgb[((size_t)c * h + y) * w + x] =
                    gain * (0.5f + 0.4f * sinf(0.05f * (seed + 1) * x + 0.3f * seed) *
                                       cosf(0.07f * (3 - seed) * y + c));
}

/* API edges computed in memory: sizes, the first frame, bad samples, determinism. */
static void test_api(void)
{
    CHECK(vsr_scenecut_alloc(0, 10) == NULL && vsr_scenecut_alloc(10, -1) == NULL,
          "bad sizes are refused");
    vsr_scenecut *none = NULL;
    vsr_scenecut_free(&none);
    vsr_scenecut_free(NULL);

    enum { W = 96, H = 54 };
    static float a[3 * W * H], b[3 * W * H], bad[3 * W * H];
    fill_frame(a, W, H, 0, 1.0f);
    fill_frame(b, W, H, 2, 1.0f);
    vsr_scenecut *sc = vsr_scenecut_alloc(W, H);
    CHECK(sc != NULL, "alloc");
    if (!sc)
        return;
    CHECK(vsr_scenecut_push(sc, b) == 0, "the first frame is never a cut");
    CHECK(vsr_scenecut_push(sc, b) == 0, "a repeated frame is no cut");
    CHECK(vsr_scenecut_push(sc, a) == 1, "a different picture is a cut");
    CHECK(vsr_scenecut_push(sc, a) == 0, "and then it is the same scene");
    CHECK(vsr_scenecut_push(NULL, a) == 0 && vsr_scenecut_push(sc, NULL) == 0, "NULL");

    /* NaN, negative and above-one samples act as their clamped values. */
    for (size_t i = 0; i < 3 * W * H; i++)
        bad[i] = i % 3 == 0 ? NAN : i % 3 == 1 ? -4.0f : 7.0f;
    for (size_t i = 0; i < 3 * W * H; i++)
        a[i] = i % 3 == 0 ? 0.0f : i % 3 == 1 ? 0.0f : 1.0f;
    vsr_scenecut *sa = vsr_scenecut_alloc(W, H), *sb = vsr_scenecut_alloc(W, H);
    int agree = sa && sb;
    for (int i = 0; agree && i < 6; i++) {
        const float *frame = i % 2 ? b : bad, *clamped = i % 2 ? b : a;
        agree = vsr_scenecut_push(sa, frame) == vsr_scenecut_push(sb, clamped);
    }
    CHECK(agree, "out-of-range samples act as clamped ones");
    vsr_scenecut_free(&sa);
    vsr_scenecut_free(&sb);

    /* Frames smaller than the thumbnail grid. */
    vsr_scenecut *tiny = vsr_scenecut_alloc(1, 1);
    const float black[3] = {0, 0, 0}, white[3] = {1, 1, 1};
    CHECK(tiny && vsr_scenecut_push(tiny, black) == 0 && vsr_scenecut_push(tiny, white) == 1 &&
              vsr_scenecut_push(tiny, white) == 0,
          "1x1 frames: a flat black to flat white change is a cut");
    vsr_scenecut_free(&tiny);
    vsr_scenecut_free(&sc);
    CHECK(sc == NULL, "free clears the pointer");
}

int main(void)
{
    test_api();
    if (!fixture_run("ffmpeg -nostdin -v quiet -version > /dev/null 2>&1")) {
        printf("SKIP footage tests: no ffmpeg on PATH\n");
        return check_summary();
    }
    test_no_cut_patterns();
    test_pattern_splices();
    test_real_clips();
    return check_summary();
}
