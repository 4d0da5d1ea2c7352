//! The ingest pipeline through the real isolated worker (`loa __analyse` in a child
//! process): every fixture accepted or refused exactly as specified, `loa add` as staff
//! use it, and kill -9 at random points never leaving a half clip or an orphan.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use loa::library::{self, Analyser, IngestLimits, sha256_file, sweep_orphans};
use loa::store::Store;

use crate::support::{loa, repo, run, write_config, write_tone};

fn fixture(name: &str) -> PathBuf {
    repo().join("tests/fixtures").join(name)
}

fn child_limits() -> IngestLimits {
    IngestLimits {
        keep_free_bytes: 0,
        ..IngestLimits::with_analyser(Analyser::Child {
            exe: PathBuf::from(env!("CARGO_BIN_EXE_loa")),
            timeout: Duration::from_secs(60),
        })
    }
}

/// Every clip row has its complete original with the right hash; the media folder holds
/// nothing else.
fn assert_consistent(store: &Store, media: &Path) {
    let clips = store.clips().unwrap();
    let mut expected: Vec<PathBuf> = clips
        .iter()
        .chain(store.archived_clips().unwrap().iter())
        .map(|c| {
            let p = library::clip_path(media, c);
            assert_eq!(sha256_file(&p).unwrap(), c.sha256, "{}", p.display());
            p
        })
        .collect();
    expected.sort();
    let mut found: Vec<PathBuf> = match std::fs::read_dir(media) {
        Ok(d) => d.map(|e| e.unwrap().path()).collect(),
        Err(_) => Vec::new(),
    };
    found.sort();
    assert_eq!(
        found, expected,
        "media folder holds exactly the clips' originals"
    );
}

/// Accepted with (rate, channels), or refused with a code.
type Expected = Result<(u32, u16), &'static str>;

#[test]
fn every_fixture_is_accepted_or_refused_as_specified_through_the_worker() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("loa.db")).unwrap();
    let media = dir.path().join("media");
    let extra = dir.path().join("extra");
    std::fs::create_dir_all(&extra).unwrap();
    // A good MP3 and a good M4A renamed with the wrong extension.
    std::fs::copy(
        fixture("speech-44k-stereo.mp3"),
        extra.join("wrong-extension.wav"),
    )
    .unwrap();
    std::fs::copy(
        fixture("speech-48k-stereo.m4a"),
        extra.join("wrong-extension.mp3"),
    )
    .unwrap();
    let cases: &[(PathBuf, Expected)] = &[
        (fixture("speech-44k-stereo.mp3"), Ok((44_100, 2))),
        (fixture("speech-48k-stereo.m4a"), Ok((48_000, 2))),
        (fixture("speech-44k-mono.aac"), Ok((44_100, 1))),
        (fixture("speech-22k-mono-s16.wav"), Ok((22_050, 1))),
        (fixture("speech-16k-mono-s24.wav"), Ok((16_000, 1))),
        (fixture("speech-12k-mono-f32.wav"), Ok((12_000, 1))),
        (fixture("speech-22k-mono.flac"), Ok((22_050, 1))),
        (fixture("speech-48k-mono.ogg"), Ok((48_000, 1))),
        (extra.join("wrong-extension.wav"), Ok((44_100, 2))),
        (extra.join("wrong-extension.mp3"), Ok((48_000, 2))),
        (fixture("speech-48k-mono.opus"), Err("unsupported_codec")),
        (fixture("truncated.mp3"), Err("truncated")),
        (fixture("truncated.m4a"), Err("truncated")),
        (fixture("truncated-moov-last.m4a"), Err("truncated")),
        (fixture("random.mp3"), Err("not_audio")),
        (fixture("text.wav"), Err("not_audio")),
        (fixture("empty.mp3"), Err("empty")),
        (fixture("video-only.mp4"), Err("not_audio")),
        (fixture("tags-only.mp3"), Err("not_audio")),
        (fixture("speech-48k-mono.webm"), Err("unsupported_codec")),
        // Found by the fuzzer: symphonia's WAV reader overflows a shift on this header
        // (a panic with overflow checks, as here; garbage without). Refused either way.
        (fixture("fuzz-riff-channel-mask.mp3"), Err("corrupt")),
    ];
    let limits = child_limits();
    let mut accepted = 0;
    for (path, expected) in cases {
        let got = library::ingest_file(path, None, &limits, &store, &media, chrono::Utc::now());
        match (expected, got) {
            (Ok(format), Ok(clip)) => {
                assert_eq!((clip.sample_rate, clip.channels), *format, "{path:?}");
                assert!(clip.duration_ms > 500, "{path:?}: {clip:?}");
                accepted += 1;
            }
            (Err(code), Err(e)) => {
                assert_eq!(e.code(), *code, "{path:?}: {e}");
                let name = path.file_name().unwrap().to_string_lossy().into_owned();
                assert!(e.message_vi().contains(&name), "{}", e.message_vi());
                assert!(e.message_en().contains(&name), "{}", e.message_en());
            }
            (expected, got) => panic!("{path:?}: expected {expected:?}, got {got:?}"),
        }
    }
    // The two renamed files have the same bytes as two accepted fixtures: one clip each.
    assert_eq!(store.clips().unwrap().len(), accepted - 2);
    assert_consistent(&store, &media);
}

