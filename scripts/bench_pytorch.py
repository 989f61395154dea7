#!/usr/bin/env python3
"""PyTorch pipelines that vsrup is measured against (docs/GPU-BENCH.md).

  reference   the way the original demos run BasicVSR++: eager FP32, whole
              chunks without overlap, one PNG per output frame.
  best        the best PyTorch pipeline: eager with torchvision's
              deform_conv2d (as PyTorch peers run it), FP16 autocast,
              cudnn.benchmark, TF32, pinned memory, chunk 96 overlap 8,
              rgb48le frames piped to an ffmpeg ProRes 422 HQ process.
  model-only  vsrup's engine alone: the same TorchScript file with the
              engine's settings (its dtype, cudnn.benchmark, TF32), chunk
              96 overlap 8, frames already on the device, output discarded.
  monitor     run a command (vsrup) under the same GPU sampler.

Each prints one JSON line: fps, frames, seconds, GPU peak memory and GPU
busy fraction (nvidia-smi sampled in a thread; null without nvidia-smi).
Frames are decoded with the ffmpeg CLI as an rgb24 pipe.
"""

import argparse
import json
import os
import queue
import shutil
import subprocess
import sys
import threading
import time
from typing import Callable, Iterator, List, Optional, Tuple

import numpy as np
import torch

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from models import dcn  # noqa: E402
from models.basicvsrpp import BasicVSRPlusPlus  # noqa: E402

SAMPLE_PERIOD_S = 0.1


class GpuSampler:
    """Samples GPU utilisation and memory.used with nvidia-smi in a thread.

    One long-running nvidia-smi (-lms) rather than one process per sample, so
    the sampler costs no CPU the pipelines need.
    """

    def __init__(self, device_index: int = 0):
        self.util: List[float] = []
        self.mem_mib: List[float] = []
        self.proc: Optional[subprocess.Popen] = None
        self.thread: Optional[threading.Thread] = None
        exe = shutil.which("nvidia-smi")
        if exe:
            self.cmd = [exe, "-i", str(device_index), "--query-gpu=utilization.gpu,memory.used",
                        "--format=csv,noheader,nounits", f"-lms={int(SAMPLE_PERIOD_S * 1000)}"]
        else:
            self.cmd = None

    def __enter__(self) -> "GpuSampler":
        if self.cmd:
            self.proc = subprocess.Popen(self.cmd, stdout=subprocess.PIPE,
                                         stderr=subprocess.DEVNULL, text=True)
            self.thread = threading.Thread(target=self._read, daemon=True)
            self.thread.start()
        return self

    def _read(self) -> None:
        for line in self.proc.stdout:
            parts = [p.strip() for p in line.split(",")]
            try:
                self.util.append(float(parts[0]))
                self.mem_mib.append(float(parts[1]))
            except (ValueError, IndexError):
                continue  # "[N/A]" on some virtual GPUs

    def __exit__(self, *exc) -> None:
        if self.proc:
            self.proc.terminate()
            self.proc.wait()
            self.thread.join()

    def busy_fraction(self) -> Optional[float]:
        return round(sum(self.util) / len(self.util) / 100.0, 3) if self.util else None

    def memory_peak_mib(self) -> Optional[float]:
        return max(self.mem_mib) if self.mem_mib else None


def probe_size(ffprobe: str, path: str) -> Tuple[int, int]:
    out = subprocess.run([ffprobe, "-v", "error", "-select_streams", "v:0", "-show_entries",
                          "stream=width,height", "-of", "csv=p=0", path],
                         check=True, capture_output=True, text=True).stdout
    w, h = out.strip().split("\n")[0].split(",")[:2]
    return int(w), int(h)


