"""Helpers shared by the end-to-end tests: run vsrup, ask ffprobe, decode with ffmpeg.

ffprobe/ffmpeg are the independent reference: they never share code with vsrup's
reader/writer beyond FFmpeg's own libraries.
"""
import json
import os
import subprocess
from pathlib import Path

import numpy as np

SOURCE = Path(os.environ.get("VSR_SOURCE_DIR", Path(__file__).resolve().parents[2]))
BUILD = Path(os.environ.get("VSR_BUILD_DIR", SOURCE / "build"))
VSRUP = os.environ.get("VSRUP", str(BUILD / "vsrup"))
SHARED = Path(os.environ.get("VSR_SHARED", SOURCE.parent / "shared"))
MEDIA = SHARED / "media"


def vsrup(*args, check=True, timeout=900, env=None):
    """Runs vsrup; returns the CompletedProcess (text output).

    Without -m vsrup runs its default model: VSRUP_MODEL=lanczos stands in for it, so a
    BasicVSR++ installed on the test machine is never run by accident. `env` adds to or
    replaces (None values remove) variables of that environment.
    """
    run_env = dict(os.environ, VSRUP_MODEL="lanczos")
    for key, value in (env or {}).items():
        if value is None:
            run_env.pop(key, None)
        else:
            run_env[key] = str(value)
    proc = subprocess.run([VSRUP, *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, env=run_env)
    if check and proc.returncode != 0:
        raise AssertionError(f"vsrup {' '.join(map(str, args))} exited {proc.returncode}:\n"
                             f"{proc.stderr}")
    return proc


def ffprobe(path, *args):
    out = subprocess.run(["ffprobe", "-v", "error", "-of", "json", *args, str(path)],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def streams(path):
    return ffprobe(path, "-show_streams")["streams"]


def video_stream(path):
    return next(s for s in streams(path) if s["codec_type"] == "video")


def count_frames(path):
    """Frames that actually decode (not what the header says)."""
    s = ffprobe(path, "-select_streams", "v:0", "-count_frames",
                "-show_entries", "stream=nb_read_frames")["streams"][0]
    return int(s["nb_read_frames"])


def frame_times(path):
    """Presentation times of the decoded video frames, in seconds."""
    frames = ffprobe(path, "-select_streams", "v:0", "-show_entries",
                     "frame=best_effort_timestamp_time")["frames"]
    return [float(f["best_effort_timestamp_time"]) for f in frames]


def duration(path, stream_type):
    for s in streams(path):
        if s["codec_type"] == stream_type and "duration" in s:
            return float(s["duration"])
    return float(ffprobe(path, "-show_format")["format"]["duration"])


def ffmpeg(*args):
    subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-y", *map(str, args)], check=True)


def decode_raw(path, pix_fmt, width, height, planes, dtype, frames=None):
    """Decodes the video to planar raw samples: array [n, planes, h, w]."""
    args = ["ffmpeg", "-v", "error", "-nostdin", "-i", str(path)]
    if frames:
        args += ["-frames:v", str(frames)]
    # passthrough: one raw frame per decoded frame, never duplicated to a constant rate
    args += ["-fps_mode", "passthrough", "-f", "rawvideo", "-pix_fmt", pix_fmt, "-"]
    raw = subprocess.run(args, capture_output=True, check=True).stdout
    data = np.frombuffer(raw, dtype=dtype)
    return data.reshape(-1, planes, height, width)
