#!/usr/bin/env python3
"""Import an UpscalerJS ESRGAN model (TensorFlow.js layers-model JSON + binary weight shards)
as a vsrup TorchScript model.

    .venv/bin/python models/import_esrgan.py \\
        models/node_modules/@upscalerjs/esrgan-slim/models/x4/model.json \\
        models/out/esrgan-slim-x4.pt

The Keras graph is checked for the layer kinds and settings that models/esrgan.py
implements; every weight in the manifest must land in exactly one parameter of the same
size, so a model of another shape fails here instead of producing a wrong picture.
"""
import argparse
import json
import os
import re
import sys
from typing import Dict, List, Tuple

import numpy as np
import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from esrgan import RDN, RRDN, VsrupESRGAN  # noqa: E402

CONTRACT_DTYPE = "float32"
RRDN_BETA = 0.2  # UpscalerJS' MultiplyBeta layer; checked against the JSON below


class ModelFormatError(Exception):
    """A model.json this importer does not understand, with the reason."""


def read_layers_model(model_json: str) -> Tuple[List[dict], Dict[str, np.ndarray]]:
    """The Keras layer list and the named float32 weights of a TF.js layers model."""
    with open(model_json, encoding="utf-8") as f:
        model = json.load(f)
    if model.get("format") != "layers-model":
        raise ModelFormatError(
            f"{model_json}: format {model.get('format')!r}, expected layers-model")
    topology = model["modelTopology"]
    layers = topology.get("model_config", topology)["config"]["layers"]
    folder = os.path.dirname(model_json)
    weights = {}
    for group in model["weightsManifest"]:
        # A group's shards are one byte stream cut into files; weights follow in manifest order.
        data = b"".join(open(os.path.join(folder, p), "rb").read() for p in group["paths"])
        offset = 0
        for spec in group["weights"]:
            if spec["dtype"] != "float32" or "quantization" in spec:
                raise ModelFormatError(f"{model_json}: weight {spec['name']} is {spec['dtype']}"
                                   f"{' quantised' if 'quantization' in spec else ''};"
                                   " only plain float32 is supported")
            count = int(np.prod(spec["shape"]))
            array = np.frombuffer(data, dtype="<f4", count=count, offset=offset)
            weights[spec["name"]] = array.reshape(spec["shape"])
            offset += 4 * count
        if offset != len(data):
            raise ModelFormatError(f"{model_json}: shards {group['paths']} hold {len(data)} bytes,"
                               f" the manifest describes {offset}")
    return layers, weights


def check_layers(layers: List[dict]) -> None:
    """Refuse any layer kind or setting that models/esrgan.py does not reproduce."""
    for layer in layers:
        kind, cfg, name = layer["class_name"], layer["config"], layer["config"].get("name")
        if kind == "Conv2D":
            k = cfg["kernel_size"]
            ok = (cfg["strides"] == [1, 1] and cfg["dilation_rate"] == [1, 1]
                  and cfg.get("groups", 1) == 1 and cfg["activation"] == "linear"
                  and cfg["use_bias"] and cfg["data_format"] == "channels_last"
                  and k[0] == k[1] and k[0] % 2 == 1
                  and (cfg["padding"] == "same" or k == [1, 1]))
            if not ok:
                raise ModelFormatError(f"layer {name}: unsupported Conv2D settings {cfg}")
        elif kind == "Activation" and cfg["activation"] != "relu":
            raise ModelFormatError(f"layer {name}: activation {cfg['activation']}, expected relu")
        elif kind == "Concatenate" and cfg["axis"] not in (3, -1):
            raise ModelFormatError(f"layer {name}: concatenation on axis {cfg['axis']}")
        elif kind == "UpSampling2D" and cfg.get("interpolation", "nearest") != "nearest":
            raise ModelFormatError(f"layer {name}: {cfg['interpolation']} upsampling")
        elif kind == "MultiplyBeta" and cfg.get("beta", RRDN_BETA) != RRDN_BETA:
            raise ModelFormatError(f"layer {name}: beta {cfg['beta']}, expected {RRDN_BETA}")
        elif kind not in ("InputLayer", "Conv2D", "Activation", "Concatenate", "Add",
                          "UpSampling2D", "MultiplyBeta") and not re.fullmatch(
                              r"PixelShuffle\d+x", kind):
            raise ModelFormatError(f"layer {name}: unknown layer class {kind}")


