/*
 * Refusals and warnings for input vsrup would otherwise mislabel (include/input_check.h).
 *
 * The writer tags every output BT.709 SDR progressive (src/output/writer.c set_colour) and the
 * colour reader knows no transfer function, so PQ/HLG or BT.2020 code values would come
 * out unchanged under a BT.709 label and their mastering metadata would be dropped.
 */
#include "input_check.h"

#include <stdio.h>

#include <libavutil/pixdesc.h>

#include "compat.h"
#include "log.h"

enum colour_kind { COLOUR_CARRIED, COLOUR_WIDE_GAMUT, COLOUR_HDR };

/* What the input's colour is, with "PQ, BT.2020", "HLG", "BT.2020"... in `what`. */
static enum colour_kind describe_colour(enum AVColorTransferCharacteristic trc,
                                        enum AVColorPrimaries prim, enum AVColorSpace space,
                                        int mastering, char *what, size_t size)
{
    const char *transfer = trc == AVCOL_TRC_SMPTE2084      ? "PQ"
                           : trc == AVCOL_TRC_ARIB_STD_B67 ? "HLG"
                                                           : NULL;
    const int bt2020 =
        prim == AVCOL_PRI_BT2020 || space == AVCOL_SPC_BT2020_NCL || space == AVCOL_SPC_BT2020_CL;
    if (!transfer && !bt2020 && !mastering)
        return COLOUR_CARRIED;
    snprintf(what, size, "%s%s%s%s", transfer ? transfer : "", transfer && bt2020 ? ", " : "",
             bt2020 ? "BT.2020" : "", !transfer && !bt2020 ? "mastering display metadata" : "");
    return transfer || mastering ? COLOUR_HDR : COLOUR_WIDE_GAMUT;
}

static int check_colour(const char *path, enum AVColorTransferCharacteristic trc,
                        enum AVColorPrimaries prim, enum AVColorSpace space, int mastering,
                        vsr_err *err)
{
    char what[64];
    const enum colour_kind kind = describe_colour(trc, prim, space, mastering, what, sizeof(what));
    if (kind == COLOUR_CARRIED)
        return VSR_OK;
    vsr_err_set(err, "%s: %s (%s) is not supported yet: vsrup would mislabel it", path,
                kind == COLOUR_HDR ? "HDR" : "wide-gamut colour", what);
    return VSR_ERROR;
}

static int bit_depth(enum AVPixelFormat fmt)
{
    const AVPixFmtDescriptor *d = av_pix_fmt_desc_get(fmt);
    return d && d->nb_components ? d->comp[0].depth : 0;
}

int vsr_input_check(const char *path, const AVStream *video, enum AVPixelFormat in_fmt,
                    const vsr_output_format *out, vsr_err *err)
{
    const AVCodecParameters *par = video->codecpar;
    const int mastering = vsr_stream_has_side_data(video, AV_PKT_DATA_MASTERING_DISPLAY_METADATA) ||
                          vsr_stream_has_side_data(video, AV_PKT_DATA_CONTENT_LIGHT_LEVEL);
    if (check_colour(path, par->color_trc, par->color_primaries, par->color_space, mastering, err) <
        0)
        return VSR_ERROR;

    const AVPixFmtDescriptor *in_desc = av_pix_fmt_desc_get(in_fmt);
    if (in_desc && (in_desc->flags & AV_PIX_FMT_FLAG_ALPHA))
        vsr_log(VSR_LOG_WARN,
                "%s: input has an alpha channel: the model output has none; alpha "
                "dropped",
                path);

    const int in_bits = bit_depth(in_fmt), out_bits = bit_depth(out->pix_fmt);
    if (in_bits > out_bits) {
        /* Of our encoders only FFV1 keeps more than 10 bits. */
        const char *keep = in_bits <= 12 ? "yuv444p12le" : "gbrp16le";
        const char *profile = vsr_output_profile_name(out);
        vsr_log(VSR_LOG_WARN, "%s: %d-bit input written as %d-bit %s%s%s (%s); %s --pix-fmt %s%s",
                path, in_bits, out_bits, vsr_codec_name(out->codec), *profile ? " " : "", profile,
                av_get_pix_fmt_name(out->pix_fmt),
                out->codec == VSR_CODEC_FFV1 ? "use" : "FFV1 keeps them: -c ffv1", keep,
                out->codec == VSR_CODEC_FFV1 ? " to keep them" : "");
    }
    return VSR_OK;
}

int vsr_input_check_frame(const char *path, const AVStream *video, const AVFrame *frame,
                          vsr_err *err)
{
    if (check_colour(path, frame->color_trc, frame->color_primaries, frame->colorspace, 0, err) < 0)
        return VSR_ERROR;
    const enum AVFieldOrder order = video->codecpar->field_order;
    return vsr_frame_interlaced(frame) ||
           (order != AV_FIELD_UNKNOWN && order != AV_FIELD_PROGRESSIVE);
}