def decode_frames(ffmpeg: str, path: str, frames: int, width: int, height: int,
                  crop: Optional[Tuple[int, int]]) -> Iterator[np.ndarray]:
    """Yields up to `frames` (H, W, 3) uint8 RGB frames from the ffmpeg CLI."""
    cmd = [ffmpeg, "-v", "error", "-nostdin", "-i", path, "-map", "0:v:0", "-frames:v",
           str(frames)]
    if crop:
        cmd += ["-vf", f"crop={crop[0]}:{crop[1]}:0:0"]
    cmd += ["-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"]
    size = width * height * 3
    with subprocess.Popen(cmd, stdout=subprocess.PIPE) as proc:
        while True:
            buf = proc.stdout.read(size)
            if len(buf) < size:
                break
            yield np.frombuffer(buf, np.uint8).reshape(height, width, 3)
        proc.stdout.close()
        if proc.wait() != 0:
            raise RuntimeError(f"ffmpeg could not decode {path}")


def chunks(total: int, chunk: int, overlap: int) -> List[Tuple[int, int, int, int]]:
    """(run_start, run_end, keep_start, keep_end): DESIGN.md's chunk plan
    without scene cuts; each chunk runs [s-O, s+T+O) clipped, keeps [s, s+T)."""
    plan = []
    for s in range(0, total, chunk):
        e = min(total, s + chunk)
        plan.append((max(0, s - overlap), min(total, e + overlap), s, e))
    return plan


def use_torchvision_dcn() -> Callable[[], int]:
    """Replaces models.dcn.modulated_deform_conv2d, the function our network
    calls, by torchvision.ops.deform_conv2d; returns a call counter."""
    import torchvision.ops

    calls = [0]

    def tv_dcn(x, offset, mask, weight, bias, stride=1, padding=0, dilation=1,
               band_elements=dcn.DEFAULT_BAND_ELEMENTS, row0=0):
        # torchvision convolves whole frames: build_network(whole_frames=True)
        assert row0 == 0 and offset.shape[2] == x.shape[2], "a band reached torchvision's DCN"
        calls[0] += 1
        return torchvision.ops.deform_conv2d(x, offset, weight, bias, stride=(stride, stride),
                                             padding=(padding, padding),
                                             dilation=(dilation, dilation), mask=mask)

    dcn.modulated_deform_conv2d = tv_dcn
    return lambda: calls[0]


def build_network(args: argparse.Namespace, device: torch.device,
                  whole_frames: bool = False) -> torch.nn.Module:
    """Random-init network: speed does not depend on the weights. whole_frames: no
    bands of rows anywhere (what torchvision's DCN, which takes whole frames, needs)."""
    torch.manual_seed(args.seed)
    bands = {"band_elements": 1 << 62} if whole_frames else {}
    return BasicVSRPlusPlus(args.mid_channels, args.num_blocks, **bands).eval().to(device)


def enable_fast_cuda() -> None:
    torch.backends.cudnn.benchmark = True
    torch.backends.cudnn.allow_tf32 = True
    torch.backends.cuda.matmul.allow_tf32 = True


def to_input(frames: List[np.ndarray], device: torch.device, pinned: bool) -> torch.Tensor:
    """[1, T, 3, H, W] float32 in [0, 1] on device."""
    host = torch.from_numpy(np.stack(frames))
    if pinned:
        host = host.pin_memory()
    x = host.to(device, non_blocking=pinned).permute(0, 3, 1, 2).float().div_(255.0)
    return x.unsqueeze(0)


def run_reference(args: argparse.Namespace, device: torch.device, frames: List[np.ndarray]) -> dict:
    """Demo style: each chunk of args.chunk frames runs alone (no overlap), the
    output comes back to the host in float32 and every frame is a PNG."""
    from PIL import Image

    count = use_torchvision_dcn()
    net = build_network(args, device, whole_frames=True)
    os.makedirs(args.output, exist_ok=True)
    written = 0
    chunk = args.chunk
    with torch.no_grad():
        while written < len(frames):
            try:
                out = net(to_input(frames[written:written + chunk], device, False))[0].cpu()
            except torch.cuda.OutOfMemoryError:
                if chunk == 1:
                    raise
                chunk //= 2  # what a demo user does next: a shorter max_seq_len
                torch.cuda.empty_cache()
                continue
            for t in range(out.shape[0]):
                img = (out[t].clamp(0, 1) * 255.0).round().byte().permute(1, 2, 0).numpy()
                # level 1: OpenCV's default, which the demos' mmcv.imwrite uses
                Image.fromarray(img).save(os.path.join(args.output, f"{written:08d}.png"),
                                          compress_level=1)
                written += 1
    return {"frames": written, "dcn": "torchvision.ops.deform_conv2d", "dcn_calls": count(),
            "precision": "fp32", "chunk_used": chunk}


