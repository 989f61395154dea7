/*
 * The reader on the real clips in shared/media, against ffprobe as the independent
 * reference: decoded frame counts, timestamps, --start/--frames windows, audio packets
 * handed to the callback, damaged data and the errors for inputs that are not videos.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libavutil/display.h>
#include <libavutil/mathematics.h>

#include "check.h"
#include "fixture.h"
#include "log.h"
#include "reader.h"

#define MAX_VALUES 4096

/* ffprobe's best_effort_timestamp of every frame of the first video stream. */
static int probe_video_pts(const char *path, int64_t *pts, int max)
{
    return fixture_values(pts, max, AV_NOPTS_VALUE,
                          FIXTURE_FFPROBE "-select_streams v:0 -show_entries "
                                          "frame=best_effort_timestamp -of csv=p=0 '%s'",
                          path);
}

static int probe_audio_pts(const char *path, int64_t *pts, int max)
{
    return fixture_values(pts, max, AV_NOPTS_VALUE,
                          FIXTURE_FFPROBE "-select_streams a:0 -show_entries packet=pts "
                                          "-of csv=p=0 '%s'",
                          path);
}

/* What one read of a file saw. */
typedef struct read_result {
    int ret; /* VSR_OK, or VSR_ERROR from open or next */
    vsr_err err;
    vsr_video_info info;
    vsr_reader_stats stats;
    int frames;
    int64_t pts[MAX_VALUES];
    int context_before, context_after; /* context frames before / after the kept ones */
    uint32_t sums[MAX_VALUES];         /* a checksum of every frame returned, in order */
    int packets;                       /* other streams' packets seen by the callback */
    int64_t packet_pts[MAX_VALUES];
    AVRational packet_tb;
} read_result;

static void collect_packet(void *opaque, AVPacket *packet, const AVStream *stream)
{
    read_result *res = opaque;
    if (res->packets < MAX_VALUES)
        res->packet_pts[res->packets] = packet->pts;
    res->packets++;
    res->packet_tb = stream->time_base;
}

/* Adler-32 of the first plane's visible samples: equal frames, equal sums. */
static uint32_t frame_sum(const AVFrame *frame)
{
    uint32_t a = 1, b = 0;
    for (int y = 0; y < frame->height; y++)
        for (int x = 0; x < frame->width; x++) {
            a = (a + frame->data[0][y * frame->linesize[0] + x]) % 65521;
            b = (b + a) % 65521;
        }
    return b << 16 | a;
}

static read_result *read_with_context(const char *path, int64_t start, int64_t max, int64_t context,
                                      int with_packets)
{
    read_result *res = calloc(1, sizeof(*res));
    vsr_reader_options opt = {
        .path = path, .start_frame = start, .max_frames = max, .context_frames = context};
    if (with_packets) {
        opt.on_packet = collect_packet;
        opt.opaque = res;
    }
    vsr_reader *reader;
    res->ret = vsr_reader_open(&reader, &opt, &res->err);
    if (res->ret < 0)
        return res;
    res->info = *vsr_reader_info(reader);
    AVFrame *frame = av_frame_alloc();
    int ret;
    while ((ret = vsr_reader_next(reader, frame, &res->err)) > 0) {
        const int returned = res->context_before + res->frames + res->context_after;
        if (returned < MAX_VALUES)
            res->sums[returned] = frame_sum(frame);
        if (ret == VSR_READER_CONTEXT) {
            *(res->frames ? &res->context_after : &res->context_before) += 1;
            continue;
        }
        CHECK(!res->context_after, "%s: a kept frame after the context that follows the range",
              path);
        if (res->frames < MAX_VALUES)
            res->pts[res->frames] = frame->pts;
        res->frames++;
    }
    res->ret = ret < 0 ? VSR_ERROR : VSR_OK;
    res->stats = vsr_reader_stats_get(reader);
    av_frame_free(&frame);
    vsr_reader_close(&reader);
    return res;
}

static read_result *read_file(const char *path, int64_t start, int64_t max, int with_packets)
{
    return read_with_context(path, start, max, 0, with_packets);
}

static int strictly_increasing(const int64_t *v, int n)
{
    for (int i = 1; i < n; i++)
        if (v[i] <= v[i - 1])
            return 0;
    return 1;
}

