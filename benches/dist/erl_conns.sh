#!/usr/bin/env bash
# The erl counterpart of `cargo bench -p beamlet-benches --bench dist_conns`: the
# RSS one distribution connection costs an erl node (OTP 25), measured the same
# way: K + 1 peers, the first connection and a call to it paid before measuring.
# Usage: benches/dist/erl_conns.sh [K=16]
set -euo pipefail
cd "$(dirname "$0")/../.."
k=${1:-16}
export ERL_CRASH_DUMP_SECONDS=0
out=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; rm -rf "$out"' EXIT
erlc -o "$out" tests/erl/beamlet_peer.erl
for i in $(seq 0 "$k"); do
    erl -noshell -name "cpeer${i}x$$@127.0.0.1" -setcookie bench -pa "$out" \
        -eval 'beamlet_peer:start()' >/dev/null &
    pids+=($!)
done
sleep $((2 + k / 6))
erl -noshell -name "chub$$@127.0.0.1" -setcookie bench -eval "
    Rss = fun() ->
        {ok, S} = file:read_file(\"/proc/self/status\"),
        [_, L | _] = string:split(S, \"VmRSS:\"),
        {Kib, _} = string:to_integer(string:trim(L)), Kib
    end,
    Peers = [list_to_atom(\"cpeer\" ++ integer_to_list(I) ++ \"x$$@127.0.0.1\") || I <- lists:seq(0, $k)],
    Conn = fun(N) -> true = net_kernel:connect_node(N), gen_server:call({counter, N}, {add, 1}) end,
    Conn(hd(Peers)),
    Before = Rss(),
    T0 = erlang:monotonic_time(microsecond),
    lists:foreach(Conn, tl(Peers)),
    Us = erlang:monotonic_time(microsecond) - T0,
    After = Rss(),
    io:format(\"bench=dist_conns impl=erlang n=~b secs=~.3f rss_kib=~b kib_per_conn=~.1f connect_ms=~.2f~n\",
              [$k, Us / 1.0e6, After, (After - Before) / $k, Us / 1000 / $k]),
    halt()."
