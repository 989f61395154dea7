#!/usr/bin/env python3
"""Fixtures for tests/unit/test_engine_torch.c, written into one folder:

- tiny TorchScript models with a vsrup.json (and broken variants for the error cases);
- real input frames (crops of a decoded clip) as planar float32 RGB;
- the reference result of each case: the eager model in Python, padded and cropped by
  this script's own code, quantised by this script's own float32 implementation of the
  colour definition in include/colour.h;
- manifest.txt, one line per numeric case (format in write_manifest).

Usage: make_torch_engine_fixtures.py OUT_DIR CLIP
"""
import json
import os
import subprocess
import sys
import zipfile

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

SCALE = 4


class Head(nn.Module):
    """Per-frame detail branch: conv 3->8, LeakyReLU, conv 8->48, pixel shuffle to 4x."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1)
        self.conv2 = nn.Conv2d(8, 3 * SCALE * SCALE, 3, padding=1)
        self.scale = SCALE

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.pixel_shuffle(self.conv2(F.leaky_relu(self.conv1(x), 0.1)), self.scale)


class TinyVSR(nn.Module):
    """[1,T,3,H,W] -> [1,T,3,4H,4W]: bilinear skip + detail + a temporal mean term,
    so that the chunk's context changes every output frame."""

    def __init__(self, temporal_weight: float):
        super().__init__()
        self.head = Head()
        self.temporal_weight = temporal_weight
        self.scale = SCALE

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, t, c, h, w = x.shape
        frames = x.reshape(n * t, c, h, w)
        mean = x.mean(dim=1).repeat_interleave(t, dim=0)
        mixed = frames + self.temporal_weight * (mean - frames)
        up = F.interpolate(mixed, scale_factor=float(self.scale), mode="bilinear",
                           align_corners=False)
        y = up + self.head(mixed)
        return y.reshape(n, t, c, self.scale * h, self.scale * w)


class NoForward(nn.Module):
    def __init__(self):
        super().__init__()
        self.k = nn.Parameter(torch.ones(1))

    @torch.jit.export
    def upscale(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.k


def make_model(temporal_weight, seed):
    torch.manual_seed(seed)
    model = TinyVSR(temporal_weight)
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(0.5)  # keeps most of the output inside [0, 1]; bright areas still clip
    return model.eval()


def meta(**overrides):
    m = {"name": "tiny test model", "arch": "tiny", "scale": SCALE, "temporal": True,
         "min_frames": 3, "min_size": [16, 16], "multiple": 4, "dtype": "float32",
         "fp32_modules": ["head"]}
    m.update(overrides)
    return m


def save(model, path, meta_json):
    extra = {} if meta_json is None else {"vsrup.json": meta_json}
    torch.jit.save(torch.jit.script(model), path, _extra_files=extra)


def decode_frames(clip, first, count):
    """Frames [first, first + count) of the clip as uint8 [count, H, W, 3], decoded by the
    ffmpeg CLI."""
    probe = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                            "stream=width,height", "-of", "csv=p=0", clip],
                           check=True, capture_output=True, text=True).stdout
    w, h = (int(v) for v in probe.strip().split(","))
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", clip, "-frames:v", str(first + count),
                          "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
                         check=True, capture_output=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(first + count, h, w, 3)[first:]


