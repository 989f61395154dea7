"""Progress in a log: stderr not a terminal gets plain lines, never carriage returns.

tree.avi's header claims 444 frames where 68 decode: the count is shown as an estimate
("of ~444") and a run never reports an ETA from it once the real frames pass it. The run
lasts about 13 s (sim:190, 68 frames) so that at least two 5-second lines come out; nothing
is asserted about timing beyond that count.
"""
import re

from vsrtest import MEDIA, count_frames, vsrup

LINE = re.compile(r"^vsrup: progress: frame (\d+)( of ~444 \(\d+%\))?, [0-9.]+ fps"
                  r"(, ETA ~\d+:\d\d:\d\d)?, busiest: (read|engine|encode|mux)$")


def test_progress_lines_in_a_log(tmp_path):
    out = tmp_path / "o.mov"
    proc = vsrup("-i", MEDIA / "tree.avi", "-o", out, "-m", "sim:190", "-s", 1)
    assert "\r" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.startswith("vsrup: progress:")]
    assert len(lines) >= 2, proc.stderr
    done = []
    for line in lines:
        m = LINE.match(line)
        assert m, line
        done.append(int(m.group(1)))
        assert bool(m.group(2)) == bool(m.group(3)), line  # an ETA only with the count
    assert done == sorted(done) and done[-1] <= 68
    assert count_frames(out) == 68


def test_quiet_prints_no_progress(tmp_path):
    proc = vsrup("-i", MEDIA / "tree.avi", "-o", tmp_path / "o.mov", "-m", "lanczos", "-s", 1,
                 "--frames", 3, "-q")
    assert proc.stderr == ""
