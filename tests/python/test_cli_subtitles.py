"""Subtitle streams: copied where the container takes them, timed as in the source, skipped
with a warning where it does not. Sources: 3 s of Megamind.avi (video stream-copied) with
cues written here, muxed by ffmpeg; every check reads the result back with ffprobe."""
import json
import subprocess

import pytest

from vsrtest import MEDIA, ffmpeg, ffprobe, frame_times, streams, vsrup

# (start, end, text) in seconds; the last cue starts after a 2 s window.
CUES = [(0.20, 0.90, "First cue"), (1.10, 1.70, "Second cue"), (2.30, 2.80, "Third cue")]


def srt_time(t):
    ms = round(t * 1000)
    return f"00:00:{ms // 1000:02d},{ms % 1000:03d}"


@pytest.fixture(scope="module")
def sources(tmp_path_factory):
    """{container: path}: the same clip and cues as subrip in .mkv and mov_text in .mov."""
    d = tmp_path_factory.mktemp("subs")
    srt = d / "cues.srt"
    srt.write_text("".join(f"{i + 1}\n{srt_time(a)} --> {srt_time(b)}\n{text}\n\n"
                           for i, (a, b, text) in enumerate(CUES)))
    out = {}
    for ext, codec in (("mkv", "srt"), ("mov", "mov_text")):
        out[ext] = d / f"src.{ext}"
        ffmpeg("-fflags", "+genpts", "-i", MEDIA / "Megamind.avi", "-i", srt, "-map", "0:v", "-map", "1:s",
               "-t", "3", "-c:v", "copy", "-c:s", codec, "-metadata:s:s:0", "language=fra",
               out[ext])
    return out


def subtitle_packets(path):
    """[(start, end, text)] of the first subtitle stream, from the demuxed packets."""
    s = ffprobe(path, "-select_streams", "s:0", "-show_packets", "-show_data")
    cues = []
    for p in s["packets"]:
        if int(p["size"]) <= 2:
            continue  # mov_text's empty samples filling the gaps between cues
        start = float(p["pts_time"])
        cues.append((start, start + float(p["duration_time"]), p.get("data", "")))
    return cues


def subtitle_text(path):
    """The cues as ffmpeg decodes them, converted to SRT."""
    return subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-i", str(path), "-map", "0:s:0",
                           "-f", "srt", "-"], capture_output=True, text=True, check=True).stdout


def subtitle_streams(path):
    return [s for s in streams(path) if s["codec_type"] == "subtitle"]


@pytest.mark.parametrize("ext", ["mkv", "mov"])
def test_subtitles_copied_with_their_timing(tmp_path, sources, ext):
    src = sources[ext]
    out = tmp_path / f"out.{ext}"
    vsrup("-i", src, "-o", out, "-m", "bicubic", "-q", "--json", tmp_path / "r.json")
    subs = subtitle_streams(out)
    assert len(subs) == 1
    assert subs[0]["codec_name"] == subtitle_streams(src)[0]["codec_name"]
    assert subs[0]["tags"]["language"] == "fra"
    got = subtitle_packets(out)
    assert len(got) == len(CUES)
    for (start, end, _), (want_start, want_end, _) in zip(got, CUES):
        assert start == pytest.approx(want_start, abs=0.002)
        assert end == pytest.approx(want_end, abs=0.002)
    assert subtitle_text(out) == subtitle_text(src)
    assert json.loads((tmp_path / "r.json").read_text())["streams_copied"] == 1


def test_subrip_into_mov_is_skipped_with_a_warning(tmp_path, sources):
    out = tmp_path / "out.mov"
    proc = vsrup("-i", sources["mkv"], "-o", out, "-m", "bicubic", "--frames", "12",
                 "--json", tmp_path / "r.json")
    assert "not copied: MOV takes only mov_text subtitles" in proc.stderr
    assert subtitle_streams(out) == []
    assert json.loads((tmp_path / "r.json").read_text())["streams_skipped"] == 1


def test_no_subtitles_option(tmp_path, sources):
    out = tmp_path / "out.mkv"
    vsrup("-i", sources["mkv"], "-o", out, "-m", "bicubic", "-q", "--no-subtitles")
    assert subtitle_streams(out) == []


def test_frame_window_keeps_the_cues_inside_it(tmp_path, sources):
    """--start 24 --frames 24 keeps frames 24..47 (2997/125 fps): about one second from the
    source's frame 24 on, which holds the second cue only, moved to the new time origin."""
    origin = frame_times(sources["mkv"])[24]
    out = tmp_path / "out.mkv"
    vsrup("-i", sources["mkv"], "-o", out, "-m", "bicubic", "-q", "--start", "24",
          "--frames", "24")
    got = subtitle_packets(out)
    assert len(got) == 1
    start, end, _ = got[0]
    assert start == pytest.approx(CUES[1][0] - origin, abs=0.002)
    assert end == pytest.approx(CUES[1][1] - origin, abs=0.002)
    assert "Second cue" in subtitle_text(out)
