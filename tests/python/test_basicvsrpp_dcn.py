"""Our grid_sample DCN equals torchvision.ops.deform_conv2d (the reference)."""

import os
import sys

import pytest
import torch

SRC = os.environ.get("VSR_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, SRC)

from models import dcn  # noqa: E402

tv_ops = pytest.importorskip("torchvision.ops")

TOL = 1e-5  # max |diff| relative to the reference's largest magnitude, float32


def case(seed, n, c, h, w, cout, dg, offset_scale, stride=1, padding=1, dilation=1):
    g = torch.Generator().manual_seed(seed)
    ho = (h + 2 * padding - 2 * dilation - 1) // stride + 1
    wo = (w + 2 * padding - 2 * dilation - 1) // stride + 1
    x = torch.randn(n, c, h, w, generator=g)
    weight = torch.randn(cout, c, 3, 3, generator=g) / (c * 9) ** 0.5
    bias = torch.randn(cout, generator=g)
    offset = torch.randn(n, dg * 18, ho, wo, generator=g) * offset_scale
    mask = torch.rand(n, dg * 9, ho, wo, generator=g)
    return x, offset, mask, weight, bias


def reference(x, offset, mask, weight, bias, stride=1, padding=1, dilation=1):
    return tv_ops.deform_conv2d(x, offset, weight, bias, (stride, stride), (padding, padding),
                                (dilation, dilation), mask)


def assert_close(ours, ref):
    assert ours.shape == ref.shape
    err = (ours - ref).abs().max().item() / ref.abs().max().item()
    assert err <= TOL, f"relative max error {err:.3g}"


# BasicVSR++ uses 2C -> C, 16 deform groups, 3x3, padding 1, dilation 1.
SIZES = [(1, 32, 16, 16, 16), (1, 32, 13, 29, 16), (2, 64, 9, 7, 32), (1, 128, 24, 20, 64)]


@pytest.mark.parametrize("n,c,h,w,cout", SIZES)
@pytest.mark.parametrize("offset_scale", [0.5, 4.0, 40.0])  # 40: most taps land outside
def test_matches_torchvision_unbanded(n, c, h, w, cout, offset_scale):
    args = case(1, n, c, h, w, cout, 16, offset_scale)
    assert dcn.band_rows(n, c, 9, w, h, dcn.DEFAULT_BAND_ELEMENTS) == h  # one band
    assert_close(dcn.modulated_deform_conv2d(*args, 1, 1, 1), reference(*args))


@pytest.mark.parametrize("n,c,h,w,cout", SIZES)
def test_matches_torchvision_banded(n, c, h, w, cout):
    args = case(2, n, c, h, w, cout, 16, 6.0)
    budget = n * c * 9 * w * 3 + 1  # 3 output rows per band, last band shorter
    assert dcn.band_rows(n, c, 9, w, h, budget) == 3
    banded = dcn.modulated_deform_conv2d(*args, 1, 1, 1, budget)
    assert_close(banded, reference(*args))
    single_rows = dcn.modulated_deform_conv2d(*args, 1, 1, 1, 1)  # budget below one row
    assert_close(single_rows, reference(*args))


def test_integer_offsets_on_image_borders():
    """Taps landing exactly on -1, 0, H-1, H (the zero / partial-weight edges)."""
    x, offset, mask, weight, bias = case(3, 1, 32, 10, 12, 8, 16, 0.0)
    g = torch.Generator().manual_seed(4)
    offset = torch.randint(-14, 15, offset.shape, generator=g).float()
    offset += torch.randint(0, 2, offset.shape, generator=g).float() * 0.5
    assert_close(dcn.modulated_deform_conv2d(x, offset, mask, weight, bias, 1, 1, 1),
                 reference(x, offset, mask, weight, bias))


def test_zero_offsets_and_unit_mask_equal_conv2d():
    x, offset, mask, weight, bias = case(5, 1, 32, 11, 9, 8, 16, 0.0)
    ours = dcn.modulated_deform_conv2d(x, offset, torch.ones_like(mask), weight, bias, 1, 1, 1)
    assert_close(ours, torch.nn.functional.conv2d(x, weight, bias, padding=1))


@pytest.mark.parametrize("stride,padding,dilation,dg", [(2, 2, 2, 4), (1, 0, 1, 8), (2, 1, 1, 1)])
def test_other_geometries(stride, padding, dilation, dg):
    args = case(6, 2, 16, 15, 13, 8, dg, 3.0, stride, padding, dilation)
    ours = dcn.modulated_deform_conv2d(*args, stride, padding, dilation, 200)
    assert_close(ours, reference(*args, stride, padding, dilation))


def test_scripted_equals_eager():
    args = case(7, 1, 32, 12, 14, 16, 16, 5.0)
    scripted = torch.jit.script(dcn.modulated_deform_conv2d)
    eager = dcn.modulated_deform_conv2d(*args, 1, 1, 1, 2000)
    assert torch.equal(scripted(*args, 1, 1, 1, 2000), eager)
