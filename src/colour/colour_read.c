/*
 * Decoded frame -> planar float R'G'B'. libswscale only changes the layout (chroma
 * upsampling to 4:4:4, unpacking, palettes); the matrix and the range are applied here,
 * because swscale defaults to BT.601 and scales deep RGB by 255*256 (notes/apis.md C2).
 *
 * Working formats and how their codes are normalised:
 *  - YUV -> yuv444p16. With source and destination range both declared limited, swscale
 *    (5.1, measured) widens N-bit codes as code << (16 - N), so 8-bit 235 and 10-bit 940
 *    both become 60160 and limited range is N-independent: Y' = (v - 4096) / 56064.
 *    Chroma is interpolated with Catmull-Rom (bicubic B=0, C=0.5), which reproduces
 *    linear ramps and leaves flat areas exact.
 *  - RGB -> gbrp at the source depth (8 for shallower ones): no depth change, because
 *    swscale widens deep RGB inexactly (10-bit 1023 -> 65473).
 *  - palette: looked up here; swscale's pal8 -> gbrp is off by one in places.
 *  - gray -> gray at the source depth; R = G = B.
 */
#include "colour.h"

#include <libavutil/opt.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>
#include <stdlib.h>
#include <string.h>

enum read_kind { READ_YUV, READ_RGB, READ_GRAY, READ_PALETTE };

struct vsr_frame_reader {
    /* What the cached state below was built for. */
    int width, height;
    enum AVPixelFormat format;
    enum AVChromaLocation chroma_location;

    enum read_kind kind;
    enum AVPixelFormat work_format;
    int work_bits;          /* depth of the working format's samples */
    struct SwsContext *sws; /* NULL when frames already come in the working format */
    AVFrame *work;          /* owned buffer in the working format, when sws is set */
};

/* (v - offset) / divisor: one code value to a normalised float. Dividing (not multiplying
 * by a reciprocal) makes white exactly 1 and black exactly 0. */
typedef struct linear_map {
    float offset, divisor;
} linear_map;

vsr_frame_reader *vsr_frame_reader_alloc(void)
{
    vsr_frame_reader *fr = calloc(1, sizeof(*fr));
    if (fr)
        fr->format = AV_PIX_FMT_NONE;
    return fr;
}

static void reader_reset(vsr_frame_reader *fr)
{
    sws_freeContext(fr->sws);
    fr->sws = NULL;
    av_frame_free(&fr->work);
    fr->format = AV_PIX_FMT_NONE;
}

void vsr_frame_reader_free(vsr_frame_reader **fr)
{
    if (!*fr)
        return;
    reader_reset(*fr);
    free(*fr);
    *fr = NULL;
}

/* yuvj* formats are yuv* with a range flag; giving swscale the plain twin keeps it from
 * applying a range change and from warning about deprecated formats. */
static enum AVPixelFormat layout_twin(enum AVPixelFormat fmt)
{
    switch (fmt) {
    case AV_PIX_FMT_YUVJ411P:
        return AV_PIX_FMT_YUV411P;
    case AV_PIX_FMT_YUVJ420P:
        return AV_PIX_FMT_YUV420P;
    case AV_PIX_FMT_YUVJ422P:
        return AV_PIX_FMT_YUV422P;
    case AV_PIX_FMT_YUVJ440P:
        return AV_PIX_FMT_YUV440P;
    case AV_PIX_FMT_YUVJ444P:
        return AV_PIX_FMT_YUV444P;
    default:
        return fmt;
    }
}

static enum AVPixelFormat planar_rgb_format(int bits)
{
    switch (bits) {
    case 9:
        return AV_PIX_FMT_GBRP9;
    case 10:
        return AV_PIX_FMT_GBRP10;
    case 12:
        return AV_PIX_FMT_GBRP12;
    case 14:
        return AV_PIX_FMT_GBRP14;
    case 16:
        return AV_PIX_FMT_GBRP16;
    default:
        return bits <= 8 ? AV_PIX_FMT_GBRP : AV_PIX_FMT_NONE;
    }
}

