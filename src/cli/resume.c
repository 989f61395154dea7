/*
 * --resume (include/resume.h). The partial file's readable video frames are counted with
 * libavformat (a .mov killed before its index holds none: then the run starts over); the
 * journal's last chunk border among them is where the rest starts, as a --start range with
 * the film's own timestamps and the first run's chunk, so it plans the chunks the whole run
 * would have. The rest goes to NAME.resume.EXT, then both are joined (packets copied):
 * into the output when the rest is done, back into the partial file when it is stopped too.
 */
#include "resume.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libavformat/avformat.h>

#include "join.h"
#include "journal.h"
#include "log.h"
#include "output_file.h"
#include "pipeline.h"
#include "temp_file.h"

typedef struct names {
    char *partial, *journal, *rest, *rest_partial;
} names;

static void names_free(names *n)
{
    free(n->partial);
    free(n->journal);
    free(n->rest);
    free(n->rest_partial);
}

/* NAME.resume.EXT for NAME.EXT. */
static char *rest_name(const char *output)
{
    const char *slash = strrchr(output, '/');
    const char *dot = strrchr(output, '.');
    if (!dot || (slash && dot < slash))
        dot = output + strlen(output);
    size_t size = strlen(output) + sizeof(".resume");
    char *name = malloc(size);
    if (name)
        snprintf(name, size, "%.*s.resume%s", (int)(dot - output), output, dot);
    return name;
}

static int names_init(names *n, const char *output)
{
    n->partial = vsr_partial_name(output, 0);
    n->journal = vsr_journal_name(output);
    n->rest = rest_name(output);
    n->rest_partial = n->rest ? vsr_partial_name(n->rest, 0) : NULL;
    return n->partial && n->journal && n->rest && n->rest_partial ? VSR_OK : VSR_ERROR;
}

static int has_data(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && st.st_size > 0;
}

/* Video frames that can be read back from path, or -1 when it cannot be opened. A read
 * that ends in an error rather than at the end may have cut the last one short. */
static int64_t readable_frames(const char *path)
{
    AVFormatContext *fmt = NULL;
    if (avformat_open_input(&fmt, path, NULL, NULL) < 0)
        return -1;
    int64_t frames = -1;
    int video = avformat_find_stream_info(fmt, NULL) < 0
                    ? -1
                    : av_find_best_stream(fmt, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0);
    AVPacket *pkt = video >= 0 ? av_packet_alloc() : NULL;
    int ret = 0;
    if (pkt) {
        frames = 0;
        while ((ret = av_read_frame(fmt, pkt)) >= 0) {
            frames += pkt->stream_index == video && !(pkt->flags & AV_PKT_FLAG_CORRUPT);
            av_packet_unref(pkt);
        }
        if (ret != AVERROR_EOF && frames > 0)
            frames--;
    }
    av_packet_free(&pkt);
    avformat_close_input(&fmt);
    return frames;
}

/* The last chunk border at or before `frames`, 0 if none. */
static int64_t last_border(const vsr_journal_state *st, int64_t frames)
{
    int64_t border = 0;
    for (int i = 0; i < st->nb_borders; i++)
        if (st->borders[i] <= frames && st->borders[i] > border)
            border = st->borders[i];
    return border;
}

/* A run from the start, its journal beside its partial file; the journal goes with it. */
static int run_fresh(vsr_job *job, const names *n, vsr_run_signal *stop, vsr_report *report)
{
    job->journal = vsr_journal_alloc(n->journal, job, 0);
    int code = vsr_pipeline_run(job, stop, report);
    if (code == VSR_EXIT_OK || (!has_data(n->partial) && job->journal))
        unlink(n->journal);
    vsr_journal_free(&job->journal);
    return code;
}

/* The rest stopped too: its frames join the partial file (which stays the one to resume). */
static void fold_rest_into_partial(const names *n, int64_t border)
{
    if (has_data(n->rest_partial)) {
        const char *parts[2] = {n->partial, n->rest_partial};
        const int64_t keep[2] = {border, 0};
        vsr_join_stats stats;
        vsr_err err;
        if (vsr_join_trimmed(n->partial, parts, keep, 2, 1, &stats, &err) < 0)
            vsr_log(VSR_LOG_WARN, "%s (the next --resume starts after frame %lld)", err.msg,
                    (long long)border);
        else
            vsr_log(VSR_LOG_INFO, "%s: now holds %lld frames", n->partial,
                    (long long)stats.video_frames);
    }
    unlink(n->rest_partial);
}

