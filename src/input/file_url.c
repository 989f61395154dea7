#include "file_url.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

const char *vsr_file_url(const char *path, char *url, size_t size)
{
    struct stat st;
    const char *colon = strchr(path, ':');
    if (!colon || stat(path, &st) < 0)
        return path;
    const int n = snprintf(url, size, "file:%s", path);
    return n >= 0 && (size_t)n < size ? url : path;
}