def count_indices(weights: Dict[str, np.ndarray], pattern: str) -> int:
    """How many distinct values the single group of `pattern` takes among kernel names."""
    found = {m.group(1) for n in weights if (m := re.fullmatch(pattern + "/kernel", n))}
    return len(found)


def upscale_factor(layers: List[dict]) -> int:
    for layer in layers:
        if layer["class_name"] == "UpSampling2D":
            size = layer["config"]["size"]
            if size[0] != size[1]:
                raise ModelFormatError(f"layer {layer['config']['name']}: non-square upsampling")
            return size[0]
        if re.fullmatch(r"PixelShuffle\d+x", layer["class_name"]):
            return int(layer["config"].get("scale", layer["class_name"][12:-1]))
    raise ModelFormatError("no upsampling layer (UpSampling2D or PixelShuffle) in the model")


def build_rdn(weights: Dict[str, np.ndarray], scale: int) -> Tuple[nn.Module, Dict[str, str]]:
    """An RDN sized from the weights, and the Keras layer name of each of its convolutions."""
    blocks = count_indices(weights, r"LFF_(\d+)")
    layers = count_indices(weights, r"F_1_(\d+)")
    net = RDN(scale, blocks, layers, channels=weights["F_m1/kernel"].shape[3],
              growth=weights["F_1_1/kernel"].shape[3],
              up_channels=weights["UPN3/kernel"].shape[3])
    names = {"sfe1": "F_m1", "sfe2": "F_0", "gff1": "GFF_1", "gff2": "GFF_2",
             "up1": "UPN1", "up2": "UPN2", "up3": "UPN3", "sr": "SR"}
    for d in range(blocks):
        names[f"rdbs.{d}.lff"] = f"LFF_{d + 1}"
        for c in range(layers):
            names[f"rdbs.{d}.convs.{c}"] = f"F_{d + 1}_{c + 1}"
    return net, names


def build_rrdn(weights: Dict[str, np.ndarray], scale: int) -> Tuple[nn.Module, Dict[str, str]]:
    """An RRDN sized from the weights, and the Keras layer name of each of its convolutions."""
    rrdbs = count_indices(weights, r"F_(\d+)_1_1")
    blocks = count_indices(weights, r"F_1_(\d+)_1")
    layers = count_indices(weights, r"F_1_1_(\d+)")
    net = RRDN(scale, rrdbs, blocks, layers, channels=weights["Pre_blocks_conv/kernel"].shape[3],
               growth=weights["F_1_1_1/kernel"].shape[3], beta=RRDN_BETA)
    names = {"pre": "Pre_blocks_conv", "post": "post_blocks_conv",
             "pre_shuffle": "PreShuffle", "sr": "SR"}
    for t in range(rrdbs):
        for d in range(blocks):
            names[f"rrdbs.{t}.rdbs.{d}.lff"] = f"LFF_{t + 1}_{d + 1}"
            for c in range(layers):
                names[f"rrdbs.{t}.rdbs.{d}.convs.{c}"] = f"F_{t + 1}_{d + 1}_{c + 1}"
    return net, names


def depth_to_space_order(scale: int, colours: int) -> np.ndarray:
    """For each channel torch's pixel_shuffle reads (colour, row, column), the channel
    TensorFlow's depth_to_space reads for the same output pixel (row, column, colour)."""
    c, i, j = np.meshgrid(np.arange(colours), np.arange(scale), np.arange(scale), indexing="ij")
    return ((i * scale + j) * colours + c).reshape(-1)


