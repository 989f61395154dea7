"""The pipeline itself, through the simulated accelerator (-m sim:MS) and the built-in lanczos.

The sim engine's output of a frame depends on that frame alone, whatever the chunk, overlap or
retry, so any scheduling mistake (a frame dropped, repeated, reordered, or written by a chunk
that was thrown away) changes the decoded frames. No timings are asserted here.
"""
import json
import re
import subprocess
import sys

import pytest

from vsrtest import MEDIA, SOURCE, VSRUP, count_frames, frame_times, video_stream, vsrup

TREE = MEDIA / "tree.avi"  # 68 frames, irregular timestamps
MEGAMIND = MEDIA / "Megamind.avi"  # 270 frames
STAGES = ("read", "engine", "encode", "mux")


def framemd5(path):
    """Per-frame lines of ffmpeg's framemd5 of the video: timestamps, sizes and MD5s."""
    out = subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-i", str(path), "-map", "0:v",
                          "-f", "framemd5", "-"], capture_output=True, text=True, check=True).stdout
    return [line for line in out.splitlines() if not line.startswith("#")]


def run_json(tmp_path, name, *args):
    out, report = tmp_path / name, tmp_path / f"{name}.json"
    proc = vsrup("-y", "-o", out, "--json", report, *args)
    return out, json.loads(report.read_text()), proc


def test_sim_keeps_every_frame_and_its_timestamp(tmp_path):
    out, report, _ = run_json(tmp_path, "tree.mov", "-i", TREE, "-m", "sim:1", "-q")
    v = video_stream(out)
    assert (v["width"], v["height"]) == (1280, 960)
    assert report["model"] == "sim:1" and report["frames_in"] == report["frames_out"] == 68
    src, dst = frame_times(TREE), frame_times(out)
    assert len(src) == len(dst) == count_frames(out) == 68
    assert max(abs(a - b) for a, b in zip(src, dst)) < 1e-3


@pytest.mark.parametrize("spec", ["sim:0", "sim:-1", "sim:abc", "sim:", "sim:5x",
                                  "sim:5,fast", "sim:5,oom-above=0", "sim:nan"])
def test_bad_sim_specs_are_usage_errors(tmp_path, spec):
    proc = vsrup("-i", TREE, "-o", tmp_path / "o.mov", "-m", spec, check=False)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and spec in lines[0] and "milliseconds" in lines[0], proc.stderr
    assert not list(tmp_path.iterdir())


def test_busy_fractions_and_bottleneck(tmp_path):
    _, report, proc = run_json(tmp_path, "mm.mov", "-i", MEGAMIND, "-m", "sim:2",
                               "--frames", "24")
    busy = report["busy"]
    assert sorted(busy) == sorted(STAGES)
    assert all(0 <= busy[s] <= 1 for s in STAGES), busy
    assert report["bottleneck"] == max(STAGES, key=lambda s: busy[s])
    assert busy["engine"] > 0 and busy["encode"] > 0 and busy["read"] > 0
    line = [l for l in proc.stderr.splitlines() if "bottleneck:" in l]
    assert len(line) == 1 and re.search(r"bottleneck: (read|engine|encode|mux)$", line[0])
    assert line[0].endswith(report["bottleneck"])


def test_chunks_overlap_and_oom_retries_give_every_frame_once(tmp_path):
    """A temporal sim with chunks, overlap and simulated out-of-memory retries (collected
    while the next chunk is in flight) writes exactly the frames of the per-frame run."""
    base, plain, _ = run_json(tmp_path, "plain.mkv", "-i", MEGAMIND, "-m", "sim:0.5",
                              "-c", "ffv1", "-s", "1", "--frames", "60", "-q")
    want = framemd5(base)
    assert len(want) == 60 and plain["overlap"] == 0
    runs = {"chunked": ("sim:0.5,temporal", "--chunk", "7", "--overlap", "3"),
            "oom": ("sim:0.5,temporal,oom-above=9", "--chunk", "16", "--overlap", "2")}
    for name, (model, *args) in runs.items():
        out, report, _ = run_json(tmp_path, f"{name}.mkv", "-i", MEGAMIND, "-m", model,
                                  "-c", "ffv1", "-s", "1", "--frames", "60", "-q", *args)
        assert report["frames_out"] == 60 and report["overlap"] == int(args[3]), name
        assert framemd5(out) == want, name
    assert report["oom_retries"] == 2 and report["chunk"] == 4, report  # 16 -> 8 -> 4


