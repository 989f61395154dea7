/*
 * The codec table against FFmpeg's own: profile numbers must equal the encoders' named
 * option constants, every pixel format must be one the encoder lists, and invalid
 * choices must fail with a message naming the value and the valid ones.
 */
#include <libavcodec/avcodec.h>
#include <libavutil/opt.h>
#include <libavutil/pixdesc.h>
#include <string.h>

#include "check.h"
#include "codecs.h"
#include "compat.h"

/* The value of the encoder's named constant for its private "profile" option. */
static int encoder_profile(const char *encoder, const char *constant)
{
    const AVCodec *codec = avcodec_find_encoder_by_name(encoder);
    const AVClass *cls = codec ? codec->priv_class : NULL;
    const AVOption *o =
        cls ? av_opt_find(&cls, constant, "profile", 0, AV_OPT_SEARCH_FAKE_OBJ) : NULL;
    return o ? (int)o->default_val.i64 : -100;
}

static int encoder_takes(const char *encoder, enum AVPixelFormat fmt)
{
    const AVCodec *codec = avcodec_find_encoder_by_name(encoder);
    for (const enum AVPixelFormat *p = codec ? vsr_encoder_pix_fmts(codec) : NULL; p && *p != -1;
         p++)
        if (*p == fmt)
            return 1;
    return 0;
}

typedef struct valid_case {
    const char *path, *codec, *profile, *pix_fmt;
    const char *encoder, *encoder_constant; /* constant NULL: ffv1 */
    const char *expect_pix_fmt, *expect_profile_name;
} valid_case;

static void check_valid(const valid_case *c)
{
    vsr_output_format f;
    vsr_err err = {""};
    enum vsr_codec codec = c->codec ? vsr_codec_from_name(c->codec) : VSR_CODEC_NONE;
    int ret = vsr_output_format_resolve(c->path, codec, c->profile, c->pix_fmt, &f, &err);
    CHECK(ret == 0, "%s %s %s: %s", c->path, c->profile, c->pix_fmt, err.msg);
    if (ret)
        return;
    const char *fmt = av_get_pix_fmt_name(f.pix_fmt);
    CHECK(fmt && !strcmp(fmt, c->expect_pix_fmt), "%s: pix_fmt %s, expected %s", c->path, fmt,
          c->expect_pix_fmt);
    CHECK(encoder_takes(c->encoder, f.pix_fmt), "%s does not take %s", c->encoder, fmt);
    if (c->encoder_constant)
        CHECK(f.profile == encoder_profile(c->encoder, c->encoder_constant),
              "%s: profile %d, %s says %s = %d", c->path, f.profile, c->encoder,
              c->encoder_constant, encoder_profile(c->encoder, c->encoder_constant));
    CHECK(!strcmp(vsr_output_profile_name(&f), c->expect_profile_name), "profile name %s vs %s",
          vsr_output_profile_name(&f), c->expect_profile_name);
}

/* The FFV1 encoder itself must accept the slice count chosen for the frame (it checks the
 * grid at open, before any frame is encoded). */
static void check_ffv1_slices(int width, int height, enum AVPixelFormat fmt, int at_least)
{
    const int slices = vsr_ffv1_slices(width, height, fmt);
    CHECK(slices >= at_least, "%dx%d %s: %d slices, want >= %d", width, height,
          av_get_pix_fmt_name(fmt), slices, at_least);
    AVCodecContext *c = avcodec_alloc_context3(avcodec_find_encoder(AV_CODEC_ID_FFV1));
    c->width = width;
    c->height = height;
    c->pix_fmt = fmt;
    c->time_base = (AVRational){1, 25};
    c->level = 3;
    c->slices = slices;
    const int ret = avcodec_open2(c, c->codec, NULL);
    CHECK(ret == 0, "ffv1 refuses %d slices for %dx%d %s", slices, width, height,
          av_get_pix_fmt_name(fmt));
    avcodec_free_context(&c);
}

static void test_ffv1_slices(void)
{
    static const enum AVPixelFormat fmts[] = {AV_PIX_FMT_YUV444P10LE, AV_PIX_FMT_YUV422P10LE,
                                              AV_PIX_FMT_YUV444P12LE, AV_PIX_FMT_GBRP10LE,
                                              AV_PIX_FMT_GBRP16LE};
    /* Frames 1 wide or high but taller or wider than 288 or 352 have no slice grid at all. */
    static const int sizes[][3] = {
        /* width, height, fewest slices expected */
        {1, 1, 1}, {2, 2, 1},      {3, 5, 1},        {4, 4, 4},        {8, 8, 4},
        {6, 5, 4}, {720, 576, 16}, {1920, 1080, 24}, {7680, 4320, 24}, {15360, 8640, 24},
    };
    for (size_t f = 0; f < sizeof(fmts) / sizeof(fmts[0]); f++)
        for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
            check_ffv1_slices(sizes[i][0], sizes[i][1], fmts[f], sizes[i][2]);
}

/* Must fail, and the message must contain every one of `words`. */
static void check_invalid(const char *path, const char *codec, const char *profile,
                          const char *pix_fmt, const char *const *words)
{
    vsr_output_format f;
    vsr_err err = {""};
    enum vsr_codec c = codec ? vsr_codec_from_name(codec) : VSR_CODEC_NONE;
    int ret = vsr_output_format_resolve(path, c, profile, pix_fmt, &f, &err);
    CHECK(ret < 0, "%s %s %s %s accepted", path, codec, profile, pix_fmt);
    for (; *words; words++)
        CHECK(strstr(err.msg, *words), "message '%s' lacks '%s'", err.msg, *words);
}

