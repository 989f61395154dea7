"""Never lose work (DESIGN.md): inputs, partial files and reports are never overwritten, one
writer per output, a full disk or a closed terminal leaves a playable partial file, and a run
without frames is a failure that leaves nothing.

The partial files are checked with ffprobe (frames that decode), never with vsrup itself.
"""
import hashlib
import json
import os
import resource
import signal
import subprocess
import time

import pytest

from test_cli_join import packets
from vsrtest import MEDIA, VSRUP, count_frames, ffmpeg, vsrup

MEGAMIND = MEDIA / "Megamind.avi"  # 270 frames, AC-3 audio


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def fails(code, *args):
    """Runs vsrup expecting `code`; returns its last line, vsrup's own error."""
    proc = vsrup(*args, check=False)
    assert proc.returncode == code, proc.stderr
    line = proc.stderr.strip().splitlines()[-1]
    assert line.startswith("vsrup: "), proc.stderr
    return line


def start(*args):
    return subprocess.Popen([VSRUP, *map(str, args)], stderr=subprocess.PIPE, text=True)


def wait_for_bytes(path, size, proc, timeout=120):
    """Until `path` holds `size` bytes (frames written), while proc runs."""
    deadline = time.time() + timeout
    while not (path.exists() and path.stat().st_size >= size):
        assert proc.poll() is None and time.time() < deadline, f"{path} stayed small"
        time.sleep(0.05)


def test_resume_recipe_from_readme(tmp_path):
    """README "Resuming a stopped run", verbatim: the partial file is joined with the rest and
    stays untouched; the result equals an uninterrupted run."""
    whole = tmp_path / "whole.mov"
    vsrup("-i", MEGAMIND, "-o", whole, "-m", "lanczos", "-s", 2, "-q")
    film, partial = tmp_path / "film.mov", tmp_path / "film.partial.mov"
    proc = start("-i", MEGAMIND, "-o", film, "-m", "lanczos", "-s", 2, "-q")
    wait_for_bytes(partial, 20_000_000, proc)
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=300) == 130, proc.stderr.read()
    before = digest(partial)
    n = subprocess.run(["ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0",
                        "-show_entries", "stream=nb_read_frames", "-of", "csv=p=0", partial],
                       capture_output=True, text=True, check=True).stdout.strip()
    assert 0 < int(n) < 270
    rest = tmp_path / "rest.mov"
    vsrup("-i", MEGAMIND, "-o", rest, "-m", "lanczos", "-s", 2, "-q", "--start", n,
          "--keep-timestamps")
    proc = vsrup("--join", "-o", film, partial, rest)
    assert "270 video frames" in proc.stderr
    assert digest(partial) == before
    want, got = packets(whole), packets(film)
    for stream in want:  # video and audio: the audio the partial file has twice is kept once
        assert [h for _, h in got[stream]] == [h for _, h in want[stream]], stream
    # the same through a link: the joiner's temporary file is still not the partial
    film.unlink()
    os.symlink(partial, tmp_path / "link.mov")
    vsrup("--join", "-o", film, tmp_path / "link.mov", rest, "-q")
    assert digest(partial) == before and count_frames(film) == 270


def test_input_that_is_the_outputs_partial_is_refused(tmp_path):
    clip = tmp_path / "x.partial.mov"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=64x48:d=0.2", "-c:v", "prores_ks", clip)
    before = digest(clip)
    line = fails(2, "-i", clip, "-o", tmp_path / "x.mov", "-m", "lanczos")
    assert str(clip) in line and "\n" not in line
    os.symlink(clip, tmp_path / "link.mov")
    assert "link.mov" in fails(2, "-i", tmp_path / "link.mov", "-o", tmp_path / "x.mov", "-y")
    assert digest(clip) == before and not (tmp_path / "x.mov").exists()


def test_json_never_overwrites_a_video_or_an_existing_file(tmp_path):
    clip = tmp_path / "in.mov"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=64x48:d=0.2", "-c:v", "prores_ks", clip)
    out, report = tmp_path / "out.mov", tmp_path / "report.json"
    report.write_text("keep me")
    assert "report.json" in fails(2, "-i", clip, "-o", out, "--json", report)
    assert report.read_text() == "keep me" and not out.exists()
    vsrup("-i", clip, "-o", out, "--json", report, "-y", "-q")
    assert json.loads(report.read_text())["frames_out"] == 5
    videos = {f: digest(f) for f in (clip, out)}
    for target in (clip, out, tmp_path / "out.partial.mov"):
        line = fails(2, "-i", clip, "-o", out, "-y", "--json", target)
        assert str(target) in line and "video" in line
    line = fails(2, "--join", "-o", tmp_path / "j.mov", out, "-y", "--json", out)
    assert str(out) in line
    assert {f: digest(f) for f in videos} == videos
    assert not (tmp_path / "out.partial.mov").exists()


def test_second_writer_is_refused(tmp_path):
    out = tmp_path / "o.mov"
    first = start("-i", MEGAMIND, "-o", out, "-m", "lanczos", "--frames", 60, "-q")
    wait_for_bytes(tmp_path / "o.partial.mov", 1, first)
    for extra in ((), ("-y",)):
        line = fails(1, "-i", MEGAMIND, "-o", out, "-m", "lanczos", "--frames", 5, *extra)
        assert f"being written by another vsrup (pid {first.pid})" in line
    assert first.wait(timeout=300) == 0, first.stderr.read()
    assert count_frames(out) == 60


