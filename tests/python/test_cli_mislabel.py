"""Never mislabel work (issue 11): input vsrup cannot carry faithfully is refused (HDR, wide
gamut) or warned about in one line naming the file (more bits than the output keeps,
interlacing), never relabelled silently. Inputs are made with ffmpeg's lavfi; what came out is
checked with ffprobe.
"""
import pytest

from vsrtest import ffmpeg, ffprobe, frame_times, video_stream, vsrup

TESTSRC = ("-f", "lavfi", "-i", "testsrc2=size=64x48:rate=25")


def make(path, *args, frames=3):
    ffmpeg(*TESTSRC, "-frames:v", frames, *args, path)
    return path


def warnings(proc):
    return [l for l in proc.stderr.splitlines() if l.startswith("vsrup: warning: ")]


@pytest.mark.parametrize("trc, primaries, space, what", [
    ("smpte2084", "bt2020", "bt2020nc", "HDR (PQ, BT.2020)"),
    ("arib-std-b67", "bt2020", "bt2020nc", "HDR (HLG, BT.2020)"),
    ("bt709", "bt2020", "bt2020nc", "wide-gamut colour (BT.2020)"),
])
def test_hdr_and_bt2020_refused(tmp_path, trc, primaries, space, what):
    src = make(tmp_path / "hdr.mkv", "-c:v", "ffv1", "-pix_fmt", "yuv420p10le",
               "-color_primaries", primaries, "-color_trc", trc, "-colorspace", space)
    out = tmp_path / "out.mov"
    proc = vsrup("-i", src, "-o", out, "-m", "lanczos", "-s", 2, check=False)
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == (
        f"vsrup: {src}: {what} is not supported yet: vsrup would mislabel it")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hdr.mkv"]


def test_sdr_bt709_is_not_refused(tmp_path):
    src = make(tmp_path / "sdr.mkv", "-c:v", "ffv1", "-pix_fmt", "yuv420p10le",
               "-color_primaries", "bt709", "-color_trc", "bt709", "-colorspace", "bt709")
    proc = vsrup("-i", src, "-o", tmp_path / "out.mov", "-m", "lanczos", "-s", 2)
    assert warnings(proc) == []


def test_12bit_into_10bit_warns(tmp_path):
    src = make(tmp_path / "deep.mkv", "-c:v", "ffv1", "-pix_fmt", "yuv444p12le")
    out = tmp_path / "out.mov"
    proc = vsrup("-i", src, "-o", out, "-m", "lanczos", "-s", 2)
    assert warnings(proc) == [
        f"vsrup: warning: {src}: 12-bit input written as 10-bit prores hq (yuv422p10le); "
        "FFV1 keeps them: -c ffv1 --pix-fmt yuv444p12le"]
    assert video_stream(out)["pix_fmt"] == "yuv422p10le"


def test_12bit_kept_by_ffv1(tmp_path):
    src = make(tmp_path / "deep.mkv", "-c:v", "ffv1", "-pix_fmt", "yuv444p12le")
    out = tmp_path / "out.mkv"
    proc = vsrup("-i", src, "-o", tmp_path / "default.mkv", "-m", "lanczos", "-s", 2)
    assert warnings(proc) == [
        f"vsrup: warning: {src}: 12-bit input written as 10-bit ffv1 (yuv444p10le); use "
        "--pix-fmt yuv444p12le to keep them"]
    proc = vsrup("-i", src, "-o", out, "-m", "lanczos", "-s", 2, "--pix-fmt", "yuv444p12le")
    assert warnings(proc) == []
    assert video_stream(out)["pix_fmt"] == "yuv444p12le"


def test_interlaced_warns_once(tmp_path):
    src = make(tmp_path / "tff.mpg", "-vf", "setfield=tff", "-c:v", "mpeg2video",
               "-flags", "+ildct+ilme", frames=4)
    out = tmp_path / "out.mov"
    proc = vsrup("-i", src, "-o", out, "-m", "lanczos", "-s", 2)
    assert warnings(proc) == [
        f"vsrup: warning: {src}: interlaced input, scaled and tagged as progressive frames "
        "(deinterlace it first, e.g. ffmpeg -vf bwdif)"]
    assert video_stream(out)["field_order"] == "progressive"


def test_progressive_does_not_warn(tmp_path):
    src = make(tmp_path / "prog.mpg", "-c:v", "mpeg2video", frames=4)
    proc = vsrup("-i", src, "-o", tmp_path / "out.mov", "-m", "lanczos", "-s", 2)
    assert warnings(proc) == []


