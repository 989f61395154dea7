#!/bin/sh
# The whole test suite: the project's venv (scripts/setup-python.sh), the release build against
# its libtorch with CUDA compiled in (scripts/build.sh), every test (C units, end-to-end on real
# clips, models in Python, the TorchScript engine on the CPU; GPU tests skip saying so without a
# device), then the C tests and the end-to-end tests of the built-in engines again under
# AddressSanitizer/UBSan, after 3,000 inputs of the decode fuzzer (docs/FUZZING.md, needs clang).
# About 30 CPU-minutes: 20 minutes on an idle 2-core machine.
# Usage: scripts/test.sh [--no-sanitize]
set -eu
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)

echo "== build (release, libtorch from .venv)"
scripts/build.sh build
echo "== tests"
ctest --test-dir build --output-on-failure -j "$jobs"

if [ "${1:-}" != "--no-sanitize" ]; then
    if command -v clang >/dev/null 2>&1; then
        echo "== fuzz: 3000 inputs from seed 1 (libFuzzer, ASan + UBSan)"
        VSR_FUZZ_RUNS=3000 scripts/fuzz.sh
    else
        echo "== fuzz: skipped (no clang; apt-get install clang libclang-rt-14-dev)"
    fi
    echo "== build (ASan + UBSan, built-in engines)"
    cmake -S . -B build-sanitize -DCMAKE_BUILD_TYPE=Debug -DVSR_SANITIZE=ON -DVSR_WITH_TORCH=OFF \
        -DVSR_PYTHON="$PWD/.venv/bin/python" >/dev/null
    cmake --build build-sanitize -j "$jobs"
    echo "== tests under sanitizers"
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        ctest --test-dir build-sanitize --output-on-failure -j "$jobs" \
        -R '^(unit|py\.test_cli|py\.test_colour_e2e)'
fi
