"""models/import_realesrgan.py: Real-ESRGAN x4plus (RRDBNet) and x4fast (SRVGGNetCompact)
from the ncnn release in ../shared/models/realesrgan-ncnn and from official-layout .pth
files, through the importer's command line, then through vsrup.

The official .pth files are not reachable from the test machines; official-layout files are
made here with random weights under basicsr's key names (written out below from the naming
of the official files, not from our modules), and from the ncnn weights with --write-pth.
x4plus has 16.7 M parameters: it only runs on crops of a few pixels here."""
import contextlib
import io
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from vsrtest import MEDIA, SHARED, SOURCE, VSRUP, decode_raw, ffmpeg, vsrup

IMPORTER = str(SOURCE / "models" / "import_realesrgan.py")
NCNN = SHARED / "models" / "realesrgan-ncnn"
sys.path.insert(0, str(SOURCE / "models"))
import import_realesrgan as rg  # noqa: E402

PARAMS = {"x4fast": 1_213_296, "x4plus": 16_697_987}  # official parameter counts


def ncnn_files(model):
    param, bin_ = NCNN / f"realesrgan-{model}.param", NCNN / f"realesrgan-{model}.bin"
    if not bin_.is_file():
        pytest.skip(f"{bin_} missing (../shared/models, set VSR_SHARED)")
    return str(param), str(bin_)


def run_importer(*args, cli=False):
    """The importer's command line: in this process (main(), which must catch every error
    itself), or as its own process when `cli` is set (what users run)."""
    if cli:
        return subprocess.run([sys.executable, IMPORTER, *map(str, args)], capture_output=True,
                              text=True)
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = rg.main(list(map(str, args)))
    return subprocess.CompletedProcess(args, code, "", err.getvalue())


def import_ok(*args, cli=False):
    result = run_importer(*args, cli=cli)
    assert result.returncode == 0, result.stderr
    return result


def load(path):
    extra = {"vsrup.json": ""}
    module = torch.jit.load(str(path), _extra_files=extra).eval()
    return module, json.loads(extra["vsrup.json"])


def crop(frame, x, y, w, h):
    """[h, w, 3] float in [0, 1] of a decoded Megamind.avi frame (ffmpeg CLI, rgb24)."""
    raw = subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-i", str(MEDIA / "Megamind.avi"),
                          "-vf", f"select=eq(n\\,{frame}),format=rgb24,crop={w}:{h}:{x}:{y}",
                          "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
                         check=True, capture_output=True).stdout
    return torch.from_numpy(np.frombuffer(raw, np.uint8).reshape(h, w, 3).copy()).float() / 255


def frames_of(*crops):
    """The contract's input [1, T, 3, H, W] from [H, W, 3] crops."""
    return torch.stack([c.permute(2, 0, 1) for c in crops]).unsqueeze(0)


def forward(module, x):
    with torch.no_grad():
        return module(x)


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    """Each ncnn model imported once through the CLI, with its official-layout .pth."""
    cache = {}

    def get(model):
        if model not in cache:
            folder = tmp_path_factory.mktemp(model)
            pt, pth = folder / f"realesrgan-{model}.pt", folder / f"{model}.pth"
            import_ok("--ncnn", *ncnn_files(model), "--output", pt, "--write-pth", pth, cli=True)
            cache[model] = pt, pth
        return cache[model]
    return get


# ------------------------------------------------------------------ the ncnn release

@pytest.mark.parametrize("model,network", [("x4fast", "srvgg"), ("x4plus", "rrdbnet")])
def test_ncnn_import_follows_the_contract(imported, model, network):
    module, meta = load(imported(model)[0])
    assert meta == {"name": f"realesrgan-{model}", "arch": "realesrgan", "network": network,
                    "scale": 4, "temporal": False, "min_frames": 1, "min_size": [1, 1],
                    "multiple": 1, "dtype": "float32", "fp32_modules": [],
                    "source": f"ncnn:realesrgan-{model}.param", "license": "BSD-3-Clause"}
    assert sum(p.numel() for p in module.parameters()) == PARAMS[model]


