//! Helpers shared by the integration tests: the binary, configs in temp dirs, generated
//! test tones, measurements of captured audio, and plain HTTP/1.1 requests to a daemon.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

/// The `loa` binary under test.
pub fn loa() -> Command {
    Command::new(env!("CARGO_BIN_EXE_loa"))
}

/// Runs `loa` with `args` and returns its output.
pub fn run(args: &[&str]) -> Output {
    loa().args(args).output().expect("loa runs")
}

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Writes a config file into `dir` with data in `dir/data`, plus `extra` TOML appended to
/// the sections given (a full TOML text with section headers).
pub fn write_config(dir: &Path, extra: &str) -> PathBuf {
    let path = dir.join("loa.toml");
    let text = format!(
        "[station]\ndata_dir = \"{}\"\n{extra}",
        dir.join("data").display()
    );
    std::fs::write(&path, text).unwrap();
    path
}

/// A wall clock running at real speed from an instant the test chooses, with a
/// synchronisation flag: the daemon's naps are real, so a `FakeClock` standing still would
/// never reach the next occurrence. `jump` moves it as NTP steps a stale clock.
pub struct OffsetClock {
    offset: std::sync::Mutex<chrono::Duration>,
    synchronised: std::sync::atomic::AtomicBool,
}

impl OffsetClock {
    /// A clock reading `at` now, and running on.
    pub fn starting_at(at: chrono::DateTime<chrono::Utc>, synchronised: bool) -> OffsetClock {
        OffsetClock {
            offset: std::sync::Mutex::new(at - chrono::Utc::now()),
            synchronised: std::sync::atomic::AtomicBool::new(synchronised),
        }
    }

    /// Steps the clock by `by` (forward or back).
    pub fn jump(&self, by: chrono::Duration) {
        *self.offset.lock().unwrap() += by;
    }

    /// Sets what the clock says about its synchronisation.
    pub fn set_synchronised(&self, synchronised: bool) {
        self.synchronised
            .store(synchronised, std::sync::atomic::Ordering::SeqCst);
    }
}

impl loa::clock::Clock for OffsetClock {
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        chrono::Utc::now() + *self.offset.lock().unwrap()
    }

    fn is_synchronised(&self) -> bool {
        self.synchronised.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// `rules` with broadcasts allowed at every instant of the day (no earliest or latest
/// time, no quiet hours), for tests that play at whatever time they run.
pub fn all_day(rules: loa::schedule::StationRules) -> loa::schedule::StationRules {
    loa::schedule::StationRules {
        earliest: chrono::NaiveTime::MIN,
        latest: chrono::NaiveTime::from_hms_nano_opt(23, 59, 59, 999_999_999).unwrap(),
        quiet_hours: Vec::new(),
        ..rules
    }
}

/// Writes a mono 48 kHz 16-bit WAV sine tone.
pub fn write_tone(path: &Path, frequency: f64, seconds: f64, level_dbfs: f64) {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 48_000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    let amplitude = 10f64.powf(level_dbfs / 20.0);
    let n = (seconds * 48_000.0) as usize;
    for i in 0..n {
        let v = amplitude * (2.0 * std::f64::consts::PI * frequency * i as f64 / 48_000.0).sin();
        w.write_sample((v * 32767.0).round() as i16).unwrap();
    }
    w.finalize().unwrap();
}

/// Reads a WAV file as interleaved f32 with its channel count and rate.
pub fn read_wav(path: &Path) -> (Vec<f32>, u16, u32) {
    let mut r = hound::WavReader::open(path).unwrap();
    let spec = r.spec();
    let samples: Vec<f32> = match spec.sample_format {
        hound::SampleFormat::Float => r.samples::<f32>().map(Result::unwrap).collect(),
        hound::SampleFormat::Int => {
            let scale = (1i64 << (spec.bits_per_sample - 1)) as f32;
            r.samples::<i32>()
                .map(|s| s.unwrap() as f32 / scale)
                .collect()
        }
    };
    (samples, spec.channels, spec.sample_rate)
}

/// The frequency of a tone, from the zero crossings of its first channel.
pub fn tone_frequency(interleaved: &[f32], channels: u16, rate: u32) -> f64 {
    let ch = usize::from(channels);
    let first: Vec<f32> = interleaved.iter().step_by(ch).copied().collect();
    let crossings = first
        .windows(2)
        .filter(|w| w[0] < 0.0 && w[1] >= 0.0)
        .count();
    crossings as f64 * f64::from(rate) / first.len() as f64
}

/// Runs of sound separated by silence: (start frame, end frame) of each, ignoring gaps
/// shorter than `min_gap_frames`.
pub fn sound_runs(
    interleaved: &[f32],
    channels: u16,
    min_gap_frames: usize,
) -> Vec<(usize, usize)> {
    let ch = usize::from(channels);
    let frames = interleaved.len() / ch;
    let loud = |f: usize| {
        interleaved[f * ch..f * ch + ch]
            .iter()
            .any(|s| s.abs() > 1e-3)
    };
    let mut runs: Vec<(usize, usize)> = Vec::new();
    let mut f = 0;
    while f < frames {
        if loud(f) {
            let start = f;
            let mut end = f;
            let mut quiet = 0;
            while f < frames && quiet < min_gap_frames {
                if loud(f) {
                    end = f + 1;
                    quiet = 0;
                } else {
                    quiet += 1;
                }
                f += 1;
            }
            runs.push((start, end));
        } else {
            f += 1;
        }
    }
    runs
}

/// One HTTP/1.1 request with a bearer token; `None` when the connection fails (the
/// daemon is not up, or died).
pub fn request(
    addr: SocketAddr,
    token: &str,
    method: &str,
    path: &str,
    content_type: &str,
    body: &[u8],
) -> Option<(u16, String)> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\
         Authorization: Bearer {token}\r\nContent-Type: {content_type}\r\n\
         Content-Length: {}\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).ok()?;
    s.write_all(body).ok()?;
    let mut out = Vec::new();
    s.read_to_end(&mut out).ok()?;
    let out = String::from_utf8_lossy(&out);
    let status = out.get(9..12)?.parse().ok()?;
    let body = out.split_once("\r\n\r\n").map(|x| x.1.to_owned())?;
    Some((status, body))
}

/// A free TCP port on loopback.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
