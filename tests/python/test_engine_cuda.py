"""The TorchScript engine on a CUDA device, against the Python reference on the CPU.

Needs a GPU, a PyTorch with CUDA and a vsrup built against a CUDA libtorch (what
scripts/gpu-bench.sh builds); everywhere else the whole file is skipped, saying why.
FP32 on the GPU differs from the CPU only by kernel rounding; FP16 is compared by PSNR,
which is printed (pytest -s, or the ctest log with --output-on-failure) for docs/QUALITY.md.
"""
import os

import numpy as np
import pytest

from vsrtest import MEDIA

torch = pytest.importorskip("torch")
if os.environ.get("VSR_HAVE_TORCH") == "0":
    pytest.skip("vsrup was built without libtorch", allow_module_level=True)
if not torch.cuda.is_available():
    pytest.skip("no CUDA device: the GPU tests run on a GPU machine (scripts/gpu-bench.sh)",
                allow_module_level=True)

from test_engine_e2e import export_tiny, read_rgb, reference, rgb_clip, run_vsrup  # noqa: E402


def psnr(a, b):
    """PSNR in dB of two arrays of 16-bit codes."""
    mse = np.mean((a - b) ** 2)
    return float("inf") if mse == 0 else 10 * np.log10(65535.0 ** 2 / mse)


@pytest.fixture(scope="module")
def case(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cuda")
    model = export_tiny(folder / "tiny.pt")
    src = rgb_clip(folder / "src.mkv", MEDIA / "vtest.avi", 17, "64:48:400:300")
    want = reference(model, read_rgb(src), [], 6, 3)
    return folder, model, src, want


@pytest.mark.parametrize("precision,floor_db", [("fp32", 60.0), ("fp16", 35.0)])
def test_cuda_matches_the_cpu_reference(case, precision, floor_db):
    folder, model, src, want = case
    for graphs in ((), ("--cuda-graphs",)):
        got = run_vsrup(src, folder / f"{precision}{len(graphs)}.mkv", model, "-d", "cuda",
                        "--precision", precision, "--chunk", "6", "--overlap", "3",
                        "--scene-cuts", "off", *graphs)
        assert got.shape == want.shape
        db = psnr(got, want)
        print(f"CUDA {precision}{' with CUDA graphs' if graphs else ''} vs CPU FP32 reference: "
              f"PSNR {db:.1f} dB, max {np.abs(got - want).max():.0f} codes")
        assert db >= floor_db
