#!/bin/sh
# Imports UpscalerJS' ESRGAN models as vsrup TorchScript models.
#
#   scripts/fetch-esrgan.sh                 # esrgan-{slim,medium,thick}-x4
#   scripts/fetch-esrgan.sh slim-x2 thick-x8
#
# Writes models/out/esrgan-<size>-x<scale>.pt. The weights (MIT, (c) 2022 Kevin Scott,
# https://github.com/thekevinscott/UpscalerJS) come from ../shared/models/upscalerjs when that
# copy is beside the checkout, else from npm (models/node_modules, pinned by
# models/package-lock.json; needs npm). Python: the project's .venv (scripts/setup-python.sh).
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
shared=${VSR_SHARED:-$root/../shared}/models/upscalerjs
[ $# -gt 0 ] || set -- slim-x4 medium-x4 thick-x4

for model in "$@"; do
    case $model in
    slim-x[2348] | medium-x[2348] | thick-x[2348]) ;;
    *) echo "fetch-esrgan: unknown model '$model' (slim|medium|thick)-x(2|3|4|8)" >&2; exit 2 ;;
    esac
done

"$root/scripts/setup-python.sh"
fetched=""
for model in "$@"; do
    size=${model%-x*}
    scale=${model##*-x}
    json=$shared/esrgan-$size/x$scale/model.json
    if [ ! -f "$json" ]; then
        if [ -z "$fetched" ]; then
            command -v npm >/dev/null 2>&1 || {
                echo "fetch-esrgan: no $json and no npm to fetch @upscalerjs/esrgan-$size" >&2
                exit 1
            }
            npm ci --prefix "$root/models" --no-audit --no-fund
            fetched=1
        fi
        json=$root/models/node_modules/@upscalerjs/esrgan-$size/models/x$scale/model.json
    fi
    "$root/.venv/bin/python" "$root/models/import_esrgan.py" "$json" \
        "$root/models/out/esrgan-$size-x$scale.pt"
done
