#!/usr/bin/env bash
# One command from a fresh clone to a running daemon with the demo station:
# installs Debian packages, builds loa, and runs `loa serve` with config/loa.toml
# (data in ./data, output auto, panel on http://127.0.0.1:8080).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v cargo >/dev/null; then
  echo "cargo not found: install the Rust toolchain first (https://rustup.rs), then re-run" >&2
  exit 1
fi
scripts/install-deps.sh
cargo build --release --locked
echo
echo "loa is starting: open http://127.0.0.1:8080 (Ctrl-C stops it)"
echo "in another terminal: ./target/release/loa next   ./target/release/loa check"
exec ./target/release/loa --config config/loa.toml serve
