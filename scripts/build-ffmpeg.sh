#!/usr/bin/env bash
# Minimal FFmpeg for a machine without FFmpeg (the GPU bench machine): shared
# libraries + pkg-config files + the ffmpeg/ffprobe programs, with only what
# vsrup, its tests and scripts/bench_pytorch.py use. No network: the source is
# a carried tree or tarball (docs/GPU-BENCH.md).
#
#   scripts/build-ffmpeg.sh SOURCE PREFIX     SOURCE = folder or .tar.{xz,gz,bz2}
set -euo pipefail

if [ $# -ne 2 ]; then
    echo "usage: $0 SOURCE_DIR_OR_TARBALL PREFIX" >&2
    exit 2
fi
src=$1
prefix=$(mkdir -p "$2" && cd "$2" && pwd)
work=$prefix/src

if [ -f "$src" ]; then
    rm -rf "$work" && mkdir -p "$work"
    tar -xf "$src" -C "$work" --strip-components=1
    src=$work
fi
if [ ! -x "$src/configure" ]; then
    echo "build-ffmpeg.sh: $src has no FFmpeg configure script" >&2
    exit 1
fi

# What this machine lacks is switched off rather than failing the build: nasm
# (prores_ks and ffv1 are C anyway), zlib (png only).
extra=(--disable-x86asm)
if command -v nasm >/dev/null; then
    extra=()
fi
if echo '#include <zlib.h>' | "${CC:-cc}" -E - >/dev/null 2>&1; then
    extra+=(--enable-zlib)
fi

# Decoders cover the test clips (mpeg4/msmpeg4v3/cinepak in AVI, rawvideo,
# png) and read back what vsrup writes; encoders are vsrup's three codecs plus
# what the tests make intermediates with.
for c in prores prores_ks ffv1 dnxhd rawvideo png mpeg4 msmpeg4v3 cinepak pcm_s16le pcm_s24le ac3; do
    extra+=("--enable-decoder=$c" "--enable-encoder=$c")
done
build=$prefix/build
mkdir -p "$build"
cd "$build"
set -x
"$src/configure" --prefix="$prefix" --enable-shared --disable-static --disable-doc \
    --disable-debug --disable-autodetect --disable-everything "${extra[@]}" \
    --enable-avcodec --enable-avformat --enable-avutil --enable-swscale --enable-swresample \
    --enable-avfilter --enable-avdevice --enable-ffmpeg --enable-ffprobe \
    --enable-parser=ac3,mpeg4video,png \
    --enable-demuxer=avi,mov,matroska,mxf,rawvideo,image2,image2pipe,ac3 \
    --enable-muxer=mov,matroska,mxf,rawvideo,image2,avi,null \
    --enable-protocol=file,pipe \
    --enable-indev=lavfi \
    --enable-filter=scale,crop,format,setparams,testsrc2,smptehdbars,gradients,color,null,nullsrc,anullsrc,aresample,aformat,anull,trim,fps,setpts,select,concat,pad
make -j"$(nproc)"
make install
{ set +x; } 2>/dev/null
echo "build-ffmpeg.sh: installed in $prefix (PKG_CONFIG_PATH=$prefix/lib/pkgconfig)"
