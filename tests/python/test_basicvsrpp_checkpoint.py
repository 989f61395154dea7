"""Checkpoint layouts load strictly; bad files give errors that name the problem."""

import collections
import datetime
import os
import subprocess
import sys

import pytest
import torch

SRC = os.environ.get("VSR_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, SRC)

from models.basicvsrpp import BasicVSRPlusPlus  # noqa: E402
from models.checkpoint import CheckpointError, load_weights  # noqa: E402


def tiny(seed):
    torch.manual_seed(seed)
    return BasicVSRPlusPlus(mid_channels=8, num_blocks=1)


@pytest.fixture(scope="module")
def source():
    """A trained-looking network whose weights every layout must reproduce."""
    return tiny(1)


def official(state):
    """mmedit 0.x publish_model layout (spec §6)."""
    sd = collections.OrderedDict(step_counter=torch.zeros(1))
    sd.update(("generator." + k, v) for k, v in state.items())
    return {"meta": {"mmedit_version": "0.16.0", "iter": 600000, "config": "model = dict()"},
            "state_dict": sd}


def mmagic1(state):
    """mmengine runner layout: extra top-level entries, data_preprocessor buffers."""
    ckpt = official(state)
    ckpt["state_dict"]["data_preprocessor.mean"] = torch.zeros(3, 1, 1)
    ckpt["state_dict"]["data_preprocessor.std"] = torch.full((3, 1, 1), 255.0)
    ckpt["message_hub"] = {"runtime_info": {"iter": 600000}, "log_scalars": {}}
    ckpt["meta"] = {"epoch": 0, "iter": 600000, "cfg": "text", "seed": 0}
    return ckpt


def bare(state):
    return collections.OrderedDict(state)


def data_parallel(state):
    return collections.OrderedDict(("module." + k, v) for k, v in state.items())


@pytest.mark.parametrize("layout", [official, mmagic1, bare, data_parallel])
@pytest.mark.parametrize("zip_format", [True, False])
def test_layout_round_trips(tmp_path, source, layout, zip_format):
    path = str(tmp_path / "ckpt.pth")
    torch.save(layout(source.state_dict()), path, _use_new_zipfile_serialization=zip_format)
    target = tiny(2)
    assert not torch.equal(target.conv_last.weight, source.conv_last.weight)
    load_weights(target, path)
    want = source.state_dict()
    got = target.state_dict()
    assert list(got) == list(want)
    for k in want:
        assert torch.equal(got[k], want[k]), k


def test_mismatch_lists_missing_unexpected_and_shapes(tmp_path, source):
    state = collections.OrderedDict(source.state_dict())
    del state["conv_hr.bias"]
    state["generator_ema.extra"] = torch.zeros(1)
    state["conv_last.weight"] = torch.zeros(3, 64, 5, 5)
    path = str(tmp_path / "bad.pth")
    torch.save(official(state), path)
    with pytest.raises(CheckpointError) as info:
        load_weights(tiny(2), path)
    msg = str(info.value)
    assert "bad.pth" in msg
    assert "missing keys (1)" in msg and "conv_hr.bias" in msg
    assert "unexpected keys (1)" in msg and "generator_ema.extra" in msg
    assert "wrong shapes (1)" in msg and "conv_last.weight: file (3, 64, 5, 5)" in msg


def test_other_architecture_is_refused(tmp_path, source):
    """A network of another width reports every differing shape (capped list)."""
    path = str(tmp_path / "wide.pth")
    torch.save(BasicVSRPlusPlus(mid_channels=16, num_blocks=1).state_dict(), path)
    with pytest.raises(CheckpointError, match=r"wrong shapes \(\d+\):[\s\S]*and \d+ more"):
        load_weights(tiny(2), path)


def test_text_file_is_not_a_checkpoint(tmp_path):
    path = tmp_path / "notes.pth"
    path.write_text("not a checkpoint\n")
    with pytest.raises(CheckpointError, match="not a PyTorch checkpoint"):
        load_weights(tiny(2), str(path))


def test_truncated_file_is_reported(tmp_path, source):
    path = tmp_path / "cut.pth"
    torch.save(source.state_dict(), str(path))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="cut.pth: not a"):
        load_weights(tiny(2), str(path))


def test_non_dict_content(tmp_path):
    path = str(tmp_path / "list.pth")
    torch.save([torch.zeros(1)], path)
    with pytest.raises(CheckpointError, match="holds a list, not a state dict"):
        load_weights(tiny(2), path)


def test_missing_file():
    with pytest.raises(CheckpointError, match="no such file"):
        load_weights(tiny(2), "/nonexistent/x.pth")


def test_pickled_objects_need_trust(tmp_path, source):
    ckpt = official(source.state_dict())
    ckpt["meta"]["time"] = datetime.datetime(2021, 2, 17)  # not allowed by weights_only
    path = str(tmp_path / "meta.pth")
    torch.save(ckpt, path)
    with pytest.raises(CheckpointError, match="--trust-checkpoint"):
        load_weights(tiny(2), path)
    target = load_weights(tiny(2), path, trust=True)
    assert torch.equal(target.conv_last.weight, source.conv_last.weight)


def test_export_cli_reports_bad_checkpoint(tmp_path):
    path = tmp_path / "junk.pth"
    path.write_bytes(b"\x00" * 64)
    out = tmp_path / "m.pt"
    r = subprocess.run([sys.executable, os.path.join(SRC, "models", "export.py"), "--checkpoint",
                        str(path), "--output", str(out)], capture_output=True, text=True)
    assert r.returncode == 1
    assert "export.py: error:" in r.stderr and "junk.pth" in r.stderr
    assert not out.exists() and not os.path.exists(str(out) + ".part")
