/*
 * The running program. Threads: the reader thread decodes, converts to float R'G'B' and
 * detects scene cuts; this thread plans chunks, submits them to the engine (one computing,
 * the next staged) and hands collected frames to the writer, which encodes and muxes on
 * threads of its own. The engine writes straight into the encoder's frames, so no stage
 * copies a picture for another. Queues between them are bounded, so memory is bounded by
 * the chunk, never by the length of the film.
 */
#include "pipeline.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libavutil/buffer.h>
#include <libavutil/common.h>
#include <libavutil/pixdesc.h>

#include "bigbuf.h"
#include "clock.h"
#include "colour.h"
#include "device_share.h"
#include "input_check.h"
#include "journal.h"
#include "log.h"
#include "output_file.h"
#include "plan.h"
#include "progress.h"
#include "queue.h"
#include "reader.h"
#include "scenecut.h"
#include "scenecut_file.h"
#include "temp_file.h"
#include "writer.h"

/* Decoded frames the reader may run ahead of the engine, at least: more for bigger chunks,
 * so the next chunk with both its overlaps is read while this one computes. */
#define READ_AHEAD 8

typedef struct lr_frame {
    AVBufferRef *buf; /* from the reader's pool: big buffers freed per frame cost page faults */
    float *rgb;       /* buf's data: 3 planes of in_w x in_h */
    int64_t index, pts;
    int cut;     /* starts a new scene */
    int context; /* outside the --start/--frames range: the model's neighbour, not output */
} lr_frame;

typedef struct reader_ctx {
    vsr_reader *reader;
    vsr_writer *writer;
    vsr_frame_reader *convert;
    vsr_scenecut *detector;
    const vsr_cut_list *cut_file;
    const char *path;
    const AVStream *video;
    int warned_interlaced;
    int64_t first_input_frame; /* the input's number of the first frame read */
    vsr_queue *queue;
    AVBufferPool *rgb_pool;
    volatile sig_atomic_t *stop;
    int w, h;
    atomic_llong busy_us; /* decoding and converting; read by the progress line meanwhile */
    int failed;
    vsr_err err;
} reader_ctx;

/* Frames kept for the chunks still to run: indices [base, base + len). */
typedef struct frame_window {
    lr_frame **frames;
    int64_t base;
    int len, cap;
} frame_window;

/* A chunk submitted to the engine and not collected yet, with the buffers it uses. */
typedef struct flight {
    vsr_chunk chunk;
    int64_t scene_begin; /* where planning resumes if it must be retried */
    const float **in;
    AVFrame **out;
    vsr_planes *planes;
} flight;

typedef struct run_state {
    const vsr_job *job;
    reader_ctx *reader;
    volatile sig_atomic_t *stop;
    vsr_run_signal *sig;
    vsr_report *report;
    vsr_engine *engine;
    vsr_device_share *share; /* this process's claim on a shared GPU's memory, or NULL */
    vsr_writer *writer;
    vsr_queue *queue;
    frame_window window;
    flight flights[VSR_ENGINE_MAX_IN_FLIGHT]; /* oldest first */
    int in_flight, max_in_flight;
    /* The kept frames [range_begin, range_end) among those read, context around them;
     * -1 and VSR_SCENE_END_UNKNOWN until the reader has shown them. */
    int64_t range_begin, range_end;
    int eof;
    vsr_progress progress;
    double start;         /* of the work, for the busy fractions */
    vsr_journal *journal; /* the job's, until a write fails */
    vsr_err err;
} run_state;

static void lr_frame_free(lr_frame *f)
{
    if (f) {
        av_buffer_unref(&f->buf);
        free(f);
    }
}

static void lr_frame_free_item(void *item)
{
    lr_frame_free(item);
}

static void copy_packet(void *opaque, AVPacket *packet, const AVStream *stream)
{
    reader_ctx *ctx = opaque;
    vsr_writer_copy_packet(ctx->writer, packet, stream);
}

