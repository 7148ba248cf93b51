#!/usr/bin/env bash
# Formatting and clippy, warnings as errors.
set -euo pipefail
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
# The runtime's layering (runtime/layers.txt): a file uses only its own layer and
# those below, no import cycle inside a layer, no facade paths inside the crate.
python3 .ci/layers.py