static int run_rest(vsr_job *job, const names *n, const vsr_journal_state *st, int64_t border,
                    vsr_run_signal *stop, vsr_report *report)
{
    unlink(n->rest); /* a rest of an earlier try that was never joined */
    unlink(n->rest_partial);
    vsr_job rest = *job;
    rest.output = n->rest;
    rest.start_frame += border;
    rest.max_frames = job->max_frames ? job->max_frames - border : 0;
    rest.keep_timestamps = 1;
    rest.chunk = st->chunk;
    rest.overlap = st->overlap;
    rest.overwrite = 0;
    rest.json_path = NULL;
    rest.journal = vsr_journal_alloc(n->journal, job, border);
    vsr_log(VSR_LOG_INFO, "%s: resuming after frame %lld (chunk %d overlap %d)", n->partial,
            (long long)border, st->chunk, st->overlap);
    int code = job->max_frames && rest.max_frames <= 0 ? VSR_EXIT_OK
                                                       : vsr_pipeline_run(&rest, stop, report);
    vsr_journal_free(&rest.journal);
    report->frames_in += border;
    report->frames_out += border;
    if (code != VSR_EXIT_OK) {
        fold_rest_into_partial(n, border);
        if (has_data(n->partial))
            snprintf(report->output, sizeof(report->output), "%s", n->partial);
        return code;
    }
    const char *parts[2] = {n->partial, n->rest};
    const int64_t keep[2] = {border, 0};
    vsr_join_stats stats;
    vsr_err err;
    int count = has_data(n->rest) ? 2 : 1;
    if (vsr_join_trimmed(job->output, parts, keep, count, job->overwrite, &stats, &err) < 0) {
        snprintf(report->error, sizeof(report->error), "%s", err.msg);
        report->exit_code = VSR_EXIT_FAILURE;
        return VSR_EXIT_FAILURE;
    }
    unlink(n->rest);
    unlink(n->partial);
    unlink(n->journal);
    snprintf(report->output, sizeof(report->output), "%s", job->output);
    return VSR_EXIT_OK;
}

static int refuse(vsr_report *report, int code, const vsr_err *err)
{
    snprintf(report->error, sizeof(report->error), "%s", err->msg);
    report->exit_code = code;
    return code;
}

int vsr_resume_run(vsr_job *job, vsr_run_signal *stop, vsr_report *report)
{
    names n = {0};
    vsr_err err = {{0}};
    int code;
    if (names_init(&n, job->output) < 0) {
        vsr_err_set(&err, "out of memory");
        code = refuse(report, VSR_EXIT_FAILURE, &err);
    } else if (!job->resume || job->overwrite || !has_data(n.partial)) {
        code = run_fresh(job, &n, stop, report);
    } else if (vsr_output_check_new(job->output, 0, &err) < 0 ||
               vsr_temp_file_check(job->output, 1, &err) < 0) {
        code = refuse(report, VSR_EXIT_FAILURE, &err); /* done already, or being written */
    } else {
        vsr_journal_state st;
        if (vsr_journal_read(n.journal, job, &st, &err) < 0) {
            code = refuse(report, VSR_EXIT_USAGE, &err);
        } else {
            int64_t frames = readable_frames(n.partial);
            int64_t border = last_border(&st, frames);
            if (border > 0) {
                code = run_rest(job, &n, &st, border, stop, report);
            } else {
                vsr_log(VSR_LOG_WARN, "%s: no complete chunk can be read back (%s): starting over",
                        n.partial, frames < 0 ? "no index: the run was killed" : "too few frames");
                unlink(n.partial);
                code = run_fresh(job, &n, stop, report);
            }
            vsr_journal_state_free(&st);
        }
    }
    names_free(&n);
    return code;
}
