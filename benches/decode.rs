//! Decoding and loudness-analysis speed against ffmpeg on the same 10-minute files.
//!
//! Generates a 10-minute MP3 (128 kb/s) and M4A (AAC, 96 kb/s), 44.1 kHz stereo, by looping the
//! committed speech fixture with ffmpeg into a temporary folder, then times `decode_file` against
//! `ffmpeg -i FILE -f null -` and `analyse_file` against
//! `ffmpeg -i FILE -af ebur128=peak=true -f null -`, best of three runs each, and prints the
//! ratios. Needs ffmpeg on PATH. Run with `cargo bench --bench decode`.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use loa::decode::decode_file;
use loa::loudness::analyse_file;

const SECONDS: u32 = 600;
const RUNS: usize = 3;

fn main() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let speech = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/speech-22k-mono.flac");
    let files = [
        ("mp3", vec!["-c:a", "libmp3lame", "-b:a", "128k"]),
        ("m4a", vec!["-c:a", "aac", "-b:a", "96k"]),
    ];
    println!("{SECONDS} s of looped speech, 44.1 kHz stereo; best of {RUNS} runs");
    for (ext, codec) in files {
        let path = dir.path().join(format!("bulletin.{ext}"));
        let status = Command::new("ffmpeg")
            .args([
                "-hide_banner",
                "-loglevel",
                "error",
                "-y",
                "-stream_loop",
                "-1",
                "-i",
            ])
            .arg(&speech)
            .args(["-t", &SECONDS.to_string(), "-ar", "44100", "-ac", "2"])
            .args(&codec)
            .arg(&path)
            .status()
            .expect("ffmpeg runs");
        assert!(status.success(), "ffmpeg could not make {}", path.display());
        let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        println!("\n{ext}: {:.1} MB", size as f64 / 1e6);

        let ours = best(|| {
            let pcm = decode_file(&path).expect("decodes");
            assert!(pcm.duration() > Duration::from_secs(u64::from(SECONDS) - 1));
        });
        let theirs = best(|| ffmpeg(&path, &[]));
        report("decode_file", ours, "ffmpeg -f null", theirs);

        let mut lufs = 0.0;
        let ours = best(|| {
            lufs = analyse_file(&path)
                .expect("analyses")
                .loudness
                .integrated_lufs
        });
        let theirs = best(|| ffmpeg(&path, &["-af", "ebur128=peak=true"]));
        report("analyse_file", ours, "ffmpeg ebur128", theirs);
        println!("  integrated loudness {lufs:.1} LUFS");
    }
}

fn ffmpeg(path: &Path, filter: &[&str]) {
    let status = Command::new("ffmpeg")
        .args([
            "-hide_banner",
            "-nostats",
            "-loglevel",
            "error",
            "-threads",
            "1",
            "-i",
        ])
        .arg(path)
        .args(filter)
        .args(["-f", "null", "-"])
        .stdout(Stdio::null())
        .status()
        .expect("ffmpeg runs");
    assert!(status.success());
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

fn report(ours: &str, ours_t: Duration, theirs: &str, theirs_t: Duration) {
    println!(
        "  {ours:<13} {:>7.2} s   {theirs:<15} {:>7.2} s   ratio {:.2}×",
        ours_t.as_secs_f64(),
        theirs_t.as_secs_f64(),
        ours_t.as_secs_f64() / theirs_t.as_secs_f64()
    );
}
