#!/usr/bin/env bash
# Builds the Debian package with cargo-deb (installed from crates.io if missing) and prints
# its path. Extra arguments go to `cargo deb`, e.g. `--target aarch64-unknown-linux-gnu`
# for a Raspberry Pi (README "Building for a Raspberry Pi (arm64)").
# Needs a release build: minutes on a small machine.
set -euo pipefail
cd "$(dirname "$0")/.."
CARGO_DEB_VERSION=3.8.0
if ! cargo deb --version >/dev/null 2>&1; then
  echo "installing cargo-deb $CARGO_DEB_VERSION" >&2
  cargo install cargo-deb --locked --version "$CARGO_DEB_VERSION" >&2
fi
cargo deb --locked "$@" >&2
# The newest package, native (target/debian) or cross-built (target/TRIPLE/debian).
find target -maxdepth 3 -path '*/debian/*.deb' -printf '%T@ %p\n' | sort -rn | head -n 1 | cut -d' ' -f2-
