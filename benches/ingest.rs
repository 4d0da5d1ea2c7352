//! The ingest pipeline (hash + isolated decode + loudness + store) against ffmpeg, its
//! peak memory on a 100 MB WAV, and loudness agreement with ffmpeg's `ebur128` filter.
//!
//! 1. Speed: a 10-minute MP3 (128 kb/s) and M4A (AAC 96 kb/s), 44.1 kHz stereo, looped
//!    from the speech fixture, each ingested by `library::ingest_file` with the real
//!    child-process worker (the `loa` binary), against `ffmpeg -i FILE -af ebur128 -f null -`;
//!    best of three, printed as a ratio (below 1 = faster than ffmpeg).
//! 2. Memory: `loa add` of a generated 100 MB WAV in a child process; the peak resident
//!    set of it and its worker comes from `wait4`'s rusage.
//! 3. Agreement: integrated loudness of a 1 kHz sine at −20 dBFS, pink noise and looped
//!    speech, ours (the ingest worker's figure) against ffmpeg's, goal within 0.5 LU.
//!
//! Needs ffmpeg on PATH. Run with `cargo bench --bench ingest`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use loa::library::analyse::{self, Report};
use loa::library::{self, Analyser, IngestLimits};
use loa::store::Store;

const SECONDS: u32 = 600;
const RUNS: usize = 3;

fn main() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let exe = PathBuf::from(env!("CARGO_BIN_EXE_loa"));
    let limits = IngestLimits {
        keep_free_bytes: 0,
        ..IngestLimits::with_analyser(Analyser::Child {
            exe: exe.clone(),
            timeout: Duration::from_secs(600),
        })
    };
    let speech = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/speech-22k-mono.flac");

    println!("1. ingest vs ffmpeg ebur128, {SECONDS} s of looped speech, best of {RUNS}");
    let mut speech_mp3 = PathBuf::new();
    for (ext, codec) in [
        ("mp3", ["-c:a", "libmp3lame", "-b:a", "128k"]),
        ("m4a", ["-c:a", "aac", "-b:a", "96k"]),
    ] {
        let path = dir.path().join(format!("bulletin.{ext}"));
        ffmpeg_make(&["-stream_loop", "-1"], &speech, &codec, &path);
        let ours = best(|| {
            // A fresh library each run, so every run does the whole pipeline.
            let lib = tempfile::tempdir().unwrap();
            let store = Store::open(&lib.path().join("loa.db")).unwrap();
            let clip = library::ingest_file(
                &path,
                None,
                &limits,
                &store,
                &lib.path().join("media"),
                chrono::Utc::now(),
            )
            .expect("ingests");
            assert!(clip.duration_ms >= i64::from(SECONDS - 1) * 1000);
        });
        let theirs = best(|| {
            ffmpeg_lufs(&path);
        });
        println!(
            "  {ext}: {:.1} MB  ingest {:.2} s   ffmpeg ebur128 {:.2} s   ratio {:.2}×",
            size_mb(&path),
            ours.as_secs_f64(),
            theirs.as_secs_f64(),
            ours.as_secs_f64() / theirs.as_secs_f64()
        );
        if ext == "mp3" {
            speech_mp3 = path;
        }
    }

    println!("\n2. peak memory of `loa add` on a 100 MB WAV (child process + its worker)");
    let big = dir.path().join("big.wav");
    write_wav(&big, 48_000, 2, 100_000_000 / 4, |i| {
        0.1 * (2.0 * std::f64::consts::PI * 440.0 * i as f64 / 48_000.0).sin()
    });
    let data = dir.path().join("data");
    let config = dir.path().join("loa.toml");
    std::fs::write(
        &config,
        format!("[station]\ndata_dir = \"{}\"\n", data.display()),
    )
    .unwrap();
    let start = Instant::now();
    // Reaped by `wait4` below, which also gives its peak memory.
    #[allow(clippy::zombie_processes)]
    let child = Command::new(&exe)
        .arg("--config")
        .arg(&config)
        .arg("add")
        .arg(&big)
        .stdout(Stdio::null())
        .spawn()
        .expect("loa add runs");
    let (ok, max_rss_kb) = wait_with_rusage(child.id());
    println!(
        "  {:.1} MB file: {} in {:.2} s, peak RSS {:.1} MB (goal < 50 MB)",
        size_mb(&big),
        if ok { "added" } else { "FAILED" },
        start.elapsed().as_secs_f64(),
        max_rss_kb as f64 / 1024.0
    );

    println!("\n3. integrated loudness, ours vs ffmpeg ebur128 (goal within 0.5 LU)");
    let sine = dir.path().join("sine-1k-20dbfs.wav");
    write_wav(&sine, 48_000, 1, 48_000 * 30, |i| {
        0.1 * (2.0 * std::f64::consts::PI * 1000.0 * i as f64 / 48_000.0).sin()
    });
    let pink = dir.path().join("pink.wav");
    let mut pink_gen = Pink::default();
    write_wav(&pink, 48_000, 2, 48_000 * 30, |_| 0.05 * pink_gen.next());
    for (label, path) in [
        ("1 kHz sine -20 dBFS", &sine),
        ("pink noise", &pink),
        ("speech (mp3)", &speech_mp3),
    ] {
        let Report::Ok(m) = analyse::measure(path, Duration::from_secs(3600)) else {
            panic!("{label} refused");
        };
        let theirs = ffmpeg_lufs(path);
        println!(
            "  {label:<20} ours {:>6.2} LUFS   ffmpeg {:>6.2} LUFS   diff {:.2} LU",
            m.integrated_lufs,
            theirs,
            (m.integrated_lufs - theirs).abs()
        );
    }
}

