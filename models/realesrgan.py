"""The two generators of Real-ESRGAN (Wang et al., 2021), in plain PyTorch.

- `RRDBNet`: the ESRGAN generator as trained for RealESRGAN_x4plus.pth: a 3x3 conv, N
  residual-in-residual dense blocks (each three 5-conv dense blocks with LeakyReLU 0.2, every
  residual scaled by 0.2), a 3x3 conv with a global skip, then twice (nearest x2, 3x3 conv,
  LeakyReLU), a 3x3 conv with LeakyReLU and a 3x3 conv to RGB. Works on RGB in [0, 1].
- `SRVGGNetCompact`: the small VGG-style net of realesr-general-x4v3.pth (the "x4fast" of the
  ncnn release): a 3x3 conv and PReLU, num_conv times (3x3 conv, PReLU), a 3x3 conv to
  3*scale*scale channels, a pixel shuffle, plus the input upsampled by nearest neighbour.

Module and parameter names are those of the official checkpoints (basicsr's rrdbnet_arch and
Real-ESRGAN's srvgg_arch), so their state dicts load without renaming. Only the x4 variants are
implemented (RRDBNet's x2/x1 variants pixel-unshuffle the input first). Both are convolutions,
activations, concatenations and additions: TorchScript runs them with no custom operator and
at any input size (min_size 1x1, multiple 1; the convs zero-pad at the frame border).

`VsrupESRGAN` (models/esrgan.py) wraps either in the vsrup contract: [1, T, 3, H, W] in [0, 1]
to [1, T, 3, 4H, 4W], the T frames as one batch, clamped to [0, 1] as Real-ESRGAN's own
inference does.
"""
import os
import sys

import torch
from torch import nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from esrgan import upsample_nearest  # noqa: E402

SCALE = 4
LEAKY_SLOPE = 0.2  # as literals below: TorchScript cannot read module-level floats


def lrelu(x: torch.Tensor) -> torch.Tensor:
    return F.leaky_relu(x, 0.2)


def scaled_residual(residual: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """ESRGAN's residual scaling by 0.2 (Wang et al. 2018, sec. 3.2)."""
    return residual * 0.2 + x


def conv3x3(in_ch: int, out_ch: int) -> nn.Conv2d:
    return nn.Conv2d(in_ch, out_ch, 3, padding=1)


class ResidualDenseBlock(nn.Module):
    """Five 3x3 convs, each seeing the block input and every earlier output; LeakyReLU after the
    first four; the fifth's output scaled by 0.2 and added to the input."""

    def __init__(self, num_feat: int, num_grow_ch: int):
        super().__init__()
        self.conv1 = conv3x3(num_feat, num_grow_ch)
        self.conv2 = conv3x3(num_feat + num_grow_ch, num_grow_ch)
        self.conv3 = conv3x3(num_feat + 2 * num_grow_ch, num_grow_ch)
        self.conv4 = conv3x3(num_feat + 3 * num_grow_ch, num_grow_ch)
        self.conv5 = conv3x3(num_feat + 4 * num_grow_ch, num_feat)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x1 = lrelu(self.conv1(x))
        x2 = lrelu(self.conv2(torch.cat([x, x1], 1)))
        x3 = lrelu(self.conv3(torch.cat([x, x1, x2], 1)))
        x4 = lrelu(self.conv4(torch.cat([x, x1, x2, x3], 1)))
        x5 = self.conv5(torch.cat([x, x1, x2, x3, x4], 1))
        return scaled_residual(x5, x)


class RRDB(nn.Module):
    """Three dense blocks in a chain; their output scaled by 0.2 and added to the input."""

    def __init__(self, num_feat: int, num_grow_ch: int):
        super().__init__()
        self.rdb1 = ResidualDenseBlock(num_feat, num_grow_ch)
        self.rdb2 = ResidualDenseBlock(num_feat, num_grow_ch)
        self.rdb3 = ResidualDenseBlock(num_feat, num_grow_ch)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return scaled_residual(self.rdb3(self.rdb2(self.rdb1(x))), x)


class RRDBNet(nn.Module):
    """Real-ESRGAN's x4 RRDBNet (x4plus: num_feat 64, num_block 23, num_grow_ch 32)."""

    def __init__(self, num_feat: int = 64, num_block: int = 23, num_grow_ch: int = 32):
        super().__init__()
        self.conv_first = conv3x3(3, num_feat)
        self.body = nn.Sequential(*[RRDB(num_feat, num_grow_ch) for _ in range(num_block)])
        self.conv_body = conv3x3(num_feat, num_feat)
        self.conv_up1 = conv3x3(num_feat, num_feat)
        self.conv_up2 = conv3x3(num_feat, num_feat)
        self.conv_hr = conv3x3(num_feat, num_feat)
        self.conv_last = conv3x3(num_feat, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feat = self.conv_first(x)
        feat = feat + self.conv_body(self.body(feat))
        feat = lrelu(self.conv_up1(upsample_nearest(feat, 2)))
        feat = lrelu(self.conv_up2(upsample_nearest(feat, 2)))
        return self.conv_last(lrelu(self.conv_hr(feat)))


class SRVGGNetCompact(nn.Module):
    """Real-ESRGAN's compact x4 net (realesr-general-x4v3: num_feat 64, num_conv 32).

    `body` is one list, as in the official file: body.0 conv, body.1 PReLU, then num_conv
    (conv, PReLU) pairs, then the last conv at body.(2 * num_conv + 2)."""

    def __init__(self, num_feat: int = 64, num_conv: int = 32, scale: int = SCALE):
        super().__init__()
        layers = [conv3x3(3, num_feat), nn.PReLU(num_feat)]
        for _ in range(num_conv):
            layers += [conv3x3(num_feat, num_feat), nn.PReLU(num_feat)]
        layers.append(conv3x3(num_feat, 3 * scale * scale))
        self.body = nn.ModuleList(layers)
        self.upsampler = nn.PixelShuffle(scale)
        self.scale = scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = x
        for layer in self.body:
            out = layer(out)
        return self.upsampler(out) + upsample_nearest(x, self.scale)