def test_existing_partial_is_kept(tmp_path):
    out, partial = tmp_path / "o.mov", tmp_path / "o.partial.mov"
    partial.write_bytes(b"earlier work")
    # refused before doing anything, like an existing output: a usage error
    line = fails(2, "-i", MEGAMIND, "-o", out, "-m", "lanczos", "--frames", 2)
    assert str(partial) in line
    for hint in ("continue it with --resume", "-y to start over"):
        assert hint in line
    assert partial.read_bytes() == b"earlier work" and not out.exists()
    # --resume cannot tell which command wrote a partial file without a journal
    line = fails(2, "-i", MEGAMIND, "-o", out, "-m", "lanczos", "--frames", 2, "--resume")
    assert "o.partial.mov.vsrup: cannot read the journal" in line
    assert partial.read_bytes() == b"earlier work" and not out.exists()
    vsrup("-i", MEGAMIND, "-o", out, "-m", "lanczos", "--frames", 2, "-y", "-q")
    assert count_frames(out) == 2 and not partial.exists()


def check_full_disk_run(proc, out, partial, report):
    assert proc.returncode == 1, proc.stderr
    assert "no room for more frames" in proc.stderr and "wrote" not in proc.stderr
    assert not out.exists()
    frames = json.loads(report.read_text())["frames_out"]
    assert 0 < frames < 270 and count_frames(partial) == frames
    assert f"partial output kept in {partial}: {frames} frames, playable" in proc.stderr


@pytest.mark.parametrize("ext", ["mov", "mkv"])
def test_file_size_limit_leaves_a_playable_partial(tmp_path, ext):
    """A full disk as RLIMIT_FSIZE (ulimit -f) sets it: writes past it fail with EFBIG."""
    out, partial = tmp_path / f"o.{ext}", tmp_path / f"o.partial.{ext}"

    def limit():
        resource.setrlimit(resource.RLIMIT_FSIZE, (6 << 20, 6 << 20))

    proc = subprocess.run([VSRUP, "-i", MEGAMIND, "-o", out, "-m", "lanczos", "-s", "1", "--json",
                           tmp_path / "r.json"], capture_output=True, text=True, timeout=600,
                          preexec_fn=limit)
    check_full_disk_run(proc, out, partial, tmp_path / "r.json")


def test_full_disk_leaves_a_playable_partial(tmp_path):
    disk = tmp_path / "disk"
    disk.mkdir()
    mount = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", disk],
                           capture_output=True, text=True)
    if mount.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {mount.stderr.strip()}")
    try:
        out, partial = disk / "o.mov", disk / "o.partial.mov"
        proc = vsrup("-i", MEGAMIND, "-o", out, "-m", "lanczos", "-s", 1, "--json",
                     tmp_path / "r.json", check=False)
        check_full_disk_run(proc, out, partial, tmp_path / "r.json")
    finally:
        subprocess.run(["umount", disk], check=True)


def test_sighup_stops_like_sigterm(tmp_path):
    out, partial = tmp_path / "o.mov", tmp_path / "o.partial.mov"
    proc = start("-i", MEGAMIND, "-o", out, "-m", "lanczos", "--json", tmp_path / "r.json")
    wait_for_bytes(partial, 10_000_000, proc)
    proc.send_signal(signal.SIGHUP)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 130, err
    assert "interrupted by signal 1" in err and not out.exists()
    frames = json.loads((tmp_path / "r.json").read_text())["frames_out"]
    assert 0 < frames < 270 and count_frames(partial) == frames


def test_closed_stderr_does_not_kill_the_run(tmp_path):
    """Progress piped into a reader that goes away (`| head -1`): the run goes on."""
    out, report = tmp_path / "o.mov", tmp_path / "r.json"
    proc = start("-i", MEGAMIND, "-o", out, "-m", "lanczos", "-s", 1, "--frames", 30, "--json",
                 report)
    proc.stderr.close()
    assert proc.wait(timeout=300) == 0
    assert json.loads(report.read_text())["frames_out"] == 30 and count_frames(out) == 30


def test_zero_frames_is_a_failure(tmp_path):
    out = tmp_path / "o.mov"
    line = fails(1, "-i", MEGAMIND, "-o", out, "-m", "lanczos", "--start", 5000)
    assert str(MEGAMIND) in line and "no video frame" in line
    broken = tmp_path / "broken.avi"  # every packet noised: nothing decodes
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=64x48:d=1", "-c:v", "mpeg4", "-bsf:v",
           "noise=amount=1", broken)
    line = fails(1, "-i", broken, "-o", out, "-m", "lanczos")
    assert str(broken) in line and "no video frame" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.avi"]


@pytest.mark.parametrize("writer", [False, True], ids=["no-writer", "silent-writer"])
def test_ctrl_c_while_opening_a_fifo_is_an_interruption(tmp_path, writer):
    """The open waits for a writer (or for data); Ctrl-C ends it as an interruption (130)."""
    fifo = tmp_path / "in.fifo"
    os.mkfifo(fifo)
    # a writer that holds the FIFO open and writes nothing; O_RDWR does not wait for a reader
    held = os.open(fifo, os.O_RDWR) if writer else None
    try:
        proc = start("-i", fifo, "-o", tmp_path / "o.mov", "-m", "lanczos")
        time.sleep(1)
        proc.send_signal(signal.SIGINT)
        try:
            _, stderr = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()  # stuck in the open: the bug
            raise
    finally:
        if held is not None:
            os.close(held)
    assert proc.returncode == 130, stderr
    lines = stderr.splitlines()
    assert lines[-1] == "vsrup: interrupted by signal 2", stderr
    assert all(l.startswith("vsrup: stopping") for l in lines[:-1]), stderr
    assert not (tmp_path / "o.mov").exists() and not (tmp_path / "o.partial.mov").exists()
