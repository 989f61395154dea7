/*
 * The few places where the FFmpeg API differs between 5.1 and 7.x, behind one name each
 * (notes/apis.md C3). Everything else uses APIs common to all supported versions.
 */
#ifndef VSR_COMPAT_H
#define VSR_COMPAT_H

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/frame.h>

/* ---- reader: frame duration, stream display matrix ----------------------------------- */

/* AVFrame.duration replaced pkt_duration in lavu 57.30.100. 0 when unknown. */
static inline int64_t vsr_frame_duration(const AVFrame *frame)
{
#if LIBAVUTIL_VERSION_INT >= AV_VERSION_INT(57, 30, 100)
    return frame->duration;
#else
    return frame->pkt_duration;
#endif
}

static inline void vsr_frame_set_duration(AVFrame *frame, int64_t duration)
{
#if LIBAVUTIL_VERSION_INT >= AV_VERSION_INT(57, 30, 100)
    frame->duration = duration;
#else
    frame->pkt_duration = duration;
#endif
}

/*
 * The stream's display matrix (9 int32, AV_PKT_DATA_DISPLAYMATRIX) or NULL. Demuxers put
 * stream side data into codecpar->coded_side_data from lavf 60.15.100 on; AVStream's own
 * side data is gone in lavf 61.
 */
static inline const int32_t *vsr_stream_display_matrix(const AVStream *st)
{
    const size_t want = 9 * sizeof(int32_t);
#if LIBAVFORMAT_VERSION_INT >= AV_VERSION_INT(60, 15, 100)
    const AVPacketSideData *sd = av_packet_side_data_get(
        st->codecpar->coded_side_data, st->codecpar->nb_coded_side_data, AV_PKT_DATA_DISPLAYMATRIX);
    if (!sd || sd->size < want)
        return NULL;
    return (const int32_t *)sd->data;
#else
    size_t size = 0;
    const uint8_t *data = av_stream_get_side_data(st, AV_PKT_DATA_DISPLAYMATRIX, &size);
    return data && size >= want ? (const int32_t *)data : NULL;
#endif
}

/* ---- end of reader section ------------------------------------------------------------ */

#endif
