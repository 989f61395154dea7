/*
 * Demux and sequential decode of the input's best video stream (include/reader.h).
 *
 * Frames are counted as they come out of the decoder, never from header promises.
 * Timestamps are the decoder's best_effort_timestamp, repaired only where they are
 * missing or do not increase. Damaged data is counted and concealed, never fatal.
 *
 * Packets of the other streams go to on_packet. With a --start/--frames window only those
 * inside the window's time range [first kept pts, last kept pts + duration) pass, shifted
 * like the video. The demuxer runs ahead of the decoder and interleaving puts audio a
 * little ahead of or behind the video, so a packet whose fate depends on frames not yet
 * decoded waits in a bounded FIFO until it can be decided. Context frames on either side of
 * the window are decoded frames returned for the model only: never counted, never windowed.
 */
#include "reader.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libavutil/mathematics.h>

#include "compat.h"
#include "file_url.h"
#include "log.h"

/* Held packets beyond this are dropped oldest first: memory stays bounded on odd files. */
#define HELD_PACKETS_MAX 4096
/* Decoder errors in a row while draining, with no frame between, before we stop. */
#define DRAIN_ERRORS_MAX 100

/* What to do with a packet of another stream, given the frames kept so far. */
enum packet_fate {
    PACKET_WAIT,    /* depends on frames not decoded yet */
    PACKET_PASS,    /* inside the kept range */
    PACKET_DROP,    /* before the kept range */
    PACKET_PAST_END /* after the closed range: nothing later is wanted either */
};

typedef struct packet_fifo {
    AVPacket *packets[HELD_PACKETS_MAX];
    int head, count;
} packet_fifo;

struct vsr_reader {
    vsr_reader_options opt; /* opt.path points at `path` */
    char *path;
    AVFormatContext *fmt;
    AVCodecContext *dec;
    AVStream *video;
    AVPacket *packet;
    vsr_video_info info;
    vsr_reader_stats stats;

    int64_t decoded;                 /* frames out of the decoder, dropped ones included */
    int64_t prev_pts, prev_duration; /* last decoded frame, stream time base, unshifted */
    int64_t default_duration;        /* one frame at the nominal rate, in ticks (>= 1) */
    int64_t pts_repaired;
    int64_t pts_jump;  /* added to decoded timestamps since they last went backwards */
    int64_t pts_jumps; /* times they did */
    /* The same for the other streams' packets, per stream: where the next one may start,
     * and what is added to their times (nb_jump entries, the streams known at open). */
    int64_t *next_dts, *dts_jump;
    unsigned nb_jump;
    int in_damage; /* inside a damaged stretch: warn once per stretch */
    int drain_errors;
    int demux_eof, draining, decoder_eof;
    int opening; /* the interrupt callback may end FFmpeg's waits (opt.stop) */

    /* The kept range, in the video time base, unshifted. */
    int windowed;     /* --start/--frames: other streams are filtered to the range */
    int range_open;   /* the first kept frame is known */
    int range_closed; /* no more frames will be kept */
    int past_end;     /* a packet after the closed range was seen: stop demuxing */
    int64_t range_begin, range_end;
    int64_t ts_offset;    /* subtracted from every timestamp; non-zero only with --start */
    int64_t context_left; /* context frames still to return after the closed range */
    packet_fifo held;
    int64_t held_dropped;
};

/* ---- packets of the other streams ----------------------------------------------------- */

static int64_t packet_time(const AVPacket *pkt)
{
    return pkt->pts != AV_NOPTS_VALUE ? pkt->pts : pkt->dts;
}

