/*
 * Plain types shared by every module, including the C++ engine shim.
 * No FFmpeg or libtorch headers here: this file must compile as C99 and C++17.
 */
#ifndef VSR_TYPES_H
#define VSR_TYPES_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Exit codes of the program (DESIGN.md, "Never lose work"). */
enum { VSR_EXIT_OK = 0, VSR_EXIT_FAILURE = 1, VSR_EXIT_USAGE = 2, VSR_EXIT_INTERRUPTED = 130 };

/* Return codes of module functions. Errors carry their text in a vsr_err. */
enum {
    VSR_OK = 0,
    VSR_ERROR = -1,
    VSR_ERROR_OOM = -2, /* the accelerator ran out of memory; the caller may retry smaller */
};

/* Room for a message naming two paths of PATH_MAX (4096) bytes in full, plus its text. */
#define VSR_ERR_SIZE (2 * 4096 + 1024)

/* One error message, filled by the function that failed, read by whoever reports it. */
typedef struct vsr_err {
    char msg[VSR_ERR_SIZE];
} vsr_err;

/* printf-style; replaces any earlier message. */
void vsr_err_set(vsr_err *err, const char *fmt, ...)
#ifdef __GNUC__
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Up to three planes of one picture. 8-bit samples are bytes, deeper ones native uint16. */
typedef struct vsr_planes {
    uint8_t *data[3];
    int linesize[3]; /* bytes */
} vsr_planes;

/*
 * How the encoder wants its samples: enough to quantise RGB into planes without
 * knowing FFmpeg's pixel formats (the engine shim uses it).
 *  rgb:  planes are G, B, R (FFmpeg's gbrp order), full range.
 *  else: planes are Y, Cb, Cr with the given matrix (kr, kb) and range.
 */
typedef struct vsr_pixel_layout {
    int rgb;
    int bits;           /* 8, 10, 12 or 16 */
    int chroma_w_shift; /* 1 for 4:2:2, 0 for 4:4:4 */
    int full_range;     /* 1: 0..2^bits-1, 0: 16..235 (240 chroma) << (bits-8) */
    double kr, kb;      /* luma coefficients; BT.709 is 0.2126, 0.0722 */
} vsr_pixel_layout;

#ifdef __cplusplus
}
#endif

#endif
