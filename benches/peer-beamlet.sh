#!/usr/bin/env bash
# The `beamlet` peer of ../shared/peers/run.sh: `peer-beamlet.sh <bench> <args...>`
# runs the beamlet benchmark of that name with the peers' argument order and prints
# its result line with the peers' key names added, so run.sh and report.py treat
# beamlet as one more column. BEAMLET_BENCH_BIN names the directory holding the
# release benchmark binaries (benches/compare.sh builds them and sets it).
#
# Argument mapping (peers -> beamlet): skynet N DIV -> skynet N (beamlet's tree is
# always 10-ary); fairness H MS Y -> fairness H MS Y 0 (the peers' hogs never call
# their runtime, beamlet's PAY=0); the others take the same arguments. Cases beamlet
# has no benchmark for (call_deep_mailbox, restart_storm) fail with status 3.
set -euo pipefail
bin=${BEAMLET_BENCH_BIN:?set BEAMLET_BENCH_BIN to the directory of the benchmark binaries}
bench=${1:?usage: peer-beamlet.sh <bench> <args...>}
shift
case $bench in
    skynet) args=("$1") ;;
    fairness) args=("$1" "$2" "${3:-0}" 0) ;;
    spawn_idle | ring | pingpong | fanin | genserver_call | timers | tcp_echo | tcp_idle) args=("$@") ;;
    *) echo "beamlet has no benchmark $bench in the peers' set" >&2; exit 3 ;;
esac
line=$("$bin/$bench" "${args[@]}")
# The peers' n where beamlet's first size is another quantity: messages in all for
# fanin (K x L), calls in all for genserver_call (M), so report.py compares like N.
case $bench in
    fanin) line=$(echo "$line" | sed "s/ n=[0-9]* / n=$(( ${1:-1000} * ${2:-1000} )) /") ;;
    genserver_call) line=$(echo "$line" | sed "s/ n=[0-9]* / n=${2:-1000000} /") ;;
esac
# The peers' names for the same figures.
case $bench in
    ring) extra="hops_per_sec=$(echo "$line" | sed -n 's/.*ns_per_hop=\([0-9.]*\).*/\1/p' | awk '{ printf "%.0f", 1e9 / $1 }')" ;;
    fairness) extra="samples=$(echo "$line" | sed -n 's/.*wakeups=\([0-9]*\).*/\1/p')" ;;
    tcp_idle) extra="idle_conn_rss_bytes=$(echo "$line" | sed -n 's/.*bytes_per_conn=\([0-9.]*\).*/\1/p')" ;;
    *) extra="" ;;
esac
echo "$line${extra:+ $extra}"
