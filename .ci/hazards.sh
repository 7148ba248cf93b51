#!/usr/bin/env bash
# Hazards that need a build of their own (tests/hazards, not a workspace member):
#   1. thread-locals across stack switches inside a release cdylib built as
#      position-independent code, loaded with dlopen (general-dynamic TLS);
#   2. a panic = "abort" build is refused at RuntimeBuilder::build.
# The other hazards are ordinary tests: tests/tls_migration.rs, tests/unwinding.rs,
# tests/stack_overflow.rs, tests/kill_unwind.rs.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
export CARGO_TARGET_DIR="$root/target/hazards"
cd tests/hazards

RUSTFLAGS="-C relocation-model=pic" cargo build --release --lib --bin load-cdylib
lib="$CARGO_TARGET_DIR/release/libbeamlet_hazards.so"
# The runtime's thread-locals must be reached through __tls_get_addr in the cdylib.
if ! nm -D --undefined-only "$lib" | grep -q __tls_get_addr; then
    echo "expected general-dynamic TLS (__tls_get_addr) in $lib" >&2
    exit 1
fi
"$CARGO_TARGET_DIR/release/load-cdylib" "$lib" 1000000

cargo build --bin refuse-panic-abort
"$CARGO_TARGET_DIR/debug/refuse-panic-abort"
