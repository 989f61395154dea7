/*
 * Segments into one file by copying packets (include/join.h). The parts carry the film's
 * own timestamps, so each packet goes out as it is (rescaled to the output's time base);
 * the joints are only checked: a part must start where the previous one ended.
 */
#include "join.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/common.h>
#include <libavutil/pixdesc.h>

#include "compat.h"
#include "file_url.h"
#include "log.h"
#include "output_file.h"
#include "temp_file.h"

typedef struct joiner {
    const char *output;
    const char *const *parts;
    int count, overwrite;
    vsr_temp_file *file; /* its name is none of the parts: resuming joins NAME.partial.EXT */
    AVFormatContext *out;
    int video; /* index of the video stream, the same in every part */
    /* Per output stream, the dts of the last packet written, and of the last one of the parts
     * before this one: a stopped run's partial file has audio beyond its last frame, which
     * the next part (from that frame on) carries again. */
    int64_t *last_dts, *before_part;
    /* The last two video packets written (output time base): where the next part must
     * start. FFmpeg's MOV demuxer misreads a file's last duration when the file starts
     * late (an empty edit), so the longer of the last two durations stands for a frame. */
    int64_t last_pts, last_duration, prev_duration;
    vsr_join_stats *stats;
} joiner;

static int open_part(const char *path, AVFormatContext **fmt, vsr_err *err)
{
    char url[4096];
    int ret = avformat_open_input(fmt, vsr_file_url(path, url, sizeof(url)), NULL, NULL);
    if (ret >= 0)
        ret = avformat_find_stream_info(*fmt, NULL);
    if (ret < 0) {
        vsr_err_set(err, "%s: cannot read this part: %s", path, av_err2str(ret));
        avformat_close_input(fmt);
        return VSR_ERROR;
    }
    return VSR_OK;
}

/* What must match between parts, as text: "video prores 2880x2112 yuv422p10le". */
static void describe(const AVCodecParameters *par, char *buf, size_t size)
{
    const char *type = av_get_media_type_string(par->codec_type);
    const char *codec = avcodec_get_name(par->codec_id);
    if (par->codec_type == AVMEDIA_TYPE_VIDEO) {
        const char *pix = av_get_pix_fmt_name(par->format);
        snprintf(buf, size, "video %s %dx%d %s", codec, par->width, par->height, pix ? pix : "?");
    } else if (par->codec_type == AVMEDIA_TYPE_AUDIO) {
        snprintf(buf, size, "audio %s %d Hz %d channels", codec, par->sample_rate,
                 par->ch_layout.nb_channels);
    } else {
        snprintf(buf, size, "%s %s", type ? type : "data", codec);
    }
}

static int check_part(const AVFormatContext *first, const char *first_path,
                      const AVFormatContext *part, const char *path, vsr_err *err)
{
    if (part->nb_streams != first->nb_streams) {
        vsr_err_set(err, "%s: %u streams, but the first part (%s) has %u", path, part->nb_streams,
                    first_path, first->nb_streams);
        return VSR_ERROR;
    }
    for (unsigned i = 0; i < part->nb_streams; i++) {
        char want[128], got[128];
        describe(first->streams[i]->codecpar, want, sizeof(want));
        describe(part->streams[i]->codecpar, got, sizeof(got));
        if (strcmp(want, got)) {
            vsr_err_set(err, "%s: stream %u is %s, but in the first part (%s) it is %s", path, i,
                        got, first_path, want);
            return VSR_ERROR;
        }
    }
    return VSR_OK;
}

/* The input's codec tag where the output container knows it for that codec (as remuxing
 * with ffmpeg does), else 0 so the muxer picks one. */
static unsigned codec_tag(const AVOutputFormat *format, const AVCodecParameters *par)
{
    unsigned tag = 0;
    if (!format->codec_tag || av_codec_get_id(format->codec_tag, par->codec_tag) == par->codec_id ||
        !av_codec_get_tag2(format->codec_tag, par->codec_id, &tag))
        return par->codec_tag;
    return 0;
}

