#!/bin/sh
# Download the official BasicVSR++ REDS4 checkpoint, verify it, export it as a
# vsrup TorchScript model.
#
#   scripts/fetch-model.sh [--output MODEL.pt] [--precision fp32|fp16] [--url URL]
#
# The download is cached in $VSRUP_CACHE (default ${XDG_CACHE_HOME:-~/.cache}/vsrup), and
# the model goes there as basicvsrpp-reds4.pt unless --output says otherwise: vsrup runs that
# file when -m is not given.
# The expected sha256 prefix is the 8 hex digits before '.pth' in the file name
# (OpenMMLab's publish convention). Python: $VSR_PYTHON, else the project's .venv
# (scripts/setup-python.sh makes it).
set -eu

url=https://download.openmmlab.com/mmediting/restorers/basicvsr_plusplus/basicvsr_plusplus_c64n7_8x1_600k_reds4_20210217-db622b2f.pth
output=
precision=fp32

die() {
    echo "fetch-model.sh: error: $*" >&2
    exit 1
}

while [ $# -gt 0 ]; do
    case "$1" in
    --output) [ $# -ge 2 ] || die "--output needs a value"; output=$2; shift 2 ;;
    --precision) [ $# -ge 2 ] || die "--precision needs a value"; precision=$2; shift 2 ;;
    --url) [ $# -ge 2 ] || die "--url needs a value"; url=$2; shift 2 ;;
    -h | --help) sed -n '2,12p' "$0"; exit 0 ;;
    *) die "unknown argument '$1' (try --help)" ;;
    esac
done

file=$(basename "$url")
sha_prefix=$(echo "$file" | sed -n 's/.*-\([0-9a-f]\{8\}\)\.pth$/\1/p')
[ -n "$sha_prefix" ] || die "cannot read the sha256 prefix from '$file' (expected NAME-xxxxxxxx.pth)"
cache=${VSRUP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vsrup}
ckpt=$cache/$file
[ -n "$output" ] || output=$cache/basicvsrpp-reds4.pt # vsrup's default model (src/cli/locate.c)

mkdir -p "$cache" || die "cannot create the cache folder $cache"
if [ ! -f "$ckpt" ]; then
    echo "fetch-model.sh: downloading $url"
    if command -v curl >/dev/null 2>&1; then
        fetch="curl -fLsS --retry 2 --connect-timeout 20 -o"
    elif command -v wget >/dev/null 2>&1; then
        fetch="wget -q --tries=2 --timeout=20 -O"
    else
        die "neither curl nor wget is installed"
    fi
    if ! $fetch "$ckpt.part" "$url"; then
        rm -f "$ckpt.part"
        die "could not download $url (no network?). On a machine with network, download it and
copy it to $ckpt, then run this script again."
    fi
    mv "$ckpt.part" "$ckpt"
fi

sum=$(sha256sum "$ckpt" | cut -c1-8)
if [ "$sum" != "$sha_prefix" ]; then
    rm -f "$ckpt"
    die "$ckpt has sha256 $sum..., expected $sha_prefix...: damaged or wrong file, removed it"
fi

py=${VSR_PYTHON:-}
if [ -z "$py" ]; then
    "$(dirname "$0")/setup-python.sh" || die "cannot make the Python environment (.venv)"
    py=$(cd "$(dirname "$0")/.." && pwd)/.venv/bin/python
fi

# The checksum matched the published one, so the file's pickled metadata is trusted.
exec "$py" "$(dirname "$0")/../models/export.py" --checkpoint "$ckpt" --output "$output" \
    --precision "$precision" --trust-checkpoint