@pytest.mark.parametrize("model,window", [("x4fast", (100, 411, 217, 37, 23)),
                                          ("x4plus", (100, 420, 230, 10, 7))])
def test_torchscript_equals_the_ncnn_graph_on_a_real_crop(imported, model, window):
    """The exported module against the .param graph itself, run layer by layer with the .bin
    weights (the importer's interpreter), on a picture rather than noise."""
    layers = rg.read_param(ncnn_files(model)[0])
    rg.read_weights(layers, ncnn_files(model)[1])
    pixels = crop(*window)
    x = frames_of(pixels)
    module, _ = load(imported(model)[0])
    ours = forward(module, x)[0, 0]
    with torch.no_grad():
        graph = rg.run_ncnn(layers, x[0]).clamp(0, 1)[0]
    assert ours.shape == (3, 4 * window[4], 4 * window[3])
    assert graph.std() > 0.05, "a flat crop would prove little"
    assert (ours - graph).abs().max() <= 1e-4


def test_frames_run_as_one_batch(imported):
    module, _ = load(imported("x4fast")[0])
    a, b = crop(100, 400, 208, 24, 16), crop(200, 256, 288, 24, 16)
    both = forward(module, frames_of(a, b))
    assert both.shape == (1, 2, 3, 64, 96)
    # oneDNN may pick another kernel for batch 2: equal to rounding, not bit for bit
    assert (both[0, 1] - forward(module, frames_of(b))[0, 0]).abs().max() <= 1e-5
    assert 0 <= both.min() and both.max() <= 1


# ------------------------------------------------------------------ official .pth layout

def official_rrdbnet_keys(num_feat, num_block, grow):
    """basicsr RRDBNet(num_in_ch=3, num_out_ch=3, scale=4) names and shapes."""
    shapes = {"conv_first": (num_feat, 3)}
    for b in range(num_block):
        for r in (1, 2, 3):
            for c in range(1, 6):
                shapes[f"body.{b}.rdb{r}.conv{c}"] = (
                    num_feat if c == 5 else grow, num_feat + (c - 1) * grow)
    for name in ("conv_body", "conv_up1", "conv_up2", "conv_hr"):
        shapes[name] = (num_feat, num_feat)
    shapes["conv_last"] = (3, num_feat)
    return conv_state(shapes)


def official_srvgg_keys(num_feat, num_conv):
    """SRVGGNetCompact(num_in_ch=3, num_out_ch=3, upscale=4, act_type='prelu') names."""
    shapes = {"body.0": (num_feat, 3)}
    prelus = {"body.1": num_feat}
    for i in range(num_conv):
        shapes[f"body.{2 + 2 * i}"] = (num_feat, num_feat)
        prelus[f"body.{3 + 2 * i}"] = num_feat
    shapes[f"body.{2 * num_conv + 2}"] = (48, num_feat)
    state = conv_state(shapes)
    state.update({f"{k}.weight": 0.25 + 0.01 * torch.randn(n) for k, n in prelus.items()})
    return state


def conv_state(shapes):
    state = {}
    for name, (out, inp) in shapes.items():
        state[f"{name}.weight"] = torch.randn(out, inp, 3, 3) * (0.5 / (inp * 9) ** 0.5)
        state[f"{name}.bias"] = torch.randn(out) * 0.01
    return state


def save_official(path, state, layout="params_ema"):
    """As the release files: {'params_ema': ...} (x4plus), {'params': ...} (x4v3), or bare."""
    if layout == "bare":
        torch.save(state, path)
    else:
        torch.save({layout: state, **({"params": {k: v + 1 for k, v in state.items()}}
                                      if layout == "params_ema" else {})}, path)
    return path


