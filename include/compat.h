/*
 * The few places where the FFmpeg API differs between 5.1 and 7.x, behind one name each
 * (notes/apis.md C3). Everything else uses APIs common to all supported versions.
 */
#ifndef VSR_COMPAT_H
#define VSR_COMPAT_H

#include <string.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/frame.h>

/* AV_PROFILE_* replaced FF_PROFILE_* in lavc 60.x; the old names are gone in lavc 62. */
#ifdef AV_PROFILE_PRORES_HQ
#define VSR_PROFILE_PRORES_PROXY AV_PROFILE_PRORES_PROXY
#define VSR_PROFILE_PRORES_LT AV_PROFILE_PRORES_LT
#define VSR_PROFILE_PRORES_STANDARD AV_PROFILE_PRORES_STANDARD
#define VSR_PROFILE_PRORES_HQ AV_PROFILE_PRORES_HQ
#define VSR_PROFILE_PRORES_4444 AV_PROFILE_PRORES_4444
#define VSR_PROFILE_PRORES_XQ AV_PROFILE_PRORES_XQ
#define VSR_PROFILE_DNXHR_LB AV_PROFILE_DNXHR_LB
#define VSR_PROFILE_DNXHR_SQ AV_PROFILE_DNXHR_SQ
#define VSR_PROFILE_DNXHR_HQ AV_PROFILE_DNXHR_HQ
#define VSR_PROFILE_DNXHR_HQX AV_PROFILE_DNXHR_HQX
#define VSR_PROFILE_DNXHR_444 AV_PROFILE_DNXHR_444
#else
#define VSR_PROFILE_PRORES_PROXY FF_PROFILE_PRORES_PROXY
#define VSR_PROFILE_PRORES_LT FF_PROFILE_PRORES_LT
#define VSR_PROFILE_PRORES_STANDARD FF_PROFILE_PRORES_STANDARD
#define VSR_PROFILE_PRORES_HQ FF_PROFILE_PRORES_HQ
#define VSR_PROFILE_PRORES_4444 FF_PROFILE_PRORES_4444
#define VSR_PROFILE_PRORES_XQ FF_PROFILE_PRORES_XQ
#define VSR_PROFILE_DNXHR_LB FF_PROFILE_DNXHR_LB
#define VSR_PROFILE_DNXHR_SQ FF_PROFILE_DNXHR_SQ
#define VSR_PROFILE_DNXHR_HQ FF_PROFILE_DNXHR_HQ
#define VSR_PROFILE_DNXHR_HQX FF_PROFILE_DNXHR_HQX
#define VSR_PROFILE_DNXHR_444 FF_PROFILE_DNXHR_444
#endif

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
 * The stream's display matrix (9 int32, AV_PKT_DATA_DISPLAYMATRIX) or NULL. From lavf
 * 60.15.100 (6.1) demuxers fill only codecpar->coded_side_data, so the old call would find
 * nothing there; AVStream's own side data is deprecated then and removed in lavf 62 (8.0).
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

/* Whether the stream carries side data of this type (where it lives moved as above). */
static inline int vsr_stream_has_side_data(const AVStream *st, enum AVPacketSideDataType type)
{
#if LIBAVFORMAT_VERSION_INT >= AV_VERSION_INT(60, 15, 100)
    return av_packet_side_data_get(st->codecpar->coded_side_data, st->codecpar->nb_coded_side_data,
                                   type) != NULL;
#else
    size_t size = 0;
    return av_stream_get_side_data(st, type, &size) != NULL;
#endif
}

/* AVFrame.interlaced_frame became the AV_FRAME_FLAG_INTERLACED flag in lavu 58.7.100. */
static inline int vsr_frame_interlaced(const AVFrame *frame)
{
#if LIBAVUTIL_VERSION_INT >= AV_VERSION_INT(58, 7, 100)
    return !!(frame->flags & AV_FRAME_FLAG_INTERLACED);
#else
    return frame->interlaced_frame;
#endif
}

/* Stream side data moved into codecpar->coded_side_data in lavc 60.29.100 / lavf 60.15.100;
 * call after avcodec_parameters_from_context, which replaces that list. */
static inline int vsr_stream_add_display_matrix(AVStream *st, const int32_t matrix[9])
{
    const size_t size = 9 * sizeof(int32_t);
#if LIBAVCODEC_VERSION_INT >= AV_VERSION_INT(60, 29, 100)
    AVPacketSideData *sd =
        av_packet_side_data_new(&st->codecpar->coded_side_data, &st->codecpar->nb_coded_side_data,
                                AV_PKT_DATA_DISPLAYMATRIX, size, 0);
    uint8_t *data = sd ? sd->data : NULL;
#else
    uint8_t *data = av_stream_new_side_data(st, AV_PKT_DATA_DISPLAYMATRIX, size);
#endif
    if (!data)
        return AVERROR(ENOMEM);
    memcpy(data, matrix, size);
    return 0;
}

/* For a stream copied into another file: its display matrix, which avcodec_parameters_copy
 * carries along itself from lavc 60.29.100 (it is in codecpar->coded_side_data there). */
static inline int vsr_stream_copy_display_matrix(AVStream *out, const AVStream *in)
{
#if LIBAVCODEC_VERSION_INT >= AV_VERSION_INT(60, 29, 100)
    (void)out;
    (void)in;
    return 0;
#else
    const int32_t *matrix = vsr_stream_display_matrix(in);
    return matrix ? vsr_stream_add_display_matrix(out, matrix) : 0;
#endif
}

/* The pixel formats an encoder takes, AV_PIX_FMT_NONE-terminated, or NULL when it does not
 * say. avcodec_get_supported_config() replaced AVCodec.pix_fmts in lavc 61.13.100. */
static inline const enum AVPixelFormat *vsr_encoder_pix_fmts(const AVCodec *codec)
{
#if LIBAVCODEC_VERSION_INT >= AV_VERSION_INT(61, 13, 100)
    const void *fmts = NULL;
    if (avcodec_get_supported_config(NULL, codec, AV_CODEC_CONFIG_PIX_FORMAT, 0, &fmts, NULL) < 0)
        return NULL;
    return fmts;
#else
    return codec->pix_fmts;
#endif
}

/* The buffer avio_alloc_context hands to write_packet became const in lavf 61 (7.0). */
#if LIBAVFORMAT_VERSION_MAJOR >= 61
#define VSR_AVIO_WRITE_CONST const
#else
#define VSR_AVIO_WRITE_CONST
#endif

#endif
