#!/bin/sh
# Builds tests/fuzz/fuzz_decode with clang (libFuzzer, ASan, UBSan) in build-fuzz/ and runs it
# for SECONDS (default 60) from a seed corpus of the test clips' first kilobytes.
# Usage: scripts/fuzz.sh [SECONDS]   (docs/FUZZING.md)
#   VSR_FUZZ_RUNS=N scripts/fuzz.sh   N inputs from seed 1 instead: the same inputs on every
#                                     machine (what scripts/test.sh runs)
set -eu
seconds=${1:-60}
root=$(cd "$(dirname "$0")/.." && pwd)
build=$root/build-fuzz
media=${VSR_SHARED:-$root/../shared}/media
corpus=$build/corpus

CC=clang cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVSR_FUZZ=ON \
    -DVSR_WITH_TORCH=OFF -DBUILD_TESTING=OFF >/dev/null
cmake --build "$build" --target fuzz_decode -j2 >/dev/null

mkdir -p "$corpus" "$build/crashes"
for clip in "$media"/*.avi; do
    [ -f "$clip" ] && head -c 1024 "$clip" >"$corpus/seed-$(basename "$clip").bin"
done
# A few more containers, made small: the fuzzer learns their headers from these.
for seed in mkv:ffv1 mov:prores_ks ts:mpeg2video mp4:mpeg4; do
    ext=${seed%%:*}
    [ -f "$corpus/seed.$ext" ] ||
        ffmpeg -v error -nostdin -f lavfi -i testsrc2=size=32x24:rate=5 -frames:v 3 \
            -c:v "${seed#*:}" -y "$corpus/seed.$ext"
done

if [ -n "${VSR_FUZZ_RUNS:-}" ]; then
    limit="-runs=$VSR_FUZZ_RUNS -seed=1"
else
    limit="-max_total_time=$seconds"
fi
# shellcheck disable=SC2086
"$build/fuzz_decode" $limit -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
    -artifact_prefix="$build/crashes/" "$corpus"
