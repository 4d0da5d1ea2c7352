//! Unit tests of the ingest pipeline, in process (the child-process path is exercised by
//! the integration tests, which have the `loa` binary).

use std::io::Cursor;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use super::*;
use crate::library::{Analyser, sha256_file, sweep_orphans};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn now() -> DateTime<Utc> {
    "2026-06-01T05:30:00Z".parse().unwrap()
}

fn limits() -> IngestLimits {
    IngestLimits {
        keep_free_bytes: 0,
        ..IngestLimits::with_analyser(Analyser::InProcess)
    }
}

fn setup() -> (tempfile::TempDir, Store, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("loa.db")).unwrap();
    let media = dir.path().join("media");
    (dir, store, media)
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

#[test]
fn a_good_upload_becomes_a_clip_with_its_original_stored_by_hash() {
    let (_dir, store, media) = setup();
    let bytes = std::fs::read(fixture("speech-48k-stereo.m4a")).unwrap();
    let clip = ingest_stream(
        Cursor::new(&bytes),
        "C:\\fakepath\\Bản tin sáng.m4a",
        None,
        &limits(),
        &store,
        &media,
        now(),
    )
    .unwrap();
    assert_eq!(clip.title, "Bản tin sáng");
    assert_eq!(clip.original_name, "Bản tin sáng.m4a");
    assert_eq!((clip.sample_rate, clip.channels), (48_000, 2));
    let stored = super::super::clip_path(&media, &clip);
    assert_eq!(
        std::fs::read(&stored).unwrap(),
        bytes,
        "original kept unchanged"
    );
    assert_eq!(sha256_file(&stored).unwrap(), clip.sha256);
    assert_eq!(files_in(&media), [format!("{}.m4a", clip.sha256)]);
}

#[test]
fn the_same_content_twice_is_one_clip_even_archived() {
    let (_dir, store, media) = setup();
    let f = fixture("speech-22k-mono.flac");
    let first = ingest_file(&f, Some("Khẩu hiệu"), &limits(), &store, &media, now()).unwrap();
    store.set_clip_archived(first.id, true).unwrap();
    let bytes = std::fs::read(&f).unwrap();
    let again = ingest_stream(
        Cursor::new(bytes),
        "copy.flac",
        Some("Other"),
        &limits(),
        &store,
        &media,
        now(),
    )
    .unwrap();
    assert_eq!(again, first);
    assert_eq!(store.clips().unwrap(), vec![first]);
    assert_eq!(files_in(&media).len(), 1);
}

#[test]
fn refusals_leave_nothing_behind() {
    let (_dir, store, media) = setup();
    let cases = [
        ("empty.mp3", "empty"),
        ("random.mp3", "not_audio"),
        ("text.wav", "not_audio"),
        ("truncated.mp3", "truncated"),
        ("video-only.mp4", "not_audio"),
        ("speech-48k-mono.opus", "unsupported_codec"),
    ];
    for (name, code) in cases {
        let err = ingest_file(&fixture(name), None, &limits(), &store, &media, now()).unwrap_err();
        assert_eq!(err.code(), code, "{name}: {err}");
        assert!(err.message_vi().contains(name), "{}", err.message_vi());
    }
    assert!(store.clips().unwrap().is_empty());
    assert!(files_in(&media).is_empty(), "{:?}", files_in(&media));
}

#[test]
fn too_large_is_refused_while_streaming_and_too_long_after_decoding() {
    let (_dir, store, media) = setup();
    let small = IngestLimits {
        max_bytes: 1000,
        ..limits()
    };
    let f = fixture("speech-44k-stereo.mp3");
    let err = ingest_file(&f, None, &small, &store, &media, now()).unwrap_err();
    assert_eq!(err.code(), "too_large");
    // An endless reader is cut off at the limit, not read to the end.
    let endless = std::io::repeat(0x55);
    let err = ingest_stream(endless, "x.wav", None, &small, &store, &media, now()).unwrap_err();
    assert_eq!(err.code(), "too_large");
    let short = IngestLimits {
        max_duration: std::time::Duration::from_secs(1),
        ..limits()
    };
    let err = ingest_file(&f, None, &short, &store, &media, now()).unwrap_err();
    assert_eq!(err.code(), "too_long");
    assert!(files_in(&media).is_empty());
}

#[test]
fn a_disk_without_room_refuses_before_reading() {
    let (_dir, store, media) = setup();
    let greedy = IngestLimits {
        keep_free_bytes: u64::MAX / 2,
        ..limits()
    };
    let err = ingest_file(
        &fixture("speech-44k-stereo.mp3"),
        None,
        &greedy,
        &store,
        &media,
        now(),
    )
    .unwrap_err();
    assert_eq!(err.code(), "disk_full");
    assert!(err.message_en().contains("MB free"), "{}", err.message_en());
}

#[test]
fn silence_is_refused() {
    let (dir, store, media) = setup();
    let path = dir.path().join("im lặng.wav");
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 16_000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(&path, spec).unwrap();
    for _ in 0..32_000 {
        w.write_sample(0i16).unwrap();
    }
    w.finalize().unwrap();
    let err = ingest_file(&path, None, &limits(), &store, &media, now()).unwrap_err();
    assert_eq!(err.code(), "silent");
}