static enum packet_fate packet_fate(const vsr_reader *r, const AVPacket *pkt)
{
    if (!r->range_open)
        return r->range_closed ? PACKET_PAST_END : PACKET_WAIT;
    const int64_t t = packet_time(pkt);
    if (t == AV_NOPTS_VALUE)
        return PACKET_PASS; /* no better place for it than where it was muxed */
    const AVRational tb = r->fmt->streams[pkt->stream_index]->time_base;
    const AVRational vtb = r->video->time_base;
    /* Without --start the range begins with the file, before the first frame's pts. */
    if (r->opt.start_frame > 0 && av_compare_ts(t, tb, r->range_begin, vtb) < 0)
        return PACKET_DROP;
    if (av_compare_ts(t, tb, r->range_end, vtb) < 0)
        return PACKET_PASS;
    return r->range_closed ? PACKET_PAST_END : PACKET_WAIT;
}

/* Audio and subtitles whose times go back follow on like the video (follow_on), so the muxer
 * takes them instead of refusing every packet after the jump. */
static void follow_on_packet(vsr_reader *r, AVPacket *pkt)
{
    const unsigned i = (unsigned)pkt->stream_index;
    const int64_t t = pkt->dts != AV_NOPTS_VALUE ? pkt->dts : pkt->pts;
    if (i >= r->nb_jump || t == AV_NOPTS_VALUE)
        return;
    if (r->next_dts[i] != AV_NOPTS_VALUE && t + r->dts_jump[i] < r->next_dts[i] - pkt->duration)
        r->dts_jump[i] = r->next_dts[i] - t;
    if (pkt->pts != AV_NOPTS_VALUE)
        pkt->pts += r->dts_jump[i];
    if (pkt->dts != AV_NOPTS_VALUE)
        pkt->dts += r->dts_jump[i];
    r->next_dts[i] = t + r->dts_jump[i] + FFMAX(pkt->duration, 1);
}

/* Shifts the packet like the video, hands it over and unrefs it. */
static void deliver_packet(vsr_reader *r, AVPacket *pkt)
{
    const AVStream *st = r->fmt->streams[pkt->stream_index];
    follow_on_packet(r, pkt);
    if (r->ts_offset) {
        const int64_t shift = av_rescale_q(r->ts_offset, r->video->time_base, st->time_base);
        if (pkt->pts != AV_NOPTS_VALUE)
            pkt->pts -= shift;
        if (pkt->dts != AV_NOPTS_VALUE)
            pkt->dts -= shift;
    }
    r->opt.on_packet(r->opt.opaque, pkt, st);
    av_packet_unref(pkt);
}

/* Acts on a decided fate; the packet is unref'd either way. */
static void settle_packet(vsr_reader *r, AVPacket *pkt, enum packet_fate fate)
{
    if (fate == PACKET_PASS) {
        deliver_packet(r, pkt);
        return;
    }
    if (fate == PACKET_PAST_END)
        r->past_end = 1;
    av_packet_unref(pkt);
}

static AVPacket *fifo_pop(packet_fifo *q)
{
    AVPacket *pkt = q->packets[q->head];
    q->packets[q->head] = NULL;
    q->head = (q->head + 1) % HELD_PACKETS_MAX;
    q->count--;
    return pkt;
}

static int hold_packet(vsr_reader *r, AVPacket *pkt, vsr_err *err)
{
    packet_fifo *q = &r->held;
    if (q->count == HELD_PACKETS_MAX) {
        AVPacket *oldest = fifo_pop(q);
        av_packet_free(&oldest);
        if (!r->held_dropped++)
            vsr_log(VSR_LOG_WARN,
                    "%s: more than %d audio/subtitle packets ahead of the video; dropping the "
                    "oldest",
                    r->path, HELD_PACKETS_MAX);
    }
    AVPacket *copy = av_packet_alloc();
    if (!copy) {
        vsr_err_set(err, "%s: out of memory holding a packet", r->path);
        return VSR_ERROR;
    }
    av_packet_move_ref(copy, pkt);
    q->packets[(q->head + q->count) % HELD_PACKETS_MAX] = copy;
    q->count++;
    return VSR_OK;
}

/* Settles held packets from the oldest on, up to the first one that must still wait. */
static void flush_held(vsr_reader *r)
{
    packet_fifo *q = &r->held;
    while (q->count) {
        const enum packet_fate fate = packet_fate(r, q->packets[q->head]);
        if (fate == PACKET_WAIT)
            return;
        AVPacket *pkt = fifo_pop(q);
        settle_packet(r, pkt, fate);
        av_packet_free(&pkt);
    }
}