/* Decodes, converts and marks cuts until the input ends, fails, or we are stopped. */
static void *reader_thread(void *arg)
{
    reader_ctx *ctx = arg;
    AVFrame *frame = av_frame_alloc();
    int64_t index = 0;
    if (!frame) {
        ctx->failed = 1;
        vsr_err_set(&ctx->err, "out of memory");
    }
    while (frame && !*ctx->stop) {
        double t0 = vsr_seconds();
        const int ret = vsr_reader_next(ctx->reader, frame, &ctx->err);
        if (ret <= 0) {
            ctx->failed = ret < 0;
            break;
        }
        if (frame->width != ctx->w || frame->height != ctx->h) {
            vsr_err_set(&ctx->err, "frame %lld changes size from %dx%d to %dx%d", (long long)index,
                        ctx->w, ctx->h, frame->width, frame->height);
            ctx->failed = 1;
            break;
        }
        const int interlaced = vsr_input_check_frame(ctx->path, ctx->video, frame, &ctx->err);
        if (interlaced < 0) {
            ctx->failed = 1;
            break;
        }
        if (interlaced && !ctx->warned_interlaced++)
            vsr_log(VSR_LOG_WARN,
                    "%s: interlaced input, scaled and tagged as progressive frames (deinterlace "
                    "it first, e.g. ffmpeg -vf bwdif)",
                    ctx->path);
        lr_frame *f = calloc(1, sizeof(*f));
        if (f && (f->buf = av_buffer_pool_get(ctx->rgb_pool)))
            f->rgb = (float *)f->buf->data;
        if (!f || !f->buf) {
            lr_frame_free(f);
            vsr_err_set(&ctx->err, "out of memory for frame %lld", (long long)index);
            ctx->failed = 1;
            break;
        }
        f->index = index++;
        f->pts = frame->pts;
        f->context = ret == VSR_READER_CONTEXT;
        if (vsr_frame_reader_convert(ctx->convert, frame, f->rgb, &ctx->err) < 0) {
            lr_frame_free(f);
            ctx->failed = 1;
            break;
        }
        if (ctx->detector)
            f->cut = vsr_scenecut_push(ctx->detector, f->rgb);
        else if (ctx->cut_file)
            f->cut = vsr_cut_list_contains(ctx->cut_file, ctx->first_input_frame + f->index);
        atomic_fetch_add(&ctx->busy_us, (long long)(1e6 * (vsr_seconds() - t0)));
        if (vsr_queue_push(ctx->queue, f) < 0) {
            lr_frame_free(f);
            break;
        }
    }
    av_frame_free(&frame);
    vsr_queue_end(ctx->queue);
    return NULL;
}

static int window_append(frame_window *w, lr_frame *f)
{
    if (w->len == w->cap) {
        int cap = w->cap ? 2 * w->cap : 64;
        lr_frame **frames = realloc(w->frames, cap * sizeof(*frames));
        if (!frames)
            return VSR_ERROR;
        w->frames = frames;
        w->cap = cap;
    }
    w->frames[w->len++] = f;
    return VSR_OK;
}

static lr_frame *window_at(const frame_window *w, int64_t index)
{
    return w->frames[index - w->base];
}

/* Frees frames before `index`: no later chunk reads them. */
static void window_drop_before(frame_window *w, int64_t index)
{
    int n = 0;
    while (n < w->len && w->base + n < index)
        lr_frame_free(w->frames[n++]);
    if (n == 0)
        return;
    memmove(w->frames, w->frames + n, (w->len - n) * sizeof(*w->frames));
    w->len -= n;
    w->base += n;
}

static void window_free(frame_window *w)
{
    window_drop_before(w, INT64_MAX);
    free(w->frames);
}

static int64_t window_end(const frame_window *w)
{
    return w->base + w->len;
}

/* One more frame from the reader. Returns 1, 0 at the end, VSR_ERROR if cancelled. */
static int receive_frame(run_state *s)
{
    void *item;
    int ret = vsr_queue_pop(s->queue, &item);
    if (ret <= 0) {
        s->eof = ret == 0;
        if (s->eof && s->range_end == VSR_SCENE_END_UNKNOWN)
            s->range_end = window_end(&s->window);
        if (s->eof && s->range_begin < 0)
            s->range_begin = s->range_end; /* nothing inside the range */
        return ret;
    }
    lr_frame *f = item;
    if (window_append(&s->window, f) < 0) {
        lr_frame_free(f);
        vsr_err_set(&s->err, "out of memory");
        return VSR_ERROR;
    }
    if (!f->context && s->range_begin < 0)
        s->range_begin = f->index;
    if (f->context && s->range_begin >= 0 && s->range_end == VSR_SCENE_END_UNKNOWN)
        s->range_end = f->index;
    if (f->cut && !f->context && f->index > s->range_begin) {
        /* numbered like the output frames */
        vsr_report *r = s->report;
        if (r->scene_cuts < VSR_REPORT_MAX_CUTS)
            r->cut_frames[r->scene_cuts] = f->index - s->range_begin;
        r->scene_cuts++;
        vsr_log(VSR_LOG_DEBUG, "scene cut at frame %lld", (long long)(f->index - s->range_begin));
    }
    return 1;
}

