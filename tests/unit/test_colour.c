/*
 * Colour module against an independent reference written here in double precision:
 * the Y'CbCr -> R'G'B' matrix is obtained by inverting the forward matrix numerically
 * (not by the closed form the library uses), and code values are normalised from
 * their definitions in BT.601/709 and H.273. Errors are reported in 10-bit code values,
 * i.e. in units of 1/1023 of full scale.
 */
#include <libavutil/frame.h>
#include <libavutil/imgutils.h>
#include <libavutil/pixdesc.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fixture.h"
#include "colour.h"

#define KR_601 0.299
#define KB_601 0.114
#define KR_709 0.2126
#define KB_709 0.0722

/* ---------------------------------------------------------------- reference */

/* Inverse of the R'G'B' -> (Y', Cb, Cr) matrix by cofactors. */
static void ref_inverse_matrix(double kr, double kb, double inv[3][3])
{
    double kg = 1.0 - kr - kb;
    double m[3][3] = {
        {kr, kg, kb},
        {-kr / (2 * (1 - kb)), -kg / (2 * (1 - kb)), (1 - kb) / (2 * (1 - kb))},
        {(1 - kr) / (2 * (1 - kr)), -kg / (2 * (1 - kr)), -kb / (2 * (1 - kr))},
    };
    double det = m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) -
                 m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) +
                 m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) {
            int r0 = (j + 1) % 3, r1 = (j + 2) % 3, c0 = (i + 1) % 3, c1 = (i + 2) % 3;
            inv[i][j] = (m[r0][c0] * m[r1][c1] - m[r0][c1] * m[r1][c0]) / det;
        }
}

static double clamp01(double v)
{
    return v < 0 ? 0 : v > 1 ? 1 : v;
}

/* Code values (possibly fractional, in the source depth) to clamped R'G'B'. */
static void ref_codes_to_rgb(double kr, double kb, int bits, int full, const double code[3],
                             double rgb[3])
{
    double unit = pow(2, bits - 8), max = pow(2, bits) - 1, half = pow(2, bits - 1);
    double y = full ? code[0] / max : (code[0] / unit - 16) / 219;
    double cb = full ? (code[1] - half) / max : (code[1] / unit - 128) / 224;
    double cr = full ? (code[2] - half) / max : (code[2] / unit - 128) / 224;
    double inv[3][3];
    ref_inverse_matrix(kr, kb, inv);
    for (int i = 0; i < 3; i++)
        rgb[i] = clamp01(inv[i][0] * y + inv[i][1] * cb + inv[i][2] * cr);
}

/* ---------------------------------------------------------------- helpers */

static AVFrame *new_frame(enum AVPixelFormat fmt, int w, int h)
{
    AVFrame *f = av_frame_alloc();
    f->format = fmt;
    f->width = w;
    f->height = h;
    if (av_frame_get_buffer(f, 0) < 0) {
        fprintf(stderr, "cannot allocate %dx%d %s\n", w, h, av_get_pix_fmt_name(fmt));
        exit(1);
    }
    /* put() ORs sub-word samples into place, so start from zeros. */
    for (int i = 0; i < AV_NUM_DATA_POINTERS && f->buf[i]; i++)
        memset(f->buf[i]->data, 0, f->buf[i]->size);
    return f;
}

/* Writes code `v` (in the component's depth) of component c at (x, y), any layout. */
static void put(AVFrame *f, int c, int x, int y, int v)
{
    const AVPixFmtDescriptor *d = av_pix_fmt_desc_get(f->format);
    uint16_t s = (uint16_t)v;
    av_write_image_line2(&s, f->data, f->linesize, d, x, y, c, 1, 2);
}

typedef struct err_stats {
    double sum, max;
    long n;
} err_stats;

static void stats_add(err_stats *s, double e)
{
    e = fabs(e);
    s->sum += e;
    s->n++;
    if (e > s->max)
        s->max = e;
}

static double stats_mean(const err_stats *s)
{
    return s->n ? s->sum / s->n : 0;
}

/* ------------------------------------------------- synthetic YUV reading */

/*
 * A test picture in horizontal bands of 16 rows:
 *  0: eight flat bars (75 % and 100 % colours, black, white), each 64 wide;
 *  1: a luma ramp over every code from 0 to the maximum, chroma neutral;
 *  2 and below: Cb and Cr ramps of one 8-bit code step per two luma samples
 *     (linear in whole codes, so interpolation must reproduce them), luma mid grey.
 * picture_codes gives the code triple of pixel (x, y) in source units.
 */
enum { PIC_W = 512, BAND_H = 16, PIC_H = 3 * BAND_H };

