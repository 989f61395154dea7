/*
 * The output file: video encoded by an encoder pool and muxed by a thread of its own,
 * audio and subtitles copied from the input, all muxed under one lock into a temporary
 * file that is renamed on success.
 */
#include "writer.h"

#include <errno.h>
#include <libavutil/imgutils.h>
#include <libavutil/opt.h>
#include <libavutil/pixdesc.h>
#include <pthread.h>
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bigbuf.h"
#include "clock.h"
#include "compat.h"
#include "encoder_pool.h"
#include "log.h"
#include "output_file.h"
#include "temp_file.h"

/*
 * Fixed quantiser for prores_ks instead of its default rate control, which searches a
 * quantiser per slice: on upscaled film at 4096x1728 qscale 1 gives the same file, bit for
 * bit the same size and PSNR, for about a quarter of the CPU time (docs/ENCODERS.md).
 */
#define PRORES_QSCALE 1
#define MAX_ENCODERS 64
#define MAX_PLANES 4

struct vsr_writer {
    vsr_writer_options options;
    char *final_path;
    vsr_temp_file *file;
    AVFormatContext *output;
    AVStream *video;
    AVRational encoder_time_base;
    vsr_encoder_pool *encoders;

    /* Input stream index -> output stream, NULL when not copied. */
    AVStream **copied;
    int nb_input_streams;

    /* Serialises av_interleaved_write_frame between the video and the reader thread;
     * guards stats too. */
    pthread_mutex_t mux_lock;
    int trailer_written, renamed;

    /* Takes packets from the pool in frame order and muxes them. */
    pthread_t mux_thread;
    int mux_started;
    int mux_result; /* what take_packet last said: 0 at the end, VSR_ERROR */
    vsr_err mux_err;

    /* The last encoded packet waits for the next so its duration is the pts difference.
     * Only the mux thread touches it until it is joined. */
    AVPacket *held;
    int64_t last_delta;          /* pts difference of the last two frames */
    int64_t last_frame_duration; /* what the newest frame said, 0 if nothing */

    AVBufferPool *planes[MAX_PLANES];
    int linesize[MAX_PLANES];
    int nb_planes;

    vsr_writer_stats stats;
};

static void *mux_thread_main(void *arg);

static int is_rgb(enum AVPixelFormat fmt)
{
    const AVPixFmtDescriptor *desc = av_pix_fmt_desc_get(fmt);
    return desc && (desc->flags & AV_PIX_FMT_FLAG_RGB);
}

static void set_colour(AVCodecContext *c, enum AVPixelFormat fmt)
{
    c->color_primaries = AVCOL_PRI_BT709;
    c->color_trc = AVCOL_TRC_BT709;
    c->colorspace = is_rgb(fmt) ? AVCOL_SPC_RGB : AVCOL_SPC_BT709;
    c->color_range = is_rgb(fmt) ? AVCOL_RANGE_JPEG : AVCOL_RANGE_MPEG;
}

static void tag_frame(AVFrame *frame, const vsr_writer *w)
{
    int rgb = is_rgb(w->options.format.pix_fmt);
    frame->color_primaries = AVCOL_PRI_BT709;
    frame->color_trc = AVCOL_TRC_BT709;
    frame->colorspace = rgb ? AVCOL_SPC_RGB : AVCOL_SPC_BT709;
    frame->color_range = rgb ? AVCOL_RANGE_JPEG : AVCOL_RANGE_MPEG;
    frame->sample_aspect_ratio = w->options.sar;
}

