#!/usr/bin/env bash
# A real Erlang node for the distribution tests (tests/dist_erlang.rs,
# tests/dist_handshake.rs, tests/dist_elixir.rs) and benches: installs Debian's
# erlang-base (OTP 25: erl, erlc, epmd) and elixir (1.14, on the same OTP) when
# missing, and starts EPMD if nothing listens on its port.
set -euo pipefail
if ! command -v erl >/dev/null || ! command -v erlc >/dev/null || ! command -v elixir >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq erlang-base elixir >/dev/null
fi
# `epmd -daemon` is a no-op when one already runs.
epmd -daemon
erl -noshell -eval 'io:format("erl: OTP ~s~n", [erlang:system_info(otp_release)]), halt().'
elixir -e 'IO.puts("elixir: " <> System.version())'