static void picture_codes(int x, int y, int chroma_w_shift, double kr, double kb, int bits,
                          int full, double code[3])
{
    static const double bars[8][3] = {{0.75, 0.75, 0.75}, {0.75, 0.75, 0}, {0, 0.75, 0.75},
                                      {0, 0.75, 0},       {0.75, 0, 0.75}, {1, 0, 0},
                                      {0, 0, 0},          {1, 1, 1}};
    double unit = pow(2, bits - 8), max = pow(2, bits) - 1, half = pow(2, bits - 1);
    if (y < BAND_H) {
        /* Bars are R'G'B' converted with the forward matrix and rounded, as an encoder does. */
        const double *p = bars[x / 64];
        double l = kr * p[0] + (1 - kr - kb) * p[1] + kb * p[2];
        double cb = (p[2] - l) / (2 * (1 - kb)), cr = (p[0] - l) / (2 * (1 - kr));
        code[0] = floor((full ? l * max : (16 + 219 * l) * unit) + 0.5);
        code[1] = fmin(floor((full ? cb * max + half : (128 + 224 * cb) * unit) + 0.5), max);
        code[2] = fmin(floor((full ? cr * max + half : (128 + 224 * cr) * unit) + 0.5), max);
    } else if (y < 2 * BAND_H) {
        code[0] = floor(x * max / (PIC_W - 1) + 0.5);
        code[1] = code[2] = half;
    } else {
        /* Subsampled chroma is stored at even x, where x / 2 is whole; 4:4:4 is stored
         * at every x, so its ramp steps every second sample. Stops at 224 steps. */
        double step = fmin(chroma_w_shift ? x / 2.0 : floor(x / 2.0), 224);
        code[0] = full ? half : 126 * unit;
        code[1] = (full ? 0 : 16 * unit) + unit * step;
        code[2] = (full ? max : 240 * unit) - unit * step;
    }
}

static void fill_picture(AVFrame *f, double kr, double kb, int bits, int full)
{
    const AVPixFmtDescriptor *d = av_pix_fmt_desc_get(f->format);
    int sw = d->log2_chroma_w, sh = d->log2_chroma_h;
    for (int y = 0; y < f->height; y++)
        for (int x = 0; x < f->width; x++) {
            double code[3];
            picture_codes(x, y, sw, kr, kb, bits, full, code);
            put(f, 0, x, y, (int)code[0]);
            /* Chroma sample (cx, cy) takes the value at its (left, top) luma position. */
            if (!(x & ((1 << sw) - 1)) && !(y & ((1 << sh) - 1))) {
                put(f, 1, x >> sw, y >> sh, (int)code[1]);
                put(f, 2, x >> sw, y >> sh, (int)code[2]);
            }
        }
}

/* Pixels near a bar or band border, or the end of the chroma ramps, see interpolation
 * across it: not a flat or linear area. */
static int near_border(int x, int y)
{
    int xb = x % 64, yb = y % BAND_H;
    return yb < 3 || yb > BAND_H - 4 || (y < BAND_H && (xb < 4 || xb > 59)) ||
           (y >= 2 * BAND_H && abs(x - 448) < 5);
}

typedef struct yuv_case {
    enum AVPixelFormat fmt;
    int bits; /* code depth; put() applies P010's shift from the descriptor */
    enum AVColorSpace tag;
    enum AVColorRange range;
    int height; /* with the untagged policy: < 720 is 601, >= 720 is 709 */
} yuv_case;

static void test_synthetic_case(const yuv_case *tc)
{
    AVFrame *f = new_frame(tc->fmt, PIC_W, tc->height);
    const char *name = av_get_pix_fmt_name(tc->fmt);
    int full = tc->range == AVCOL_RANGE_JPEG || tc->fmt == AV_PIX_FMT_YUVJ420P ||
               tc->fmt == AV_PIX_FMT_YUVJ444P;
    double kr, kb;
    if (tc->tag == AVCOL_SPC_BT709 || (tc->tag == AVCOL_SPC_UNSPECIFIED && tc->height >= 720))
        kr = KR_709, kb = KB_709;
    else
        kr = KR_601, kb = KB_601;
    f->colorspace = tc->tag;
    f->color_range = tc->range;
    f->chroma_location = AVCHROMA_LOC_LEFT;
    fill_picture(f, kr, kb, tc->bits, full);

    vsr_source_colour sc = vsr_colour_source(f);
    double skr = 0, skb = 0;
    vsr_colour_matrix_coefficients(sc.matrix, &skr, &skb);
    CHECK(fabs(skr - kr) < 1e-9 && fabs(skb - kb) < 1e-9, "%s %dp: matrix %s", name, tc->height,
          av_color_space_name(sc.matrix));
    CHECK((sc.range == AVCOL_RANGE_JPEG) == full, "%s: range %d", name, sc.range);
    CHECK(sc.bits == tc->bits, "%s: bits %d", name, sc.bits);

    size_t n = (size_t)PIC_W * tc->height;
    float *rgb = malloc(3 * n * sizeof(float));
    vsr_frame_reader *fr = vsr_frame_reader_alloc();
    vsr_err err = {{0}};
    int ret = vsr_frame_reader_convert(fr, f, rgb, &err);
    CHECK(ret == VSR_OK, "%s: %s", name, err.msg);
    /* A second call reuses the cached context and must give the same result. */
    ret = vsr_frame_reader_convert(fr, f, rgb, &err);
    CHECK(ret == VSR_OK, "%s again: %s", name, err.msg);

    int sw = av_pix_fmt_desc_get(tc->fmt)->log2_chroma_w;
    err_stats flat = {0}, ramp = {0};
    for (int y = 0; y < PIC_H; y++)
        for (int x = 2; x < PIC_W - 3; x++) {
            if (near_border(x, y))
                continue;
            double code[3], ref[3];
            picture_codes(x, y, sw, kr, kb, tc->bits, full, code);
            ref_codes_to_rgb(kr, kb, tc->bits, full, code, ref);
            for (int c = 0; c < 3; c++) {
                double e = (rgb[c * n + (size_t)y * PIC_W + x] - ref[c]) * 1023;
                stats_add(y < BAND_H ? &flat : &ramp, e);
            }
        }
    CHECK(flat.max <= 0.01, "%s %dp %s: flat areas off by %.4f (10-bit codes)", name, tc->height,
          full ? "full" : "limited", flat.max);
    CHECK(stats_mean(&ramp) <= 0.5 && ramp.max <= 2, "%s %dp: ramps mean %.3f max %.3f", name,
          tc->height, stats_mean(&ramp), ramp.max);
    printf("  %-12s %4dp %-7s %-8s flat max %.4f, ramps mean %.4f max %.4f (10-bit codes)\n", name,
           tc->height, full ? "full" : "limited", kr == KR_709 ? "709" : "601", flat.max,
           stats_mean(&ramp), ramp.max);
    vsr_frame_reader_free(&fr);
    CHECK(fr == NULL, "reader_free clears the pointer");
    free(rgb);
    av_frame_free(&f);
}