/* The first cut after scene_begin among the frames received, else the scene's end if known. */
static int64_t scene_end(const run_state *s, int64_t scene_begin)
{
    const frame_window *w = &s->window;
    for (int64_t i = scene_begin + 1 > w->base ? scene_begin + 1 : w->base; i < window_end(w); i++)
        if (window_at(w, i)->cut)
            return i;
    return s->eof ? window_end(w) : VSR_SCENE_END_UNKNOWN;
}

static void flight_free(flight *f)
{
    int keep_count = (int)(f->chunk.keep_end - f->chunk.keep_begin);
    for (int i = 0; f->out && i < keep_count; i++)
        av_frame_free(&f->out[i]);
    free(f->in);
    free(f->out);
    free(f->planes);
    *f = (flight){0};
}

/* Tells the signal handler which chunks a stop would wait for. */
static void publish_in_flight(run_state *s)
{
    int frames = 0;
    for (int i = 0; i < s->in_flight; i++)
        frames += (int)(s->flights[i].chunk.keep_end - s->flights[i].chunk.keep_begin);
    s->sig->frames = frames;
    s->sig->first = s->in_flight ? (int)s->report->chunks + 1 : 0;
    s->sig->last = s->in_flight ? (int)s->report->chunks + s->in_flight : 0;
}

/* Frees the oldest chunk in flight (collected) and its buffers. */
static void pop_flight(run_state *s)
{
    flight_free(&s->flights[0]);
    memmove(s->flights, s->flights + 1, --s->in_flight * sizeof(*s->flights));
    s->flights[s->in_flight] = (flight){0};
    publish_in_flight(s);
}

/* Stages a chunk: output frames from the writer, then the engine's submit. */
static int submit_chunk(run_state *s, const vsr_chunk *c, int64_t scene_begin)
{
    int n_in = (int)(c->context_end - c->context_begin);
    int keep_count = (int)(c->keep_end - c->keep_begin);
    flight *f = &s->flights[s->in_flight];
    *f = (flight){.chunk = *c, .scene_begin = scene_begin};
    f->in = malloc(n_in * sizeof(*f->in));
    f->out = calloc(keep_count, sizeof(*f->out));
    f->planes = malloc(keep_count * sizeof(*f->planes));
    int ok = f->in && f->out && f->planes;
    for (int i = 0; ok && i < n_in; i++)
        f->in[i] = window_at(&s->window, c->context_begin + i)->rgb;
    for (int i = 0; ok && i < keep_count; i++) {
        ok = (f->out[i] = vsr_writer_frame(s->writer)) != NULL;
        for (int p = 0; ok && p < 3; p++) {
            f->planes[i].data[p] = f->out[i]->data[p];
            f->planes[i].linesize[p] = f->out[i]->linesize[p];
        }
    }
    if (!ok) {
        flight_free(f);
        vsr_err_set(&s->err, "out of memory for a chunk of %d frames", keep_count);
        return VSR_ERROR;
    }
    vsr_engine_chunk ec = {.in = f->in,
                           .n_in = n_in,
                           .keep_begin = (int)(c->keep_begin - c->context_begin),
                           .keep_count = keep_count,
                           .out = f->planes,
                           .first_frame = c->keep_begin};
    int ret = vsr_engine_submit(s->engine, &ec, &s->err);
    if (ret < 0) {
        flight_free(f);
        return ret;
    }
    s->in_flight++;
    publish_in_flight(s);
    return VSR_OK;
}

/* Waits for the oldest chunk and queues its frames for encoding; `done` says which it was
 * (and where its scene began), for a retry. */
static int collect_chunk(run_state *s, flight *done)
{
    flight *f = &s->flights[0];
    int ret = vsr_engine_collect(s->engine, &s->err);
    int keep_count = (int)(f->chunk.keep_end - f->chunk.keep_begin);
    for (int i = 0; ret == VSR_OK && i < keep_count; i++) {
        f->out[i]->pts = window_at(&s->window, f->chunk.keep_begin + i)->pts;
        if (vsr_writer_write_frame(s->writer, &f->out[i], &s->err) < 0)
            ret = VSR_ERROR;
    }
    if (ret == VSR_OK && s->report->chunks++ == 0 && s->share)
        vsr_device_share_held(s->share); /* the claim is now allocated on the device */
    *done = (flight){.chunk = f->chunk, .scene_begin = f->scene_begin};
    pop_flight(s);
    return ret;
}