/* Before --start: held packets up to a dropped frame's pts cannot be in the range. */
static void prune_held(vsr_reader *r, int64_t dropped_pts)
{
    packet_fifo *q = &r->held;
    while (q->count) {
        const AVPacket *pkt = q->packets[q->head];
        const int64_t t = packet_time(pkt);
        const AVRational tb = r->fmt->streams[pkt->stream_index]->time_base;
        if (t != AV_NOPTS_VALUE && av_compare_ts(t, tb, dropped_pts, r->video->time_base) > 0)
            return;
        AVPacket *old = fifo_pop(q);
        av_packet_free(&old);
    }
}

static int route_packet(vsr_reader *r, AVPacket *pkt, vsr_err *err)
{
    if (!r->windowed) {
        deliver_packet(r, pkt);
        return VSR_OK;
    }
    /* Behind a waiting packet this one waits too, so packets keep their muxed order. */
    const enum packet_fate fate = r->held.count ? PACKET_WAIT : packet_fate(r, pkt);
    if (fate == PACKET_WAIT)
        return hold_packet(r, pkt, err);
    settle_packet(r, pkt, fate);
    return VSR_OK;
}

static void close_range(vsr_reader *r)
{
    r->range_closed = 1;
    if (r->windowed)
        flush_held(r);
}

/* ---- frames ---------------------------------------------------------------------------- */

static void note_damage(vsr_reader *r, const char *what, int64_t frame_index)
{
    if (r->in_damage)
        return;
    r->in_damage = 1;
    vsr_log(VSR_LOG_WARN, "%s: %s at frame %" PRId64 "; concealed frames are kept", r->path, what,
            frame_index);
}

/*
 * Timestamps that go backwards (recordings joined byte-wise, as concatenated MPEG-TS often
 * are) would otherwise crowd every later frame into one tick after the previous: from there on
 * frames follow the previous one at its duration, keeping the input's own spacing. A time
 * repeated exactly is a remux's rounding instead and only moves on one tick.
 */
static int64_t follow_on(vsr_reader *r, int64_t ts)
{
    const int64_t next = r->prev_pts + r->prev_duration;
    if (!r->pts_jumps++)
        vsr_log(VSR_LOG_WARN,
                "%s: timestamps go back at frame %" PRId64 " (joined recordings?); later frames "
                "are retimed to follow on at the input's rate",
                r->path, r->decoded);
    vsr_log(VSR_LOG_DEBUG, "%s: frame %" PRId64 ": pts %" PRId64 " after %" PRId64, r->path,
            r->decoded, ts, r->prev_pts);
    r->pts_jump += next - ts;
    return next;
}

/* The frame's timestamp in the stream time base, strictly after the previous one. */
static int64_t frame_timestamp(vsr_reader *r, const AVFrame *frame, int64_t *duration)
{
    int64_t dur = vsr_frame_duration(frame);
    if (dur <= 0)
        dur = r->default_duration;
    int64_t ts = frame->best_effort_timestamp;
    if (ts != AV_NOPTS_VALUE)
        ts += r->pts_jump;
    if (r->prev_pts != AV_NOPTS_VALUE) {
        if (ts == AV_NOPTS_VALUE) {
            ts = r->prev_pts + r->prev_duration;
            r->pts_repaired++;
        } else if (ts < r->prev_pts) {
            ts = follow_on(r, ts);
            r->pts_repaired++;
        } else if (ts == r->prev_pts) { /* a repeated time: the next tick, the spacing kept */
            ts = r->prev_pts + 1;
            r->pts_repaired++;
        }
    } else if (ts == AV_NOPTS_VALUE) {
        ts = 0;
        r->pts_repaired++;
    }
    r->prev_pts = ts;
    r->prev_duration = dur;
    *duration = dur;
    return ts;
}