def test_timestamps_going_back_are_retimed_at_the_input_rate(tmp_path):
    """Two MPEG-TS recordings joined byte-wise: the second's clock starts again. Its frames
    follow the first's at 25 fps instead of being crowded into one tick each."""
    part = tmp_path / "part.ts"
    ffmpeg(*TESTSRC, "-f", "lavfi", "-i", "sine=r=48000", "-t", "0.4", "-c:v", "mpeg2video",
           "-c:a", "mp2", part)
    joined = tmp_path / "joined.ts"
    joined.write_bytes(part.read_bytes() * 2)
    out = tmp_path / "out.mkv"
    proc = vsrup("-i", joined, "-o", out, "-m", "lanczos", "-s", 1)
    assert warnings(proc) == [
        f"vsrup: warning: {joined}: timestamps go back at frame 10 (joined recordings?); later "
        "frames are retimed to follow on at the input's rate"]
    times = frame_times(out)
    assert len(times) == 20
    steps = [b - a for a, b in zip(times, times[1:])]
    assert steps == pytest.approx([0.04] * 19, abs=1e-4)
    # The audio follows on too: every packet kept, ending with the video.
    audio = packet_times(out, "a")
    assert len(audio) == len(packet_times(joined, "a"))
    assert audio == sorted(audio) and audio[-1] == pytest.approx(times[-1], abs=0.05)


def packet_times(path, stream):
    packets = ffprobe(path, "-select_streams", stream, "-show_entries", "packet=pts_time")
    return [float(p["pts_time"]) for p in packets["packets"]]


# ---- hangs and messages ------------------------------------------------------------------


def fails(code, *args):
    """Runs vsrup expecting `code`; returns its last line, vsrup's own error."""
    proc = vsrup(*args, check=False, timeout=60)
    assert proc.returncode == code, proc.stderr
    line = proc.stderr.strip().splitlines()[-1]
    assert line.startswith("vsrup: "), proc.stderr
    return line


@pytest.fixture
def clip(tmp_path):
    return make(tmp_path / "clip.mkv", "-c:v", "ffv1", frames=2)


def test_scene_cut_file_of_endless_zeros_fails_at_once(tmp_path, clip):
    line = fails(1, "-i", clip, "-o", tmp_path / "o.mov", "-m", "sim:1,temporal",
                 "--scene-cuts", "/dev/zero")
    assert line == ("vsrup: /dev/zero:1: line too long or not text: expected one frame number "
                    "per line")


@pytest.mark.parametrize("option", ["-i", "-o", "-m"])
def test_empty_file_names_are_usage_errors(tmp_path, clip, option):
    args = {"-i": clip, "-o": tmp_path / "o.mov", "-m": "lanczos"}
    args[option] = ""
    line = fails(2, *(x for kv in args.items() for x in kv))
    assert line == f"vsrup: {option} needs a file name, not an empty string"


def test_json_into_a_missing_folder_fails_before_the_work(tmp_path, clip):
    out = tmp_path / "o.mov"
    line = fails(2, "-i", clip, "-o", out, "-m", "lanczos", "--json", tmp_path / "no" / "r.json")
    assert "does not exist" in line and str(tmp_path / "no") in line
    assert not out.exists()


def test_options_that_do_nothing_warn(tmp_path, clip):
    proc = vsrup("-i", clip, "-o", tmp_path / "o.mov", "-m", "lanczos", "-d", "cuda",
                 "--cuda-graphs")
    assert warnings(proc) == [
        "vsrup: warning: --cuda-graphs does nothing: the built-in lanczos engine runs on cpu",
        "vsrup: warning: -d cuda does nothing: the built-in lanczos engine runs on cpu"]


def test_truncated_mp4_is_named_so(tmp_path):
    whole = make(tmp_path / "whole.mp4", "-c:v", "mpeg4", frames=25)
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    line = fails(1, "-i", cut, "-o", tmp_path / "o.mov", "-m", "lanczos")
    assert line == f"vsrup: {cut}: truncated or not finished: no moov atom (the MP4/MOV index)"


def test_paths_with_a_colon_are_files(tmp_path, clip, monkeypatch):
    folder = tmp_path / "x:y"
    folder.mkdir()
    clip.rename(folder / "in.mkv")
    monkeypatch.chdir(tmp_path)  # relative, as libavformat would read "x" as a protocol
    vsrup("-i", "x:y/in.mkv", "-o", "x:y/out.mov", "-m", "lanczos", "-q")
    assert video_stream(folder / "out.mov")["width"] == 256
    line = fails(1, "-i", "x:y/missing.mkv", "-o", "x:y/o2.mov", "-m", "lanczos")
    assert line == "vsrup: x:y/missing.mkv: cannot open: no such file, nor a URL FFmpeg knows"