/* Collects what is in flight and throws it away: after an error, or before a retry. */
static void drop_in_flight(run_state *s)
{
    vsr_err ignored;
    while (s->in_flight) {
        vsr_engine_collect(s->engine, &ignored);
        pop_flight(s);
    }
}

/* Frees the frames that neither a chunk in flight nor a later one reads. */
static void drop_read_frames(run_state *s, int64_t keep, int overlap)
{
    int64_t first = keep - overlap;
    if (s->in_flight && s->flights[0].chunk.context_begin < first)
        first = s->flights[0].chunk.context_begin;
    window_drop_before(&s->window, first);
}

/* The chunk size after an out-of-memory chunk of `size` frames (more than one). */
static int retry_smaller(run_state *s, int size)
{
    int smaller = size / 2;
    vsr_log(VSR_LOG_WARN,
            "out of GPU memory on a chunk of %d frames (%s); retrying it and the rest with "
            "chunks of %d",
            size, s->err.msg, smaller);
    s->report->oom_retries++;
    s->report->chunk = smaller;
    return smaller;
}

static int64_t frames_written(void *writer)
{
    return vsr_writer_stats_get(writer).frames;
}

/* Frames written so far and the busiest stage until now. */
static void show_progress(run_state *s)
{
    vsr_writer_stats ws = vsr_writer_stats_get(s->writer);
    const double seconds[VSR_STAGES] = {atomic_load(&s->reader->busy_us) / 1e6,
                                        vsr_engine_busy_seconds(s->engine), ws.encode_seconds,
                                        ws.mux_seconds};
    double busy[VSR_STAGES];
    int busiest = vsr_stages_busy(seconds, ws.encoders, vsr_seconds() - s->start, busy);
    vsr_progress_update(&s->progress, ws.frames, vsr_stage_names[busiest]);
}

/* A journal that cannot be written costs only the chance to resume: warn once. */
static void journal_border(run_state *s, int64_t frames)
{
    vsr_err err;
    if (s->journal && vsr_journal_border(s->journal, frames, &err) < 0) {
        vsr_log(VSR_LOG_WARN, "%s (--resume will start over)", err.msg);
        s->journal = NULL;
    }
}

/*
 * Plans chunks as frames arrive and keeps the engine fed: up to s->max_in_flight chunks
 * submitted, the oldest collected when that many are or nothing more can be planned.
 * Runs until the range is out, or we are stopped (then what is in flight is finished).
 */
static int schedule(run_state *s, int chunk, int overlap)
{
    /* Context frames before the range come first: at most `overlap` of them. */
    while (s->range_begin < 0)
        if (receive_frame(s) < 0)
            return VSR_ERROR;
    int64_t scene_begin = 0, keep = s->range_begin;
    for (;;) {
        int more = !*s->stop && keep < s->range_end;
        if (s->in_flight == s->max_in_flight || (!more && s->in_flight)) {
            flight done;
            int ret = collect_chunk(s, &done);
            int size = (int)(done.chunk.keep_end - done.chunk.keep_begin);
            if (ret == VSR_ERROR_OOM && size > 1) {
                drop_in_flight(s);
                chunk = retry_smaller(s, size);
                keep = done.chunk.keep_begin;
                scene_begin = done.scene_begin;
                continue;
            }
            if (ret < 0)
                return VSR_ERROR;
            drop_read_frames(s, keep, overlap);
            journal_border(s, done.chunk.keep_end - s->range_begin);
            show_progress(s);
            continue;
        }
        if (!more)
            return VSR_OK; /* every frame of the range is out, or we were stopped */
        if (!s->eof && window_end(&s->window) <= keep) {
            if (receive_frame(s) < 0)
                return VSR_ERROR;
            continue;
        }
        int64_t end = scene_end(s, scene_begin);
        if (end != VSR_SCENE_END_UNKNOWN && keep >= end) {
            scene_begin = end;
            continue;
        }
        vsr_chunk c = vsr_plan_chunk_in_range(scene_begin, end, s->range_end, keep, chunk, overlap);
        if (end == VSR_SCENE_END_UNKNOWN && window_end(&s->window) < c.context_end) {
            if (receive_frame(s) < 0)
                return VSR_ERROR;
            continue;
        }
        int ret = submit_chunk(s, &c, scene_begin);
        if (ret == VSR_ERROR_OOM && c.keep_end - c.keep_begin > 1) {
            chunk = retry_smaller(s, (int)(c.keep_end - c.keep_begin));
            continue;
        }
        if (ret < 0)
            return VSR_ERROR;
        keep = c.keep_end;
    }
}