static void test_synthetic(void)
{
    printf("synthetic bars and ramps:\n");
    const yuv_case cases[] = {
        {AV_PIX_FMT_YUV420P, 8, AVCOL_SPC_UNSPECIFIED, AVCOL_RANGE_UNSPECIFIED, 576},
        {AV_PIX_FMT_YUV420P, 8, AVCOL_SPC_UNSPECIFIED, AVCOL_RANGE_UNSPECIFIED, 720},
        {AV_PIX_FMT_YUV420P, 8, AVCOL_SPC_BT709, AVCOL_RANGE_MPEG, 576},
        {AV_PIX_FMT_YUV420P, 8, AVCOL_SPC_SMPTE170M, AVCOL_RANGE_JPEG, 720},
        {AV_PIX_FMT_YUVJ420P, 8, AVCOL_SPC_UNSPECIFIED, AVCOL_RANGE_UNSPECIFIED, 576},
        {AV_PIX_FMT_YUV422P, 8, AVCOL_SPC_BT709, AVCOL_RANGE_MPEG, 480},
        {AV_PIX_FMT_YUV444P, 8, AVCOL_SPC_BT470BG, AVCOL_RANGE_MPEG, 720},
        {AV_PIX_FMT_YUV444P, 8, AVCOL_SPC_BT709, AVCOL_RANGE_JPEG, 480},
        {AV_PIX_FMT_NV12, 8, AVCOL_SPC_UNSPECIFIED, AVCOL_RANGE_UNSPECIFIED, 720},
        {AV_PIX_FMT_YUYV422, 8, AVCOL_SPC_UNSPECIFIED, AVCOL_RANGE_UNSPECIFIED, 480},
        {AV_PIX_FMT_YUV420P10, 10, AVCOL_SPC_UNSPECIFIED, AVCOL_RANGE_UNSPECIFIED, 720},
        {AV_PIX_FMT_YUV420P10, 10, AVCOL_SPC_BT709, AVCOL_RANGE_JPEG, 480},
        {AV_PIX_FMT_YUV422P10, 10, AVCOL_SPC_BT709, AVCOL_RANGE_MPEG, 720},
        {AV_PIX_FMT_YUV422P10, 10, AVCOL_SPC_UNSPECIFIED, AVCOL_RANGE_UNSPECIFIED, 576},
        {AV_PIX_FMT_YUV444P10, 10, AVCOL_SPC_SMPTE170M, AVCOL_RANGE_MPEG, 720},
        {AV_PIX_FMT_YUV444P10, 10, AVCOL_SPC_BT709, AVCOL_RANGE_JPEG, 720},
        {AV_PIX_FMT_P010, 10, AVCOL_SPC_BT709, AVCOL_RANGE_MPEG, 720},
        {AV_PIX_FMT_YUV422P12, 12, AVCOL_SPC_BT709, AVCOL_RANGE_MPEG, 720},
        {AV_PIX_FMT_YUV444P16, 16, AVCOL_SPC_BT709, AVCOL_RANGE_MPEG, 720},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        test_synthetic_case(&cases[i]);
}

/* Exact white and black: the swscale widening (x << 8, not x * 257) is corrected for. */
static void test_white_black(void)
{
    const struct {
        enum AVPixelFormat fmt;
        int black, white, grey;
    } cases[] = {{AV_PIX_FMT_YUV420P, 16, 235, 128},
                 {AV_PIX_FMT_YUV420P10, 64, 940, 512},
                 {AV_PIX_FMT_YUV422P10, 64, 940, 512}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        AVFrame *f = new_frame(cases[i].fmt, 16, 4);
        const AVPixFmtDescriptor *d = av_pix_fmt_desc_get(f->format);
        for (int y = 0; y < 4; y++)
            for (int x = 0; x < 16; x++) {
                put(f, 0, x, y, x < 8 ? cases[i].black : cases[i].white);
                put(f, 1, x >> d->log2_chroma_w, y >> d->log2_chroma_h, cases[i].grey);
                put(f, 2, x >> d->log2_chroma_w, y >> d->log2_chroma_h, cases[i].grey);
            }
        float rgb[3 * 16 * 4];
        vsr_frame_reader *fr = vsr_frame_reader_alloc();
        vsr_err err;
        CHECK(vsr_frame_reader_convert(fr, f, rgb, &err) == VSR_OK, "%s", err.msg);
        for (int c = 0; c < 3; c++) {
            CHECK(rgb[c * 64 + 2 * 16 + 1] == 0.0f, "%s black is %.7f",
                  av_get_pix_fmt_name(f->format), rgb[c * 64 + 2 * 16 + 1]);
            CHECK(rgb[c * 64 + 2 * 16 + 14] == 1.0f, "%s white is %.7f",
                  av_get_pix_fmt_name(f->format), rgb[c * 64 + 2 * 16 + 14]);
        }
        vsr_frame_reader_free(&fr);
        av_frame_free(&f);
    }
}

/* ------------------------------------------- frames made by the ffmpeg CLI */

/* One frame of raw video from ffmpeg ARGS, exactly `size` bytes into buf; 0 on failure. */
static int run_ffmpeg(const char *args, uint8_t *buf, size_t size)
{
    size_t got = 0;
    char *raw = fixture_output(&got, FIXTURE_FFMPEG "%s -frames:v 1 -f rawvideo -", args);
    const int ok = raw && got == size;
    if (ok)
        memcpy(buf, raw, size);
    else
        fprintf(stderr, "ffmpeg %s gave %zu of %zu bytes\n", args, got, size);
    free(raw);
    return ok;
}

/* Raw bytes of one w x h frame of `fmt` into a fresh AVFrame. */
static AVFrame *frame_from_raw(const uint8_t *raw, enum AVPixelFormat fmt, int w, int h)
{
    AVFrame *f = new_frame(fmt, w, h);
    const uint8_t *src[4];
    int ls[4];
    av_image_fill_arrays((uint8_t **)src, ls, raw, fmt, w, h, 1);
    av_image_copy(f->data, f->linesize, src, ls, fmt, w, h);
    return f;
}

static AVFrame *lavfi_frame(const char *source, int w, int h, enum AVPixelFormat fmt)
{
    int size = av_image_get_buffer_size(fmt, w, h, 1);
    uint8_t *raw = malloc(size);
    char args[512];
    snprintf(args, sizeof(args), "-f lavfi -i %s=s=%dx%d -pix_fmt %s", source, w, h,
             av_get_pix_fmt_name(fmt));
    AVFrame *f = run_ffmpeg(args, raw, size) ? frame_from_raw(raw, fmt, w, h) : NULL;
    free(raw);
    return f;
}

/*
 * SMPTE bars: smptebars carries BT.601 codes, smptehdbars BT.709 codes. The 75 %
 * yellow bar reads as R' = G' = 0.75, B' = 0 only when the right matrix is used.
 */
static void test_lavfi_bars(void)
{
    const struct {
        const char *source;
        double yellow_x; /* centre of the yellow bar, as a fraction of the width */
        int w, h;
        enum AVColorSpace tag;
        int expect_right;
    } cases[] = {
        {"smptebars", 0.215, 720, 480, AVCOL_SPC_UNSPECIFIED, 1},    /* SD untagged: 601 */
        {"smptehdbars", 0.286, 1280, 720, AVCOL_SPC_UNSPECIFIED, 1}, /* HD untagged: 709 */
        {"smptebars", 0.215, 1280, 720, AVCOL_SPC_UNSPECIFIED, 0},   /* 601 codes read as 709 */
        {"smptebars", 0.215, 1280, 720, AVCOL_SPC_SMPTE170M, 1},     /* tag beats the default */
        {"smptehdbars", 0.286, 720, 576, AVCOL_SPC_BT709, 1},
        {"smptehdbars", 0.286, 720, 576, AVCOL_SPC_UNSPECIFIED, 0},
    };
    const enum AVPixelFormat fmts[] = {AV_PIX_FMT_YUV420P, AV_PIX_FMT_YUV422P10LE};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        for (int k = 0; k < 2; k++) {
            AVFrame *f = lavfi_frame(cases[i].source, cases[i].w, cases[i].h, fmts[k]);
            CHECK(f != NULL, "ffmpeg made no %s frame", cases[i].source);
            if (!f)
                continue;
            f->colorspace = cases[i].tag;
            size_t n = (size_t)f->width * f->height;
            float *rgb = malloc(3 * n * sizeof(float));
            vsr_frame_reader *fr = vsr_frame_reader_alloc();
            vsr_err err;
            CHECK(vsr_frame_reader_convert(fr, f, rgb, &err) == VSR_OK, "%s", err.msg);
            size_t at = (size_t)(f->height / 4) * f->width + (size_t)(cases[i].yellow_x * f->width);
            double e = fmax(fabs(rgb[at] - 0.75), fmax(fabs(rgb[n + at] - 0.75), rgb[2 * n + at]));
            /* 8-bit code rounding allows about 1.5/255; a wrong matrix is off by > 0.02. */
            if (cases[i].expect_right)
                CHECK(e < 1.5 / 255, "%s %dx%d %s tag %s: yellow off by %.4f", cases[i].source,
                      f->width, f->height, av_get_pix_fmt_name(fmts[k]),
                      av_color_space_name(cases[i].tag), e);
            else
                CHECK(e > 0.02, "%s %dx%d %s: wrong matrix not detected (%.4f)", cases[i].source,
                      f->width, f->height, av_get_pix_fmt_name(fmts[k]), e);
            vsr_frame_reader_free(&fr);
            free(rgb);
            av_frame_free(&f);
        }
}

/*
 * RGB and gray sources: tree.avi (Cinepak, decodes to rgb24) is rewritten into packed,
 * planar, deep and gray layouts; reading them is a layout change, so the result is exact.
 */
static void test_rgb_sources(void)
{
    const char *path = fixture_media("tree.avi");
    FILE *probe = fopen(path, "rb");
    if (!probe) {
        printf("SKIP rgb sources: %s not found\n", path);
        return;
    }
    fclose(probe);
    const int w = 320, h = 240;
    size_t n = (size_t)w * h;
    uint8_t *raw = malloc(n * 3);
    char args[1200];
    snprintf(args, sizeof(args), "-i '%s' -pix_fmt rgb24", path);
    CHECK(run_ffmpeg(args, raw, n * 3), "cannot decode %s", path);
    const enum AVPixelFormat fmts[] = {AV_PIX_FMT_RGB24, AV_PIX_FMT_BGR24,  AV_PIX_FMT_RGBA,
                                       AV_PIX_FMT_GBRP,  AV_PIX_FMT_GBRP10, AV_PIX_FMT_RGB48,
                                       AV_PIX_FMT_GRAY8, AV_PIX_FMT_GRAY10};
    float *rgb = malloc(3 * n * sizeof(float));
    for (size_t k = 0; k < sizeof(fmts) / sizeof(fmts[0]); k++) {
        const AVPixFmtDescriptor *d = av_pix_fmt_desc_get(fmts[k]);
        int bits = d->comp[0].depth, gray = d->nb_components == 1;
        AVFrame *f = new_frame(fmts[k], w, h);
        /* Components are written by their position in the descriptor: R, G, B (, A) for RGB
         * formats, and for gray the green channel; wider codes repeat the byte's bits. */
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                const uint8_t *p = raw + ((size_t)y * w + x) * 3;
                for (int c = 0; c < (gray ? 1 : 3); c++) {
                    int v8 = gray ? p[1] : p[c];
                    int v = bits == 8 ? v8 : (v8 << (bits - 8)) | (v8 >> (16 - bits));
                    put(f, c, x, y, v);
                }
                if (d->nb_components == 4)
                    put(f, 3, x, y, 255);
            }
        vsr_frame_reader *fr = vsr_frame_reader_alloc();
        vsr_err err;
        CHECK(vsr_frame_reader_convert(fr, f, rgb, &err) == VSR_OK, "%s", err.msg);
        double max = 0;
        for (size_t i = 0; i < n; i++)
            for (int c = 0; c < 3; c++) {
                int v8 = gray ? raw[i * 3 + 1] : raw[i * 3 + c];
                double v = bits == 8 ? v8 : (v8 << (bits - 8)) | (v8 >> (16 - bits));
                max = fmax(max, fabs(rgb[c * n + i] - v / ((1 << bits) - 1)));
            }
        CHECK(max < 1e-6, "%s: off by %g", d->name, max);
        vsr_frame_reader_free(&fr);
        av_frame_free(&f);
    }
    free(raw);
    free(rgb);
}

