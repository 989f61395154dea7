"""A model that outputs NaN or inf: the TorchScript quantiser maps them as the built-in path
does (NaN and -inf to black, +inf to white), never to codes below black, and warns with the
output frame numbers it happened in.
"""
import json
import os

import numpy as np
import pytest

from vsrtest import decode_raw, ffmpeg, video_stream, vsrup

torch = pytest.importorskip("torch")
if os.environ.get("VSR_HAVE_TORCH") == "0":
    pytest.skip("vsrup was built without libtorch", allow_module_level=True)

W, H = 16, 16
BRIGHT = range(4, 7)  # input frames made white; the model fails on these


class NonFiniteOnBright(torch.nn.Module):
    """Nearest 4x; on frames whose mean is above one half, the top half of the output is NaN,
    the bottom left quarter +inf and the bottom right quarter -inf."""

    def forward(self, x):
        n, t, c, h, w = x.shape
        up = torch.nn.functional.interpolate(x.view(n * t, c, h, w), scale_factor=4.0,
                                             mode="nearest").view(n, t, c, 4 * h, 4 * w)
        bright = (x.mean(dim=(2, 3, 4)) > 0.5).view(n, t, 1, 1, 1)
        rows = torch.arange(4 * h).view(1, 1, 1, 4 * h, 1)
        cols = torch.arange(4 * w).view(1, 1, 1, 1, 4 * w)
        top = rows < 2 * h
        left = cols < 2 * w
        bad = torch.where(top, torch.full_like(up, float("nan")),
                          torch.where(left, torch.full_like(up, float("inf")),
                                      torch.full_like(up, float("-inf"))))
        return torch.where(bright, bad, up)


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    path = tmp_path_factory.mktemp("nonfinite") / "nonfinite.pt"
    meta = {"name": "nan on bright frames", "arch": "test", "scale": 4, "temporal": False,
            "min_frames": 1, "min_size": [1, 1], "multiple": 1, "dtype": "float32"}
    torch.jit.save(torch.jit.script(NonFiniteOnBright()), str(path),
                   _extra_files={"vsrup.json": json.dumps(meta)})
    return path


DEVICES = {"cpu": (), "cuda": ("-d", "cuda"), "cuda-graphs": ("-d", "cuda", "--cuda-graphs")}


@pytest.mark.parametrize("device", DEVICES)
def test_nan_and_inf_are_mapped_and_reported(tmp_path, model, device):
    # on CUDA the flags come back with the planes and are read at collect
    if device != "cpu" and not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    src = tmp_path / "src.mkv"
    lum = f"if(between(N,{BRIGHT[0]},{BRIGHT[-1]}),235,16)"
    ffmpeg("-f", "lavfi", "-i", f"nullsrc=s={W}x{H}:r=10,format=yuv444p,"
           f"geq=lum='{lum}':cb=128:cr=128", "-frames:v", 10, "-c:v", "ffv1", src)
    out = tmp_path / "out.mkv"
    proc = vsrup("-i", src, "-m", model, "-c", "ffv1", "--pix-fmt", "yuv444p10le",
                 "--chunk", 8, "-o", out, *DEVICES[device])
    warnings = [line for line in proc.stderr.splitlines() if "NaN/inf" in line]
    # chunks of 8: frames 4-6 fall in the first, once
    assert len(warnings) == 1, proc.stderr
    assert "warning:" in warnings[0] and "frames 4-6;" in warnings[0], warnings

    assert video_stream(out)["pix_fmt"] == "yuv444p10le"
    y = decode_raw(out, "yuv444p10le", 4 * W, 4 * H, 3, np.uint16)
    assert len(y) == 10
    black, white, mid = 64, 940, 512  # 10-bit limited range
    for n, frame in enumerate(y):
        assert (frame[1:] == mid).all(), n  # never below-black chroma codes
        luma = frame[0]
        if n in BRIGHT:
            assert (luma[: 2 * H] == black).all(), n  # NaN
            assert (luma[2 * H:, : 2 * W] == white).all(), n  # +inf
            assert (luma[2 * H:, 2 * W:] == black).all(), n  # -inf
        else:
            assert (luma == black).all(), n