static void test_counts(void)
{
    static const struct {
        const char *name;
        int frames;
    } clips[] = {{"Megamind.avi", 270}, {"vtest.avi", 795}, {"tree.avi", 68}};
    static int64_t ref[MAX_VALUES];
    for (size_t i = 0; i < sizeof(clips) / sizeof(clips[0]); i++) {
        const char *path = fixture_media(clips[i].name);
        read_result *res = read_file(path, 0, 0, 0);
        int probed = probe_video_pts(path, ref, MAX_VALUES);
        CHECK(res->ret == VSR_OK, "%s: %s", clips[i].name, res->err.msg);
        CHECK(res->frames == clips[i].frames, "%s: %d frames", clips[i].name, res->frames);
        CHECK(res->frames == probed, "%s: %d frames, ffprobe %d", clips[i].name, res->frames,
              probed);
        CHECK(res->stats.frames == res->frames, "%s: stats %" PRId64, clips[i].name,
              res->stats.frames);
        CHECK(strictly_increasing(res->pts, res->frames), "%s: pts not increasing", clips[i].name);
        free(res);
    }
}

/* tree.avi: the header promises 444 frames at 15 fps; 68 irregularly timed ones are there. */
static void test_tree_vfr(void)
{
    const char *path = fixture_media("tree.avi");
    static int64_t ref[MAX_VALUES];
    int n = probe_video_pts(path, ref, MAX_VALUES);
    read_result *res = read_file(path, 0, 0, 0);
    CHECK(n == 68 && res->frames == 68, "tree: %d frames, ffprobe %d", res->frames, n);
    int same = 0;
    for (int i = 0; i < n && i < res->frames; i++)
        same += res->pts[i] == ref[i];
    CHECK(same == n, "tree: %d of %d pts equal ffprobe's", same, n);
    CHECK(res->info.width == 320 && res->info.height == 240, "tree: %dx%d", res->info.width,
          res->info.height);
    CHECK(res->info.frames_estimate == 444, "tree: estimate %" PRId64, res->info.frames_estimate);
    CHECK(res->info.time_base.num == 66667 && res->info.time_base.den == 1000000,
          "tree: time base %d/%d", res->info.time_base.num, res->info.time_base.den);
    free(res);
}

static void test_info(void)
{
    const char *path = fixture_media("Megamind.avi");
    int64_t ref[2] = {0, 0};
    fixture_values(ref, 2, AV_NOPTS_VALUE,
                   FIXTURE_FFPROBE "-select_streams v:0 -show_entries stream=width,height "
                                   "-of default=nw=1:nk=1 '%s'",
                   path);
    read_result *res = read_file(path, 0, 1, 0);
    const vsr_video_info *info = &res->info;
    CHECK(res->ret == VSR_OK, "%s", res->err.msg);
    CHECK(info->width == ref[0] && info->height == ref[1], "%dx%d, ffprobe %" PRId64 "x%" PRId64,
          info->width, info->height, ref[0], ref[1]);
    CHECK(info->pix_fmt == AV_PIX_FMT_YUV420P, "pix_fmt %d", info->pix_fmt);
    CHECK(info->frame_rate.num == 2997 && info->frame_rate.den == 125, "rate %d/%d",
          info->frame_rate.num, info->frame_rate.den);
    CHECK(info->sar.num == 1 && info->sar.den == 1, "sar %d/%d", info->sar.num, info->sar.den);
    CHECK(info->frames_estimate == 270, "estimate %" PRId64, info->frames_estimate);
    CHECK(!info->has_display_matrix, "unexpected display matrix");
    CHECK(res->frames == 1, "--frames 1 gave %d", res->frames);
    free(res);
}

