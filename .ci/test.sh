#!/usr/bin/env bash
# The README's test command: unit, integration and doc tests of every crate.
set -euo pipefail
cargo test --workspace