/* Other vsrup processes on the same GPU: budget only what they have not claimed. */
static int share_device(const vsr_job *job, const vsr_engine *engine, vsr_device_share **share,
                        int64_t *pending, int *peers, vsr_err *err)
{
    *pending = 0;
    *peers = 0;
    if (job->memory_limit > 0 || !engine->info.device_id[0])
        return VSR_OK;
    return vsr_device_share_join(share, NULL, engine->info.device_id, pending, peers, err);
}

static int choose_chunk(const vsr_job *job, vsr_engine *engine, vsr_report *report,
                        vsr_device_share **share, vsr_err *err)
{
    const vsr_engine_info *info = &engine->info;
    if (!info->temporal) {
        /* Frames are independent: small chunks keep latency and memory low. A GPU gains from
         * batching a few frames; on the CPU one frame at a time lets the encoders start at
         * once (bench-io.sh, docs/PERFORMANCE.md). */
        int batch = strcmp(info->device, "cpu") ? 8 : 1;
        report->chunk = job->chunk ? job->chunk : batch;
        report->overlap = 0;
        if (job->overlap > 0)
            vsr_log(VSR_LOG_INFO, "%s works frame by frame: --overlap ignored", info->name);
        return VSR_OK;
    }
    report->overlap = job->overlap >= 0 ? job->overlap : VSR_PLAN_DEFAULT_OVERLAP;
    if (job->chunk) {
        report->chunk = job->chunk;
        return VSR_OK;
    }
    vsr_log(VSR_LOG_INFO, "measuring the model's memory per frame (--chunk skips this)");
    vsr_chunk_fit *fit = &report->fit;
    int64_t pending;
    int peers;
    if (share_device(job, engine, share, &pending, &peers, err) < 0)
        return VSR_ERROR;
    const int asked = job->overlap >= 0;
    int ret =
        vsr_chunk_fit_measure(engine, report->overlap, asked, job->memory_limit, pending, fit, err);
    fit->peers = peers;
    if (*share)
        vsr_device_share_claim(*share, ret == VSR_OK ? vsr_chunk_fit_peak(fit) : 0);
    if (ret == VSR_ERROR_OOM) {
        vsr_err_set(err, "%s: even a probe chunk of a few frames does not fit in %s memory",
                    info->name, info->device);
        return VSR_ERROR;
    }
    if (ret < 0)
        return VSR_ERROR;
    if (fit->overlap < report->overlap)
        vsr_log(VSR_LOG_INFO,
                "overlap narrowed from %d to %d: with %d the chunk that fits would be shorter "
                "than %d overlaps (--overlap keeps it)",
                report->overlap, fit->overlap, report->overlap, VSR_CHUNK_FIT_OVERLAPS_PER_CHUNK);
    report->overlap = fit->overlap;
    report->chunk = fit->chunk;
    const double mib = 1024.0 * 1024.0;
    vsr_log(fit->fits ? VSR_LOG_INFO : VSR_LOG_WARN,
            "chunk %d from memory: %.0f MiB per frame computed, %.0f MiB more per frame kept and "
            "%.0f MiB fixed on the %s, budget %.0f MiB%s%s",
            fit->chunk, fit->per_computed / mib, fit->per_kept / mib, fit->fixed / mib,
            fit->device ? "device" : "host", fit->budget / mib,
            fit->host_capped ? " (the CPU's default; --memory-limit gives more)" : "",
            fit->fits ? "" : "; even one frame with its overlap exceeds it, trying anyway");
    if (peers)
        vsr_log(VSR_LOG_INFO,
                "sharing %s with %d other vsrup process(es): %.0f MiB they claimed is left to "
                "them",
                info->device, peers, pending / mib);
    return VSR_OK;
}

/* The frames the run should write; *exact when --frames says so and the header agrees that
 * many are there, else the count is the header's estimate (which may be wrong) or 0. */
