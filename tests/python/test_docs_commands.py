"""The README's runnable examples, run as written.

Every fenced block after a `<!-- test -->` line in README.md is taken line by line and run
with bash in a scratch checkout: `build` there is this build folder and `../shared` the shared
folder, so the commands' relative paths (`build/vsrup`, `../shared/media/...`) mean what they
mean in a fresh clone. Each output is then counted by ffprobe, independently of vsrup.
"""
import re
import shlex
import subprocess

from vsrtest import BUILD, SHARED, SOURCE, count_frames, vsrup

MARK = "<!-- test -->"


def runnable_blocks(text):
    """The command lines of each fenced block right after a MARK line."""
    blocks = []
    for m in re.finditer(re.escape(MARK) + r"\n```[a-z]*\n(.*?)\n```", text, re.S):
        lines = m.group(1).replace("\\\n", " ").splitlines()
        blocks.append([line for line in lines if line.strip() and not line.startswith("#")])
    return blocks


def test_marks_are_all_found():
    text = (SOURCE / "README.md").read_text()
    blocks = runnable_blocks(text)
    assert len(blocks) == text.count(MARK) >= 2, "a mark without a fenced block right after it"
    for block in blocks:
        assert block and all(line.startswith("build/vsrup ") for line in block), block


def test_readme_commands_run(tmp_path):
    checkout = tmp_path / "vsrup"
    checkout.mkdir()
    (checkout / "build").symlink_to(BUILD)
    (tmp_path / "shared").symlink_to(SHARED)
    frames = {}  # output -> frames it should hold
    for block in runnable_blocks((SOURCE / "README.md").read_text()):
        for line in block:
            proc = subprocess.run(["bash", "-c", line], cwd=checkout, capture_output=True,
                                  text=True, timeout=300)
            assert proc.returncode == 0, f"{line}\n{proc.stderr}"
            args = shlex.split(line)
            out = args[args.index("-o") + 1]
            if "--join" in args:
                want = sum(frames[part] for part in args[args.index(out) + 1:])
            else:
                want = int(args[args.index("--frames") + 1])
            assert count_frames(checkout / out) == want, line
            frames[out] = want


def option_names(labels):
    """Each label's spellings, e.g. "-i, --input FILE" -> ("-i", "--input")."""
    return {tuple(re.findall(r"(?<![\w-])(-\w|--[\w-]+)", label)) for label in labels}


def test_readme_options_match_help():
    """README's option table and `vsrup --help` (made from cli.c's option table) list the
    same options with the same short letters; --help and --version are only in --help."""
    table = (SOURCE / "README.md").read_text().split("## Options", 1)[1].split("\n## ", 1)[0]
    readme = option_names(re.findall(r"^\| `(-[^`]*)`", table, re.M))
    help_text = vsrup("--help").stdout
    listed = option_names(re.findall(r"^  (-\w, --[\w-]+|    --[\w-]+)", help_text, re.M))
    assert len(readme) == 27 and listed - readme == {("-h", "--help"), ("-V", "--version")}
    assert readme <= listed