/* One encoder context, configured the same way every time it is called. */
static int open_encoder(const vsr_writer *w, int global_header, AVCodecContext **out, vsr_err *err)
{
    const vsr_writer_options *o = &w->options;
    static const char *const encoder_names[] = {
        [VSR_CODEC_PRORES] = "prores_ks", [VSR_CODEC_FFV1] = "ffv1", [VSR_CODEC_DNXHR] = "dnxhd"};
    const char *name = encoder_names[o->format.codec];
    const AVCodec *codec = avcodec_find_encoder_by_name(name);
    if (!codec) {
        vsr_err_set(err, "%s: this FFmpeg has no %s encoder", o->path, name);
        return VSR_ERROR;
    }
    AVCodecContext *c = avcodec_alloc_context3(codec);
    if (!c) {
        vsr_err_set(err, "out of memory for the %s encoder", name);
        return VSR_ERROR;
    }
    c->width = o->width;
    c->height = o->height;
    c->pix_fmt = o->format.pix_fmt;
    c->time_base = w->encoder_time_base;
    if (o->frame_rate.num > 0 && o->frame_rate.den > 0)
        c->framerate = o->frame_rate;
    c->sample_aspect_ratio = o->sar;
    c->field_order = AV_FIELD_PROGRESSIVE;
    set_colour(c, o->format.pix_fmt);
    /* Parallelism comes from several contexts; frame threads would delay packets. */
    c->thread_count = 1;
    c->thread_type = FF_THREAD_SLICE;
    if (global_header)
        c->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;

    switch (o->format.codec) {
    case VSR_CODEC_PRORES:
        /* The encoder reads its private option; MXF reads codecpar->profile. */
        av_opt_set_int(c->priv_data, "profile", o->format.profile, 0);
        c->profile = o->format.profile;
        c->flags |= AV_CODEC_FLAG_QSCALE;
        c->global_quality = PRORES_QSCALE * FF_QP2LAMBDA;
        break;
    case VSR_CODEC_FFV1:
        c->level = 3;
        c->gop_size = 1;
        c->slices = vsr_ffv1_slices(o->width, o->height, o->format.pix_fmt);
        av_opt_set_int(c->priv_data, "slicecrc", 1, 0);
        break;
    case VSR_CODEC_DNXHR:
        av_opt_set_int(c->priv_data, "profile", o->format.profile, 0);
        c->profile = o->format.profile;
        break;
    default:
        break;
    }

    int ret = avcodec_open2(c, codec, NULL);
    if (ret < 0) {
        vsr_err_set(err, "%s: cannot open the %s encoder (%dx%d %s): %s", o->path, name, o->width,
                    o->height, av_get_pix_fmt_name(o->format.pix_fmt), av_err2str(ret));
        avcodec_free_context(&c);
        return VSR_ERROR;
    }
    *out = c;
    return VSR_OK;
}

static int encoder_count(int requested)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    int n = requested > 0 ? requested : cores > 0 ? (int)cores : 1;
    return n > MAX_ENCODERS ? MAX_ENCODERS : n;
}

/*
 * MXF knows only the standard rates and counts time in frames: its stream time base must be
 * 1/rate, and it refuses near misses such as AVI's 2997/125 for 23.976. Frames of a rate
 * within 0.1% of a standard one are timed in that rate's ticks. Other containers keep the
 * input's time base, so variable frame rates pass through unchanged.
 */
static AVRational encoder_time_base(const AVOutputFormat *format, const vsr_writer_options *o)
{
    static const AVRational standard[] = {{24000, 1001}, {24, 1},  {25, 1},        {30000, 1001},
                                          {30, 1},       {48, 1},  {50, 1},        {60000, 1001},
                                          {60, 1},       {100, 1}, {120000, 1001}, {120, 1}};
    if (!strstr(format->name, "mxf") || o->frame_rate.num <= 0 || o->frame_rate.den <= 0)
        return o->time_base;
    for (size_t i = 0; i < sizeof(standard) / sizeof(standard[0]); i++)
        if (fabs(av_q2d(o->frame_rate) / av_q2d(standard[i]) - 1) < 1e-3)
            return av_inv_q(standard[i]);
    return o->time_base;
}

