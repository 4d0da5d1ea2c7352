#!/usr/bin/env bash
# The power-cut fault test with many rounds: kills `loa serve` with SIGKILL N times
# (default 120) while uploads, playlist edits and broadcasts are driven through the API,
# and checks the database, acknowledged uploads and edits, media, relay and log after
# each. LOA_FAULT_SEED=… replays a run (the seed is printed).
set -euo pipefail
cd "$(dirname "$0")/.."
LOA_FAULT_ROUNDS=${1:-120} cargo test --locked --test loa faults:: -- --nocapture
