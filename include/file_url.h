/*
 * The URL libavformat should open for a path the user gave. libavformat reads "x:y/film.avi"
 * as protocol "x": a path with a colon that names a file on disk gets the "file:" prefix, so
 * it is opened as that file. Anything else (a real URL, a missing file) is left as given.
 */
#ifndef VSR_FILE_URL_H
#define VSR_FILE_URL_H

#include <stddef.h>

/* Writes the URL for `path` into `url`; returns url, or path when it does not fit. */
const char *vsr_file_url(const char *path, char *url, size_t size);

#endif
