"""TorchScript export: equals eager, plain ops only, metadata, fp16 layout."""

import json
import os
import subprocess
import sys
import zipfile

import pytest
import torch

SRC = os.environ.get("VSR_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, SRC)

from models.basicvsrpp import BasicVSRPlusPlus  # noqa: E402
from models.export import ExportError, save_scripted  # noqa: E402

EXPORT = os.path.join(SRC, "models", "export.py")
SEED, C, BLOCKS = 3, 16, 2


def export(tmp_path, *extra):
    out = str(tmp_path / "model.pt")
    subprocess.run([sys.executable, EXPORT, "--random-init", "--seed", str(SEED), "--mid-channels",
                    str(C), "--num-blocks", str(BLOCKS), "--output", out, *extra], check=True,
                   capture_output=True)
    return out


def load(path):
    extra = {"vsrup.json": ""}
    module = torch.jit.load(path, map_location="cpu", _extra_files=extra)
    return module, json.loads(extra["vsrup.json"])


@pytest.fixture(scope="module")
def fp32_model(tmp_path_factory):
    return export(tmp_path_factory.mktemp("fp32"))


def eager_model():
    torch.manual_seed(SEED)  # the CLI's --random-init builds the same weights
    return BasicVSRPlusPlus(C, BLOCKS).eval()


@pytest.mark.parametrize("t", [1, 3])
def test_scripted_equals_eager(fp32_model, t):
    scripted, _ = load(fp32_model)
    x = torch.rand(1, t, 3, 64, 80, generator=torch.Generator().manual_seed(t))
    with torch.no_grad():
        want = eager_model()(x)
        got = scripted(x)
    assert got.shape == (1, t, 3, 256, 320) and got.dtype == torch.float32
    err = (got - want).abs().max().item() / want.abs().max().item()
    assert err <= 1e-5, f"relative max error {err:.3g}"


def test_metadata(fp32_model):
    _, meta = load(fp32_model)
    assert meta == {"name": f"basicvsrpp_random_c{C}n{BLOCKS}_seed{SEED}", "arch": "basicvsrpp",
                    "scale": 4, "temporal": True, "min_frames": 1, "min_size": [64, 64],
                    "multiple": 1, "dtype": "float32", "fp32_modules": ["spynet"]}


def test_archive_has_no_custom_ops(fp32_model):
    with zipfile.ZipFile(fp32_model) as z:
        code = "".join(z.read(n).decode() for n in z.namelist() if n.endswith(".py"))
    assert "grid_sample" in code  # the code was really read
    for name in ("torchvision", "mmcv"):
        assert name not in code


def test_loads_and_runs_without_torchvision(fp32_model):
    probe = ("import sys, torch\n"
             f"m = torch.jit.load({fp32_model!r})\n"
             "y = m(torch.rand(1, 2, 3, 64, 64))\n"
             "assert y.shape == (1, 2, 3, 256, 256), y.shape\n"
             "assert 'torchvision' not in sys.modules\n"
             "print('ok')\n")
    r = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr


def test_custom_ops_are_refused(tmp_path):
    tv_ops = pytest.importorskip("torchvision.ops")

    class UsesTorchvision(torch.nn.Module):
        def forward(self, x, offset):
            return tv_ops.deform_conv2d(x, offset, torch.ones(1, 1, 3, 3), padding=(1, 1))

    meta = {"name": "x", "arch": "x", "scale": 1, "temporal": False, "min_frames": 1,
            "min_size": [1, 1], "multiple": 1, "dtype": "float32"}
    out = tmp_path / "bad.pt"
    with pytest.raises(ExportError, match="torchvision::deform_conv2d"):
        save_scripted(UsesTorchvision(), str(out), meta)
    assert not out.exists()
    with pytest.raises(ExportError, match="lacks"):
        save_scripted(torch.nn.Identity(), str(out), {"name": "x"})


def test_fp16_export(tmp_path):
    scripted, meta = load(export(tmp_path, "--precision", "fp16"))
    assert meta["dtype"] == "float16"
    for name, p in scripted.named_parameters():
        want = torch.float32 if name.startswith("spynet.") else torch.float16
        assert p.dtype == want, name
    x = torch.rand(1, 2, 3, 64, 64).half()
    try:
        with torch.no_grad():
            y = scripted(x)
    except RuntimeError as e:
        if "Half" in str(e):
            pytest.skip(f"this torch {torch.__version__} has no float16 conv on CPU: {e}"[:200])
        raise
    assert y.dtype == torch.float16 and torch.isfinite(y).all()


def test_mixed_precision_dataflow_bfloat16():
    """The engine's setup (module.to(low); spynet.float()) with a dtype CPU
    convolutions support: casts between SPyNet, flows, offsets and features
    must all line up, and the result must stay close to float32."""
    model = eager_model()
    x = torch.rand(1, 3, 3, 64, 64, generator=torch.Generator().manual_seed(9))
    with torch.no_grad():
        want = model(x)
        model.to(torch.bfloat16)
        model.spynet.float()
        try:
            got = torch.jit.script(model)(x.to(torch.bfloat16))
        except RuntimeError as e:
            pytest.skip(f"no bfloat16 convolution on this CPU build: {e}"[:200])
    assert got.dtype == torch.bfloat16
    err = (got.float() - want).abs().max().item() / want.abs().max().item()
    assert err <= 5e-2, f"relative max error {err:.3g}"
