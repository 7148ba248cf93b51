#!/usr/bin/env bash
# AddressSanitizer over the runtime's unit tests and a subset of the integration tests
# (processes, mailboxes, links, monitors, timers, hibernation: every stack switch and
# every lock-free queue). Needs a nightly toolchain; .ci/run calls it only when one is
# installed. corosensei's `sanitizer` feature (forwarded by beamlet's) tells ASan about
# each stack switch, without which it would report the coroutine stacks as overflows.
#
# Without the nightly `rust-src` component std itself is not instrumented (no
# -Zbuild-std); the runtime, the tests and every other dependency are.
#
# Valgrind (memcheck), by hand, on the runtime's unit tests (queues, timing wheel,
# stack slab; 0 errors, a few seconds):
#   cargo test -p beamlet-runtime --lib --no-run   # prints the test binary's path
#   valgrind --error-exitcode=1 --leak-check=no target/debug/deps/beamlet_runtime-<hash> --test-threads=1
# Not on the integration tests: memcheck cannot follow a coroutine stack switch (it
# would need each stack registered with VALGRIND_STACK_REGISTER, which corosensei does
# not do) and reports every thread-local read after one as invalid. ASan, told of
# each switch, covers those.
set -euo pipefail
cd "$(dirname "$0")/.."

target=$(rustc -vV | sed -n 's/^host: //p')
export RUSTFLAGS="-Zsanitizer=address"
export RUSTDOCFLAGS="-Zsanitizer=address"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}/asan"
# Leak checking stays off: a runtime with a stuck process deliberately leaks its
# stacks at shutdown (see `Runtime::shutdown`), and test harness threads are detached.
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:detect_stack_use_after_return=0"

asan_test() {
    cargo +nightly test --target "$target" --features sanitizer "$@"
}

asan_test -p beamlet-runtime --lib
asan_test --test mailbox --test links --test monitors --test timers --test hibernate \
    --test rt_spawn --test tls_migration --test properties