class ProresPipe:
    """An ffmpeg process encoding rgb48le frames to ProRes 422 HQ; a thread
    writes frames from a ring of pinned buffers so the GPU never waits."""

    def __init__(self, ffmpeg: str, output: str, width: int, height: int, buffers: int,
                 pinned: bool):
        cmd = [ffmpeg, "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb48le", "-s",
               f"{width}x{height}", "-r", "25", "-i", "pipe:0", "-c:v", "prores_ks", "-profile:v",
               "hq", "-pix_fmt", "yuv422p10le", "-vf",
               "scale=out_color_matrix=bt709,setparams=colorspace=bt709:color_primaries=bt709:"
               "color_trc=bt709", output]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE)
        self.free: "queue.Queue" = queue.Queue()
        self.full: "queue.Queue" = queue.Queue()
        for _ in range(buffers):
            self.free.put(torch.empty((height, width, 3), dtype=torch.int16, pin_memory=pinned))
        self.error: Optional[BaseException] = None
        self.thread = threading.Thread(target=self._write, daemon=True)
        self.thread.start()

    def _write(self) -> None:
        while True:
            item = self.full.get()
            if item is None:
                return
            buf, event = item
            try:
                if event is not None:
                    event.synchronize()
                # int16 holds v - 32768; flipping the top bit gives uint16 v
                self.proc.stdin.write((buf.numpy().view(np.uint16) ^ 0x8000).tobytes())
            except BaseException as e:  # reported by the main thread at close()
                self.error = e
            self.free.put(buf)

    def put(self, frame: torch.Tensor) -> None:
        """frame: (3, H, W) on the device, any float dtype, not clamped."""
        buf = self.free.get()
        q = (frame.float().clamp_(0, 1).mul_(65535.0).round_() - 32768.0).to(torch.int16)
        buf.copy_(q.permute(1, 2, 0), non_blocking=buf.is_pinned())
        event = None
        if frame.is_cuda:
            event = torch.cuda.Event()
            event.record()
        self.full.put((buf, event))

    def close(self) -> None:
        self.full.put(None)
        self.thread.join()
        self.proc.stdin.close()
        if self.proc.wait() != 0 or self.error:
            raise RuntimeError(f"ffmpeg ProRes encode failed: {self.error}")


def run_best(args: argparse.Namespace, device: torch.device, frames: List[np.ndarray]) -> dict:
    cuda = device.type == "cuda"
    count = use_torchvision_dcn()
    net = build_network(args, device, whole_frames=True)
    if cuda:
        enable_fast_cuda()
    h, w = frames[0].shape[:2]
    pipe = ProresPipe(args.ffmpeg, args.output, 4 * w, 4 * h, args.buffers, cuda)
    written = 0
    try:
        with torch.no_grad(), torch.autocast("cuda", dtype=torch.float16, enabled=cuda):
            for r0, r1, k0, k1 in chunks(len(frames), args.chunk, args.overlap):
                out = net(to_input(frames[r0:r1], device, cuda))[0]
                for t in range(k0 - r0, k1 - r0):
                    pipe.put(out[t])
                    written += 1
    finally:
        pipe.close()
    return {"frames": written, "dcn": "torchvision.ops.deform_conv2d", "dcn_calls": count(),
            "precision": "fp16 autocast" if cuda else "fp32 (no autocast on cpu)"}


