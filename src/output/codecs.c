/*
 * The output codec table: which profiles and pixel formats each codec offers, their
 * defaults, and which containers can hold them. Everything the CLI validates and the
 * writer configures comes from these tables.
 */
#include "codecs.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <libavutil/common.h>
#include <libavutil/pixdesc.h>

#include "compat.h"

#define MAX_PIX_FMTS 6

typedef struct profile_entry {
    const char *name; /* NULL for codecs without profiles (ffv1) */
    int number;       /* FFmpeg's profile number */
    /* The first one is the default; terminated by AV_PIX_FMT_NONE. */
    enum AVPixelFormat pix_fmts[MAX_PIX_FMTS];
} profile_entry;

typedef struct codec_entry {
    enum vsr_codec codec;
    const char *name;
    const char *extension; /* the container this codec is the default for */
    const profile_entry *profiles;
    int nb_profiles;
    int default_profile; /* index into profiles */
} codec_entry;

#define YUV422_10 AV_PIX_FMT_YUV422P10LE
#define YUV444_10 AV_PIX_FMT_YUV444P10LE

/* prores_ks takes its chroma format from the pixel format, not the profile, so each
 * profile lists only the pixel format it is defined for. */
static const profile_entry prores_profiles[] = {
    {"proxy", VSR_PROFILE_PRORES_PROXY, {YUV422_10, AV_PIX_FMT_NONE}},
    {"lt", VSR_PROFILE_PRORES_LT, {YUV422_10, AV_PIX_FMT_NONE}},
    {"standard", VSR_PROFILE_PRORES_STANDARD, {YUV422_10, AV_PIX_FMT_NONE}},
    {"hq", VSR_PROFILE_PRORES_HQ, {YUV422_10, AV_PIX_FMT_NONE}},
    {"4444", VSR_PROFILE_PRORES_4444, {YUV444_10, AV_PIX_FMT_NONE}},
    {"4444xq", VSR_PROFILE_PRORES_XQ, {YUV444_10, AV_PIX_FMT_NONE}},
};

static const profile_entry ffv1_profiles[] = {
    {NULL,
     0,
     {YUV444_10, YUV422_10, AV_PIX_FMT_YUV444P12LE, AV_PIX_FMT_GBRP10LE, AV_PIX_FMT_GBRP16LE,
      AV_PIX_FMT_NONE}},
};

/* dnxhd refuses any other pairing (LB/SQ/HQ are 8-bit 4:2:2 by definition). */
static const profile_entry dnxhr_profiles[] = {
    {"lb", VSR_PROFILE_DNXHR_LB, {AV_PIX_FMT_YUV422P, AV_PIX_FMT_NONE}},
    {"sq", VSR_PROFILE_DNXHR_SQ, {AV_PIX_FMT_YUV422P, AV_PIX_FMT_NONE}},
    {"hq", VSR_PROFILE_DNXHR_HQ, {AV_PIX_FMT_YUV422P, AV_PIX_FMT_NONE}},
    {"hqx", VSR_PROFILE_DNXHR_HQX, {YUV422_10, AV_PIX_FMT_NONE}},
    {"444", VSR_PROFILE_DNXHR_444, {YUV444_10, AV_PIX_FMT_NONE}},
};

#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

static const codec_entry codecs[] = {
    {VSR_CODEC_PRORES, "prores", ".mov", prores_profiles, COUNT(prores_profiles), 3},
    {VSR_CODEC_FFV1, "ffv1", ".mkv", ffv1_profiles, COUNT(ffv1_profiles), 0},
    {VSR_CODEC_DNXHR, "dnxhr", ".mxf", dnxhr_profiles, COUNT(dnxhr_profiles), 3},
};

static const char *const supported_extensions = ".mov, .mkv or .mxf";

static const codec_entry *codec_lookup(enum vsr_codec codec)
{
    for (int i = 0; i < COUNT(codecs); i++)
        if (codecs[i].codec == codec)
            return &codecs[i];
    return NULL;
}

