#!/bin/sh
# The whole test suite: the project's venv (scripts/setup-python.sh), the release build against
# its libtorch with CUDA compiled in (scripts/build.sh), every test (C units, end-to-end on real
# clips, models in Python, the TorchScript engine on the CPU; GPU tests skip saying so without a
# device), then the C tests and the end-to-end tests of the built-in engines again under
# AddressSanitizer/UBSan. About 25 CPU-minutes: 15 minutes on a 2-core machine.
# Usage: scripts/test.sh [--no-sanitize]
set -eu
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)

echo "== build (release, libtorch from .venv)"
scripts/build.sh build
echo "== tests"
ctest --test-dir build --output-on-failure -j "$jobs"

if [ "${1:-}" != "--no-sanitize" ]; then
    echo "== build (ASan + UBSan, built-in engines)"
    cmake -S . -B build-sanitize -DCMAKE_BUILD_TYPE=Debug -DVSR_SANITIZE=ON -DVSR_WITH_TORCH=OFF \
        -DVSR_PYTHON="$PWD/.venv/bin/python" >/dev/null
    cmake --build build-sanitize -j "$jobs"
    echo "== tests under sanitizers"
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        ctest --test-dir build-sanitize --output-on-failure -j "$jobs" \
        -R '^(unit|py\.test_cli|py\.test_colour_e2e)'
fi