/* Opens the contexts, sets up the video stream from the first one, starts the pool. */
static int setup_video(vsr_writer *w, const int32_t *display_matrix, vsr_err *err)
{
    const vsr_writer_options *o = &w->options;
    int global_header = (w->output->oformat->flags & AVFMT_GLOBALHEADER) != 0;
    int count = encoder_count(o->encoders);
    AVCodecContext **contexts = calloc(count, sizeof(*contexts));
    if (!contexts) {
        vsr_err_set(err, "out of memory");
        return VSR_ERROR;
    }
    for (int i = 0; i < count; i++) {
        if (open_encoder(w, global_header, &contexts[i], err) < 0) {
            for (int j = 0; j < i; j++)
                avcodec_free_context(&contexts[j]);
            free(contexts);
            return VSR_ERROR;
        }
    }

    w->video = avformat_new_stream(w->output, NULL);
    int ret = w->video ? avcodec_parameters_from_context(w->video->codecpar, contexts[0])
                       : AVERROR(ENOMEM);
    if (ret >= 0 && display_matrix)
        ret = vsr_stream_add_display_matrix(w->video, display_matrix);
    if (ret < 0) {
        for (int i = 0; i < count; i++)
            avcodec_free_context(&contexts[i]);
        free(contexts);
        vsr_err_set(err, "%s: cannot set up the video stream: %s", o->path, av_err2str(ret));
        return VSR_ERROR;
    }
    w->video->time_base = w->encoder_time_base;
    w->video->sample_aspect_ratio = o->sar;
    if (o->frame_rate.num > 0 && o->frame_rate.den > 0)
        w->video->avg_frame_rate = o->frame_rate;
    /* Two frames per encoder (one encoding, one waiting, so no thread idles), and at least
     * what the caller hands over at once (a chunk), so it does not wait on the encoders. */
    int depth = 2 * count > o->queue_frames ? 2 * count : o->queue_frames;
    w->stats.encoders = count;
    return vsr_encoder_pool_create(&w->encoders, contexts, count, depth, err);
}

static int is_pcm(enum AVCodecID id)
{
    const AVCodecDescriptor *desc = avcodec_descriptor_get(id);
    return desc && !strncmp(desc->name, "pcm_", 4);
}

/* Audio codecs MOV carries by copy; avformat_query_codec alone is only a hint. */
static int mov_takes_audio(enum AVCodecID id)
{
    static const enum AVCodecID known[] = {AV_CODEC_ID_AAC,  AV_CODEC_ID_AC3, AV_CODEC_ID_EAC3,
                                           AV_CODEC_ID_ALAC, AV_CODEC_ID_MP3, AV_CODEC_ID_MP2,
                                           AV_CODEC_ID_DTS};
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
        if (known[i] == id)
            return 1;
    return is_pcm(id);
}

/* NULL when the container takes the stream, else why not. */
static const char *refusal(const AVOutputFormat *format, const AVCodecParameters *par)
{
    const char *name = format->name;
    if (strstr(name, "matroska"))
        return NULL;
    if (par->codec_type == AVMEDIA_TYPE_ATTACHMENT)
        return "only MKV holds attachments";
    if (strstr(name, "mxf")) {
        if (par->codec_type != AVMEDIA_TYPE_AUDIO || !is_pcm(par->codec_id))
            return "MXF takes only PCM audio";
        return par->sample_rate == 48000 ? NULL : "MXF takes only 48 kHz PCM";
    }
    if (strstr(name, "mov")) {
        if (par->codec_type == AVMEDIA_TYPE_SUBTITLE)
            return par->codec_id == AV_CODEC_ID_MOV_TEXT ? NULL
                                                         : "MOV takes only mov_text subtitles";
        return mov_takes_audio(par->codec_id) ? NULL : "MOV does not take this audio codec";
    }
    return avformat_query_codec(format, par->codec_id, FF_COMPLIANCE_NORMAL) == 1
               ? NULL
               : "the container does not take this codec";
}