static int setup_output(joiner *j, AVFormatContext *in, const char *path, vsr_err *err)
{
    j->video = av_find_best_stream(in, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0);
    if (j->video < 0) {
        vsr_err_set(err, "%s: no video stream", path);
        return VSR_ERROR;
    }
    int ret = avformat_alloc_output_context2(&j->out, NULL, NULL, j->output);
    if (ret < 0) {
        vsr_err_set(err, "%s: no muxer for this name: %s", j->output, av_err2str(ret));
        return VSR_ERROR;
    }
    for (unsigned i = 0; ret >= 0 && i < in->nb_streams; i++) {
        const AVStream *ist = in->streams[i];
        AVStream *ost = avformat_new_stream(j->out, NULL);
        ret = ost ? avcodec_parameters_copy(ost->codecpar, ist->codecpar) : AVERROR(ENOMEM);
        if (ret < 0)
            break;
        ost->codecpar->codec_tag = codec_tag(j->out->oformat, ist->codecpar);
        ost->time_base = ist->time_base;
        ost->avg_frame_rate = ist->avg_frame_rate; /* MKV: each frame's default duration */
        /* MOV keeps it in the stream, the muxers read the parameters: set both */
        ost->sample_aspect_ratio = av_guess_sample_aspect_ratio(in, in->streams[i], NULL);
        if (ist->codecpar->codec_type == AVMEDIA_TYPE_VIDEO)
            ost->codecpar->sample_aspect_ratio = ost->sample_aspect_ratio;
        ost->disposition = ist->disposition;
        ret = av_dict_copy(&ost->metadata, ist->metadata, 0);
        if (ret >= 0)
            ret = vsr_stream_copy_display_matrix(ost, ist);
    }
    if (ret >= 0)
        ret = vsr_output_copy_global(j->out, in);
    if (ret < 0) {
        vsr_err_set(err, "%s: cannot set up the streams of %s: %s", j->output, path,
                    av_err2str(ret));
        return VSR_ERROR;
    }
    j->last_dts = malloc(2 * j->out->nb_streams * sizeof(*j->last_dts));
    if (!j->last_dts) {
        vsr_err_set(err, "out of memory");
        return VSR_ERROR;
    }
    j->before_part = j->last_dts + j->out->nb_streams;
    for (unsigned i = 0; i < j->out->nb_streams; i++)
        j->last_dts[i] = AV_NOPTS_VALUE;
    if (vsr_temp_file_create(&j->file, j->output, j->parts, j->count, j->overwrite, err) < 0)
        return VSR_ERROR;
    j->out->pb = vsr_temp_file_io(j->file);
    AVDictionary *muxer_options = NULL;
    vsr_output_muxer_options(j->out, j->out->streams[j->video], &muxer_options);
    ret = avformat_write_header(j->out, &muxer_options);
    av_dict_free(&muxer_options);
    if (ret < 0) {
        vsr_err_set(err, "%s: the %s muxer refused the streams of %s: %s", j->output,
                    j->out->oformat->name, path, av_err2str(ret));
        return VSR_ERROR;
    }
    return VSR_OK;
}

/* Intra-only video: pts and dts are the same where both are set. */
static int64_t packet_time(const AVPacket *pkt)
{
    return pkt->pts != AV_NOPTS_VALUE ? pkt->pts : pkt->dts;
}

/* Checks where a part's first video packet lies against the end of the previous part. */
static int check_joint(joiner *j, const AVPacket *pkt, const char *path, vsr_err *err)
{
    const AVRational tb = j->out->streams[j->video]->time_base;
    const int64_t pts = packet_time(pkt);
    const int64_t frame = FFMAX(j->last_duration, j->prev_duration);
    const int64_t end = j->last_pts + frame;
    const int64_t slack = frame / 2; /* timestamps of irregular films wobble */
    if (pts < end - slack) {
        vsr_err_set(err,
                    "%s: starts at %.3f s, before the previous part ends (%.3f s): parts out of "
                    "order, overlapping, or written without --keep-timestamps",
                    path, pts * av_q2d(tb), end * av_q2d(tb));
        return VSR_ERROR;
    }
    if (pts > end + slack) {
        vsr_log(VSR_LOG_WARN, "%s: %.3f s missing before this part (frames in no part?)", path,
                (pts - end) * av_q2d(tb));
        j->stats->gaps++;
    }
    return VSR_OK;
}

/*
 * The empty sample of no length a MOV muxer writes after a mov_text track's last cue, read
 * back from a part. The muxer of the joined file writes its own at the end (and fills gaps
 * between cues itself), so a copy would end a part's last cue twice.
 */
static int is_mov_text_end(const AVStream *st, const AVPacket *pkt)
{
    return st->codecpar->codec_id == AV_CODEC_ID_MOV_TEXT && pkt->duration <= 0 && pkt->size == 2 &&
           !pkt->data[0] && !pkt->data[1];
}

static int64_t same_packet_slack(const AVStream *st, const AVPacket *pkt)
{
    const int64_t ten_ms = av_rescale_q(10, (AVRational){1, 1000}, st->time_base);
    return FFMAX(FFMIN(pkt->duration / 2, ten_ms), 1);
}

