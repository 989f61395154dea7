#!/bin/sh
# The one build: vsrup and vsrup_torch.so against the project venv's libtorch (PyTorch 2.11,
# the CUDA 13 wheel) with the CUDA path compiled in and linked against libtorch_cuda, using the
# CUDA toolkit under $CUDA_HOME (default /usr/local/cuda). Makes the venv first when needed;
# with VSR_PYTHON set (a python whose torch to build against, as on the GPU machines, which
# cannot install anything) it uses that instead.
#
# Usage: scripts/build.sh [BUILD_DIR] [CMAKE_ARGS...]     (BUILD_DIR default: build)
#   scripts/build.sh build-notorch -DVSR_WITH_TORCH=OFF  # the built-in engines only
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build}
[ $# -gt 0 ] && shift
case $build in /*) ;; *) build=$root/$build ;; esac
jobs=$(nproc 2>/dev/null || echo 2)

if [ -n "${VSR_PYTHON:-}" ]; then
    python=$VSR_PYTHON
else
    "$root/scripts/setup-python.sh"
    python=$root/.venv/bin/python
fi
prefix=$("$python" -c 'import torch; print(torch.utils.cmake_prefix_path)')
cuda=${CUDA_HOME:-/usr/local/cuda}
cuda_args=""
if [ -x "$cuda/bin/nvcc" ]; then
    # The CUDA wheel's CMake config looks for the toolkit; no CUDA kernels are compiled, so
    # the architecture list only silences its GPU autodetection on machines without one.
    cuda_args="-DCUDAToolkit_ROOT=$cuda -DCMAKE_CUDA_COMPILER=$cuda/bin/nvcc"
    export TORCH_CUDA_ARCH_LIST="${TORCH_CUDA_ARCH_LIST:-8.0;9.0}"
fi
mkdir -p "$build"
generator=""
if [ ! -f "$build/CMakeCache.txt" ] && command -v ninja >/dev/null 2>&1; then
    generator="-G Ninja"
fi
# shellcheck disable=SC2086
cmake -S "$root" -B "$build" $generator -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$prefix" \
    -DVSR_PYTHON="$python" $cuda_args "$@" >"$build/configure.log" 2>&1 || {
    cat "$build/configure.log" >&2
    exit 1
}
grep 'vsrup:' "$build/configure.log" || true
cmake --build "$build" -j "$jobs"
if [ -f "$build/vsrup_torch.so" ]; then
    if ldd "$build/vsrup_torch.so" | grep -q libtorch_cuda; then
        echo "build: $build/vsrup_torch.so is linked against libtorch_cuda"
    else
        echo "build: warning: $build/vsrup_torch.so has no CUDA (libtorch without CUDA?)" >&2
    fi
fi
"$build/vsrup" --version