/* --start/--frames windows: the count, pts from 0 and ffprobe's spacing. */
static void test_windows(void)
{
    const char *path = fixture_media("Megamind.avi");
    static int64_t ref[MAX_VALUES];
    const int n = probe_video_pts(path, ref, MAX_VALUES);
    static const struct {
        int64_t start, max;
        int expect;
    } windows[] = {{100, 50, 50}, {250, 50, 20}, {0, 10, 10}, {269, 0, 1}, {300, 5, 0}};
    for (size_t w = 0; w < sizeof(windows) / sizeof(windows[0]); w++) {
        const int64_t start = windows[w].start;
        read_result *res = read_file(path, start, windows[w].max, 0);
        CHECK(res->ret == VSR_OK, "window %zu: %s", w, res->err.msg);
        CHECK(res->frames == windows[w].expect, "window %zu: %d frames, want %d", w, res->frames,
              windows[w].expect);
        CHECK(strictly_increasing(res->pts, res->frames), "window %zu: pts", w);
        /* Without --start the timestamps stay as they are; with it, they start at 0. */
        const int64_t shift = start > 0 && start < n ? ref[start] : 0;
        int same = 0, comparable = 0;
        for (int i = 0; i < res->frames && start + i < n; i++) {
            if (ref[start + i] == AV_NOPTS_VALUE)
                continue; /* ffprobe has none for the last frame; the reader extrapolates */
            comparable++;
            same += res->pts[i] == ref[start + i] - shift;
        }
        CHECK(same == comparable, "window %zu: %d of %d pts as ffprobe's", w, same, comparable);
        if (start > 0 && res->frames)
            CHECK(res->pts[0] == 0, "window %zu: first pts %" PRId64, w, res->pts[0]);
        free(res);
    }
}

/*
 * Context frames around a window are the input's neighbouring frames (as a full read
 * returns them), clipped at the file's ends; the kept frames, their pts and the audio
 * packets are those of the same window read without context.
 */
static void test_context_frames(void)
{
    const char *path = fixture_media("Megamind.avi");
    read_result *all = read_file(path, 0, 0, 0);
    static const struct {
        int64_t start, max, context;
        int before, after;
    } cases[] = {{100, 50, 10, 10, 10},
                 {4, 20, 10, 4, 10},
                 {260, 5, 10, 10, 5},
                 {0, 0, 10, 0, 0},
                 {265, 0, 3, 3, 0}};
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        read_result *plain = read_file(path, cases[c].start, cases[c].max, 1);
        read_result *res =
            read_with_context(path, cases[c].start, cases[c].max, cases[c].context, 1);
        CHECK(res->ret == VSR_OK, "case %zu: %s", c, res->err.msg);
        CHECK(res->context_before == cases[c].before && res->context_after == cases[c].after,
              "case %zu: %d context frames before, %d after; want %d, %d", c, res->context_before,
              res->context_after, cases[c].before, cases[c].after);
        CHECK(res->frames == plain->frames && res->stats.frames == plain->stats.frames,
              "case %zu: %d kept frames, %d without context", c, res->frames, plain->frames);
        CHECK(!memcmp(res->pts, plain->pts, sizeof(res->pts)), "case %zu: kept pts differ", c);
        CHECK(res->packets == plain->packets &&
                  !memcmp(res->packet_pts, plain->packet_pts, sizeof(res->packet_pts)),
              "case %zu: %d audio packets, %d without context", c, res->packets, plain->packets);
        const int first = (int)cases[c].start - res->context_before;
        const int n = res->context_before + res->frames + res->context_after;
        int same = 0;
        for (int i = 0; i < n; i++)
            same += res->sums[i] == all->sums[first + i];
        CHECK(same == n, "case %zu: %d of %d frames are the input's frames %d..%d", c, same, n,
              first, first + n - 1);
        free(plain);
        free(res);
    }
    free(all);
}

typedef struct window {
    int64_t start, max;
} window;

/*
 * Audio packets through the callback: the whole file unchanged, and for each window
 * exactly those ffprobe puts inside [first kept pts, last kept pts + duration), shifted.
 */
