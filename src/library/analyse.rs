//! The analysis worker: decodes an upload completely and measures it, isolated from the
//! daemon.
//!
//! [`Analyser::Child`] re-executes the `loa` binary as `loa __analyse FILE --max-seconds N`
//! ([`child_main`]), which prints one JSON line ([`Report`]); the parent kills it when the
//! time limit passes. A decoder that panics, loops or is killed by a signal therefore costs
//! one refused upload, never the daemon. [`Analyser::InProcess`] runs the same code in this
//! process (panics caught) for unit tests and tools that have no `loa` binary at hand; the
//! daemon and the CLI never use it. This module does not hash, store or name files.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::refusal::Problem;
use crate::decode::{DecodeError, Decoder};
use crate::loudness::{Loudness, LoudnessMeter};

/// The hidden subcommand the child runs.
pub const SUBCOMMAND: &str = "__analyse";

/// What a complete decode measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Measured {
    /// Decoded length in milliseconds.
    pub duration_ms: u64,
    /// Native sample rate.
    pub sample_rate: u32,
    /// Native channel count.
    pub channels: u16,
    /// Codec short name (symphonia's), e.g. `mp3`.
    pub codec: String,
    /// Container short name (symphonia's), e.g. `isomp4`.
    pub container: String,
    /// EBU R128 integrated loudness, LUFS.
    pub integrated_lufs: f64,
    /// Loudness range, LU.
    pub range_lu: f64,
    /// True peak, dBTP.
    pub true_peak_dbtp: f64,
}

/// The child's one line of output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Report {
    /// The file decoded completely and is worth keeping.
    Ok(Measured),
    /// The file is refused.
    Refused(Problem),
}

/// Where the decode runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Analyser {
    /// In a child process of `exe` (the `loa` binary), killed after `timeout`.
    Child {
        /// The `loa` binary.
        exe: PathBuf,
        /// Wall-clock limit for one file.
        timeout: Duration,
    },
    /// In this process, with panics caught but no time limit. For tests only.
    InProcess,
}

impl Analyser {
    /// The child-process analyser running this very binary (the daemon's and the CLI's).
    ///
    /// On Linux this is `/proc/self/exe`, which still runs this binary after a package
    /// upgrade has replaced the file on disk, so the worker always matches the daemon.
    pub fn this_binary(timeout: Duration) -> Analyser {
        let proc_exe = Path::new("/proc/self/exe");
        let exe = if proc_exe.exists() {
            proc_exe.to_owned()
        } else {
            std::env::current_exe().unwrap_or_else(|_| PathBuf::from("loa"))
        };
        Analyser::Child { exe, timeout }
    }

    /// Decodes and measures `path`, refusing files longer than `max_duration`.
    /// `Err` means the worker itself could not be run or answered nonsense.
    pub fn analyse(&self, path: &Path, max_duration: Duration) -> Result<Report, String> {
        match self {
            Analyser::InProcess => Ok(analyse_caught(path, max_duration)),
            Analyser::Child { exe, timeout } => run_child(exe, *timeout, path, max_duration),
        }
    }
}

/// The body of `loa __analyse FILE --max-seconds N`: prints the report as one JSON line.
pub fn child_main(path: &Path, max_seconds: u64) -> String {
    let report = measure(path, Duration::from_secs(max_seconds));
    serde_json::to_string(&report).unwrap_or_else(|e| {
        format!("{{\"refused\":{{\"kind\":\"decoder_crashed\",\"detail\":\"{e}\"}}}}")
    })
}

/// Decodes `path` completely, measuring as it goes, in this process.
pub fn measure(path: &Path, max_duration: Duration) -> Report {
    match measure_inner(path, max_duration) {
        Ok(m) => Report::Ok(m),
        Err(p) => Report::Refused(p),
    }
}

/// [`measure`] with a decoder panic turned into a refusal.
fn analyse_caught(path: &Path, max_duration: Duration) -> Report {
    std::panic::catch_unwind(|| measure(path, max_duration)).unwrap_or_else(|panic| {
        let detail = panic
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "panic".to_owned());
        Report::Refused(Problem::DecoderCrashed { detail })
    })
}

