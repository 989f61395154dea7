"""Streams beside the video that the README promises to keep: MKV attachments (fonts),
timecodes (MOV tmcd tracks, MKV and MXF timecodes), and a clear word where they cannot be kept
(attachments outside MKV, an alpha channel the models do not make)."""
import json
import subprocess
from pathlib import Path

import pytest

from vsrtest import ffmpeg, ffprobe, streams, vsrup

FONTS = sorted(Path("/usr/share/fonts").rglob("*.ttf")) if Path("/usr/share/fonts").is_dir() else []


def warnings(proc):
    return [l for l in proc.stderr.splitlines() if l.startswith("vsrup: warning:")]


@pytest.fixture
def attached(tmp_path):
    """A small MKV with one attachment: a font if the system has one, else a small file."""
    font = FONTS[0] if FONTS else tmp_path / "notes.bin"
    if not FONTS:
        font.write_bytes(bytes(range(256)) * 8)
    clip = tmp_path / "in.mkv"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=64x48:d=0.2", "-c:v", "ffv1", "-attach", font,
           "-metadata:s:t", "mimetype=application/x-truetype-font", clip)
    return clip, font


def test_attachments_are_copied_into_mkv(tmp_path, attached):
    clip, font = attached
    out, report = tmp_path / "out.mkv", tmp_path / "r.json"
    proc = vsrup("-i", clip, "-o", out, "-m", "lanczos", "--json", report)
    assert not warnings(proc), proc.stderr
    [att] = [s for s in streams(out) if s["codec_type"] == "attachment"]
    assert att["tags"]["filename"] == font.name
    assert att["tags"]["mimetype"] == "application/x-truetype-font"
    dumped = tmp_path / "dumped"
    subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-y", "-dump_attachment:t:0", str(dumped),
                    "-i", str(out), "-f", "null", "-"], check=True)
    assert dumped.read_bytes() == font.read_bytes()
    assert json.loads(report.read_text())["streams_copied"] == 1


def test_attachments_outside_mkv_are_named(tmp_path, attached):
    clip, _ = attached
    out, report = tmp_path / "out.mov", tmp_path / "r.json"
    proc = vsrup("-i", clip, "-o", out, "-m", "lanczos", "--json", report)
    [line] = warnings(proc)
    assert "input stream 1" in line and "only MKV holds attachments" in line, line
    assert json.loads(report.read_text())["streams_skipped"] == 1
    assert all(s["codec_type"] == "video" for s in streams(out))


def timecodes(path):
    info = ffprobe(path, "-show_streams", "-show_format")
    tags = [{k.lower(): v for k, v in s.get("tags", {}).items()} for s in info["streams"]]
    tags.append({k.lower(): v for k, v in info["format"].get("tags", {}).items()})
    return {t["timecode"] for t in tags if "timecode" in t}


@pytest.mark.parametrize("ext, start, expected", [
    (".mov", 0, "01:00:00:00"), (".mov", 5, "01:00:00:05"), (".mkv", 0, "01:00:00:00"),
    (".mxf", 3, "01:00:00:03")])
def test_timecode_is_kept_from_the_first_frame_written(tmp_path, ext, start, expected):
    clip = tmp_path / "in.mov"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=64x48:d=0.4:r=25", "-c:v", "prores_ks",
           "-timecode", "01:00:00:00", clip)
    assert any(s["codec_type"] == "data" for s in streams(clip))  # the tmcd track
    out = tmp_path / f"out{ext}"
    proc = vsrup("-i", clip, "-o", out, "-m", "lanczos", "--start", start)
    assert not warnings(proc), proc.stderr
    assert timecodes(out) == {expected}
    if ext == ".mov":
        assert [s["codec_tag_string"] for s in streams(out) if s["codec_type"] == "data"] == \
            ["tmcd"]


def test_alpha_is_dropped_with_a_warning(tmp_path):
    clip = tmp_path / "in.mkv"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=64x48:d=0.2,format=yuva420p", "-c:v", "ffv1", clip)
    assert streams(clip)[0]["pix_fmt"] == "yuva420p"
    proc = vsrup("-i", clip, "-o", tmp_path / "out.mkv", "-m", "lanczos")
    [line] = warnings(proc)
    assert line.endswith("in.mkv: input has an alpha channel: the model output has none; "
                         "alpha dropped"), line


def test_other_data_streams_are_named(tmp_path):
    """A data stream without a timecode (here: bin_data in MPEG-TS) is said to be dropped."""
    clip, data = tmp_path / "in.ts", tmp_path / "data.bin"
    data.write_bytes(bytes(range(256)) * 8)
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=64x48:d=0.2", "-f", "data", "-i", data,
           "-map", "0", "-map", "1", "-c:v", "mpeg4", "-c:d", "copy", clip)
    assert [s["codec_name"] for s in streams(clip)] == ["mpeg4", "bin_data"]
    proc = vsrup("-i", clip, "-o", tmp_path / "out.mov", "-m", "lanczos")
    assert any("not copied: vsrup carries no data streams" in l for l in warnings(proc)), \
        proc.stderr
