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

from vsrtest import MEDIA, decode_raw, ffmpeg, video_stream, vsrup

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


def bar_interiors(h, w, margin_y, margin_x):
    """Mask of the bars' flat insides, `margin` samples away from every bar edge."""
    interior = np.zeros((h, w), bool)
    for i in range(8):
        x0, x1 = i * w // 8 + margin_x, (i + 1) * w // 8 - margin_x
        interior[margin_y:h // 2 - margin_y, x0:x1] = True
        interior[h // 2 + margin_y:h - margin_y, x0:x1] = True
    return interior


@pytest.mark.parametrize("model", ["bicubic", "lanczos"])
@pytest.mark.parametrize("pix_fmt_out", ["yuv422p10le", "gbrp16le"])
def test_colour_resized_bars(tmp_path, model, pix_fmt_out):
    """The built-in engines at 4x resize integer planes in the output's matrix: flat areas of
    an SD (BT.601) source must still come out as the float reference says."""
    kr, kb = MATRICES["smpte170m"]
    codes = pattern("bars", kr, kb, 8, False)
    src = tmp_path / "src.mkv"
    make_source(src, codes, 8, "smpte170m", False, "yuv444p")
    out = tmp_path / "out.mkv"
    vsrup("-i", src, "-o", out, "-m", model, "--pix-fmt", pix_fmt_out, "-q")
    rgb = np.clip(ycbcr_to_rgb(from_codes(codes, 8, False), kr, kb), 0, 1)
    rgb = rgb.repeat(4, axis=1).repeat(4, axis=2)
    if pix_fmt_out == "gbrp16le":
        got = decode_raw(out, "gbrp16le", 4 * W, 4 * H, 3, np.uint16)[0].astype(np.float64)
        want = np.stack([rgb[1], rgb[2], rgb[0]]) * 65535
        unit = 64  # a 10-bit code in 16-bit units
    else:
        got = decode_raw(out, "yuv444p10le", 4 * W, 4 * H, 3, np.uint16)[0].astype(np.float64)
        want = rgb_to_ycbcr(rgb, 0.2126, 0.0722)
        want = np.stack([(16 + 219 * want[0]) * 4, (128 + 224 * want[1]) * 4,
                         (128 + 224 * want[2]) * 4])
        unit = 1
    err = np.abs(got - want)[:, bar_interiors(4 * H, 4 * W, 16, 16)] / unit
    assert err.max() <= 2, f"max error {err.max():.3f} 10-bit codes in flat areas"
    assert err.mean() <= 0.5


def test_lanczos_matches_ffmpeg_on_film(tmp_path):
    """Real footage, BT.709-tagged 10-bit 4:4:4: vsrup's lanczos 4x equals ffmpeg's
    `scale=flags=lanczos` (an independent pipeline: FFmpeg's own reading, no float R'G'B').
    The source goes through RGB first so it lies inside the R'G'B' cube: vsrup clips
    out-of-gamut Y'CbCr (colour.h), ffmpeg does not, and that is not what is tested here."""
    src = tmp_path / "src.mkv"
    ffmpeg("-i", MEDIA / "Megamind.avi", "-an", "-vf",
           "select=between(n\\,120\\,122),format=gbrp10le,"
           "scale=out_color_matrix=bt709:out_range=tv,format=yuv444p10le",
           "-frames:v", "3", "-c:v", "ffv1", "-colorspace", "bt709", "-color_primaries", "bt709",
           "-color_trc", "bt709", "-color_range", "tv", src)
    w, h = 4 * 720, 4 * 528
    out = tmp_path / "vsrup.mkv"
    vsrup("-i", src, "-o", out, "-m", "lanczos", "--pix-fmt", "yuv422p10le", "-q")
    ref = tmp_path / "ffmpeg.mkv"
    ffmpeg("-i", src, "-vf", f"scale={w}:{h}:flags=lanczos,format=yuv422p10le", "-c:v", "ffv1",
           ref)

    def planes(path):
        raw = decode_raw(path, "yuv422p10le", w, 2 * h, 1, np.uint16)  # Y, then Cb and Cr
        assert raw.shape[0] == 3
        return raw[:, 0, :h].astype(np.int32), raw[:, 0, h:].astype(np.int32)

    (got_y, got_c), (want_y, want_c) = planes(out), planes(ref)
    for name, got, want in (("luma", got_y, want_y), ("chroma", got_c, want_c)):
        err = np.abs(got - want)
        assert err.mean() <= 0.05, f"mean {name} difference {err.mean():.3f} 10-bit codes"
        assert err.max() <= 4, f"{name} differs by {err.max()} codes"
