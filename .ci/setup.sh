#!/usr/bin/env bash
# Makes sure the toolchain components CI uses are present, and Erlang for the
# distribution tests.
set -euo pipefail
for component in rustfmt clippy; do
    if ! rustup component list --installed 2>/dev/null | grep -q "^$component"; then
        rustup component add "$component"
    fi
done
cargo --version
bash "$(dirname "$0")/erlang.sh"
