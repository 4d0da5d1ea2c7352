//! Fuzz target over ingest validation: arbitrary bytes, written to a file with one of the
//! extensions staff upload, decoded completely and measured exactly as the isolated worker
//! (`loa __analyse`) does. Any panic, abort, endless loop (libFuzzer's -timeout) or
//! out-of-memory (-rss_limit_mb) is a finding. A report must be a refusal or finite figures.
//!
//! Run it for a bounded time with `scripts/fuzz-ingest.sh SECONDS`.

#![no_main]

use std::path::PathBuf;
use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use loa::library::analyse::{Report, measure};

const EXTENSIONS: [&str; 8] = ["mp3", "m4a", "wav", "flac", "ogg", "aac", "opus", "bin"];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, bytes)) = data.split_first() else {
        return;
    };
    let ext = EXTENSIONS[usize::from(selector) % EXTENSIONS.len()];
    let dir = std::env::var_os("LOA_FUZZ_TMP").map_or_else(std::env::temp_dir, PathBuf::from);
    let path = dir.join(format!("loa-fuzz-{}.{ext}", std::process::id()));
    std::fs::write(&path, bytes).expect("scratch file");
    if let Report::Ok(m) = measure(&path, Duration::from_secs(600)) {
        assert!(m.sample_rate > 0 && m.channels > 0, "{m:?}");
        assert!(m.integrated_lufs.is_finite(), "{m:?}");
        assert!(m.range_lu.is_finite() && m.true_peak_dbtp.is_finite(), "{m:?}");
    }
});
