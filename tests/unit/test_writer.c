/*
 * The writer, checked from the outside: ffprobe reads what was written (codec, profile,
 * pixel format, colour tags on stream and frames, counts, timestamps) and the ffmpeg CLI
 * decodes the pictures back for comparison with what the test put in.
 */
#include <libavformat/avformat.h>
#include <libavutil/imgutils.h>
#include <libavutil/pixdesc.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "fixture.h"
#include "codecs.h"
#include "log.h"
#include "writer.h"

static char tmp_dir[256];

/* ---- helpers: commands, pictures --------------------------------------------------- */

static char *probe(const char *args, const char *path)
{
    return fixture_output(NULL, FIXTURE_FFPROBE "%s -of default=nw=1 '%s'", args, path);
}

/* "key=value" line of ffprobe output, value copied into out; "" if absent. */
static const char *field(const char *text, const char *key, char *out, size_t size)
{
    char needle[64];
    snprintf(needle, sizeof(needle), "%s=", key);
    out[0] = '\0';
    for (const char *p = text; p && (p = strstr(p, needle)); p++) {
        if (p == text || p[-1] == '\n') {
            p += strlen(needle);
            size_t n = strcspn(p, "\n");
            snprintf(out, size, "%.*s", (int)(n < size ? n : size - 1), p);
            break;
        }
    }
    return out;
}

static int count_lines(const char *text, const char *line)
{
    int n = 0;
    size_t len = strlen(line);
    for (const char *p = text; p && (p = strstr(p, line)); p += len)
        if ((p == text || p[-1] == '\n') && (p[len] == '\n' || p[len] == '\0'))
            n++;
    return n;
}

static int file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static void temp_path(char *out, size_t size, const char *name)
{
    snprintf(out, size, "%s/%s", tmp_dir, name);
}

/*
 * The test picture: smooth, moving patterns (sample value of plane p at x, y in frame k)
 * within the legal range of the format. Different for every frame so order is visible.
 */
static int sample(const AVPixFmtDescriptor *d, int p, int x, int y, int k)
{
    int bits = d->comp[0].depth;
    int rgb = d->flags & AV_PIX_FMT_FLAG_RGB;
    double lo = rgb ? 0 : 16 << (bits - 8);
    double hi = rgb ? (1 << bits) - 1 : (p == 0 ? 235 : 240) << (bits - 8);
    double t = 0.5 + 0.45 * sin(x * 0.05 + y * 0.031 * (p + 1) + k * 0.7 + p) *
                         cos(y * 0.02 - x * 0.013 + k * 0.3);
    return (int)lround(lo + (hi - lo) * t);
}

static void fill(AVFrame *f, int k)
{
    const AVPixFmtDescriptor *d = av_pix_fmt_desc_get(f->format);
    for (int p = 0; p < 3; p++) {
        int w = p ? AV_CEIL_RSHIFT(f->width, d->log2_chroma_w) : f->width;
        for (int y = 0; y < f->height; y++) {
            uint8_t *row = f->data[p] + (ptrdiff_t)y * f->linesize[p];
            for (int x = 0; x < w; x++) {
                if (d->comp[0].depth > 8)
                    ((uint16_t *)row)[x] = (uint16_t)sample(d, p, x, y, k);
                else
                    row[x] = (uint8_t)sample(d, p, x, y, k);
            }
        }
    }
}

/* Mean and max absolute difference of decoded raw frame `k` (packed planes, as the
 * ffmpeg CLI writes rawvideo) against the test picture of frame `expect`. */
static void compare_raw(const uint8_t *raw, enum AVPixelFormat fmt, int width, int height,
                        int expect, double *mean, int *max)
{
    const AVPixFmtDescriptor *d = av_pix_fmt_desc_get(fmt);
    int bytes = d->comp[0].depth > 8 ? 2 : 1;
    double sum = 0;
    int64_t n = 0;
    *max = 0;
    for (int p = 0; p < 3; p++) {
        int w = p ? AV_CEIL_RSHIFT(width, d->log2_chroma_w) : width;
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < w; x++, n++) {
                int v = bytes == 2 ? raw[0] | raw[1] << 8 : raw[0];
                raw += bytes;
                int e = abs(v - sample(d, p, x, y, expect));
                sum += e;
                if (e > *max)
                    *max = e;
            }
        }
    }
    *mean = sum / (double)n;
}

/* ---- writing ------------------------------------------------------------------------ */

