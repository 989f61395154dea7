#!/usr/bin/env python3
"""Import a Real-ESRGAN x4 model (RRDBNet or SRVGGNetCompact) as a vsrup TorchScript model.

    .venv/bin/python models/import_realesrgan.py --pth RealESRGAN_x4plus.pth \\
        --output models/out/realesrgan-x4plus.pt
    .venv/bin/python models/import_realesrgan.py \\
        --ncnn ../shared/models/realesrgan-ncnn/realesrgan-x4fast.param \\
               ../shared/models/realesrgan-ncnn/realesrgan-x4fast.bin \\
        --output models/out/realesrgan-x4fast.pt [--precision fp16] [--write-pth x4fast.pth]

Sources:
- `--pth`: an official release file (weights under 'params_ema', 'params', or a bare state
  dict) with basicsr's key names; the network is sized from the shapes and the keys and
  shapes are then checked strictly.
- `--ncnn PARAM BIN`: the ncnn conversion shipped with realesrgan-ncnn-vulkan. The .param
  graph must be one of the two architectures (layer kinds and each convolution's settings
  are checked), the .bin is read layer by layer (fp16 or fp32 convolution weights behind
  ncnn's 4-byte tag, raw fp32 biases and PReLU slopes) and must be used exactly. Finally
  the graph itself is run by a small interpreter on a test input and must give what the
  torch module gives, so a graph wired differently from the module cannot pass.

`--write-pth FILE` writes the imported weights as an official-layout file ({'params_ema':
state dict}, float32), which `--pth` imports back to the same model. Errors are one line on
stderr, exit status 1; outputs are written under a temporary name and renamed.
"""
import argparse
import os
import re
import struct
import sys
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Mapping, Optional, Tuple

import numpy as np
import torch
from torch import nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from esrgan import VsrupESRGAN, upsample_nearest  # noqa: E402
from realesrgan import LEAKY_SLOPE, SCALE, RRDBNet, SRVGGNetCompact  # noqa: E402

if __package__ in (None, ""):
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from models.checkpoint import CheckpointError, read_checkpoint  # noqa: E402
from models.export import ExportError, apply_precision, save_scripted  # noqa: E402

LICENSE = "BSD-3-Clause"  # Real-ESRGAN's code and released weights
LIST_LIMIT = 6  # names shown per kind of key problem (the error stays one line)
NCNN_MAGIC = 7767517
NCNN_FP16_TAG = 0x01306B47
CHECK_SIZE = 8  # side of the test input the ncnn graph and the module must agree on
CHECK_TOLERANCE = 1e-4


class ModelFormatError(Exception):
    """Input this importer does not accept, with the reason (one line)."""


# ---------------------------------------------------------------- the two networks

def describe(net: nn.Module) -> str:
    if isinstance(net, RRDBNet):
        return (f"RRDBNet(num_feat={net.conv_first.out_channels}, num_block={len(net.body)}, "
                f"num_grow_ch={net.body[0].rdb1.conv1.out_channels})")
    return (f"SRVGGNetCompact(num_feat={net.body[0].out_channels}, "
            f"num_conv={(len(net.body) - 3) // 2})")


def network_name(net: nn.Module) -> str:
    return "rrdbnet" if isinstance(net, RRDBNet) else "srvgg"


def count_indices(keys, pattern: str) -> int:
    """Number of distinct values of the first group of `pattern` among the keys."""
    return len({m.group(1) for k in keys if (m := re.fullmatch(pattern, k))})


def shape_of(state: Mapping[str, torch.Tensor], key: str, what: str) -> Tuple[int, ...]:
    if key not in state:
        raise ModelFormatError(f"{what}: no '{key}' to size the network from")
    return tuple(state[key].shape)


