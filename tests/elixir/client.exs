# The Elixir side of tests/dist_elixir.rs: run as
#   elixir --name N --cookie C tests/elixir/client.exs RUST_NODE
# It prints one inspected term per line; the Rust test compares them.
defmodule Client do
  def run(rust) do
    true = Node.connect(rust)

    # A beamlet GenServer whose requests and replies are derived serde types.
    IO.inspect(GenServer.call({:stock, rust}, {:add, %{item: "pear", count: 4}}))
    IO.inspect(GenServer.call({:stock, rust}, :list))

    # A beamlet process: a message to its name, the reply, then a monitor on it.
    send({:greeter, rust}, {:hello, self(), "elixir"})

    receive do
      {:welcome, pid, text} ->
        IO.inspect({:welcome, text})
        IO.inspect({:down, stop_and_watch(pid)})
    after
      10_000 -> IO.puts("no welcome")
    end

    # A name nobody has registered: the call exits with noproc at once.
    IO.inspect(call_reason({:nobody, rust}))
  end

  defp stop_and_watch(pid) do
    ref = Process.monitor(pid)
    send(pid, :stop)

    receive do
      {:DOWN, ^ref, :process, _, reason} -> reason
    after
      10_000 -> :no_down
    end
  end

  defp call_reason(server) do
    GenServer.call(server, :ping, 5_000)
  catch
    :exit, {reason, _call} -> reason
  end
end

[rust] = System.argv()
Client.run(String.to_atom(rust))