static int64_t expected_frames(const vsr_job *job, const vsr_video_info *info, int *exact)
{
    int64_t n = info->frames_estimate - job->start_frame;
    if (n < 0)
        n = 0;
    *exact = job->max_frames && n >= job->max_frames;
    if (job->max_frames && (n == 0 || n > job->max_frames))
        n = job->max_frames;
    return n;
}

static void engine_log(int level, const char *message)
{
    vsr_log(level, "%s", message);
}

static int open_engine(const vsr_job *job, const vsr_video_info *info, vsr_engine **engine,
                       vsr_err *err)
{
    vsr_engine_options options = {
        .model = job->model,
        .scale = job->scale,
        .device = job->device,
        .precision = job->precision,
        .threads = job->compute_threads,
        .cuda_graphs = job->cuda_graphs,
        .in_w = info->width,
        .in_h = info->height,
        .log = engine_log,
    };
    if (vsr_colour_layout(job->format.pix_fmt, &options.out_layout) < 0) {
        vsr_err_set(err, "pixel format %s has no colour layout",
                    av_get_pix_fmt_name(job->format.pix_fmt));
        return VSR_ERROR;
    }
    return vsr_engine_open(engine, &options, err);
}

/* Options only a TorchScript model uses are said to do nothing, not silently dropped. */
static void warn_unused_options(const vsr_job *job, const vsr_engine_info *engine)
{
    if (!vsr_engine_is_builtin(job->model))
        return;
    if (job->cuda_graphs)
        vsr_log(VSR_LOG_WARN, "--cuda-graphs does nothing: the built-in %s engine runs on %s",
                engine->name, engine->device);
    if (job->device && strcmp(job->device, engine->device))
        vsr_log(VSR_LOG_WARN, "-d %s does nothing: the built-in %s engine runs on %s", job->device,
                engine->name, engine->device);
}

static int open_writer(const vsr_job *job, vsr_reader *reader, const vsr_engine_info *engine,
                       int chunk, vsr_writer **writer, vsr_err *err)
{
    const vsr_video_info *info = vsr_reader_info(reader);
    vsr_writer_options options = {
        .path = job->output,
        .format = job->format,
        .width = info->width * engine->scale,
        .height = info->height * engine->scale,
        .time_base = info->time_base,
        .frame_rate = info->frame_rate,
        .sar = info->sar,
        .display_matrix = info->has_display_matrix ? info->display_matrix : NULL,
        .encoders = job->encoders,
        .queue_frames = chunk,
        .copy_audio = job->copy_audio,
        .copy_subtitles = job->copy_subtitles,
        .overwrite = job->overwrite,
        .input = vsr_reader_format(reader),
        .first_frame = job->start_frame,
    };
    return vsr_writer_open(writer, &options, err);
}

static void fill_report_start(vsr_report *r, const vsr_job *job, const vsr_video_info *info,
                              const vsr_engine *engine)
{
    r->engine = engine->info;
    r->in_w = info->width;
    r->in_h = info->height;
    r->out_w = info->width * engine->info.scale;
    r->out_h = info->height * engine->info.scale;
    r->codec = vsr_codec_name(job->format.codec);
    r->profile = vsr_output_profile_name(&job->format);
    r->pix_fmt = av_get_pix_fmt_name(job->format.pix_fmt);
}

/* The start line, and a warning before the long work when most computed frames are context. */
static void log_start(const vsr_job *job, const vsr_report *r, const vsr_engine_info *engine)
{
    char kept[64] = "";
    const double efficiency = vsr_chunk_efficiency(r->chunk, r->overlap);
    if (engine->temporal)
        snprintf(kept, sizeof(kept), ": %.0f%% of computed frames kept", 100 * efficiency);
    vsr_log(VSR_LOG_INFO, "%s: %dx%d -> %dx%d, %s (%s, %s), %s %s %s, chunk %d overlap %d%s",
            job->input, r->in_w, r->in_h, r->out_w, r->out_h, engine->name, engine->device,
            engine->precision, r->codec, r->profile, r->pix_fmt, r->chunk, r->overlap, kept);
    if (!engine->temporal || efficiency >= 0.5)
        return;
    char advice[256];
    if (job->chunk)
        snprintf(advice, sizeof(advice), "a longer --chunk");
    else
        snprintf(advice, sizeof(advice),
                 "smaller input frames (crop or scale down first), or more memory (free some on "
                 "the %s, or raise --memory-limit)",
                 engine->device);
    vsr_log(VSR_LOG_WARN,
            "only %.0f%% of computed frames are kept: each chunk of %d computes %d context "
            "frames%s; for a faster run: %s%s",
            100 * efficiency, r->chunk, 2 * r->overlap,
            job->overlap >= 0 ? " (--overlap as asked)" : "", advice,
            job->overlap >= 0 || job->chunk ? ", or a smaller --overlap" : "");
}

