"""The engine sets a model's `band_elements` attributes for the device (DESIGN.md, model contract).

A model may build its largest maps in bands of rows; `band_elements` bounds how many values a
band holds. On the CPU the engine lowers it to 16 Mi (src/engine/torch/policy.cpp), because
host memory is what limits the chunk there. The model here draws white where every one of its
band_elements attributes (the top module's and a submodule's) holds that value, black otherwise.
"""
import json
import os

import numpy as np
import pytest

from vsrtest import MEDIA, decode_raw, ffmpeg, vsrup

torch = pytest.importorskip("torch")
if os.environ.get("VSR_HAVE_TORCH") == "0":
    pytest.skip("vsrup was built without libtorch", allow_module_level=True)


class Banded(torch.nn.Module):
    """Full of 1.0 where band_elements is the CPU value 1 << 24 (a literal: TorchScript
    reads no module-level names), else 0.0."""

    def __init__(self):
        super().__init__()
        self.band_elements = 7

    def forward(self, x):
        return torch.full_like(x, (1.0 if self.band_elements == 16777216 else 0.0))


class WhiteIfBandsSet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.band_elements = 7
        self.inner = Banded()

    def forward(self, x):
        n, t, c, h, w = x.shape
        up = torch.nn.functional.interpolate(x.view(n * t, c, h, w), scale_factor=4.0)
        up = up.view(n, t, c, 4 * h, 4 * w)
        return self.inner(up) * (1.0 if self.band_elements == 16777216 else 0.0)


def test_cpu_engine_sets_band_elements(tmp_path):
    model = tmp_path / "banded.pt"
    meta = {"name": "band probe", "arch": "test", "scale": 4, "temporal": True,
            "min_frames": 1, "min_size": [1, 1], "multiple": 1, "dtype": "float32"}
    torch.jit.save(torch.jit.script(WhiteIfBandsSet()), str(model),
                   _extra_files={"vsrup.json": json.dumps(meta)})
    src, out = tmp_path / "src.mkv", tmp_path / "out.mkv"
    ffmpeg("-i", MEDIA / "tree.avi", "-frames:v", 3, "-vf", "crop=32:24:100:100", "-an",
           "-c:v", "ffv1", src)
    vsrup("-i", src, "-o", out, "-m", model, "-c", "ffv1", "--chunk", 3, "-y")
    luma = decode_raw(out, "gray", 128, 96, 1, np.uint8)
    assert luma.min() >= 235, "the engine left band_elements as exported"
