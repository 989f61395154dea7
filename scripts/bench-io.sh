#!/bin/sh
# I/O benchmark of the streaming path without a model: vsrup's built-in lanczos 4x to
# ProRes 422 HQ against ffmpeg doing the same work (lanczos 4x scale, prores_ks hq, video
# only), on the same input, in one run. Prints the rates and their ratios.
#
# Three ffmpeg baselines:
#   default  the command as people type it (prores_ks' default rate control);
#   q1       the same fixed quantiser vsrup uses by default (docs/ENCODERS.md);
#   q1+709   also converting an SD source's BT.601 matrix to BT.709 (matrix only, as vsrup
#            does; DESIGN.md "Colour"): the same output, so the same work.
# The runs are interleaved and repeated; each rate is the median over the repeats, so one
# busy moment on a shared machine does not decide the result.
# Usage: scripts/bench-io.sh [INPUT] [FRAMES] [REPEATS]   (build first: cmake --build build)
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
input=${1:-$here/../shared/media/Megamind.avi}
frames=${2:-96}
repeats=${3:-3}
vsrup=${VSRUP:-$here/build/vsrup}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

probe() { ffprobe -v error -select_streams v:0 -show_entries "stream=$1" -of csv=p=0 "$input"; }
w=$(probe width)
h=$(probe height)
matrix=$(probe color_space)
# vsrup's policy for untagged video: BT.601 below 720 lines, BT.709 from 720 up.
case "$matrix" in
unknown | "") if [ "$h" -lt 720 ]; then matrix=bt470bg; else matrix=bt709; fi ;;
esac
scale="scale=$((4 * w)):$((4 * h)):flags=lanczos,format=yuv422p10le"
to709="format=yuv444p,colorspace=ispace=$matrix:space=bt709:iprimaries=bt709:primaries=bt709"
to709="$to709:itrc=bt709:trc=bt709:irange=tv:range=tv:format=yuv444p10"

ffmpeg_run() { # NAME FILTERS [ENCODER OPTIONS...]
    name=$1 filters=$2
    shift 2
    ffmpeg -v error -nostdin -y -i "$input" -frames:v "$frames" -an -sn -vf "$filters" \
        -c:v prores_ks -profile:v hq "$@" "$tmp/$name.mov"
}
vsrup_run() {
    "$vsrup" -q -y -i "$input" -o "$tmp/vsrup.mov" -m lanczos --frames "$frames" --no-audio
}
timed() { # NAME COMMAND...: appends the fps of one run to $tmp/NAME.fps
    name=$1
    shift
    t0=$(date +%s.%N)
    "$@"
    t1=$(date +%s.%N)
    echo "$frames $t0 $t1" | awk '{ printf "%.3f\n", $1 / ($3 - $2) }' >>"$tmp/$name.fps"
}
median() { sort -n "$tmp/$1.fps" | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

i=0
while [ "$i" -lt "$repeats" ]; do
    timed default ffmpeg_run default "$scale"
    timed q1 ffmpeg_run q1 "$scale" -q:v 1
    if [ "$matrix" = bt709 ]; then
        cp "$tmp/q1.fps" "$tmp/q1_709.fps"
    else
        timed q1_709 ffmpeg_run q1_709 "$to709,$scale" -q:v 1
    fi
    timed vsrup vsrup_run
    i=$((i + 1))
done

bytes() { if [ -f "$tmp/$1.mov" ]; then stat -c %s "$tmp/$1.mov"; else echo "(as q1)"; fi; }
echo "input: $input (${w}x${h}, matrix $matrix), $frames frames -> $((4 * w))x$((4 * h)) ProRes 422 HQ"
echo "machine: $(nproc) cores, $(uname -m), $(ffmpeg -version | head -1 | cut -d' ' -f1-3); median of $repeats runs"
row() { printf "%-46s %8s fps  %s bytes\n" "$1" "$(median "$2")" "$(bytes "$3")"; }
row "ffmpeg scale=lanczos + prores_ks hq" default default
row "ffmpeg ... prores_ks hq -q:v 1" q1 q1
row "ffmpeg ... -q:v 1, $matrix->bt709 matrix" q1_709 q1_709
row "vsrup -m lanczos (prores hq)" vsrup vsrup
echo "$(median vsrup) $(median default) $(median q1) $(median q1_709)" | awk '{
    printf "ratio vsrup/ffmpeg: %.2f (default rate control), %.2f (same quantiser), %.2f (same quantiser and colour)\n",
        $1 / $2, $1 / $3, $1 / $4 }'
