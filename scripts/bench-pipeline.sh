#!/bin/sh
# Benchmark of the pipeline itself: vsrup with the simulated accelerator (-m sim:MS, MS
# milliseconds of wall time per frame that use no CPU), so what is measured is how well
# reading, the engine, encoding and muxing overlap. Prints end-to-end fps, the fps the
# simulated model allows (1000 / MS), each stage's busy fraction and the bottleneck.
#   sim:100  the engine must be the bottleneck: fps close to 10, busy.engine close to 1;
#   sim:5    the encoders must be: busy.encode close to 1.
# Usage: scripts/bench-pipeline.sh [INPUT] [MS...]   (build first: cmake --build build)
# VSRUP picks another binary (say, an older build to compare with).
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
input=${1:-$here/../shared/media/Megamind.avi}
[ $# -gt 0 ] && shift
[ $# -gt 0 ] || set -- 100 5
vsrup=${VSRUP:-$here/build/vsrup}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "$(date -u +%Y-%m-%d) $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $vsrup"
printf '%-8s %8s %8s %6s %6s %6s %6s  %s\n' model fps model-fps read engine encode mux bottleneck
for ms in "$@"; do
    "$vsrup" -y -q -i "$input" -o "$tmp/out.mov" -m "sim:$ms" --json "$tmp/report.json"
    python3 - "$tmp/report.json" "$ms" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
b = r.get("busy", {})  # builds before the asynchronous pipeline have no busy fractions
busy = " ".join(f"{b[k]:6.3f}" if k in b else f"{'-':>6}" for k in ("read", "engine", "encode", "mux"))
print(f"sim:{sys.argv[2]:<4} {r['fps']:8.2f} {1000 / float(sys.argv[2]):8.2f} {busy}  "
      f"{r.get('bottleneck', '-')}")
EOF
done
