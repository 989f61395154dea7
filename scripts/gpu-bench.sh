#!/usr/bin/env bash
# The GPU benchmark of docs/GPU-BENCH.md, on a fresh machine with one NVIDIA
# GPU and the PyTorch 2.11 CUDA wheel: build vsrup against the wheel's libtorch
# (scripts/build.sh), run ctest, then measure four pipelines on a 1024x432 clip
# of 960 frames (the test clip looped) upscaled to 4096x1728 ProRes 422 HQ, scene
# cuts off (a loop's joins would cut chunks short), and print one table.
#
#   scripts/gpu-bench.sh [build] [test] [bench] [options]   (no stage: all three)
#
# Each stage keeps its results in build-gpu/ and skips work already done, so
# the stages can run as separate commands under a per-command time limit.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
build=$repo/build-gpu
bench=$build/bench
stages=()
media=
frames=960
ref_frames=96
test_regex=.
fresh=0

usage() {
    cat <<EOF
usage: $0 [build] [test] [bench] [options]
  --media DIR        folder with Megamind.avi or vtest.avi (default: the first of
                     shared/media, .devcarry/media, ../shared/media that exists)
  --frames N         frames for the best PyTorch, model-only and vsrup runs (default $frames)
  --ref-frames N     frames for the reference pipeline, the slowest (default $ref_frames)
  --tests REGEX      ctest -R filter for the test stage (default: all tests)
  --fresh            discard earlier measurements and the test clip
Results go to \$OUT when it is set, else to $bench.
EOF
}

while [ $# -gt 0 ]; do
    case $1 in
    build | test | bench) stages+=("$1") ;;
    --media) media=$2; shift ;;
    --frames) frames=$2; shift ;;
    --ref-frames) ref_frames=$2; shift ;;
    --tests) test_regex=$2; shift ;;
    --fresh) fresh=1 ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
    esac
    shift
