/* The batch (include/batch.h): a list of files, one vsr_resume_run each, a summary. */
#include "batch.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <json-c/json.h>
#include <libavformat/avformat.h>

#include "escape.h"
#include "log.h"
#include "report.h"
#include "resume.h"

enum status { ST_DONE, ST_SKIPPED_DONE, ST_NOT_VIDEO, ST_FAILED, ST_STOPPED, ST_NOT_RUN };
static const char *const status_names[] = {"done",   "done before", "not a video",
                                           "failed", "stopped",     "not run"};

typedef struct item {
    char *input;
    char output[PATH_MAX];
    enum status status;
    int64_t frames;
    double seconds;
    char note[VSR_ERR_SIZE];
} item;

typedef struct list {
    item *items;
    int count, cap;
} list;

static int add(list *l, const char *path)
{
    if (l->count == l->cap) {
        int cap = l->cap ? 2 * l->cap : 16;
        item *more = realloc(l->items, cap * sizeof(*more));
        if (!more)
            return VSR_ERROR;
        l->items = more;
        l->cap = cap;
    }
    item *it = &l->items[l->count];
    *it = (item){.input = strdup(path), .status = ST_NOT_RUN};
    if (!it->input)
        return VSR_ERROR;
    l->count++;
    return VSR_OK;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const item *)a)->input, ((const item *)b)->input);
}

/* The regular files of a folder (not hidden ones, not our partial files), in name order. */
static int add_folder(list *l, const char *folder, vsr_err *err)
{
    DIR *d = opendir(folder);
    if (!d) {
        vsr_err_set(err, "%s: cannot list: %s", folder, strerror(errno));
        return VSR_ERROR;
    }
    int first = l->count, ret = VSR_OK;
    struct dirent *e;
    while (ret == VSR_OK && (e = readdir(d))) {
        char path[PATH_MAX];
        struct stat st;
        if (e->d_name[0] == '.' || strstr(e->d_name, ".partial.") ||
            snprintf(path, sizeof(path), "%s/%s", folder, e->d_name) >= (int)sizeof(path) ||
            stat(path, &st) < 0 || !S_ISREG(st.st_mode))
            continue;
        if (add(l, path) < 0) {
            vsr_err_set(err, "out of memory");
            ret = VSR_ERROR;
        }
    }
    closedir(d);
    qsort(l->items + first, l->count - first, sizeof(item), by_name);
    return ret;
}

/* FFmpeg's tty demuxer shows .txt files as ANSI art, image2 a picture as one frame. */
static int is_picture_or_text(const AVInputFormat *format)
{
    return !strcmp(format->name, "tty") || !strcmp(format->name, "image2") ||
           strstr(format->name, "_pipe");
}

/* What the first bytes say: a container FFmpeg knows (not text nor a picture). */
static int looks_like_a_container(const char *path)
{
    uint8_t buf[4096 + AVPROBE_PADDING_SIZE] = {0};
    FILE *f = fopen(path, "rb");
    size_t n = f ? fread(buf, 1, 4096, f) : 0;
    if (f)
        fclose(f);
    AVProbeData probe = {.filename = "", .buf = buf, .buf_size = (int)n};
    const AVInputFormat *format = n ? av_probe_input_format(&probe, 1) : NULL;
    return format && !is_picture_or_text(format);
}

/*
 * 1 for a file to run: one with a video stream, or one whose container FFmpeg knows but
 * cannot open (a damaged video: its run fails and says why). 0 for the rest (text, pictures,
 * audio only), skipped with a note.
 */
static int is_video(const char *path)
{
    AVFormatContext *fmt = NULL;
    if (avformat_open_input(&fmt, path, NULL, NULL) < 0)
        return looks_like_a_container(path);
    int video = !is_picture_or_text(fmt->iformat) &&
                (avformat_find_stream_info(fmt, NULL) < 0 ||
                 av_find_best_stream(fmt, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0) >= 0);
    avformat_close_input(&fmt);
    return video;
}

/* OUTDIR/STEM.EXT for input .../STEM.ANY */
static void output_name(const vsr_job *job, item *it)
{
    const char *base = strrchr(it->input, '/');
    base = base ? base + 1 : it->input;
    const char *dot = strrchr(base, '.');
    int stem = dot && dot != base ? (int)(dot - base) : (int)strlen(base);
    snprintf(it->output, sizeof(it->output), "%s/%.*s%s", job->output, stem, base,
             vsr_codec_extension(job->format.codec));
}

