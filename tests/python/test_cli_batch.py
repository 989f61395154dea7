"""Batch: a folder of videos into an output folder. Done ones are done, a damaged one is
reported (exit 1) without stopping the others, a text file is skipped; a second run skips
the finished outputs without decoding them."""
import json
import shutil

from vsrtest import MEDIA, count_frames, ffmpeg, vsrup


def test_folder_batch(tmp_path):
    src, out = tmp_path / "in", tmp_path / "out"
    src.mkdir()
    out.mkdir()
    ffmpeg("-i", MEDIA / "Megamind.avi", "-fps_mode", "passthrough", "-frames:v", 12,
           "-vf", "scale=180:132", "-c:v", "mpeg4", "-c:a", "copy", src / "a.avi")
    ffmpeg("-i", MEDIA / "vtest.avi", "-frames:v", 12, "-vf", "scale=192:144", "-c:v", "mpeg4",
           src / "c.avi")
    (src / "b.avi").write_bytes((MEDIA / "Megamind.avi").read_bytes()[:6000])  # truncated
    (src / "notes.txt").write_text("not a film\n")
    proc = vsrup("-i", src, "-o", out, "-m", "lanczos", "-s", 2, "--json", tmp_path / "r.json",
                 check=False)
    assert proc.returncode == 1, proc.stderr
    assert sorted(p.name for p in out.iterdir()) == ["a.mov", "c.mov"]
    assert count_frames(out / "a.mov") == 12 and count_frames(out / "c.mov") == 12
    records = json.loads((tmp_path / "r.json").read_text())
    assert [(r["input"].rsplit("/", 1)[1], r["status"]) for r in records] == [
        ("a.avi", "done"), ("b.avi", "failed"), ("c.avi", "done"), ("notes.txt", "not a video")]
    assert "b.avi" in records[1]["error"]
    summary = proc.stderr[proc.stderr.index("status"):]
    assert "failed" in summary and "b.avi" in summary
    # again: the finished ones are skipped (the damaged one fails again), nothing rewritten
    before = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    (src / "b.avi").unlink()
    proc = vsrup("-i", src, "-o", out, "-m", "lanczos", "-s", 2, "--json", tmp_path / "r2.json")
    records = json.loads((tmp_path / "r2.json").read_text())
    assert [r["status"] for r in records] == ["done before", "done before", "not a video"]
    assert "frames in" not in proc.stderr  # nothing decoded
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == before


def test_files_batch_and_codec_extension(tmp_path):
    clip = tmp_path / "x.avi"
    ffmpeg("-i", MEDIA / "tree.avi", "-frames:v", 4, "-vf", "scale=64:48", "-c:v", "mpeg4", clip)
    shutil.copy(clip, tmp_path / "y.avi")
    out = tmp_path / "out"
    out.mkdir()
    vsrup("-i", clip, "-i", tmp_path / "y.avi", "-o", out, "-m", "lanczos", "-c", "ffv1", "-q")
    assert sorted(p.name for p in out.iterdir()) == ["x.mkv", "y.mkv"]
    proc = vsrup("-i", clip, "-i", tmp_path / "y.avi", "-o", tmp_path / "missing", "-m",
                 "lanczos", check=False)
    assert proc.returncode == 2 and "missing" in proc.stderr


def test_overwrite_redoes_finished_outputs(tmp_path):
    """Without -y a finished output is kept; with -y it is written again, here from
    another input of the same name, so the new frames show it was redone."""
    src, out = tmp_path / "in", tmp_path / "out"
    src.mkdir()
    out.mkdir()
    ffmpeg("-i", MEDIA / "tree.avi", "-frames:v", 4, "-vf", "scale=64:48", "-c:v", "mpeg4",
           src / "x.avi")
    vsrup("-i", src, "-o", out, "-m", "lanczos", "-s", 2, "-q")
    assert count_frames(out / "x.mov") == 4
    ffmpeg("-y", "-i", MEDIA / "tree.avi", "-frames:v", 6, "-vf", "scale=64:48", "-c:v",
           "mpeg4", src / "x.avi")
    vsrup("-i", src, "-o", out, "-m", "lanczos", "-s", 2, "--json", tmp_path / "kept.json")
    assert json.loads((tmp_path / "kept.json").read_text())[0]["status"] == "done before"
    assert count_frames(out / "x.mov") == 4
    vsrup("-i", src, "-o", out, "-m", "lanczos", "-s", 2, "-y", "--json", tmp_path / "y.json")
    assert json.loads((tmp_path / "y.json").read_text())[0]["status"] == "done"
    assert count_frames(out / "x.mov") == 6
    assert sorted(p.name for p in out.iterdir()) == ["x.mov"]
