/*
 * The output codecs we offer, their profiles and pixel formats, and which combinations
 * (and containers) are valid. Pure tables; used by the CLI to validate and by the writer.
 */
#ifndef VSR_CODECS_H
#define VSR_CODECS_H

#include <libavutil/pixfmt.h>

#include "vsr_types.h"

enum vsr_codec { VSR_CODEC_NONE = 0, VSR_CODEC_PRORES, VSR_CODEC_FFV1, VSR_CODEC_DNXHR };

typedef struct vsr_output_format {
    enum vsr_codec codec;
    int profile; /* FFmpeg's profile number for prores/dnxhd; unused for ffv1 */
    enum AVPixelFormat pix_fmt;
} vsr_output_format;

/* "prores", "ffv1", "dnxhr". */
enum vsr_codec vsr_codec_from_name(const char *name);
const char *vsr_codec_name(enum vsr_codec codec);
/* The codec's own container: ".mov" for prores, ".mkv" for ffv1, ".mxf" for dnxhr. */
const char *vsr_codec_extension(enum vsr_codec codec);
/* .mov -> prores, .mkv -> ffv1, .mxf -> dnxhr; NONE for other extensions. */
enum vsr_codec vsr_codec_for_path(const char *path);
/* VSR_OK when the container of `path` can hold `codec` (NONE: the one its extension gives);
 * else a message with a -o that works. */
int vsr_output_container_check(const char *path, enum vsr_codec codec, vsr_err *err);
/*
 * Fills `format` from user choices (profile and pix_fmt names may be NULL for defaults)
 * and checks the combination, including that the container of `path` can hold it.
 */
int vsr_output_format_resolve(const char *path, enum vsr_codec codec, const char *profile,
                              const char *pix_fmt, vsr_output_format *format, vsr_err *err);
const char *vsr_output_profile_name(const vsr_output_format *format);
/*
 * A slice count the FFV1 encoder accepts for this frame: near 4, 16 or 24 by frame size
 * (more slices encode in parallel; fewer cost less), as many as a tiny frame allows, and
 * more where a huge frame's slices would be too big for the encoder.
 */
int vsr_ffv1_slices(int width, int height, enum AVPixelFormat pix_fmt);

#endif
