//! The real ALSA path, with no sound card: `loa tone` through rodio → cpal → alsa-lib, whose
//! default device is the `file` plugin over `null` (tests/alsa/asoundrc), and the captured
//! file must hold the tone that was played.

use crate::support::{repo, tone_frequency, write_config};

#[test]
fn tone_through_real_alsa_is_captured_by_the_file_plugin() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        "[schedule]\nwarm_up_seconds = 0.1\nhold_seconds = 0.1\n",
    );
    let capture = dir.path().join("alsa-capture.wav");
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_loa"))
        .env(
            "ALSA_CONFIG_PATH",
            format!(
                "/usr/share/alsa/alsa.conf:{}",
                repo().join("tests/alsa/asoundrc").display()
            ),
        )
        .env("LOA_ALSA_CAPTURE", &capture)
        .args([
            "--config",
            config.to_str().unwrap(),
            "tone",
            "--seconds",
            "1",
            "--frequency",
            "440",
            "--output",
            "alsa:default",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "loa tone failed: {stderr}");
    assert!(
        stderr.contains("alsa"),
        "the tone went through ALSA: {stderr}"
    );
    let audio = loa::output::capture::read_alsa_capture(&capture).unwrap();
    assert_eq!((audio.sample_rate, audio.channels), (48_000, 2));
    let loud: Vec<f32> = audio
        .samples
        .iter()
        .copied()
        .skip_while(|s| s.abs() < 1e-3)
        .collect();
    let seconds = loud.len() as f64 / 96_000.0;
    assert!(seconds >= 0.95, "captured {seconds} s of sound");
    let rms = (loud.iter().map(|s| f64::from(*s).powi(2)).sum::<f64>() / loud.len() as f64).sqrt();
    assert!(rms > 0.05, "rms {rms}");
    let f = tone_frequency(&loud[..96_000], 2, 48_000);
    assert!((f - 440.0).abs() < 5.0, "captured tone at {f} Hz");
}
