/*
 * libFuzzer target: bytes -> demux from memory -> decode -> float R'G'B' -> scene cuts, the
 * path every input file takes before the model. Crashes, hangs and sanitizer reports here are
 * bugs in how vsrup handles damaged or hostile files (docs/FUZZING.md).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/log.h>

#include "colour.h"
#include "scenecut.h"

/* Bounds that keep one input fast: big frames or long files find nothing more. */
#define MAX_PIXELS (512 * 512)
#define MAX_FRAMES 16
#define MAX_PACKETS 256
#define IO_BUFFER 4096

typedef struct memory_input {
    const uint8_t *data;
    size_t size, pos;
} memory_input;

static int read_memory(void *opaque, uint8_t *buf, int size)
{
    memory_input *in = opaque;
    const size_t left = in->size - in->pos;
    const size_t n = (size_t)size < left ? (size_t)size : left;
    if (!n)
        return AVERROR_EOF;
    memcpy(buf, in->data + in->pos, n);
    in->pos += n;
    return (int)n;
}

static int64_t seek_memory(void *opaque, int64_t offset, int whence)
{
    memory_input *in = opaque;
    if (whence == AVSEEK_SIZE)
        return (int64_t)in->size;
    const int64_t base = (whence & ~AVSEEK_FORCE) == SEEK_CUR   ? (int64_t)in->pos
                         : (whence & ~AVSEEK_FORCE) == SEEK_END ? (int64_t)in->size
                                                                : 0;
    if (base + offset < 0 || base + offset > (int64_t)in->size)
        return AVERROR(EINVAL);
    in->pos = (size_t)(base + offset);
    return (int64_t)in->pos;
}

typedef struct state {
    vsr_frame_reader *convert;
    vsr_scenecut *cuts;
    float *rgb;
    int w, h, frames;
} state;

/* What the reader thread does with a decoded frame (src/pipeline.c). */
static void take_frame(state *s, const AVFrame *frame)
{
    if (frame->width <= 0 || frame->height <= 0 ||
        (int64_t)frame->width * frame->height > MAX_PIXELS)
        return;
    if (frame->width != s->w || frame->height != s->h) { /* vsrup stops there; we start over */
        free(s->rgb);
        vsr_scenecut_free(&s->cuts);
        s->w = frame->width;
        s->h = frame->height;
        s->rgb = malloc(sizeof(float) * 3 * (size_t)s->w * s->h);
        s->cuts = vsr_scenecut_alloc(s->w, s->h);
    }
    vsr_err err;
    if (s->rgb && s->cuts && vsr_frame_reader_convert(s->convert, frame, s->rgb, &err) == 0)
        vsr_scenecut_push(s->cuts, s->rgb);
    s->frames++;
}

static void decode_all(AVFormatContext *fmt, AVCodecContext *dec, int stream, state *s)
{
    AVPacket *pkt = av_packet_alloc();
    AVFrame *frame = av_frame_alloc();
    for (int n = 0; pkt && frame && n < MAX_PACKETS && s->frames < MAX_FRAMES; n++) {
        const int eof = av_read_frame(fmt, pkt) < 0;
        if (!eof && pkt->stream_index != stream) {
            av_packet_unref(pkt);
            continue;
        }
        avcodec_send_packet(dec, eof ? NULL : pkt);
        av_packet_unref(pkt);
        while (s->frames < MAX_FRAMES && avcodec_receive_frame(dec, frame) == 0)
            take_frame(s, frame);
        if (eof)
            break;
    }
    av_frame_free(&frame);
    av_packet_free(&pkt);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    av_log_set_level(AV_LOG_QUIET);
    memory_input in = {data, size, 0};
    AVFormatContext *fmt = avformat_alloc_context();
    uint8_t *buf = av_malloc(IO_BUFFER);
    AVIOContext *io =
        buf ? avio_alloc_context(buf, IO_BUFFER, 0, &in, read_memory, NULL, seek_memory) : NULL;
    if (!fmt || !io) {
        av_free(buf);
        avformat_free_context(fmt);
        return 0;
    }
    fmt->pb = io;
    fmt->flags |= AVFMT_FLAG_CUSTOM_IO;
    AVCodecContext *dec = NULL;
    state s = {.convert = vsr_frame_reader_alloc()};
    if (avformat_open_input(&fmt, NULL, NULL, NULL) < 0) /* frees fmt on failure */
        goto done;
    if (avformat_find_stream_info(fmt, NULL) < 0)
        goto done;
    const AVCodec *codec = NULL;
    const int stream = av_find_best_stream(fmt, AVMEDIA_TYPE_VIDEO, -1, -1, &codec, 0);
    if (stream < 0 || !codec || !(dec = avcodec_alloc_context3(codec)) ||
        avcodec_parameters_to_context(dec, fmt->streams[stream]->codecpar) < 0)
        goto done;
    dec->thread_count = 1;
    if (s.convert && avcodec_open2(dec, codec, NULL) == 0)
        decode_all(fmt, dec, stream, &s);
done:
    avcodec_free_context(&dec);
    avformat_close_input(&fmt);
    av_freep(&io->buffer);
    avio_context_free(&io);
    vsr_frame_reader_free(&s.convert);
    vsr_scenecut_free(&s.cuts);
    free(s.rgb);
    return 0;
}