/// Makes a file from `input` with ffmpeg: `SECONDS` long, 44.1 kHz stereo.
fn ffmpeg_make(pre: &[&str], input: &Path, codec: &[&str], out: &Path) {
    let status = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-y"])
        .args(pre)
        .arg("-i")
        .arg(input)
        .args(["-t", &SECONDS.to_string(), "-ar", "44100", "-ac", "2"])
        .args(codec)
        .arg(out)
        .status()
        .expect("ffmpeg runs");
    assert!(status.success(), "ffmpeg could not make {}", out.display());
}

/// Runs `ffmpeg -i FILE -af ebur128 -f null -` and reads the summary's integrated loudness.
fn ffmpeg_lufs(path: &Path) -> f64 {
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-nostats", "-i"])
        .arg(path)
        .args(["-af", "ebur128", "-f", "null", "-"])
        .stdout(Stdio::null())
        .output()
        .expect("ffmpeg runs");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stderr);
    let summary = text.rsplit("Summary:").next().unwrap_or_default();
    summary
        .lines()
        .find_map(|l| {
            let l = l.trim();
            l.strip_prefix("I:")
                .and_then(|v| v.trim().trim_end_matches("LUFS").trim().parse().ok())
        })
        .expect("ffmpeg printed an integrated loudness")
}

/// Waits for `pid` with `wait4` and returns (exited 0, peak RSS in KiB of it and its
/// waited-for descendants).
fn wait_with_rusage(pid: u32) -> (bool, i64) {
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value of this plain C struct.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: pid is our own child, not yet waited for; the pointers are valid.
    let r = unsafe { libc::wait4(pid as libc::pid_t, &mut status, 0, &mut usage) };
    assert_eq!(r, pid as libc::pid_t, "wait4 failed");
    (
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        usage.ru_maxrss,
    )
}

/// Writes a 16-bit WAV of `frames` frames; `sample(i)` gives frame i's value (all channels).
fn write_wav(
    path: &Path,
    rate: u32,
    channels: u16,
    frames: usize,
    mut sample: impl FnMut(usize) -> f64,
) {
    let spec = hound::WavSpec {
        channels,
        sample_rate: rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for i in 0..frames {
        let v = (sample(i).clamp(-1.0, 1.0) * 32767.0).round() as i16;
        for _ in 0..channels {
            w.write_sample(v).unwrap();
        }
    }
    w.finalize().unwrap();
}

/// Pink noise by Paul Kellet's economy filter over a xorshift white source.
#[derive(Default)]
struct Pink {
    state: u64,
    b: [f64; 3],
}

impl Pink {
    fn next(&mut self) -> f64 {
        if self.state == 0 {
            self.state = 0x9e37_79b9_7f4a_7c15;
        }
        self.state ^= self.state << 13;
        self.state ^= self.state >> 7;
        self.state ^= self.state << 17;
        let white = (self.state >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0;
        self.b[0] = 0.99765 * self.b[0] + white * 0.0990460;
        self.b[1] = 0.96300 * self.b[1] + white * 0.2965164;
        self.b[2] = 0.57000 * self.b[2] + white * 1.0526913;
        (self.b[0] + self.b[1] + self.b[2] + white * 0.1848) * 0.25
    }
}

fn best(mut run: impl FnMut()) -> Duration {
    (0..RUNS)
        .map(|_| {
            let start = Instant::now();
            run();
            start.elapsed()
        })
        .min()
        .unwrap_or_default()
}

fn size_mb(path: &Path) -> f64 {
    std::fs::metadata(path).map_or(0.0, |m| m.len() as f64 / 1e6)
}