static enum AVPixelFormat gray_format(int bits)
{
    switch (bits) {
    case 9:
        return AV_PIX_FMT_GRAY9;
    case 10:
        return AV_PIX_FMT_GRAY10;
    case 12:
        return AV_PIX_FMT_GRAY12;
    case 14:
        return AV_PIX_FMT_GRAY14;
    case 16:
        return AV_PIX_FMT_GRAY16;
    default:
        return bits <= 8 ? AV_PIX_FMT_GRAY8 : AV_PIX_FMT_NONE;
    }
}

/* Chroma sample position in 1/256 luma pixel, as swscale's src_*_chr_pos options take it.
 * Unspecified 4:2:0 is taken as left-sited (MPEG-2, H.264, HEVC default). A direction
 * that is not subsampled must be 0, or swscale shifts it. */
static void chroma_position(enum AVChromaLocation loc, const AVPixFmtDescriptor *desc, int *x,
                            int *y)
{
    int left = loc != AVCHROMA_LOC_CENTER && loc != AVCHROMA_LOC_TOP && loc != AVCHROMA_LOC_BOTTOM;
    int row = loc == AVCHROMA_LOC_TOPLEFT || loc == AVCHROMA_LOC_TOP         ? 0
              : loc == AVCHROMA_LOC_BOTTOMLEFT || loc == AVCHROMA_LOC_BOTTOM ? 256
                                                                             : 128;
    *x = desc->log2_chroma_w ? (left ? 0 : 128) : 0;
    *y = desc->log2_chroma_h ? row : 0;
}

static int reader_setup(vsr_frame_reader *fr, const AVFrame *frame, vsr_err *err)
{
    const AVPixFmtDescriptor *desc = av_pix_fmt_desc_get(frame->format);
    const char *name = desc ? desc->name : "unknown";
    reader_reset(fr);
    if (!desc ||
        (desc->flags & (AV_PIX_FMT_FLAG_HWACCEL | AV_PIX_FMT_FLAG_BAYER | AV_PIX_FMT_FLAG_FLOAT))) {
        vsr_err_set(err, "colour: cannot read frames in pixel format %s", name);
        return VSR_ERROR;
    }
    int bits = desc->comp[0].depth;
    if (frame->format == AV_PIX_FMT_PAL8) {
        fr->kind = READ_PALETTE;
        fr->work_format = AV_PIX_FMT_PAL8;
    } else if (desc->flags & (AV_PIX_FMT_FLAG_RGB | AV_PIX_FMT_FLAG_PAL)) {
        fr->kind = READ_RGB;
        fr->work_format = planar_rgb_format(bits);
    } else if (desc->nb_components <= 2) {
        fr->kind = READ_GRAY;
        fr->work_format = gray_format(bits);
    } else {
        fr->kind = READ_YUV;
        fr->work_format = AV_PIX_FMT_YUV444P16;
    }
    if (fr->work_format == AV_PIX_FMT_NONE) {
        vsr_err_set(err, "colour: cannot read %d-bit pixel format %s", bits, name);
        return VSR_ERROR;
    }
    fr->work_bits = av_pix_fmt_desc_get(fr->work_format)->comp[0].depth;

    if (frame->format != fr->work_format) {
        enum AVPixelFormat src = layout_twin(frame->format);
        int cx, cy;
        chroma_position(frame->chroma_location, desc, &cx, &cy);
        fr->sws = sws_alloc_context();
        fr->work = av_frame_alloc();
        if (!fr->sws || !fr->work)
            goto oom;
        /* Catmull-Rom: bicubic with B = 0, C = 0.5 reproduces linear ramps exactly. */
        av_opt_set_int(fr->sws, "srcw", frame->width, 0);
        av_opt_set_int(fr->sws, "srch", frame->height, 0);
        av_opt_set_int(fr->sws, "src_format", src, 0);
        av_opt_set_int(fr->sws, "dstw", frame->width, 0);
        av_opt_set_int(fr->sws, "dsth", frame->height, 0);
        av_opt_set_int(fr->sws, "dst_format", fr->work_format, 0);
        av_opt_set_int(fr->sws, "sws_flags", SWS_BICUBIC | SWS_FULL_CHR_H_INT | SWS_ACCURATE_RND,
                       0);
        av_opt_set_double(fr->sws, "param0", 0.0, 0);
        av_opt_set_double(fr->sws, "param1", 0.5, 0);
        av_opt_set_int(fr->sws, "src_h_chr_pos", cx, 0);
        av_opt_set_int(fr->sws, "src_v_chr_pos", cy, 0);
        if (sws_init_context(fr->sws, NULL, NULL) < 0) {
            vsr_err_set(err, "colour: swscale cannot convert %s to %s", name,
                        av_get_pix_fmt_name(fr->work_format));
            reader_reset(fr);
            return VSR_ERROR;
        }
        /* Same matrix and range on both sides: swscale must not touch the values. */
        const int *table = sws_getCoefficients(SWS_CS_DEFAULT);
        if (fr->kind != READ_RGB &&
            sws_setColorspaceDetails(fr->sws, table, 0, table, 0, 0, 1 << 16, 1 << 16) < 0) {
            vsr_err_set(err, "colour: swscale refuses plain range for %s", name);
            reader_reset(fr);
            return VSR_ERROR;
        }
        fr->work->format = fr->work_format;
        fr->work->width = frame->width;
        fr->work->height = frame->height;
        if (av_frame_get_buffer(fr->work, 0) < 0)
            goto oom;
    }
    fr->width = frame->width;
    fr->height = frame->height;
    fr->format = frame->format;
    fr->chroma_location = frame->chroma_location;
    return VSR_OK;
oom:
    reader_reset(fr);
    vsr_err_set(err, "colour: out of memory for a %dx%d %s frame reader", frame->width,
                frame->height, name);
    return VSR_ERROR;
}