/* pal8 from ffmpeg: every pixel must be its palette entry. */
static void test_palette(void)
{
    const int w = 64, h = 48;
    AVFrame *f = lavfi_frame("testsrc2", w, h, AV_PIX_FMT_PAL8);
    CHECK(f != NULL, "ffmpeg made no pal8 frame");
    if (!f)
        return;
    /* Raw pal8 keeps the palette after the indices; frame_from_raw copied it into data[1]. */
    size_t n = (size_t)w * h;
    float rgb[3 * 64 * 48];
    vsr_frame_reader *fr = vsr_frame_reader_alloc();
    vsr_err err;
    CHECK(vsr_frame_reader_convert(fr, f, rgb, &err) == VSR_OK, "%s", err.msg);
    double max = 0;
    const uint32_t *pal = (const uint32_t *)f->data[1];
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint32_t argb = pal[f->data[0][y * f->linesize[0] + x]];
            size_t i = (size_t)y * w + x;
            max = fmax(max, fabs(rgb[i] - ((argb >> 16) & 255) / 255.0));
            max = fmax(max, fabs(rgb[n + i] - ((argb >> 8) & 255) / 255.0));
            max = fmax(max, fabs(rgb[2 * n + i] - (argb & 255) / 255.0));
        }
    CHECK(max < 1e-6, "pal8: off by %g", max);
    vsr_frame_reader_free(&fr);
    av_frame_free(&f);
}

