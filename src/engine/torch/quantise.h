/*
 * Model output to encoder planes, on the device the output is on: the definition of
 * vsr_colour_quantise (include/colour.h) in float32 tensor operations.
 */
#ifndef VSR_TORCH_QUANTISE_H
#define VSR_TORCH_QUANTISE_H

#include <ATen/ATen.h>

#include <string>
#include <vector>

#include "vsr_types.h"

namespace vsr_torch
{

bool layout_supported(const vsr_pixel_layout &l, std::string *why);
/* Width of plane `plane` for a picture `w` wide. */
int plane_width(const vsr_pixel_layout &l, int plane, int w);
/*
 * RGB [K, 3, H, W] float32 to the encoder's three planes [K, h, w] on the same device. Deep
 * samples come back as int16 holding the uint16 bit pattern. Like the built-in path, NaN
 * becomes 0 and +/-inf the ends of [0, 1].
 */
std::vector<at::Tensor> quantise(const at::Tensor &rgb, const vsr_pixel_layout &l);
/* [K] bytes on the same device: 1 where frame k of rgb [K, 3, H, W] holds a NaN or an inf. */
at::Tensor nonfinite_frames(const at::Tensor &rgb);
/* Host planes [K, h, w] into `count` output frames. */
void copy_out(const std::vector<at::Tensor> &planes, const vsr_planes *out, int count);

} // namespace vsr_torch

#endif
