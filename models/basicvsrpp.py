"""BasicVSR++ (Chan et al., CVPR 2022), 4x video super-resolution.

A from-scratch implementation of the published architecture whose state dict
keys and shapes equal OpenMMLab's (mmedit 0.x BasicVSRPlusPlus, mmagic 1.x
BasicVSRPlusPlusNet, is_low_res_input=True), so the official checkpoints load
strictly. Section numbers (§) refer to shared/spec/basicvsrpp.md.

Differences from the reference, all deliberate (see docs/MODELS.md):
- no mirror-extension check and no CPU feature cache: forward has no host
  synchronisation and no control flow on tensor values (CUDA-graph capturable);
  the forward flows are always computed by SPyNet;
- T = 1 works (no flow, no alignment: only the i = 0 step of each branch);
- dtype-generic: SPyNet runs in its own weights' dtype, flows, DCN offsets and
  sampling coordinates stay float32, everything else runs in the weights' dtype
  (module.half() followed by module.spynet.float() is the fast GPU setup).
"""

from typing import List, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from models import dcn

LRELU_SLOPE = 0.1
# Low-resolution rows of context a band of the upsampling tail needs on each
# side to equal the whole-frame result: the 3x3 convolutions at 1x, 2x and 4x
# (upsample1, upsample2, conv_hr + conv_last) reach 1 + 1/2 + 2/4 rows.
TAIL_HALO = 2
# Values per low-resolution pixel of the tail's largest maps: 256 channels at
# 2x (upsample2's convolution) and 64 channels at 4x (conv_hr).
TAIL_ELEMENTS_PER_PIXEL = 64 * 16
# SPyNet's largest live maps at full size: the 8-channel input and the 32- and
# 64-channel outputs of its first two convolutions.
SPYNET_ELEMENTS_PER_PIXEL = 8 + 32 + 64
# Rows of context a band of DCN offsets needs on each side: conv_offset is four
# 3x3 convolutions.
OFFSET_HALO = 4
# Values per pixel of the offset path's live maps, per deform group: conv_offset's
# 27-channel output, the offsets (18) with the flows added, their concatenation
# and the mask, about four times 27.
OFFSET_ELEMENTS_PER_GROUP = 4 * 27


def halo_bands(h: int, rows: int, halo: int) -> List[Tuple[int, int, int, int]]:
    """Bands of `rows` output rows over a height of h: (top, bottom, first, last),
    the band's rows [top, bottom) and the input rows [first, last) it reads, with
    `halo` rows of context on each side where the frame has them."""
    bands: List[Tuple[int, int, int, int]] = []
    for top in range(0, h, rows):
        bottom = min(top + rows, h)
        bands.append((top, bottom, max(top - halo, 0), min(bottom + halo, h)))
    return bands


def flow_warp(x: Tensor, flow: Tensor, padding_mode: str = "zeros") -> Tensor:
    """Warp x (N, C, H, W) by flow (N, 2, H, W), channel 0 = dx, 1 = dy, pixels.

    Bilinear, align_corners=True, as the reference flow_warp (§4). Coordinates
    and sampling run in flow's dtype; the result is cast back to x's dtype.
    """
    h = x.shape[2]
    w = x.shape[3]
    gx = torch.arange(0, w, device=flow.device, dtype=flow.dtype).view(1, 1, w)
    gy = torch.arange(0, h, device=flow.device, dtype=flow.dtype).view(1, h, 1)
    nx = 2.0 * (gx + flow[:, 0]) / max(w - 1, 1) - 1.0
    ny = 2.0 * (gy + flow[:, 1]) / max(h - 1, 1) - 1.0
    grid = torch.stack((nx, ny), dim=3)
    out = F.grid_sample(x.to(flow.dtype), grid, mode="bilinear", padding_mode=padding_mode,
                        align_corners=True)
    return out.to(x.dtype)


