/*
 * Where an output is written: a complete file appears only under its final name, renamed
 * from a temporary one next to it, so a stopped or failed run never leaves a file that looks
 * finished.
 */
#ifndef VSR_OUTPUT_FILE_H
#define VSR_OUTPUT_FILE_H

#include <libavformat/avformat.h>

#include "vsr_types.h"

/* "dir/film.mov" -> "dir/film.partial.mov", or "dir/film.partial-K.mov" for k > 0 (malloc'd;
 * NULL when out of memory): same folder, so the rename is atomic, and same extension, so
 * players and muxers know it. */
char *vsr_partial_name(const char *path, int k);
/* Whether a and b name one file: the same inode when both exist, else the same name once
 * their folders are resolved (a file about to be created may be another's name for it). */
int vsr_output_same_file(const char *a, const char *b);
/* VSR_OK unless `path` exists and may not be overwritten (a message saying so). */
int vsr_output_check_new(const char *path, int overwrite, vsr_err *err);
/* VSR_OK when the folder of `path` exists and is writable, else a message naming both. */
int vsr_output_folder_check(const char *path, vsr_err *err);

/* The file's metadata and chapters from `in` into `out`, before its header; an AVERROR. */
int vsr_output_copy_global(AVFormatContext *out, const AVFormatContext *in);

/*
 * The input's timecode (of its video stream, a tmcd track, or the file), counted on to
 * `first_frame` at `rate`, as the output video stream's "timecode" (and the file's, when it
 * has one): MOV writes it as a tmcd track, MKV and MXF as their own. 0 when the input has
 * none, 1 when kept, or an AVERROR (a timecode that does not fit the rate).
 */
int vsr_output_copy_timecode(AVFormatContext *out, AVStream *video, const AVFormatContext *in,
                             AVRational rate, int64_t first_frame);

/*
 * Muxer options for a video file of vsrup or of a join. MOV: the movie's time (edit lists)
 * is counted in the video track's own ticks, not in milliseconds, so a file that starts late
 * (a --keep-timestamps segment, the rest of a resumed run) reads back at its exact times and
 * the writer and the joiner place the first frame alike. The muxer doubles a time base below
 * 10000 ticks a second; so is it done here.
 */
void vsr_output_muxer_options(const AVFormatContext *out, const AVStream *video,
                              AVDictionary **options);

#endif