/* ---------------------------------------------------------------- quantise */

static uint32_t lcg(uint32_t *s)
{
    *s = *s * 1664525u + 1013904223u;
    return *s >> 8;
}

/* The definition of colour.h in double, independently. ties: set when within 1e-3 of x.5 */
static int ref_quantise(const float *rgb, int w, int h, const vsr_pixel_layout *l, int plane, int x,
                        int y, int *tie)
{
    size_t n = (size_t)w * h;
    double max = pow(2, l->bits) - 1, unit = pow(2, l->bits - 8);
    int chroma = !l->rgb && plane > 0;
    double acc[3] = {0, 0, 0};
    int xs[3] = {x, x, x}, wt[3] = {1, 0, 0};
    if (chroma && l->chroma_w_shift) {
        int cx = 2 * x;
        xs[0] = cx > 0 ? cx - 1 : 0, xs[1] = cx, xs[2] = cx + 1 < w ? cx + 1 : w - 1;
        wt[0] = 1, wt[1] = 2, wt[2] = 1;
    }
    for (int t = 0; t < 3; t++) {
        if (!wt[t])
            continue;
        for (int c = 0; c < 3; c++) {
            double v = rgb[c * n + (size_t)y * w + xs[t]];
            acc[c] += wt[t] * (isnan(v) ? 0 : clamp01(v));
        }
    }
    double wsum = wt[0] + wt[1] + wt[2];
    for (int c = 0; c < 3; c++)
        acc[c] /= wsum;
    double code;
    if (l->rgb) {
        static const int channel_of_plane[3] = {1, 2, 0}; /* G, B, R */
        code = acc[channel_of_plane[plane]] * max;
    } else {
        double yl = l->kr * acc[0] + (1 - l->kr - l->kb) * acc[1] + l->kb * acc[2];
        double c = plane == 0   ? yl
                   : plane == 1 ? (acc[2] - yl) / (2 * (1 - l->kb))
                                : (acc[0] - yl) / (2 * (1 - l->kr));
        if (plane == 0)
            code = l->full_range ? c * max : (16 + 219 * c) * unit;
        else
            code = l->full_range ? c * max + pow(2, l->bits - 1) : (128 + 224 * c) * unit;
    }
    /* Near x.5 float and double may round apart; float carries 24 bits. */
    *tie = fabs(code - floor(code) - 0.5) < 1e-3 + max * 5e-7;
    double q = floor(code + 0.5);
    return (int)(q < 0 ? 0 : q > max ? max : q);
}