/* Stamps a decoded frame: VSR_READER_FRAME or _CONTEXT, or 0 when it is not wanted. */
static int take_frame(vsr_reader *r, AVFrame *frame)
{
    int64_t duration;
    const int64_t ts = frame_timestamp(r, frame, &duration);
    const int64_t index = r->decoded++;
    if (r->range_closed) { /* a context frame's pts is left as decoded: it is never written */
        r->context_left--;
        return VSR_READER_CONTEXT;
    }
    if (index < r->opt.start_frame) {
        prune_held(r, ts);
        return index >= r->opt.start_frame - r->opt.context_frames ? VSR_READER_CONTEXT : 0;
    }
    if ((frame->flags & AV_FRAME_FLAG_CORRUPT) || frame->decode_error_flags) {
        note_damage(r, "damaged video data", index);
        r->stats.damaged_frames++;
    } else {
        r->in_damage = 0;
    }
    if (!r->range_open) {
        r->range_open = 1;
        r->range_begin = ts;
        r->ts_offset = r->opt.start_frame > 0 && !r->opt.keep_timestamps ? ts : 0;
    }
    r->range_end = ts + duration;
    frame->pts = ts - r->ts_offset;
    frame->best_effort_timestamp = frame->pts;
    vsr_frame_set_duration(frame, duration);
    r->stats.frames++;
    if (r->opt.max_frames > 0 && r->stats.frames >= r->opt.max_frames) {
        close_range(r);
        r->context_left = r->opt.context_frames;
    } else if (r->windowed) {
        flush_held(r);
    }
    return VSR_READER_FRAME;
}

/* Reads one packet: video goes to the decoder, the rest to route_packet. */
static int feed_decoder(vsr_reader *r, vsr_err *err)
{
    if (r->draining) {
        /* The decoder asked for input after the flush: it broke its contract; end here. */
        r->decoder_eof = 1;
        return VSR_OK;
    }
    if (r->demux_eof) {
        avcodec_send_packet(r->dec, NULL);
        r->draining = 1;
        return VSR_OK;
    }
    int ret = av_read_frame(r->fmt, r->packet);
    if (ret < 0) {
        if (ret != AVERROR_EOF)
            vsr_log(VSR_LOG_WARN, "%s: read error (%s); treating it as the end of the file",
                    r->path, av_err2str(ret));
        r->demux_eof = 1;
        return VSR_OK;
    }
    if (r->packet->stream_index != r->video->index) {
        if (r->fmt->streams[r->packet->stream_index]->discard >= AVDISCARD_ALL) {
            av_packet_unref(r->packet);
            return VSR_OK;
        }
        return route_packet(r, r->packet, err);
    }
    ret = avcodec_send_packet(r->dec, r->packet);
    av_packet_unref(r->packet);
    if (ret < 0) {
        r->stats.decode_errors++;
        note_damage(r, "the decoder rejected a packet", r->decoded);
    }
    return VSR_OK;
}

/* After the last kept frame: pass the other streams' packets still inside the range. */
static void finish_window(vsr_reader *r)
{
    while (r->windowed && !r->past_end && !r->demux_eof) {
        int ret = av_read_frame(r->fmt, r->packet);
        if (ret < 0) {
            r->demux_eof = 1;
            break;
        }
        const AVStream *st = r->fmt->streams[r->packet->stream_index];
        if (st == r->video || st->discard >= AVDISCARD_ALL)
            av_packet_unref(r->packet);
        else
            settle_packet(r, r->packet, packet_fate(r, r->packet));
    }
}

