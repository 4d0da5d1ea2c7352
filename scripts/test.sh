#!/usr/bin/env bash
# The whole test suite: Rust unit and integration tests, then the panel's end-to-end
# browser tests (Debian's chromium, headless, driven by playwright-core from npm) against
# a real `loa serve`. Screenshots land in target/e2e-screenshots/.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --locked
cargo build --locked
if [ ! -d node_modules/playwright-core ]; then
  npm ci --no-audit --no-fund
fi
node --test tests/e2e/*.test.mjs
