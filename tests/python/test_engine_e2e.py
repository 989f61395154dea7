"""TorchScript models through vsrup, against a Python reference of the whole job.

The reference decodes the same (lossless RGB) clip, runs the same TorchScript file with its
own implementation of the chunk plan (DESIGN.md), and quantises to 16-bit RGB; vsrup writes
FFV1 gbrp16le (lossless RGB), so the two must agree within one code value.
"""
import json
import os
import resource
import shutil
import subprocess
import sys

import numpy as np
import pytest

from vsrtest import BUILD, MEDIA, SOURCE, VSRUP, count_frames, decode_raw, ffmpeg, vsrup

torch = pytest.importorskip("torch")
if os.environ.get("VSR_HAVE_TORCH") == "0":
    pytest.skip("vsrup was built without libtorch", allow_module_level=True)

W, H = 64, 48


def export_tiny(path, seed=1):
    subprocess.run([sys.executable, str(SOURCE / "models" / "export.py"), "--random-init",
                    "--seed", str(seed), "--mid-channels", "8", "--num-blocks", "1",
                    "--output", str(path)], check=True)
    return path


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    return export_tiny(tmp_path_factory.mktemp("model") / "tiny.pt")


class ToyTemporal(torch.nn.Module):
    """A cheap temporal 4x model (bilinear + a mean-over-time term), for long runs."""

    def forward(self, x):
        n, t, c, h, w = x.shape
        up = torch.nn.functional.interpolate(x.view(n * t, c, h, w), scale_factor=4.0,
                                             mode="bilinear", align_corners=False)
        up = up.view(n, t, c, 4 * h, 4 * w)
        return 0.9 * up + 0.1 * up.mean(dim=1, keepdim=True)


@pytest.fixture(scope="module")
def toy_model(tmp_path_factory):
    path = tmp_path_factory.mktemp("toy") / "toy.pt"
    meta = {"name": "toy", "arch": "toy", "scale": 4, "temporal": True, "min_frames": 1,
            "min_size": [1, 1], "multiple": 1, "dtype": "float32", "fp32_modules": []}
    torch.jit.save(torch.jit.script(ToyTemporal()), str(path),
                   _extra_files={"vsrup.json": json.dumps(meta)})
    return path


def rgb_clip(path, source, frames, crop="64:48:300:200", start=0):
    """A lossless 8-bit RGB clip, so both sides read exactly the same samples."""
    ffmpeg("-i", source, "-fps_mode", "passthrough", "-frames:v", frames, "-vf",
           f"trim=start_frame={start},setpts=PTS-STARTPTS,crop={crop},format=gbrp",
           "-an", "-c:v", "ffv1", path)
    return path


def read_rgb(path):
    g = decode_raw(path, "gbrp", W, H, 3, np.uint8)
    return torch.from_numpy(g[:, [2, 0, 1]].astype(np.float32) / 255.0)  # G,B,R -> R,G,B


def plan(frames, cuts, chunk, overlap):
    """Our own statement of DESIGN.md's chunk plan, independent of src/plan/plan.c."""
    borders = [0] + [c for c in cuts if 0 < c < frames] + [frames]
    for begin, end in zip(borders, borders[1:]):
        for keep in range(begin, end, chunk):
            keep_end = min(keep + chunk, end)
            yield max(begin, keep - overlap), keep, keep_end, min(end, keep_end + overlap)


def pad_to_contract(x, meta):
    """The model contract: frames below min_size (or off `multiple`) are padded at the
    bottom and right by repeating the edge; the result is cropped back."""
    h, w = x.shape[-2:]
    min_h, min_w = meta["min_size"]
    m = meta["multiple"]
    ph = max(h, min_h) + (-max(h, min_h)) % m - h
    pw = max(w, min_w) + (-max(w, min_w)) % m - w
    if ph or pw:
        x = torch.nn.functional.pad(x, (0, pw, 0, ph), mode="replicate")
    return x


def range_plan(frames, begin, end, chunk, overlap):
    """A --start/--frames range [begin, end) of a clip without cuts: chunks step from
    begin and the range's neighbours, up to `overlap` on each side, are context."""
    first, last = max(0, begin - overlap), min(frames, end + overlap)
    for keep in range(begin, end, chunk):
        keep_end = min(keep + chunk, end)
        yield max(first, keep - overlap), keep, keep_end, min(last, keep_end + overlap)


