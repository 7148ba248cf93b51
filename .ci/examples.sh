#!/usr/bin/env bash
# Runs every example with small sizes so none of them rots.
set -euo pipefail
shopt -s nullglob
for ex in examples/*.rs; do
    name=$(basename "$ex" .rs)
    echo "--- example $name"
    BEAMLET_CI=1 timeout 300 cargo run --release -q --example "$name"
done