/* Maps NaN to 0 as well: comparisons with NaN are false. */
static inline float clamp01(float v)
{
    v = v > 0.0f ? v : 0.0f;
    return v < 1.0f ? v : 1.0f;
}

/* One plane of 8- or 16-bit codes to clamped floats through a linear map. */
static void plane_to_float(const uint8_t *src, int linesize, int bits, int w, int h, linear_map m,
                           float *dst)
{
    for (int y = 0; y < h; y++, src += linesize, dst += w) {
        if (bits > 8) {
            const uint16_t *s = (const uint16_t *)src;
            for (int x = 0; x < w; x++)
                dst[x] = clamp01((s[x] - m.offset) / m.divisor);
        } else {
            for (int x = 0; x < w; x++)
                dst[x] = clamp01((src[x] - m.offset) / m.divisor);
        }
    }
}

/* Maps of a 16-bit working sample v = code << (16 - bits) to Y' in [0,1], C in [-.5,.5]. */
static void yuv_maps(vsr_source_colour sc, linear_map *luma, linear_map *chroma)
{
    if (sc.range == AVCOL_RANGE_JPEG) {
        double full = ((1 << sc.bits) - 1) * (double)(1 << (16 - sc.bits));
        *luma = (linear_map){0.0f, (float)full};
        *chroma = (linear_map){32768.0f, (float)full};
    } else {
        *luma = (linear_map){16 * 256, 219 * 256};
        *chroma = (linear_map){128 * 256, 224 * 256};
    }
}

static void yuv_to_rgb(const AVFrame *f, linear_map lm, linear_map cm, double kr, double kb,
                       float *rgb)
{
    size_t n = (size_t)f->width * f->height;
    float *r = rgb, *g = rgb + n, *b = rgb + 2 * n;
    double kg = 1.0 - kr - kb;
    const float r_cr = (float)(2.0 * (1.0 - kr)), b_cb = (float)(2.0 * (1.0 - kb));
    const float g_cb = (float)(-2.0 * (1.0 - kb) * kb / kg);
    const float g_cr = (float)(-2.0 * (1.0 - kr) * kr / kg);
    for (int y = 0; y < f->height; y++) {
        const uint16_t *ys = (const uint16_t *)(f->data[0] + (size_t)y * f->linesize[0]);
        const uint16_t *us = (const uint16_t *)(f->data[1] + (size_t)y * f->linesize[1]);
        const uint16_t *vs = (const uint16_t *)(f->data[2] + (size_t)y * f->linesize[2]);
        size_t o = (size_t)y * f->width;
        for (int x = 0; x < f->width; x++) {
            float l = (ys[x] - lm.offset) / lm.divisor;
            float cb = (us[x] - cm.offset) / cm.divisor;
            float cr = (vs[x] - cm.offset) / cm.divisor;
            r[o + x] = clamp01(l + r_cr * cr);
            g[o + x] = clamp01(l + g_cb * cb + g_cr * cr);
            b[o + x] = clamp01(l + b_cb * cb);
        }
    }
}