@pytest.mark.parametrize("network,layout", [("rrdbnet", "params_ema"), ("srvgg", "params"),
                                            ("srvgg", "bare")])
def test_synthetic_official_file_round_trip(tmp_path, network, layout):
    """Random weights under the official names load exactly (params_ema preferred over params),
    and --write-pth gives a file that imports to the same model."""
    torch.manual_seed(3)
    state = official_rrdbnet_keys(8, 2, 4) if network == "rrdbnet" else official_srvgg_keys(8, 3)
    src = save_official(tmp_path / "official.pth", state, layout)
    import_ok("--pth", src, "--output", tmp_path / "a.pt", "--write-pth", tmp_path / "again.pth")
    module, meta = load(tmp_path / "a.pt")
    assert meta["network"] == network and meta["source"] == "official.pth"
    loaded = {k[len("net."):]: v for k, v in module.state_dict().items()}
    assert loaded.keys() == state.keys()
    assert all(torch.equal(loaded[k], v) for k, v in state.items())
    import_ok("--pth", tmp_path / "again.pth", "--output", tmp_path / "b.pt")
    again, _ = load(tmp_path / "b.pt")
    x = frames_of(crop(100, 400, 208, 12, 10))
    assert torch.equal(forward(module, x), forward(again, x))


@pytest.mark.parametrize("model", ["x4fast", "x4plus"])
def test_ncnn_to_pth_and_back_is_bit_identical(tmp_path, imported, model):
    pt, pth = imported(model)
    state = torch.load(pth, weights_only=True)["params_ema"]
    first = "conv_first.weight" if model == "x4plus" else "body.0.weight"
    assert first in state and all(v.dtype == torch.float32 for v in state.values())
    import_ok("--pth", pth, "--output", tmp_path / "from_pth.pt")
    a, _ = load(pt)
    b, _ = load(tmp_path / "from_pth.pt")
    sa, sb = a.state_dict(), b.state_dict()
    assert sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)
    if model == "x4fast":
        x = frames_of(crop(100, 400, 208, 32, 24))
        assert torch.equal(forward(a, x), forward(b, x))


# ------------------------------------------------------------------ precision

def test_fp16_export_keeps_ncnn_fp16_weights_exactly(tmp_path, imported):
    """The .bin stores conv weights in fp16, so the fp16 export holds them exactly. On the CPU
    torch 2.11 runs fp16 convolutions (slowly): the fp16 output must stay close to fp32."""
    import_ok("--ncnn", *ncnn_files("x4fast"), "--output", tmp_path / "h.pt",
              "--precision", "fp16")
    half, meta = load(tmp_path / "h.pt")
    full, _ = load(imported("x4fast")[0])
    assert meta["dtype"] == "float16"
    for (name, h), f in zip(half.state_dict().items(), full.state_dict().values()):
        assert h.dtype == torch.float16
        if name.endswith("weight") and h.dim() == 4:
            assert torch.equal(h.float(), f), name
    x = frames_of(crop(100, 400, 208, 24, 16))
    try:
        y16 = forward(half, x.half()).float()
    except RuntimeError as e:  # a CPU build without fp16 convolutions
        pytest.skip(f"fp16 forward unsupported on this CPU build ({e}); weights checked above")
    y32 = forward(full, x)
    mse = ((y16 - y32) ** 2).mean().item()
    assert 10 * np.log10(1 / mse) > 45, f"fp16 vs fp32 PSNR {10 * np.log10(1 / mse):.1f} dB"


# ------------------------------------------------------------------ refusals

def assert_refused(tmp_path, args, words, cli=False):
    out = tmp_path / "refused.pt"
    result = run_importer(*args, "--output", out, cli=cli)
    assert result.returncode == 1, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    for word in words:
        assert word in lines[0], lines[0]
    assert not out.exists() and not list(tmp_path.glob("refused.pt*"))


