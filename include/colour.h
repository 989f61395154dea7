/*
 * Colour in one place (DESIGN.md "Colour"): reading any decoded frame into linear-light-free
 * R'G'B' floats with the source's matrix and range, and quantising R'G'B' floats into the
 * encoder's planes. Float reference functions first; fast paths must match them.
 */
#ifndef VSR_COLOUR_H
#define VSR_COLOUR_H

#include <libavutil/frame.h>
#include <libavutil/pixfmt.h>

#include "vsr_types.h"

/* Matrix and range actually used for a source, after the policy for untagged video. */
typedef struct vsr_source_colour {
    enum AVColorSpace matrix; /* BT709, BT470BG/SMPTE170M, BT2020_NCL, RGB, ... */
    enum AVColorRange range;  /* MPEG or JPEG */
    int bits;                 /* component depth of the source */
} vsr_source_colour;

/*
 * Applies the policy: the frame's tags if present; untagged YUV is BT.601 below 720
 * lines and BT.709 from 720 up, limited range; RGB sources are RGB.
 */
vsr_source_colour vsr_colour_source(const AVFrame *frame);

/* Coefficients of a matrix; returns 0 for RGB/unknown matrices that have none. */
int vsr_colour_matrix_coefficients(enum AVColorSpace matrix, double *kr, double *kb);

/* Layout of an encoder pixel format: YUV as BT.709 limited, RGB as full range. */
int vsr_colour_layout(enum AVPixelFormat fmt, vsr_pixel_layout *layout);
/* The pixel format of a layout (matrix and range aside); AV_PIX_FMT_NONE if none. */
enum AVPixelFormat vsr_colour_layout_format(const vsr_pixel_layout *layout);

/* Reads frames of one size and format into planar float RGB; reusable between frames. */
typedef struct vsr_frame_reader vsr_frame_reader;

vsr_frame_reader *vsr_frame_reader_alloc(void);
void vsr_frame_reader_free(vsr_frame_reader **fr);
/*
 * `rgb` receives 3 * frame->height * frame->width floats in [0, 1], R plane first.
 * Any software pixel format: YUV of 8 to 16 bits (planar, semi-planar, packed, yuvj*),
 * RGB, palette and gray. Chroma is upsampled with Catmull-Rom at the frame's chroma
 * location (unspecified: left-sited); the matrix and range come from vsr_colour_source.
 */
int vsr_frame_reader_convert(vsr_frame_reader *fr, const AVFrame *frame, float *rgb, vsr_err *err);

/* Float reference: one R'G'B' triple to Y'CbCr in [0,1]/[-0.5,0.5] and back. */
void vsr_colour_rgb_to_ycbcr(double kr, double kb, const double rgb[3], double ycbcr[3]);
void vsr_colour_ycbcr_to_rgb(double kr, double kb, const double ycbcr[3], double rgb[3]);

/*
 * Quantises planar float R'G'B' (w x h, R plane first) into `out` with `layout`. The
 * exact definition, shared with the engine's torch implementation:
 *  1. clamp R', G', B' to [0, 1] (NaN becomes 0);
 *  2. Y' = kr R' + (1 - kr - kb) G' + kb B';  Cb = (B' - Y') / (2 (1 - kb));
 *     Cr = (R' - Y') / (2 (1 - kr));
 *  3. 4:2:2: chroma sample x is co-sited with luma 2x and filtered
 *     (c[2x-1] + 2 c[2x] + c[2x+1]) / 4, the edge sample repeated (odd widths too);
 *  4. codes: limited Y = (16 + 219 Y') 2^(bits-8), C = (128 + 224 C) 2^(bits-8);
 *     full-range RGB v (2^bits - 1), planes G, B, R; full-range YUV
 *     Y = Y' (2^bits - 1), C = C (2^bits - 1) + 2^(bits-1);
 *  5. floor(code + 0.5) clipped to [0, 2^bits - 1]; 8-bit samples are bytes, deeper
 *     ones native uint16.
 * Computed in float; results differ from exact arithmetic only at rounding ties.
 */
void vsr_colour_quantise(const float *rgb, int w, int h, const vsr_pixel_layout *layout,
                         const vsr_planes *out);

/* The same for rows [y_begin, y_end) only, so callers can split a frame across threads. */
void vsr_colour_quantise_rows(const float *rgb, int w, int h, const vsr_pixel_layout *layout,
                              const vsr_planes *out, int y_begin, int y_end);

#endif