int main(void)
{
    CHECK(vsr_codec_for_path("a/b.c/film.mov") == VSR_CODEC_PRORES, "mov");
    CHECK(vsr_codec_for_path("film.MKV") == VSR_CODEC_FFV1, "mkv");
    CHECK(vsr_codec_for_path("film.mxf") == VSR_CODEC_DNXHR, "mxf");
    CHECK(vsr_codec_for_path("film.mp4") == VSR_CODEC_NONE, "mp4");
    CHECK(vsr_codec_for_path("dir.mov/film") == VSR_CODEC_NONE, "no extension");
    CHECK(vsr_codec_from_name("ProRes") == VSR_CODEC_PRORES, "name");
    CHECK(vsr_codec_from_name("h264") == VSR_CODEC_NONE, "unknown name");
    CHECK(!strcmp(vsr_codec_name(VSR_CODEC_DNXHR), "dnxhr"), "dnxhr name");

    static const valid_case valid[] = {
        {"x.mov", NULL, NULL, NULL, "prores_ks", "hq", "yuv422p10le", "hq"},
        {"x.mov", "prores", "proxy", NULL, "prores_ks", "proxy", "yuv422p10le", "proxy"},
        {"x.mov", "prores", "lt", NULL, "prores_ks", "lt", "yuv422p10le", "lt"},
        {"x.mov", "prores", "standard", NULL, "prores_ks", "standard", "yuv422p10le", "standard"},
        {"x.mov", "prores", "4444", NULL, "prores_ks", "4444", "yuv444p10le", "4444"},
        {"x.mov", "prores", "4444xq", NULL, "prores_ks", "4444xq", "yuv444p10le", "4444xq"},
        /* A 4:4:4 pixel format without a profile means ProRes 4444. */
        {"x.mov", "prores", NULL, "yuv444p10le", "prores_ks", "4444", "yuv444p10le", "4444"},
        {"x.mxf", "prores", NULL, NULL, "prores_ks", "hq", "yuv422p10le", "hq"},
        {"x.mkv", NULL, NULL, NULL, "ffv1", NULL, "yuv444p10le", ""},
        {"x.mkv", "ffv1", NULL, "gbrp16le", "ffv1", NULL, "gbrp16le", ""},
        {"x.mkv", "ffv1", NULL, "yuv422p10le", "ffv1", NULL, "yuv422p10le", ""},
        {"x.mkv", "ffv1", NULL, "yuv444p12le", "ffv1", NULL, "yuv444p12le", ""},
        {"x.mov", "ffv1", NULL, "gbrp10le", "ffv1", NULL, "gbrp10le", ""},
        {"x.mxf", NULL, NULL, NULL, "dnxhd", "dnxhr_hqx", "yuv422p10le", "hqx"},
        {"x.mov", "dnxhr", "lb", NULL, "dnxhd", "dnxhr_lb", "yuv422p", "lb"},
        {"x.mov", "dnxhr", "sq", NULL, "dnxhd", "dnxhr_sq", "yuv422p", "sq"},
        {"x.mkv", "dnxhr", "hq", NULL, "dnxhd", "dnxhr_hq", "yuv422p", "hq"},
        {"x.mxf", "dnxhr", "444", NULL, "dnxhd", "dnxhr_444", "yuv444p10le", "444"},
    };
    for (size_t i = 0; i < sizeof(valid) / sizeof(valid[0]); i++)
        check_valid(&valid[i]);

    check_invalid("x.mp4", NULL, NULL, NULL,
                  (const char *[]){"x.mp4", ".mov, .mkv or .mxf", "-o x.mov", NULL});
    check_invalid("x.avi", "prores", NULL, NULL, (const char *[]){".avi", ".mov", NULL});
    check_invalid("x.mxf", "ffv1", NULL, NULL, (const char *[]){"MXF", "ffv1", "-o x.mkv", NULL});
    check_invalid("x.mov", "prores", "ultra", NULL,
                  (const char *[]){"'ultra'", "proxy, lt, standard, hq, 4444, 4444xq", NULL});
    check_invalid("x.mov", "prores", "hq", "yuv444p10le",
                  (const char *[]){"hq", "yuv444p10le", "valid: yuv422p10le", NULL});
    check_invalid("x.mov", "prores", NULL, "yuv420p",
                  (const char *[]){"yuv420p", "valid: yuv422p10le", NULL});
    check_invalid("x.mov", "prores", NULL, "nosuchfmt", (const char *[]){"'nosuchfmt'", NULL});
    check_invalid("x.mkv", "ffv1", "hq", NULL, (const char *[]){"ffv1", "'hq'", NULL});
    check_invalid("x.mkv", "ffv1", NULL, "rgb24",
                  (const char *[]){"rgb24", "yuv444p10le", "gbrp16le", NULL});
    check_invalid("x.mxf", "dnxhr", "hqx", "yuv422p",
                  (const char *[]){"hqx", "yuv422p", "valid: yuv422p10le", NULL});
    check_invalid("x.mxf", "dnxhr", "dnxhd", NULL,
                  (const char *[]){"'dnxhd'", "lb, sq, hq, hqx, 444", NULL});
    test_ffv1_slices();
    return check_summary();
}