/* Ends the run: drains or cancels the reader, finishes or drops the file. */
static int finish(run_state *s, reader_ctx *rc, pthread_t thread, int ok)
{
    vsr_report *r = s->report;
    drop_in_flight(s); /* only after an error: the engine is done with the frames */
    if (!ok || *s->stop)
        vsr_queue_cancel(s->queue);
    pthread_join(thread, NULL);
    vsr_queue_drain(s->queue, lr_frame_free_item); /* frames read but never run (stopped) */
    vsr_reader_stats stats = vsr_reader_stats_get(rc->reader);
    r->frames_in = stats.frames;
    r->damaged_frames = stats.damaged_frames;
    r->decode_errors = stats.decode_errors;
    r->seconds_decode = atomic_load(&rc->busy_us) / 1e6;
    if (ok && rc->failed) {
        s->err = rc->err;
        ok = 0;
    }
    r->interrupted = ok && *s->stop;
    vsr_writer_stats ws = vsr_writer_stats_get(s->writer);
    /* Keep whatever was encoded: a failed or stopped run leaves a playable partial file. */
    int complete = ok && !r->interrupted;
    if (complete && r->frames_in == 0) { /* an empty file is no output: it is deleted */
        vsr_err_set(&s->err,
                    "%s: no video frame to write (--start past the end, or no frame decodes)",
                    s->job->input);
        ok = complete = 0;
    }
    vsr_err ferr = {{0}};
    int have_output = ws.frames > 0 || complete;
    if (have_output && vsr_writer_finish(s->writer, complete, &ferr) < 0) {
        if (ok)
            s->err = ferr;
        ok = complete = 0;
    }
    ws = vsr_writer_stats_get(s->writer);
    r->output_damaged = ws.damaged;
    r->frames_out = ws.frames;
    r->seconds_encode = ws.encode_seconds;
    r->seconds_mux = ws.mux_seconds;
    r->encoders = ws.encoders;
    r->streams_copied = ws.streams_copied;
    r->streams_skipped = ws.streams_skipped;
    if (have_output)
        snprintf(r->output, sizeof(r->output), "%s", vsr_writer_path(s->writer));
    if (complete && r->frames_out != r->frames_in) {
        vsr_err_set(&s->err, "%s: wrote %lld frames but decoded %lld", r->output,
                    (long long)r->frames_out, (long long)r->frames_in);
        ok = 0;
    }
    if (!ok)
        return VSR_EXIT_FAILURE;
    return r->interrupted ? VSR_EXIT_INTERRUPTED : VSR_EXIT_OK;
}