def reference(model_path, frames, cuts, chunk, overlap, chunks=None):
    """The model over `frames` chunk by chunk: plan() of the cuts, or the given chunks."""
    extra = {"vsrup.json": ""}
    model = torch.jit.load(str(model_path), _extra_files=extra).eval()
    meta = json.loads(extra["vsrup.json"])
    s = meta["scale"]
    h, w = frames.shape[-2:]
    out = []
    with torch.no_grad():
        for cb, kb, ke, ce in chunks or plan(len(frames), cuts, chunk, overlap):
            y = model(pad_to_contract(frames[cb:ce], meta).unsqueeze(0))[0]
            out.append(y[kb - cb:ke - cb, :, :s * h, :s * w])
    y = torch.cat(out).clamp(0, 1)
    return np.floor(y.numpy().astype(np.float64) * 65535 + 0.5)


def run_vsrup(src, out, model, *args):
    vsrup("-i", src, "-o", out, "-m", model, "-c", "ffv1", "--pix-fmt", "gbrp16le", "-y",
          "-q", *args)
    g = decode_raw(out, "gbrp16le", 4 * W, 4 * H, 3, np.uint16)
    return g[:, [2, 0, 1]].astype(np.float64)


@pytest.mark.parametrize("clip,crop", [("Megamind.avi", "64:48:300:200"),
                                        ("vtest.avi", "64:48:400:300")])
def test_chunked_output_equals_python_reference(tmp_path, tiny_model, clip, crop):
    src = rgb_clip(tmp_path / "src.mkv", MEDIA / clip, 23, crop)
    got = run_vsrup(src, tmp_path / "out.mkv", tiny_model, "--chunk", "6", "--overlap", "3",
                    "--scene-cuts", "off")
    want = reference(tiny_model, read_rgb(src), [], 6, 3)
    assert got.shape == want.shape == (23, 3, 4 * H, 4 * W)
    diff = np.abs(got - want)
    assert diff.max() <= 1, f"max diff {diff.max()} (16-bit codes), mean {diff.mean():.4f}"


def test_whole_clip_context_equals_full_sequence(tmp_path, tiny_model):
    src = rgb_clip(tmp_path / "src.mkv", MEDIA / "Megamind.avi", 14)
    full = reference(tiny_model, read_rgb(src), [], 14, 0)
    by_overlap = run_vsrup(src, tmp_path / "a.mkv", tiny_model, "--chunk", "4", "--overlap",
                           "14", "--scene-cuts", "off")
    by_chunk = run_vsrup(src, tmp_path / "b.mkv", tiny_model, "--chunk", "100",
                         "--scene-cuts", "off")
    assert np.abs(by_overlap - full).max() <= 1
    assert np.abs(by_chunk - full).max() <= 1


def test_ranges_see_their_neighbours_and_join_into_one_run(tmp_path, tiny_model):
    """A --start/--frames range gets up to --overlap frames of context beyond each border,
    as inside a run: ranges on chunk borders give exactly the whole run's frames (the
    segments of a film on several machines join without a seam), other ranges their own
    reference, and both differ from running the range's frames as a clip of their own.
    The segments, joined with --join, decode to the whole run."""
    src = rgb_clip(tmp_path / "src.mkv", MEDIA / "vtest.avi", 24, "64:48:400:300")
    frames = read_rgb(src)
    whole = reference(tiny_model, frames, [], 4, 3)
    args = ("--chunk", "4", "--overlap", "3", "--scene-cuts", "off")
    ranges = ((0, 8), (8, 12), (20, 4))
    parts = [run_vsrup(src, tmp_path / f"part{start}.mkv", tiny_model, *args, "--start", start,
                       "--frames", count, "--keep-timestamps")
             for start, count in ranges]
    assert np.abs(np.concatenate(parts) - whole).max() <= 1
    joined = tmp_path / "joined.mkv"
    vsrup("--join", "-o", joined, *(tmp_path / f"part{start}.mkv" for start, _ in ranges))
    g = decode_raw(joined, "gbrp16le", 4 * W, 4 * H, 3, np.uint16)
    assert np.abs(g[:, [2, 0, 1]].astype(np.float64) - whole).max() <= 1

    got = run_vsrup(src, tmp_path / "odd.mkv", tiny_model, *args, "--start", 5, "--frames", 9)
    want = reference(tiny_model, frames, [], 4, 3, chunks=list(range_plan(24, 5, 14, 4, 3)))
    assert got.shape == want.shape and np.abs(got - want).max() <= 1
    alone = reference(tiny_model, frames[5:14], [], 4, 3)
    assert np.abs(got[0] - alone[0]).max() > 1 and np.abs(got[-1] - alone[-1]).max() > 1


