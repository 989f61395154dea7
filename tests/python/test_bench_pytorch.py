"""scripts/bench_pytorch.py on the CPU: a tiny BasicVSR++ on a 64x64 crop of
Megamind.avi. Checks the outputs with ffprobe/ffmpeg and PIL, the DCN
replacement with a spy on torchvision, and pipeline 2's frame packing
against pipeline 1's PNGs."""

import importlib.util
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torchvision.ops
from PIL import Image

from models import dcn

SOURCE = os.environ.get("VSR_SOURCE_DIR", os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
SHARED = os.environ.get("VSR_SHARED", os.path.join(SOURCE, "..", "shared"))
CLIP = os.path.join(SHARED, "media", "Megamind.avi")
TINY = ["--device", "cpu", "--crop", "64x64", "--mid-channels", "16", "--num-blocks", "1"]

pytestmark = pytest.mark.skipif(not os.path.exists(CLIP), reason=f"{CLIP} is missing")


@pytest.fixture
def bench(monkeypatch):
    """The script as a module; models.dcn is restored after each test."""
    monkeypatch.setattr(dcn, "modulated_deform_conv2d", dcn.modulated_deform_conv2d)
    spec = importlib.util.spec_from_file_location(
        "bench_pytorch", os.path.join(SOURCE, "scripts", "bench_pytorch.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture
def tv_calls(monkeypatch):
    """Counts calls of torchvision.ops.deform_conv2d."""
    calls = []
    real = torchvision.ops.deform_conv2d

    def spy(*args, **kwargs):
        calls.append(args[0].shape)
        return real(*args, **kwargs)

    monkeypatch.setattr(torchvision.ops, "deform_conv2d", spy)
    return calls


def run(bench, capsys, argv):
    assert bench.main(argv) == 0
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def probe(path):
    out = subprocess.run(["ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0",
                          "-show_entries", "stream=codec_name,profile,width,height,pix_fmt,"
                          "nb_read_frames", "-of", "json", path],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)["streams"][0]


def decode_rgb(path, w, h):
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", path, "-vf",
                          "scale=in_color_matrix=bt709:in_range=tv", "-f", "rawvideo",
                          "-pix_fmt", "rgb24", "pipe:1"], check=True, capture_output=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, h, w, 3)


def test_reference_writes_one_png_per_frame(bench, tv_calls, capsys, tmp_path):
    out = tmp_path / "png"
    r = run(bench, capsys, ["reference", "--input", CLIP, "--output", str(out), "--frames", "5",
                            "--chunk", "3"] + TINY)
    names = sorted(os.listdir(out))
    assert names == [f"{i:08d}.png" for i in range(5)]
    for name in names:
        with Image.open(out / name) as img:
            assert img.size == (256, 256) and img.mode == "RGB"
    # chunks of 3 and 2 frames without overlap: 4 branches x (T - 1) alignments
    assert len(tv_calls) == 4 * 2 + 4 * 1
    assert r["frames"] == 5 and r["dcn_calls"] == len(tv_calls) and r["fps"] > 0
    assert r["gpu_busy"] is None or 0 <= r["gpu_busy"] <= 1


def test_best_encodes_prores_hq_with_torchvision_dcn(bench, tv_calls, capsys, tmp_path):
    out = tmp_path / "best.mov"
    r = run(bench, capsys, ["best", "--input", CLIP, "--output", str(out), "--frames", "5",
                            "--chunk", "3", "--overlap", "1"] + TINY)
    s = probe(str(out))
    assert (s["codec_name"], s["profile"], s["pix_fmt"]) == ("prores", "HQ", "yuv422p10le")
    assert (s["width"], s["height"], int(s["nb_read_frames"])) == (256, 256, 5)
    # chunks run frames [0, 4) and [2, 5): 4 branches x (T - 1) alignments,
    # every one through torchvision on the 2C-channel DCN input
    assert len(tv_calls) == 4 * 3 + 4 * 2
    assert all(shape[1] == 32 for shape in tv_calls)
    assert r["frames"] == 5 and r["dcn_calls"] == len(tv_calls)


def test_best_frames_match_reference_pngs(bench, capsys, tmp_path):
    """One chunk, same seed, float32 on the CPU: both pipelines run the same
    network, so ProRes frames equal the PNGs up to 10-bit 4:2:2 coding."""
    common = ["--input", CLIP, "--frames", "4", "--chunk", "8"] + TINY
    run(bench, capsys, ["reference", "--output", str(tmp_path / "png")] + common)
    run(bench, capsys, ["best", "--output", str(tmp_path / "b.mov")] + common)
    movie = decode_rgb(str(tmp_path / "b.mov"), 256, 256).astype(np.float64)
    assert movie.shape[0] == 4
    for i in range(4):
        png = np.asarray(Image.open(tmp_path / "png" / f"{i:08d}.png"), np.float64)
        err = np.abs(movie[i] - png)
        assert err.mean() < 2.0, f"frame {i}: mean error {err.mean():.2f}"
        swapped = np.abs(movie[i] - png[..., ::-1]).mean()
        assert swapped > 2 * err.mean(), f"frame {i}: channel order not distinguishable"


def test_model_only_times_the_torchscript_file(bench, capsys, tmp_path):
    model = tmp_path / "tiny.pt"
    subprocess.run([sys.executable, os.path.join(SOURCE, "models", "export.py"),
                    "--random-init", "--mid-channels", "16", "--num-blocks", "1", "--output",
                    str(model)], check=True, capture_output=True)
    r = run(bench, capsys, ["model-only", "--input", CLIP, "--model", str(model), "--frames", "5",
                            "--chunk", "3", "--overlap", "1", "--device", "cpu", "--crop",
                            "64x64"])
    assert (r["frames"], r["chunks"], r["precision"]) == (5, 2, "float32")
    assert r["model"] == "basicvsrpp_random_c16n1_seed0" and r["fps"] > 0


def test_chunk_plan_matches_design():
    spec = importlib.util.spec_from_file_location(
        "bench_pytorch", os.path.join(SOURCE, "scripts", "bench_pytorch.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    # DESIGN.md: a chunk runs [s-O, s+T+O) clipped and keeps [s, s+T)
    assert mod.chunks(200, 96, 8) == [(0, 104, 0, 96), (88, 200, 96, 192), (184, 200, 192, 200)]


def test_monitor_reports_the_command(bench, capsys):
    assert bench.main(["monitor", "--", "sh", "-c", "exit 3"]) == 3
    r = json.loads(capsys.readouterr().out)
    assert r["returncode"] == 3 and r["pipeline"] == "monitor" and r["seconds"] >= 0


def test_table_ratios(bench, capsys, tmp_path):
    """The table divides vsrup's own fps by the other rows' and judges the goals."""
    def put(name, **fields):
        (tmp_path / f"{name}.json").write_text(json.dumps(fields))

    common = {"chunk": 96, "overlap": 8, "gpu_mem_peak_mib": 1000.0,
              "gpu_mem_used_peak_mib": 2000.0, "gpu_busy": 0.5, "precision": "x"}
    put("1-reference", frames=96, fps=2.0, **common)
    put("2-best", frames=192, fps=10.0, **common)
    put("3-model-only", frames=192, fps=50.0, **common)
    put("4-vsrup", returncode=0, seconds=5.0, gpu_busy=0.9, gpu_mem_peak_mib=3000.0)
    put("4-vsrup-report", frames_out=192, fps=48.0, precision="float16", chunk=96, overlap=8)
    assert bench.main(["table", "--results", str(tmp_path)]) == 0
    text = capsys.readouterr().out
    assert "- 4 >= 40 fps: 48.000 (met)" in text
    assert "- 4/3 >= 0.95: 0.960 (met)" in text
    assert "- 4/2 >= 2: 4.800 (met)" in text
    assert "| 48.00 | n/a / 3000 | 0.90 |" in text
    os.remove(tmp_path / "2-best.json")
    assert bench.main(["table", "--results", str(tmp_path)]) == 0
    text = capsys.readouterr().out
    assert "failed or not run" in text and "- 4/2 >= 2: n/a (n/a)" in text
