/* Output file names and folders, shared by the writer and the joiner. */
#include "output_file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char *vsr_partial_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *dot = strrchr(path, '.');
    if (!dot || (slash && dot < slash))
        dot = path + strlen(path);
    size_t stem = (size_t)(dot - path);
    size_t size = strlen(path) + sizeof(".partial");
    char *name = malloc(size);
    if (name)
        snprintf(name, size, "%.*s.partial%s", (int)stem, path, dot);
    return name;
}

int vsr_output_check_new(const char *path, int overwrite, vsr_err *err)
{
    struct stat st;
    if (!overwrite && stat(path, &st) == 0) {
        vsr_err_set(err, "%s: already exists (use -y to overwrite)", path);
        return VSR_ERROR;
    }
    return VSR_OK;
}

int vsr_output_folder_check(const char *path, vsr_err *err)
{
    char folder[4096];
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(folder, sizeof(folder), ".");
    else
        snprintf(folder, sizeof(folder), "%.*s", slash == path ? 1 : (int)(slash - path), path);
    struct stat st;
    if (stat(folder, &st) < 0 || !S_ISDIR(st.st_mode)) {
        vsr_err_set(err, "%s: output folder '%s' does not exist", path, folder);
        return VSR_ERROR;
    }
    if (access(folder, W_OK) < 0) {
        vsr_err_set(err, "%s: output folder '%s' is not writable: %s", path, folder,
                    strerror(errno));
        return VSR_ERROR;
    }
    return VSR_OK;
}

int vsr_output_copy_global(AVFormatContext *out, const AVFormatContext *in)
{
    int ret = av_dict_copy(&out->metadata, in->metadata, 0);
    if (ret >= 0 && in->nb_chapters) {
        /* The output context frees its chapters (and their metadata) with itself. */
        out->chapters = av_calloc(in->nb_chapters, sizeof(*out->chapters));
        if (!out->chapters)
            ret = AVERROR(ENOMEM);
    }
    for (unsigned i = 0; ret >= 0 && i < in->nb_chapters; i++) {
        const AVChapter *ic = in->chapters[i];
        AVChapter *oc = av_mallocz(sizeof(*oc));
        if (!oc)
            return AVERROR(ENOMEM);
        out->chapters[out->nb_chapters++] = oc;
        oc->id = ic->id;
        oc->time_base = ic->time_base;
        oc->start = ic->start;
        oc->end = ic->end;
        ret = av_dict_copy(&oc->metadata, ic->metadata, 0);
    }
    return ret;
}