def edited_param(tmp_path, model, old, new):
    text = open(ncnn_files(model)[0], encoding="utf-8").read()
    assert old in text
    path = tmp_path / "edited.param"
    path.write_text(text.replace(old, new, 1))
    return str(path)


def test_refuses_a_file_that_is_not_a_checkpoint(tmp_path):
    (tmp_path / "notes.pth").write_text("not weights\n")
    assert_refused(tmp_path, ["--pth", tmp_path / "notes.pth"], ["not a PyTorch checkpoint"],
                   cli=True)


def test_refuses_mismatched_keys_listing_each_problem(tmp_path):
    state = official_rrdbnet_keys(8, 2, 4)
    del state["conv_hr.bias"]
    state["conv_extra.weight"] = torch.zeros(1)
    state["conv_up1.weight"] = torch.zeros(8, 8, 1, 1)
    save_official(tmp_path / "bad.pth", state)
    assert_refused(tmp_path, ["--pth", tmp_path / "bad.pth"],
                   ["missing keys (1): conv_hr.bias", "unexpected keys (1): conv_extra.weight",
                    "wrong shapes (1): conv_up1.weight file [8, 8, 1, 1] network [8, 8, 3, 3]"])


def test_refuses_other_architectures(tmp_path):
    torch.save({"params": {"generator.conv.weight": torch.zeros(3)}}, tmp_path / "other.pth")
    assert_refused(tmp_path, ["--pth", tmp_path / "other.pth"], ["neither RRDBNet"])
    x2 = official_rrdbnet_keys(8, 1, 4)
    x2["conv_first.weight"] = torch.zeros(8, 12, 3, 3)
    save_official(tmp_path / "x2.pth", x2)
    assert_refused(tmp_path, ["--pth", tmp_path / "x2.pth"], ["x2/x1"])
    relu = edited_param(tmp_path, "x4fast", "PReLU            PRelu_3 ",
                        "ReLU             PRelu_3 ")
    assert_refused(tmp_path, ["--ncnn", relu, ncnn_files("x4fast")[1]], ["layer kinds"])


