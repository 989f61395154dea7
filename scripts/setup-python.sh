#!/bin/sh
# Makes the project's Python environment, .venv/ at the checkout root, from requirements.txt:
# PyTorch 2.11 (the CUDA 13 wheel: its libtorch is what vsrup builds against), torchvision,
# numpy, pytest. Idempotent: quiet and quick when .venv already matches requirements.txt.
# pip's download cache ($VSR_PIP_CACHE, else ~/.cache/pip) is kept between runs.
#
# Usage: scripts/setup-python.sh     then use .venv/bin/python
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
venv=$root/.venv
stamp=$venv/.vsrup-requirements
python=${PYTHON:-python3}

if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && cmp -s "$stamp" "$root/requirements.txt"; then
    exit 0
fi
command -v "$python" >/dev/null 2>&1 || {
    echo "setup-python: no $python (install python3 and python3-venv)" >&2
    exit 1
}
echo "== setting up $venv from requirements.txt (several GB the first time)"
if [ ! -x "$venv/bin/python" ]; then
    "$python" -m venv "$venv" || {
        echo "setup-python: '$python -m venv' failed (Debian: apt-get install python3-venv)" >&2
        exit 1
    }
fi
"$venv/bin/python" -m pip install --quiet --cache-dir "${VSR_PIP_CACHE:-$HOME/.cache/pip}" \
    --disable-pip-version-check -r "$root/requirements.txt"
"$venv/bin/python" -c 'import torch, torchvision, numpy, pytest; print("setup-python: torch", torch.__version__, "(CUDA", torch.version.cuda, ") in", torch.__file__.rsplit("/", 2)[0])'
cp "$root/requirements.txt" "$stamp"