def test_splice_is_one_cut_and_parts_run_separately(tmp_path, tiny_model):
    a = rgb_clip(tmp_path / "a.mkv", MEDIA / "vtest.avi", 12, "64:48:400:300")
    # Megamind.avi 100-108 lies inside one shot (its cuts are at 1, 98, 154 and 200).
    b = rgb_clip(tmp_path / "b.mkv", MEDIA / "Megamind.avi", 9, "64:48:300:200", start=100)
    spliced = tmp_path / "ab.mkv"
    (tmp_path / "list.txt").write_text(f"file '{a}'\nfile '{b}'\n")
    ffmpeg("-f", "concat", "-safe", "0", "-i", tmp_path / "list.txt", "-c", "copy", spliced)
    report = tmp_path / "r.json"
    got = run_vsrup(spliced, tmp_path / "out.mkv", tiny_model, "--chunk", "5", "--overlap", "4",
                    "--json", report)
    r = json.loads(report.read_text())
    assert r["scene_cuts"] == [12], r["scene_cuts"]
    frames = read_rgb(spliced)
    separate = np.concatenate([reference(tiny_model, frames[:12], [], 5, 4),
                               reference(tiny_model, frames[12:], [], 5, 4)])
    assert np.abs(got - separate).max() <= 1


def test_cut_file_and_one_frame_scene(tmp_path, tiny_model):
    src = rgb_clip(tmp_path / "src.mkv", MEDIA / "Megamind.avi", 10)
    cuts = tmp_path / "cuts.txt"
    cuts.write_text("# scenes: 0-3, 4, 5-9\n4\n5\n")
    got = run_vsrup(src, tmp_path / "out.mkv", tiny_model, "--chunk", "3", "--overlap", "2",
                    "--scene-cuts", cuts)
    want = reference(tiny_model, read_rgb(src), [4, 5], 3, 2)
    assert np.abs(got - want).max() <= 1


def test_odd_and_tiny_frames_are_padded_not_refused(tmp_path, tiny_model):
    src = tmp_path / "odd.mkv"
    ffmpeg("-i", MEDIA / "tree.avi", "-fps_mode", "passthrough", "-frames:v", "5", "-vf", "crop=37:29:100:100,format=gbrp",
           "-c:v", "ffv1", src)
    out = tmp_path / "odd_out.mkv"
    vsrup("-i", src, "-o", out, "-m", tiny_model, "-c", "ffv1", "--pix-fmt", "gbrp16le", "-q")
    g = decode_raw(out, "gbrp16le", 148, 116, 3, np.uint16)
    assert g.shape[0] == 5