int vsr_reader_next(vsr_reader *r, AVFrame *frame, vsr_err *err)
{
    av_frame_unref(frame);
    while (!r->range_closed || r->context_left > 0) {
        if (r->decoder_eof) {
            close_range(r);
            break;
        }
        int ret = avcodec_receive_frame(r->dec, frame);
        if (ret == 0) {
            r->drain_errors = 0;
            ret = take_frame(r, frame);
            if (ret)
                return ret;
            av_frame_unref(frame);
            continue;
        }
        if (ret == AVERROR_EOF) {
            r->decoder_eof = 1;
            continue;
        }
        if (ret != AVERROR(EAGAIN)) {
            r->stats.decode_errors++;
            note_damage(r, "the decoder failed", r->decoded);
            if (r->draining) {
                if (++r->drain_errors > DRAIN_ERRORS_MAX) {
                    vsr_log(VSR_LOG_WARN, "%s: the decoder keeps failing; stopping here", r->path);
                    r->decoder_eof = 1;
                }
                continue;
            }
        }
        if (feed_decoder(r, err) < 0)
            return VSR_ERROR;
    }
    finish_window(r);
    return 0;
}

/* ---- opening --------------------------------------------------------------------------- */

/* The best video stream; cover art only when nothing else is there is no video at all. */
static int pick_video_stream(AVFormatContext *fmt)
{
    int best = av_find_best_stream(fmt, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0);
    if (best < 0 || !(fmt->streams[best]->disposition & AV_DISPOSITION_ATTACHED_PIC))
        return best;
    /* libavformat ranked a still picture first: take the first moving video instead. */
    for (unsigned i = 0; i < fmt->nb_streams; i++) {
        const AVStream *st = fmt->streams[i];
        if (st->codecpar->codec_type == AVMEDIA_TYPE_VIDEO &&
            !(st->disposition & AV_DISPOSITION_ATTACHED_PIC))
            return (int)i;
    }
    return AVERROR_STREAM_NOT_FOUND;
}

/* Errors that mean the bytes are no media FFmpeg knows, rather than an I/O failure. */
static int not_media(int ret)
{
    return ret == AVERROR_INVALIDDATA || ret == AVERROR_EOF;
}

/* Whether the file starts like an MP4/MOV: a box libavformat rejects when the index (the
 * moov box, written last by most muxers) never came, as after a crash or a cut download. */
static int looks_like_mp4(const char *path)
{
    static const char *const boxes[] = {"ftyp", "mdat", "wide", "free", "skip"};
    unsigned char head[8];
    FILE *f = fopen(path, "rb");
    const int n = f ? (int)fread(head, 1, sizeof(head), f) : 0;
    if (f)
        fclose(f);
    for (size_t i = 0; n == sizeof(head) && i < sizeof(boxes) / sizeof(boxes[0]); i++)
        if (!memcmp(head + 4, boxes[i], 4))
            return 1;
    return 0;
}

/* FFmpeg's interrupt callback: only while opening, so that a stop during the run still lets
 * the reader finish its frames in flight. */
static int open_interrupted(void *opaque)
{
    const vsr_reader *r = opaque;
    return r->opening && r->opt.stop && *r->opt.stop;
}

