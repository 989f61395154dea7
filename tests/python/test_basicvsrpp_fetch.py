"""scripts/fetch-model.sh fails clearly without network or with a bad file."""

import os
import subprocess

SRC = os.environ.get("VSR_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
SCRIPT = os.path.join(SRC, "scripts", "fetch-model.sh")
NAME = "basicvsr_plusplus_c64n7_8x1_600k_reds4_20210217-db622b2f.pth"


def run(cache, *args):
    env = dict(os.environ, VSRUP_CACHE=str(cache))
    return subprocess.run(["sh", SCRIPT, *args], capture_output=True, text=True, env=env,
                          timeout=300)


def test_unreachable_url_fails_clearly(tmp_path):
    # port 9 (discard) on loopback: refused at once, like a machine offline
    r = run(tmp_path, "--url", f"http://127.0.0.1:9/{NAME}")
    assert r.returncode == 1
    assert "fetch-model.sh: error: could not download" in r.stderr
    assert str(tmp_path / NAME) in r.stderr  # says where to put a manual download
    assert os.listdir(tmp_path) == []  # no partial file left


def test_checksum_mismatch_removes_file(tmp_path):
    (tmp_path / NAME).write_bytes(b"not the checkpoint")
    r = run(tmp_path)
    assert r.returncode == 1
    assert "expected db622b2f" in r.stderr
    assert not (tmp_path / NAME).exists()


def test_url_without_checksum_is_refused(tmp_path):
    r = run(tmp_path, "--url", "http://127.0.0.1:9/model.pth")
    assert r.returncode == 1 and "sha256 prefix" in r.stderr


def test_unknown_argument(tmp_path):
    r = run(tmp_path, "--frobnicate")
    assert r.returncode == 1 and "unknown argument '--frobnicate'" in r.stderr
