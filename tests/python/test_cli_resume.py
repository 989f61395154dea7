"""--resume: a run stopped by SIGINT, SIGTERM or SIGKILL, then the same command with
--resume, gives the file an uninterrupted run gives: the same video packets, byte for byte,
at the same times, and the same audio. A partial file of other options is refused."""
import hashlib
import os
import signal
import subprocess
import sys
import time

import pytest

from vsrtest import MEDIA, SOURCE, VSRUP, duration, ffmpeg, ffprobe, frame_times, vsrup

MEGAMIND = MEDIA / "Megamind.avi"
FRAMES = 48
TORCH_FRAMES = 16
# Deterministic engines, slow enough to be stopped mid-run: lanczos on the whole picture
# with one encoder, the temporal sim (40 ms a frame) on a quarter of it, which is quicker.
# "torchscript" is a tiny BasicVSR++ (random weights, exported on the CPU) on a 64x48 clip,
# still seconds a chunk on a CPU: 16 frames in chunks of 4.
ENGINES = {"lanczos": ["-m", "lanczos", "-t", "1", "-s", 2],
           "temporal": ["-m", "sim:40,temporal", "-s", 2]}
SMALL = TINY = None
needs_torch = pytest.mark.skipif(os.environ.get("VSR_HAVE_TORCH") == "0",
                                 reason="vsrup built without libtorch")


@pytest.fixture(scope="module", autouse=True)
def small_clip(tmp_path_factory):
    global SMALL, TINY
    folder = tmp_path_factory.mktemp("clip")
    SMALL, TINY = folder / "small.mkv", folder / "tiny.mkv"
    for path, size in ((SMALL, "360:264"), (TINY, "64:48")):
        ffmpeg("-i", MEGAMIND, "-fps_mode", "passthrough", "-frames:v", 60, "-vf",
               f"scale={size}", "-c:v", "ffv1", "-c:a", "copy", path)


@pytest.fixture(scope="module")
def torchscript(tmp_path_factory):
    """Adds the engine "torchscript": a tiny BasicVSR++ exported as the tests of the
    TorchScript engine export it (models/export.py)."""
    pytest.importorskip("torch")
    model = tmp_path_factory.mktemp("model") / "tiny.pt"
    subprocess.run([sys.executable, str(SOURCE / "models" / "export.py"), "--random-init",
                    "--seed", "1", "--mid-channels", "8", "--num-blocks", "1",
                    "--output", str(model)], check=True)
    ENGINES["torchscript"] = ["-m", model]
    return model


def options(engine):
    if engine == "torchscript":
        return ["-i", TINY, *ENGINES[engine], "--chunk", 4, "--overlap", 1,
                "--frames", TORCH_FRAMES]
    source = MEGAMIND if engine == "lanczos" else SMALL
    return ["-i", source, *ENGINES[engine], "--chunk", 8, "--overlap", 2, "--frames", FRAMES]


def video_packets(path, stream="v"):
    """(pts, dts, duration, size, md5) of every packet of the stream (video by default),
    from ffmpeg's framemd5."""
    out = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-map", f"0:{stream}",
                          "-c", "copy", "-f", "framemd5", "-"], capture_output=True, text=True,
                         check=True).stdout
    return [line.split(",")[1:] for line in out.splitlines() if not line.startswith("#")]


def borders(journal):
    lines = journal.read_text().splitlines() if journal.exists() else []
    return [int(l.split()[1]) for l in lines if l.startswith("done ")]


