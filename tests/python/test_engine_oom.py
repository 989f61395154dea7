"""Out of memory inside forward(): the chunk is retried smaller and no frame is lost.

On a GPU, an allocation failure inside a TorchScript forward() reaches the engine as the
interpreter's std::runtime_error ("The following operation failed in the TorchScript
interpreter ... CUDA out of memory ..."), not as c10::OutOfMemoryError. The model here raises
exactly that for chunks longer than a limit, on the CPU; the run must finish, say it retried,
and give the same frames as a run that asked for the smaller chunk from the start.
"""
import json
import os

import pytest

from vsrtest import MEDIA, ffmpeg, vsrup

torch = pytest.importorskip("torch")
if os.environ.get("VSR_HAVE_TORCH") == "0":
    pytest.skip("vsrup was built without libtorch", allow_module_level=True)

LIMIT = 8  # input frames a chunk may have before the model "runs out of memory"


class OomAboveLimit(torch.nn.Module):
    """Nearest 4x plus a mean over the chunk (so each output depends on the chunk's frames);
    raises the CUDA allocator's error for chunks of more than `limit` frames."""

    def __init__(self, limit: int):
        super().__init__()
        self.limit = limit

    def forward(self, x):
        n, t, c, h, w = x.shape
        if t > self.limit:
            raise RuntimeError("CUDA out of memory. Tried to allocate 20.00 GiB (GPU 0; "
                               "79.11 GiB total capacity; 70.02 GiB already allocated)")
        up = torch.nn.functional.interpolate(x.view(n * t, c, h, w), scale_factor=4.0,
                                             mode="nearest")
        up = up.view(n, t, c, 4 * h, 4 * w)
        return 0.75 * up + 0.25 * up.mean(dim=1, keepdim=True)


@pytest.fixture(scope="module")
def oom_model(tmp_path_factory):
    path = tmp_path_factory.mktemp("oom") / "oom.pt"
    meta = {"name": "oom above 8 frames", "arch": "test", "scale": 4, "temporal": True,
            "min_frames": 1, "min_size": [1, 1], "multiple": 1, "dtype": "float32"}
    torch.jit.save(torch.jit.script(OomAboveLimit(LIMIT)), str(path),
                   _extra_files={"vsrup.json": json.dumps(meta)})
    return path


def framemd5(path):
    out = path.with_suffix(".md5")
    ffmpeg("-i", path, "-map", "0:v", "-f", "framemd5", out)
    return [line.split(",")[-1].strip() for line in out.read_text().splitlines()
            if not line.startswith("#")]


def test_oom_in_forward_is_retried_smaller(tmp_path, oom_model):
    src = tmp_path / "src.mkv"
    ffmpeg("-i", MEDIA / "tree.avi", "-frames:v", 30, "-vf", "crop=64:48:100:100",
           "-an", "-c:v", "ffv1", src)
    common = ["-i", src, "-m", oom_model, "--codec", "ffv1", "--overlap", "2", "-y"]
    big, report = tmp_path / "big.mkv", tmp_path / "big.json"
    proc = vsrup(*common, "-o", big, "--chunk", 16, "--json", report)
    # chunk 16 (20 input frames) and 8 (12) fail; 4 (8) fits
    assert "out of GPU memory" in proc.stderr and "retrying" in proc.stderr, proc.stderr
    assert "CUDA out of memory" in proc.stderr  # the model's own line, not the interpreter's
    r = json.loads(report.read_text())
    assert r["oom_retries"] == 2 and r["chunk"] == 4, r
    assert r["frames_out"] == r["frames_in"] == 30
    small = tmp_path / "small.mkv"
    vsrup(*common, "-o", small, "--chunk", 4)
    assert framemd5(big) == framemd5(small)


def test_oom_on_a_one_frame_chunk_is_an_error(tmp_path):
    path = tmp_path / "always.pt"
    meta = {"name": "always oom", "arch": "test", "scale": 4, "temporal": False,
            "min_frames": 1, "min_size": [1, 1], "multiple": 1, "dtype": "float32"}
    torch.jit.save(torch.jit.script(OomAboveLimit(0)), str(path),
                   _extra_files={"vsrup.json": json.dumps(meta)})
    proc = vsrup("-i", MEDIA / "tree.avi", "-o", tmp_path / "o.mov", "-m", path,
                 "--frames", 3, check=False)
    assert proc.returncode == 1 and "out of memory" in proc.stderr, proc.stderr