static int open_format(vsr_reader *r, vsr_err *err)
{
    char url[4096];
    int ret = avformat_open_input(&r->fmt, vsr_file_url(r->path, url, sizeof(url)), NULL, NULL);
    if (ret < 0 && r->opt.stop && *r->opt.stop) { /* EINTR from open(), or the callback */
        vsr_err_set(err, "%s: interrupted while opening", r->path);
        return VSR_ERROR;
    }
    if (not_media(ret) && looks_like_mp4(r->path)) {
        vsr_err_set(err, "%s: truncated or not finished: no moov atom (the MP4/MOV index)",
                    r->path);
        return VSR_ERROR;
    }
    if (not_media(ret)) {
        vsr_err_set(err, "%s: not a video (no known media format)", r->path);
        return VSR_ERROR;
    }
    if (ret == AVERROR_PROTOCOL_NOT_FOUND) { /* "x:y/film.avi" that is not on disk */
        vsr_err_set(err, "%s: cannot open: no such file, nor a URL FFmpeg knows", r->path);
        return VSR_ERROR;
    }
    if (ret < 0) {
        vsr_err_set(err, "%s: cannot open: %s", r->path, av_err2str(ret));
        return VSR_ERROR;
    }
    /* The tty demuxer renders any longer .txt file as ANSI art: never a film. */
    if (!strcmp(r->fmt->iformat->name, "tty")) {
        vsr_err_set(err, "%s: not a video (a text file)", r->path);
        return VSR_ERROR;
    }
    /* Tiny files can be claimed by a demuxer from their extension alone, then fail here. */
    ret = avformat_find_stream_info(r->fmt, NULL);
    if (not_media(ret)) {
        vsr_err_set(err, "%s: not a video (%s data: %s)", r->path, r->fmt->iformat->name,
                    av_err2str(ret));
        return VSR_ERROR;
    }
    if (ret < 0) {
        vsr_err_set(err, "%s: cannot read the stream headers: %s", r->path, av_err2str(ret));
        return VSR_ERROR;
    }
    ret = pick_video_stream(r->fmt);
    if (ret < 0) {
        vsr_err_set(err, "%s: no video stream", r->path);
        return VSR_ERROR;
    }
    r->video = r->fmt->streams[ret];

    /* Only the streams someone consumes are demuxed. */
    int forwarded = 0;
    for (unsigned i = 0; i < r->fmt->nb_streams; i++) {
        AVStream *st = r->fmt->streams[i];
        const int wanted =
            st == r->video || (r->opt.on_packet && st->codecpar->codec_type != AVMEDIA_TYPE_VIDEO);
        st->discard = wanted ? AVDISCARD_DEFAULT : AVDISCARD_ALL;
        forwarded += wanted && st != r->video;
    }
    r->windowed = forwarded && (r->opt.start_frame > 0 || r->opt.max_frames > 0);
    r->next_dts = malloc(sizeof(*r->next_dts) * r->fmt->nb_streams);
    r->dts_jump = calloc(r->fmt->nb_streams, sizeof(*r->dts_jump));
    if (!r->next_dts || !r->dts_jump) {
        vsr_err_set(err, "%s: out of memory", r->path);
        return VSR_ERROR;
    }
    r->nb_jump = r->fmt->nb_streams;
    for (unsigned i = 0; i < r->nb_jump; i++)
        r->next_dts[i] = AV_NOPTS_VALUE;
    return VSR_OK;
}

static int open_input(vsr_reader *r, vsr_err *err)
{
    if (!(r->fmt = avformat_alloc_context())) {
        vsr_err_set(err, "%s: out of memory", r->path);
        return VSR_ERROR;
    }
    r->fmt->interrupt_callback = (AVIOInterruptCB){.callback = open_interrupted, .opaque = r};
    r->opening = 1;
    int ret = open_format(r, err);
    r->opening = 0;
    return ret;
}

static int open_decoder(vsr_reader *r, vsr_err *err)
{
    const AVCodecParameters *par = r->video->codecpar;
    const AVCodec *codec = avcodec_find_decoder(par->codec_id);
    if (!codec) {
        vsr_err_set(err, "%s: no decoder for video codec %s", r->path,
                    avcodec_get_name(par->codec_id));
        return VSR_ERROR;
    }
    r->dec = avcodec_alloc_context3(codec);
    if (!r->dec) {
        vsr_err_set(err, "%s: out of memory for the decoder", r->path);
        return VSR_ERROR;
    }
    int ret = avcodec_parameters_to_context(r->dec, par);
    if (ret >= 0) {
        r->dec->pkt_timebase = r->video->time_base;
        r->dec->thread_count = r->opt.threads; /* 0 lets libavcodec pick */
        ret = avcodec_open2(r->dec, codec, NULL);
    }
    if (ret < 0) {
        vsr_err_set(err, "%s: cannot open the %s decoder: %s", r->path, codec->name,
                    av_err2str(ret));
        return VSR_ERROR;
    }
    return VSR_OK;
}

static int valid_rate(AVRational q)
{
    return q.num > 0 && q.den > 0;
}