/* pal8: data[1] holds 256 native-endian 0xAARRGGBB entries. */
static void palette_to_float(const AVFrame *f, float *rgb)
{
    size_t n = (size_t)f->width * f->height;
    const uint32_t *pal = (const uint32_t *)f->data[1];
    for (int y = 0; y < f->height; y++) {
        const uint8_t *idx = f->data[0] + (size_t)y * f->linesize[0];
        float *r = rgb + (size_t)y * f->width;
        for (int x = 0; x < f->width; x++) {
            uint32_t argb = pal[idx[x]];
            r[x] = ((argb >> 16) & 255) / 255.0f;
            r[n + x] = ((argb >> 8) & 255) / 255.0f;
            r[2 * n + x] = (argb & 255) / 255.0f;
        }
    }
}

int vsr_frame_reader_convert(vsr_frame_reader *fr, const AVFrame *frame, float *rgb, vsr_err *err)
{
    if (frame->width <= 0 || frame->height <= 0 || !frame->data[0]) {
        vsr_err_set(err, "colour: empty %dx%d frame", frame->width, frame->height);
        return VSR_ERROR;
    }
    if ((fr->width != frame->width || fr->height != frame->height || fr->format != frame->format ||
         fr->chroma_location != frame->chroma_location) &&
        reader_setup(fr, frame, err) < 0)
        return VSR_ERROR;

    const AVFrame *src = frame;
    if (fr->sws) {
        if (sws_scale(fr->sws, (const uint8_t *const *)frame->data, frame->linesize, 0,
                      frame->height, fr->work->data, fr->work->linesize) != frame->height) {
            vsr_err_set(err, "colour: swscale failed on a %dx%d %s frame", frame->width,
                        frame->height, av_get_pix_fmt_name(frame->format));
            return VSR_ERROR;
        }
        src = fr->work;
    }

    vsr_source_colour sc = vsr_colour_source(frame);
    int w = frame->width, h = frame->height, bits = fr->work_bits;
    size_t n = (size_t)w * h;
    double full = (double)((1 << bits) - 1);
    linear_map full_map = {0.0f, (float)full};
    switch (fr->kind) {
    case READ_PALETTE:
        palette_to_float(src, rgb);
        return VSR_OK;
    case READ_RGB:
        /* gbrp planes are G, B, R. */
        plane_to_float(src->data[2], src->linesize[2], bits, w, h, full_map, rgb);
        plane_to_float(src->data[0], src->linesize[0], bits, w, h, full_map, rgb + n);
        plane_to_float(src->data[1], src->linesize[1], bits, w, h, full_map, rgb + 2 * n);
        return VSR_OK;
    case READ_GRAY: {
        linear_map m = full_map;
        if (sc.range == AVCOL_RANGE_MPEG) {
            double unit = (double)(1 << (bits - 8));
            m = (linear_map){(float)(16 * unit), (float)(219 * unit)};
        }
        plane_to_float(src->data[0], src->linesize[0], bits, w, h, m, rgb);
        memcpy(rgb + n, rgb, n * sizeof(*rgb));
        memcpy(rgb + 2 * n, rgb, n * sizeof(*rgb));
        return VSR_OK;
    }
    case READ_YUV:
        break;
    }

    linear_map lm, cm;
    yuv_maps(sc, &lm, &cm);
    if (sc.matrix == AVCOL_SPC_RGB) {
        /* G, B, R stored in the Y, Cb, Cr planes (H.264/HEVC "GBR" streams). */
        plane_to_float(src->data[2], src->linesize[2], 16, w, h, lm, rgb);
        plane_to_float(src->data[0], src->linesize[0], 16, w, h, lm, rgb + n);
        plane_to_float(src->data[1], src->linesize[1], 16, w, h, lm, rgb + 2 * n);
        return VSR_OK;
    }
    double kr, kb;
    if (!vsr_colour_matrix_coefficients(sc.matrix, &kr, &kb)) {
        vsr_err_set(err, "colour: unsupported colour matrix %s",
                    av_color_space_name(sc.matrix) ? av_color_space_name(sc.matrix) : "unknown");
        return VSR_ERROR;
    }
    yuv_to_rgb(src, lm, cm, kr, kb, rgb);
    return VSR_OK;
}