def run_model_only(args: argparse.Namespace, device: torch.device,
                   frames: List[np.ndarray]) -> dict:
    """The engine's settings (src/engine_torch.cpp): the file's dtype (SPyNet
    stays float32 in an fp16 export), cudnn.benchmark, TF32; frames are moved
    to the device before the clock starts and outputs are dropped."""
    extra = {"vsrup.json": ""}
    module = torch.jit.load(args.model, map_location=device, _extra_files=extra).eval()
    meta = json.loads(extra["vsrup.json"])
    dtype = torch.float16 if meta["dtype"] == "float16" else torch.float32
    if device.type == "cuda":
        enable_fast_cuda()
    x = to_input(frames, device, device.type == "cuda").to(dtype)
    plan = chunks(len(frames), args.chunk, args.overlap)
    with torch.inference_mode():
        start = time.perf_counter()
        for r0, r1, _, _ in plan:
            module(x[:, r0:r1])
        if device.type == "cuda":
            torch.cuda.synchronize()
        seconds = time.perf_counter() - start
    return {"frames": len(frames), "seconds": seconds, "chunks": len(plan), "model": meta["name"],
            "mid_channels": None, "num_blocks": None,
            "precision": str(dtype).replace("torch.", "")}


def run_monitor(args: argparse.Namespace) -> dict:
    with GpuSampler() as gpu:
        start = time.perf_counter()
        rc = subprocess.call(args.command)
        seconds = time.perf_counter() - start
    return {"pipeline": "monitor", "returncode": rc, "seconds": round(seconds, 3),
            "gpu_busy": gpu.busy_fraction(), "gpu_mem_peak_mib": gpu.memory_peak_mib()}


def load_result(folder: str, name: str) -> Optional[dict]:
    path = os.path.join(folder, name + ".json")
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def fmt(value: Optional[float], digits: int = 1) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def table(args: argparse.Namespace) -> str:
    """Markdown report of the four measurements gpu-bench.sh stored."""
    rows = [load_result(args.results, n) for n in ("1-reference", "2-best", "3-model-only")]
    monitor = load_result(args.results, "4-vsrup")
    report = load_result(args.results, "4-vsrup-report")
    vsrup = None
    if monitor and report and monitor["returncode"] == 0:
        vsrup = {"frames": report["frames_out"], "fps": report["fps"],
                 "gpu_mem_peak_mib": None, "gpu_mem_used_peak_mib": monitor["gpu_mem_peak_mib"],
                 "gpu_busy": monitor["gpu_busy"], "precision": report["precision"],
                 "chunk": report["chunk"], "overlap": report["overlap"]}
    rows.append(vsrup)
    names = ["1. reference: eager FP32, whole chunks, PNG per frame",
             "2. best PyTorch: torchvision DCN, FP16 autocast, ProRes HQ pipe",
             "3. vsrup model-only (TorchScript, engine settings)",
             "4. vsrup end to end, ProRes HQ"]
    gpu = "no GPU"
    if torch.cuda.is_available():
        gpu = torch.cuda.get_device_name(0)
    lines = [f"## {time.strftime('%Y-%m-%d %H:%M %Z')}: {gpu}, torch {torch.__version__} "
             f"(CUDA {torch.version.cuda}), {os.cpu_count()} CPU threads", "",
             f"Command: `{args.command}`", "",
             "| pipeline | frames | chunk/overlap | precision | fps | GPU mem peak: allocated / "
             "nvidia-smi used (MiB) | GPU busy |", "|---|---|---|---|---|---|---|"]
    for name, r in zip(names, rows):
        if r is None:
            lines.append(f"| {name} | failed or not run | | | | | |")
            continue
        overlap = r.get("overlap", 0)
        lines.append(f"| {name} | {r['frames']} | {r.get('chunk_used', r['chunk'])}/{overlap} | "
                     f"{r.get('precision', '')} | {fmt(r['fps'], 2)} | "
                     f"{fmt(r['gpu_mem_peak_mib'], 0)} / {fmt(r['gpu_mem_used_peak_mib'], 0)} | "
                     f"{fmt(r['gpu_busy'], 2)} |")
    fps = [r["fps"] if r else None for r in rows]
    lines.append("")
    checks = [("4 >= 40 fps", fps[3], 40.0),
              ("4/3 >= 0.95", fps[3] / fps[2] if fps[3] and fps[2] else None, 0.95),
              ("4/2 >= 2", fps[3] / fps[1] if fps[3] and fps[1] else None, 2.0)]
    for label, value, goal in checks:
        verdict = "n/a" if value is None else ("met" if value >= goal else "NOT met")
        lines.append(f"- {label}: {fmt(value, 3)} ({verdict})")
    lines.append("")
    lines.append("fps 1-3 count decode to last output (model build excluded); 4 is vsrup's "
                 "own seconds.total (model load included). Model-only excludes decode and "
                 "host copies. Allocated = torch.cuda.max_memory_allocated (n/a for vsrup).")
    return "\n".join(lines)


