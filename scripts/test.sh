#!/bin/sh
# The whole test suite: release build + every test (C units, end-to-end on real clips,
# models in Python, the TorchScript engine when libtorch is present), then the C tests and
# the end-to-end tests of the built-in engines again under AddressSanitizer/UBSan.
# Usage: scripts/test.sh [--no-sanitize]
set -eu
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)

if [ -f models/package-lock.json ] && command -v npm >/dev/null 2>&1 && [ ! -d models/node_modules ]; then
    echo "== npm ci (tf.js reference for the imported ESRGAN models)"
    npm ci --prefix models --no-audit --no-fund
fi

echo "== build (release)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j "$jobs"
echo "== tests"
ctest --test-dir build --output-on-failure -j "$jobs"

if [ "${1:-}" != "--no-sanitize" ]; then
    echo "== build (ASan + UBSan, built-in engines)"
    cmake -S . -B build-sanitize -DCMAKE_BUILD_TYPE=Debug -DVSR_SANITIZE=ON -DVSR_WITH_TORCH=OFF >/dev/null
    cmake --build build-sanitize -j "$jobs"
    echo "== tests under sanitizers"
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        ctest --test-dir build-sanitize --output-on-failure -j "$jobs" -R '^(unit|py\.test_cli|py\.test_colour_e2e)'
fi
