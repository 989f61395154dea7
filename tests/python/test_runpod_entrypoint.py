"""scripts/runpod/entrypoint.sh run as the container would: SIGTERM mid-batch leaves a
partial file and status "stopped"; the next start finishes every video (status "done",
exit 0), the stopped one equal to an uninterrupted run."""
import json
import os
import signal
import subprocess
import time

from vsrtest import MEDIA, SOURCE, VSRUP, count_frames, ffmpeg, vsrup

SCRIPT = SOURCE / "scripts" / "runpod" / "entrypoint.sh"
ARGS = "-s 2 --chunk 8 --overlap 2"


def framemd5(path):
    return subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-map", "0:v", "-c", "copy",
                           "-f", "framemd5", "-"], capture_output=True, text=True,
                          check=True).stdout.splitlines()[4:]


def test_sigterm_then_restart(tmp_path):
    src, out = tmp_path / "in", tmp_path / "out"
    src.mkdir()
    for name, start in (("a.mkv", 0), ("b.mkv", 100)):
        ffmpeg("-ss", start / 24, "-i", MEDIA / "Megamind.avi", "-fps_mode", "passthrough",
               "-frames:v", 40, "-vf", "scale=180:132", "-c:v", "ffv1", "-c:a", "copy",
               src / name)
    env = dict(os.environ, VSRUP=VSRUP, VSRUP_INPUT_DIR=str(src), VSRUP_OUTPUT_DIR=str(out),
               VSRUP_MODEL="sim:40,temporal", VSRUP_ARGS=ARGS)
    proc = subprocess.Popen(["sh", SCRIPT], env=env, stderr=subprocess.PIPE, text=True)
    journal = out / "b.partial.mov.vsrup"
    deadline = time.time() + 300
    while not (journal.exists() and "done 16" in journal.read_text()):
        assert proc.poll() is None and time.time() < deadline, proc.stderr.read()
        time.sleep(0.02)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=300) == 130
    assert json.loads((out / "vsrup-status.json").read_text())["state"] == "stopped"
    assert (out / "a.mov").exists() and (out / "b.partial.mov").exists()

    proc = subprocess.run(["sh", SCRIPT], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert json.loads((out / "vsrup-status.json").read_text())["state"] == "done"
    records = json.loads((out / "vsrup-batch.json").read_text())
    assert [r["status"] for r in records] == ["done before", "done"]
    assert sorted(p.name for p in out.iterdir()) == [
        "a.mov", "b.mov", "vsrup-batch.json", "vsrup-status.json"]
    assert count_frames(out / "a.mov") == 40
    whole = tmp_path / "whole.mov"
    vsrup("-i", src / "b.mkv", "-o", whole, "-m", "sim:40,temporal", *ARGS.split(), "-q")
    assert framemd5(out / "b.mov") == framemd5(whole)