static void fill_info(vsr_reader *r)
{
    const AVStream *st = r->video;
    const AVCodecParameters *par = st->codecpar;
    vsr_video_info *info = &r->info;

    info->width = par->width;
    info->height = par->height;
    info->pix_fmt = r->dec->pix_fmt != AV_PIX_FMT_NONE ? r->dec->pix_fmt : par->format;
    info->time_base = st->time_base;
    info->frame_rate = valid_rate(st->avg_frame_rate) ? st->avg_frame_rate : st->r_frame_rate;
    info->sar =
        valid_rate(st->sample_aspect_ratio) ? st->sample_aspect_ratio : par->sample_aspect_ratio;
    info->stream_index = st->index;

    const int have_rate = valid_rate(info->frame_rate);
    const AVRational frame_tb = have_rate ? av_inv_q(info->frame_rate) : (AVRational){0, 1};
    if (st->nb_frames > 0)
        info->frames_estimate = st->nb_frames;
    else if (have_rate && st->duration != AV_NOPTS_VALUE)
        info->frames_estimate = av_rescale_q(st->duration, st->time_base, frame_tb);
    else if (have_rate && r->fmt->duration != AV_NOPTS_VALUE)
        info->frames_estimate = av_rescale_q(r->fmt->duration, AV_TIME_BASE_Q, frame_tb);

    const int32_t *matrix = vsr_stream_display_matrix(st);
    if (matrix) {
        info->has_display_matrix = 1;
        memcpy(info->display_matrix, matrix, sizeof(info->display_matrix));
    }

    r->default_duration = have_rate ? av_rescale_q(1, frame_tb, st->time_base) : 1;
    if (r->default_duration < 1)
        r->default_duration = 1;
}

int vsr_reader_open(vsr_reader **reader, const vsr_reader_options *options, vsr_err *err)
{
    *reader = NULL;
    if (!options->path || !*options->path) {
        vsr_err_set(err, "reader: no input file given");
        return VSR_ERROR;
    }
    if (options->start_frame < 0 || options->max_frames < 0 || options->context_frames < 0) {
        vsr_err_set(err, "%s: negative start frame, frame count or context", options->path);
        return VSR_ERROR;
    }
    vsr_reader *r = calloc(1, sizeof(*r));
    if (!r || !(r->path = strdup(options->path)) || !(r->packet = av_packet_alloc())) {
        vsr_err_set(err, "%s: out of memory", options->path);
        vsr_reader_close(&r);
        return VSR_ERROR;
    }
    r->opt = *options;
    r->opt.path = r->path;
    r->prev_pts = AV_NOPTS_VALUE;
    if (open_input(r, err) < 0 || open_decoder(r, err) < 0) {
        vsr_reader_close(&r);
        return VSR_ERROR;
    }
    fill_info(r);
    *reader = r;
    return VSR_OK;
}

void vsr_reader_set_context(vsr_reader *reader, int64_t context_frames)
{
    reader->opt.context_frames = context_frames > 0 ? context_frames : 0;
}

const vsr_video_info *vsr_reader_info(const vsr_reader *reader)
{
    return &reader->info;
}

const AVFormatContext *vsr_reader_format(const vsr_reader *reader)
{
    return reader->fmt;
}

vsr_reader_stats vsr_reader_stats_get(const vsr_reader *reader)
{
    return reader->stats;
}

void vsr_reader_close(vsr_reader **reader)
{
    vsr_reader *r = *reader;
    if (!r)
        return;
    if (r->pts_repaired)
        vsr_log(VSR_LOG_DEBUG, "%s: %" PRId64 " missing or non-increasing timestamps repaired",
                r->path, r->pts_repaired);
    while (r->held.count) {
        AVPacket *pkt = fifo_pop(&r->held);
        av_packet_free(&pkt);
    }
    free(r->next_dts);
    free(r->dts_jump);
    av_packet_free(&r->packet);
    avcodec_free_context(&r->dec);
    avformat_close_input(&r->fmt);
    free(r->path);
    free(r);
    *reader = NULL;
}