done
[ ${#stages[@]} -gt 0 ] || stages=(build test bench)
out=${OUT:-$bench}
mkdir -p "$bench/results" "$out"

say() { printf '\n== gpu-bench: %s\n' "$*"; }
die() { printf 'gpu-bench: error: %s\n' "$*" >&2; exit 1; }

find_python() {
    for py in python3 /usr/bin/python3 python; do
        if command -v "$py" >/dev/null &&
            "$py" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
            command -v "$py"
            return
        fi
    done
    die "no python with torch and a working CUDA device (tried python3, /usr/bin/python3, python)"
}

# Debian packages carried in .devcarry/debs (docs/GPU-BENCH.md), unpacked into the build
# folder: pkg-config when the machine has none, nlohmann-json3-dev (headers only),
# libjson-c-dev and libjson-c5 (the --json reports).
debroot=$build/debroot
unpack_debs() {
    if ls "$repo"/.devcarry/debs/*.deb >/dev/null 2>&1; then
        local libdir=$debroot/usr/lib/x86_64-linux-gnu
        for deb in "$repo"/.devcarry/debs/*.deb; do dpkg -x "$deb" "$debroot"; done
        # the carried .pc files say /usr: point them into the unpacked tree
        [ ! -d "$libdir/pkgconfig" ] || sed -i "s|=/usr|=$debroot/usr|" "$libdir"/pkgconfig/*.pc
        export PATH=$PATH:$debroot/usr/bin
        export PKG_CONFIG_PATH=${PKG_CONFIG_PATH:+$PKG_CONFIG_PATH:}$libdir/pkgconfig
        export LD_LIBRARY_PATH=${LD_LIBRARY_PATH:+$LD_LIBRARY_PATH:}$libdir
    fi
    command -v pkg-config >/dev/null ||
        die "no pkg-config (CMake finds FFmpeg with it): carry pkgconf-bin, pkgconf and libpkgconf3 .debs in .devcarry/debs"
    [ -f /usr/include/nlohmann/json.hpp ] || [ -f "$debroot/usr/include/nlohmann/json.hpp" ] ||
        die "no nlohmann/json.hpp: carry the nlohmann-json3-dev .deb in .devcarry/debs"
    pkg-config --exists json-c ||
        die "no json-c: carry the libjson-c-dev and libjson-c5 .debs in .devcarry/debs"
}

# FFmpeg's libraries and CLI: the machine's own, else one built from carried source.
find_ffmpeg() {
    local prefix=$build/ffmpeg
    local mods=(libavformat libavcodec libavutil libswscale)
    if [ -d "$prefix/lib/pkgconfig" ]; then
        export PKG_CONFIG_PATH=$prefix/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}
        export PATH=$prefix/bin:$PATH
        export LD_LIBRARY_PATH=$prefix/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
    fi
    if pkg-config --exists "${mods[@]}" && command -v ffmpeg >/dev/null && command -v ffprobe >/dev/null; then
        return
    fi
    say "FFmpeg development libraries or CLI missing: building FFmpeg from carried source"
    local src=${FFMPEG_SRC:-}
    if [ -z "$src" ]; then
        src=$(find "$repo/.devcarry" -maxdepth 1 \( -name 'ffmpeg*.tar.*' -o -type d -name 'ffmpeg*' \) \
            2>/dev/null | sort | tail -n 1)
    fi
    [ -n "$src" ] || die "no FFmpeg here and no source to build: put an FFmpeg source folder or
  tarball in .devcarry/ (docs/GPU-BENCH.md) and carry .devcarry, or set FFMPEG_SRC"
    "$repo/scripts/build-ffmpeg.sh" "$src" "$prefix" >"$build/ffmpeg-build.log" 2>&1 ||
        die "FFmpeg build failed, see $build/ffmpeg-build.log"
    find_ffmpeg
}

find_media() {
    if [ -z "$media" ]; then
        for d in "$repo/shared/media" "$repo/.devcarry/media" "$repo/../shared/media"; do
            if [ -d "$d" ]; then media=$d; break; fi
        done
    fi
    [ -z "$media" ] || media=$(cd "$media" && pwd)
}

stage_build() {
    say "build vsrup against $("$py" -c 'import torch; print("torch", torch.__version__, "CUDA", torch.version.cuda)')"
    local args=(-DCMAKE_PREFIX_PATH="$debroot/usr")
    [ -z "$media" ] || args+=(-DVSR_SHARED_DIR="$(dirname "$media")")
    [ -f /usr/include/nlohmann/json.hpp ] || args+=(-DNLOHMANN_JSON_INCLUDE="$debroot/usr/include")
    # scripts/build.sh configures with the wheel's CMake prefix and the CUDA toolkit and
    # stops short of nothing; the check below makes a CPU-only module an error here.
    VSR_PYTHON=$py "$repo/scripts/build.sh" "$build" "${args[@]}"
    ldd "$build/vsrup_torch.so" | grep -q libtorch_cuda ||
        die "vsrup_torch.so is not linked to libtorch_cuda: vsrup would run on the CPU"
}

stage_test() {
    say "ctest (GPU tests included), regex '$test_regex'"
    local rc=0
    ctest --test-dir "$build" --output-on-failure -j 4 --timeout 500 -R "$test_regex" \
        2>&1 | tee "$out/ctest.log" || rc=$?
    grep -E 'tests passed|tests failed|Skipped|\*\*\*Failed|Not Run' "$out/ctest.log" || true
    [ "$rc" -eq 0 ] || echo "gpu-bench: some tests failed (rc $rc); the benchmark still runs"
}

make_clip() {
    local clip=$1
    [ -s "$clip" ] && return
    local src=()
    local vf
    if [ -n "$media" ] && [ -f "$media/Megamind.avi" ]; then
        src=(-i "$media/Megamind.avi"); vf="crop=720:304:0:112,scale=1024:432:flags=bicubic"
    elif [ -n "$media" ] && [ -f "$media/vtest.avi" ]; then
        src=(-i "$media/vtest.avi"); vf="crop=768:324:0:126,scale=1024:432:flags=bicubic"
    else
        echo "gpu-bench: no Megamind.avi or vtest.avi (--media): using a synthetic testsrc2 clip"
        src=(-f lavfi -i "testsrc2=s=1024x432:r=25"); vf=null
    fi
    # Looped to the frame count; FFV1 is lossless and cheap to decode: every pipeline reads
    # the same pixels
    ffmpeg -v error -y -stream_loop -1 "${src[@]}" -frames:v "$frames" -vf "$vf" -an -c:v ffv1 \
        "$clip.part.mkv"
    mv "$clip.part.mkv" "$clip"
}

# measure NAME CMD...: one JSON line from bench_pytorch.py into results/NAME.json,
# skipped when a previous call already measured it.
measure() {
    local name=$1; shift
    local result=$bench/results/$name.json
    if [ -s "$result" ]; then
        echo "gpu-bench: $name already measured ($result)"
        return
    fi
    say "measuring $name"
    local rc=0
    timeout 560 "$@" | tee "$result.part" || rc=$?
    if [ "$rc" -ne 0 ]; then
        echo "gpu-bench: $name failed (rc $rc)"
        rm -f "$result.part"
        return
    fi
    tail -n 1 "$result.part" >"$result" && rm -f "$result.part"
}

stage_bench() {
    [ -x "$build/vsrup" ] || die "no $build/vsrup: run the build stage first"
    if [ "$fresh" -eq 1 ]; then rm -rf "$bench/results" "$bench"/clip-*.mkv; mkdir -p "$bench/results"; fi
    local fp16=$bench/basicvsrpp-c64n7-random-fp16.pt
    for p in fp16 fp32; do
        local f=$bench/basicvsrpp-c64n7-random-$p.pt
        [ -s "$f" ] || "$py" "$repo/models/export.py" --random-init --seed 1 --precision "$p" --output "$f"
    done
    local clip=$bench/clip-1024x432-$frames.mkv
    make_clip "$clip"
    local tmp=$bench/tmp
    mkdir -p "$tmp"
    local bp=("$py" "$repo/scripts/bench_pytorch.py")
    export PYTHONUNBUFFERED=1
    measure 1-reference "${bp[@]}" reference --input "$clip" --output "$tmp/png" \
        --frames "$ref_frames" --chunk 96
    rm -rf "$tmp/png" # 96 PNGs of 4096x1728: gigabytes
    measure 2-best "${bp[@]}" best --input "$clip" --output "$tmp/best.mov" --frames "$frames" \
        --chunk 96 --overlap 8
    measure 3-model-only "${bp[@]}" model-only --input "$clip" --model "$fp16" --frames "$frames" \
        --chunk 96 --overlap 8
    measure 4-vsrup "${bp[@]}" monitor -- "$build/vsrup" -q -y -i "$clip" -o "$tmp/vsrup.mov" \
        --model "$fp16" --device cuda --chunk 96 --overlap 8 --scene-cuts off --codec prores --profile hq \
        --frames "$frames" --json "$bench/results/4-vsrup-report.json"
    rm -f "$tmp"/*.mov
    say "table"
    "${bp[@]}" table --results "$bench/results" --command "scripts/gpu-bench.sh ${stages[*]} --frames $frames --ref-frames $ref_frames" \
        | tee "$out/gpu-bench.md"
    cp "$bench"/results/*.json "$out/" 2>/dev/null || true
    echo "gpu-bench: table in $out/gpu-bench.md; add it to docs/PERFORMANCE.md"
}

py=$(find_python)
echo "gpu-bench: python $py"
unpack_debs
find_ffmpeg
echo "gpu-bench: FFmpeg libavcodec $(pkg-config --modversion libavcodec), CLI $(command -v ffmpeg)"
find_media
echo "gpu-bench: media ${media:-none}"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
for s in "${stages[@]}"; do "stage_$s"; done
