"""Bad input and bad options: the exit code and one clear line naming the file and problem."""
import json
import os
import shutil

import pytest

from vsrtest import MEDIA, count_frames, ffmpeg, vsrup

CLIP = MEDIA / "tree.avi"


def fails(code, *args):
    proc = vsrup(*args, check=False)
    assert proc.returncode == code, proc.stderr
    lines = [l for l in proc.stderr.splitlines() if l.strip()]
    assert len(lines) == 1, f"expected one line, got:\n{proc.stderr}"
    assert lines[0].startswith("vsrup: ")
    return lines[0]


def test_help_and_version():
    proc = vsrup("--help")
    for option in ("--input", "--output", "--model", "--scale", "--codec", "--profile",
                   "--pix-fmt", "--overwrite", "--start", "--frames", "--no-audio",
                   "--no-subtitles", "--threads", "--quiet", "--json", "--device",
                   "--precision", "--chunk", "--overlap", "--scene-cuts", "--cuda-graphs",
                   "--memory-limit", "--keep-timestamps", "--join"):
        assert option in proc.stdout
    assert vsrup("--version").stdout.startswith("vsrup ")


def test_usage_errors(tmp_path):
    out = tmp_path / "o.mov"
    assert "required" in fails(2, "-i", CLIP)
    assert "--bogus" in fails(2, "-i", CLIP, "-o", out, "--bogus")
    assert "'fast'" in fails(2, "-i", CLIP, "-o", out, "-s", "fast")
    for size in ("lots", "6X", "12K", "-1G"):  # not a size, unknown suffix, under 1 MiB
        assert f"'{size}'" in fails(2, "-i", CLIP, "-o", out, "--memory-limit", size)
    assert "h265" in fails(2, "-i", CLIP, "-o", out, "-c", "h265")
    line = fails(2, "-i", CLIP, "-o", out, "--profile", "ultra")
    assert "ultra" in line and "hq" in line
    assert "yuv420p" in fails(2, "-i", CLIP, "-o", out, "--pix-fmt", "yuv420p")
    # DNxHR HQ is 8-bit only; FFV1 cannot go into MXF; unknown extension.
    assert "yuv422p10le" in fails(2, "-i", CLIP, "-o", tmp_path / "o.mxf", "--profile", "hq",
                                  "--pix-fmt", "yuv422p10le")
    assert "o.mxf" in fails(2, "-i", CLIP, "-o", tmp_path / "o.mxf", "-c", "ffv1")
    assert "o.mp4" in fails(2, "-i", CLIP, "-o", tmp_path / "o.mp4")
    assert "--precision" in fails(2, "-i", CLIP, "-o", out, "--precision", "int8")


@pytest.mark.parametrize("option, value, expected", [
    ("--scale", "fast", "an integer from 1 to 8"),
    ("--chunk", "0", "an integer from 1 to 100000"),
    ("--frames", "-3", "an integer from 1 to "),
    ("--memory-limit", "6X", "a size such as 512M or 6G"),
    ("--codec", "h265", "prores, ffv1 or dnxhr"),
    ("--precision", "int8", "auto, fp32 or fp16"),
])
def test_bad_values_are_named_the_same_way(tmp_path, option, value, expected):
    """Every option's bad value gets the message its row in cli.c's table makes."""
    line = fails(2, "-i", CLIP, "-o", tmp_path / "o.mov", option, value)
    assert line.startswith(f"vsrup: invalid value '{value}' for {option}: expected {expected}")


def test_no_model_installed(tmp_path):
    """Without -m vsrup runs the installed BasicVSR++; none installed is a usage error that
    says where it looked and how to get one, not a silent plain resize."""
    cache = tmp_path / "cache"
    env = {"VSRUP_MODEL": None, "VSRUP_CACHE": cache}
    proc = vsrup("-i", CLIP, "-o", tmp_path / "o.mov", check=False, env=env)
    assert proc.returncode == 2, proc.stderr
    line = proc.stderr.strip()
    assert "\n" not in line and line.startswith("vsrup: no -m MODEL given")
    assert str(cache / "basicvsrpp-reds4.pt") in line and "fetch-model.sh" in line
    assert not (tmp_path / "o.mov").exists()
    version = vsrup("--version", env=env).stdout
    assert f"Default model: none (BasicVSR++ is not installed ({cache}/basicvsrpp-reds4.pt)" \
        in version
    # XDG_CACHE_HOME is where fetch-model.sh puts it when VSRUP_CACHE is unset
    env = {"VSRUP_MODEL": None, "VSRUP_CACHE": None, "XDG_CACHE_HOME": tmp_path / "xdg"}
    assert str(tmp_path / "xdg" / "vsrup" / "basicvsrpp-reds4.pt") in vsrup("--version",
                                                                             env=env).stdout
    proc = vsrup("-i", CLIP, "-o", tmp_path / "o.mov", check=False,
                 env={"VSRUP_MODEL": tmp_path / "gone.pt"})
    assert proc.returncode == 2 and f"VSRUP_MODEL={tmp_path / 'gone.pt'}" in proc.stderr