#[test]
fn loa_add_reports_refusals_in_both_languages_and_fills_a_playlist() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), "");
    let config = config.to_str().unwrap();
    let good = fixture("speech-44k-stereo.mp3");
    let o = run(&[
        "--config",
        config,
        "add",
        good.to_str().unwrap(),
        fixture("speech-48k-mono.opus").to_str().unwrap(),
        fixture("speech-22k-mono.flac").to_str().unwrap(),
        "--playlist",
        "Khẩu hiệu",
    ]);
    let (out, err) = (
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr),
    );
    assert_eq!(o.status.code(), Some(2), "{out}\n{err}");
    assert!(err.contains("refused [unsupported_codec]"), "{err}");
    assert!(err.contains("không phát được"), "{err}");
    assert!(err.contains("ffmpeg -i"), "{err}");
    assert!(out.contains("playlist \"Khẩu hiệu\": 2 item(s)"), "{out}");
    // Adding the same file again keeps the one clip.
    let o = run(&[
        "--config",
        config,
        "add",
        good.to_str().unwrap(),
        "--title",
        "Tổng đài 111",
    ]);
    assert!(o.status.success());
    assert!(String::from_utf8_lossy(&o.stdout).contains("already in the library"));
    let store = Store::open(&dir.path().join("data/loa.db")).unwrap();
    assert_eq!(store.clips().unwrap().len(), 2);
    assert_consistent(&store, &dir.path().join("data/media"));
}

/// A tiny xorshift generator: the test needs varied kill points, not good randomness.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

#[test]
fn kill_9_during_loa_add_never_leaves_a_half_clip_or_an_orphan() {
    const ROUNDS: u64 = 32;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), "");
    let media = dir.path().join("data/media");
    let inputs = dir.path().join("in");
    std::fs::create_dir_all(&inputs).unwrap();
    // One untouched run to learn how long an add takes here (calibrates the kill points).
    let calib = inputs.join("calibrate.wav");
    write_tone(&calib, 300.0, 3.0, -20.0);
    let start = Instant::now();
    let o = loa()
        .args(["--config", config.to_str().unwrap(), "add"])
        .arg(&calib)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let span_ms = (start.elapsed().as_millis() as u64).max(20) * 5 / 4;
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    let mut rng = Rng(seed | 1);
    eprintln!("kill -9 test: seed {seed}, add takes ~{span_ms} ms");
    let mut completed = 0;
    for round in 0..ROUNDS {
        // New content each round, so every round runs the whole pipeline.
        let file = inputs.join(format!("bản tin {round}.wav"));
        write_tone(&file, 400.0 + round as f64 * 7.0, 3.0, -20.0);
        let mut child = loa()
            .args(["--config", config.to_str().unwrap(), "add"])
            .arg(&file)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(rng.below(span_ms)));
        let _ = child.kill(); // SIGKILL
        let status = child.wait().unwrap();
        if status.success() {
            completed += 1;
        }
        // What the daemon does at start: open the store, sweep.
        let store = Store::open(&dir.path().join("data/loa.db")).unwrap();
        sweep_orphans(&store, &media).unwrap();
        assert_consistent(&store, &media);
    }
    eprintln!("kill -9 test: {completed} of {ROUNDS} adds finished before the kill");
}