fn measure_inner(path: &Path, max_duration: Duration) -> Result<Measured, Problem> {
    let mut decoder = Decoder::open(path).map_err(|e| problem_of(&e, path))?;
    let format = decoder.format().clone();
    let mut meter = LoudnessMeter::new(format.sample_rate, format.channels).map_err(|e| {
        Problem::UnsupportedCodec {
            codec: format!("{} ({e})", format.codec),
        }
    })?;
    let max_frames = max_duration
        .as_millis()
        .saturating_mul(u128::from(format.sample_rate))
        / 1000;
    while let Some(block) = decoder.next_block().map_err(|e| problem_of(&e, path))? {
        meter.add(block).map_err(|e| Problem::Corrupt {
            at_ms: 0,
            detail: e.to_string(),
        })?;
        if u128::from(decoder.frames_decoded()) > max_frames {
            return Err(Problem::TooLong {
                max_s: max_duration.as_secs(),
            });
        }
    }
    let frames = decoder.frames_decoded();
    if frames == 0 {
        return Err(Problem::Empty);
    }
    let loudness = meter.finish().map_err(|e| Problem::Corrupt {
        at_ms: 0,
        detail: e.to_string(),
    })?;
    if loudness.is_silent() {
        return Err(Problem::Silent);
    }
    Ok(Measured {
        duration_ms: frames * 1000 / u64::from(format.sample_rate),
        sample_rate: format.sample_rate,
        channels: format.channels,
        codec: format.codec.to_owned(),
        container: format.container.to_owned(),
        integrated_lufs: loudness.integrated_lufs,
        range_lu: loudness.range_lu,
        true_peak_dbtp: loudness.true_peak_dbtp.max(Loudness::PEAK_FLOOR_DBTP),
    })
}

/// What a decode error means for staff. Paths are dropped: the file is a temporary one.
fn problem_of(e: &DecodeError, path: &Path) -> Problem {
    let ms = |d: &Duration| d.as_millis() as u64;
    match e {
        DecodeError::Empty { .. } => Problem::Empty,
        DecodeError::NotAudio { .. } => sniff(path).unwrap_or(Problem::NotAudio),
        DecodeError::NoAudioTrack { .. } => Problem::NoAudioTrack,
        DecodeError::UnsupportedCodec { codec, .. } => Problem::UnsupportedCodec {
            codec: codec.clone(),
        },
        DecodeError::Truncated { at, .. } => Problem::Truncated { at_ms: ms(at) },
        DecodeError::UnsupportedFeature { at, source, .. }
        | DecodeError::Corrupt { at, source, .. } => Problem::Corrupt {
            at_ms: ms(at),
            detail: source.to_string(),
        },
        DecodeError::FormatChanged { at, .. } => Problem::Corrupt {
            at_ms: ms(at),
            detail: "the sample rate or channel count changes mid-stream".to_owned(),
        },
        DecodeError::Open { source, .. } | DecodeError::Read { source, .. } => Problem::Corrupt {
            at_ms: 0,
            detail: source.to_string(),
        },
    }
}

/// Names formats the decoder does not recognise at all but staff commonly send, so the
/// refusal can say what the file is: WebM/Matroska (voice notes from messaging apps, Opus
/// inside) and Ogg Opus.
fn sniff(path: &Path) -> Option<Problem> {
    let mut head = [0u8; 64];
    let n = std::fs::File::open(path)
        .and_then(|mut f| f.read(&mut head))
        .ok()?;
    let head = &head[..n];
    let codec = if head.starts_with(&[0x1a, 0x45, 0xdf, 0xa3]) {
        "WebM/Matroska (Opus)"
    } else if head.starts_with(b"OggS") && head.windows(8).any(|w| w == b"OpusHead") {
        "Opus"
    } else if head.starts_with(b"#!AMR") {
        "AMR"
    } else {
        return None;
    };
    Some(Problem::UnsupportedCodec {
        codec: codec.to_owned(),
    })
}