static int setup_copies(vsr_writer *w, const AVFormatContext *in, vsr_err *err)
{
    if (!in)
        return VSR_OK;
    w->nb_input_streams = (int)in->nb_streams;
    w->copied = calloc(in->nb_streams ? in->nb_streams : 1, sizeof(*w->copied));
    if (!w->copied) {
        vsr_err_set(err, "out of memory");
        return VSR_ERROR;
    }
    for (unsigned i = 0; i < in->nb_streams; i++) {
        const AVStream *ist = in->streams[i];
        const AVCodecParameters *par = ist->codecpar;
        int wanted = (par->codec_type == AVMEDIA_TYPE_AUDIO && w->options.copy_audio) ||
                     (par->codec_type == AVMEDIA_TYPE_SUBTITLE && w->options.copy_subtitles) ||
                     par->codec_type == AVMEDIA_TYPE_ATTACHMENT; /* fonts of the subtitles */
        if (par->codec_type == AVMEDIA_TYPE_DATA &&
            !av_dict_get(ist->metadata, "timecode", NULL, 0)) {
            /* Data streams are not carried; a timecode track is not lost: copy_global writes it
             * anew from its timecode. */
            vsr_log(VSR_LOG_WARN, "input stream %u (data, %s) not copied: %s", i,
                    avcodec_get_name(par->codec_id), "vsrup carries no data streams");
            w->stats.streams_skipped++;
        }
        if (!wanted)
            continue;
        const char *why = refusal(w->output->oformat, par);
        if (why) {
            vsr_log(VSR_LOG_WARN, "input stream %u (%s) not copied: %s", i,
                    avcodec_get_name(par->codec_id), why);
            w->stats.streams_skipped++;
            continue;
        }
        AVStream *ost = avformat_new_stream(w->output, NULL);
        int ret = ost ? avcodec_parameters_copy(ost->codecpar, par) : AVERROR(ENOMEM);
        if (ret >= 0)
            ret = av_dict_copy(&ost->metadata, ist->metadata, 0);
        if (ret < 0) {
            vsr_err_set(err, "%s: cannot copy input stream %u: %s", w->options.path, i,
                        av_err2str(ret));
            return VSR_ERROR;
        }
        /* The input's fourcc is often illegal in the output container. */
        ost->codecpar->codec_tag = 0;
        ost->time_base = ist->time_base;
        ost->disposition = ist->disposition;
        w->copied[i] = ost;
        w->stats.streams_copied++;
    }
    return VSR_OK;
}

static int copy_global(vsr_writer *w, const AVFormatContext *in, vsr_err *err)
{
    int ret = in ? vsr_output_copy_global(w->output, in) : 0;
    if (ret < 0) {
        vsr_err_set(err, "%s: cannot copy metadata: %s", w->options.path, av_err2str(ret));
        return VSR_ERROR;
    }
    ret = in ? vsr_output_copy_timecode(w->output, w->video, in, w->options.frame_rate,
                                        w->options.first_frame)
             : 0;
    if (ret < 0)
        vsr_log(VSR_LOG_WARN, "%s: the input's timecode is not kept: %s", w->options.path,
                av_err2str(ret));
    return VSR_OK;
}

static int setup_frame_pool(vsr_writer *w, vsr_err *err)
{
    const vsr_writer_options *o = &w->options;
    ptrdiff_t linesizes[MAX_PLANES];
    size_t sizes[MAX_PLANES];
    int ret = av_image_fill_linesizes(w->linesize, o->format.pix_fmt, FFALIGN(o->width, 64));
    for (int i = 0; i < MAX_PLANES; i++)
        linesizes[i] = w->linesize[i];
    if (ret >= 0)
        ret = av_image_fill_plane_sizes(sizes, o->format.pix_fmt, o->height, linesizes);
    for (int i = 0; ret >= 0 && i < MAX_PLANES && sizes[i]; i++) {
        w->planes[i] =
            av_buffer_pool_init(sizes[i] + AV_INPUT_BUFFER_PADDING_SIZE, vsr_bigbuf_alloc);
        w->nb_planes = i + 1;
        if (!w->planes[i])
            ret = AVERROR(ENOMEM);
    }
    if (ret < 0) {
        vsr_err_set(err, "%s: cannot set up frames of %dx%d: %s", o->path, o->width, o->height,
                    av_err2str(ret));
        return VSR_ERROR;
    }
    return VSR_OK;
}

static int check_options(const vsr_writer_options *o, vsr_err *err)
{
    if (o->width <= 0 || o->height <= 0 || o->time_base.num <= 0 || o->time_base.den <= 0) {
        vsr_err_set(err, "%s: invalid output size %dx%d or time base %d/%d", o->path, o->width,
                    o->height, o->time_base.num, o->time_base.den);
        return VSR_ERROR;
    }
    if (o->format.codec == VSR_CODEC_DNXHR && (o->width < 256 || o->height < 120)) {
        vsr_err_set(err, "%s: DNxHR needs at least 256x120, the output is %dx%d", o->path, o->width,
                    o->height);
        return VSR_ERROR;
    }
    if (o->format.codec != VSR_CODEC_PRORES && o->format.codec != VSR_CODEC_FFV1 &&
        o->format.codec != VSR_CODEC_DNXHR) {
        vsr_err_set(err, "%s: no output codec chosen", o->path);
        return VSR_ERROR;
    }
    return VSR_OK;
}

