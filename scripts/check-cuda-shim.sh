#!/bin/sh
# Compiles the CUDA half of src/engine_torch.cpp without a GPU or a CUDA libtorch:
# syntax and types only, against the ATen/c10 CUDA headers that Debian's libtorch-dev ships
# and the CUDA toolkit headers. Linking needs libtorch_cuda, which only the GPU machine has.
#
# Usage: scripts/check-cuda-shim.sh    (CXX, CUDA_HOME and TORCH_INCLUDE may be overridden)
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
cuda=${CUDA_HOME:-/usr/local/cuda}
torch=${TORCH_INCLUDE:-/usr/include}

if [ ! -f "$cuda/include/cuda_runtime_api.h" ]; then
    echo "check-cuda-shim: no CUDA headers under $cuda/include (set CUDA_HOME)" >&2
    exit 1
fi

# Debian's libtorch-dev lacks this CMake-generated header of the c10 CUDA library; a CUDA
# libtorch (shared libraries) generates it with this one definition.
stub=$(mktemp -d)
trap 'rm -rf "$stub"' EXIT
mkdir -p "$stub/c10/cuda/impl"
if [ ! -f "$torch/c10/cuda/impl/cuda_cmake_macros.h" ]; then
    printf '#pragma once\n#define C10_CUDA_BUILD_SHARED_LIBS\n' >"$stub/c10/cuda/impl/cuda_cmake_macros.h"
fi

${CXX:-g++} -std=c++17 -fsyntax-only -Wall -Wextra -Werror=unused-variable \
    -DVSR_TORCH_CUDA=1 \
    -I"$root/include" -I"$stub" -I"$cuda/include" -I"$torch" -I"$torch/torch/csrc/api/include" \
    "$root/src/engine_torch.cpp"
echo "check-cuda-shim: src/engine_torch.cpp compiles with VSR_TORCH_CUDA"
