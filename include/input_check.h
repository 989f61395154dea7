/*
 * What the input holds that vsrup cannot carry to the output faithfully yet. Refused
 * (HDR, wide gamut) or warned about (more bits than the output keeps, interlacing) before
 * any work, in one line naming the file, so nothing is mislabelled silently.
 */
#ifndef VSR_INPUT_CHECK_H
#define VSR_INPUT_CHECK_H

#include <libavformat/avformat.h>
#include <libavutil/frame.h>

#include "codecs.h"
#include "vsr_types.h"

/* Refuses HDR or BT.2020 input; warns when the output keeps fewer bits than the input, and
 * when the input has an alpha channel (the models make RGB only).
 * `in_fmt` is the decoder's pixel format. */
int vsr_input_check(const char *path, const AVStream *video, enum AVPixelFormat in_fmt,
                    const vsr_output_format *out, vsr_err *err);

/* The same for each decoded frame, whose flags may say more than the stream headers:
 * refuses HDR, and returns 1 when the frame or its stream is interlaced (the caller warns
 * once), 0 otherwise. */
int vsr_input_check_frame(const char *path, const AVStream *video, const AVFrame *frame,
                          vsr_err *err);

#endif
