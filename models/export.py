"""Export a network as a vsrup TorchScript model (the model contract in
DESIGN.md): torch.jit.script, never trace, with a 'vsrup.json' extra file.

The generic part (apply_precision, save_scripted) serves every architecture;
main() exports BasicVSR++:

  .venv/bin/python models/export.py --checkpoint CKPT --output MODEL.pt [--precision fp16]
  .venv/bin/python models/export.py --random-init --seed 1 --mid-channels 16 \\
      --num-blocks 2 --output tiny.pt
"""

import argparse
import json
import os
import sys
from typing import Dict, Iterable, List, Optional

import torch
from torch import nn

if __package__ in (None, ""):  # run as a script: make the 'models' package importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from models.basicvsrpp import BasicVSRPlusPlus  # noqa: E402
from models.checkpoint import CheckpointError, load_weights  # noqa: E402

REQUIRED_METADATA = ("name", "arch", "scale", "temporal", "min_frames", "min_size", "multiple",
                     "dtype")
PRECISIONS = {"fp32": (torch.float32, "float32"), "fp16": (torch.float16, "float16")}
# Operator namespaces bare libtorch provides; anything else (torchvision::,
# mmcv::) would fail to load in the engine.
CORE_NAMESPACES = ("aten", "prim")


class ExportError(Exception):
    """The module cannot be exported as a vsrup model."""


def apply_precision(module: nn.Module, precision: str, fp32_modules: Iterable[str] = ()) -> str:
    """Convert module in place to precision ('fp32' or 'fp16'), keeping the
    named submodules in float32; returns the vsrup.json dtype string."""
    if precision not in PRECISIONS:
        raise ExportError(f"precision must be one of {sorted(PRECISIONS)}, got '{precision}'")
    dtype, name = PRECISIONS[precision]
    module.to(dtype)
    for sub in fp32_modules:
        module.get_submodule(sub).float()
    return name


def _foreign_ops(graph: torch._C.Graph) -> List[str]:
    found: List[str] = []
    for node in graph.nodes():
        if node.kind().split("::")[0] not in CORE_NAMESPACES:
            found.append(node.kind())
        for block in node.blocks():
            found += _foreign_ops(block)
    return found


def save_scripted(module: nn.Module, output: str,
                  metadata: Dict[str, object]) -> torch.jit.ScriptModule:
    """Script module (in eval mode) and save it to output with vsrup.json.

    Refuses metadata without the contract's keys and graphs calling operators
    outside aten/prim. Writes to a temporary name and renames, so a failed
    export leaves no half-written model.
    """
    missing = [k for k in REQUIRED_METADATA if k not in metadata]
    if missing:
        raise ExportError(f"vsrup.json lacks {missing}")
    module.eval()
    scripted = torch.jit.script(module)
    foreign = sorted(set(_foreign_ops(scripted.inlined_graph)))
    if foreign:
        raise ExportError(f"{output}: the scripted forward uses non-core operators {foreign}; "
                          f"bare libtorch could not load it")
    tmp = output + ".part"
    torch.jit.save(scripted, tmp, _extra_files={"vsrup.json": json.dumps(metadata, sort_keys=True)})
    os.replace(tmp, output)
    return scripted


def basicvsrpp_metadata(name: str, dtype: str) -> Dict[str, object]:
    """vsrup.json for BasicVSR++.

    min_frames 1: T = 1 runs without flow. min_size 64x64: the reference
    refuses smaller inputs (SPyNet's six-level pyramid is trained on them);
    the engine pads. multiple 1: SPyNet pads to 32 internally.
    """
    return {"name": name, "arch": "basicvsrpp", "scale": 4, "temporal": True, "min_frames": 1,
            "min_size": [64, 64], "multiple": 1, "dtype": dtype, "fp32_modules": ["spynet"]}


def _parse(argv: Optional[List[str]]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Export BasicVSR++ as a vsrup TorchScript model.")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--checkpoint", help="official/mmagic .pth or a bare state dict")
    src.add_argument("--random-init", action="store_true", help="untrained weights (tests)")
    p.add_argument("--output", required=True, help="TorchScript file to write")
    p.add_argument("--precision", choices=sorted(PRECISIONS), default="fp32")
    p.add_argument("--seed", type=int, default=0, help="seed for --random-init")
    p.add_argument("--mid-channels", type=int, default=64)
    p.add_argument("--num-blocks", type=int, default=7)
    p.add_argument("--name", help="model name in vsrup.json (default: from the file name)")
    p.add_argument("--trust-checkpoint", action="store_true",
                   help="allow arbitrary pickled objects in the checkpoint (trusted files only)")
    return p.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    args = _parse(argv)
    if args.random_init:
        torch.manual_seed(args.seed)
    try:
        model = BasicVSRPlusPlus(args.mid_channels, args.num_blocks)
        if args.checkpoint:
            load_weights(model, args.checkpoint, args.trust_checkpoint)
            name = args.name or os.path.splitext(os.path.basename(args.checkpoint))[0]
        else:
            name = args.name or (f"basicvsrpp_random_c{args.mid_channels}n{args.num_blocks}"
                                 f"_seed{args.seed}")
        dtype = apply_precision(model, args.precision, ["spynet"])
        save_scripted(model, args.output, basicvsrpp_metadata(name, dtype))
    except (CheckpointError, ExportError, ValueError, OSError) as e:
        print(f"export.py: error: {e}", file=sys.stderr)
        return 1
    print(f"export.py: wrote {args.output} ({name}, {dtype})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