enum vsr_codec vsr_codec_from_name(const char *name)
{
    for (int i = 0; name && i < COUNT(codecs); i++)
        if (!strcasecmp(name, codecs[i].name))
            return codecs[i].codec;
    return VSR_CODEC_NONE;
}

const char *vsr_codec_name(enum vsr_codec codec)
{
    const codec_entry *c = codec_lookup(codec);
    return c ? c->name : "none";
}

static const char *path_extension(const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *dot = strrchr(path, '.');
    return dot && (!slash || dot > slash) ? dot : "";
}

const char *vsr_codec_extension(enum vsr_codec codec)
{
    const codec_entry *c = codec_lookup(codec);
    return c ? c->extension : NULL;
}

enum vsr_codec vsr_codec_for_path(const char *path)
{
    const char *ext = path_extension(path);
    for (int i = 0; i < COUNT(codecs); i++)
        if (!strcasecmp(ext, codecs[i].extension))
            return codecs[i].codec;
    return VSR_CODEC_NONE;
}

static const char *pix_fmt_name(enum AVPixelFormat fmt)
{
    const char *name = av_get_pix_fmt_name(fmt);
    return name ? name : "?";
}

/* "a, b, c" into buf; for error messages. */
static void list_profiles(const codec_entry *c, char *buf, size_t size)
{
    buf[0] = '\0';
    for (int i = 0; i < c->nb_profiles; i++)
        snprintf(buf + strlen(buf), size - strlen(buf), "%s%s", i ? ", " : "", c->profiles[i].name);
}

static void list_pix_fmts(const profile_entry *p, char *buf, size_t size)
{
    buf[0] = '\0';
    for (int i = 0; p->pix_fmts[i] != AV_PIX_FMT_NONE; i++)
        snprintf(buf + strlen(buf), size - strlen(buf), "%s%s", i ? ", " : "",
                 pix_fmt_name(p->pix_fmts[i]));
}

static int profile_takes(const profile_entry *p, enum AVPixelFormat fmt)
{
    for (int i = 0; p->pix_fmts[i] != AV_PIX_FMT_NONE; i++)
        if (p->pix_fmts[i] == fmt)
            return 1;
    return 0;
}

static const profile_entry *find_profile(const codec_entry *c, const char *name)
{
    for (int i = 0; i < c->nb_profiles; i++)
        if (c->profiles[i].name && !strcasecmp(name, c->profiles[i].name))
            return &c->profiles[i];
    return NULL;
}

/* Without an explicit profile: the default one, unless only another takes the pixel
 * format asked for (e.g. prores with yuv444p10le means 4444). */
static const profile_entry *default_profile(const codec_entry *c, enum AVPixelFormat fmt)
{
    const profile_entry *def = &c->profiles[c->default_profile];
    if (fmt == AV_PIX_FMT_NONE || profile_takes(def, fmt))
        return def;
    for (int i = 0; i < c->nb_profiles; i++)
        if (profile_takes(&c->profiles[i], fmt))
            return &c->profiles[i];
    return def;
}

int vsr_output_container_check(const char *path, enum vsr_codec codec, vsr_err *err)
{
    const char *ext = path_extension(path);
    if (vsr_codec_for_path(path) == VSR_CODEC_NONE) {
        /* -c cannot help here: every codec is written in one of these containers */
        const char *fit = vsr_codec_extension(codec ? codec : VSR_CODEC_PRORES);
        vsr_err_set(err, "%s: vsrup writes only %s files: e.g. -o %.*s%s", path,
                    supported_extensions, (int)(ext - path), path, fit);
        return VSR_ERROR;
    }
    /* MXF has no FFV1 essence mapping in the FFmpeg versions we support. */
    if (!strcasecmp(ext, ".mxf") && codec == VSR_CODEC_FFV1) {
        vsr_err_set(err, "%s: MXF cannot hold ffv1: e.g. -o %.*s.mkv, or -c prores|dnxhr", path,
                    (int)(ext - path), path);
        return VSR_ERROR;
    }
    return VSR_OK;
}

