"""The streaming path end to end on real clips, checked with ffprobe."""
import json
import signal
import subprocess
import time

import pytest

from vsrtest import (MEDIA, VSRUP, count_frames, duration, ffmpeg, ffprobe, frame_times, streams,
                     video_stream, vsrup)

MEGAMIND = MEDIA / "Megamind.avi"


def assert_bt709_tags(path, yuv=True):
    v = video_stream(path)
    assert v["color_space"] == ("bt709" if yuv else "gbr")
    assert v["color_primaries"] == "bt709"
    assert v["color_transfer"] == "bt709"
    assert v["color_range"] == ("tv" if yuv else "pc")
    # Tags on every frame too (the ProRes frame header carries its own).
    frames = ffprobe(path, "-select_streams", "v:0", "-read_intervals", "%+#3",
                     "-show_entries", "frame=color_space,color_primaries,color_range")["frames"]
    for f in frames:
        assert f["color_primaries"] == "bt709"
        assert f["color_range"] == ("tv" if yuv else "pc")


def test_megamind_4x_prores_hq(tmp_path):
    out = tmp_path / "mm.mov"
    vsrup("-i", MEGAMIND, "-o", out, "--frames", "12", "-q")
    v = video_stream(out)
    assert (v["width"], v["height"]) == (4 * 720, 4 * 528)
    assert v["codec_name"] == "prores" and v["profile"] == "HQ"
    assert v["codec_tag_string"] == "apch"
    assert v["pix_fmt"] == "yuv422p10le"
    assert_bt709_tags(out)
    assert count_frames(out) == 12


@pytest.mark.parametrize("ext", ["mov", "mkv"])
def test_megamind_every_frame_and_ac3_audio(tmp_path, ext):
    out = tmp_path / f"mm.{ext}"
    report = tmp_path / "report.json"
    vsrup("-i", MEGAMIND, "-o", out, "-s", "1", "--json", report, "-q")
    assert count_frames(out) == 270
    audio = [s for s in streams(out) if s["codec_type"] == "audio"]
    assert len(audio) == 1 and audio[0]["codec_name"] == "ac3"
    # Video duration within one frame of the source's, audio duration kept.
    frame = 125 / 2997
    assert abs(duration(out, "video") - duration(MEGAMIND, "video")) <= frame + 1e-3
    assert abs(duration(out, "audio") - duration(MEGAMIND, "audio")) <= 0.1
    r = json.loads(report.read_text())
    assert r["frames_in"] == r["frames_out"] == 270
    assert r["streams_copied"] == 1 and r["exit_code"] == 0
    assert r["codec"] == ("prores" if ext == "mov" else "ffv1")


def test_no_audio_option(tmp_path):
    out = tmp_path / "mm.mkv"
    vsrup("-i", MEGAMIND, "-o", out, "-s", "1", "--frames", "10", "--no-audio", "-q")
    assert [s["codec_type"] for s in streams(out)] == ["video"]


def test_vtest_every_frame(tmp_path):
    out = tmp_path / "vtest.mkv"
    vsrup("-i", MEDIA / "vtest.avi", "-o", out, "-s", "1", "-q")
    assert count_frames(out) == 795


def test_tree_vfr_timestamps_kept_at_4x(tmp_path):
    out = tmp_path / "tree.mov"
    vsrup("-i", MEDIA / "tree.avi", "-o", out, "-m", "bicubic", "-q")
    v = video_stream(out)
    assert (v["width"], v["height"]) == (1280, 960)
    assert count_frames(out) == 68
    src, dst = frame_times(MEDIA / "tree.avi"), frame_times(out)
    assert len(src) == len(dst) == 68
    assert max(abs(a - b) for a, b in zip(src, dst)) < 1e-3


def test_frame_range(tmp_path):
    out = tmp_path / "range.mov"
    vsrup("-i", MEGAMIND, "-o", out, "-s", "1", "--start", "100", "--frames", "50", "-q")
    assert count_frames(out) == 50
    times = frame_times(out)
    assert abs(times[0]) < 1e-3
    audio = [s for s in streams(out) if s["codec_type"] == "audio"]
    assert len(audio) == 1
    assert abs(duration(out, "audio") - 50 * 125 / 2997) < 0.1
    # Past the end: what is there.
    out2 = tmp_path / "tail.mov"
    vsrup("-i", MEGAMIND, "-o", out2, "-s", "1", "--start", "260", "--frames", "50", "-q")
    assert count_frames(out2) == 10


