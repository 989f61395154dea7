#!/bin/sh
# Container entrypoint (RunPod and the like): upscale every video of an input folder into an
# output folder, continuing whatever an earlier, stopped container left there.
#
#   VSRUP_INPUT_DIR   folder of videos (default /workspace/input)
#   VSRUP_OUTPUT_DIR  folder for the results, on the persistent volume (default /workspace/output)
#   VSRUP_MODEL       model file or built-in engine (vsrup's own default when unset)
#   VSRUP_ARGS        more vsrup options, split on spaces, e.g. "--chunk 60 -c ffv1"
#   VSRUP             the vsrup program (default: vsrup on PATH)
#
# SIGTERM (the platform's stop, before its grace period ends) is passed to vsrup, which
# finishes the chunk in flight and closes a playable partial file; the next start resumes it.
# $VSRUP_OUTPUT_DIR/vsrup-status.json says running, done, stopped or failed; the per-file
# report is $VSRUP_OUTPUT_DIR/vsrup-batch.json. Exit 0 only when every video is done.
set -u

in=${VSRUP_INPUT_DIR:-/workspace/input}
out=${VSRUP_OUTPUT_DIR:-/workspace/output}
vsrup=${VSRUP:-vsrup}
status=$out/vsrup-status.json

write_status() { # STATE EXIT_CODE
    printf '{"state": "%s", "exit_code": %s, "time": "%s", "report": "vsrup-batch.json"}\n' \
        "$1" "$2" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >"$status.tmp" && mv "$status.tmp" "$status"
}

mkdir -p "$out" || exit 1
write_status running null
rm -f "$out/vsrup-batch.json"

set -- -i "$in" -o "$out" --resume -q --json "$out/vsrup-batch.json"
[ -n "${VSRUP_MODEL:-}" ] && set -- "$@" -m "$VSRUP_MODEL"
# shellcheck disable=SC2086 # VSRUP_ARGS is a list of options
"$vsrup" "$@" ${VSRUP_ARGS:-} &
pid=$!
trap 'kill -TERM "$pid" 2>/dev/null' TERM INT HUP
# wait returns early when a trapped signal arrives: wait again until vsrup has ended
while :; do
    wait "$pid"
    code=$?
    kill -0 "$pid" 2>/dev/null || break
done

case $code in
0) write_status "done" 0 ;;
130) write_status stopped 130 ;;
*) write_status failed "$code" ;;
esac
exit "$code"
