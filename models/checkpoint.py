"""Loading trained weights into a network, strictly.

Accepted layouts (see shared/spec/basicvsrpp.md §6):
- official mmedit 0.x files: {'meta', 'state_dict': {'step_counter', 'generator.*'}};
- mmagic 1.x / mmengine files: the same 'state_dict' plus other top-level
  entries ('message_hub', ...) and 'data_preprocessor.*' buffers;
- bare state dicts, with or without a 'module.' (DataParallel) prefix.

Files are read with torch.load(weights_only=True) whatever the PyTorch
default is (it changed to True in 2.6): a file that needs arbitrary pickled
objects is refused unless the caller says it trusts it.
"""

import os
import pickle
import zipfile
from typing import Dict, List, Mapping

import torch
from torch import Tensor, nn

# Restorer-level entries that are not network weights.
_IGNORED_KEYS = ("step_counter",)
_IGNORED_PREFIXES = ("data_preprocessor.",)
_LIST_LIMIT = 20


class CheckpointError(Exception):
    """A file that is not a usable checkpoint for the network."""


def _looks_like_torch_file(path: str) -> bool:
    """torch.save writes a zip archive or, in the legacy format, a protocol-2
    pickle stream that starts with its 10-byte magic number."""
    if zipfile.is_zipfile(path):
        return True
    with open(path, "rb") as f:
        return f.read(4) == b"\x80\x02\x8a\x0a"


def read_checkpoint(path: str, trust: bool = False) -> object:
    """torch.load on CPU, tensors-only unless trust is set."""
    if not os.path.isfile(path):
        raise CheckpointError(f"{path}: no such file")
    if not _looks_like_torch_file(path):
        raise CheckpointError(f"{path}: not a PyTorch checkpoint (neither a torch zip archive "
                              f"nor a legacy torch.save stream)")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as e:
        if not trust:
            raise CheckpointError(
                f"{path}: holds Python objects besides tensors, so it was not unpickled "
                f"(that could run code). Use --trust-checkpoint only for a file from a source "
                f"you trust, e.g. a verified official download. Detail: {e}") from e
    except Exception as e:  # torch raises RuntimeError, EOFError, ... on damage
        raise CheckpointError(f"{path}: not a readable PyTorch checkpoint: {e}") from e
    try:
        return torch.load(path, map_location="cpu", weights_only=False)
    except Exception as e:
        raise CheckpointError(f"{path}: not a readable PyTorch checkpoint: {e}") from e


def network_state(obj: object, path: str) -> Dict[str, Tensor]:
    """The network's own entries of a loaded checkpoint, prefixes removed."""
    if not isinstance(obj, Mapping):
        raise CheckpointError(f"{path}: holds a {type(obj).__name__}, not a state dict")
    state = obj.get("state_dict", obj)
    if not isinstance(state, Mapping):
        raise CheckpointError(f"{path}: 'state_dict' is a {type(state).__name__}, not a dict")
    has_generator = any(str(k).startswith("generator.") for k in state)
    out: Dict[str, Tensor] = {}
    for key, value in state.items():
        key = str(key)
        if key in _IGNORED_KEYS or key.startswith(_IGNORED_PREFIXES):
            continue
        if has_generator and key.startswith("generator."):
            key = key[len("generator."):]
        if key.startswith("module."):
            key = key[len("module."):]
        if not isinstance(value, Tensor):
            raise CheckpointError(f"{path}: entry '{key}' is a {type(value).__name__}, "
                                  f"not a tensor (top-level keys: {sorted(map(str, obj))})")
        out[key] = value
    return out


def _listing(title: str, items: List[str]) -> str:
    shown = items[:_LIST_LIMIT]
    more = f"\n    ... and {len(items) - len(shown)} more" if len(items) > len(shown) else ""
    return f"  {title} ({len(items)}):\n    " + "\n    ".join(shown) + more


def check_state(model: nn.Module, state: Mapping[str, Tensor], path: str) -> None:
    """Raise CheckpointError listing missing, unexpected and wrongly shaped keys."""
    expected = model.state_dict()
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    shapes = [f"{k}: file {tuple(state[k].shape)}, network {tuple(v.shape)}"
              for k, v in expected.items() if k in state and state[k].shape != v.shape]
    if not (missing or unexpected or shapes):
        return
    parts = [f"{path}: does not match the network ({type(model).__name__})"]
    if missing:
        parts.append(_listing("missing keys", missing))
    if unexpected:
        parts.append(_listing("unexpected keys", unexpected))
    if shapes:
        parts.append(_listing("wrong shapes", shapes))
    raise CheckpointError("\n".join(parts))


def load_weights(model: nn.Module, path: str, trust: bool = False) -> nn.Module:
    """Load path into model strictly; returns model."""
    state = network_state(read_checkpoint(path, trust), path)
    check_state(model, state, path)
    model.load_state_dict(state, strict=True)
    return model
