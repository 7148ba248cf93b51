%% The Erlang side of tests/dist_erlang.rs: a node with an echo process, a
%% gen_server and a control process that does what the Rust test asks.
-module(beamlet_peer).
-behaviour(gen_server).
-export([start/0, init/1, handle_call/3, handle_cast/2, handle_info/2]).

start() ->
    register(echo, spawn(fun echo/0)),
    {ok, _} = gen_server:start({local, counter}, ?MODULE, 0, []),
    register(ctl, spawn(fun ctl/0)),
    register(sink, spawn(fun sink/0)),
    io:format("ready~n").

echo() ->
    receive
        {From, Msg} when is_pid(From) -> From ! {echo, Msg};
        _ -> ok
    end,
    echo().

%% {call, Server, Request, ReplyTo}: gen_server:call(Server, Request) from here,
%% the outcome sent to ReplyTo. {rpc, Node, M, F, A, ReplyTo}: rpc:call,
%% erpc:call and spawn/4 of M:F(A) on Node, the outcomes sent to ReplyTo.
%% {spawn_victim, ReplyTo}: a process linked to nothing that sends its pid and
%% exits with `boom` when told `die`.
ctl() ->
    receive
        {call, Server, Request, ReplyTo} ->
            spawn(fun() ->
                Result = try gen_server:call(Server, Request, 5000) of
                             R -> {ok, R}
                         catch exit:Why -> {exit, Why}
                         end,
                ReplyTo ! {called, Result}
            end);
        {rpc, Node, M, F, A, ReplyTo} ->
            spawn(fun() ->
                Rpc = rpc:call(Node, M, F, A, 5000),
                Erpc = try {ok, erpc:call(Node, M, F, A, 5000)} catch C:R -> {C, R} end,
                Spawned = spawn(Node, M, F, A),
                ReplyTo ! {rpc, Rpc, Erpc, is_pid(Spawned)}
            end);
        {spawn_victim, ReplyTo} ->
            Victim = spawn(fun() -> receive die -> exit(boom) end end),
            ReplyTo ! {victim, Victim};
        {watch, Pid, ReplyTo} ->
            spawn(fun() ->
                process_flag(trap_exit, true),
                link(Pid),
                Ref = erlang:monitor(process, Pid),
                ReplyTo ! {watching, self()},
                Exit = receive {'EXIT', Pid, R1} -> R1 after 10000 -> timeout end,
                Down = receive {'DOWN', Ref, process, Pid, R2} -> R2 after 10000 -> timeout end,
                ReplyTo ! {watched, Exit, Down}
            end);
        _ -> ok
    end,
    ctl().

%% {expect, N, From}: takes N {msg, _, _} messages, then tells From `sunk`.
sink() ->
    receive
        {expect, N, From} -> sink(N), From ! sunk;
        _ -> ok
    end,
    sink().

sink(0) -> ok;
sink(N) -> receive {msg, _, _} -> sink(N - 1) end.

init(N) -> {ok, N}.
handle_call({add, K}, _From, N) -> {reply, N + K, N + K};
handle_call(get, _From, N) -> {reply, N, N}.
handle_cast({add, K}, N) -> {noreply, N + K}.
handle_info(_, N) -> {noreply, N}.
