#!/usr/bin/env bash
# Side by side, in one run on this machine: beamlet's scheduler benchmarks and the
# peers' versions of the same benchmarks (Go, tokio, may, Erlang: ../shared/peers,
# whose run.sh runs every case for every peer and prints a table), then the ratios
# of beamlet to Go and to tokio. On these noisy machines only ratios from one run
# mean anything; absolute figures from different runs do not.
#
#   benches/compare.sh [quick|full] [REPS]          default: full 1
#   PEERS="go tokio" CASES="ring pingpong" benches/compare.sh full 3
#
# PEERS_DIR is where the peers live (default ../shared/peers, read-only: it is
# copied, without its build output, to target/compare/peers and built there).
# Needs Go and Erlang for those columns (apt-get install -y golang-go erlang-base).
# Writes the raw lines and the table to target/compare/results-<date>.txt (keep a
# run worth citing in benches/results/compare-<date>.txt).
set -euo pipefail
cd "$(dirname "$0")/.."
MODE=${1:-full}
REPS=${2:-1}
PEERS_DIR=${PEERS_DIR:-../shared/peers}
PEERS=${PEERS:-"go tokio erlang"}
CASES=${CASES:-"spawn_idle ring skynet pingpong fanin genserver_call fairness timers tcp_echo tcp_idle"}
WORK=$PWD/target/compare
[ -x "$PEERS_DIR/run.sh" ] || { echo "no peers at $PEERS_DIR (set PEERS_DIR)" >&2; exit 1; }

echo "== build beamlet's benchmarks" >&2
mkdir -p "$WORK/bin"
for b in spawn_idle ring skynet pingpong fanin genserver_call fairness timers tcp_echo tcp_idle; do
    exe=$(cargo bench -p beamlet-benches --bench "$b" --no-run --message-format=json 2>/dev/null |
        sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -1)
    [ -x "$exe" ] || { echo "no binary for $b" >&2; exit 1; }
    cp "$exe" "$WORK/bin/$b"
done

echo "== copy the peers to $WORK/peers" >&2
mkdir -p "$WORK/peers"
tar -C "$PEERS_DIR" --exclude=./target --exclude='./results-*' --exclude=./go/bench-go \
    --exclude=./erlang/ebin -cf - . | tar -C "$WORK/peers" -xf -

touch "$WORK/.started"
(
    cd "$WORK/peers"
    BEAMLET_BENCH_BIN=$WORK/bin EXTRA_PEERS=beamlet PEER_CMD_beamlet="$OLDPWD/benches/peer-beamlet.sh" \
        PEERS="$PEERS" CASES="$CASES" ./run.sh "$MODE" "$REPS"
)
result=$(find "$WORK/peers" -maxdepth 1 -name 'results-*.txt' -newer "$WORK/.started" | head -1)
[ -n "$result" ] || { echo "run.sh wrote no results file" >&2; exit 1; }
cp "$result" "$WORK/"
python3 benches/compare_ratios.py "$result"
echo "results: $WORK/$(basename "$result")" >&2