static int read_code(const vsr_planes *p, int plane, int x, int y, int bits)
{
    const uint8_t *row = p->data[plane] + (size_t)y * p->linesize[plane];
    return bits > 8 ? ((const uint16_t *)row)[x] : row[x];
}

static void alloc_planes(vsr_planes *p, const vsr_pixel_layout *l, int w, int h)
{
    int bytes = l->bits > 8 ? 2 : 1;
    for (int i = 0; i < 3; i++) {
        int pw = i && !l->rgb ? (w + (1 << l->chroma_w_shift) - 1) >> l->chroma_w_shift : w;
        p->linesize[i] = pw * bytes + 6; /* padding: linesize is honoured, not assumed */
        p->data[i] = calloc((size_t)p->linesize[i] * h, 1);
    }
}

static void free_planes(vsr_planes *p)
{
    for (int i = 0; i < 3; i++)
        free(p->data[i]);
}

static void test_quantise(void)
{
    const enum AVPixelFormat fmts[] = {
        AV_PIX_FMT_YUV422P10LE, AV_PIX_FMT_YUV444P10LE, AV_PIX_FMT_YUV422P,
        AV_PIX_FMT_YUV444P,     AV_PIX_FMT_YUV422P12LE, AV_PIX_FMT_YUV444P12LE,
        AV_PIX_FMT_GBRP10LE,    AV_PIX_FMT_GBRP12LE,    AV_PIX_FMT_GBRP16LE};
    const int widths[] = {1, 2, 3, 37, 300, 513};
    uint32_t seed = 12345;
    for (size_t k = 0; k < sizeof(fmts) / sizeof(fmts[0]); k++) {
        vsr_pixel_layout l;
        CHECK(vsr_colour_layout(fmts[k], &l) == VSR_OK, "no layout for %s",
              av_get_pix_fmt_name(fmts[k]));
        const AVPixFmtDescriptor *d = av_pix_fmt_desc_get(fmts[k]);
        CHECK(l.bits == d->comp[0].depth && l.chroma_w_shift == d->log2_chroma_w &&
                  l.rgb == !!(d->flags & AV_PIX_FMT_FLAG_RGB) && l.full_range == l.rgb &&
                  l.kr == KR_709 && l.kb == KB_709,
              "layout of %s", d->name);
        for (size_t wi = 0; wi < sizeof(widths) / sizeof(widths[0]); wi++) {
            int w = widths[wi], h = 5;
            size_t n = (size_t)w * h;
            float *rgb = malloc(3 * n * sizeof(float));
            for (size_t i = 0; i < 3 * n; i++) {
                uint32_t r = lcg(&seed);
                /* Mostly in range; some below 0, above 1, exactly 0/1, and NaN. */
                switch (r % 16) {
                case 0:
                    rgb[i] = -0.25f;
                    break;
                case 1:
                    rgb[i] = 1.25f;
                    break;
                case 2:
                    rgb[i] = (float)(r & 1);
                    break;
                case 3:
                    rgb[i] = (r & 2) ? NAN : 1.0e30f;
                    break;
                default:
                    rgb[i] = (float)((r >> 4) % 100000) / 99999.0f;
                }
            }
            vsr_planes p;
            alloc_planes(&p, &l, w, h);
            /* Two row ranges cover the frame: the row variant must compose. */
            vsr_colour_quantise_rows(rgb, w, h, &l, &p, 0, 2);
            vsr_colour_quantise_rows(rgb, w, h, &l, &p, 2, h);
            int bad = 0, ties = 0, checked = 0;
            for (int plane = 0; plane < 3; plane++) {
                int pw = plane && !l.rgb ? (w + l.chroma_w_shift) >> l.chroma_w_shift : w;
                for (int y = 0; y < h; y++)
                    for (int x = 0; x < pw; x++) {
                        int tie, ref = ref_quantise(rgb, w, h, &l, plane, x, y, &tie);
                        int got = read_code(&p, plane, x, y, l.bits);
                        checked++;
                        if (got != ref && !(tie && abs(got - ref) == 1)) {
                            if (!bad)
                                fprintf(stderr, "%s w%d plane %d (%d,%d): %d, want %d\n", d->name,
                                        w, plane, x, y, got, ref);
                            bad++;
                        }
                        ties += tie;
                    }
                /* The padding after each row stays untouched. */
                int bytes = l.bits > 8 ? 2 : 1;
                CHECK(p.data[plane][pw * bytes] == 0, "%s: wrote past the row", d->name);
            }
            CHECK(bad == 0, "%s width %d: %d of %d codes differ from the reference", d->name, w,
                  bad, checked);
            free_planes(&p);
            free(rgb);
        }
    }
    vsr_pixel_layout l;
    CHECK(vsr_colour_layout(AV_PIX_FMT_YUV420P, &l) == VSR_ERROR, "yuv420p is no encoder layout");
    CHECK(vsr_colour_layout(AV_PIX_FMT_RGB24, &l) == VSR_ERROR, "rgb24 is no encoder layout");
}

