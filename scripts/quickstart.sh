#!/bin/sh
# The main job on a fresh machine: build vsrup, get a model, upscale a real clip.
# Model: the imported ESRGAN (npm, MIT) when it can be fetched, else the built-in lanczos.
# Usage: scripts/quickstart.sh [INPUT] [OUTPUT]
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
input=${1:-$here/../shared/media/Megamind.avi}
output=${2:-$here/out/quickstart_x4.mov}
cd "$here"

cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j "$(nproc 2>/dev/null || echo 2)"
mkdir -p "$(dirname "$output")"

model=lanczos
frames=""
if scripts/fetch-esrgan.sh slim-x4; then
    model=models/out/esrgan-slim-x4.pt
    frames="--frames 24" # one second; a trained model on a CPU takes 1-2 s a frame on 2 cores
else
    echo "could not fetch the ESRGAN model (offline?): using the built-in lanczos resize"
fi
echo "upscaling $input with $model"
# shellcheck disable=SC2086
build/vsrup -y -i "$input" -o "$output" -m "$model" $frames
ffprobe -v error -show_entries stream=codec_name,profile,width,height,pix_fmt,color_space \
    -of compact "$output"