static void check_audio_windows(const char *path, const window *windows, int count)
{
    static int64_t vref[MAX_VALUES], vdur[MAX_VALUES], aref[MAX_VALUES];
    const int nv = probe_video_pts(path, vref, MAX_VALUES);
    const int nd = fixture_values(vdur, MAX_VALUES, AV_NOPTS_VALUE,
                                  FIXTURE_FFPROBE "-select_streams v:0 -show_entries "
                                                  "frame=pkt_duration -of csv=p=0 '%s'",
                                  path);
    const int na = probe_audio_pts(path, aref, MAX_VALUES);
    CHECK(nv > 0 && nd == nv && na > 0, "%s: ffprobe: %d video, %d durations, %d audio", path, nv,
          nd, na);

    read_result *all = read_file(path, 0, 0, 1);
    CHECK(all->packets == na, "%s: %d audio packets, ffprobe %d", path, all->packets, na);
    int same = 0;
    for (int i = 0; i < na && i < all->packets; i++)
        same += all->packet_pts[i] == aref[i];
    CHECK(same == na, "%s: %d of %d audio pts unchanged", path, same, na);
    const AVRational atb = all->packet_tb, vtb = all->info.time_base;
    free(all);

    for (int w = 0; w < count; w++) {
        const int64_t start = windows[w].start;
        const int64_t last = windows[w].max ? start + windows[w].max - 1 : nv - 1;
        read_result *res = read_file(path, start, windows[w].max, 1);
        /* ffprobe has no pts for Megamind.avi's last frame: it follows the one before. */
        const int64_t last_pts =
            vref[last] != AV_NOPTS_VALUE ? vref[last] : vref[last - 1] + vdur[last - 1];
        const int64_t begin = vref[start], end = last_pts + vdur[last];
        const int64_t shift = start > 0 ? av_rescale_q(begin, vtb, atb) : 0;
        int expect = 0, first = -1;
        for (int i = 0; i < na; i++) {
            const int after_begin = start == 0 || av_compare_ts(aref[i], atb, begin, vtb) >= 0;
            if (after_begin && av_compare_ts(aref[i], atb, end, vtb) < 0) {
                if (first < 0)
                    first = i;
                expect++;
            }
        }
        CHECK(res->packets == expect && expect > 0, "%s window %d: %d audio packets, want %d", path,
              w, res->packets, expect);
        int inside = 0;
        for (int i = 0; i < res->packets && i < expect; i++) {
            const int64_t t = res->packet_pts[i];
            inside += t == aref[first + i] - shift && t >= 0 &&
                      av_compare_ts(t, atb, end - (start > 0 ? begin : 0), vtb) < 0;
        }
        CHECK(inside == expect, "%s window %d: %d of %d audio packets shifted into the window",
              path, w, inside, expect);
        free(res);
    }
}

static void test_audio_packets(void)
{
    static const window megamind[] = {{100, 50}, {0, 10}, {250, 0}};
    check_audio_windows(fixture_media("Megamind.avi"), megamind, 3);

    /* Fragmented MP4 stores each second of video before its audio: the audio lags, so the
     * window's last packets are read after its last frame. */
    char dir[256], path[1024];
    CHECK(fixture_temp_dir(dir, sizeof(dir), "reader"), "no temporary folder");
    snprintf(path, sizeof(path), "%s/lagging_audio.mp4", dir);
    CHECK(fixture_run(FIXTURE_FFMPEG "-f lavfi -i testsrc2=size=96x64:rate=25 -f lavfi -i "
                                     "sine=r=48000 -t 4 -c:v mpeg4 -g 25 -c:a ac3 "
                                     "-movflags +frag_keyframe '%s'",
                      path),
          "lagging audio: no clip");
    static const window lagging[] = {{30, 20}, {0, 40}, {10, 15}};
    check_audio_windows(path, lagging, 3);
    CHECK(fixture_remove_dir(dir), "cannot remove %s", dir);
}