/* Known codes: white, black and 100 % red in 10-bit 709 limited. */
static void test_quantise_known(void)
{
    vsr_pixel_layout l;
    vsr_colour_layout(AV_PIX_FMT_YUV444P10LE, &l);
    float rgb[9] = {1, 0, 1, 1, 0, 0, 1, 0, 0}; /* pixels: white, black, red */
    uint16_t y[3], cb[3], cr[3];
    vsr_planes p = {{(uint8_t *)y, (uint8_t *)cb, (uint8_t *)cr}, {6, 6, 6}};
    vsr_colour_quantise(rgb, 3, 1, &l, &p);
    CHECK(y[0] == 940 && cb[0] == 512 && cr[0] == 512, "white %d %d %d", y[0], cb[0], cr[0]);
    CHECK(y[1] == 64 && cb[1] == 512 && cr[1] == 512, "black %d %d %d", y[1], cb[1], cr[1]);
    /* Red: Y' 0.2126 -> 250.2, Cb -0.1146 -> 409.3, Cr 0.5 -> 960. */
    CHECK(y[2] == 250 && cb[2] == 409 && cr[2] == 960, "red %d %d %d", y[2], cb[2], cr[2]);
}

/* ---------------------------------------------------------------- round trip */

/* In-gamut colour -> 10-bit 709 limited codes, with the test's own forward math. */
static void codes_of(const double rgb[3], int code[3])
{
    double y = KR_709 * rgb[0] + (1 - KR_709 - KB_709) * rgb[1] + KB_709 * rgb[2];
    code[0] = (int)floor((16 + 219 * y) * 4 + 0.5);
    code[1] = (int)floor((128 + 224 * (rgb[2] - y) / (2 * (1 - KB_709))) * 4 + 0.5);
    code[2] = (int)floor((128 + 224 * (rgb[0] - y) / (2 * (1 - KR_709))) * 4 + 0.5);
}

