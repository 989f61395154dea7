"""Colour through the whole program against float reference math.

Sources with exactly known Y'CbCr code values (bars and ramps; 8 and 10 bits; BT.601 and
BT.709; limited and full range) are stored losslessly (FFV1 in Matroska, tagged), run through
vsrup at scale 1 (the resize is then the identity), and the output's code values are compared
with the reference: decode the source codes with their own matrix and range, encode as BT.709
limited range 10 bits. Units: 10-bit code values.
"""
import subprocess

import numpy as np
import pytest

from vsrtest import decode_raw, video_stream, vsrup

W, H = 256, 64
MATRICES = {"bt709": (0.2126, 0.0722), "smpte170m": (0.299, 0.114)}


def to_codes(ycbcr, bits, full):
    """Y' in [0,1], Cb/Cr in [-0.5,0.5] -> integer codes."""
    s = 2 ** (bits - 8)
    y, cb, cr = ycbcr
    if full:
        m = 2 ** bits - 1
        codes = [y * m, cb * m + 2 ** (bits - 1), cr * m + 2 ** (bits - 1)]
    else:
        codes = [(16 + 219 * y) * s, (128 + 224 * cb) * s, (128 + 224 * cr) * s]
    return np.stack([np.clip(np.floor(c + 0.5), 0, 2 ** bits - 1) for c in codes])


def from_codes(codes, bits, full):
    s = 2 ** (bits - 8)
    y, cb, cr = codes.astype(np.float64)
    if full:
        m = 2 ** bits - 1
        return np.stack([y / m, (cb - 2 ** (bits - 1)) / m, (cr - 2 ** (bits - 1)) / m])
    return np.stack([(y - 16 * s) / (219 * s), (cb - 128 * s) / (224 * s), (cr - 128 * s) / (224 * s)])


def rgb_to_ycbcr(rgb, kr, kb):
    r, g, b = rgb
    y = kr * r + (1 - kr - kb) * g + kb * b
    return np.stack([y, (b - y) / (2 * (1 - kb)), (r - y) / (2 * (1 - kr))])


def ycbcr_to_rgb(ycbcr, kr, kb):
    y, cb, cr = ycbcr
    r = y + 2 * (1 - kr) * cr
    b = y + 2 * (1 - kb) * cb
    g = (y - kr * r - kb * b) / (1 - kr - kb)
    return np.stack([r, g, b])


