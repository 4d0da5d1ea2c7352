#!/bin/sh
# Fuzzes the ingest validation (fuzz/fuzz_targets/ingest_validation.rs) for a bounded time.
#
#   scripts/fuzz-ingest.sh [SECONDS]     default 300
#
# Needs a nightly toolchain (`rustup toolchain install nightly`) and a C++ compiler for
# libFuzzer. Uses `cargo fuzz` when it is installed; otherwise builds the target with the
# same instrumentation flags cargo-fuzz passes, so no extra tool is needed. The corpus
# starts from tests/fixtures (one copy per extension hint) and grows in fuzz/corpus/;
# crashes land in fuzz/artifacts/. Prints how long it ran and what it found; exits 1 on a
# finding.
set -eu
seconds=${1:-300}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root/fuzz"
target=ingest_validation
corpus=corpus/$target
artifacts=artifacts/$target
mkdir -p "$corpus" "$artifacts"
scratch=$(mktemp -d "${TMPDIR:-/tmp}/loa-fuzz.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
export LOA_FUZZ_TMP="$scratch"

# Seed: each fixture, prefixed with the selector byte of its extension (see the target).
i=0
for ext in mp3 m4a wav flac ogg aac opus bin; do
    for f in "$root"/tests/fixtures/*."$ext"; do
        [ -f "$f" ] || continue
        out="$corpus/seed-$(basename "$f")"
        [ -f "$out" ] || { printf "\\$(printf '%03o' "$i")" > "$out"; cat "$f" >> "$out"; }
    done
    i=$((i + 1))
done

flags="-max_total_time=$seconds -timeout=20 -rss_limit_mb=2048 -artifact_prefix=$artifacts/ -print_final_stats=1"
start=$(date +%s)
status=0
if cargo +nightly fuzz --version >/dev/null 2>&1; then
    cargo +nightly fuzz run "$target" "$corpus" -- $flags || status=$?
else
    host=$(rustc +nightly -vV | sed -n 's/^host: //p')
    RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing -Cdebug-assertions -Coverflow-checks" \
        cargo +nightly build --release --target "$host" --bin "$target"
    "target/$host/release/$target" "$corpus" $flags || status=$?
fi
end=$(date +%s)
found=$(find "$artifacts" -type f | wc -l)
echo "fuzz-ingest: ran $((end - start)) s (limit $seconds s), corpus $(ls "$corpus" | wc -l) inputs, $found finding(s) in fuzz/$artifacts"
[ "$status" -eq 0 ] && [ "$found" -eq 0 ]
