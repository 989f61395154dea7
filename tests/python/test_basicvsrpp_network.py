"""The whole network equals the same composition with torchvision's DCN.

The reference swaps models.dcn.modulated_deform_conv2d for
torchvision.ops.deform_conv2d (the library BasicSR uses in its BasicVSR++), so
everything the DCN feeds on (flows, offsets, masks) must also be laid out as
torchvision expects. Input: a real crop of Megamind.avi decoded by ffmpeg.
"""

import os
import subprocess
import sys

import numpy as np
import pytest
import torch
import torch.nn.functional as F

SRC = os.environ.get("VSR_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, SRC)
SHARED = os.environ.get("VSR_SHARED", os.path.join(SRC, "..", "shared"))

from models import dcn  # noqa: E402
from models.basicvsrpp import BasicVSRPlusPlus, flow_warp  # noqa: E402

tv_ops = pytest.importorskip("torchvision.ops")

CLIP = os.path.join(SHARED, "media", "Megamind.avi")
H, W, FRAMES = 64, 72, 7  # not multiples of 32: SPyNet's resize path runs


@pytest.fixture(scope="module")
def clip():
    if not os.path.isfile(CLIP):
        pytest.skip(f"{CLIP} not found (set VSR_SHARED)")
    raw = subprocess.run(["ffmpeg", "-v", "error", "-ss", "2", "-i", CLIP, "-vf",
                          f"crop={W}:{H}:320:180", "-frames:v", str(FRAMES), "-f", "rawvideo",
                          "-pix_fmt", "rgb24", "-"], check=True, capture_output=True).stdout
    frames = np.frombuffer(raw, np.uint8).reshape(FRAMES, H, W, 3)
    return torch.from_numpy(frames.copy()).permute(0, 3, 1, 2).float().div(255).unsqueeze(0)


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    m = BasicVSRPlusPlus(mid_channels=16, num_blocks=2).eval()
    # Untrained SPyNet gives sub-pixel flows; scale its last convs so flows
    # reach several pixels and every warp and the flow composition matter.
    with torch.no_grad():
        for level in m.spynet.basic_module:
            level.basic_module[4].conv.weight.mul_(6.0)
    return m


def test_flows_are_large_enough(model, clip):
    with torch.no_grad():
        backward, forward = model._flows(clip)
    assert backward.shape == (1, FRAMES - 1, 2, H, W)
    assert backward.abs().max() > 2.0 and forward.abs().max() > 2.0


@pytest.mark.parametrize("t", [1, 2, 7])
def test_equals_torchvision_dcn_composition(model, clip, monkeypatch, t):
    lqs = clip[:, :t].contiguous()
    with torch.no_grad():
        ours = model(lqs)
    calls = []

    def torchvision_dcn(x, offset, mask, weight, bias, stride: int = 1, padding: int = 0,
                        dilation: int = 1, band_elements: int = 0, row0: int = 0):
        assert row0 == 0 and offset.shape[2] == x.shape[2]  # one band: the whole frame
        calls.append(offset.shape)
        return tv_ops.deform_conv2d(x, offset, weight, bias, (stride, stride),
                                    (padding, padding), (dilation, dilation), mask)

    monkeypatch.setattr(dcn, "modulated_deform_conv2d", torchvision_dcn)
    with torch.no_grad():
        ref = model(lqs)
    # t frames: 4 branches align t-1 times each
    assert len(calls) == 4 * (t - 1)
    assert ours.shape == (1, t, 3, 4 * H, 4 * W)
    skip = F.interpolate(lqs[0], scale_factor=4.0, mode="bilinear", align_corners=False)
    for a, b in [(ours, ref), (ours[0] - skip, ref[0] - skip)]:  # whole output, then residual
        err = (a - b).abs().max().item() / b.abs().max().item()
        assert err <= 1e-4, f"relative max error {err:.3g}"


def test_flow_warp_integer_shift():
    """Independent check of the warp convention: channel 0 = dx, 1 = dy."""
    x = torch.arange(2 * 6 * 7, dtype=torch.float32).view(1, 2, 6, 7)
    flow = torch.zeros(1, 2, 6, 7)
    flow[:, 0] = 2.0   # sample 2 px to the right
    flow[:, 1] = -1.0  # and 1 px up
    out = flow_warp(x, flow)
    want = torch.zeros_like(x)
    want[:, :, 1:, :5] = x[:, :, :5, 2:]
    assert torch.allclose(out, want, rtol=0, atol=1e-5)


def test_batch_items_are_independent(model, clip):
    """Two sequences in one batch give the same result as one at a time."""
    pair = torch.cat([clip[:, :2], clip[:, 2:4]], dim=0)
    with torch.no_grad():
        both = model(pair)
        first = model(clip[:, :2])
    err = (both[:1] - first).abs().max().item() / first.abs().max().item()
    assert err <= 1e-5


def test_bands_and_groups_equal_whole_frames(model, clip):
    """The upsampling tail built in bands of rows (with TAIL_HALO rows of
    context) and SPyNet run over groups of pairs give the whole-frame values:
    the reference applies the layers to whole frames and all pairs at once."""
    banded = BasicVSRPlusPlus(mid_channels=16, num_blocks=2, band_elements=1).eval()
    banded.load_state_dict(model.state_dict())
    with torch.no_grad():
        feats = torch.randn(1, 5 * 16, H, W)
        lq = clip[:, 0]
        hr = model.reconstruction(feats)
        for layer in (model.upsample1, model.upsample2, model.conv_hr):
            hr = F.leaky_relu(layer(hr), 0.1)
        want = model.conv_last(hr) + F.interpolate(lq, scale_factor=4.0, mode="bilinear",
                                                   align_corners=False)
        got = banded._upsample_frame(lq, feats)
        assert torch.allclose(got, want, rtol=0, atol=1e-5)

        first, rest = clip[0, :-1], clip[0, 1:]
        want_flows = [model.spynet(first, rest), model.spynet(rest, first)]
        got_flows = banded._flows(clip)
        for got_flow, want_flow in zip(got_flows, want_flows):
            assert torch.allclose(got_flow[0], want_flow, rtol=0, atol=1e-5)


def test_one_row_bands_equal_the_whole_frame_network(model, clip):
    """Everything banded at once (DCN offsets with OFFSET_HALO rows of context, the
    sampled maps, the 4x tail, SPyNet one pair at a time) against the network that
    builds whole frames (one band at this size), which
    test_equals_torchvision_dcn_composition checks against torchvision."""
    banded = BasicVSRPlusPlus(mid_channels=16, num_blocks=2, band_elements=1).eval()
    banded.load_state_dict(model.state_dict())
    with torch.no_grad():
        want = model(clip[:, :4])
        got = banded(clip[:, :4])
    assert torch.allclose(got, want, rtol=0, atol=1e-5)
