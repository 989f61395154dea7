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

/* Reads frames of one size and format into planar float RGB; reusable between frames. */
typedef struct vsr_frame_reader vsr_frame_reader;

vsr_frame_reader *vsr_frame_reader_alloc(void);
void vsr_frame_reader_free(vsr_frame_reader **fr);
/* `rgb` receives 3 * frame->height * frame->width floats in [0, 1], R plane first. */
int vsr_frame_reader_convert(vsr_frame_reader *fr, const AVFrame *frame, float *rgb, vsr_err *err);

/* Float reference: one R'G'B' triple to Y'CbCr in [0,1]/[-0.5,0.5] and back. */
void vsr_colour_rgb_to_ycbcr(double kr, double kb, const double rgb[3], double ycbcr[3]);
void vsr_colour_ycbcr_to_rgb(double kr, double kb, const double ycbcr[3], double rgb[3]);

/*
 * Quantises planar float RGB (w x h) into `out` with `layout`. Chroma of 4:2:2 is
 * co-sited with even luma samples: (c[2x-1] + 2 c[2x] + c[2x+1]) / 4, edges repeated.
 * Values are rounded to nearest and clipped to the legal code range.
 */
void vsr_colour_quantise(const float *rgb, int w, int h, const vsr_pixel_layout *layout,
                         const vsr_planes *out);

#endif