def pattern(kind, kr, kb, bits, full):
    """Source codes [3, H, W]."""
    if kind == "bars":
        # 100% and 75% bars: white, yellow, cyan, green, magenta, red, blue, black.
        colours = np.array([[1, 1, 1], [1, 1, 0], [0, 1, 1], [0, 1, 0], [1, 0, 1], [1, 0, 0],
                            [0, 0, 1], [0, 0, 0]], dtype=np.float64)
        rgb = np.zeros((3, H, W))
        for i, c in enumerate(colours):
            rgb[:, : H // 2, i * W // 8:(i + 1) * W // 8] = c[:, None, None]
            rgb[:, H // 2:, i * W // 8:(i + 1) * W // 8] = 0.75 * c[:, None, None]
        return to_codes(rgb_to_ycbcr(rgb, kr, kb), bits, full)
    # Ramps: luma over the whole legal range with neutral chroma (top), and a hue sweep of
    # saturated colours (bottom), all inside the RGB cube.
    x = np.linspace(0, 1, W)
    rgb = np.zeros((3, H, W))
    rgb[:, : H // 2] = x[None, None, :]
    phase = 2 * np.pi * x
    for i in range(3):
        rgb[i, H // 2:] = 0.5 + 0.45 * np.cos(phase - i * 2 * np.pi / 3)[None, :]
    return to_codes(rgb_to_ycbcr(rgb, kr, kb), bits, full)


def make_source(path, codes, bits, matrix, full, pix_fmt_in):
    raw_fmt = "yuv444p" if bits == 8 else "yuv444p10le"
    dtype = np.uint8 if bits == 8 else np.uint16
    subprocess.run(
        ["ffmpeg", "-v", "error", "-nostdin", "-y", "-f", "rawvideo", "-pix_fmt", raw_fmt,
         "-s", f"{W}x{H}", "-r", "25", "-i", "-", "-frames:v", "2", "-vf",
         f"format={pix_fmt_in}", "-c:v", "ffv1", "-colorspace", matrix,
         "-color_primaries", "bt709" if matrix == "bt709" else "smpte170m",
         "-color_trc", "bt709" if matrix == "bt709" else "smpte170m",
         "-color_range", "pc" if full else "tv", str(path)],
        input=codes.astype(dtype).tobytes() * 2, check=True)


@pytest.mark.parametrize("kind", ["bars", "ramps"])
@pytest.mark.parametrize("bits", [8, 10])
@pytest.mark.parametrize("matrix", ["bt709", "smpte170m"])
@pytest.mark.parametrize("full", [False, True], ids=["limited", "full"])
def test_colour_444(tmp_path, kind, bits, matrix, full):
    kr, kb = MATRICES[matrix]
    codes = pattern(kind, kr, kb, bits, full)
    src = tmp_path / "src.mkv"
    make_source(src, codes, bits, matrix, full, "yuv444p" if bits == 8 else "yuv444p10le")
    out = tmp_path / "out.mkv"
    vsrup("-i", src, "-o", out, "-m", "bicubic", "-s", "1", "--pix-fmt", "yuv444p10le", "-q")
    got = decode_raw(out, "yuv444p10le", W, H, 3, np.uint16)[0].astype(np.float64)

    rgb = np.clip(ycbcr_to_rgb(from_codes(codes, bits, full), kr, kb), 0, 1)
    want = rgb_to_ycbcr(rgb, 0.2126, 0.0722)
    want = np.stack([(16 + 219 * want[0]) * 4, (128 + 224 * want[1]) * 4, (128 + 224 * want[2]) * 4])
    err = np.abs(got - want)
    assert err.mean() <= 0.5, f"mean error {err.mean():.3f} code values"
    assert err.max() <= 2, f"max error {err.max():.3f} code values"
    tags = video_stream(out)
    assert tags["color_space"] == "bt709" and tags["color_range"] == "tv"


@pytest.mark.parametrize("pix_fmt_in", ["yuv420p", "yuv422p10le"])
def test_colour_subsampled_bars(tmp_path, pix_fmt_in):
    """Subsampled sources: flat bar interiors must be as exact as 4:4:4."""
    kr, kb = MATRICES["bt709"]
    bits = 8 if pix_fmt_in == "yuv420p" else 10
    codes = pattern("bars", kr, kb, bits, False)
    src = tmp_path / "src.mkv"
    make_source(src, codes, bits, "bt709", False, pix_fmt_in)
    out = tmp_path / "out.mkv"
    vsrup("-i", src, "-o", out, "-m", "bicubic", "-s", "1", "--pix-fmt", "yuv444p10le", "-q")
    got = decode_raw(out, "yuv444p10le", W, H, 3, np.uint16)[0].astype(np.float64)
    rgb = np.clip(ycbcr_to_rgb(from_codes(codes, bits, False), kr, kb), 0, 1)
    want = rgb_to_ycbcr(rgb, kr, kb)
    want = np.stack([(16 + 219 * want[0]) * 4, (128 + 224 * want[1]) * 4, (128 + 224 * want[2]) * 4])
    interior = np.zeros((H, W), bool)
    for i in range(8):
        interior[4:H // 2 - 4, i * W // 8 + 6:(i + 1) * W // 8 - 6] = True
        interior[H // 2 + 4:H - 4, i * W // 8 + 6:(i + 1) * W // 8 - 6] = True
    err = np.abs(got - want)[:, interior]
    assert err.max() <= 2, f"max error {err.max():.3f} in flat areas"
    assert err.mean() <= 0.5
