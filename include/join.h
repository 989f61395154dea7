/*
 * vsrup --join: segments of one film, each written by vsrup with --start/--frames and
 * --keep-timestamps (so every packet keeps the film's own time), put together in order
 * into one file by copying packets: nothing is decoded or encoded again.
 */
#ifndef VSR_JOIN_H
#define VSR_JOIN_H

#include <stdint.h>

#include "vsr_types.h"

typedef struct vsr_join_stats {
    int parts;
    int streams;
    int64_t video_frames; /* video packets written: one per frame for intra-only codecs */
    int gaps;             /* joints where time is missing between two parts */
} vsr_join_stats;

/*
 * Writes `output` (under a temporary name, renamed when complete) from parts[0..count).
 * Every part must have the streams of the first one (same codecs, same picture size and
 * format) and start where the one before it ends. VSR_OK, or VSR_ERROR with a message
 * naming the file and the problem (nothing is left under the output's name).
 */
int vsr_join(const char *output, const char *const *parts, int count, int overwrite,
             vsr_join_stats *stats, vsr_err *err);

/*
 * vsr_join, taking only the first max_frames[k] video frames of part k (0: all of it): a
 * partial file continued from one of its chunk borders holds more frames than are kept.
 */
int vsr_join_trimmed(const char *output, const char *const *parts, const int64_t *max_frames,
                     int count, int overwrite, vsr_join_stats *stats, vsr_err *err);

#endif
