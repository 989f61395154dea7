/* Output file names and folders, shared by the writer and the joiner. */
#include "output_file.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libavutil/timecode.h>

char *vsr_partial_name(const char *path, int k)
{
    const char *slash = strrchr(path, '/');
    const char *dot = strrchr(path, '.');
    if (!dot || (slash && dot < slash))
        dot = path + strlen(path);
    char number[16] = "";
    if (k > 0)
        snprintf(number, sizeof(number), "-%d", k);
    size_t stem = (size_t)(dot - path);
    size_t size = strlen(path) + sizeof(".partial") + strlen(number);
    char *name = malloc(size);
    if (name)
        snprintf(name, size, "%.*s.partial%s%s", (int)stem, path, number, dot);
    return name;
}

/* "dir/name" with dir resolved (links, "..", "."): 0, or -1 when dir cannot be. */
static int resolve_folder(const char *path, char *out, size_t size)
{
    const char *slash = strrchr(path, '/');
    char folder[PATH_MAX], real[PATH_MAX];
    snprintf(folder, sizeof(folder), "%.*s", slash ? (int)(slash - path) + 1 : 1,
             slash ? path : ".");
    if (!realpath(folder, real))
        return -1;
    int n = snprintf(out, size, "%s/%s", real, slash ? slash + 1 : path);
    return n < 0 || (size_t)n >= size ? -1 : 0;
}

int vsr_output_same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    if (stat(a, &sa) == 0 && stat(b, &sb) == 0)
        return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
    char ra[PATH_MAX], rb[PATH_MAX];
    return !strcmp(a, b) || (resolve_folder(a, ra, sizeof(ra)) == 0 &&
                             resolve_folder(b, rb, sizeof(rb)) == 0 && !strcmp(ra, rb));
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

static const char *input_timecode(const AVFormatContext *in)
{
    for (unsigned i = 0; i < in->nb_streams; i++) {
        const enum AVMediaType type = in->streams[i]->codecpar->codec_type;
        const AVDictionaryEntry *e =
            type == AVMEDIA_TYPE_VIDEO || type == AVMEDIA_TYPE_DATA
                ? av_dict_get(in->streams[i]->metadata, "timecode", NULL, 0)
                : NULL;
        if (e)
            return e->value;
    }
    const AVDictionaryEntry *e = av_dict_get(in->metadata, "timecode", NULL, 0);
    return e ? e->value : NULL;
}

int vsr_output_copy_timecode(AVFormatContext *out, AVStream *video, const AVFormatContext *in,
                             AVRational rate, int64_t first_frame)
{
    const char *timecode = input_timecode(in);
    if (!timecode)
        return 0;
    AVTimecode tc;
    int ret = av_timecode_init_from_string(&tc, rate, timecode, NULL);
    if (ret < 0)
        return ret;
    if (first_frame > INT_MAX)
        return AVERROR(ERANGE);
    char text[AV_TIMECODE_STR_SIZE];
    av_timecode_make_string(&tc, text, (int)first_frame);
    ret = av_dict_set(&video->metadata, "timecode", text, 0);
    /* a file-level timecode (copied with the metadata) would otherwise say the old start */
    if (ret >= 0 && av_dict_get(out->metadata, "timecode", NULL, 0))
        ret = av_dict_set(&out->metadata, "timecode", text, 0);
    return ret < 0 ? ret : 1;
}

void vsr_output_muxer_options(const AVFormatContext *out, const AVStream *video,
                              AVDictionary **options)
{
    if (strcmp(out->oformat->name, "mov") || video->time_base.den <= 0)
        return;
    int64_t scale = video->time_base.den;
    while (scale < 10000)
        scale *= 2;
    if (scale <= INT32_MAX)
        av_dict_set_int(options, "movie_timescale", scale, 0);
}