static void run_one(const vsr_job *job, item *it, vsr_run_signal *stop)
{
    struct stat st;
    output_name(job, it);
    if (!job->overwrite && stat(it->output, &st) == 0) {
        it->status = ST_SKIPPED_DONE; /* finished outputs are renamed only when complete */
        return;
    }
    if (!is_video(it->input)) {
        it->status = ST_NOT_VIDEO;
        vsr_log(VSR_LOG_INFO, "%s: not a video, skipped", it->input);
        return;
    }
    vsr_job one = *job;
    one.input = it->input;
    one.output = it->output;
    one.nb_inputs = 1;
    one.batch = 0;
    one.json_path = NULL;
    vsr_report *report = calloc(1, sizeof(*report));
    if (!report) {
        it->status = ST_FAILED;
        snprintf(it->note, sizeof(it->note), "out of memory");
        return;
    }
    vsr_log(VSR_LOG_INFO, "%s -> %s", it->input, it->output);
    int code = vsr_resume_run(&one, stop, report);
    vsr_report_print(report);
    it->frames = report->frames_out;
    it->seconds = report->seconds_total;
    it->status = code == VSR_EXIT_OK            ? ST_DONE
                 : code == VSR_EXIT_INTERRUPTED ? ST_STOPPED
                                                : ST_FAILED;
    if (it->status == ST_FAILED) {
        snprintf(it->note, sizeof(it->note), "%s", report->error);
        vsr_log(VSR_LOG_ERROR, "%s", report->error);
    }
    free(report);
}

static void print_summary(const list *l)
{
    fprintf(stderr, "%-11s %8s %9s  %s\n", "status", "frames", "seconds", "input");
    for (int i = 0; i < l->count; i++) {
        const item *it = &l->items[i];
        fprintf(stderr, "%-11s %8lld %9.1f  ", status_names[it->status], (long long)it->frames,
                it->seconds);
        vsr_write_escaped(stderr, it->input);
        fputs(it->note[0] ? ": " : "", stderr);
        vsr_write_escaped(stderr, it->note);
        fputc('\n', stderr);
    }
}

static int write_json(const list *l, const char *path, vsr_err *err)
{
    json_object *records = json_object_new_array_ext(l->count);
    for (int i = 0; i < l->count; i++) {
        const item *it = &l->items[i];
        json_object *o = json_object_new_object();
        json_object_object_add(o, "input", json_object_new_string(it->input));
        json_object_object_add(
            o, "output", json_object_new_string(it->status == ST_NOT_VIDEO ? "" : it->output));
        json_object_object_add(o, "status", json_object_new_string(status_names[it->status]));
        json_object_object_add(o, "frames", json_object_new_int64(it->frames));
        json_object_object_add(o, "seconds", vsr_report_json_fixed3(it->seconds));
        json_object_object_add(o, "error", json_object_new_string(it->note));
        json_object_array_add(records, o);
    }
    return vsr_report_json_save(records, path, err);
}

int vsr_batch_run(const vsr_job *job, vsr_run_signal *stop)
{
    list l = {0};
    vsr_err err = {{0}};
    int ret = VSR_OK;
    for (int i = 0; ret == VSR_OK && i < job->nb_inputs; i++) {
        struct stat st;
        if (stat(job->inputs[i], &st) == 0 && S_ISDIR(st.st_mode))
            ret = add_folder(&l, job->inputs[i], &err);
        else if (add(&l, job->inputs[i]) < 0) {
            vsr_err_set(&err, "out of memory");
            ret = VSR_ERROR;
        }
    }
    int code = VSR_EXIT_OK;
    for (int i = 0; ret == VSR_OK && i < l.count && !stop->stop; i++) {
        run_one(job, &l.items[i], stop);
        if (l.items[i].status == ST_FAILED)
            code = VSR_EXIT_FAILURE;
    }
    if (stop->stop)
        code = VSR_EXIT_INTERRUPTED;
    if (ret == VSR_OK) {
        print_summary(&l);
        if (job->json_path)
            ret = write_json(&l, job->json_path, &err);
    }
    if (ret < 0) {
        vsr_log(VSR_LOG_ERROR, "%s", err.msg);
        code = VSR_EXIT_FAILURE;
    }
    for (int i = 0; i < l.count; i++)
        free(l.items[i].input);
    free(l.items);
    return code;
}