int vsr_writer_open(vsr_writer **out, const vsr_writer_options *options, vsr_err *err)
{
    *out = NULL;
    if (check_options(options, err) < 0 || vsr_output_folder_check(options->path, err) < 0)
        return VSR_ERROR;
    vsr_writer *w = calloc(1, sizeof(*w));
    if (!w) {
        vsr_err_set(err, "out of memory");
        return VSR_ERROR;
    }
    pthread_mutex_init(&w->mux_lock, NULL);
    w->options = *options;
    /* Pointers the caller may free after open are not kept. */
    w->options.display_matrix = NULL;
    w->options.input = NULL;
    w->final_path = strdup(options->path);
    w->held = av_packet_alloc();
    w->options.path = w->final_path;
    if (!w->final_path || !w->held) {
        vsr_writer_close(&w);
        vsr_err_set(err, "out of memory");
        return VSR_ERROR;
    }

    int ret = avformat_alloc_output_context2(&w->output, NULL, NULL, w->final_path);
    if (ret < 0) {
        vsr_err_set(err, "%s: no muxer for this name: %s", w->final_path, av_err2str(ret));
        vsr_writer_close(&w);
        return VSR_ERROR;
    }
    w->encoder_time_base = encoder_time_base(w->output->oformat, options);
    if (setup_video(w, options->display_matrix, err) < 0 ||
        setup_copies(w, options->input, err) < 0 || copy_global(w, options->input, err) < 0 ||
        setup_frame_pool(w, err) < 0) {
        vsr_writer_close(&w);
        return VSR_ERROR;
    }

    const char *input = options->input ? options->input->url : NULL;
    if (vsr_temp_file_create(&w->file, w->final_path, &input, input ? 1 : 0, options->overwrite,
                             err) < 0) {
        vsr_writer_close(&w);
        return VSR_ERROR;
    }
    w->output->pb = vsr_temp_file_io(w->file);
    AVDictionary *muxer_options = NULL;
    vsr_output_muxer_options(w->output, w->video, &muxer_options);
    ret = avformat_write_header(w->output, &muxer_options);
    av_dict_free(&muxer_options);
    if (ret < 0) {
        vsr_err_set(err, "%s: the %s muxer refused the streams: %s", w->final_path,
                    w->output->oformat->name, av_err2str(ret));
        vsr_writer_close(&w);
        return VSR_ERROR;
    }
    if (pthread_create(&w->mux_thread, NULL, mux_thread_main, w) != 0) {
        vsr_err_set(err, "%s: cannot start the mux thread", w->final_path);
        vsr_writer_close(&w);
        return VSR_ERROR;
    }
    w->mux_started = 1;
    *out = w;
    return VSR_OK;
}

AVFrame *vsr_writer_frame(vsr_writer *w)
{
    AVFrame *frame = av_frame_alloc();
    if (!frame)
        return NULL;
    frame->format = w->options.format.pix_fmt;
    frame->width = w->options.width;
    frame->height = w->options.height;
    for (int i = 0; i < w->nb_planes; i++) {
        frame->buf[i] = av_buffer_pool_get(w->planes[i]);
        if (!frame->buf[i]) {
            av_frame_free(&frame);
            return NULL;
        }
        frame->data[i] = frame->buf[i]->data;
        frame->linesize[i] = w->linesize[i];
    }
    tag_frame(frame, w);
    return frame;
}

/* Muxes one packet; a video packet that was written counts in the stats. Returns 1 when the
 * disk has no room for it (nothing written, why in err), else what
 * av_interleaved_write_frame returned. */
static int write_locked(vsr_writer *w, AVPacket *packet, int video, vsr_err *err)
{
    int ret = AVERROR_EOF;
    pthread_mutex_lock(&w->mux_lock);
    double t0 = vsr_seconds();
    const int size = packet->size;
    if (!w->trailer_written)
        ret = vsr_temp_file_room(w->file, size, err) < 0
                  ? 1
                  : av_interleaved_write_frame(w->output, packet);
    if (video && ret == 0) {
        w->stats.frames++;
        w->stats.bytes += size;
    }
    w->stats.mux_seconds += vsr_seconds() - t0;
    pthread_mutex_unlock(&w->mux_lock);
    return ret;
}