typedef struct job {
    const char *name; /* file name in tmp_dir */
    const char *codec, *profile, *pix_fmt;
    int width, height, frames, encoders;
    const int64_t *pts; /* NULL: 0, 1, 2, ... */
    AVRational time_base;
    const AVFormatContext *input;
} job;

/* Writes the job's frames; returns the writer unfinished (caller finishes or closes). */
static vsr_writer *write_job(const job *j, char *path, size_t size)
{
    temp_path(path, size, j->name);
    vsr_err err = {""};
    vsr_writer_options o = {0};
    o.path = path;
    int ret = vsr_output_format_resolve(path, vsr_codec_from_name(j->codec), j->profile, j->pix_fmt,
                                        &o.format, &err);
    CHECK(ret == 0, "%s: %s", j->name, err.msg);
    if (ret)
        return NULL;
    o.width = j->width;
    o.height = j->height;
    o.time_base = j->time_base.num ? j->time_base : (AVRational){1, 25};
    o.frame_rate = j->pts ? (AVRational){0, 1} : av_inv_q(o.time_base);
    o.sar = (AVRational){1, 1};
    o.encoders = j->encoders;
    o.input = j->input;
    o.copy_audio = o.copy_subtitles = j->input != NULL;
    vsr_writer *w = NULL;
    ret = vsr_writer_open(&w, &o, &err);
    CHECK(ret == 0, "%s: open: %s", j->name, err.msg);
    for (int k = 0; w && k < j->frames; k++) {
        AVFrame *f = vsr_writer_frame(w);
        CHECK(f != NULL, "no frame");
        if (!f)
            break;
        fill(f, k);
        f->pts = j->pts ? j->pts[k] : k;
        ret = vsr_writer_write_frame(w, &f, &err);
        CHECK(ret == 0 && !f, "%s: frame %d: %s", j->name, k, err.msg);
    }
    return w;
}

static int finish(vsr_writer **w, int complete)
{
    vsr_err err = {""};
    int ret = vsr_writer_finish(*w, complete, &err);
    CHECK(ret == 0, "finish: %s", err.msg);
    return ret;
}

