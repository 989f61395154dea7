"""models/import_esrgan.py against the original: our TorchScript export of each UpscalerJS
model must give TensorFlow.js's own output (tests/tfjs_reference.mjs, pure-JS CPU backend) for
the same real picture, a crop of Megamind.avi, to 1e-4 of the [0, 1] range.

The weights and TensorFlow.js's outputs are in ../shared/models/upscalerjs (its README says how
they were made; the npm registry is not reachable from the test machines). The crops are cut
again here with the ffmpeg CLI and must equal the stored inputs byte for byte, so the reference
outputs are known to belong to these pixels."""
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
import torch

SOURCE = os.environ.get("VSR_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
SHARED = os.environ.get("VSR_SHARED", os.path.join(SOURCE, "..", "shared"))
MODELS = os.path.join(SOURCE, "models")
IMPORTER = os.path.join(MODELS, "import_esrgan.py")
UPSCALERJS = os.path.join(SHARED, "models", "upscalerjs")
REFERENCES = os.path.join(UPSCALERJS, "tfjs-reference")
CLIP = os.path.join(SHARED, "media", "Megamind.avi")
TOLERANCE = 1e-4  # of the [0, 1] output range

# Bright, detailed windows of Megamind.avi (frame, x, y); the odd size checks padding and
# upsampling at borders that are not multiples of anything.
SQUARE = (100, 400, 208, 64, 64)
ODD = (100, 411, 217, 37, 23)
SECOND_FRAME = (200, 256, 288, 64, 64)


def model_json(size, scale):
    return os.path.join(UPSCALERJS, f"esrgan-{size}", f"x{scale}", "model.json")


def require_weights(size):
    if not os.path.isdir(os.path.join(UPSCALERJS, f"esrgan-{size}")):
        pytest.skip(f"{UPSCALERJS}/esrgan-{size} missing (../shared/models)")


def crop(tmp_path, frame, x, y, w, h):
    """w x h rgb24 pixels of one decoded frame (converted to RGB before cropping, so odd
    offsets and sizes are not rounded to the 4:2:0 chroma grid)."""
    out = tmp_path / f"f{frame}_{x}_{y}_{w}x{h}.rgb"
    subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-i", CLIP, "-vf",
                    f"select=eq(n\\,{frame}),format=rgb24,crop={w}:{h}:{x}:{y}", "-frames:v", "1",
                    "-f", "rawvideo", "-pix_fmt", "rgb24", "-y", str(out)], check=True)
    pixels = np.fromfile(out, dtype=np.uint8)
    assert pixels.size == w * h * 3, f"ffmpeg gave {pixels.size} bytes for {w}x{h}"
    return out, pixels.reshape(h, w, 3)


def tfjs_upscale(tmp_path, size, scale, rgb_file, w, h):
    """TensorFlow.js's output for the crop in rgb_file, as stored in shared/."""
    stored = os.path.join(REFERENCES, rgb_file.name)
    with open(stored, "rb") as f:
        assert f.read() == rgb_file.read_bytes(), f"{rgb_file.name}: crop differs from {stored}"
    out = os.path.join(REFERENCES, f"{rgb_file.stem}_{size}_x{scale}.f32")
    return np.fromfile(out, dtype=np.float32).reshape(h * scale, w * scale, 3)


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """Import on first use, one TorchScript file per (size, scale), through the CLI."""
    cache = {}

    def get(size, scale):
        if (size, scale) not in cache:
            path = tmp_path_factory.mktemp("esrgan") / f"esrgan-{size}-x{scale}.pt"
            subprocess.run([sys.executable, IMPORTER, model_json(size, scale), str(path)],
                           check=True)
            extra = {"vsrup.json": ""}
            module = torch.jit.load(str(path), _extra_files=extra)
            cache[(size, scale)] = (module, json.loads(extra["vsrup.json"]))
        return cache[(size, scale)]
    return get


def run_torch(module, frames):
    """frames: list of HxWx3 uint8 -> list of sHxsWx3 float in [0, 1], one call with T frames."""
    x = torch.from_numpy(np.stack(frames)).permute(0, 3, 1, 2).float().div(255).unsqueeze(0)
    with torch.no_grad():
        y = module(x)
    assert y.dim() == 5 and y.shape[:3] == (1, len(frames), 3)
    return [f.permute(1, 2, 0).numpy() for f in y[0]]


@pytest.mark.parametrize("size,scale,window", [
    ("slim", 4, SQUARE), ("slim", 4, ODD), ("slim", 2, ODD), ("slim", 3, ODD),
    ("medium", 4, SQUARE), ("medium", 4, ODD),
    ("thick", 4, ODD),  # 7.3 M parameters: about 20 s in pure-JS TensorFlow
])
def test_matches_tensorflow_js(tmp_path, exported, size, scale, window):
    require_weights(size)
    rgb_file, pixels = crop(tmp_path, *window)
    w, h = window[3], window[4]
    reference = np.clip(tfjs_upscale(tmp_path, size, scale, rgb_file, w, h), 0.0, 1.0)
    module, _ = exported(size, scale)
    (ours,) = run_torch(module, [pixels])
    assert ours.shape == reference.shape
    # A picture, not a flat field: otherwise agreement would prove little.
    assert reference.std() > 0.05, f"reference output too flat (std {reference.std():.3f})"
    diff = np.abs(ours - reference).max()
    assert diff <= TOLERANCE, f"esrgan-{size} x{scale} {w}x{h}: max |torch - tfjs| = {diff:.3g}"


