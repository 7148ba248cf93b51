#!/usr/bin/env bash
# The observer's page in a real browser (tests/browser/observer.test.mjs): Debian's
# chromium driven by playwright-core, against the `observer` example.
#
# Installs only what is missing: node and npm (Debian's), chromium (Debian's, at
# /usr/bin/chromium: playwright's own browser downloads are not used), and
# playwright-core at the version of tests/browser/package-lock.json. Then builds the
# example, runs node's test runner, and leaves the screenshot at
# target/browser/observer.png (the CI artifact; taken on failure too).
set -euo pipefail
cd "$(dirname "$0")/.."

apt_updated=0
apt_install() {
    if [ "$apt_updated" = 0 ]; then
        apt-get update -qq
        apt_updated=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"
}
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    apt_install nodejs npm
fi
if [ ! -x /usr/bin/chromium ]; then
    apt_install chromium
fi
if [ ! -d tests/browser/node_modules/playwright-core ]; then
    (cd tests/browser && npm ci --no-audit --no-fund)
fi

cargo build --release --example observer
target_dir=${CARGO_TARGET_DIR:-target}
shot_dir=$(mktemp -d)
trap 'rm -rf "$shot_dir"' EXIT
status=0
OBSERVER_BIN="$target_dir/release/examples/observer" SCREENSHOT="$shot_dir/observer.png" \
    node --test tests/browser/ || status=$?
if [ -f "$shot_dir/observer.png" ]; then
    mkdir -p target/browser
    cp "$shot_dir/observer.png" target/browser/observer.png
    echo "screenshot: target/browser/observer.png"
fi
exit "$status"
