#include "quantise.h"

#include <cstring>

namespace vsr_torch
{
namespace
{

/* 4:2:2 chroma co-sited with even luma: (c[2x-1] + 2c[2x] + c[2x+1]) / 4, edges repeated. */
at::Tensor subsample_cosited(const at::Tensor &c)
{
    const int64_t w = c.size(-1), cw = (w + 1) / 2;
    /* padded[j] = c[j - 1], with c[-1] = c[0] and c[w] = c[w - 1] */
    const at::Tensor padded = at::cat({c.narrow(-1, 0, 1), c, c.narrow(-1, w - 1, 1)}, -1);
    const at::Tensor left = padded.slice(-1, 0, 2 * cw - 1, 2);
    const at::Tensor centre = padded.slice(-1, 1, 2 * cw, 2);
    const at::Tensor right = padded.slice(-1, 2, 2 * cw + 1, 2);
    return (left + centre * 2.0f + right) / 4.0f;
}

} // namespace

bool layout_supported(const vsr_pixel_layout &l, std::string *why)
{
    const bool bits_ok = l.bits == 8 || l.bits == 10 || l.bits == 12 || l.bits == 16;
    const bool shift_ok = l.chroma_w_shift == 0 || (l.chroma_w_shift == 1 && !l.rgb);
    const bool matrix_ok = l.rgb || (l.kr > 0 && l.kb > 0 && l.kr + l.kb < 1);
    if (bits_ok && shift_ok && matrix_ok)
        return true;
    *why = "unsupported output layout (rgb " + std::to_string(l.rgb) + ", " +
           std::to_string(l.bits) + " bits, chroma shift " + std::to_string(l.chroma_w_shift) + ")";
    return false;
}

std::vector<at::Tensor> quantise(const at::Tensor &rgb, const vsr_pixel_layout &l)
{
    /* clamp() passes NaN through, and NaN codes land below black. */
    const at::Tensor x = at::nan_to_num(rgb, 0.0, 1.0, 0.0).clamp_(0.0f, 1.0f);
    const at::Tensor r = x.select(1, 0), g = x.select(1, 1), b = x.select(1, 2);
    const float maxv = float((1 << l.bits) - 1);
    std::vector<at::Tensor> planes;
    if (l.rgb) {
        planes = {g * maxv, b * maxv, r * maxv};
    } else {
        const float kr = float(l.kr), kb = float(l.kb), kg = 1.0f - kr - kb;
        const at::Tensor y = r * kr + g * kg + b * kb;
        at::Tensor cb = (b - y) / (2.0f * (1.0f - kb));
        at::Tensor cr = (r - y) / (2.0f * (1.0f - kr));
        if (l.chroma_w_shift) {
            cb = subsample_cosited(cb);
            cr = subsample_cosited(cr);
        }
        if (l.full_range) {
            const float mid = float(1 << (l.bits - 1));
            planes = {y * maxv, cb * maxv + mid, cr * maxv + mid};
        } else {
            const float step = float(1 << (l.bits - 8));
            planes = {(y * 219.0f + 16.0f) * step, (cb * 224.0f + 128.0f) * step,
                      (cr * 224.0f + 128.0f) * step};
        }
    }
    for (at::Tensor &p : planes) {
        p = (p + 0.5f).floor_().clamp_(0.0f, maxv);
        p = l.bits == 8 ? p.to(at::kByte) : p.to(at::kInt).to(at::kShort);
    }
    return planes;
}

at::Tensor nonfinite_frames(const at::Tensor &rgb)
{
    return rgb.isfinite().logical_not_().flatten(1).any(1).to(at::kByte);
}

int plane_width(const vsr_pixel_layout &l, int plane, int w)
{
    const int shift = plane ? l.chroma_w_shift : 0;
    return (w + (1 << shift) - 1) >> shift;
}

void copy_out(const std::vector<at::Tensor> &planes, const vsr_planes *out, int count)
{
    for (size_t p = 0; p < planes.size(); p++) {
        const int64_t rows = planes[p].size(1);
        const size_t row_bytes = size_t(planes[p].size(2)) * planes[p].element_size();
        const auto *src = static_cast<const uint8_t *>(planes[p].data_ptr());
        for (int k = 0; k < count; k++)
            for (int64_t y = 0; y < rows; y++)
                std::memcpy(out[k].data[p] + y * out[k].linesize[p],
                            src + (k * rows + y) * int64_t(row_bytes), row_bytes);
    }
}

} // namespace vsr_torch