class ResidualBlockNoBN(nn.Module):
    """x + conv2(relu(conv1(x))), plain ReLU, no activation after the add."""

    def __init__(self, channels: int):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, 1, 1)
        self.conv2 = nn.Conv2d(channels, channels, 3, 1, 1)
        self.relu = nn.ReLU()

    def forward(self, x: Tensor) -> Tensor:
        return x + self.conv2(self.relu(self.conv1(x)))


class ResidualBlocksWithInputConv(nn.Module):
    """conv (in -> out), LeakyReLU 0.1, then num_blocks residual blocks."""

    def __init__(self, in_channels: int, out_channels: int, num_blocks: int):
        super().__init__()
        blocks = [ResidualBlockNoBN(out_channels) for _ in range(num_blocks)]
        self.main = nn.Sequential(
            nn.Conv2d(in_channels, out_channels, 3, 1, 1),
            nn.LeakyReLU(LRELU_SLOPE),
            nn.Sequential(*blocks),
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.main(x)


class PixelShufflePack(nn.Module):
    """conv (in -> 4*out) then pixel_shuffle(2)."""

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.upsample_conv = nn.Conv2d(in_channels, out_channels * 4, 3, 1, 1)

    def forward(self, x: Tensor) -> Tensor:
        return F.pixel_shuffle(self.upsample_conv(x), 2)


class ConvModule(nn.Module):
    """mmcv ConvModule as SPyNet uses it: conv, then ReLU unless last."""

    def __init__(self, in_channels: int, out_channels: int, relu: bool):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, 7, 1, 3)
        self.relu = relu

    def forward(self, x: Tensor) -> Tensor:
        x = self.conv(x)
        if self.relu:
            x = F.relu(x)
        return x


class SPyNetBasicModule(nn.Module):
    """One pyramid level: [ref, warped supp, flow] (8 ch) -> flow residue."""

    def __init__(self):
        super().__init__()
        widths = [8, 32, 64, 32, 16, 2]
        self.basic_module = nn.Sequential(*[
            ConvModule(widths[i], widths[i + 1], relu=i < 4) for i in range(5)
        ])

    def forward(self, x: Tensor) -> Tensor:
        return self.basic_module(x)


