#!/usr/bin/env bash
# Loom models of the lock-free parts, bounded so they finish in a few minutes: the
# mailbox, its length count and the run-state machine (seconds), a timer's cancel against its fire
# (under a second), and the scheduler's park/unpark protocol (one worker: seconds;
# two workers, bounded to two preemptions in the test itself: one to two minutes).
# A separate target directory keeps the cfg(loom) build apart.
set -euo pipefail
RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=3 CARGO_TARGET_DIR=target/loom \
    cargo test -p beamlet-runtime --lib loom_
