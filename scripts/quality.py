#!/usr/bin/env python3
"""PSNR and SSIM of x4 models against bicubic x4 on real clips downscaled 4x.

    .venv/bin/python scripts/quality.py [--frames 10] [--model M.pt ...] CLIP...

Each clip gives --frames frames spread evenly over its decoded length (ffmpeg CLI, rgb24).
A frame, cropped to a multiple of 4, is the ground truth; it is downscaled 4x with bicubic
and antialiasing (torch interpolate) and rounded to 8 bits, as a real low-resolution video
would be; the candidates upscale that back. Scores follow the usual super-resolution protocol:
4 border pixels shaved, Y is BT.601 studio-range luma from RGB, PSNR over [0, 255], SSIM as
Wang et al. 2004 (Gaussian window 11x11, sigma 1.5, K1 0.01, K2 0.03, valid area only),
RGB SSIM the mean over the three channels. Prints a Markdown table, means over the frames.

--pictures DIR writes, for the first kept frame of each clip, one PNG per --crop X,Y,W,H
(in full-resolution pixels): the ground truth, then each method's result on the same window,
side by side and labelled, as DIR/<clip>_<X>_<Y>.png.
"""
import argparse
import glob
import json
import os
import subprocess
import sys
from typing import Dict, List

import numpy as np
import torch
import torch.nn.functional as F

SCALE = 4
FLAT_STD = 4.0  # frames with a smaller standard deviation (of 0..255 values) are skipped


def count_frames(clip: str) -> int:
    out = subprocess.run(["ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0",
                          "-show_entries", "stream=nb_read_frames,width,height", "-of", "json",
                          clip], check=True, capture_output=True, text=True).stdout
    return int(json.loads(out)["streams"][0]["nb_read_frames"])


def read_frames(clip: str, count: int) -> torch.Tensor:
    """[N, 3, H, W] float in [0, 255]: up to `count` frames evenly spread over the clip, less
    the flat ones (black or faded: every method is exact there and PSNR is infinite)."""
    total = count_frames(clip)
    step = max(1, total // count)
    probe = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                            "stream=width,height", "-of", "json", clip],
                           check=True, capture_output=True, text=True).stdout
    stream = json.loads(probe)["streams"][0]
    w, h = stream["width"], stream["height"]
    raw = subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-i", clip, "-vf",
                          f"select=not(mod(n\\,{step})),format=rgb24", "-fps_mode", "passthrough",
                          "-frames:v", str(count), "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
                         check=True, capture_output=True).stdout
    frames = np.frombuffer(raw, dtype=np.uint8).reshape(-1, h, w, 3)
    frames = frames[:, : h - h % SCALE, : w - w % SCALE]
    frames = frames[frames.reshape(len(frames), -1).std(axis=1) >= FLAT_STD]
    return torch.from_numpy(frames.copy()).permute(0, 3, 1, 2).float()


def downscale(hr: torch.Tensor) -> torch.Tensor:
    """Bicubic 4x down with antialiasing, rounded to 8-bit values."""
    lr = F.interpolate(hr, scale_factor=1 / SCALE, mode="bicubic", align_corners=False,
                       antialias=True)
    return lr.round().clamp(0, 255)


def bicubic_up(lr: torch.Tensor) -> torch.Tensor:
    return F.interpolate(lr, scale_factor=SCALE, mode="bicubic", align_corners=False)


def model_up(module: torch.jit.ScriptModule, lr: torch.Tensor) -> torch.Tensor:
    """One frame at a time through the vsrup contract ([1, T, 3, H, W] in [0, 1])."""
    with torch.no_grad():
        return torch.cat([module((f / 255).view(1, 1, *f.shape))[0] * 255 for f in lr])


def luma(rgb: torch.Tensor) -> torch.Tensor:
    """BT.601 studio-range Y (16..235) of [N, 3, H, W] RGB in [0, 255]: the SR literature's Y."""
    r, g, b = rgb[:, 0:1], rgb[:, 1:2], rgb[:, 2:3]
    return 16 + (65.481 * r + 128.553 * g + 24.966 * b) / 255