class SPyNet(nn.Module):
    """Optical flow, 6-level pyramid (§3.2). Returns flow from ref to supp:
    warping supp with it aligns supp to ref. Channel 0 = dx, 1 = dy."""

    def __init__(self):
        super().__init__()
        self.basic_module = nn.ModuleList([SPyNetBasicModule() for _ in range(6)])
        self.register_buffer("mean", torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1))

    def _pyramid_flow(self, ref: Tensor, supp: Tensor) -> Tensor:
        ref = (ref - self.mean) / self.std
        supp = (supp - self.mean) / self.std
        refs = [ref]
        supps = [supp]
        for _ in range(5):
            refs.append(F.avg_pool2d(refs[-1], 2, 2, count_include_pad=False))
            supps.append(F.avg_pool2d(supps[-1], 2, 2, count_include_pad=False))
        refs.reverse()
        supps.reverse()
        flow = ref.new_zeros(ref.shape[0], 2, refs[0].shape[2], refs[0].shape[3])
        level = 0
        for module in self.basic_module:
            ref_l = refs[level]
            if level > 0:
                # size= equals scale_factor=2 here: with align_corners=True the
                # source step is (in-1)/(out-1) either way.
                flow = F.interpolate(flow, size=(ref_l.shape[2], ref_l.shape[3]), mode="bilinear",
                                     align_corners=True) * 2.0
            warped = flow_warp(supps[level], flow, padding_mode="border")
            flow = flow + module(torch.cat([ref_l, warped, flow], dim=1))
            level += 1
        return flow

    def forward(self, ref: Tensor, supp: Tensor) -> Tensor:
        h = ref.shape[2]
        w = ref.shape[3]
        h_up = h if h % 32 == 0 else 32 * (h // 32 + 1)
        w_up = w if w % 32 == 0 else 32 * (w // 32 + 1)
        ref = ref.to(self.mean.dtype)
        supp = supp.to(self.mean.dtype)
        if h_up != h or w_up != w:
            ref = F.interpolate(ref, size=(h_up, w_up), mode="bilinear", align_corners=False)
            supp = F.interpolate(supp, size=(h_up, w_up), mode="bilinear", align_corners=False)
        flow = self._pyramid_flow(ref, supp)
        if h_up != h or w_up != w:
            flow = F.interpolate(flow, size=(h, w), mode="bilinear", align_corners=False)
            flow = torch.cat([flow[:, :1] * (w / w_up), flow[:, 1:] * (h / h_up)], dim=1)
        return flow


class SecondOrderDeformableAlignment(nn.Module):
    """DCN aligning [feat(n-1), feat(n-2)] to frame n (§3.6).

    Offsets are 10*tanh(residue) plus the flows; groups 0..dg/2-1 sample the
    n-1 features with flow_1, the rest the n-2 features with flow_2.
    """

    def __init__(self, channels: int, deform_groups: int = 16, max_residue_magnitude: float = 10.0,
                 band_elements: int = dcn.DEFAULT_BAND_ELEMENTS):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(channels, 2 * channels, 3, 3))
        self.bias = nn.Parameter(torch.zeros(channels))
        bound = 1.0 / (2 * channels * 9) ** 0.5
        nn.init.uniform_(self.weight, -bound, bound)
        self.conv_offset = nn.Sequential(
            nn.Conv2d(3 * channels + 4, channels, 3, 1, 1),
            nn.LeakyReLU(LRELU_SLOPE),
            nn.Conv2d(channels, channels, 3, 1, 1),
            nn.LeakyReLU(LRELU_SLOPE),
            nn.Conv2d(channels, channels, 3, 1, 1),
            nn.LeakyReLU(LRELU_SLOPE),
            nn.Conv2d(channels, 27 * deform_groups, 3, 1, 1),
        )
        self.max_residue_magnitude = max_residue_magnitude
        self.band_elements = band_elements
        # TorchScript reads module attributes, not module-level globals
        self.offset_halo = OFFSET_HALO
        self.offset_elements_per_pixel = OFFSET_ELEMENTS_PER_GROUP * deform_groups

    def _offsets_and_mask(self, cond: Tensor, flow_1: Tensor,
                          flow_2: Tensor) -> Tuple[Tensor, Tensor]:
        out = self.conv_offset(cond).to(flow_1.dtype)
        o1, o2, mask = torch.chunk(out, 3, dim=1)
        offset = self.max_residue_magnitude * torch.tanh(torch.cat([o1, o2], dim=1))
        offset_1, offset_2 = torch.chunk(offset, 2, dim=1)
        taps = offset_1.shape[1] // 2
        # the flows are (dx, dy); the DCN offset layout is (dy, dx) per tap
        offset_1 = offset_1 + flow_1.flip(1).repeat(1, taps, 1, 1)
        offset_2 = offset_2 + flow_2.flip(1).repeat(1, taps, 1, 1)
        return torch.cat([offset_1, offset_2], dim=1), torch.sigmoid(mask)

    def forward(self, x: Tensor, extra_feat: Tensor, flow_1: Tensor, flow_2: Tensor) -> Tensor:
        dt = extra_feat.dtype
        cond = torch.cat([extra_feat, flow_1.to(dt), flow_2.to(dt)], dim=1)
        n, _, h, w = cond.shape
        # The offsets and masks of a whole frame take 27 values per pixel and deform
        # group several times over (conv_offset's output alone is 432 channels, 0.6 GB
        # at 720x528 in float32): they are made for bands of rows, each with
        # offset_halo rows of context, which gives the whole-frame values, and each
        # band is convolved at once.
        rows = dcn.band_rows(n, self.offset_elements_per_pixel, 1, w, h, self.band_elements)
        bands: List[Tensor] = []
        for top, bottom, first, last in halo_bands(h, rows, self.offset_halo):
            offset, mask = self._offsets_and_mask(cond[:, :, first:last],
                                                  flow_1[:, :, first:last],
                                                  flow_2[:, :, first:last])
            skip = top - first
            bands.append(dcn.modulated_deform_conv2d(
                x, offset[:, :, skip:skip + bottom - top], mask[:, :, skip:skip + bottom - top],
                self.weight, self.bias, 1, 1, 1, self.band_elements, top))
        return bands[0] if len(bands) == 1 else torch.cat(bands, dim=2)


class BasicVSRPlusPlus(nn.Module):
    """forward: (N, T, 3, H, W) RGB in [0, 1] -> (N, T, 3, 4H, 4W), no clamp.

    H and W >= 64 as in the reference (SPyNet's coarsest level); any size is
    accepted because SPyNet pads to a multiple of 32 internally.
    """

    BRANCHES = ["backward_1", "forward_1", "backward_2", "forward_2"]

    def __init__(self, mid_channels: int = 64, num_blocks: int = 7,
                 max_residue_magnitude: float = 10.0,
                 band_elements: int = dcn.DEFAULT_BAND_ELEMENTS):
        super().__init__()
        if mid_channels % 8 != 0:
            raise ValueError(f"mid_channels must be a multiple of 8 (16 deform groups over "
                             f"2*mid_channels inputs), got {mid_channels}")
        c = mid_channels
        self.mid_channels = c
        self.spynet = SPyNet()
        self.feat_extract = ResidualBlocksWithInputConv(3, c, 5)
        self.deform_align = nn.ModuleDict({
            name: SecondOrderDeformableAlignment(c, 16, max_residue_magnitude, band_elements)
            for name in self.BRANCHES
        })
        self.backbone = nn.ModuleDict({
            name: ResidualBlocksWithInputConv((2 + i) * c, c, num_blocks)
            for i, name in enumerate(self.BRANCHES)
        })
        self.reconstruction = ResidualBlocksWithInputConv(5 * c, c, 5)
        self.upsample1 = PixelShufflePack(c, c)
        self.upsample2 = PixelShufflePack(c, 64)
        self.conv_hr = nn.Conv2d(64, 64, 3, 1, 1)
        self.conv_last = nn.Conv2d(64, 3, 3, 1, 1)
        self.lrelu = nn.LeakyReLU(LRELU_SLOPE)
        self.band_elements = band_elements
        # TorchScript reads module attributes, not module-level globals
        self.tail_halo = TAIL_HALO
        self.tail_elements_per_pixel = TAIL_ELEMENTS_PER_PIXEL
        self.spynet_elements_per_pixel = SPYNET_ELEMENTS_PER_PIXEL

    def _flows(self, lqs: Tensor) -> List[Tensor]:
        """[backward, forward] flows, each (N, T-1, 2, H, W), float32 or
        SPyNet's dtype. Backward k: frame k -> k+1; forward k: k+1 -> k."""
        n, t, c, h, w = lqs.shape
        if t < 2:
            empty = lqs.new_zeros(n, 0, 2, h, w, dtype=self.spynet.mean.dtype)
            return [empty, empty]
        first = lqs[:, :-1].reshape(-1, c, h, w)
        rest = lqs[:, 1:].reshape(-1, c, h, w)
        # Pairs go through SPyNet in groups, so its full-size maps take a
        # bounded amount of memory however long the chunk (each pair is
        # independent: grouping changes no value).
        pairs = first.shape[0]
        padded_pixels = ((h + 31) // 32 * 32) * ((w + 31) // 32 * 32)
        group = max(1, self.band_elements // (self.spynet_elements_per_pixel * padded_pixels))
        backward: List[Tensor] = []
        forward: List[Tensor] = []
        for start in range(0, pairs, group):
            end = min(start + group, pairs)
            backward.append(self.spynet(first[start:end], rest[start:end]))
            forward.append(self.spynet(rest[start:end], first[start:end]))
        return [torch.cat(backward, dim=0).view(n, t - 1, 2, h, w),
                torch.cat(forward, dim=0).view(n, t - 1, 2, h, w)]

    def _alignment_inputs(self, feat_prop: Tensor, outputs: List[Tensor], feat_current: Tensor,
                          flows: Tensor, idx: int, step: int, backward: bool) -> List[Tensor]:
        """[dcn input, condition, flow_n1, flow_n2] for propagation step > 0 (§3.4).

        flow_n1 maps the current frame to the previous step's frame; flow_n2,
        composed from two flows, to the frame two steps back (zero at step 1).
        """
        flow_n1 = flows[:, idx] if backward else flows[:, idx - 1]
        cond_n1 = flow_warp(feat_prop, flow_n1)
        feat_n2 = torch.zeros_like(feat_prop)
        flow_n2 = torch.zeros_like(flow_n1)
        cond_n2 = torch.zeros_like(cond_n1)
        if step > 1:
            feat_n2 = outputs[-2]
            flow_far = flows[:, idx + 1] if backward else flows[:, idx - 2]
            flow_n2 = flow_n1 + flow_warp(flow_far, flow_n1)
            cond_n2 = flow_warp(feat_n2, flow_n2)
        cond = torch.cat([cond_n1, feat_current, cond_n2], dim=1)
        return [torch.cat([feat_prop, feat_n2], dim=1), cond, flow_n1, flow_n2]

    def _upsample_tail(self, feat: Tensor) -> Tensor:
        hr = self.lrelu(self.upsample1(feat))
        hr = self.lrelu(self.upsample2(hr))
        hr = self.lrelu(self.conv_hr(hr))
        return self.conv_last(hr)

    def _upsample_frame(self, lq: Tensor, feats: Tensor) -> Tensor:
        feat = self.reconstruction(feats)
        n, _, h, w = feat.shape
        out = F.interpolate(lq, scale_factor=4.0, mode="bilinear", align_corners=False)
        # The 4x maps of a whole frame take gigabytes (64 channels at 2880x2112
        # are 1.5 GiB in float32): build the output in bands of rows, each with
        # TAIL_HALO rows of context, which gives the whole-frame values.
        rows = dcn.band_rows(n, self.tail_elements_per_pixel, 1, w, h, self.band_elements)
        for top, bottom, first, last in halo_bands(h, rows, self.tail_halo):
            band = self._upsample_tail(feat[:, :, first:last])
            skip = 4 * (top - first)
            out[:, :, 4 * top:4 * bottom] += band[:, :, skip:skip + 4 * (bottom - top)]
        return out

    def forward(self, lqs: Tensor) -> Tensor:
        n, t, c, h, w = lqs.shape
        lqs = lqs.to(self.conv_last.weight.dtype).contiguous()
        spatial = self.feat_extract(lqs.view(-1, c, h, w)).view(n, t, -1, h, w)
        flows = self._flows(lqs)
        # The four branches in the order backward_1, forward_1, backward_2,
        # forward_2; each sees the outputs of the ones before it (§3.4). The
        # zip over the ModuleDicts is unrolled by TorchScript, index included.
        branches: List[List[Tensor]] = []
        index = 0
        for align, backbone in zip(self.deform_align.values(), self.backbone.values()):
            backward = index % 2 == 0
            branch_flows = flows[0] if backward else flows[1]
            outputs: List[Tensor] = []
            feat_prop = spatial.new_zeros(n, spatial.shape[2], h, w)
            for i in range(t):
                idx = t - 1 - i if backward else i
                feat_current = spatial[:, idx]
                if i > 0:
                    inputs = self._alignment_inputs(feat_prop, outputs, feat_current, branch_flows,
                                                    idx, i, backward)
                    feat_prop = align(inputs[0], inputs[1], inputs[2], inputs[3])
                feat = torch.cat([feat_current] + [b[idx] for b in branches] + [feat_prop], dim=1)
                feat_prop = feat_prop + backbone(feat)
                outputs.append(feat_prop)
            if backward:
                outputs.reverse()
            branches.append(outputs)
            index += 1
        out = lqs.new_empty(n, t, 3, 4 * h, 4 * w)
        for i in range(t):
            feats = torch.cat([spatial[:, i]] + [b[i] for b in branches], dim=1)
            out[:, i] = self._upsample_frame(lqs[:, i], feats)
        return out
