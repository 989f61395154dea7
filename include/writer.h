/*
 * Encoders, muxer and stream copy. Encoding is intra-only, so several encoder contexts
 * work on different frames in parallel; their packets are muxed in frame order.
 * The file is written under a temporary name and renamed on success.
 */
#ifndef VSR_WRITER_H
#define VSR_WRITER_H

#include <libavcodec/packet.h>
#include <libavformat/avformat.h>
#include <libavutil/frame.h>

#include "codecs.h"
#include "vsr_types.h"

typedef struct vsr_writer vsr_writer;

typedef struct vsr_writer_options {
    const char *path; /* final name; the container follows its extension */
    vsr_output_format format;
    int width, height;
    AVRational time_base;  /* of frame pts */
    AVRational frame_rate; /* hint for the encoder and container; may be 0/1 */
    AVRational sar;
    const int32_t *display_matrix; /* 9 values or NULL */
    int encoders;                  /* parallel encoder contexts; 0 = one per core */
    int queue_frames;              /* frames that may wait for an encoder, at least */
    int copy_audio, copy_subtitles;
    int overwrite;                /* replace a partial file left by an earlier run */
    const AVFormatContext *input; /* streams, metadata and chapters to carry over; may be NULL */
    int64_t first_frame;          /* input frame number of the first frame (its timecode) */
} vsr_writer_options;

typedef struct vsr_writer_stats {
    int64_t frames;
    int64_t bytes;
    double encode_seconds; /* summed over encoder threads */
    int encoders;          /* encoder threads */
    double mux_seconds;    /* in the muxer, video and copied packets */
    int streams_copied, streams_skipped;
    int damaged; /* the end of the file could not be written: it may not play */
} vsr_writer_stats;

int vsr_writer_open(vsr_writer **writer, const vsr_writer_options *options, vsr_err *err);
/* A frame to fill: output size and pixel format, colour tags set. Owned by the caller. */
AVFrame *vsr_writer_frame(vsr_writer *writer);
/*
 * Queues `*frame` for encoding (takes it and sets *frame to NULL); the writer's own thread
 * muxes the packets. Frames come in output order with pts in options->time_base. Blocks
 * while the encoder queue is full. One thread writes frames.
 */
int vsr_writer_write_frame(vsr_writer *writer, AVFrame **frame, vsr_err *err);
/*
 * Thread-safe: copies one packet of input stream `in_stream` if that stream is copied
 * (packet timestamps in in_stream->time_base). Does not take the packet.
 */
int vsr_writer_copy_packet(vsr_writer *writer, const AVPacket *packet, const AVStream *in_stream);
/*
 * Drains the encoders and writes the trailer. With `complete` the temporary file is
 * renamed to the final name; otherwise it stays as the partial file (vsr_writer_path).
 */
int vsr_writer_finish(vsr_writer *writer, int complete, vsr_err *err);
/* The name the file has now: temporary until a complete finish, then the final one. */
const char *vsr_writer_path(const vsr_writer *writer);
/* Thread-safe. */
vsr_writer_stats vsr_writer_stats_get(vsr_writer *writer);
/* Frees everything; an unfinished temporary file is deleted. */
void vsr_writer_close(vsr_writer **writer);

#endif
