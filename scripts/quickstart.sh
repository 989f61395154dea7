#!/bin/sh
# The main job on a fresh machine: build vsrup, get a model, upscale a real clip.
# Model: BasicVSR++ when scripts/fetch-model.sh has installed it, else the imported ESRGAN slim
# x4 (from ../shared, or npm), else the built-in lanczos.
# Usage: scripts/quickstart.sh [INPUT] [OUTPUT]
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
input=${1:-$here/../shared/media/Megamind.avi}
output=${2:-$here/out/quickstart_x4.mov}
cd "$here"

scripts/build.sh build
mkdir -p "$(dirname "$output")"

frames="--frames 12" # on a 2-core CPU a trained model takes seconds a frame; drop it on a GPU
if build/vsrup --version | grep -q "^Default model: /"; then
    model=default
elif scripts/fetch-esrgan.sh slim-x4; then
    model=models/out/esrgan-slim-x4.pt
else
    echo "no BasicVSR++ and no ESRGAN model could be had: using the built-in lanczos resize"
    model=lanczos
    frames=""
fi
echo "upscaling $input with $model"
if [ "$model" = default ]; then
    # shellcheck disable=SC2086
    build/vsrup -y -i "$input" -o "$output" $frames
else
    # shellcheck disable=SC2086
    build/vsrup -y -i "$input" -o "$output" -m "$model" $frames
fi
ffprobe -v error -show_entries stream=codec_name,profile,width,height,pix_fmt,color_space \
    -of compact "$output"