/* Writes, finishes, checks the stream and frames with ffprobe and the pixels with ffmpeg. */
static void check_format(const job *j, const char *expect_codec, const char *expect_profile,
                         const char *expect_pix_fmt, int max_mean_error)
{
    char path[512], v[128];
    vsr_writer *w = write_job(j, path, sizeof(path));
    if (!w)
        return;
    finish(&w, 1);
    vsr_writer_stats stats = vsr_writer_stats_get(w);
    CHECK(stats.frames == j->frames, "%s: stats %lld frames", j->name, (long long)stats.frames);
    CHECK(stats.bytes > 0 && stats.encode_seconds > 0, "%s: stats", j->name);
    CHECK(!strcmp(vsr_writer_path(w), path), "%s: path %s", j->name, vsr_writer_path(w));
    vsr_writer_close(&w);

    char *s = probe("-count_frames -select_streams v:0 -show_entries "
                    "stream=codec_name,profile,pix_fmt,width,height,color_space,color_primaries,"
                    "color_transfer,color_range,nb_read_frames,sample_aspect_ratio",
                    path);
    const AVPixFmtDescriptor *d = av_pix_fmt_desc_get(av_get_pix_fmt(j->pix_fmt));
    int rgb = d->flags & AV_PIX_FMT_FLAG_RGB;
    CHECK(!strcmp(field(s, "codec_name", v, sizeof(v)), expect_codec), "%s: codec %s", j->name, v);
    if (expect_profile)
        CHECK(!strcmp(field(s, "profile", v, sizeof(v)), expect_profile), "%s: profile %s", j->name,
              v);
    /* ffprobe reports the decoder's format: the prores decoder gives 4444 as 12-bit. */
    expect_pix_fmt = expect_pix_fmt ? expect_pix_fmt : j->pix_fmt;
    CHECK(!strcmp(field(s, "pix_fmt", v, sizeof(v)), expect_pix_fmt), "%s: pix_fmt %s", j->name, v);
    CHECK(atoi(field(s, "width", v, sizeof(v))) == j->width, "%s: width %s", j->name, v);
    CHECK(atoi(field(s, "height", v, sizeof(v))) == j->height, "%s: height %s", j->name, v);
    CHECK(atoi(field(s, "nb_read_frames", v, sizeof(v))) == j->frames, "%s: %s frames", j->name, v);
    CHECK(!strcmp(field(s, "color_primaries", v, sizeof(v)), "bt709"), "%s: primaries %s", j->name,
          v);
    CHECK(!strcmp(field(s, "color_transfer", v, sizeof(v)), "bt709"), "%s: transfer %s", j->name,
          v);
    CHECK(!strcmp(field(s, "color_space", v, sizeof(v)), rgb ? "gbr" : "bt709"), "%s: matrix %s",
          j->name, v);
    CHECK(!strcmp(field(s, "color_range", v, sizeof(v)), rgb ? "pc" : "tv"), "%s: range %s",
          j->name, v);
    free(s);

    /* Every decoded frame carries the tags too (ProRes takes them from the frame header). */
    s = probe("-select_streams v:0 -show_entries "
              "frame=color_space,color_primaries,color_transfer,color_range",
              path);
    CHECK(count_lines(s, "color_primaries=bt709") == j->frames, "%s: frame primaries", j->name);
    CHECK(count_lines(s, "color_transfer=bt709") == j->frames, "%s: frame transfer", j->name);
    CHECK(count_lines(s, rgb ? "color_space=gbr" : "color_space=bt709") == j->frames,
          "%s: frame matrix", j->name);
    CHECK(count_lines(s, rgb ? "color_range=pc" : "color_range=tv") == j->frames, "%s: frame range",
          j->name);
    free(s);

    /* Pictures: frame k must be closest to what was written as frame k. */
    size_t size;
    uint8_t *raw = (uint8_t *)fixture_output(
        &size, FIXTURE_FFMPEG "-i '%s' -map 0:v -f rawvideo -pix_fmt %s -", path, j->pix_fmt);
    size_t frame_size =
        (size_t)av_image_get_buffer_size(av_get_pix_fmt(j->pix_fmt), j->width, j->height, 1);
    CHECK(raw && size == frame_size * j->frames, "%s: decoded %zu bytes", j->name, size);
    for (int k = 0; raw && size == frame_size * j->frames && k < j->frames; k++) {
        double mean, other_mean;
        int max, other_max;
        compare_raw(raw + frame_size * k, av_get_pix_fmt(j->pix_fmt), j->width, j->height, k, &mean,
                    &max);
        CHECK(max_mean_error ? mean <= max_mean_error : max == 0,
              "%s: frame %d differs (mean %.3f max %d)", j->name, k, mean, max);
        int neighbour = k + 1 < j->frames ? k + 1 : k - 1;
        compare_raw(raw + frame_size * k, av_get_pix_fmt(j->pix_fmt), j->width, j->height,
                    neighbour, &other_mean, &other_max);
        CHECK(other_mean > mean, "%s: frame %d looks like frame %d", j->name, k, neighbour);
    }
    free(raw);
}

/* ---- the cases ---------------------------------------------------------------------- */