def test_frames_run_as_one_batch(tmp_path, exported):
    """T frames in one call give each frame's own TensorFlow.js result."""
    require_weights("slim")
    module, _ = exported("slim", 4)
    crops = [crop(tmp_path, *window) for window in (SQUARE, SECOND_FRAME)]
    ours = run_torch(module, [pixels for _, pixels in crops])
    for (rgb_file, _), mine in zip(crops, ours):
        reference = np.clip(tfjs_upscale(tmp_path, "slim", 4, rgb_file, 64, 64), 0.0, 1.0)
        assert np.abs(mine - reference).max() <= TOLERANCE


def test_optimised_for_inference_gives_the_same_picture(tmp_path, exported):
    """The engine freezes and optimises the module (MKLDNN on CPU in torch 1.13), which once
    turned the final clamp into wrong values (pytorch/pytorch#86556)."""
    require_weights("slim")
    module, _ = exported("slim", 4)
    _, pixels = crop(tmp_path, *ODD)
    optimised = torch.jit.optimize_for_inference(torch.jit.freeze(module.eval()))
    (plain,) = run_torch(module, [pixels])
    (fast,) = run_torch(optimised, [pixels])
    assert np.abs(plain - fast).max() <= TOLERANCE


def test_metadata_follows_the_contract(exported):
    require_weights("slim")
    _, meta = exported("slim", 4)
    assert meta == {"name": "esrgan-slim-x4", "arch": "esrgan", "scale": 4, "temporal": False,
                    "min_frames": 1, "min_size": [1, 1], "multiple": 1, "dtype": "float32",
                    "fp32_modules": [], "network": "rdn",
                    "source": "@upscalerjs/esrgan-slim@1.0.0", "license": "MIT"}


def test_refuses_quantised_weights(tmp_path):
    """UpscalerJS could ship uint8-quantised weights; importing them as float must fail."""
    require_weights("slim")
    folder = tmp_path / "x4"
    shutil.copytree(os.path.dirname(model_json("slim", 4)), folder)
    with open(folder / "model.json", encoding="utf-8") as f:
        model = json.load(f)
    model["weightsManifest"][0]["weights"][0]["quantization"] = {"dtype": "uint8"}
    with open(folder / "model.json", "w", encoding="utf-8") as f:
        json.dump(model, f)
    result = subprocess.run([sys.executable, IMPORTER, str(folder / "model.json"),
                             str(tmp_path / "out.pt")], capture_output=True, text=True)
    assert result.returncode == 1
    assert "quantised" in result.stderr
    assert not (tmp_path / "out.pt").exists()


# scripts/quality.py's metrics, against ffmpeg's psnr filter and SSIM written out window by
# window from Wang et al.'s definition.
sys.path.insert(0, os.path.join(SOURCE, "scripts"))
import quality  # noqa: E402


def test_psnr_matches_ffmpeg(tmp_path):
    clip, _ = crop(tmp_path, *SQUARE)
    pixels = np.fromfile(clip, dtype=np.uint8).reshape(64, 64, 3)
    noisy = np.clip(pixels.astype(int) + np.random.default_rng(1).integers(-9, 10, pixels.shape),
                    0, 255).astype(np.uint8)
    noisy_file = tmp_path / "noisy.rgb"
    noisy.tofile(noisy_file)
    raw = ["-f", "rawvideo", "-pix_fmt", "rgb24", "-s", "64x64", "-i"]
    log = subprocess.run(["ffmpeg", "-v", "info", "-nostdin", *raw, str(noisy_file),
                          *raw, str(clip), "-lavfi", "psnr", "-f", "null", "-"],
                         check=True, capture_output=True, text=True).stderr
    expected = float(log.split("average:")[1].split()[0])
    ours = quality.psnr(*(torch.from_numpy(p).permute(2, 0, 1).float().unsqueeze(0)
                          for p in (pixels, noisy))).item()
    assert abs(ours - expected) < 0.01, f"psnr {ours:.4f}, ffmpeg {expected:.4f}"


def test_ssim_matches_the_definition():
    rng = np.random.default_rng(2)
    a = rng.uniform(0, 255, (1, 1, 19, 23))
    b = np.clip(0.7 * a + rng.normal(20, 15, a.shape), 0, 255)
    x = np.arange(11) - 5.0
    g = np.exp(-x ** 2 / (2 * 1.5 ** 2))
    w = np.outer(g, g) / np.outer(g, g).sum()
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    values = []
    for i in range(19 - 10):
        for j in range(23 - 10):
            pa, pb = a[0, 0, i:i + 11, j:j + 11], b[0, 0, i:i + 11, j:j + 11]
            ma, mb = (w * pa).sum(), (w * pb).sum()
            va, vb = (w * (pa - ma) ** 2).sum(), (w * (pb - mb) ** 2).sum()
            cov = (w * (pa - ma) * (pb - mb)).sum()
            values.append((2 * ma * mb + c1) * (2 * cov + c2)
                          / ((ma ** 2 + mb ** 2 + c1) * (va + vb + c2)))
    expected = np.mean(values)
    ours = quality.ssim(torch.from_numpy(a), torch.from_numpy(b)).item()
    assert 0.1 < expected < 0.9 and abs(ours - expected) < 1e-6, f"ssim {ours}, expected {expected}"
