/*
 * Demux and sequential decode of the input's best video stream.
 * Counts decoded frames (never trusts headers), reports damaged data, and hands the
 * packets of other streams to a callback so they can be copied to the output.
 */
#ifndef VSR_READER_H
#define VSR_READER_H

#include <signal.h>

#include <libavcodec/packet.h>
#include <libavformat/avformat.h>
#include <libavutil/frame.h>

#include "vsr_types.h"

typedef struct vsr_reader vsr_reader;

typedef struct vsr_reader_options {
    const char *path;
    int64_t start_frame; /* decoded frames before this one are dropped */
    int64_t max_frames;  /* 0 = all */
    /*
     * Up to this many decoded frames on each side of a --start/--frames range are returned
     * too, as VSR_READER_CONTEXT: the neighbours a temporal model needs at the range's
     * borders. They are not counted, and the other streams are still cut to the range.
     */
    int64_t context_frames;
    int keep_timestamps; /* a --start range keeps the input's timestamps (no shift to 0) */
    int threads;         /* decoder threads; 0 = auto */
    /*
     * Called from vsr_reader_next for each packet of a non-video stream whose timestamp
     * lies inside the kept frame range (already shifted by ts_offset). Takes no ownership.
     */
    void (*on_packet)(void *opaque, AVPacket *packet, const AVStream *stream);
    void *opaque;
    /* May be NULL. Set (Ctrl-C), it ends an open that waits for data (a FIFO with no writer,
     * a stalled network input): vsr_reader_open fails, and the caller sees *stop set. */
    const volatile sig_atomic_t *stop;
} vsr_reader_options;

typedef struct vsr_video_info {
    int width, height;
    enum AVPixelFormat pix_fmt;
    AVRational time_base;  /* of the video stream; frame pts are in it */
    AVRational frame_rate; /* best guess, for the encoder's hint and progress only */
    AVRational sar;
    int64_t frames_estimate; /* from headers or duration, may be wrong; 0 = unknown */
    int has_display_matrix;
    int32_t display_matrix[9];
    int stream_index;
} vsr_video_info;

typedef struct vsr_reader_stats {
    int64_t frames;         /* kept frames returned so far */
    int64_t damaged_frames; /* frames flagged corrupt or with decode errors */
    int64_t decode_errors;  /* packets the decoder rejected */
} vsr_reader_stats;

int vsr_reader_open(vsr_reader **reader, const vsr_reader_options *options, vsr_err *err);
/* Sets options.context_frames once the model is known; before the first vsr_reader_next. */
void vsr_reader_set_context(vsr_reader *reader, int64_t context_frames);
const vsr_video_info *vsr_reader_info(const vsr_reader *reader);
/* The demuxer, for the writer to copy streams, metadata and chapters from. */
const AVFormatContext *vsr_reader_format(const vsr_reader *reader);
enum { VSR_READER_FRAME = 1, VSR_READER_CONTEXT = 2 };

/*
 * Next frame into `frame` (unref'd first), pts strictly increasing and shifted so the
 * first kept frame of a --start range is at 0 (unless keep_timestamps). Returns VSR_READER_FRAME
 * for a kept frame, VSR_READER_CONTEXT for a context frame outside the range, 0 at the end, or
 * VSR_ERROR on a failure that stops reading (damaged data is counted and concealed).
 */
int vsr_reader_next(vsr_reader *reader, AVFrame *frame, vsr_err *err);
vsr_reader_stats vsr_reader_stats_get(const vsr_reader *reader);
void vsr_reader_close(vsr_reader **reader);

#endif