static void test_round_trip(enum AVPixelFormat fmt, int block)
{
    const int w = 256, h = 64;
    const AVPixFmtDescriptor *d = av_pix_fmt_desc_get(fmt);
    AVFrame *f = new_frame(fmt, w, h);
    f->colorspace = AVCOL_SPC_BT709;
    f->color_range = AVCOL_RANGE_MPEG;
    uint32_t seed = 777;
    int *codes = malloc(sizeof(int) * 3 * w * h);
    for (int by = 0; by < h; by += block)
        for (int bx = 0; bx < w; bx += block) {
            double c[3];
            for (int i = 0; i < 3; i++)
                c[i] = (lcg(&seed) % 1001) / 1000.0;
            int code[3];
            codes_of(c, code);
            for (int y = by; y < by + block; y++)
                for (int x = bx; x < bx + block; x++) {
                    memcpy(codes + 3 * (y * w + x), code, sizeof(code));
                    put(f, 0, x, y, code[0]);
                    if (!(x & ((1 << d->log2_chroma_w) - 1))) {
                        put(f, 1, x >> d->log2_chroma_w, y, code[1]);
                        put(f, 2, x >> d->log2_chroma_w, y, code[2]);
                    }
                }
        }
    size_t n = (size_t)w * h;
    float *rgb = malloc(3 * n * sizeof(float));
    vsr_frame_reader *fr = vsr_frame_reader_alloc();
    vsr_err err;
    CHECK(vsr_frame_reader_convert(fr, f, rgb, &err) == VSR_OK, "%s", err.msg);
    vsr_pixel_layout l;
    vsr_colour_layout(fmt, &l);
    AVFrame *o = new_frame(fmt, w, h);
    vsr_planes p = {{o->data[0], o->data[1], o->data[2]},
                    {o->linesize[0], o->linesize[1], o->linesize[2]}};
    vsr_colour_quantise(rgb, w, h, &l, &p);
    int worst = 0;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            /* 4:2:2 is only flat 4 samples from block edges: the reader's Catmull-Rom
             * reaches 3 luma samples for odd x, the quantiser's [1 2 1] one more. */
            int bx = x % block;
            if (block > 1 && (bx < 4 || bx > block - 5))
                continue;
            for (int c = 0; c < 3; c++) {
                if (c && (x & ((1 << d->log2_chroma_w) - 1)))
                    continue;
                int got = read_code(&p, c, c ? x >> d->log2_chroma_w : x, y, 10);
                worst = abs(got - codes[3 * (y * w + x) + c]) > worst
                            ? abs(got - codes[3 * (y * w + x) + c])
                            : worst;
            }
        }
    CHECK(worst <= 1, "%s round trip off by %d codes", d->name, worst);
    printf("round trip %s (%s): worst %d code\n", d->name, block > 1 ? "flat blocks" : "per pixel",
           worst);
    vsr_frame_reader_free(&fr);
    av_frame_free(&o);
    av_frame_free(&f);
    free(rgb);
    free(codes);
}

/* ---------------------------------------------------------------- errors */

static void test_errors(void)
{
    AVFrame *f = new_frame(AV_PIX_FMT_YUV420P, 16, 16);
    f->colorspace = AVCOL_SPC_YCGCO;
    float rgb[3 * 16 * 16];
    vsr_frame_reader *fr = vsr_frame_reader_alloc();
    vsr_err err = {{0}};
    CHECK(vsr_frame_reader_convert(fr, f, rgb, &err) == VSR_ERROR, "YCgCo is not supported");
    CHECK(strstr(err.msg, "ycgco") != NULL, "message names the matrix: %s", err.msg);
    av_frame_free(&f);
    f = new_frame(AV_PIX_FMT_GBRPF32, 16, 16);
    CHECK(vsr_frame_reader_convert(fr, f, rgb, &err) == VSR_ERROR, "float input refused");
    CHECK(strstr(err.msg, "gbrpf32") != NULL, "message names the format: %s", err.msg);
    vsr_frame_reader_free(&fr);
    av_frame_free(&f);
}

int main(void)
{
    test_synthetic();
    test_white_black();
    test_lavfi_bars();
    test_rgb_sources();
    test_palette();
    test_quantise();
    test_quantise_known();
    test_round_trip(AV_PIX_FMT_YUV444P10LE, 1);
    test_round_trip(AV_PIX_FMT_YUV422P10LE, 16);
    test_errors();
    return check_summary();
}
