#!/usr/bin/env bash
# erl <-> erl distribution benchmarks on loopback: two erl nodes, the peer running
# tests/erl/beamlet_peer.erl, the other benches/dist/dist_bench.erl.
# Usage: benches/dist/erl.sh [N=200000]
set -euo pipefail
cd "$(dirname "$0")/../.."
n=${1:-200000}
export ERL_CRASH_DUMP_SECONDS=0
out=$(mktemp -d)
trap 'kill $peer 2>/dev/null || true; rm -rf "$out"' EXIT
erlc -o "$out" tests/erl/beamlet_peer.erl benches/dist/dist_bench.erl
peer_name="bpeer$$@127.0.0.1"
erl -noshell -name "$peer_name" -setcookie bench -pa "$out" -eval 'beamlet_peer:start()' >/dev/null &
peer=$!
sleep 1.5
erl -noshell -name "bmain$$@127.0.0.1" -setcookie bench -pa "$out" -run dist_bench main "$peer_name" "$n"
