/*
 * The temporary file an output is written to until it is renamed: created exclusively and
 * locked for the whole run (one writer per output), never one of the run's inputs, and with
 * room kept for the file's end, so a full disk still leaves a playable partial file.
 */
#ifndef VSR_TEMP_FILE_H
#define VSR_TEMP_FILE_H

#include <stdint.h>

#include <libavformat/avio.h>

#include "vsr_types.h"

typedef struct vsr_temp_file vsr_temp_file;

/* vsr_temp_file_check: the partial file holds an earlier run's work (a usage error, exit 2,
 * like an existing output). */
enum { VSR_ERROR_PARTIAL_KEPT = -3 };

/*
 * VSR_OK unless `path`'s partial file (NAME.partial.EXT) is locked by another process
 * (VSR_ERROR), or exists and `overwrite` is off (VSR_ERROR_PARTIAL_KEPT): a message saying
 * which and what to do. A check before a long set-up; vsr_temp_file_create decides.
 */
int vsr_temp_file_check(const char *path, int overwrite, vsr_err *err);

/*
 * Creates and locks the temporary file of `path`: NAME.partial.EXT, or NAME.partial-K.EXT
 * where that name is one of inputs[0..nb_inputs). An existing file is replaced only with
 * `overwrite`, and never while another process holds it.
 */
int vsr_temp_file_create(vsr_temp_file **file, const char *path, const char *const *inputs,
                         int nb_inputs, int overwrite, vsr_err *err);
/* Where the muxer writes (AVFormatContext.pb); owned by the file. */
AVIOContext *vsr_temp_file_io(vsr_temp_file *file);
const char *vsr_temp_file_name(const vsr_temp_file *file);

/*
 * VSR_OK when `bytes` more can be written and the file's end (index, trailer) still fits;
 * else VSR_ERROR, the disk (or the file size limit) is full: add nothing more and finish.
 */
int vsr_temp_file_room(vsr_temp_file *file, int64_t bytes, vsr_err *err);

/* After the trailer: writes what is buffered; VSR_ERROR when any write failed. */
int vsr_temp_file_flush(vsr_temp_file *file, vsr_err *err);
/* Close will leave the file as it is, under its temporary name. */
void vsr_temp_file_keep(vsr_temp_file *file);
/* The file to its final name (and kept there). */
int vsr_temp_file_rename(vsr_temp_file *file, vsr_err *err);

/* Closes and unlocks; a file not kept is deleted. */
void vsr_temp_file_close(vsr_temp_file **file);

#endif