int vsr_pipeline_run(const vsr_job *job, vsr_run_signal *sig, vsr_report *report)
{
    volatile sig_atomic_t *stop = &sig->stop;
    reader_ctx rc = {.stop = stop};
    run_state s = {.job = job,
                   .reader = &rc,
                   .stop = stop,
                   .sig = sig,
                   .report = report,
                   .range_begin = -1,
                   .range_end = VSR_SCENE_END_UNKNOWN};
    vsr_cut_list cut_file = {0};
    int exit_code = VSR_EXIT_FAILURE;
    double t0 = vsr_seconds();
    report->input = job->input;
    report->model_file = job->model;

    if (vsr_output_check_new(job->output, job->overwrite, &s.err) < 0)
        goto done;
    int partial = vsr_temp_file_check(job->output, job->overwrite, &s.err);
    if (partial < 0) {
        /* refused before doing anything, like an existing output */
        exit_code = partial == VSR_ERROR_PARTIAL_KEPT ? VSR_EXIT_USAGE : VSR_EXIT_FAILURE;
        goto done;
    }
    if (job->scene_cuts == VSR_SCENE_CUTS_FILE &&
        vsr_cut_list_load(&cut_file, job->scene_cuts_file, &s.err) < 0)
        goto done;
    vsr_reader_options ropt = {.path = job->input,
                               .start_frame = job->start_frame,
                               .max_frames = job->max_frames,
                               .keep_timestamps = job->keep_timestamps,
                               .on_packet = copy_packet,
                               .opaque = &rc,
                               .stop = stop};
    if (vsr_reader_open(&rc.reader, &ropt, &s.err) < 0) {
        if (*stop) /* Ctrl-C while the open waited (a FIFO with no writer) */
            exit_code = VSR_EXIT_INTERRUPTED;
        goto done;
    }
    const vsr_video_info *info = vsr_reader_info(rc.reader);
    rc.path = job->input;
    rc.video = vsr_reader_format(rc.reader)->streams[info->stream_index];
    if (vsr_input_check(rc.path, rc.video, info->pix_fmt, &job->format, &s.err) < 0)
        goto done;
    if (open_engine(job, info, &s.engine, &s.err) < 0)
        goto done;
    warn_unused_options(job, &s.engine->info);
    fill_report_start(report, job, info, s.engine);
    if (choose_chunk(job, s.engine, report, &s.share, &s.err) < 0)
        goto done;
    /* A --start/--frames range gets the same context at its borders as inside a whole run. */
    vsr_reader_set_context(rc.reader, report->overlap);
    rc.first_input_frame = job->start_frame - FFMIN(report->overlap, job->start_frame);
    if (open_writer(job, rc.reader, &s.engine->info, report->chunk, &s.writer, &s.err) < 0)
        goto done;

    vsr_err jerr;
    s.journal = job->journal;
    if (s.journal && vsr_journal_start(s.journal, report->chunk, report->overlap, &jerr) < 0) {
        vsr_log(VSR_LOG_WARN, "%s (--resume will start over)", jerr.msg);
        s.journal = NULL;
    }
    rc.writer = s.writer;
    rc.w = info->width;
    rc.h = info->height;
    rc.convert = vsr_frame_reader_alloc();
    rc.rgb_pool = av_buffer_pool_init(sizeof(float) * 3 * (size_t)info->width * info->height,
                                      vsr_bigbuf_alloc);
    if (s.engine->info.temporal && job->scene_cuts == VSR_SCENE_CUTS_AUTO)
        rc.detector = vsr_scenecut_alloc(info->width, info->height);
    rc.cut_file = job->scene_cuts == VSR_SCENE_CUTS_FILE ? &cut_file : NULL;
    s.queue = rc.queue = vsr_queue_alloc(FFMAX(READ_AHEAD, report->chunk + 2 * report->overlap));
    if (!rc.convert || !rc.rgb_pool || !s.queue ||
        (s.engine->info.temporal && job->scene_cuts == VSR_SCENE_CUTS_AUTO && !rc.detector)) {
        vsr_err_set(&s.err, "out of memory");
        goto done;
    }
    log_start(job, report, &s.engine->info);

    pthread_t thread;
    if (pthread_create(&thread, NULL, reader_thread, &rc) != 0) {
        vsr_err_set(&s.err, "cannot start the reader thread");
        goto done;
    }
    int exact;
    int64_t expected = expected_frames(job, info, &exact);
    s.start = vsr_seconds();
    vsr_progress_init(&s.progress, expected, exact, !job->quiet, frames_written, s.writer);
    s.max_in_flight = vsr_engine_max_in_flight(s.engine);
    int ok = schedule(&s, report->chunk, report->overlap) == VSR_OK;
    vsr_progress_finish(&s.progress, vsr_writer_stats_get(s.writer).frames);
    exit_code = finish(&s, &rc, thread, ok);

done:
    report->seconds_total = vsr_seconds() - t0;
    if (s.engine)
        report->seconds_engine = vsr_engine_busy_seconds(s.engine);
    report->exit_code = exit_code;
    if (exit_code == VSR_EXIT_FAILURE || exit_code == VSR_EXIT_USAGE)
        snprintf(report->error, sizeof(report->error), "%s", s.err.msg);
    window_free(&s.window);
    vsr_queue_free(&s.queue);
    av_buffer_pool_uninit(&rc.rgb_pool); /* freed once the last frame is unreferenced */
    vsr_scenecut_free(&rc.detector);
    vsr_frame_reader_free(&rc.convert);
    vsr_writer_close(&s.writer);
    vsr_engine_close(&s.engine);
    vsr_device_share_leave(&s.share);
    vsr_reader_close(&rc.reader);
    vsr_cut_list_free(&cut_file);
    return exit_code;
}