PIPELINES = {"reference": run_reference, "best": run_best, "model-only": run_model_only}


def parse(argv: Optional[List[str]]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("pipeline", choices=sorted(PIPELINES) + ["monitor", "table"])
    p.add_argument("--results", help="table: folder of the JSON results")
    p.add_argument("--command", default="", help="table: the command to record")
    p.add_argument("--input", help="video clip (decoded with the ffmpeg CLI)")
    p.add_argument("--output", help="reference: PNG folder; best: .mov file")
    p.add_argument("--model", help="model-only: TorchScript file from models/export.py")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu",
                   choices=["cpu", "cuda"])
    p.add_argument("--frames", type=int, default=192)
    p.add_argument("--crop", help="WxH crop at the top left (small CPU tests)")
    p.add_argument("--chunk", type=int, default=96)
    p.add_argument("--overlap", type=int, default=8)
    p.add_argument("--mid-channels", type=int, default=64)
    p.add_argument("--num-blocks", type=int, default=7)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--buffers", type=int, default=16, help="best: pinned frame buffers")
    p.add_argument("--ffmpeg", default=shutil.which("ffmpeg") or "ffmpeg")
    p.add_argument("--ffprobe", default=shutil.which("ffprobe") or "ffprobe")
    argv = list(sys.argv[1:] if argv is None else argv)
    command = argv[argv.index("--") + 1:] if "--" in argv else []
    args = p.parse_args(argv[:len(argv) - len(command) - (1 if command else 0)])
    args.command = command  # monitor: the command after --
    if args.pipeline == "table":
        if not args.results:
            p.error("table needs --results")
    elif args.pipeline == "monitor":
        if not args.command:
            p.error("monitor needs a command after --")
    elif not args.input or (args.pipeline != "model-only" and not args.output) or \
            (args.pipeline == "model-only" and not args.model):
        p.error(f"{args.pipeline} needs --input and " +
                ("--model" if args.pipeline == "model-only" else "--output"))
    return args


def main(argv: Optional[List[str]] = None) -> int:
    args = parse(argv)
    if args.pipeline == "table":
        print(table(args))
        return 0
    if args.pipeline == "monitor":
        result = run_monitor(args)
        print(json.dumps(result), flush=True)
        return result["returncode"]
    device = torch.device(args.device)
    if args.crop:
        crop = tuple(int(v) for v in args.crop.split("x"))
        w, h = crop
    else:
        crop = None
        w, h = probe_size(args.ffprobe, args.input)
    # Decoding the clip is part of every pipeline, so the clock starts first.
    with GpuSampler(device.index or 0) as gpu:
        start = time.perf_counter()
        frames = list(decode_frames(args.ffmpeg, args.input, args.frames, w, h, crop))
        if not frames:
            raise RuntimeError(f"{args.input}: no frames decoded")
        result = PIPELINES[args.pipeline](args, device, frames)
        if device.type == "cuda":
            torch.cuda.synchronize()
        seconds = result.pop("seconds", time.perf_counter() - start)
    result.setdefault("mid_channels", args.mid_channels)
    result.setdefault("num_blocks", args.num_blocks)
    result.update({
        "pipeline": args.pipeline, "device": str(device), "input_size": [w, h], "chunk": args.chunk,
        "overlap": 0 if args.pipeline == "reference" else args.overlap,
        "seconds": round(seconds, 3), "fps": round(result["frames"] / seconds, 3),
        "gpu_mem_peak_mib": (round(torch.cuda.max_memory_allocated(device) / 2**20, 1)
                             if device.type == "cuda" else None),
        "gpu_mem_used_peak_mib": gpu.memory_peak_mib(), "gpu_busy": gpu.busy_fraction(),
    })
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
