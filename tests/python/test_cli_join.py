"""Segments of one film run separately and joined with --join equal one run over the film.

The reference is a single vsrup run over the whole clip; ffprobe reads both files' packets
(payload hashes and times), so the comparison shares no code with the joiner.
"""
import json

import pytest

from vsrtest import MEDIA, count_frames, ffprobe, vsrup

MEGAMIND = MEDIA / "Megamind.avi"  # 270 frames, AC-3 audio, video starting at 0.041 s
RANGES = ((0, 100), (100, 100), (200, 70))


def packets(path):
    """Per stream: [(pts seconds, payload MD5)] in file order."""
    got = {}
    for p in ffprobe(path, "-show_data_hash", "MD5", "-show_entries",
                     "packet=stream_index,pts_time,data_hash")["packets"]:
        got.setdefault(p["stream_index"], []).append((float(p["pts_time"]), p["data_hash"]))
    return got


@pytest.fixture(scope="module")
def segments(tmp_path_factory):
    folder = tmp_path_factory.mktemp("join")
    whole = folder / "whole.mov"
    vsrup("-i", MEGAMIND, "-o", whole, "-s", "1", "-q")
    parts = []
    for start, count in RANGES:
        part = folder / f"part{start}.mov"
        vsrup("-i", MEGAMIND, "-o", part, "-s", "1", "-q", "--start", start, "--frames", count,
              "--keep-timestamps")
        parts.append(part)
    return folder, whole, parts


def test_joined_segments_equal_one_run(segments):
    folder, whole, parts = segments
    joined = folder / "joined.mov"
    proc = vsrup("--join", "-o", joined, *parts, "--json", folder / "join.json")
    assert "joined 3 parts" in proc.stderr and "270 video frames, 2 streams" in proc.stderr
    assert "missing" not in proc.stderr
    report = json.loads((folder / "join.json").read_text())
    assert report == {"output": str(joined), "error": "", "parts": [str(p) for p in parts],
                      "video_frames": 270, "streams": 2, "gaps": 0, "exit_code": 0}
    assert count_frames(joined) == 270
    want, got = packets(whole), packets(joined)
    assert sorted(got) == sorted(want) == [0, 1]
    for stream in want:
        assert [h for _, h in got[stream]] == [h for _, h in want[stream]], stream
        # MOV keeps a late start in a millisecond edit list: times agree to 1 ms
        drift = max(abs(a - b) for (a, _), (b, _) in zip(got[stream], want[stream]))
        assert drift <= 0.0011, (stream, drift)


def test_bad_joins_fail_and_leave_nothing(segments, tmp_path):
    folder, _, parts = segments
    out = tmp_path / "j.mov"

    def fails(code, *args):
        proc = vsrup(*args, check=False)
        assert proc.returncode == code, proc.stderr
        assert not out.exists() and not (tmp_path / "j.partial.mov").exists()
        return proc.stderr.strip()

    line = fails(1, "--join", "-o", out, parts[1], parts[0], "--json", tmp_path / "r.json")
    assert str(parts[0]) in line and "out of order" in line
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["exit_code"] == 1 and report["error"] == line.removeprefix("vsrup: ")
    shifted = tmp_path / "shifted.mov"  # written without --keep-timestamps: starts at 0
    vsrup("-i", MEGAMIND, "-o", shifted, "-s", "1", "-q", "--start", 100, "--frames", 5)
    line = fails(1, "--join", "-o", out, parts[0], shifted)
    assert str(shifted) in line and "--keep-timestamps" in line
    other = tmp_path / "other.mov"
    vsrup("-i", MEGAMIND, "-o", other, "-s", "2", "-q", "--start", 100, "--frames", 5,
          "--keep-timestamps")
    line = fails(1, "--join", "-o", out, parts[0], other)
    assert str(other) in line and "1440x1056" in line and "720x528" in line
    assert str(tmp_path / "gone.mov") in fails(1, "--join", "-o", out, parts[0],
                                               tmp_path / "gone.mov")
    assert "overwrite a part" in fails(2, "--join", "-o", parts[0], parts[0], parts[1])
    assert "not -i" in fails(2, "--join", "-i", MEGAMIND, "-o", out, parts[0])
    assert "needs -o OUTPUT and the parts" in fails(2, "--join", "-o", out)
    assert "MXF" in fails(2, "--join", "-o", tmp_path / "j.mxf", parts[0])
    assert "MXF" in fails(2, "-i", MEGAMIND, "-o", tmp_path / "j.mxf", "--start", 5,
                          "--keep-timestamps")


def test_gap_is_reported(segments, tmp_path):
    _, _, parts = segments
    out = tmp_path / "gap.mov"
    proc = vsrup("--join", "-o", out, parts[0], parts[2])
    assert "s missing before this part" in proc.stderr and str(parts[2]) in proc.stderr
    assert count_frames(out) == 170
    again = vsrup("--join", "-o", out, parts[0], check=False)
    assert again.returncode == 2 and "already exists" in again.stderr