def test_refuses_a_truncated_or_foreign_bin(tmp_path):
    param, bin_ = ncnn_files("x4fast")
    data = open(bin_, "rb").read()
    (tmp_path / "cut.bin").write_bytes(data[:len(data) // 2])
    assert_refused(tmp_path, ["--ncnn", param, tmp_path / "cut.bin"], ["truncated"])
    (tmp_path / "long.bin").write_bytes(data + bytes(8))
    assert_refused(tmp_path, ["--ncnn", param, tmp_path / "long.bin"], ["8 bytes left over"])
    other = ncnn_files("x4plus")[1]  # the other model's weights: tags out of step
    assert_refused(tmp_path, ["--ncnn", param, other], ["realesrgan-x4plus.bin", "weight tag"])


def test_refuses_a_graph_wired_differently(tmp_path):
    """Same layers and weights, but Conv_2 reads the first conv before its PReLU: only
    running the graph can tell."""
    param = edited_param(tmp_path, "x4fast", "1 1 105 106", "1 1 102 106")
    assert_refused(tmp_path, ["--ncnn", param, ncnn_files("x4fast")[1]],
                   ["computes something else"])
    bilinear = edited_param(tmp_path, "x4fast", "Resize_68                1 1 input_splitncnn_0 240 0=1",
                            "Resize_68                1 1 input_splitncnn_0 240 0=2")
    assert_refused(tmp_path, ["--ncnn", bilinear, ncnn_files("x4fast")[1]], ["only nearest"])


@pytest.mark.parametrize("args,message", [(["x8plus"], "unknown argument 'x8plus'"),
                                          (["--precision", "int8"], "fp32 or fp16")])
def test_fetch_script_refuses_bad_arguments(args, message):
    result = subprocess.run([str(SOURCE / "scripts" / "fetch-realesrgan.sh"), *args],
                            capture_output=True, text=True)
    assert result.returncode == 1 and message in result.stderr, result.stderr


# ------------------------------------------------------------------ against the peer

PEER_DATA = SOURCE / "tests" / "data" / "realesrgan"
PEER_CROP = (200, 288, 300, 32, 32)
PEER_MARGIN = 32  # output pixels at the border, where the two programs pad differently


@pytest.mark.parametrize("model,max_inside,mean_inside", [("x4fast", 3, 0.4),
                                                          ("x4plus", 8, 1.5)])
def test_agrees_with_realesrgan_ncnn_vulkan(imported, model, max_inside, mean_inside):
    """realesrgan-ncnn-vulkan's output for a bright 32x32 crop, made once with upscayl-bin
    on Mesa's CPU Vulkan driver (tests/data/realesrgan/README.md; running it here would take
    a minute or more a crop). It computes in fp16, so agreement is to a few 8-bit codes;
    its edge padding differs, so the border is left out of the strict check."""
    from PIL import Image
    stem = "f{}_{}_{}_{}x{}".format(*PEER_CROP)
    stored = np.asarray(Image.open(PEER_DATA / f"{stem}.png").convert("RGB"))
    pixels = crop(*PEER_CROP)
    assert np.array_equal(stored, (pixels * 255).round().byte().numpy()), "crop differs"
    peer = np.asarray(Image.open(PEER_DATA / f"{stem}_{model}.png").convert("RGB"))
    module, _ = load(imported(model)[0])
    ours = (forward(module, frames_of(pixels))[0, 0].permute(1, 2, 0) * 255).round()
    diff = np.abs(ours.numpy() - peer)
    inside = diff[PEER_MARGIN:-PEER_MARGIN, PEER_MARGIN:-PEER_MARGIN]
    assert inside.max() <= max_inside and inside.mean() <= mean_inside, \
        f"inside: max {inside.max()}, mean {inside.mean():.3f} codes"
    assert (diff.max(axis=2) <= 32).mean() >= 0.99, "more than 1 % of pixels far off"


# ------------------------------------------------------------------ through vsrup

W, H, FRAMES = 64, 48, 3


@pytest.mark.skipif(os.environ.get("VSR_HAVE_TORCH") == "0", reason="vsrup built without libtorch")
def test_vsrup_runs_x4fast_on_a_real_clip(tmp_path, imported):
    """vsrup with the imported x4fast on a lossless RGB crop of Megamind.avi equals the
    TorchScript module run here, frame by frame, within 2 codes of 16 bits."""
    if not os.path.exists(VSRUP):
        pytest.skip(f"no vsrup binary at {VSRUP} (build it; ctest sets VSRUP)")
    src = tmp_path / "src.mkv"
    ffmpeg("-i", MEDIA / "Megamind.avi", "-frames:v", FRAMES, "-vf",
           f"trim=start_frame=100,setpts=PTS-STARTPTS,crop={W}:{H}:400:208,format=gbrp",
           "-an", "-c:v", "ffv1", src)
    out = tmp_path / "out.mkv"
    vsrup("-i", src, "-o", out, "-m", imported("x4fast")[0], "-d", "cpu", "-c", "ffv1",
          "--pix-fmt", "gbrp16le", "-y", "-q")
    got = decode_raw(out, "gbrp16le", 4 * W, 4 * H, 3, np.uint16)[:, [2, 0, 1]]
    lr = decode_raw(src, "gbrp", W, H, 3, np.uint8)[:, [2, 0, 1]]
    module, _ = load(imported("x4fast")[0])
    want = forward(module, torch.from_numpy(lr.astype(np.float32) / 255).unsqueeze(0))[0]
    want = np.floor(want.numpy().astype(np.float64) * 65535 + 0.5)
    assert got.shape == want.shape == (FRAMES, 3, 4 * H, 4 * W)
    diff = np.abs(got.astype(np.float64) - want)
    assert diff.max() <= 2, f"max diff {diff.max()} (16-bit codes), mean {diff.mean():.4f}"