/// Runs `exe __analyse path`, waits at most `timeout`, and reads its one line.
fn run_child(
    exe: &Path,
    timeout: Duration,
    path: &Path,
    max_duration: Duration,
) -> Result<Report, String> {
    let mut child = Command::new(exe)
        .arg(SUBCOMMAND)
        .arg(path)
        .arg("--max-seconds")
        .arg(max_duration.as_secs().to_string())
        .env("RUST_LOG", "error")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start {} {SUBCOMMAND}: {e}", exe.display()))?;
    // Drain both pipes on threads so a chatty child can never block on a full pipe.
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            if let Some(mut p) = pipe {
                let _ = p.by_ref().take(1 << 20).read_to_string(&mut text);
                let _ = std::io::copy(&mut p, &mut std::io::sink());
            }
            text
        })
    };
    let out = drain(child.stdout.take().map(|p| Box::new(p) as _));
    let err = drain(child.stderr.take().map(|p| Box::new(p) as _));
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => return Err(format!("cannot wait for the analysis worker: {e}")),
        }
    };
    let stdout = out.join().unwrap_or_default();
    let stderr = err.join().unwrap_or_default();
    let Some(status) = status else {
        return Ok(Report::Refused(Problem::Timeout {
            limit_s: timeout.as_secs().max(1),
        }));
    };
    if let Some(line) = stdout.lines().rev().find(|l| !l.trim().is_empty())
        && let Ok(report) = serde_json::from_str::<Report>(line)
    {
        return Ok(report);
    }
    if status.success() {
        return Err(format!("unexpected output {:?}", stdout.trim()));
    }
    let last = stderr.lines().rev().find(|l| !l.trim().is_empty());
    let detail = match (status.code(), last) {
        (_, Some(line)) => format!("{status}: {}", line.trim()),
        (_, None) => status.to_string(),
    };
    Ok(Report::Refused(Problem::DecoderCrashed { detail }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name)
    }

    const HOUR: Duration = Duration::from_secs(3600);

    #[test]
    fn good_fixture_measures_and_too_long_stops_early() {
        let Report::Ok(m) = measure(&fixture("speech-44k-stereo.mp3"), HOUR) else {
            panic!("mp3 fixture refused");
        };
        assert_eq!((m.sample_rate, m.channels), (44_100, 2));
        assert!((1700..=1900).contains(&m.duration_ms), "{m:?}");
        assert!(m.integrated_lufs > -40.0 && m.integrated_lufs < 0.0);
        assert_eq!(
            measure(&fixture("speech-44k-stereo.mp3"), Duration::from_secs(1)),
            Report::Refused(Problem::TooLong { max_s: 1 })
        );
    }

    #[test]
    fn opus_and_webm_are_named() {
        match measure(&fixture("speech-48k-mono.opus"), HOUR) {
            Report::Refused(Problem::UnsupportedCodec { codec }) => assert!(codec.contains("Opus")),
            other => panic!("{other:?}"),
        }
        let dir = tempfile::tempdir().unwrap();
        let webm = dir.path().join("voice.webm");
        std::fs::write(&webm, [0x1a, 0x45, 0xdf, 0xa3, 0x9f, 0x42, 0x86, 0x81, 1]).unwrap();
        match measure(&webm, HOUR) {
            Report::Refused(Problem::UnsupportedCodec { codec }) => assert!(codec.contains("WebM")),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_missing_worker_binary_is_an_error_not_a_refusal() {
        let a = Analyser::Child {
            exe: PathBuf::from("/nonexistent/loa"),
            timeout: Duration::from_secs(5),
        };
        assert!(a.analyse(&fixture("speech-44k-stereo.mp3"), HOUR).is_err());
    }

    #[test]
    fn a_worker_that_hangs_is_killed_at_the_limit() {
        // `sleep` ignores our arguments' meaning but not their presence: `sleep __analyse`
        // fails at once, so use a shell that sleeps whatever it is given.
        let dir = tempfile::tempdir().unwrap();
        let exe = dir.path().join("hang.sh");
        std::fs::write(&exe, "#!/bin/sh\nexec sleep 30\n").unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
        let a = Analyser::Child {
            exe,
            timeout: Duration::from_millis(300),
        };
        assert_eq!(
            a.analyse(&fixture("speech-44k-stereo.mp3"), HOUR),
            Ok(Report::Refused(Problem::Timeout { limit_s: 1 }))
        );
    }

    #[test]
    fn a_worker_that_dies_is_a_crash_refusal() {
        let dir = tempfile::tempdir().unwrap();
        let exe = dir.path().join("die.sh");
        std::fs::write(
            &exe,
            "#!/bin/sh\necho 'thread main panicked' >&2\nkill -SEGV $$\n",
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
        let a = Analyser::Child {
            exe,
            timeout: Duration::from_secs(10),
        };
        match a.analyse(&fixture("speech-44k-stereo.mp3"), HOUR) {
            Ok(Report::Refused(Problem::DecoderCrashed { detail })) => {
                assert!(detail.contains("panicked"), "{detail}")
            }
            other => panic!("{other:?}"),
        }
    }
}