def build_from_state(state: Mapping[str, torch.Tensor], what: str) -> nn.Module:
    """An untrained network of the size the official key names and shapes describe."""
    if "conv_first.weight" in state:
        first = shape_of(state, "conv_first.weight", what)
        if first[1] != 3:
            raise ModelFormatError(
                f"{what}: RRDBNet with {first[1]} input channels is an x2/x1 model (pixel-"
                f"unshuffled input); only x4 (3 input channels) is supported")
        grow = shape_of(state, "body.0.rdb1.conv1.weight", what)[0]
        return RRDBNet(first[0], count_indices(state, r"body\.(\d+)\.rdb1\.conv1\.weight"), grow)
    if "body.0.weight" in state and "body.1.weight" in state:
        last = max(int(m.group(1)) for k in state if (m := re.fullmatch(r"body\.(\d+)\.weight", k)))
        out = shape_of(state, f"body.{last}.weight", what)[0]
        if out != 3 * SCALE * SCALE:
            raise ModelFormatError(f"{what}: SRVGGNetCompact's last conv gives {out} channels, "
                                   f"x4 needs {3 * SCALE * SCALE}")
        return SRVGGNetCompact(shape_of(state, "body.0.weight", what)[0], (last - 2) // 2)
    raise ModelFormatError(f"{what}: neither RRDBNet (conv_first.*) nor SRVGGNetCompact "
                           f"(body.0.*, body.1.*) keys; first keys: {sorted(state)[:4]}")


def listing(title: str, items: List[str]) -> str:
    more = f", ... {len(items) - LIST_LIMIT} more" if len(items) > LIST_LIMIT else ""
    return f"{title} ({len(items)}): {', '.join(items[:LIST_LIMIT])}{more}"


def check_state(net: nn.Module, state: Mapping[str, torch.Tensor], what: str) -> None:
    """Strict: every parameter present with its shape, nothing else; one line listing all."""
    expected = net.state_dict()
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    shapes = [f"{k} file {list(state[k].shape)} network {list(v.shape)}"
              for k, v in expected.items() if k in state and state[k].shape != v.shape]
    problems = [listing(t, i) for t, i in (("missing keys", missing),
                                           ("unexpected keys", unexpected),
                                           ("wrong shapes", shapes)) if i]
    if problems:
        raise ModelFormatError(f"{what}: does not match {describe(net)}: {'; '.join(problems)}")


def load_state(net: nn.Module, state: Mapping[str, torch.Tensor], what: str) -> nn.Module:
    check_state(net, state, what)
    net.load_state_dict({k: v.float() for k, v in state.items()}, strict=True)
    return net.eval()


# ---------------------------------------------------------------- official .pth files

def read_pth(path: str) -> Dict[str, torch.Tensor]:
    """The state dict of a release file: 'params_ema', else 'params', else the file itself."""
    try:
        obj = read_checkpoint(path)
    except CheckpointError as e:
        raise ModelFormatError(str(e).splitlines()[0]) from e
    if not isinstance(obj, Mapping):
        raise ModelFormatError(f"{path}: holds a {type(obj).__name__}, not a state dict")
    state = obj.get("params_ema", obj.get("params", obj))
    if not isinstance(state, Mapping):
        raise ModelFormatError(f"{path}: 'params_ema'/'params' is a {type(state).__name__}")
    bad = [str(k) for k, v in state.items() if not isinstance(v, torch.Tensor)]
    if bad:
        raise ModelFormatError(f"{path}: entries that are not tensors: {bad[:LIST_LIMIT]} "
                               f"(top-level keys: {sorted(map(str, obj))[:LIST_LIMIT]})")
    return dict(state)


def import_pth(path: str) -> nn.Module:
    state = read_pth(path)
    return load_state(build_from_state(state, path), state, path)


def write_pth(net: nn.Module, path: str) -> None:
    """The official layout: {'params_ema': state dict}, float32, written via a temporary name."""
    state = {k: v.detach().float().contiguous().clone() for k, v in net.state_dict().items()}
    tmp = path + ".part"
    torch.save({"params_ema": state}, tmp)
    os.replace(tmp, path)


# ---------------------------------------------------------------- ncnn .param / .bin

@dataclass
class Layer:
    kind: str
    name: str
    inputs: List[str]
    outputs: List[str]
    params: Dict[int, object] = field(default_factory=dict)
    weights: List[torch.Tensor] = field(default_factory=list)

    def get(self, key: int, default):
        return self.params.get(key, default)


def parse_value(text: str):
    return float(text) if re.search(r"[.eE]", text) else int(text)


def parse_params(items: List[str], where: str) -> Dict[int, object]:
    """ncnn's k=v pairs; a key of -23300-k holds the array k as 'count,v1,v2,...'."""
    params: Dict[int, object] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            raise ModelFormatError(f"{where}: '{item}' is not key=value")
        k = int(key)
        if k <= -23300:
            count, *values = value.split(",")
            if int(count) != len(values):
                raise ModelFormatError(f"{where}: array {key} announces {count} values")
            params[-k - 23300] = [parse_value(v) for v in values]
        else:
            params[k] = parse_value(value)
    return params


def read_param(path: str) -> List[Layer]:
    """The layers of an ncnn .param text file, in file order."""
    with open(path, encoding="utf-8", errors="replace") as f:
        lines = [line.split() for line in f if line.strip()]
    if not lines or lines[0] != [str(NCNN_MAGIC)]:
        raise ModelFormatError(f"{path}: not an ncnn .param file (no magic {NCNN_MAGIC})")
    layers = []
    try:
        count = int(lines[1][0])
        for number, fields in enumerate(lines[2:], start=3):
            where = f"{path} line {number}"
            nin, nout = int(fields[2]), int(fields[3])
            blobs = fields[4:4 + nin + nout]
            layers.append(Layer(fields[0], fields[1], blobs[:nin], blobs[nin:],
                                parse_params(fields[4 + nin + nout:], where)))
    except (IndexError, ValueError) as e:
        raise ModelFormatError(f"{path}: malformed ncnn .param ({e})") from e
    if len(layers) != count:
        raise ModelFormatError(f"{path}: header says {count} layers, the file has {len(layers)}")
    return layers


class BinReader:
    """Sequential reads of an ncnn .bin, as ncnn's ModelBin does them."""

    def __init__(self, path: str):
        self.path = path
        with open(path, "rb") as f:
            self.data = f.read()
        self.offset = 0

    def take(self, size: int, what: str) -> bytes:
        if self.offset + size > len(self.data):
            raise ModelFormatError(f"{self.path}: truncated: {what} needs bytes {self.offset}.."
                                   f"{self.offset + size}, the file has {len(self.data)}")
        chunk = self.data[self.offset:self.offset + size]
        self.offset += size
        return chunk

    def raw_fp32(self, count: int, what: str) -> np.ndarray:
        return np.frombuffer(self.take(4 * count, what), dtype="<f4").copy()

    def tagged(self, count: int, what: str) -> np.ndarray:
        """A weight blob behind its 4-byte tag: fp16 (padded to 4 bytes) or raw fp32 (tag 0)."""
        (tag,) = struct.unpack("<I", self.take(4, what))
        if tag == NCNN_FP16_TAG:
            data = np.frombuffer(self.take(2 * count, what), dtype="<f2").astype(np.float32)
            self.take((-2 * count) % 4, what)
            return data
        if tag == 0:
            return self.raw_fp32(count, what)
        raise ModelFormatError(f"{self.path}: {what}: weight tag {tag:#010x} (int8 or quantised"
                               f" tables) is not supported, only fp16 and fp32")

    def finish(self) -> None:
        if self.offset != len(self.data):
            raise ModelFormatError(f"{self.path}: {len(self.data) - self.offset} bytes left over"
                                   f" after the last layer's weights (not this .param's .bin?)")




def check_conv(layer: Layer, where: str) -> None:
    """Only what the torch modules do: 3x3, stride 1, dilation 1, pad 1, bias, float."""
    get = layer.get
    kernel = get(1, 0)
    settings = {"kernel": (kernel, get(11, kernel)), "stride": (get(3, 1), get(13, get(3, 1))),
                "dilation": (get(2, 1), get(12, get(2, 1))), "pad": (get(4, 0), get(14, get(4, 0))),
                "bias": get(5, 0), "int8": get(8, 0)}
    wanted = {"kernel": (3, 3), "stride": (1, 1), "dilation": (1, 1), "pad": (1, 1),
              "bias": 1, "int8": 0}
    leaky = get(9, 0) == 2 and get(10, [None])[0] == LEAKY_SLOPE
    if settings != wanted or not (get(9, 0) == 0 or leaky):
        raise ModelFormatError(f"{where}: convolution {layer.name} has {settings}, activation "
                               f"{get(9, 0)} {get(10, [])}; expected {wanted} with no activation"
                               f" or LeakyReLU {LEAKY_SLOPE}")


def read_weights(layers: List[Layer], bin_path: str) -> None:
    """Fill each Convolution's [weight, bias] and each PReLU's [slope] from the .bin."""
    reader = BinReader(bin_path)
    for layer in layers:
        if layer.kind == "Convolution":
            check_conv(layer, bin_path)
            out = layer.get(0, 0)
            size = layer.get(6, 0)
            if out <= 0 or size % (out * 9):
                raise ModelFormatError(f"{layer.name}: weight_data_size {size} is not "
                                       f"{out} x in x 3 x 3")
            weight = reader.tagged(size, f"{layer.name} weights")
            bias = reader.raw_fp32(out, f"{layer.name} bias")
            layer.weights = [torch.from_numpy(weight).reshape(out, size // (out * 9), 3, 3),
                             torch.from_numpy(bias)]
        elif layer.kind == "PReLU":
            layer.weights = [torch.from_numpy(reader.raw_fp32(layer.get(0, 1),
                                                              f"{layer.name} slopes"))]
    reader.finish()


NCNN_KINDS = {"rrdbnet": {"Input", "Split", "Concat", "Convolution", "Eltwise", "BinaryOp",
                          "Interp"},
              "srvgg": {"Input", "Split", "Convolution", "PReLU", "PixelShuffle", "Interp",
                        "BinaryOp"}}


def build_from_layers(layers: List[Layer], where: str) -> nn.Module:
    """The network the ncnn graph describes (kinds of layers, counts and widths)."""
    kinds = {layer.kind for layer in layers}
    convs = [layer for layer in layers if layer.kind == "Convolution"]
    if not convs:
        raise ModelFormatError(f"{where}: no convolutions: not a Real-ESRGAN model")
    feat = convs[0].get(0, 0)
    if kinds <= NCNN_KINDS["srvgg"] and "PReLU" in kinds:
        if convs[-1].get(0, 0) != 3 * SCALE * SCALE:
            raise ModelFormatError(f"{where}: last convolution gives {convs[-1].get(0, 0)} "
                                   f"channels, x4 SRVGGNetCompact needs {3 * SCALE * SCALE}")
        return SRVGGNetCompact(feat, len(convs) - 2)
    if kinds <= NCNN_KINDS["rrdbnet"] and "Concat" in kinds:
        if (len(convs) - 6) % 15 or len(convs) < 21:
            raise ModelFormatError(f"{where}: {len(convs)} convolutions is not 6 + 15 per RRDB")
        return RRDBNet(feat, (len(convs) - 6) // 15, convs[1].get(0, 0))
    raise ModelFormatError(f"{where}: layer kinds {sorted(kinds)} are neither Real-ESRGAN's "
                           f"RRDBNet nor its SRVGGNetCompact")


def map_weights(net: nn.Module, layers: List[Layer], where: str) -> Dict[str, torch.Tensor]:
    """The module's state dict from the ncnn layers: convolutions and PReLUs in file order are
    the module's Conv2d and PReLU modules in definition order (the official export's order)."""
    modules = [(n, m) for n, m in net.named_modules() if isinstance(m, (nn.Conv2d, nn.PReLU))]
    weighted = [layer for layer in layers if layer.kind in ("Convolution", "PReLU")]
    if len(modules) != len(weighted):
        raise ModelFormatError(f"{where}: {len(weighted)} weighted layers, {describe(net)} has "
                               f"{len(modules)}")
    state: Dict[str, torch.Tensor] = {}
    for (name, module), layer in zip(modules, weighted):
        kind = "Convolution" if isinstance(module, nn.Conv2d) else "PReLU"
        if layer.kind != kind:
            raise ModelFormatError(f"{where}: layer {layer.name} is a {layer.kind} where "
                                   f"{describe(net)} has a {kind} ({name})")
        for key, value in zip(("weight", "bias"), layer.weights):
            state[f"{name}.{key}"] = value
    return state


# A minimal ncnn interpreter, only for the layer kinds above, to prove the graph computes what
# the module computes.
def run_conv(layer: Layer, xs: List[torch.Tensor]) -> torch.Tensor:
    y = F.conv2d(xs[0], layer.weights[0], layer.weights[1], padding=1)
    if layer.get(9, 0) == 2:
        y = F.leaky_relu(y, float(layer.get(10, [0.0])[0]))
    return y


def run_eltwise(layer: Layer, xs: List[torch.Tensor]) -> torch.Tensor:
    if layer.get(0, 1) != 1:
        raise ModelFormatError(f"Eltwise {layer.name}: operation {layer.get(0, 1)}, not a sum")
    coeffs = layer.get(1, [1.0] * len(xs))
    return sum(c * x for c, x in zip(coeffs, xs))


def run_binary(layer: Layer, xs: List[torch.Tensor]) -> torch.Tensor:
    if layer.get(0, 0) != 0 or len(xs) != 2:
        raise ModelFormatError(f"BinaryOp {layer.name}: operation {layer.get(0, 0)}, not add")
    return xs[0] + xs[1]


def run_interp(layer: Layer, xs: List[torch.Tensor]) -> torch.Tensor:
    scale = layer.get(1, 1.0)
    if layer.get(0, 0) != 1 or scale != layer.get(2, 1.0) or scale != int(scale):
        raise ModelFormatError(f"Interp {layer.name}: only nearest by an integer factor")
    return upsample_nearest(xs[0], int(scale))


def run_shuffle(layer: Layer, xs: List[torch.Tensor]) -> torch.Tensor:
    if layer.get(1, 0) != 0:
        raise ModelFormatError(f"PixelShuffle {layer.name}: mode {layer.get(1, 0)}")
    return F.pixel_shuffle(xs[0], layer.get(0, 1))


NCNN_OPS: Dict[str, Callable[[Layer, List[torch.Tensor]], torch.Tensor]] = {
    "Convolution": run_conv, "Eltwise": run_eltwise, "BinaryOp": run_binary,
    "Interp": run_interp, "PixelShuffle": run_shuffle,
    "PReLU": lambda layer, xs: F.prelu(xs[0], layer.weights[0]),
    "Concat": lambda layer, xs: torch.cat(xs, 1),
}


def run_ncnn(layers: List[Layer], x: torch.Tensor) -> torch.Tensor:
    blobs: Dict[str, torch.Tensor] = {}
    for layer in layers:
        if layer.kind == "Input":
            blobs[layer.outputs[0]] = x
        elif layer.kind == "Split":
            for name in layer.outputs:
                blobs[name] = blobs[layer.inputs[0]]
        else:
            blobs[layer.outputs[0]] = NCNN_OPS[layer.kind](layer,
                                                           [blobs[i] for i in layer.inputs])
    return blobs[layers[-1].outputs[0]]


def check_same_function(net: nn.Module, layers: List[Layer], where: str) -> None:
    x = torch.rand(1, 3, CHECK_SIZE, CHECK_SIZE, generator=torch.Generator().manual_seed(0))
    try:
        with torch.no_grad():
            want, got = run_ncnn(layers, x), net(x)
    except (KeyError, RuntimeError) as e:
        raise ModelFormatError(f"{where}: the ncnn graph does not run ({e})") from e
    diff = (want - got).abs().max().item() if want.shape == got.shape else float("inf")
    if diff > CHECK_TOLERANCE:
        raise ModelFormatError(f"{where}: the ncnn graph computes something else than "
                               f"{describe(net)} (max difference {diff:.3g} on a test input)")


def import_ncnn(param: str, bin_path: str) -> nn.Module:
    layers = read_param(param)
    net = build_from_layers(layers, param)
    read_weights(layers, bin_path)
    load_state(net, map_weights(net, layers, param), param)
    check_same_function(net, layers, param)
    return net


# ---------------------------------------------------------------- export

def metadata(name: str, net: nn.Module, source: str, dtype: str) -> dict:
    return {"name": name, "arch": "realesrgan", "network": network_name(net), "scale": SCALE,
            "temporal": False, "min_frames": 1, "min_size": [1, 1], "multiple": 1,
            "dtype": dtype, "fp32_modules": [], "source": source, "license": LICENSE}


def export(net: nn.Module, output: str, precision: str, name: str, source: str) -> dict:
    model = VsrupESRGAN(net, SCALE, 1.0)
    dtype = apply_precision(model, precision)
    meta = metadata(name, net, source, dtype)
    os.makedirs(os.path.dirname(os.path.abspath(output)), exist_ok=True)
    save_scripted(model, output, meta)
    return meta


def parse_args(argv: Optional[List[str]]) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--pth", metavar="FILE", help="official RealESRGAN_x4plus.pth or "
                     "realesr-general-x4v3.pth (or a file --write-pth wrote)")
    src.add_argument("--ncnn", nargs=2, metavar=("PARAM", "BIN"), help="ncnn .param and .bin")
    ap.add_argument("--output", required=True, help="TorchScript file to write")
    ap.add_argument("--precision", choices=("fp32", "fp16"), default="fp32")
    ap.add_argument("--name", help="model name in vsrup.json (default: output file stem)")
    ap.add_argument("--write-pth", metavar="FILE",
                    help="also write the weights as an official-layout .pth")
    return ap.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    name = args.name or os.path.splitext(os.path.basename(args.output))[0]
    try:
        if args.pth:
            net, source = import_pth(args.pth), os.path.basename(args.pth)
        else:
            net, source = import_ncnn(*args.ncnn), "ncnn:" + os.path.basename(args.ncnn[0])
        if args.write_pth:
            write_pth(net, args.write_pth)
        meta = export(net, args.output, args.precision, name, source)
    except (ModelFormatError, ExportError, OSError, ValueError) as e:
        print(f"import_realesrgan: error: {e}", file=sys.stderr)
        return 1
    params = sum(p.numel() for p in net.parameters())
    print(f"{args.output}: {describe(net)}, {params} parameters, {meta['dtype']}, from {source}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
