%% erl <-> erl side of the distribution benchmarks (benches/benches/dist.rs is the
%% beamlet side): the same three measures against tests/erl/beamlet_peer.erl on
%% another node, printing the same result lines. Run by benches/dist/erl.sh.
-module(dist_bench).
-export([main/1]).

main([PeerArg, NArg]) ->
    Peer = list_to_atom(PeerArg),
    N = list_to_integer(NArg),
    true = net_kernel:connect_node(Peer),
    send(Peer, N),
    pingpong(Peer, N div 10),
    calls(Peer, N div 10),
    halt().

now_us() -> erlang:monotonic_time(microsecond).

send(Peer, N) ->
    {sink, Peer} ! {expect, N, self()},
    T = now_us(),
    [{sink, Peer} ! {msg, I, <<"payload">>} || I <- lists:seq(1, N)],
    receive sunk -> ok end,
    Secs = (now_us() - T) / 1.0e6,
    io:format("bench=dist_send impl=erlang n=~b secs=~.3f msgs_per_sec=~.1f~n", [N, Secs, N / Secs]).

pingpong(Peer, M) ->
    T = now_us(),
    [begin {echo, Peer} ! {self(), I}, receive {echo, I} -> ok end end || I <- lists:seq(1, M)],
    Secs = (now_us() - T) / 1.0e6,
    io:format("bench=dist_pingpong impl=erlang n=~b secs=~.3f us_per_rt=~.2f~n", [M, Secs, Secs * 1.0e6 / M]).

calls(Peer, M) ->
    T = now_us(),
    [gen_server:call({counter, Peer}, {add, 1}) || _ <- lists:seq(1, M)],
    Secs = (now_us() - T) / 1.0e6,
    io:format("bench=dist_call impl=erlang n=~b secs=~.3f calls_per_sec=~.1f~n", [M, Secs, M / Secs]).