def reference_output(model, frames, min_frames, min_hw, multiple, keep_begin, keep_count):
    """Eager model on frames [n,3,h,w] with the engine's padding rules written out here."""
    x = torch.from_numpy(frames)
    n, _, h, w = x.shape
    if n < min_frames:
        x = torch.cat([x, x[-1:].repeat(min_frames - n, 1, 1, 1)])
    ph = -(-max(h, min_hw[0]) // multiple) * multiple
    pw = -(-max(w, min_hw[1]) // multiple) * multiple
    x = F.pad(x, (0, pw - w, 0, ph - h), mode="replicate")
    with torch.no_grad():
        y = model(x.unsqueeze(0))[0]
    return y[keep_begin:keep_begin + keep_count, :, :SCALE * h, :SCALE * w].numpy()


def quantise(rgb, layout):
    """Float32 quantisation to planes, the definition of vsr_colour_quantise."""
    f = np.float32
    x = np.clip(rgb.astype(f), f(0), f(1))
    r, g, b = x[:, 0], x[:, 1], x[:, 2]
    bits = layout["bits"]
    maxv = f(2 ** bits - 1)
    if layout["rgb"]:
        planes = [g * maxv, b * maxv, r * maxv]
    else:
        kr, kb = f(layout["kr"]), f(layout["kb"])
        y = kr * r + (f(1) - kr - kb) * g + kb * b
        cb = (b - y) / (f(2) * (f(1) - kb))
        cr = (r - y) / (f(2) * (f(1) - kr))
        if layout["shift"]:
            cb, cr = subsample_cosited(cb), subsample_cosited(cr)
        if layout["full"]:  # ITU-T H.273 full range: chroma offset by half the code range
            mid = f(2 ** (bits - 1))
            planes = [y * maxv, cb * maxv + mid, cr * maxv + mid]
        else:
            step = f(2 ** (bits - 8))
            planes = [(f(16) + f(219) * y) * step, (f(128) + f(224) * cb) * step,
                      (f(128) + f(224) * cr) * step]
    dtype = np.uint8 if bits == 8 else np.dtype("<u2")
    return [np.clip(np.floor(p + f(0.5)), 0, maxv).astype(dtype) for p in planes]


def subsample_cosited(c):
    """(c[2x-1] + 2c[2x] + c[2x+1]) / 4 along the width, edge samples repeated."""
    w = c.shape[-1]
    out = []
    for x in range(0, w, 2):
        left = c[..., max(x - 1, 0)]
        right = c[..., min(x + 1, w - 1)]
        out.append((left + np.float32(2) * c[..., x] + right) / np.float32(4))
    return np.stack(out, axis=-1)


BT709 = (0.2126, 0.0722)
BT601 = (0.299, 0.114)
LAYOUTS = {
    "yuv422p10le": {"rgb": 0, "bits": 10, "shift": 1, "full": 0, "kr": BT709[0], "kb": BT709[1]},
    "yuv444p10le": {"rgb": 0, "bits": 10, "shift": 0, "full": 0, "kr": BT709[0], "kb": BT709[1]},
    "yuv422p": {"rgb": 0, "bits": 8, "shift": 1, "full": 0, "kr": BT709[0], "kb": BT709[1]},
    "gbrp16le": {"rgb": 1, "bits": 16, "shift": 0, "full": 1, "kr": 0.0, "kb": 0.0},
    "yuvj422p12_601": {"rgb": 0, "bits": 12, "shift": 1, "full": 1, "kr": BT601[0],
                       "kb": BT601[1]},
}

# name, model file, precision (0 auto, 1 fp32), layout, crop (y, x, h, w), frames, keep range
CASES = [
    ("yuv422p10_keep_middle", "tiny_t3.pt", 0, "yuv422p10le", (256, 304, 48, 64), 5, 1, 3),
    ("yuv444p10_all", "tiny_t3.pt", 0, "yuv444p10le", (256, 304, 48, 64), 5, 0, 5),
    ("yuv422p8_odd_size", "tiny_t3.pt", 0, "yuv422p", (160, 320, 45, 61), 4, 0, 2),
    ("gbrp16_odd_size_keep_end", "tiny_t3.pt", 0, "gbrp16le", (160, 320, 45, 61), 5, 2, 3),
    ("min_frames_pad_t1", "tiny_t3.pt", 0, "yuv422p10le", (160, 320, 48, 64), 1, 0, 1),
    ("min_frames_pad_t2", "tiny_t3.pt", 0, "gbrp16le", (160, 320, 48, 64), 2, 1, 1),
    ("min_size_pad", "tiny_t3.pt", 0, "yuv444p10le", (270, 330, 10, 13), 3, 0, 3),
    ("single_frame_model_t1", "tiny_t1.pt", 0, "yuv422p10le", (256, 300, 48, 64), 1, 0, 1),
    ("full_range_601_12bit_odd", "tiny_t3.pt", 0, "yuvj422p12_601", (160, 320, 45, 61), 3, 1, 2),
    ("fp16_file_as_fp32", "tiny_f16.pt", 1, "gbrp16le", (256, 304, 48, 64), 3, 0, 3),
]


def write_manifest(out, models, frames):
    """Line: name model precision in_w in_h n_in keep_begin keep_count rgb bits shift
    full_range kr kb input_file expected_file."""
    lines = []
    for name, model_file, precision, layout_name, crop, n, kb_, kc in CASES:
        model, m = models[model_file]
        y0, x0, h, w = crop
        rgb = frames[:n, y0:y0 + h, x0:x0 + w, :].astype(np.float32) / np.float32(255)
        rgb = np.ascontiguousarray(rgb.transpose(0, 3, 1, 2))
        rgb.tofile(os.path.join(out, name + ".in.f32"))
        y = reference_output(model, rgb, m["min_frames"], m["min_size"], m["multiple"], kb_, kc)
        layout = LAYOUTS[layout_name]
        with open(os.path.join(out, name + ".expected"), "wb") as f:
            for k in range(kc):
                for plane in quantise(y[k:k + 1], layout):
                    f.write(plane.tobytes())
        lines.append(" ".join(str(v) for v in (
            name, model_file, precision, w, h, n, kb_, kc, layout["rgb"], layout["bits"],
            layout["shift"], layout["full"], layout["kr"], layout["kb"], name + ".in.f32",
            name + ".expected")))
    with open(os.path.join(out, "manifest.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")


def write_broken_files(out):
    base = make_model(0.25, 1)
    save(base, os.path.join(out, "no_json.pt"), None)
    save(base, os.path.join(out, "bad_syntax.pt"), '{"name": "x", "scale": 4,')
    save(base, os.path.join(out, "trailing_text.pt"), json.dumps(meta()) + " {}")
    save(base, os.path.join(out, "missing_scale.pt"),
         json.dumps({k: v for k, v in meta().items() if k != "scale"}))
    save(base, os.path.join(out, "string_scale.pt"), json.dumps(meta(scale="4")))
    save(base, os.path.join(out, "bad_dtype.pt"), json.dumps(meta(dtype="int8")))
    save(NoForward(), os.path.join(out, "no_forward.pt"), json.dumps(meta()))
    with open(os.path.join(out, "text.pt"), "w") as f:
        f.write("this is a text file, not a model\n")
    with zipfile.ZipFile(os.path.join(out, "plain.zip.pt"), "w") as z:
        z.writestr("hello.txt", "a zip archive without TorchScript inside")


def main():
    out, clip = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    torch.set_num_threads(1)
    t3 = make_model(0.25, 1)
    t1 = make_model(0.0, 2)
    f16 = make_model(0.25, 3).half()
    save(t3, os.path.join(out, "tiny_t3.pt"), json.dumps(meta()))
    save(t1, os.path.join(out, "tiny_t1.pt"), json.dumps(meta(temporal=False, min_frames=1)))
    # Unknown keys, nested values and escapes must be accepted and ignored.
    extra_keys = {"notes": {"nested": [1, -2.5e-3, None, {"k": "tab\tcaf\u00e9"}]},
                  "license": "CC0 \"as is\""}
    save(f16, os.path.join(out, "tiny_f16.pt"),
         json.dumps(dict(meta(dtype="float16"), **extra_keys)))
    models = {
        "tiny_t3.pt": (t3, meta()),
        "tiny_t1.pt": (t1, meta(min_frames=1)),
        "tiny_f16.pt": (f16.float(), meta(dtype="float16")),
    }
    # Megamind.avi: frames 0 and 1 are the same picture and 2 follows a cut; 4..8 all move.
    write_manifest(out, models, decode_frames(clip, 4, 5))
    write_broken_files(out)


if __name__ == "__main__":
    main()