static int copy_part(joiner *j, AVFormatContext *in, const char *path, int64_t max_frames,
                     vsr_err *err)
{
    int64_t frames = 0;
    AVPacket *pkt = av_packet_alloc();
    if (!pkt) {
        vsr_err_set(err, "out of memory");
        return VSR_ERROR;
    }
    int status = VSR_OK, first_video = 1, ret = 0;
    memcpy(j->before_part, j->last_dts, j->out->nb_streams * sizeof(*j->last_dts));
    while (status == VSR_OK && (ret = av_read_frame(in, pkt)) >= 0) {
        const int i = pkt->stream_index;
        if (i >= (int)j->out->nb_streams) { /* a stream that appeared mid-file */
            av_packet_unref(pkt);
            continue;
        }
        if (is_mov_text_end(in->streams[i], pkt)) {
            av_packet_unref(pkt);
            continue;
        }
        av_packet_rescale_ts(pkt, in->streams[i]->time_base, j->out->streams[i]->time_base);
        pkt->pos = -1;
        /* An earlier part has it already: a stopped run's partial file has audio past its
         * last frame. Within half a packet, as a part's start is stored rounded (a .mov edit
         * list) and the same packet can come back a tick later; at most 10 ms, as the next
         * subtitle cue can start a moment after the last one ends. */
        if (i != j->video && pkt->dts != AV_NOPTS_VALUE && j->before_part[i] != AV_NOPTS_VALUE &&
            pkt->dts < j->before_part[i] + same_packet_slack(j->out->streams[i], pkt)) {
            av_packet_unref(pkt);
            continue;
        }
        if (pkt->dts != AV_NOPTS_VALUE)
            j->last_dts[i] = pkt->dts;
        if (i == j->video && max_frames && frames++ >= max_frames) {
            av_packet_unref(pkt); /* past the frames kept of this part */
            continue;
        }
        if (i == j->video) {
            if (first_video && j->stats->video_frames && check_joint(j, pkt, path, err) < 0) {
                av_packet_unref(pkt);
                status = VSR_ERROR;
                break;
            }
            first_video = 0;
            j->prev_duration = j->last_duration;
            j->last_duration = pkt->duration;
            j->last_pts = packet_time(pkt);
            j->stats->video_frames++;
        }
        ret = av_interleaved_write_frame(j->out, pkt);
        if (ret < 0) {
            vsr_err_set(err, "%s: writing a packet of %s failed: %s", vsr_temp_file_name(j->file),
                        path, av_err2str(ret));
            status = VSR_ERROR;
        }
    }
    if (status == VSR_OK && ret != AVERROR_EOF) {
        vsr_err_set(err, "%s: read error: %s", path, av_err2str(ret));
        status = VSR_ERROR;
    }
    av_packet_free(&pkt);
    return status;
}

static int finish(joiner *j, vsr_err *err)
{
    int ret = av_write_trailer(j->out);
    if (ret < 0) {
        vsr_err_set(err, "%s: writing the end of the file failed: %s", vsr_temp_file_name(j->file),
                    av_err2str(ret));
        return VSR_ERROR;
    }
    return vsr_temp_file_flush(j->file, err) < 0 ? VSR_ERROR : vsr_temp_file_rename(j->file, err);
}

int vsr_join(const char *output, const char *const *parts, int count, int overwrite,
             vsr_join_stats *stats, vsr_err *err)
{
    return vsr_join_trimmed(output, parts, NULL, count, overwrite, stats, err);
}

int vsr_join_trimmed(const char *output, const char *const *parts, const int64_t *max_frames,
                     int count, int overwrite, vsr_join_stats *stats, vsr_err *err)
{
    *stats = (vsr_join_stats){.parts = count};
    if (vsr_output_check_new(output, overwrite, err) < 0 ||
        vsr_output_folder_check(output, err) < 0)
        return VSR_ERROR;
    joiner j = {
        .output = output, .parts = parts, .count = count, .overwrite = overwrite, .stats = stats};
    AVFormatContext *first = NULL;
    int ret = open_part(parts[0], &first, err);
    if (ret == VSR_OK)
        ret = setup_output(&j, first, parts[0], err);
    if (ret == VSR_OK)
        ret = copy_part(&j, first, parts[0], max_frames ? max_frames[0] : 0, err);
    for (int k = 1; ret == VSR_OK && k < count; k++) {
        AVFormatContext *part = NULL;
        ret = open_part(parts[k], &part, err);
        if (ret == VSR_OK)
            ret = check_part(first, parts[0], part, parts[k], err);
        if (ret == VSR_OK)
            ret = copy_part(&j, part, parts[k], max_frames ? max_frames[k] : 0, err);
        avformat_close_input(&part);
    }
    if (ret == VSR_OK) {
        stats->streams = (int)j.out->nb_streams;
        ret = finish(&j, err);
    }
    avformat_close_input(&first);
    if (j.out) {
        j.out->pb = NULL; /* the temporary file's */
        avformat_free_context(j.out);
    }
    vsr_temp_file_close(&j.file); /* a failed join leaves nothing that looks like a film */
    free(j.last_dts);
    return ret;
}
