/*
 * Test media and references made by the ffmpeg and ffprobe programs, independent of the code
 * under test, and the temporary folders they go in: one helper for every C unit test.
 * Commands run through the shell, so paths in them are quoted '...'.
 */
#ifndef VSR_FIXTURE_H
#define VSR_FIXTURE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Command prefixes: quiet, never reading stdin (ffmpeg), replacing what is there (-y). */
#define FIXTURE_FFMPEG "ffmpeg -nostdin -v error -y "
#define FIXTURE_FFPROBE "ffprobe -v error "

/* The path of the clip `name` in $VSR_SHARED/media (else ../shared/media); a static buffer. */
const char *fixture_media(const char *name);

/* Runs a shell command made from fmt; 1 when it exits 0. */
int fixture_run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* All a command prints on stdout, malloc'ed and NUL-terminated (it may be binary), its size
 * in *size (size may be NULL); NULL when it cannot start. Its exit status is not looked at:
 * ffprobe on a damaged file still says what it read. */
char *fixture_output(size_t *size, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A command's stdout to read as it comes (long raw video); close with pclose. */
FILE *fixture_pipe(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Integers a command prints one a line, "N/A" as `na`, into values; returns the count. */
int fixture_values(int64_t *values, int max, int64_t na, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* A new folder P_tmpdir/vsr_NAME_XXXXXX into dir; 1 on success. */
int fixture_temp_dir(char *dir, size_t size, const char *name);

/* Removes dir and all in it (made writable first); 1 on success. */
int fixture_remove_dir(const char *dir);

#endif