static void test_formats(void)
{
    static const struct {
        job j;
        const char *codec, *profile;
        const char *probe_pix_fmt; /* NULL: as written */
        int max_mean_error;        /* 0: bit-exact */
    } cases[] = {
        {{"proxy.mov", "prores", "proxy", "yuv422p10le", 320, 240, 3, 1, NULL, {0, 0}, NULL},
         "prores",
         "Proxy",
         NULL,
         6},
        {{"lt.mov", "prores", "lt", "yuv422p10le", 320, 240, 3, 1, NULL, {0, 0}, NULL},
         "prores",
         "LT",
         NULL,
         4},
        {{"std.mov", "prores", "standard", "yuv422p10le", 320, 240, 3, 1, NULL, {0, 0}, NULL},
         "prores",
         "Standard",
         NULL,
         3},
        {{"hq.mov", "prores", "hq", "yuv422p10le", 320, 240, 3, 2, NULL, {0, 0}, NULL},
         "prores",
         "HQ",
         NULL,
         2},
        {{"4444.mov", "prores", "4444", "yuv444p10le", 320, 240, 3, 2, NULL, {0, 0}, NULL},
         "prores",
         "4444",
         "yuv444p12le",
         2},
        {{"xq.mov", "prores", "4444xq", "yuv444p10le", 320, 240, 3, 1, NULL, {0, 0}, NULL},
         "prores",
         "XQ",
         "yuv444p12le",
         2},
        {{"hq.mxf", "prores", "hq", "yuv422p10le", 320, 240, 3, 2, NULL, {0, 0}, NULL},
         "prores",
         "HQ",
         NULL,
         2},
        {{"yuv.mkv", "ffv1", NULL, "yuv444p10le", 320, 240, 3, 2, NULL, {0, 0}, NULL},
         "ffv1",
         NULL,
         NULL,
         0},
        {{"rgb16.mkv", "ffv1", NULL, "gbrp16le", 320, 240, 3, 2, NULL, {0, 0}, NULL},
         "ffv1",
         NULL,
         NULL,
         0},
        {{"hqx.mxf", "dnxhr", "hqx", "yuv422p10le", 320, 240, 3, 2, NULL, {0, 0}, NULL},
         "dnxhd",
         "DNXHR HQX",
         NULL,
         3},
        {{"444.mxf", "dnxhr", "444", "yuv444p10le", 320, 240, 3, 1, NULL, {0, 0}, NULL},
         "dnxhd",
         "DNXHR 444",
         NULL,
         3},
        {{"hq8.mov", "dnxhr", "hq", "yuv422p", 320, 240, 3, 1, NULL, {0, 0}, NULL},
         "dnxhd",
         "DNXHR HQ",
         NULL,
         2},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        check_format(&cases[i].j, cases[i].codec, cases[i].profile, cases[i].probe_pix_fmt,
                     cases[i].max_mean_error);
}

/* Four contexts on frames of different content: any reordering shows in check_format. */
static void test_parallel_order(void)
{
    job j = {"parallel.mkv", "ffv1", NULL, "yuv444p10le", 256, 144, 17, 4, NULL, {0, 0}, NULL};
    check_format(&j, "ffv1", NULL, NULL, 0);
    job p = {"parallel.mov", "prores", "hq", "yuv422p10le", 256, 144, 11, 4, NULL, {0, 0}, NULL};
    check_format(&p, "prores", "HQ", NULL, 2);
}

/* Variable frame rate: pts and durations come out as they went in. */
static void test_vfr(const char *name, const char *codec, const char *pix_fmt)
{
    static const int64_t pts[] = {0, 40, 80, 200, 240, 250, 400};
    const int n = sizeof(pts) / sizeof(pts[0]);
    job j = {name, codec, NULL, pix_fmt, 256, 144, n, 2, pts, {1, 1000}, NULL};
    char path[512];
    vsr_writer *w = write_job(&j, path, sizeof(path));
    if (!w)
        return;
    finish(&w, 1);
    vsr_writer_close(&w);
    /* MKV stores no per-packet durations; the file's duration still ends with the last one. */
    char *s = probe("-select_streams v:0 -show_entries packet=pts_time,duration_time", path);
    const char *p = s;
    for (int k = 0; k < n && p; k++) {
        double t, d = 0;
        p = strstr(p, "pts_time=");
        CHECK(p && sscanf(p, "pts_time=%lf", &t) == 1, "%s: packet %d", name, k);
        if (!p)
            break;
        CHECK(fabs(t - pts[k] / 1000.0) < 1e-6, "%s: frame %d at %f, expected %f", name, k, t,
              pts[k] / 1000.0);
        /* The last frame lasts as long as the one before it. */
        double expect_d = (k + 1 < n ? pts[k + 1] - pts[k] : pts[k] - pts[k - 1]) / 1000.0;
        const char *dur = strstr(p, "duration_time=");
        if (dur && sscanf(dur, "duration_time=%lf", &d) == 1)
            CHECK(fabs(d - expect_d) < 1e-6, "%s: frame %d lasts %f, expected %f", name, k, d,
                  expect_d);
        p++;
    }
    CHECK(p && !strstr(p, "pts_time="), "%s: more packets than frames", name);
    free(s);
    char v[64];
    s = probe("-show_entries format=duration", path);
    double end = (2 * pts[n - 1] - pts[n - 2]) / 1000.0;
    CHECK(fabs(atof(field(s, "duration", v, sizeof(v))) - end) < 1e-3, "%s: lasts %s, expected %f",
          name, v, end);
    free(s);
}

/* When the last packet of the first audio stream ends, by ffprobe. */
static double audio_end(const char *path)
{
    char *s = fixture_output(NULL,
                             FIXTURE_FFPROBE "-select_streams a:0 -show_entries "
                                             "packet=pts_time,duration_time -of csv=p=0 '%s' | "
                                             "tail -n 1",
                             path);
    double t = 0, d = 0;
    int ok = s && sscanf(s, "%lf,%lf", &t, &d) == 2;
    free(s);
    return ok ? t + d : -1;
}

/* Megamind.avi's AC-3 track through vsr_writer_copy_packet. */
static void test_audio_copy(const char *name, const char *codec, const char *pix_fmt)
{
    char clip[512], path[512], v[128];
    snprintf(clip, sizeof(clip), "%s", fixture_media("Megamind.avi"));
    AVFormatContext *in = NULL;
    int ret = avformat_open_input(&in, clip, NULL, NULL);
    CHECK(ret == 0, "cannot open %s", clip);
    if (ret)
        return;
    avformat_find_stream_info(in, NULL);
    int video = av_find_best_stream(in, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0);
    AVStream *vs = in->streams[video];
    job j = {name, codec, NULL, pix_fmt, 256, 128, 0, 2, NULL, vs->time_base, in};
    vsr_writer *w = write_job(&j, path, sizeof(path));
    if (!w) {
        avformat_close_input(&in);
        return;
    }
    CHECK(vsr_writer_stats_get(w).streams_copied == 1, "%s: copied streams", name);
    /* One small frame per video packet, the audio packets copied as they come. */
    AVPacket *pkt = av_packet_alloc();
    vsr_err err = {""};
    int frames = 0;
    while (av_read_frame(in, pkt) >= 0) {
        AVStream *st = in->streams[pkt->stream_index];
        if (pkt->stream_index == video) {
            AVFrame *f = vsr_writer_frame(w);
            fill(f, frames++);
            f->pts = pkt->pts != AV_NOPTS_VALUE ? pkt->pts : pkt->dts;
            CHECK(vsr_writer_write_frame(w, &f, &err) == 0, "%s: %s", name, err.msg);
        } else {
            CHECK(vsr_writer_copy_packet(w, pkt, st) == 0, "%s: copy", name);
        }
        av_packet_unref(pkt);
    }
    av_packet_free(&pkt);
    finish(&w, 1);
    vsr_writer_close(&w);
    avformat_close_input(&in);

    char *got = probe("-select_streams a:0 -show_entries stream=codec_name", path);
    CHECK(!strcmp(field(got, "codec_name", v, sizeof(v)), "ac3"), "%s: audio %s", name, v);
    free(got);
    double want_end = audio_end(clip), got_end = audio_end(path);
    CHECK(want_end > 5 && fabs(got_end - want_end) < 0.01, "%s: audio ends at %f, input %f", name,
          got_end, want_end);
    char *frames_s =
        probe("-count_frames -select_streams v:0 -show_entries stream=nb_read_frames", path);
    CHECK(atoi(field(frames_s, "nb_read_frames", v, sizeof(v))) == frames, "%s: %s of %d frames",
          name, v, frames);
    free(frames_s);
}

/* A file with flac and ac3 audio into .mov: flac is skipped, ac3 copied. */
static void test_refused_stream(void)
{
    char src[512], path[512];
    temp_path(src, sizeof(src), "two_audio.mkv");
    CHECK(fixture_run(FIXTURE_FFMPEG "-f lavfi -i sine=d=1 -f lavfi -i sine=f=880:d=1 -map 0 "
                                     "-map 1 -c:a:0 flac -c:a:1 ac3 '%s'",
                      src),
          "no two-audio clip");
    AVFormatContext *in = NULL;
    if (avformat_open_input(&in, src, NULL, NULL) < 0)
        return;
    avformat_find_stream_info(in, NULL);
    job j = {"refused.mov", "prores", NULL, "yuv422p10le", 128, 96, 25, 1, NULL, {1, 25}, in};
    vsr_writer *w = write_job(&j, path, sizeof(path));
    if (w) {
        vsr_writer_stats stats = vsr_writer_stats_get(w);
        CHECK(stats.streams_copied == 1 && stats.streams_skipped == 1, "copied %d skipped %d",
              stats.streams_copied, stats.streams_skipped);
        AVPacket *pkt = av_packet_alloc();
        while (av_read_frame(in, pkt) >= 0) {
            CHECK(vsr_writer_copy_packet(w, pkt, in->streams[pkt->stream_index]) == 0, "copy");
            av_packet_unref(pkt);
        }
        av_packet_free(&pkt);
        finish(&w, 1);
        vsr_writer_close(&w);
        char *s = probe("-show_entries stream=codec_name", path);
        CHECK(count_lines(s, "codec_name=ac3") == 1 && count_lines(s, "codec_name=prores") == 1 &&
                  !strstr(s, "flac"),
              "streams: %s", s);
        free(s);
        CHECK(fabs(audio_end(path) - 1.0) < 0.1, "ac3 ends at %f", audio_end(path));
    }
    avformat_close_input(&in);
}

static void test_partial_and_abandoned(void)
{
    char path[512], v[64];
    job j = {"partial.mov", "prores", NULL, "yuv422p10le", 128, 96, 5, 2, NULL, {0, 0}, NULL};
    vsr_writer *w = write_job(&j, path, sizeof(path));
    if (w) {
        finish(&w, 0);
        const char *partial = vsr_writer_path(w);
        CHECK(strstr(partial, "partial.partial.mov") != NULL, "partial name %s", partial);
        CHECK(file_exists(partial) && !file_exists(path), "partial file kept, no final file");
        char *s =
            probe("-count_frames -select_streams v:0 -show_entries stream=nb_read_frames", partial);
        CHECK(atoi(field(s, "nb_read_frames", v, sizeof(v))) == 5, "partial plays %s frames", v);
        free(s);
        char kept[512];
        snprintf(kept, sizeof(kept), "%s", partial);
        vsr_writer_close(&w);
        CHECK(file_exists(kept), "close removed the finished partial file");
    }

    job a = {"abandoned.mkv", "ffv1", NULL, "yuv444p10le", 128, 96, 3, 2, NULL, {0, 0}, NULL};
    w = write_job(&a, path, sizeof(path));
    if (w) {
        char temp[512];
        snprintf(temp, sizeof(temp), "%s", vsr_writer_path(w));
        CHECK(file_exists(temp), "temporary file %s exists while writing", temp);
        vsr_writer_close(&w);
        CHECK(!file_exists(temp) && !file_exists(path), "close without finish left a file");
    }
}

static void test_errors(void)
{
    vsr_writer_options o = {0};
    vsr_err err = {""};
    vsr_writer *w = NULL;
    char path[512];
    temp_path(path, sizeof(path), "missing/film.mov");
    o.path = path;
    vsr_output_format_resolve(path, VSR_CODEC_NONE, NULL, NULL, &o.format, &err);
    o.width = 64;
    o.height = 64;
    o.time_base = (AVRational){1, 25};
    o.encoders = 1;
    CHECK(vsr_writer_open(&w, &o, &err) < 0 && !w, "missing folder accepted");
    char folder[512];
    temp_path(folder, sizeof(folder), "missing");
    CHECK(strstr(err.msg, folder) && strstr(err.msg, "does not exist"), "message: %s", err.msg);

    if (geteuid() != 0) { /* root writes anywhere */
        temp_path(folder, sizeof(folder), "readonly");
        mkdir(folder, 0500);
        temp_path(path, sizeof(path), "readonly/film.mov");
        CHECK(vsr_writer_open(&w, &o, &err) < 0 && strstr(err.msg, folder) &&
                  strstr(err.msg, "not writable"),
              "read-only folder: %s", err.msg);
    } else {
        printf("skipped the read-only folder case: running as root\n");
    }

    temp_path(path, sizeof(path), "small.mxf");
    vsr_output_format_resolve(path, VSR_CODEC_NONE, NULL, NULL, &o.format, &err);
    o.width = 200;
    o.height = 100;
    CHECK(vsr_writer_open(&w, &o, &err) < 0 && strstr(err.msg, "256x120") &&
              strstr(err.msg, "200x100"),
          "small DNxHR: %s", err.msg);
    CHECK(!file_exists(path), "small.mxf written");
}

int main(void)
{
    vsr_log_set_level(VSR_LOG_WARN);
    av_log_set_level(AV_LOG_ERROR);
    if (!fixture_temp_dir(tmp_dir, sizeof(tmp_dir), "writer"))
        return 1;
    test_formats();
    test_parallel_order();
    test_vfr("vfr.mkv", "ffv1", "yuv444p10le");
    test_vfr("vfr.mov", "prores", "yuv422p10le");
    if (getenv("VSR_SHARED")) {
        test_audio_copy("audio.mov", "prores", "yuv422p10le");
        test_audio_copy("audio.mkv", "ffv1", "yuv444p10le");
    } else {
        printf("skipped the Megamind audio cases: VSR_SHARED not set\n");
    }
    test_refused_stream();
    test_partial_and_abandoned();
    test_errors();
    if (!check_failed) {
        if (!fixture_remove_dir(tmp_dir))
            fprintf(stderr, "could not remove %s\n", tmp_dir);
    } else {
        fprintf(stderr, "files kept in %s\n", tmp_dir);
    }
    return check_summary();
}