/* Muxes the held packet with the given duration (in the encoder time base). */
static int mux_held(vsr_writer *w, int64_t duration, vsr_err *err)
{
    AVPacket *p = w->held;
    p->duration = duration > 0 ? duration : 1;
    p->stream_index = w->video->index;
    av_packet_rescale_ts(p, w->encoder_time_base, w->video->time_base);
    int ret = write_locked(w, p, 1, err);
    av_packet_unref(p);
    /* Only this thread counts frames: no lock needed to read the count. */
    if (ret < 0)
        vsr_err_set(err, "%s: writing video frame %lld failed: %s", vsr_temp_file_name(w->file),
                    (long long)w->stats.frames, av_err2str(ret));
    return ret ? VSR_ERROR : VSR_OK;
}

/* Takes a packet from the pool (waiting for it); the one held before it can now be muxed.
 * Returns 1, 0 at the end, VSR_ERROR. */
static int take_packet(vsr_writer *w, vsr_err *err)
{
    AVPacket *next = av_packet_alloc();
    if (!next) {
        vsr_err_set(err, "out of memory");
        return VSR_ERROR;
    }
    int ret = vsr_encoder_pool_receive(w->encoders, next, err);
    if (ret > 0 && w->held->data) {
        w->last_delta = next->pts - w->held->pts;
        if (w->last_delta <= 0) {
            vsr_err_set(err, "%s: frame pts not increasing (%lld after %lld)", w->final_path,
                        (long long)next->pts, (long long)w->held->pts);
            ret = VSR_ERROR;
        } else if (mux_held(w, w->last_delta, err) < 0) {
            ret = VSR_ERROR;
        }
    }
    if (ret > 0) {
        next->dts = next->pts; /* intra-only: no reordering */
        av_packet_move_ref(w->held, next);
    }
    av_packet_free(&next);
    return ret;
}

static void *mux_thread_main(void *arg)
{
    vsr_writer *w = arg;
    int ret;
    while ((ret = take_packet(w, &w->mux_err)) > 0)
        ;
    w->mux_result = ret;
    /* Nobody receives any more: unblock and fail the submitter. */
    if (ret < 0)
        vsr_encoder_pool_cancel(w->encoders);
    return NULL;
}

/* Ends the mux thread after the frames submitted so far (all of them unless it failed). */
static int join_mux(vsr_writer *w, vsr_err *err)
{
    if (!w->mux_started)
        return VSR_OK;
    vsr_encoder_pool_end(w->encoders);
    pthread_join(w->mux_thread, NULL);
    w->mux_started = 0;
    if (w->mux_result < 0) {
        *err = w->mux_err;
        return VSR_ERROR;
    }
    return VSR_OK;
}

int vsr_writer_write_frame(vsr_writer *w, AVFrame **frame, vsr_err *err)
{
    AVFrame *f = *frame;
    *frame = NULL;
    if (f->format != w->options.format.pix_fmt || f->width != w->options.width ||
        f->height != w->options.height || f->pts == AV_NOPTS_VALUE) {
        vsr_err_set(err, "%s: frame %dx%d %s pts %s does not match the output %dx%d %s",
                    w->final_path, f->width, f->height, av_get_pix_fmt_name(f->format),
                    f->pts == AV_NOPTS_VALUE ? "none" : "set", w->options.width, w->options.height,
                    av_get_pix_fmt_name(w->options.format.pix_fmt));
        av_frame_free(&f);
        return VSR_ERROR;
    }
    f->pts = av_rescale_q(f->pts, w->options.time_base, w->encoder_time_base);
    vsr_frame_set_duration(
        f, av_rescale_q(vsr_frame_duration(f), w->options.time_base, w->encoder_time_base));
    /* The ProRes frame header takes the colour description from each frame. */
    tag_frame(f, w);
    int64_t duration = vsr_frame_duration(f);
    if (vsr_encoder_pool_submit(w->encoders, &f) < 0) {
        /* Cancelled by the mux thread, which said why before. */
        av_frame_free(&f);
        *err = w->mux_err;
        return VSR_ERROR;
    }
    w->last_frame_duration = duration;
    return VSR_OK;
}

