#!/bin/sh
# Downloads the official Real-ESRGAN x4 weights, checks their sha256 and imports them as vsrup
# TorchScript models (models/import_realesrgan.py).
#
#   scripts/fetch-realesrgan.sh [--from-shared] [--precision fp32|fp16] [x4plus] [x4fast]
#
#   x4plus  RealESRGAN_x4plus.pth (release v0.1.0): RRDBNet, 16.7 M parameters
#   x4fast  realesr-general-x4v3.pth (release v0.2.5.0): SRVGGNetCompact, 1.2 M parameters
#
# Writes models/out/realesrgan-<model>.pt (-fp16.pt with --precision fp16); the downloads are
# kept in $VSRUP_CACHE (default ${XDG_CACHE_HOME:-~/.cache}/vsrup). Weights: BSD-3-Clause,
# (c) Xintao Wang, https://github.com/xinntao/Real-ESRGAN.
#
# When a download fails (no network) and ../shared/models/realesrgan-ncnn is beside the
# checkout (or $VSR_SHARED/models/realesrgan-ncnn), the ncnn conversion of the same network is
# imported instead; --from-shared does that without trying the network. Otherwise the script
# says where to put a manual download. Python: $VSR_PYTHON, else the project's .venv
# (scripts/setup-python.sh).
#
# The sha256 values are not published by the Real-ESRGAN authors; they are the values that
# several independent projects record for these release files (with the same byte counts,
# 67,040,989 and 4,885,111). They could not be checked against a download from the machines
# this script was written on (no route to GitHub).
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
ncnn_dir=${VSR_SHARED:-$root/../shared}/models/realesrgan-ncnn
cache=${VSRUP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vsrup}
releases=https://github.com/xinntao/Real-ESRGAN/releases/download
precision=fp32
from_shared=
models=

die() {
    echo "fetch-realesrgan: error: $*" >&2
    exit 1
}

url_of() {
    case $1 in
    x4plus) echo "$releases/v0.1.0/RealESRGAN_x4plus.pth" ;;
    x4fast) echo "$releases/v0.2.5.0/realesr-general-x4v3.pth" ;;
    esac
}

sha256_of() {
    case $1 in
    x4plus) echo 4fa0d38905f75ac06eb49a7951b426670021be3018265fd191d2125df9d682f1 ;;
    x4fast) echo 8dc7edb9ac80ccdc30c3a5dca6616509367f05fbc184ad95b731f05bece96292 ;;
    esac
}

while [ $# -gt 0 ]; do
    case $1 in
    --from-shared) from_shared=1; shift ;;
    --precision) [ $# -ge 2 ] || die "--precision needs fp32 or fp16"; precision=$2; shift 2 ;;
    -h | --help) sed -n '2,23p' "$0"; exit 0 ;;
    x4plus | x4fast) models="$models $1"; shift ;;
    *) die "unknown argument '$1' (models: x4plus, x4fast; try --help)" ;;
    esac
done
case $precision in fp32 | fp16) ;; *) die "--precision must be fp32 or fp16, not '$precision'" ;; esac
[ -n "$models" ] || models="x4plus x4fast"

if [ -n "${VSR_PYTHON:-}" ]; then
    python=$VSR_PYTHON
else
    "$root/scripts/setup-python.sh"
    python=$root/.venv/bin/python
fi

download() { # URL FILE: 0 when FILE holds the download
    if command -v curl >/dev/null 2>&1; then
        curl -fLsS --retry 2 --connect-timeout 20 -o "$2.part" "$1" || { rm -f "$2.part"; return 1; }
    elif command -v wget >/dev/null 2>&1; then
        wget -q --tries=2 --timeout=20 -O "$2.part" "$1" || { rm -f "$2.part"; return 1; }
    else
        return 1
    fi
    mv "$2.part" "$2"
}

# Prints the checked .pth for a model, or nothing when it could not be downloaded.
fetch_pth() {
    url=$(url_of "$1")
    want=$(sha256_of "$1")
    pth=$cache/$(basename "$url")
    if [ ! -f "$pth" ]; then
        echo "fetch-realesrgan: downloading $url" >&2
        mkdir -p "$cache" || die "cannot create the cache folder $cache"
        download "$url" "$pth" || return 0
    fi
    sum=$(sha256sum "$pth" | cut -d' ' -f1)
    if [ "$sum" != "$want" ]; then
        rm -f "$pth"
        die "$pth has sha256 $sum, expected $want: damaged or wrong file, removed it"
    fi
    echo "$pth"
}

suffix=
[ "$precision" = fp16 ] && suffix=-fp16
for model in $models; do
    output=$root/models/out/realesrgan-$model$suffix.pt
    pth=
    [ -n "$from_shared" ] || pth=$(fetch_pth "$model")
    if [ -n "$pth" ]; then
        source="--pth $pth"
    elif [ -f "$ncnn_dir/realesrgan-$model.bin" ]; then
        [ -n "$from_shared" ] || echo "fetch-realesrgan: download failed; importing the ncnn copy in $ncnn_dir" >&2
        source="--ncnn $ncnn_dir/realesrgan-$model.param $ncnn_dir/realesrgan-$model.bin"
    else
        url=$(url_of "$model")
        die "could not download $url (no network?) and there is no ncnn copy in $ncnn_dir.
On a machine with network, download it, copy it to $cache/$(basename "$url")
(sha256 $(sha256_of "$model")) and run this script again."
    fi
    # shellcheck disable=SC2086
    "$python" "$root/models/import_realesrgan.py" $source --output "$output" \
        --precision "$precision"
done