def test_output_equal_to_input(tmp_path):
    clip = tmp_path / "in.mov"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=64x48:d=0.2", "-c:v", "prores_ks", clip)
    assert "in.mov" in fails(2, "-i", clip, "-o", clip, "-y")
    os.symlink(clip, tmp_path / "link.mov")
    assert "link.mov" in fails(2, "-i", clip, "-o", tmp_path / "link.mov", "-y")


def test_missing_input(tmp_path):
    line = fails(1, "-i", tmp_path / "nothere.avi", "-o", tmp_path / "o.mov")
    assert "nothere.avi" in line
    assert not (tmp_path / "o.mov").exists()


def test_not_a_video(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("this is not a video\n" * 100)
    assert "notes.txt" in fails(1, "-i", text, "-o", tmp_path / "o.mov")


def test_no_video_stream(tmp_path):
    wav = tmp_path / "tone.wav"
    ffmpeg("-f", "lavfi", "-i", "sine=d=1", wav)
    line = fails(1, "-i", wav, "-o", tmp_path / "o.mov")
    assert "tone.wav" in line and "video" in line


def test_output_folder_missing_or_unwritable(tmp_path):
    line = fails(1, "-i", CLIP, "-o", tmp_path / "missing" / "o.mov")
    assert "missing" in line
    if os.geteuid() == 0:
        pytest.skip("running as root: permissions do not stop writing")
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        assert "locked" in fails(1, "-i", CLIP, "-o", locked / "o.mov")
    finally:
        locked.chmod(0o700)


def test_read_only_folder_as_root_is_still_reported(tmp_path):
    # /proc refuses new files even for root: the error names the path.
    line = fails(1, "-i", CLIP, "-o", "/proc/vsrup-test.mov")
    assert "/proc/vsrup-test.mov" in line or "/proc" in line


def test_existing_output_needs_overwrite(tmp_path):
    out = tmp_path / "o.mov"
    out.write_bytes(b"keep me")
    line = fails(2, "-i", CLIP, "-o", out, "--frames", "2")
    assert "o.mov" in line and "-y" in line
    assert out.read_bytes() == b"keep me"
    vsrup("-i", CLIP, "-o", out, "--frames", "2", "-y", "-q")
    assert out.stat().st_size > 1000


def test_bad_scene_cut_file(tmp_path):
    cuts = tmp_path / "cuts.txt"
    cuts.write_text("12\nbanana\n")
    line = fails(1, "-i", CLIP, "-o", tmp_path / "o.mov", "--scene-cuts", cuts)
    assert "cuts.txt:2" in line


def long_folder(tmp_path):
    """A folder whose path is over 1000 characters: five nested 200-character names."""
    folder = tmp_path
    for c in "abcde":
        folder = folder / (c * 200)
    folder.mkdir(parents=True)
    return folder


def test_long_paths_are_never_cut(tmp_path):
    folder = long_folder(tmp_path)
    clip, out = folder / "in.mov", folder / "o.mov"
    partial = folder / "o.partial.mov"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=64x48:d=0.2", "-c:v", "prores_ks", clip)
    # two long paths and the advice in one message
    shutil.copy(clip, partial)
    line = fails(2, "-i", partial, "-o", out)
    assert line.startswith(f"vsrup: {partial}: ") and f"-o {out} is" in line, line
    assert line.endswith("run the same command with --resume)"), line
    partial.unlink()
    # an error of the run, in the report as well
    text, report = folder / "notes.txt", tmp_path / "report.json"
    text.write_text("this is not a video\n" * 100)
    line = fails(1, "-i", text, "-o", out, "--json", report)
    assert line.startswith(f"vsrup: {text}: "), line
    assert json.loads(report.read_text())["error"] == line[len("vsrup: "):]


@pytest.mark.parametrize("args, name", [
    (("-c", "prores"), "x.mp4"), (("-c", "ffv1"), "x.mp4"), (("-c", "dnxhr"), "x.avi"),
    ((), "x.mp4"), ((), "noextension"), (("-c", "ffv1"), "x.mxf")])
def test_refused_container_advice_works(tmp_path, args, name):
    clip = tmp_path / "in.mov"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=64x48:d=0.2", "-c:v", "prores_ks", clip)
    command = ["-i", clip, "-m", "lanczos", *args]
    line = fails(2, *command, "-o", tmp_path / name)
    advised = line.split("e.g. -o ", 1)[1].split(",")[0]
    assert advised.startswith(str(tmp_path) + "/"), line
    vsrup(*command, "-o", advised, "-q")
    assert count_frames(advised) == 5


def test_control_characters_in_names_are_escaped(tmp_path):
    """A name with a newline and an escape sequence: one line, no raw control bytes."""
    text = tmp_path / "a\nb\x1b[31mred.txt"
    text.write_text("this is not a video\n" * 100)
    line = fails(1, "-i", text, "-o", tmp_path / "o.mov")
    assert f"{tmp_path}/a\\nb\\x1b[31mred.txt: " in line, line
    model = tmp_path / "m\x1b]0;title\x07.pt"
    model.write_bytes(b"not a model")
    proc = vsrup("-i", CLIP, "-o", tmp_path / "o.mov", "-m", model, "--frames", 1, check=False)
    assert proc.returncode != 0
    assert "m\\x1b]0;title\\x07.pt" in proc.stderr, proc.stderr
    assert "\x1b" not in proc.stderr and "\x07" not in proc.stderr