def test_sim_oom_on_single_frames_fails_cleanly(tmp_path):
    out = tmp_path / "o.mov"
    proc = vsrup("-i", TREE, "-o", out, "-m", "sim:1,temporal,oom-above=1", "--chunk", "2",
                 "--overlap", "1", "-q", check=False)
    assert proc.returncode == 1 and "oom-above=1" in proc.stderr, proc.stderr
    assert not out.exists()


def test_memory_flat_in_film_length(tmp_path):
    """Peak RSS for 1,000 frames within 10% of that for 100, with chunks in flight."""
    if b"__asan_init" in open(VSRUP, "rb").read():
        pytest.skip("AddressSanitizer's allocator keeps what is freed: RSS says nothing here")
    def peak_rss(frames):
        src = tmp_path / f"long{frames}.mkv"
        subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-f", "lavfi", "-i",
                        "testsrc2=s=160x120:r=25", "-frames:v", str(frames), "-c:v", "ffv1",
                        str(src)], check=True)
        code = ("import resource,subprocess,sys;"
                "subprocess.run(sys.argv[1:],check=True);"
                "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
        proc = subprocess.run([sys.executable, "-c", code, VSRUP, "-i",
                               str(src), "-o", str(tmp_path / f"long{frames}.mov"), "-m",
                               "sim:0.1,temporal", "--chunk", "8", "--overlap", "2", "-q"],
                              capture_output=True, text=True, check=True)
        return int(proc.stdout.strip())
    small, large = peak_rss(100), peak_rss(1000)
    print(f"peak RSS: 100 frames {small} KiB, 1000 frames {large} KiB")
    assert large <= small * 1.10


def test_lanczos_output_unchanged(tmp_path):
    """tests/data/lanczos_tree_ffv1.framemd5 is the decoded FFV1 output of `-m lanczos -c ffv1`
    on tree.avi made by the build before the asynchronous pipeline (libswscale 6.7.100):
    FFV1 is lossless, so it pins the engine's exact output and every timestamp."""
    version = subprocess.run(["ffmpeg", "-version"], capture_output=True, text=True).stdout
    if not re.search(r"libswscale\s+6\.\s*7\.100", version):
        pytest.skip("the reference was made with libswscale 6.7.100")
    reference = SOURCE / "tests" / "data" / "lanczos_tree_ffv1.framemd5"
    want = [line for line in reference.read_text().splitlines() if not line.startswith("#")]
    assert len(want) == 68
    for chunk in ("1", "5"):
        out = tmp_path / f"tree{chunk}.mkv"
        vsrup("-i", TREE, "-o", out, "-m", "lanczos", "-c", "ffv1", "--chunk", chunk, "-q")
        assert framemd5(out) == want, f"--chunk {chunk}"


def test_sim_pixels_are_the_quantised_input(tmp_path):
    """At scale 1 in 4:4:4 the sim's output is our quantiser's, as the built-in resize's is."""
    outs = []
    for model in ("sim:1", "lanczos"):
        out = tmp_path / f"{model.replace(':', '')}.mkv"
        vsrup("-i", TREE, "-o", out, "-m", model, "-s", "1", "-c", "ffv1", "--pix-fmt",
              "yuv444p10le", "--frames", "10", "-q")
        outs.append(framemd5(out))
    assert len(outs[0]) == 10 and outs[0] == outs[1]