int vsr_output_format_resolve(const char *path, enum vsr_codec codec, const char *profile,
                              const char *pix_fmt, vsr_output_format *format, vsr_err *err)
{
    char valid[256];
    if (codec == VSR_CODEC_NONE)
        codec = vsr_codec_for_path(path);
    if (vsr_output_container_check(path, codec, err) < 0)
        return VSR_ERROR;
    const codec_entry *c = codec_lookup(codec);
    if (!c) {
        vsr_err_set(err, "unknown codec; valid: prores, ffv1, dnxhr");
        return VSR_ERROR;
    }

    enum AVPixelFormat fmt = AV_PIX_FMT_NONE;
    if (pix_fmt) {
        fmt = av_get_pix_fmt(pix_fmt);
        if (fmt == AV_PIX_FMT_NONE) {
            vsr_err_set(err, "unknown pixel format '%s'", pix_fmt);
            return VSR_ERROR;
        }
    }

    const profile_entry *p;
    if (profile && !c->profiles[0].name) {
        vsr_err_set(err, "%s has no profiles (got '%s'); choose a pixel format instead", c->name,
                    profile);
        return VSR_ERROR;
    } else if (profile) {
        p = find_profile(c, profile);
        if (!p) {
            list_profiles(c, valid, sizeof(valid));
            vsr_err_set(err, "unknown %s profile '%s'; valid: %s", c->name, profile, valid);
            return VSR_ERROR;
        }
    } else {
        p = default_profile(c, fmt);
    }

    if (fmt != AV_PIX_FMT_NONE && !profile_takes(p, fmt)) {
        list_pix_fmts(p, valid, sizeof(valid));
        if (p->name)
            vsr_err_set(err, "%s profile %s cannot take pixel format '%s'; valid: %s", c->name,
                        p->name, pix_fmt, valid);
        else
            vsr_err_set(err, "%s cannot take pixel format '%s'; valid: %s", c->name, pix_fmt,
                        valid);
        return VSR_ERROR;
    }

    format->codec = codec;
    format->profile = p->number;
    format->pix_fmt = fmt != AV_PIX_FMT_NONE ? fmt : p->pix_fmts[0];
    return VSR_OK;
}

const char *vsr_output_profile_name(const vsr_output_format *format)
{
    const codec_entry *c = codec_lookup(format->codec);
    if (!c || !c->profiles[0].name)
        return "";
    for (int i = 0; i < c->nb_profiles; i++)
        if (c->profiles[i].number == format->profile)
            return c->profiles[i].name;
    return "";
}

/* One FFV1 slice grid: ffv1enc.c (encode_init) accepts v rows by h columns, v <= h < 2v, v
 * from 2 on frames over 352x288, each slice at least one chroma sample each way (measured on
 * 5.1: a 3-wide 4:2:2 frame takes one column, a 1-wide one too) and under a bound of 8 << 24 on
 * width * height * (bits + 1) * planes. */
static int ffv1_grid_ok(int width, int height, const AVPixFmtDescriptor *d, int v, int h)
{
    if (h > FFMAX(1, width >> d->log2_chroma_w) || v > FFMAX(1, height >> d->log2_chroma_h))
        return 0;
    const int64_t slice_w = (width + h - 1) / h, slice_h = (height + v - 1) / v;
    return slice_w * slice_h * (d->comp[0].depth + 1) * d->nb_components <= 8 << 24;
}

int vsr_ffv1_slices(int width, int height, enum AVPixelFormat pix_fmt)
{
    const AVPixFmtDescriptor *d = av_pix_fmt_desc_get(pix_fmt);
    const int64_t area = (int64_t)width * height;
    const int want = area >= 1920 * 1080 ? 24 : area >= 640 * 360 ? 16 : 4;
    int above = 0, below = 0; /* the fewest valid slices >= want, the most < want */
    for (int v = width > 352 || height > 288 ? 2 : 1; d && v < 32; v++) {
        for (int h = v; h < 2 * v; h++) {
            const int n = v * h;
            if (!ffv1_grid_ok(width, height, d, v, h))
                continue;
            if (n >= want && (!above || n < above))
                above = n;
            if (n < want && n > below)
                below = n;
        }
    }
    return above ? above : below; /* 0 leaves the choice to the encoder */
}
