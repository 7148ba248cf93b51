#!/usr/bin/env bash
# Instruction counts of the hot paths under callgrind (repeatable to a fraction of a
# percent on a noisy machine, unlike wall-clock time): one scheduler, small sizes.
# Prints one line per benchmark:
#   bench=<name>_instr impl=beamlet n=<ops> secs=0 instr=<total> instr_per_op=<x>
# Usage: benches/instructions.sh [BIN_DIR]; BIN_DIR holds prebuilt bench binaries
# named after their bench (for comparing an older build); default: build them now.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "valgrind is needed (apt-get install valgrind)" >&2; exit 1; }

# name, arguments, operations those arguments make (warm-up included; spawn_idle:
# a process spawned, blocked in receive, woken by a message, exited)
CASES=(
    "pingpong|100000 1|110000"
    "ring|1000 100 1|100000"
    "genserver_call|10 100000 1|100000"
    "fanin|100 1000 1|100000"
    "spawn_idle|20000 0 1|20000"
)

bin_of() {
    if [ -n "${1:-}" ]; then echo "$1/$2"; return; fi
    cargo bench -p beamlet-benches --bench "$2" --no-run --message-format=json 2>/dev/null \
        | sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -1
}

for case in "${CASES[@]}"; do
    IFS='|' read -r name args ops <<<"$case"
    bin=$(bin_of "${1:-}" "$name")
    [ -x "$bin" ] || { echo "no benchmark binary for $name: $bin" >&2; exit 1; }
    # shellcheck disable=SC2086
    total=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin" $args 2>&1 >/dev/null \
        | sed -n 's/.*Collected : \([0-9]*\).*/\1/p')
    echo "bench=${name}_instr impl=beamlet n=$ops secs=0 instr=$total instr_per_op=$((total / ops))"
done
