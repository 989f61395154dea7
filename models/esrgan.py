"""The two networks behind UpscalerJS's "ESRGAN" packages, in PyTorch.

UpscalerJS ships idealo's image-super-resolution generators, trained on DIV2K:
- esrgan-slim and esrgan-medium are an RDN (residual dense network, Zhang et al. 2018)
  that reads and writes pixels in [0, 255] and upsamples with nearest neighbour;
- esrgan-thick is an RRDN (residual-in-residual dense blocks, the ESRGAN generator of
  Wang et al. 2018) that reads and writes [0, 1] and upsamples with a pixel shuffle.

Both are plain convolutions, ReLUs, concatenations and additions, so TorchScript runs them
without custom operators. Keras' padding "same" equals symmetric zero padding of k // 2 for
the odd kernels these models use (the importer refuses even ones).

`VsrupESRGAN` wraps either network in the vsrup model contract: [1, T, 3, H, W] in [0, 1]
to [1, T, 3, sH, sW] in [0, 1], the T frames run as one batch.
"""
from typing import List

import torch
from torch import nn
import torch.nn.functional as F


def upsample_nearest(x: torch.Tensor, scale: int) -> torch.Tensor:
    """Nearest-neighbour upsampling by an integer factor as exact index repetition
    (F.interpolate's float source coordinates can round the wrong way for scale 3)."""
    n, c, h, w = x.shape
    x = x.reshape(n, c, h, 1, w, 1).expand(n, c, h, scale, w, scale)
    return x.reshape(n, c, h * scale, w * scale)


def conv(in_ch: int, out_ch: int, kernel: int) -> nn.Conv2d:
    """A stride-1 convolution with Keras "same" output size (odd kernels only)."""
    if kernel % 2 != 1:
        raise ValueError(f"kernel {kernel}: only odd kernels pad symmetrically like Keras 'same'")
    return nn.Conv2d(in_ch, out_ch, kernel, padding=kernel // 2)


class DenseBlock(nn.Module):
    """A residual dense block: `layers` 3x3 conv+ReLU, each seeing the block input and every
    earlier output concatenated, fused back to `channels` by `lff`, then added to the input
    (scaled by `beta` in the RRDN; beta 1 in the RDN)."""

    def __init__(self, channels: int, growth: int, layers: int, fuse_kernel: int, beta: float):
        super().__init__()
        self.convs = nn.ModuleList(
            [conv(channels + i * growth, growth, 3) for i in range(layers)])
        self.lff = conv(channels + layers * growth, channels, fuse_kernel)
        self.beta = beta

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = x
        for c in self.convs:
            features = torch.cat([features, F.relu(c(features))], dim=1)
        return x + self.beta * self.lff(features)


class RDN(nn.Module):
    """idealo's RDN with "ups" upscaling: features, D dense blocks, global fusion, then
    5x5/3x3/3x3 convolutions, nearest-neighbour upsampling and a 3x3 convolution to RGB.
    Works on pixel values in [0, 255]."""

    def __init__(self, scale: int, blocks: int, layers: int, channels: int, growth: int,
                 up_channels: int):
        super().__init__()
        self.scale = scale
        self.sfe1 = conv(3, channels, 3)
        self.sfe2 = conv(channels, channels, 3)
        self.rdbs = nn.ModuleList(
            [DenseBlock(channels, growth, layers, 1, 1.0) for _ in range(blocks)])
        self.gff1 = conv(blocks * channels, channels, 1)
        self.gff2 = conv(channels, channels, 3)
        self.up1 = conv(channels, 64, 5)
        self.up2 = conv(64, 32, 3)
        self.up3 = conv(32, up_channels, 3)
        self.sr = conv(up_channels, 3, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f_m1 = self.sfe1(x)
        h = self.sfe2(f_m1)
        block_outputs: List[torch.Tensor] = []
        for rdb in self.rdbs:
            h = rdb(h)
            block_outputs.append(h)
        h = self.gff2(self.gff1(torch.cat(block_outputs, dim=1))) + f_m1
        h = self.up3(F.relu(self.up2(F.relu(self.up1(h)))))
        return self.sr(upsample_nearest(h, self.scale))


class RRDB(nn.Module):
    """Residual in residual: dense blocks in a chain, the chain's output scaled by beta and
    added to the input."""

    def __init__(self, blocks: int, layers: int, channels: int, growth: int, beta: float):
        super().__init__()
        self.rdbs = nn.ModuleList(
            [DenseBlock(channels, growth, layers, 3, beta) for _ in range(blocks)])
        self.beta = beta

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x
        for rdb in self.rdbs:
            h = rdb(h)
        return x + self.beta * h


class RRDN(nn.Module):
    """idealo's RRDN: a 3x3 conv, T RRDBs, a 3x3 conv with a global skip, a 3x3 conv to
    3*s*s channels, a pixel shuffle and a 3x3 conv to RGB. Works on values in [0, 1].

    TensorFlow's depth_to_space reads channels in (row, column, colour) order, torch's
    pixel_shuffle in (colour, row, column) order; the importer permutes the output channels
    of `pre_shuffle` so that nn.PixelShuffle gives TensorFlow's result."""

    def __init__(self, scale: int, rrdbs: int, blocks: int, layers: int, channels: int,
                 growth: int, beta: float = 0.2):
        super().__init__()
        self.pre = conv(3, channels, 3)
        self.rrdbs = nn.ModuleList(
            [RRDB(blocks, layers, channels, growth, beta) for _ in range(rrdbs)])
        self.post = conv(channels, channels, 3)
        self.pre_shuffle = conv(channels, 3 * scale * scale, 3)
        self.shuffle = nn.PixelShuffle(scale)
        self.sr = conv(3, 3, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pre = self.pre(x)
        h = pre
        for rrdb in self.rrdbs:
            h = rrdb(h)
        h = self.post(h) + pre
        return self.sr(self.shuffle(self.pre_shuffle(h)))


class VsrupESRGAN(nn.Module):
    """The vsrup contract around a single-image network: frames in [0, 1] are scaled to the
    network's pixel range, run as one batch, scaled back and clamped to [0, 1] (the networks
    have no output activation, so they overshoot slightly at edges)."""

    def __init__(self, net: nn.Module, scale: int, pixel_range: float):
        super().__init__()
        self.net = net
        self.scale = scale
        self.pixel_range = pixel_range

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, t, c, h, w = x.shape
        y = self.net(x.reshape(n * t, c, h, w) * self.pixel_range) / self.pixel_range
        # Clamp after the reshape: torch 1.13's optimize_for_inference fuses a clamp that
        # directly follows a convolution into an MKLDNN clamp that returns wrong values on CPU
        # (pytorch/pytorch#86556); the 5-D tensor keeps the clamp out of the MKLDNN subgraph.
        return y.reshape(n, t, c, h * self.scale, w * self.scale).clamp(0.0, 1.0)