/* Repeated pts (a remux that gives frame pairs the same time) become previous + 1. */
static void test_repeated_pts(void)
{
    char dir[256], clean[1024], path[1024];
    CHECK(fixture_temp_dir(dir, sizeof(dir), "reader"), "no temporary folder");
    snprintf(clean, sizeof(clean), "%s/clean.mkv", dir);
    snprintf(path, sizeof(path), "%s/repeated.mkv", dir);
    CHECK(fixture_run(FIXTURE_FFMPEG "-f lavfi -i testsrc2=size=64x48:rate=10 -t 1 -c:v mjpeg "
                                     "'%s' && " FIXTURE_FFMPEG
                                     "-i '%s' -c copy -bsf:v \"setts=ts='floor(N/2)*100'\" '%s'",
                      clean, clean, path),
          "repeated: no clip");
    static int64_t ref[MAX_VALUES];
    const int n = probe_video_pts(path, ref, MAX_VALUES);
    read_result *res = read_file(path, 0, 0, 0);
    CHECK(res->frames == n && n == 10, "repeated: %d frames, ffprobe %d", res->frames, n);
    int repeats = 0, same = 0;
    int64_t expect = AV_NOPTS_VALUE;
    for (int i = 0; i < n && i < res->frames; i++) {
        const int repeated = i > 0 && ref[i] <= expect;
        repeats += repeated;
        expect = repeated ? expect + 1 : ref[i];
        same += res->pts[i] == expect;
    }
    CHECK(repeats == 5, "repeated: ffprobe shows %d repeats, want 5", repeats);
    CHECK(same == n, "repeated: %d of %d pts as expected", same, n);
    free(res);
    CHECK(fixture_remove_dir(dir), "cannot remove %s", dir);
}

/* Megamind_bugy.avi: damaged data finishes with frames, counts and no error. */
static void test_damaged(void)
{
    read_result *res = read_file(fixture_media("Megamind_bugy.avi"), 0, 0, 1);
    CHECK(res->ret == VSR_OK, "bugy: %s", res->err.msg);
    CHECK(res->frames > 0 && res->stats.frames == res->frames, "bugy: %d frames", res->frames);
    CHECK(strictly_increasing(res->pts, res->frames), "bugy: pts not increasing");
    printf("Megamind_bugy.avi: %d frames decoded, %" PRId64 " damaged, %" PRId64 " decode errors\n",
           res->frames, res->stats.damaged_frames, res->stats.decode_errors);
    free(res);
}

/* A copy of Megamind.avi with runs of garbage bytes: concealed, counted, never fatal. */
static void test_corrupted_copy(void)
{
    char dir[256], path[1024];
    CHECK(fixture_temp_dir(dir, sizeof(dir), "reader"), "no temporary folder");
    snprintf(path, sizeof(path), "%s/damaged.avi", dir);
    FILE *in = fopen(fixture_media("Megamind.avi"), "rb");
    FILE *out = fopen(path, "wb");
    CHECK(in && out, "cannot copy Megamind.avi to %s", path);
    if (!in || !out) {
        if (in)
            fclose(in);
        if (out)
            fclose(out);
        return;
    }
    static unsigned char data[4 << 20];
    const size_t size = fread(data, 1, sizeof(data), in);
    /* 40 runs of 64 bytes, past the headers, at places a fixed LCG picks. */
    uint32_t seed = 12345;
    for (int run = 0; run < 40; run++) {
        seed = seed * 1664525u + 1013904223u;
        const size_t at = 20000 + seed % (uint32_t)(size - 40000);
        for (int i = 0; i < 64; i++) {
            seed = seed * 1664525u + 1013904223u;
            data[at + i] = (unsigned char)(seed >> 24);
        }
    }
    fwrite(data, 1, size, out);
    fclose(in);
    fclose(out);

    static int64_t ref[MAX_VALUES];
    const int probed = probe_video_pts(path, ref, MAX_VALUES);
    read_result *res = read_file(path, 0, 0, 1);
    CHECK(res->ret == VSR_OK, "damaged copy: %s", res->err.msg);
    CHECK(res->frames == probed && probed > 0, "damaged copy: %d frames, ffprobe %d", res->frames,
          probed);
    CHECK(res->stats.damaged_frames > 0, "damaged copy: no damaged frame counted");
    CHECK(strictly_increasing(res->pts, res->frames), "damaged copy: pts not increasing");
    printf("Megamind.avi with 40 garbage runs: %d frames, %" PRId64 " damaged, %" PRId64
           " decode errors\n",
           res->frames, res->stats.damaged_frames, res->stats.decode_errors);
    free(res);
    CHECK(fixture_remove_dir(dir), "cannot remove %s", dir);
}

static void check_error(const char *path, const char *what)
{
    read_result *res = read_file(path, 0, 0, 0);
    CHECK(res->ret == VSR_ERROR, "%s: no error for %s", path, what);
    CHECK(strstr(res->err.msg, path) != NULL, "%s: message '%s' misses the file name", what,
          res->err.msg);
    CHECK(strstr(res->err.msg, what) != NULL, "%s: message '%s'", what, res->err.msg);
    free(res);
}