def test_bounded_memory(tmp_path, toy_model):
    """Peak RSS for 2,000 frames within 10% of that for 200 (same model, same chunk)."""
    def peak_rss(frames):
        src = tmp_path / f"long{frames}.mkv"
        ffmpeg("-f", "lavfi", "-i", f"testsrc2=s={W}x{H}:r=25", "-frames:v", frames,
               "-c:v", "ffv1", src)
        out = tmp_path / f"long{frames}.mov"
        code = ("import resource,subprocess,sys;"
                "subprocess.run(sys.argv[1:],check=True);"
                "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
        proc = subprocess.run([sys.executable, "-c", code, os.environ.get("VSRUP"),
                               "-i", str(src), "-o", str(out), "-m", str(toy_model),
                               "--chunk", "8", "--overlap", "2", "-q", "-t", "1"],
                              capture_output=True, text=True, check=True)
        return int(proc.stdout.strip())
    small, large = peak_rss(200), peak_rss(2000)
    print(f"peak RSS: 200 frames {small} KiB, 2000 frames {large} KiB")
    assert large <= small * 1.10


def test_model_errors(tmp_path, toy_model):
    junk = tmp_path / "junk.pt"
    junk.write_text("not a model")
    proc = vsrup("-i", MEDIA / "tree.avi", "-o", tmp_path / "o.mov", "-m", junk, check=False)
    assert proc.returncode == 1 and "junk.pt" in proc.stderr
    proc = vsrup("-i", MEDIA / "tree.avi", "-o", tmp_path / "o.mov", "-m",
                 tmp_path / "missing.pt", check=False)
    assert proc.returncode == 1 and "missing.pt" in proc.stderr
    proc = vsrup("-i", MEDIA / "tree.avi", "-o", tmp_path / "o.mov", "-m", toy_model,
                 "-d", "cuda", check=False)
    if not torch.cuda.is_available():
        assert proc.returncode == 1 and "CUDA" in proc.stderr


def test_module_found_where_installed_and_missing_said_clearly(tmp_path, toy_model):
    """The engine module is looked up next to vsrup and in ../lib/vsrup: an installed tree
    runs a model; a vsrup copied away from its module says what is missing."""
    env = {k: v for k, v in os.environ.items() if k != "VSRUP_TORCH_MODULE"}
    prefix = tmp_path / "prefix"
    subprocess.run(["cmake", "--install", str(BUILD), "--prefix", str(prefix)], check=True,
                   capture_output=True)
    installed = prefix / "bin" / "vsrup"
    version = subprocess.run([installed, "--version"], env=env, capture_output=True, text=True,
                             check=True).stdout
    assert f"TorchScript engine: {prefix}/bin/../lib/vsrup/vsrup_torch.so" in version
    out = tmp_path / "o.mkv"
    subprocess.run([installed, "-i", MEDIA / "tree.avi", "-o", out, "-m", toy_model,
                    "--frames", "2", "-q"], env=env, check=True)
    assert count_frames(out) == 2

    alone = tmp_path / "alone" / "vsrup"
    alone.parent.mkdir()
    shutil.copy(VSRUP, alone)
    proc = subprocess.run([alone, "-i", MEDIA / "tree.avi", "-o", tmp_path / "x.mkv", "-m",
                           toy_model], env=env, capture_output=True, text=True)
    assert proc.returncode == 1
    assert "vsrup_torch.so not found" in proc.stderr and str(toy_model) in proc.stderr


def test_default_model(tmp_path, toy_model):
    """Without -m: VSRUP_MODEL, else basicvsrpp-reds4.pt in the fetch cache, else in
    ../share/vsrup of an installed tree; the report names the file that ran."""
    cache = tmp_path / "cache"
    cache.mkdir()
    shutil.copy(toy_model, cache / "basicvsrpp-reds4.pt")

    def run(env, program=None):
        report = tmp_path / "r.json"
        args = ["-i", MEDIA / "tree.avi", "-o", tmp_path / "o.mkv", "-y", "--frames", "3",
                "--chunk", "3", "--json", report]
        if program:
            subprocess.run([program, *map(str, args)], env=env, check=True, capture_output=True)
        else:
            vsrup(*args, env=env)
        return json.loads(report.read_text())

    got = run({"VSRUP_MODEL": None, "VSRUP_CACHE": cache})
    assert got["model_file"] == str(cache / "basicvsrpp-reds4.pt") and got["model"] == "toy"
    assert got["frames_out"] == 3 and got["output_size"] == [1280, 960]
    assert run({"VSRUP_MODEL": "bicubic", "VSRUP_CACHE": cache})["model"] == "bicubic"

    prefix = tmp_path / "prefix"
    subprocess.run(["cmake", "--install", str(BUILD), "--prefix", str(prefix)], check=True,
                   capture_output=True)
    (prefix / "share" / "vsrup").mkdir(parents=True)
    shutil.copy(toy_model, prefix / "share" / "vsrup" / "basicvsrpp-reds4.pt")
    env = {k: v for k, v in os.environ.items() if k not in ("VSRUP_MODEL", "VSRUP_TORCH_MODULE")}
    env["VSRUP_CACHE"] = str(tmp_path / "empty")
    got = run(env, program=prefix / "bin" / "vsrup")
    assert got["model_file"] == f"{prefix}/bin/../share/vsrup/basicvsrpp-reds4.pt"


def test_chunk_chosen_from_memory(tmp_path, toy_model):
    """Without --chunk a temporal model's chunk comes from its measured memory per frame:
    at least its own output per frame (an independent lower bound), in at most 4 GiB on the
    CPU unless --memory-limit says otherwise; a --memory-limit sized
    for a 6-frame chunk gives about 6, and the whole run's peak stays near that limit."""
    w, h, overlap = 320, 240, 2
    src = tmp_path / "src.mkv"
    ffmpeg("-f", "lavfi", "-i", f"testsrc2=s={w}x{h}:r=25", "-frames:v", 30, "-c:v", "ffv1", src)

    def run(*args):
        report = tmp_path / "r.json"
        code = ("import resource,subprocess,sys;"
                "subprocess.run(sys.argv[1:],check=True);"
                "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
        proc = subprocess.run([sys.executable, "-c", code, os.environ.get("VSRUP"), "-i", str(src),
                               "-o", str(tmp_path / "o.mov"), "-y", "-m", str(toy_model),
                               "--overlap", str(overlap), "-q", "--json", str(report), *args],
                              capture_output=True, text=True, check=True)
        return json.loads(report.read_text()), int(proc.stdout.strip()) * 1024

    free, _ = run()
    fit = free["chunk_from_memory"]
    output_bytes = 3 * 4 * w * 4 * h * 4  # one float32 output frame
    assert fit["memory"] == "host" and fit["fits"]
    assert fit["budget"] <= 4 << 30, fit  # the CPU's default cap (docs/CHUNKS.md)
    assert output_bytes <= fit["per_frame"] <= 20 * output_bytes, fit
    assert 1 <= free["chunk"] <= 100

    # plus the float input frame the pipeline holds, and the output frames in flight per kept one
    assert fit["per_computed"] == fit["per_frame"] + 12 * w * h
    assert fit["per_kept"] >= 3 * 2 * (4 * w) * (4 * h)  # three chunks of 4:2:2 10-bit frames
    per_frame = fit["per_computed"]
    limit = fit["fixed"] + (6 + 2 * overlap) * per_frame + 6 * fit["per_kept"] + per_frame // 2
    capped, peak = run("--memory-limit", str(limit))
    assert capped["chunk_from_memory"]["budget"] == limit
    assert 3 <= capped["chunk"] <= 10, capped["chunk_from_memory"]  # two-point measurement noise
    assert capped["frames_out"] == 30
    print(f"limit {limit >> 20} MiB, chunk {capped['chunk']}, peak RSS {peak >> 20} MiB")
    assert peak <= 1.3 * limit


def test_precision_choice_on_the_cpu(tmp_path, toy_model):
    """--precision parses to the engine's choice (policy.cpp; its CUDA half is covered by
    tests/unit/test_torch_policy.cpp): auto and fp32 run float32 on the CPU, fp16 is refused."""
    for asked in ("auto", "fp32"):
        report = tmp_path / f"{asked}.json"
        vsrup("-i", MEDIA / "tree.avi", "-o", tmp_path / f"{asked}.mov", "-m", toy_model,
              "-d", "cpu", "--precision", asked, "--frames", 2, "--chunk", 2, "--json", report)
        assert json.loads(report.read_text())["precision"] == "float32"
    proc = vsrup("-i", MEDIA / "tree.avi", "-o", tmp_path / "fp16.mov", "-m", toy_model,
                 "-d", "cpu", "--precision", "fp16", check=False)
    assert proc.returncode == 1 and "float16 needs a CUDA device" in proc.stderr
    proc = vsrup("-i", MEDIA / "tree.avi", "-o", tmp_path / "x.mov", "-m", toy_model,
                 "--precision", "fp8", check=False)
    assert proc.returncode == 2 and "fp8" in proc.stderr
