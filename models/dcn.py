"""Modulated deformable convolution (DCNv2) in plain torch ops.

Same semantics and tensor layout as torchvision.ops.deform_conv2d and mmcv's
modulated_deform_conv2d, but built from grid_sample + conv2d so a TorchScript
archive needs no custom operator and loads in bare libtorch.

Layout (torchvision == mmcv): offset is (N, dg*2*kh*kw, Ho, Wo) ordered
(group, tap k = i*kw + j, [dy, dx]); mask is (N, dg*kh*kw, Ho, Wo); the input
channels form dg contiguous groups. Tap (i, j) of output pixel (y, x) samples
input position (y*s - p + i*d + dy, x*s - p + j*d + dx), bilinear, zero outside.

How: every tap is sampled with grid_sample into a (C, Ho*kh, Wo*kw) map where
tap (i, j) of output (y, x) sits at (y*kh + i, x*kw + j); a conv2d with stride
(kh, kw) then applies the kernel. That map is the im2col matrix (C*kh*kw values
per output pixel), so it is built in bands of output rows to bound memory.
"""

from typing import List, Optional

import torch
import torch.nn.functional as F
from torch import Tensor

# Sampled values per band (64 Mi elements = 256 MiB in float32): large enough
# to keep a GPU busy, small enough that a 960x540 feature map needs few bands.
DEFAULT_BAND_ELEMENTS = 1 << 26


def band_rows(n: int, channels: int, taps: int, out_w: int, out_h: int,
              band_elements: int) -> int:
    """Output rows per band so the sampled map stays under band_elements.

    Derived from shapes only (no tensor values), so it never syncs the host.
    """
    per_row = n * channels * taps * out_w
    return max(1, min(out_h, band_elements // max(1, per_row)))


def _sampling_grid(offset: Tensor, row0: int, in_h: int, in_w: int,
                   kh: int, kw: int, stride: int, padding: int,
                   dilation: int) -> Tensor:
    """grid_sample grid (N*dg, rows*kh, Wo*kw, 2) for a band of offset rows.

    Coordinates stay in offset's dtype (float32 in this project): the offsets
    are whole pixels and half precision would move samples by up to 0.5 px.
    """
    n, ch, rows, out_w = offset.shape
    dg = ch // (2 * kh * kw)
    # (N, dg, kh, kw, [dy, dx], rows, Wo) -> (N, dg, rows, kh, Wo, kw, [dy, dx])
    off = offset.view(n, dg, kh, kw, 2, rows, out_w).permute(0, 1, 5, 2, 6, 3, 4)
    dev = offset.device
    dt = offset.dtype
    ys = torch.arange(row0, row0 + rows, device=dev, dtype=dt) * stride - padding
    xs = torch.arange(0, out_w, device=dev, dtype=dt) * stride - padding
    ti = torch.arange(0, kh, device=dev, dtype=dt) * dilation
    tj = torch.arange(0, kw, device=dev, dtype=dt) * dilation
    base_y = (ys.view(rows, 1) + ti.view(1, kh)).view(rows, kh, 1, 1)
    base_x = (xs.view(out_w, 1) + tj.view(1, kw)).view(1, 1, out_w, kw)
    py = off[..., 0] + base_y
    px = off[..., 1] + base_x
    # align_corners=False normalisation: pixel p -> (2p + 1) / size - 1. It has
    # no singularity for 1-pixel maps and grid_sample's zero padding then
    # matches the reference rule (0 at p <= -1 or p >= size, partial taps).
    gx = px * (2.0 / in_w) + (1.0 / in_w - 1.0)
    gy = py * (2.0 / in_h) + (1.0 / in_h - 1.0)
    return torch.stack((gx, gy), dim=-1).view(n * dg, rows * kh, out_w * kw, 2)


def _band(x: Tensor, offset: Tensor, mask: Tensor, weight: Tensor,
          bias: Optional[Tensor], row0: int, stride: int, padding: int,
          dilation: int, groups: int) -> Tensor:
    n, c, in_h, in_w = x.shape
    kh = weight.shape[2]
    kw = weight.shape[3]
    rows = offset.shape[2]
    out_w = offset.shape[3]
    dg = offset.shape[1] // (2 * kh * kw)
    grid = _sampling_grid(offset, row0, in_h, in_w, kh, kw, stride, padding, dilation)
    cols = F.grid_sample(x.reshape(n * dg, c // dg, in_h, in_w), grid, mode="bilinear",
                         padding_mode="zeros", align_corners=False)
    # mask (N, dg*kh*kw, rows, Wo) laid out like the sampled map
    m = mask.view(n, dg, kh, kw, rows, out_w).permute(0, 1, 4, 2, 5, 3)
    m = m.reshape(n, dg, 1, rows * kh, out_w * kw)
    cols = cols.view(n, dg, c // dg, rows * kh, out_w * kw).mul_(m)
    cols = cols.view(n, c, rows * kh, out_w * kw).to(weight.dtype)
    return F.conv2d(cols, weight, bias, stride=(kh, kw), groups=groups)


def modulated_deform_conv2d(x: Tensor, offset: Tensor, mask: Tensor, weight: Tensor,
                            bias: Optional[Tensor], stride: int = 1, padding: int = 0,
                            dilation: int = 1,
                            band_elements: int = DEFAULT_BAND_ELEMENTS, row0: int = 0) -> Tensor:
    """DCNv2 forward, equal to torchvision.ops.deform_conv2d(x, offset, weight,
    bias, stride, padding, dilation, mask).

    Sampling runs in offset's dtype (x and mask are cast to it); the sampled
    columns are cast to weight's dtype for the convolution, so a half-precision
    network keeps float32 sampling positions. The number of deform groups is
    offset.shape[1] // (2*kh*kw) and the conv groups C // weight.shape[1], as
    in torchvision. Output rows are processed in bands of at most band_elements
    sampled values; every band sees the whole input (offsets are unbounded).
    offset and mask may hold only the output rows from row0 on: the result is
    then those rows of the whole output.
    """
    n, c, _, _ = x.shape
    kh = weight.shape[2]
    kw = weight.shape[3]
    out_h = offset.shape[2]
    out_w = offset.shape[3]
    groups = c // weight.shape[1]
    xs = x.to(offset.dtype)
    ms = mask.to(offset.dtype)
    step = band_rows(n, c, kh * kw, out_w, out_h, band_elements)
    if step >= out_h:
        return _band(xs, offset, ms, weight, bias, row0, stride, padding, dilation, groups)
    bands: List[Tensor] = []
    for top in range(0, out_h, step):
        bottom = min(out_h, top + step)
        bands.append(_band(xs, offset[:, :, top:bottom], ms[:, :, top:bottom], weight, bias,
                           row0 + top, stride, padding, dilation, groups))
    return torch.cat(bands, dim=2)
