#!/bin/sh
# I/O benchmark of the streaming path without a model: vsrup's built-in lanczos 4x to
# ProRes 422 HQ against ffmpeg doing the same work (lanczos 4x scale, prores_ks hq, video
# only), on the same input, in one run. Prints both rates and their ratio.
# Usage: scripts/bench-io.sh [INPUT] [FRAMES]   (build first: cmake --build build)
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
input=${1:-$here/../shared/media/Megamind.avi}
frames=${2:-96}
vsrup=${VSRUP:-$here/build/vsrup}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

size=$(ffprobe -v error -select_streams v:0 -show_entries stream=width,height -of csv=p=0:s=x "$input")
w=${size%x*}
h=${size#*x}

now() { date +%s.%N; }
rate() { echo "$1 $2 $3" | awk '{ printf "%.2f", $1 / ($3 - $2) }'; }

t0=$(now)
ffmpeg -v error -nostdin -y -i "$input" -frames:v "$frames" -an -sn \
    -vf "scale=$((4 * w)):$((4 * h)):flags=lanczos,format=yuv422p10le" \
    -c:v prores_ks -profile:v hq "$tmp/ffmpeg.mov"
t1=$(now)
# vsrup's ProRes default is a fixed quantiser (docs/ENCODERS.md): measure ffmpeg that way too.
ffmpeg -v error -nostdin -y -i "$input" -frames:v "$frames" -an -sn \
    -vf "scale=$((4 * w)):$((4 * h)):flags=lanczos,format=yuv422p10le" \
    -c:v prores_ks -profile:v hq -q:v 1 "$tmp/ffmpeg_q1.mov"
t1q=$(now)
"$vsrup" -q -y -i "$input" -o "$tmp/vsrup.mov" -m lanczos --frames "$frames" --no-audio
t2=$(now)

ff=$(rate "$frames" "$t0" "$t1")
ffq=$(rate "$frames" "$t1" "$t1q")
vs=$(rate "$frames" "$t1q" "$t2")
echo "input: $input (${w}x${h}), $frames frames -> $((4 * w))x$((4 * h)) ProRes 422 HQ"
echo "machine: $(nproc) cores, $(uname -m), $(ffmpeg -version | head -1 | cut -d' ' -f1-3)"
printf "%-40s %8s fps  %s bytes\n" "ffmpeg scale=lanczos + prores_ks hq" "$ff" "$(stat -c %s "$tmp/ffmpeg.mov")"
printf "%-40s %8s fps  %s bytes\n" "ffmpeg ... prores_ks hq -q:v 1" "$ffq" "$(stat -c %s "$tmp/ffmpeg_q1.mov")"
printf "%-40s %8s fps  %s bytes\n" "vsrup -m lanczos (prores hq)" "$vs" "$(stat -c %s "$tmp/vsrup.mov")"
echo "$vs $ff $ffq" | awk '{ printf "ratio vsrup/ffmpeg: %.2f (default rate control), %.2f (same quantiser)\n", $1 / $2, $1 / $3 }'
