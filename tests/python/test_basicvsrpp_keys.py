"""BasicVSR++ state dict layout equals the fact sheet's key/shape table."""

import os
import sys

import pytest
import torch

SRC = os.environ.get("VSR_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, SRC)
SHARED = os.environ.get("VSR_SHARED", os.path.join(SRC, "..", "shared"))

from models.basicvsrpp import BasicVSRPlusPlus  # noqa: E402

TSV = os.path.join(SHARED, "spec", "basicvsrpp_c64n7_state_dict.tsv")


def read_tsv(path):
    rows = []
    with open(path) as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            key, shape = line.rstrip("\n").split("\t")
            rows.append((key, tuple(int(s) for s in shape.split(","))))
    return rows


@pytest.fixture(scope="module")
def full_model():
    return BasicVSRPlusPlus(mid_channels=64, num_blocks=7)


def test_keys_and_shapes_equal_tsv_in_order(full_model):
    if not os.path.isfile(TSV):
        pytest.skip(f"{TSV} not found (set VSR_SHARED)")
    expected = read_tsv(TSV)
    assert len(expected) == 274
    ours = [(k, tuple(v.shape)) for k, v in full_model.state_dict().items()]
    assert set(ours) == set(expected), (
        f"missing {sorted(set(expected) - set(ours))}, extra {sorted(set(ours) - set(expected))}")
    assert ours == expected, "same keys, different state_dict order"


def test_parameter_count_matches_paper(full_model):
    # 7,322,927 from the fact sheet (paper: 7.3 M); SPyNet 1,440,300 of them
    assert sum(p.numel() for p in full_model.parameters()) == 7322927
    assert sum(p.numel() for p in full_model.spynet.parameters()) == 1440300


def test_spynet_normalisation_buffers(full_model):
    assert torch.equal(full_model.spynet.mean.flatten(), torch.tensor([0.485, 0.456, 0.406]))
    assert torch.equal(full_model.spynet.std.flatten(), torch.tensor([0.229, 0.224, 0.225]))


def test_mid_channels_must_split_into_deform_groups():
    with pytest.raises(ValueError, match="multiple of 8"):
        BasicVSRPlusPlus(mid_channels=12, num_blocks=1)
