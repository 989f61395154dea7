#!/usr/bin/env python3
"""Compare vsrup's Real-ESRGAN export with another program's output for the same picture.

    .venv/bin/python scripts/compare_peer.py MODEL.pt CROP.png PEER.png [--side SIDE.png]

Runs MODEL.pt (FP32, CPU) on CROP.png, rounds to 8 bits as a PNG writer would, and prints
PSNR (RGB, peak 255), max and mean absolute difference and the share of samples within 1 and
2 codes: over all samples, and over the samples where the network's own output lies in
[0, 1] (no clamping involved: realesrgan-ncnn-vulkan on Mesa's CPU Vulkan driver turns
negative outputs into wrong 8-bit values instead of 0, the "speckles"); then the pixels off by
more than SPECKLE codes in some channel and the share of those where the output is negative;
the other pixels split into a BORDER-wide frame (edge padding differs) and the inside.
--side writes input (nearest x4) | ours | peer | |difference| x8 as one PNG.
"""
import argparse
import sys

import numpy as np
import torch
from PIL import Image

SPECKLE = 32
BORDER = 32  # output pixels (8 input pixels) where the two programs' edge padding matters


def read_rgb(path: str) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


def upscale(model_path: str, rgb: np.ndarray):
    """(8-bit output of the vsrup model, the network's unclamped output x 255)."""
    module = torch.jit.load(model_path, map_location="cpu").eval()
    x = torch.from_numpy(rgb.copy()).permute(2, 0, 1).float().div(255)[None, None]
    with torch.no_grad():
        y = module(x)[0, 0].permute(1, 2, 0).numpy()
        raw = module.net(x[0])[0].permute(1, 2, 0).numpy() * 255  # VsrupESRGAN's network
    return np.clip(np.round(y * 255), 0, 255).astype(np.uint8), raw


def psnr(diff: np.ndarray) -> float:
    mse = float((diff.astype(np.float64) ** 2).mean())
    return float("inf") if mse == 0 else 10 * np.log10(255 ** 2 / mse)


def stats(diff: np.ndarray) -> str:
    return (f"PSNR {psnr(diff):.2f} dB, max {int(diff.max())}, mean {diff.mean():.3f}, "
            f"within 1 code {100 * (diff <= 1).mean():.1f} %, within 2 {100 * (diff <= 2).mean():.1f} %")


def compare(ours: np.ndarray, raw: np.ndarray, peer: np.ndarray) -> str:
    diff = np.abs(ours.astype(np.int32) - peer.astype(np.int32))
    in_range = ((raw >= -0.5) & (raw < 255.5)).all(axis=2)
    speckle = (diff > SPECKLE).any(axis=2)
    negative = (raw < -0.5).any(axis=2)
    near_zero = (raw < 4).any(axis=2)
    border = np.ones(speckle.shape, dtype=bool)
    border[BORDER:-BORDER, BORDER:-BORDER] = False
    return (f"all pixels: {stats(diff)}\n"
            f"pixels the network gives in [0, 1] ({100 * in_range.mean():.1f} %): "
            f"{stats(diff[in_range])}\n"
            f"pixels off by > {SPECKLE} codes: {100 * speckle.mean():.2f} %, "
            f"{100 * negative[speckle].mean():.1f} % of them with a negative network output, "
            f"{100 * near_zero[speckle].mean():.1f} % with one below 4/255\n"
            f"the other pixels: {stats(diff[~speckle])}\n"
            f"  of them {BORDER} px from the border: {stats(diff[~speckle & border])}\n"
            f"  of them inside: {stats(diff[~speckle & ~border])}")


def side_by_side(rgb: np.ndarray, ours: np.ndarray, peer: np.ndarray) -> np.ndarray:
    big = np.repeat(np.repeat(rgb, ours.shape[0] // rgb.shape[0], 0), ours.shape[1] // rgb.shape[1], 1)
    diff = np.clip(np.abs(ours.astype(np.int32) - peer.astype(np.int32)) * 8, 0, 255)
    return np.concatenate([big, ours, peer, diff.astype(np.uint8)], axis=1)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("model")
    ap.add_argument("crop")
    ap.add_argument("peer")
    ap.add_argument("--side", help="write a side-by-side PNG here")
    args = ap.parse_args()
    rgb, peer = read_rgb(args.crop), read_rgb(args.peer)
    ours, raw = upscale(args.model, rgb)
    if ours.shape != peer.shape:
        print(f"compare_peer: sizes differ: ours {ours.shape}, peer {peer.shape}", file=sys.stderr)
        return 1
    print(compare(ours, raw, peer))
    if args.side:
        Image.fromarray(side_by_side(rgb, ours, peer)).save(args.side)
    return 0


if __name__ == "__main__":
    sys.exit(main())
