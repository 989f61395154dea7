#!/bin/sh
# Fetch UpscalerJS' ESRGAN models from npm and import them as vsrup TorchScript models.
#
#   scripts/fetch-esrgan.sh                 # esrgan-{slim,medium,thick}-x4
#   scripts/fetch-esrgan.sh slim-x2 thick-x8
#
# Writes models/out/esrgan-<size>-x<scale>.pt. The packages (MIT, (c) 2022 Kevin Scott,
# https://github.com/thekevinscott/UpscalerJS) and TensorFlow.js land in models/node_modules,
# pinned by models/package-lock.json. Needs node/npm and /usr/bin/python3 with torch.
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
python=${VSR_PYTHON:-/usr/bin/python3}
[ $# -gt 0 ] || set -- slim-x4 medium-x4 thick-x4

for model in "$@"; do
    case $model in
    slim-x[2348] | medium-x[2348] | thick-x[2348]) ;;
    *) echo "fetch-esrgan: unknown model '$model' (slim|medium|thick)-x(2|3|4|8)" >&2; exit 2 ;;
    esac
done

npm ci --prefix "$root/models" --no-audit --no-fund

for model in "$@"; do
    size=${model%-x*}
    scale=${model##*-x}
    "$python" "$root/models/import_esrgan.py" \
        "$root/models/node_modules/@upscalerjs/esrgan-$size/models/x$scale/model.json" \
        "$root/models/out/esrgan-$size-x$scale.pt"
done
