/*
 * Colour policy and the float reference: which matrix and range a source uses, the
 * coefficients of each matrix, the encoder layouts, and Y'CbCr <-> R'G'B' in double.
 */
#include "colour.h"

#include <libavutil/pixdesc.h>

/* Pixel formats that carry no colour (gray, gray + alpha) are read as R = G = B. */
static int is_gray(const AVPixFmtDescriptor *desc)
{
    return !(desc->flags & (AV_PIX_FMT_FLAG_RGB | AV_PIX_FMT_FLAG_PAL)) && desc->nb_components <= 2;
}

static int is_full_range_yuv_format(enum AVPixelFormat fmt)
{
    switch (fmt) {
    case AV_PIX_FMT_YUVJ411P:
    case AV_PIX_FMT_YUVJ420P:
    case AV_PIX_FMT_YUVJ422P:
    case AV_PIX_FMT_YUVJ440P:
    case AV_PIX_FMT_YUVJ444P:
        return 1;
    default:
        return 0;
    }
}

vsr_source_colour vsr_colour_source(const AVFrame *frame)
{
    const AVPixFmtDescriptor *desc = av_pix_fmt_desc_get(frame->format);
    vsr_source_colour c = {AVCOL_SPC_RGB, AVCOL_RANGE_JPEG, 8};
    if (!desc)
        return c;
    c.bits = desc->comp[0].depth;
    if (desc->flags & (AV_PIX_FMT_FLAG_RGB | AV_PIX_FMT_FLAG_PAL))
        return c;
    if (is_gray(desc)) {
        /* Gray formats are full range unless a stream says otherwise. */
        if (frame->color_range == AVCOL_RANGE_MPEG)
            c.range = AVCOL_RANGE_MPEG;
        return c;
    }
    if (frame->colorspace != AVCOL_SPC_UNSPECIFIED && frame->colorspace != AVCOL_SPC_RESERVED)
        c.matrix = frame->colorspace;
    else
        c.matrix = frame->height < 720 ? AVCOL_SPC_SMPTE170M : AVCOL_SPC_BT709;
    if (is_full_range_yuv_format(frame->format))
        c.range = AVCOL_RANGE_JPEG;
    else if (frame->color_range == AVCOL_RANGE_JPEG || frame->color_range == AVCOL_RANGE_MPEG)
        c.range = frame->color_range;
    else
        c.range = AVCOL_RANGE_MPEG;
    return c;
}

int vsr_colour_matrix_coefficients(enum AVColorSpace matrix, double *kr, double *kb)
{
    switch (matrix) {
    case AVCOL_SPC_BT709:
        *kr = 0.2126, *kb = 0.0722;
        return 1;
    case AVCOL_SPC_BT470BG:
    case AVCOL_SPC_SMPTE170M:
        *kr = 0.299, *kb = 0.114;
        return 1;
    case AVCOL_SPC_FCC:
        *kr = 0.30, *kb = 0.11;
        return 1;
    case AVCOL_SPC_SMPTE240M:
        *kr = 0.212, *kb = 0.087;
        return 1;
    case AVCOL_SPC_BT2020_NCL:
        *kr = 0.2627, *kb = 0.0593;
        return 1;
    default:
        return 0;
    }
}

/* The encoder formats the engines can fill, and their layouts. */
static const struct {
    enum AVPixelFormat fmt;
    int rgb, bits, chroma_w_shift;
} layouts[] = {
    {AV_PIX_FMT_YUV422P, 0, 8, 1},      {AV_PIX_FMT_YUV444P, 0, 8, 0},
    {AV_PIX_FMT_YUV422P10LE, 0, 10, 1}, {AV_PIX_FMT_YUV444P10LE, 0, 10, 0},
    {AV_PIX_FMT_YUV422P12LE, 0, 12, 1}, {AV_PIX_FMT_YUV444P12LE, 0, 12, 0},
    {AV_PIX_FMT_YUV444P16LE, 0, 16, 0}, {AV_PIX_FMT_GBRP10LE, 1, 10, 0},
    {AV_PIX_FMT_GBRP12LE, 1, 12, 0},    {AV_PIX_FMT_GBRP16LE, 1, 16, 0},
};

int vsr_colour_layout(enum AVPixelFormat fmt, vsr_pixel_layout *layout)
{
    for (size_t i = 0; i < sizeof(layouts) / sizeof(layouts[0]); i++) {
        if (layouts[i].fmt != fmt)
            continue;
        *layout = (vsr_pixel_layout){.rgb = layouts[i].rgb,
                                     .bits = layouts[i].bits,
                                     .chroma_w_shift = layouts[i].chroma_w_shift,
                                     .full_range = layouts[i].rgb,
                                     .kr = 0.2126,
                                     .kb = 0.0722};
        return VSR_OK;
    }
    return VSR_ERROR;
}

enum AVPixelFormat vsr_colour_layout_format(const vsr_pixel_layout *layout)
{
    for (size_t i = 0; i < sizeof(layouts) / sizeof(layouts[0]); i++)
        if (layouts[i].rgb == layout->rgb && layouts[i].bits == layout->bits &&
            layouts[i].chroma_w_shift == layout->chroma_w_shift)
            return layouts[i].fmt;
    return AV_PIX_FMT_NONE;
}

void vsr_colour_rgb_to_ycbcr(double kr, double kb, const double rgb[3], double ycbcr[3])
{
    double y = kr * rgb[0] + (1.0 - kr - kb) * rgb[1] + kb * rgb[2];
    ycbcr[0] = y;
    ycbcr[1] = (rgb[2] - y) / (2.0 * (1.0 - kb));
    ycbcr[2] = (rgb[0] - y) / (2.0 * (1.0 - kr));
}

void vsr_colour_ycbcr_to_rgb(double kr, double kb, const double ycbcr[3], double rgb[3])
{
    double kg = 1.0 - kr - kb;
    rgb[0] = ycbcr[0] + 2.0 * (1.0 - kr) * ycbcr[2];
    rgb[2] = ycbcr[0] + 2.0 * (1.0 - kb) * ycbcr[1];
    rgb[1] = (ycbcr[0] - kr * rgb[0] - kb * rgb[2]) / kg;
}