def stop_mid_run(out, opts, signo, min_size=0, at=FRAMES // 3, cwd=None):
    """Starts vsrup (in cwd), waits until `at` frames passed a chunk border (and the partial
    file holds min_size bytes), then sends signo."""
    partial = out.with_name(out.stem + ".partial" + out.suffix)
    journal = partial.with_name(partial.name + ".vsrup")
    proc = subprocess.Popen([VSRUP, "-o", out, *map(str, opts)], stderr=subprocess.PIPE,
                            text=True, cwd=cwd)
    deadline = time.time() + 300
    while not (borders(journal) and borders(journal)[-1] >= at and
               partial.stat().st_size >= min_size):
        assert proc.poll() is None and time.time() < deadline, "the run ended before the signal"
        time.sleep(0.02)
    proc.send_signal(signo)
    code = proc.wait(timeout=300)
    assert code == (-signal.SIGKILL if signo == signal.SIGKILL else 130), proc.stderr.read()
    assert partial.exists() and journal.exists() and not out.exists()
    return partial, journal


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """Uninterrupted runs, per engine and container."""
    folder = tmp_path_factory.mktemp("reference")
    made = {}

    def get(engine, ext):
        if (engine, ext) not in made:
            path = folder / f"{engine}{ext}"
            vsrup("-o", path, *options(engine))
            made[engine, ext] = path
        return made[engine, ext]
    return get


def assert_same(got, want, frames=FRAMES):
    assert video_packets(got) == video_packets(want)
    assert len(video_packets(got)) == frames
    assert frame_times(got) == frame_times(want)
    kinds = [s["codec_type"] for s in ffprobe(got, "-show_streams")["streams"]]
    assert "audio" in kinds
    assert duration(got, "audio") == pytest.approx(duration(want, "audio"), abs=0.002)


@pytest.mark.parametrize("engine,signo", [("lanczos", signal.SIGINT),
                                          ("temporal", signal.SIGINT),
                                          ("temporal", signal.SIGTERM)])
def test_stopped_run_resumes_to_the_same_file(tmp_path, reference, engine, signo):
    out = tmp_path / "film.mov"
    partial, journal = stop_mid_run(out, options(engine), signo)
    proc = vsrup("-o", out, *options(engine), "--resume")
    assert "resuming after frame" in proc.stderr  # continued, not started over
    assert_same(out, reference(engine, ".mov"))
    assert not partial.exists() and not journal.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["film.mov"]


@pytest.mark.parametrize("engine,ext", [("temporal", ".mkv"), ("lanczos", ".mov")])
def test_killed_run_resumes_to_the_same_file(tmp_path, reference, engine, ext):
    """SIGKILL: no trailer. Matroska reads back up to the last whole cluster, so the run goes
    on from there; a MOV without its index holds nothing readable, so the run starts over."""
    out = tmp_path / f"film{ext}"
    stop_mid_run(out, options(engine), signal.SIGKILL, min_size=2_000_000)
    proc = vsrup("-o", out, *options(engine), "--resume")
    if ext == ".mkv":
        assert "resuming after frame" in proc.stderr
    else:
        assert "starting over" in proc.stderr
    assert_same(out, reference(engine, ext))


@needs_torch
@pytest.mark.parametrize("signo,ext,at", [(signal.SIGINT, ".mov", 4),
                                          (signal.SIGTERM, ".mov", 12),
                                          (signal.SIGKILL, ".mkv", 8)])
def test_torchscript_run_resumes_to_the_same_file(tmp_path, reference, torchscript, signo, ext,
                                                  at):
    """A TorchScript temporal model (BasicVSR++), stopped after the first, second or third
    chunk (SIGKILL once the partial file holds frames past the first border): the continued
    run's packets equal the uninterrupted run's (the CPU computes a chunk the same way each
    time)."""
    out = tmp_path / f"film{ext}"
    stop_mid_run(out, options("torchscript"), signo, at=at,
                 min_size=300_000 if signo == signal.SIGKILL else 0)  # 45 kB a frame
    proc = vsrup("-o", out, *options("torchscript"), "--resume")
    assert "resuming after frame" in proc.stderr
    assert_same(out, reference("torchscript", ext), TORCH_FRAMES)
    assert sorted(p.name for p in tmp_path.iterdir()) == [out.name]


def test_resume_stopped_twice(tmp_path, reference):
    """The rest stopped too goes back into the partial file, and a third run finishes."""
    out = tmp_path / "film.mov"
    opts = options("temporal")
    stop_mid_run(out, opts, signal.SIGTERM)
    partial, journal = out.with_name("film.partial.mov"), out.with_name("film.partial.mov.vsrup")
    first = max(borders(journal))
    proc = subprocess.Popen([VSRUP, "-o", out, *map(str, opts), "--resume"],
                            stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 300
    while max(borders(journal)) < first + 8:
        assert proc.poll() is None and time.time() < deadline, "the run ended before the signal"
        time.sleep(0.02)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=300) == 130
    assert partial.exists() and not out.exists()
    proc = vsrup("-o", out, *opts, "--resume")
    assert "resuming after frame" in proc.stderr
    assert_same(out, reference("temporal", ".mov"))


def test_partial_of_other_options_is_refused(tmp_path):
    out = tmp_path / "film.mov"
    partial, journal = stop_mid_run(out, options("temporal"), signal.SIGINT)
    before = hashlib.md5(partial.read_bytes()).hexdigest()
    for change in (["--chunk", 16], ["-s", 3], ["--profile", "lt"], ["--no-audio"]):
        opts = options("temporal")
        if change[0] in opts:
            i = opts.index(change[0])
            opts[i:i + 2] = change
        else:
            opts += change
        proc = vsrup("-o", out, *opts, "--resume", check=False)
        assert proc.returncode == 2, proc.stderr
        assert "film.partial.mov.vsrup: written with another" in proc.stderr
    # without --resume the partial file is kept and the message says how to continue it
    proc = vsrup("-o", out, *options("temporal"), check=False)
    assert proc.returncode == 2 and "--resume" in proc.stderr
    assert hashlib.md5(partial.read_bytes()).hexdigest() == before and journal.exists()


def test_same_input_typed_otherwise_resumes(tmp_path, reference):
    """The journal knows the input file, not the words that named it: a run given a relative
    path in the clip's folder is continued from elsewhere through a link to it."""
    out = tmp_path / "film.mov"
    opts = options("temporal")
    opts[opts.index(SMALL)] = SMALL.name
    stop_mid_run(out, opts, signal.SIGINT, cwd=SMALL.parent)
    link = tmp_path / "link.mkv"
    link.symlink_to(SMALL)
    opts[opts.index(SMALL.name)] = link
    proc = vsrup("-o", out, *opts, "--resume")
    assert "resuming after frame" in proc.stderr
    assert_same(out, reference("temporal", ".mov"))


@pytest.mark.parametrize("at", [16, 32])
def test_range_run_resumes_to_the_same_file(tmp_path, at):
    """A --start/--frames range (with the film's timestamps, as --resume needs) stopped after
    one or more chunks: the rest starts at the border of the range, not of the film."""
    out, want = tmp_path / "film.mov", tmp_path / "want.mov"
    opts = options("temporal")
    opts[opts.index("--frames") + 1] = 36
    opts += ["--start", 12, "--keep-timestamps"]
    vsrup("-o", want, *opts)
    stop_mid_run(out, opts, signal.SIGINT, at=at)
    proc = vsrup("-o", out, *opts, "--resume")
    assert "resuming after frame" in proc.stderr
    assert_same(out, want, 36)
    assert float(frame_times(out)[0]) > 0.4  # the film's time of frame 12


CUES = [(0.20, 0.90, "First cue"), (1.10, 1.70, "Second cue"), (1.80, 2.30, "Third cue")]


@pytest.fixture(scope="module")
def subtitled(tmp_path_factory):
    """The small clip with three subrip cues (.mkv) or mov_text (.mov) over its 2.5 s."""
    folder = tmp_path_factory.mktemp("subs")
    srt = folder / "cues.srt"
    stamp = lambda t: f"00:00:{int(t):02d},{round(t * 1000) % 1000:03d}"
    srt.write_text("".join(f"{i + 1}\n{stamp(a)} --> {stamp(b)}\n{text}\n\n"
                           for i, (a, b, text) in enumerate(CUES)))
    made = {}
    for ext, codec in ((".mkv", "srt"), (".mov", "mov_text")):
        made[ext] = folder / f"subs{ext}"
        ffmpeg("-i", SMALL, "-i", srt, "-map", 0, "-map", "1:s", "-c", "copy", "-c:s", codec,
               "-c:v", "ffv1" if ext == ".mkv" else "prores", made[ext])
    return made


@pytest.mark.parametrize("ext,signo,at", [(".mkv", signal.SIGINT, 16),
                                          (".mov", signal.SIGTERM, 32),
                                          (".mkv", signal.SIGKILL, 32)])
def test_subtitled_run_resumes_to_the_same_file(tmp_path, subtitled, ext, signo, at):
    """Cues before, across and after the border: each once, at its time."""
    out, want = tmp_path / f"film{ext}", tmp_path / f"want{ext}"
    opts = options("temporal")
    opts[opts.index(SMALL)] = subtitled[ext]
    vsrup("-o", want, *opts)
    assert len(video_packets(want, "s")) >= len(CUES)
    stop_mid_run(out, opts, signo, at=at,
                 min_size=2_000_000 if signo == signal.SIGKILL else 0)
    proc = vsrup("-o", out, *opts, "--resume")
    assert "resuming after frame" in proc.stderr
    assert_same(out, want)
    assert video_packets(out, "s") == video_packets(want, "s")


def test_resume_without_partial_runs_from_the_start(tmp_path, reference):
    out = tmp_path / "film.mov"
    vsrup("-o", out, *options("temporal"), "--resume")
    assert_same(out, reference("temporal", ".mov"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["film.mov"]