def psnr(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Per image, over every channel, peak 255."""
    mse = ((a.double() - b.double()) ** 2).flatten(1).mean(1)
    return 10 * torch.log10(255.0 ** 2 / mse)


def gaussian_filter(x: torch.Tensor, size: int = 11, sigma: float = 1.5) -> torch.Tensor:
    """Gaussian-weighted local means over the valid area, as two 1-D passes."""
    t = torch.arange(size, dtype=torch.float64) - (size - 1) / 2
    g = torch.exp(-(t ** 2) / (2 * sigma ** 2))
    g = (g / g.sum()).tolist()
    # Sums of shifted slices: much faster on CPU than conv2d with a 1-channel 11-tap kernel.
    h, w = x.shape[-2] - size + 1, x.shape[-1] - size + 1
    rows = sum(g[k] * x[..., :, k:k + w] for k in range(size))
    return sum(g[k] * rows[..., k:k + h, :] for k in range(size))


def ssim(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Mean SSIM per image of [N, C, H, W] in [0, 255], averaged over channels. float32 is
    enough: its rounding in the local variances (~0.01) is far below C2 (58.5)."""
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    n, c = a.shape[:2]
    a = a.float().reshape(n * c, 1, *a.shape[2:])
    b = b.float().reshape(n * c, 1, *b.shape[2:])
    mu_a, mu_b = gaussian_filter(a), gaussian_filter(b)
    var_a = gaussian_filter(a * a) - mu_a ** 2
    var_b = gaussian_filter(b * b) - mu_b ** 2
    cov = gaussian_filter(a * b) - mu_a * mu_b
    s = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)
         / ((mu_a ** 2 + mu_b ** 2 + c1) * (var_a + var_b + c2)))
    return s.double().flatten(1).mean(1).view(n, c).mean(1)


def scores(hr: torch.Tensor, sr: torch.Tensor) -> Dict[str, float]:
    """Mean PSNR/SSIM over the frames, on Y and on RGB, border shaved, SR rounded to 8 bits."""
    sr = sr.round().clamp(0, 255)
    hr = hr[..., SCALE:-SCALE, SCALE:-SCALE]
    sr = sr[..., SCALE:-SCALE, SCALE:-SCALE]
    hy, sy = luma(hr), luma(sr)
    return {"psnr_y": psnr(hy, sy).mean().item(), "ssim_y": ssim(hy, sy).mean().item(),
            "psnr_rgb": psnr(hr, sr).mean().item(), "ssim_rgb": ssim(hr, sr).mean().item()}


def parse_crop(text: str) -> List[int]:
    values = [int(v) for v in text.split(",")]
    if len(values) != 4:
        raise argparse.ArgumentTypeError(f"crop '{text}': expected X,Y,W,H")
    return values


def write_strip(path: str, panels: List, box: List[int]) -> None:
    """Labelled crops [(name, [3, H, W] in 0..255)] side by side as one PNG."""
    from PIL import Image, ImageDraw  # only needed for pictures
    x, y, w, h = box
    label = 12
    strip = Image.new("RGB", (len(panels) * (w + 2), h + label), "white")
    draw = ImageDraw.Draw(strip)
    for i, (name, frame) in enumerate(panels):
        pixels = frame[:, y:y + h, x:x + w].round().clamp(0, 255).byte().permute(1, 2, 0)
        strip.paste(Image.fromarray(pixels.numpy()), (i * (w + 2), label))
        draw.text((i * (w + 2) + 2, 0), name, fill="black")
    strip.save(path, optimize=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("clips", nargs="+")
    ap.add_argument("--frames", type=int, default=10)
    ap.add_argument("--model", action="append", dest="models",
                    help="a TorchScript x4 model; repeatable (default: models/out/*-x4.pt)")
    ap.add_argument("--pictures", metavar="DIR", help="write crops side by side here")
    ap.add_argument("--crop", type=parse_crop, action="append", default=[],
                    help="X,Y,W,H window for --pictures (full-resolution pixels); repeatable")
    args = ap.parse_args()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    paths = args.models if args.models is not None else sorted(
        glob.glob(os.path.join(root, "models", "out", "*-x4.pt")))
    models = {}
    for path in paths:
        extra = {"vsrup.json": ""}
        module = torch.jit.load(path, map_location="cpu", _extra_files=extra).eval()
        meta = json.loads(extra["vsrup.json"])
        if meta["scale"] != SCALE:
            print(f"quality: {path} is x{meta['scale']}, not x{SCALE}", file=sys.stderr)
            return 1
        models[meta["name"]] = module

    print("| clip | frames | size | method | PSNR Y | SSIM Y | PSNR RGB | SSIM RGB |")
    print("|---|---|---|---|---|---|---|---|")
    for clip in args.clips:
        hr = read_frames(clip, args.frames)
        lr = downscale(hr)
        candidates: List = [("bicubic", bicubic_up)]
        candidates += [(name, lambda x, m=m: model_up(m, x)) for name, m in models.items()]
        panels = [("ground truth", hr[0])]
        for name, upscale in candidates:
            sr = upscale(lr)
            panels.append((name, sr[0]))
            s = scores(hr, sr)
            print(f"| {os.path.basename(clip)} | {hr.shape[0]} | {hr.shape[3]}x{hr.shape[2]} "
                  f"| {name} | {s['psnr_y']:.2f} | {s['ssim_y']:.4f} | {s['psnr_rgb']:.2f} "
                  f"| {s['ssim_rgb']:.4f} |", flush=True)
        if args.pictures:
            os.makedirs(args.pictures, exist_ok=True)
            stem = os.path.splitext(os.path.basename(clip))[0]
            for box in args.crop:
                write_strip(os.path.join(args.pictures, f"{stem}_{box[0]}_{box[1]}.png"),
                            panels, box)
    return 0


if __name__ == "__main__":
    sys.exit(main())