static void write_text(const char *path, int lines)
{
    FILE *f = fopen(path, "w");
    for (int i = 0; f && i < lines; i++)
        fprintf(f, "Line %d of a plain text file, which no one should upscale.\n", i);
    if (f)
        fclose(f);
}

/* Inputs that are no video, and a rotated one; all made in a temporary folder. */
static void test_other_inputs(void)
{
    char dir[256], path[1024];
    CHECK(fixture_temp_dir(dir, sizeof(dir), "reader"), "no temporary folder");

    snprintf(path, sizeof(path), "%s/missing.avi", dir);
    check_error(path, "No such file");
    snprintf(path, sizeof(path), "%s/short.txt", dir);
    write_text(path, 1);
    check_error(path, "not a video");
    /* Its extension alone makes a demuxer (luodat) claim it; reading it then fails. */
    snprintf(path, sizeof(path), "%s/short.dat", dir);
    write_text(path, 1);
    check_error(path, "not a video");
    /* Long enough for the tty demuxer to claim it as ANSI art. */
    snprintf(path, sizeof(path), "%s/long.txt", dir);
    write_text(path, 200);
    check_error(path, "not a video");

    snprintf(path, sizeof(path), "%s/x.wav", dir);
    CHECK(fixture_run(FIXTURE_FFMPEG "-f lavfi -i sine -t 1 '%s'", path), "no wav file");
    check_error(path, "no video stream");

    /* Cover art is a still picture, not the video. */
    snprintf(path, sizeof(path), "%s/cover.mp3", dir);
    if (fixture_run(FIXTURE_FFMPEG "-f lavfi -i sine=d=1 -f lavfi -i testsrc2=s=64x64:d=0.1 "
                                   "-map 0 -map 1 -frames:v 1 -c:v mjpeg "
                                   "-disposition:v attached_pic '%s'",
                    path))
        check_error(path, "no video stream");
    else
        printf("skipped: cover art case (this ffmpeg cannot write mp3 with cover art)\n");

    /* A display matrix, compared with the rotation ffprobe reads from the same file. */
    char plain[1024];
    snprintf(plain, sizeof(plain), "%s/plain.mp4", dir);
    snprintf(path, sizeof(path), "%s/rotated.mp4", dir);
    CHECK(fixture_run(FIXTURE_FFMPEG "-f lavfi -i testsrc2=size=64x48:rate=10 -t 0.5 -c:v mpeg4 "
                                     "'%s' && " FIXTURE_FFMPEG
                                     "-i '%s' -c copy -metadata:s:v:0 rotate=90 '%s'",
                      plain, plain, path),
          "rotated: no clip");
    int64_t rotation = 0;
    if (fixture_values(&rotation, 1, AV_NOPTS_VALUE,
                       FIXTURE_FFPROBE "-select_streams v:0 -show_entries "
                                       "stream_side_data=rotation -of csv=p=0 '%s'",
                       path) == 1) {
        read_result *res = read_file(path, 0, 0, 0);
        CHECK(res->ret == VSR_OK && res->frames == 5, "rotated: %d frames, %s", res->frames,
              res->err.msg);
        CHECK(res->info.has_display_matrix, "rotated: no display matrix");
        const double angle = av_display_rotation_get(res->info.display_matrix);
        CHECK(res->info.has_display_matrix && angle == (double)rotation,
              "rotated: %g degrees, ffprobe %" PRId64, angle, rotation);
        free(res);
    } else {
        printf("skipped: display matrix case (this ffmpeg writes no rotation from metadata)\n");
    }

    CHECK(fixture_remove_dir(dir), "cannot remove %s", dir);
}

int main(void)
{
    vsr_log_set_level(VSR_LOG_ERROR); /* damaged-data warnings are expected here */
    test_counts();
    test_tree_vfr();
    test_info();
    test_windows();
    test_audio_packets();
    test_context_frames();
    test_repeated_pts();
    test_damaged();
    test_corrupted_copy();
    test_other_inputs();
    return check_summary();
}
