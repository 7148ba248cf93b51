#!/usr/bin/env bash
# Loom models of the lock-free parts (mailbox, run-state machine), bounded so they
# finish in seconds. A separate target directory keeps the cfg(loom) build apart.
set -euo pipefail
RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=3 CARGO_TARGET_DIR=target/loom \
    cargo test -p beamlet-runtime --lib loom_
