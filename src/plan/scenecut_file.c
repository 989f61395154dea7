#include "scenecut_file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int compare_int64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int cut_list_add(vsr_cut_list *list, size_t *cap, int64_t frame)
{
    if (list->count == *cap) {
        size_t n = *cap ? 2 * *cap : 64;
        int64_t *frames = realloc(list->frames, n * sizeof(*frames));
        if (!frames)
            return -1;
        list->frames = frames;
        *cap = n;
    }
    list->frames[list->count++] = frame;
    return 0;
}

int vsr_cut_list_load(vsr_cut_list *list, const char *path, vsr_err *err)
{
    *list = (vsr_cut_list){0};
    FILE *f = fopen(path, "r");
    if (!f) {
        vsr_err_set(err, "%s: cannot read the scene-cut file: %s", path, strerror(errno));
        return VSR_ERROR;
    }
    char line[256];
    size_t cap = 0;
    int lineno = 0, ret = VSR_OK;
    while (ret == VSR_OK && fgets(line, sizeof(line), f)) {
        lineno++;
        /* A line that fills the buffer without ending, or holds a NUL, is no frame number:
         * stopping here bounds what is read from /dev/zero or a video given by mistake. */
        if (!strchr(line, '\n') && !feof(f)) {
            vsr_err_set(err, "%s:%d: line too long or not text: expected one frame number per line",
                        path, lineno);
            ret = VSR_ERROR;
            break;
        }
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        char *p = line + strspn(line, " \t\r\n");
        if (!*p)
            continue;
        char *end;
        errno = 0;
        long long frame = strtoll(p, &end, 10);
        end += strspn(end, " \t\r\n");
        if (errno || end == p || *end || frame < 0) {
            vsr_err_set(err, "%s:%d: expected one frame number per line", path, lineno);
            ret = VSR_ERROR;
        } else if (frame > 0 && cut_list_add(list, &cap, frame) < 0) {
            vsr_err_set(err, "out of memory reading %s", path);
            ret = VSR_ERROR;
        }
    }
    fclose(f);
    if (ret < 0) {
        vsr_cut_list_free(list);
        return ret;
    }
    qsort(list->frames, list->count, sizeof(*list->frames), compare_int64);
    return VSR_OK;
}

int vsr_cut_list_contains(const vsr_cut_list *list, int64_t frame)
{
    return list->count &&
           bsearch(&frame, list->frames, list->count, sizeof(*list->frames), compare_int64);
}

void vsr_cut_list_free(vsr_cut_list *list)
{
    free(list->frames);
    *list = (vsr_cut_list){0};
}