int vsr_writer_copy_packet(vsr_writer *w, const AVPacket *packet, const AVStream *in_stream)
{
    int index = in_stream->index;
    if (index < 0 || index >= w->nb_input_streams || !w->copied[index])
        return VSR_OK;
    AVStream *ost = w->copied[index];
    AVPacket *p = av_packet_clone(packet);
    if (!p)
        return VSR_ERROR;
    av_packet_rescale_ts(p, in_stream->time_base, ost->time_base);
    p->stream_index = ost->index;
    p->pos = -1;
    vsr_err full; /* no room: the video stops there too and says so */
    int ret = write_locked(w, p, 0, &full);
    av_packet_free(&p);
    if (ret < 0 && ret != AVERROR_EOF) {
        vsr_log(VSR_LOG_ERROR, "%s: copying a packet of input stream %d failed: %s",
                vsr_temp_file_name(w->file), index, av_err2str(ret));
        return VSR_ERROR;
    }
    return VSR_OK;
}

int vsr_writer_finish(vsr_writer *w, int complete, vsr_err *err)
{
    if (w->trailer_written) {
        vsr_err_set(err, "%s: already finished", w->final_path);
        return VSR_ERROR;
    }
    int ret = join_mux(w, err);
    /* The last frame lasts what it says, else as long as its predecessor, else a frame
     * at the nominal rate. */
    if (ret == 0 && w->held->data) {
        int64_t duration = w->last_frame_duration > 0 ? w->last_frame_duration : w->last_delta;
        if (duration <= 0 && w->options.frame_rate.num > 0 && w->options.frame_rate.den > 0)
            duration = av_rescale_q(1, av_inv_q(w->options.frame_rate), w->encoder_time_base);
        ret = mux_held(w, duration, err);
    }
    pthread_mutex_lock(&w->mux_lock);
    int trailer = av_write_trailer(w->output);
    w->trailer_written = 1;
    w->stats.encode_seconds = vsr_encoder_pool_seconds(w->encoders);
    pthread_mutex_unlock(&w->mux_lock);
    vsr_encoder_pool_free(&w->encoders);
    /* Kept even when damaged: what was written may still be recovered. */
    vsr_err end_err;
    w->stats.damaged = vsr_temp_file_flush(w->file, &end_err) < 0 || trailer < 0;
    vsr_temp_file_keep(w->file);
    if (ret < 0)
        return VSR_ERROR;
    if (trailer < 0)
        vsr_err_set(err, "%s: writing the end of the file failed: %s", vsr_temp_file_name(w->file),
                    av_err2str(trailer));
    else if (w->stats.damaged)
        *err = end_err;
    if (w->stats.damaged)
        return VSR_ERROR;
    if (!complete)
        return VSR_OK;
    if (vsr_temp_file_rename(w->file, err) < 0)
        return VSR_ERROR;
    w->renamed = 1;
    return VSR_OK;
}

const char *vsr_writer_path(const vsr_writer *w)
{
    return w->renamed || !w->file ? w->final_path : vsr_temp_file_name(w->file);
}

vsr_writer_stats vsr_writer_stats_get(vsr_writer *w)
{
    pthread_mutex_lock(&w->mux_lock);
    vsr_writer_stats stats = w->stats;
    pthread_mutex_unlock(&w->mux_lock);
    if (w->encoders)
        stats.encode_seconds = vsr_encoder_pool_seconds(w->encoders);
    return stats;
}

void vsr_writer_close(vsr_writer **writer)
{
    vsr_writer *w = *writer;
    if (!w)
        return;
    if (w->mux_started) {
        vsr_encoder_pool_cancel(w->encoders);
        pthread_join(w->mux_thread, NULL);
    }
    vsr_encoder_pool_free(&w->encoders);
    if (w->output) {
        w->output->pb = NULL; /* the temporary file's */
        avformat_free_context(w->output);
    }
    vsr_temp_file_close(&w->file);
    for (int i = 0; i < MAX_PLANES; i++)
        av_buffer_pool_uninit(&w->planes[i]);
    av_packet_free(&w->held);
    free(w->copied);
    free(w->final_path);
    pthread_mutex_destroy(&w->mux_lock);
    free(w);
    *writer = NULL;
}