@pytest.mark.parametrize("codec,profile,pix_fmt,ext,want_profile", [
    ("prores", "4444", None, "mov", "4444"),
    ("prores", "proxy", None, "mov", "Proxy"),
    ("dnxhr", "hqx", None, "mxf", "DNXHR HQX"),
    ("dnxhr", "444", None, "mov", "DNXHR 444"),
    ("dnxhr", "sq", None, "mxf", "DNXHR SQ"),
    ("prores", "hq", None, "mxf", "HQ"),
    ("ffv1", None, "gbrp16le", "mkv", None),
    ("ffv1", None, "yuv422p10le", "mkv", None),
])
def test_codecs_profiles_pixel_formats(tmp_path, codec, profile, pix_fmt, ext, want_profile):
    out = tmp_path / f"o.{ext}"
    args = ["-i", MEGAMIND, "-o", out, "-c", codec, "--frames", "3", "-s", "1", "-q"]
    if profile:
        args += ["--profile", profile]
    if pix_fmt:
        args += ["--pix-fmt", pix_fmt]
    vsrup(*args)
    v = video_stream(out)
    want_codec = {"prores": "prores", "dnxhr": "dnxhd", "ffv1": "ffv1"}[codec]
    assert v["codec_name"] == want_codec
    if want_profile:
        assert v["profile"] == want_profile
    want_fmt = pix_fmt or {"4444": "yuv444p12le", "444": "yuv444p10le", "sq": "yuv422p",
                           "hqx": "yuv422p10le"}.get(profile, "yuv422p10le")
    # ProRes 4444 decodes as 12-bit 4:4:4 whatever went in.
    assert v["pix_fmt"] == want_fmt
    if codec == "ffv1":
        assert v["codec_name"] == "ffv1"
    else:
        assert_bt709_tags(out, yuv=True)
    assert count_frames(out) == 3


def test_damaged_input_finishes_with_playable_output(tmp_path):
    """Megamind_bugy.avi: timestamps missing on most packets, header says 30 fps."""
    out = tmp_path / "bugy.mov"
    report = tmp_path / "r.json"
    vsrup("-i", MEDIA / "Megamind_bugy.avi", "-o", out, "-s", "1", "--json", report, "-q",
          timeout=600)
    r = json.loads(report.read_text())
    assert r["frames_out"] == r["frames_in"] == 270
    assert count_frames(out) == 270
    times = frame_times(out)
    assert all(b > a for a, b in zip(times, times[1:])), "timestamps not increasing"


def test_interrupt_keeps_a_playable_partial_file(tmp_path):
    out = tmp_path / "long.mov"
    proc = subprocess.Popen([VSRUP, "-i", MEDIA / "vtest.avi", "-o", out, "-m", "lanczos", "-q"],
                            stderr=subprocess.PIPE, text=True)
    partial = tmp_path / "long.partial.mov"
    deadline = time.time() + 120
    # Wait until some frames are written, then ask it to stop.
    while time.time() < deadline and (not partial.exists() or partial.stat().st_size < 2_000_000):
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 130, err
    assert not out.exists()
    assert partial.exists()
    n = count_frames(partial)
    assert 0 < n < 795
    assert "partial" in err or "interrupted" in err


@pytest.mark.parametrize("size, scale, pix_fmt", [
    ("1x1", 1, "yuv444p10le"), ("1x1", 4, "yuv422p10le"), ("8x8", 1, "yuv422p10le"),
    ("3x5", 1, "gbrp16le"),
])
def test_ffv1_tiny_frames(tmp_path, size, scale, pix_fmt):
    """FFV1 takes only slice grids that fit the frame: tiny ones get fewer slices."""
    src = tmp_path / "tiny.mkv"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=16x16:rate=25", "-frames:v", 2,
           "-vf", f"scale={size.replace('x', ':')}", "-pix_fmt", "yuv444p", "-c:v", "ffv1", src)
    out = tmp_path / "out.mkv"
    vsrup("-i", src, "-o", out, "-m", "lanczos", "-s", scale, "--pix-fmt", pix_fmt, "-q")
    w, h = (int(v) * scale for v in size.split("x"))
    v = video_stream(out)
    assert (v["width"], v["height"], v["pix_fmt"]) == (w, h, pix_fmt)
    assert count_frames(out) == 2