#[test]
fn a_missing_original_is_healed_by_uploading_it_again() {
    let (_dir, store, media) = setup();
    let f = fixture("speech-22k-mono-s16.wav");
    let clip = ingest_file(&f, None, &limits(), &store, &media, now()).unwrap();
    let stored = super::super::clip_path(&media, &clip);
    std::fs::remove_file(&stored).unwrap();
    ingest_file(&f, None, &limits(), &store, &media, now()).unwrap();
    assert_eq!(sha256_file(&stored).unwrap(), clip.sha256);
}

#[test]
fn sweep_removes_leftovers_of_dead_uploads_but_keeps_clips() {
    let (_dir, store, media) = setup();
    let clip = ingest_file(
        &fixture("speech-22k-mono.flac"),
        None,
        &limits(),
        &store,
        &media,
        now(),
    )
    .unwrap();
    // A dead process's upload (pid 0 never names a live process in /proc), and a file
    // renamed into place whose row was never written.
    std::fs::write(media.join(".upload-0-1-2.mp3"), b"half").unwrap();
    std::fs::write(media.join(format!("{}.mp3", "ab".repeat(32))), b"orphan").unwrap();
    // Another live process's upload (`loa add` beside the daemon) is left alone.
    let mut other = std::process::Command::new("sleep")
        .arg("30")
        .spawn()
        .unwrap();
    let live = format!(".upload-{}-9-9.mp3", other.id());
    std::fs::write(media.join(&live), b"in flight").unwrap();
    // Regression: a leftover carrying the sweeping process's own pid is from an earlier
    // boot (a restarted daemon can get the crashed one's pid), never in flight.
    std::fs::write(
        media.join(format!(".upload-{}-3-4.mp3", std::process::id())),
        b"from before the power cut",
    )
    .unwrap();
    let swept = sweep_orphans(&store, &media).unwrap();
    let _ = other.kill();
    let _ = other.wait();
    assert_eq!(swept, 3);
    assert_eq!(files_in(&media), [live, format!("{}.flac", clip.sha256)]);
}

#[test]
fn names_are_cleaned() {
    assert_eq!(clean_name("/tmp/../a/b.mp3"), "b.mp3");
    assert_eq!(clean_name("C:\\Users\\x\\Bản tin.m4a"), "Bản tin.m4a");
    assert_eq!(clean_name(".."), "clip");
    assert_eq!(clean_name(""), "clip");
    assert_eq!(clean_name("a\u{0}b\nc.wav"), "abc.wav");
}

/// A bounded random-bytes property test of the validation path, in the normal suite (the
/// open-ended search is the cargo-fuzz target, `scripts/fuzz-ingest.sh`): every good
/// fixture cut at random points, with random bytes overwritten, and replaced by noise
/// under its own extension, always gets a report: a refusal, or finite figures.
#[test]
fn mangled_uploads_always_get_a_refusal_or_finite_figures() {
    use crate::library::analyse::{Report, measure};
    let good = [
        "speech-44k-stereo.mp3",
        "speech-48k-stereo.m4a",
        "speech-44k-mono.aac",
        "speech-22k-mono-s16.wav",
        "speech-12k-mono-f32.wav",
        "speech-22k-mono.flac",
        "speech-48k-mono.ogg",
    ];
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move |n: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % n.max(1) as u64) as usize
    };
    let dir = tempfile::tempdir().unwrap();
    let mut refused = 0;
    let mut total = 0;
    for name in good {
        let bytes = std::fs::read(fixture(name)).unwrap();
        let ext = Path::new(name).extension().unwrap().to_str().unwrap();
        for round in 0..6 {
            let mut mangled = bytes.clone();
            match round % 3 {
                0 => mangled.truncate(next(bytes.len())),
                1 => {
                    for _ in 0..1 + next(16) {
                        let at = next(mangled.len());
                        mangled[at] = next(256) as u8;
                    }
                }
                _ => mangled = (0..next(8192)).map(|_| next(256) as u8).collect(),
            }
            let path = dir.path().join(format!("m{round}.{ext}"));
            std::fs::write(&path, &mangled).unwrap();
            let report =
                std::panic::catch_unwind(|| measure(&path, std::time::Duration::from_secs(60)));
            total += 1;
            match report {
                Ok(Report::Ok(m)) => assert!(
                    m.integrated_lufs.is_finite()
                        && m.range_lu.is_finite()
                        && m.true_peak_dbtp.is_finite()
                        && m.sample_rate > 0
                        && m.channels > 0,
                    "{name} round {round}: {m:?}"
                ),
                Ok(Report::Refused(_)) => refused += 1,
                // A decoder panic is caught by the worker's isolation in production; here it
                // is a finding worth knowing about, so the test names the input.
                Err(_) => panic!("{name} round {round}: the decoder panicked"),
            }
        }
    }
    assert!(
        refused > total / 3,
        "most mangled files are refused: {refused}/{total}"
    );
}