def load_weights(net: nn.Module, names: Dict[str, str], weights: Dict[str, np.ndarray],
                 scale: int) -> None:
    """Copy each Keras kernel (H, W, in, out) into its torch conv (out, in, H, W)."""
    used = set()
    convs = {n: m for n, m in net.named_modules() if isinstance(m, nn.Conv2d)}
    if set(convs) != set(names):
        raise ModelFormatError(f"internal: convolutions {sorted(set(convs) ^ set(names))} unmapped")
    for module_name, conv in convs.items():
        keras = names[module_name]
        kernel = weights.get(f"{keras}/kernel")
        bias = weights.get(f"{keras}/bias")
        if kernel is None or bias is None:
            raise ModelFormatError(f"weights of layer {keras} are missing")
        kernel = kernel.transpose(3, 2, 0, 1)
        if module_name == "pre_shuffle":
            order = depth_to_space_order(scale, kernel.shape[0] // (scale * scale))
            kernel, bias = kernel[order], bias[order]
        if kernel.shape != tuple(conv.weight.shape) or bias.shape != tuple(conv.bias.shape):
            raise ModelFormatError(f"layer {keras}: kernel {kernel.shape} bias {bias.shape}, the"
                               f" network expects {tuple(conv.weight.shape)}")
        with torch.no_grad():
            conv.weight.copy_(torch.tensor(kernel))
            conv.bias.copy_(torch.tensor(bias))
        used.update((f"{keras}/kernel", f"{keras}/bias"))
    if set(weights) - used:
        raise ModelFormatError(f"weights not used by the network: {sorted(set(weights) - used)}")


def import_model(model_json: str) -> Tuple[VsrupESRGAN, dict]:
    """The contract module and the facts about it (arch, scale, pixel range, sizes)."""
    layers, weights = read_layers_model(model_json)
    check_layers(layers)
    scale = upscale_factor(layers)
    if "F_m1/kernel" in weights:
        net, names = build_rdn(weights, scale)
        arch, pixel_range = "rdn", 255.0  # UpscalerJS: inputRange/outputRange [0, 255]
    elif "Pre_blocks_conv/kernel" in weights:
        net, names = build_rrdn(weights, scale)
        arch, pixel_range = "rrdn", 1.0
    else:
        raise ModelFormatError(f"{model_json}: neither an RDN (F_m1) nor an RRDN (Pre_blocks_conv)")
    load_weights(net, names, weights, scale)
    model = VsrupESRGAN(net, scale, pixel_range).eval()
    params = sum(int(np.prod(w.shape)) for w in weights.values())
    return model, {"network": arch, "scale": scale, "parameters": params}


def package_of(model_json: str) -> Tuple[str, str]:
    """('name@version', licence) of the npm package holding model_json, kept in vsrup.json for
    attribution: the package's models/xN/model.json, or a copy as PACKAGE/xN/model.json with
    package.json beside xN (../shared/models/upscalerjs); empty strings outside a package."""
    folder = os.path.dirname(model_json)
    for up in (("..", ".."), ("..",)):
        try:
            with open(os.path.join(folder, *up, "package.json"), encoding="utf-8") as f:
                pkg = json.load(f)
            return f"{pkg['name']}@{pkg['version']}", pkg.get("license", "")
        except (OSError, KeyError, ValueError):
            continue
    return "", ""


def save_with_metadata(module: nn.Module, path: str, meta: dict) -> None:
    """Script `module` and save it with vsrup.json; written to a temporary name first so a
    failed export never leaves a half file under the final name."""
    scripted = torch.jit.script(module)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = path + ".tmp"
    torch.jit.save(scripted, tmp, _extra_files={"vsrup.json": json.dumps(meta)})
    os.replace(tmp, path)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("model_json", help="UpscalerJS models/xN/model.json (weights beside it)")
    ap.add_argument("output", help="TorchScript file to write, e.g. models/out/esrgan-slim-x4.pt")
    ap.add_argument("--name", help="model name in vsrup.json (default: output file stem)")
    args = ap.parse_args()
    try:
        model, facts = import_model(args.model_json)
    except (ModelFormatError, OSError, KeyError, ValueError) as e:
        print(f"import_esrgan: {e}", file=sys.stderr)
        return 1
    name = args.name or os.path.splitext(os.path.basename(args.output))[0]
    source, licence = package_of(args.model_json)
    meta = {"name": name, "arch": "esrgan", "scale": facts["scale"], "temporal": False,
            "min_frames": 1, "min_size": [1, 1], "multiple": 1, "dtype": CONTRACT_DTYPE,
            "fp32_modules": [], "network": facts["network"],
            "source": source, "license": licence}
    save_with_metadata(model, args.output, meta)
    print(f"{args.output}: {facts['network']} x{facts['scale']},"
          f" {facts['parameters']} parameters, from {source or args.model_json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
