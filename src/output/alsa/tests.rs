//! Tests of the ALSA output. The end-to-end test runs itself again in a child process whose
//! ALSA configuration (`tests/alsa/asoundrc`) records the `default` device into a WAV file,
//! because alsa-lib reads its configuration once per process; the child plays a tone through
//! the player thread, the parent checks the recorded file.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use super::*;
use crate::output::OutputSpec;
use crate::output::capture::read_alsa_capture;
use crate::output::tone::{Tone, channel, rms, tone_amplitude, zero_crossing_frequency};
use crate::player::{
    Broadcast, BroadcastId, ItemKind, Outcome, OutputState, Player, PlayerConfig, PlayerEvent,
    PreparedItem,
};

/// The test configuration, written into a temporary directory by the parent.
const ASOUNDRC: &str = include_str!("../../../tests/alsa/asoundrc");
/// The environment flag that makes the test the child.
const CHILD_FLAG: &str = "LOA_TEST_ALSA_CHILD";
/// Where the child's ALSA configuration sends the captured audio.
const CAPTURE_VAR: &str = "LOA_ALSA_CAPTURE";
/// The system ALSA configuration that the test file is layered on.
const SYSTEM_ALSA_CONF: &str = "/usr/share/alsa/alsa.conf";

const TONE: Tone = Tone {
    frequency_hz: 1_000.0,
    level_dbfs: -6.0,
    duration: Duration::from_millis(1_000),
};

#[test]
fn unknown_device_error_names_it_and_lists_the_others() {
    let error = AlsaOutput::open("hw:CARD=NoSuchCard,DEV=0", OutputFormat::STEREO_48K)
        .err()
        .expect("no such card");
    let message = error.to_string();
    assert!(
        message.starts_with("alsa device \"hw:CARD=NoSuchCard,DEV=0\" not found; available: "),
        "{message}"
    );
    assert!(message.contains("default"), "{message}");
}

#[test]
fn plays_a_tone_through_the_alsa_file_plugin() {
    const NAME: &str = "plays_a_tone_through_the_alsa_file_plugin";
    if is_child(NAME) {
        play_tone_in_child();
        return;
    }
    let dir = temp_dir(NAME);
    let capture = dir.join("capture.wav");
    run_child(NAME, &dir, ASOUNDRC, &capture);

    let audio = read_alsa_capture(&capture).expect("capture file");
    assert_eq!((audio.sample_rate, audio.channels), (48_000, 2));
    let left = channel(&audio.samples, 2, 0);
    assert_eq!(left, channel(&audio.samples, 2, 1), "channels stay aligned");
    let first = left
        .iter()
        .position(|s| s.abs() > 1e-3)
        .expect("some sound");
    let last = left
        .iter()
        .rposition(|s| s.abs() > 1e-3)
        .expect("some sound");
    let span = (last - first) as f32 / 48_000.0;
    assert!((span - 1.0).abs() < 0.01, "tone lasts {span} s");
    let tone = &left[first..=last];
    assert!(rms(tone) > 0.3, "rms {}", rms(tone));
    let frequency = zero_crossing_frequency(tone, 48_000);
    assert!((frequency - 1_000.0).abs() < 5.0, "frequency {frequency}");
    let level = tone_amplitude(tone, 48_000, 1_000.0);
    assert!((level - TONE.amplitude()).abs() < 0.05, "level {level}");
    assert!(tone_amplitude(tone, 48_000, 1_500.0) < 0.01);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_default_device_that_cannot_open_is_reported_and_auto_falls_back_to_null() {
    const NAME: &str = "a_default_device_that_cannot_open_is_reported_and_auto_falls_back_to_null";
    if is_child(NAME) {
        fail_to_open_in_child();
        return;
    }
    let dir = temp_dir(NAME);
    let config = "pcm.!default {\n    type hw\n    card \"LoaNoSuchCard\"\n}\n";
    run_child(NAME, &dir, config, &dir.join("unused.wav"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Whether this process is the child started for test `name`.
fn is_child(name: &str) -> bool {
    std::env::var(CHILD_FLAG).is_ok_and(|value| value == name)
}

/// A fresh temporary directory for test `name`.
fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("loa-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs test `name` again in a child process whose ALSA configuration adds `asoundrc`, and
/// checks that it ran and passed.
fn run_child(name: &str, dir: &Path, asoundrc: &str, capture: &Path) {
    let config = dir.join("asoundrc");
    std::fs::write(&config, asoundrc).unwrap();
    let module = module_path!();
    let module = module.split_once("::").map_or(module, |(_, rest)| rest);
    let output = Command::new(std::env::current_exe().unwrap())
        .args([
            &format!("{module}::{name}"),
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_FLAG, name)
        .env(
            "ALSA_CONFIG_PATH",
            format!("{SYSTEM_ALSA_CONF}:{}", config.display()),
        )
        .env(CAPTURE_VAR, capture)
        .output()
        .expect("run the test binary");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "child failed: {stdout}\n{stderr}");
    assert!(
        stdout.contains("1 passed"),
        "the child ran the test: {stdout}"
    );
}

/// The child's half of the open-failure test.
fn fail_to_open_in_child() {
    let format = OutputFormat::STEREO_48K;
    let error = AlsaOutput::open("default", format)
        .err()
        .expect("no such card");
    let message = crate::output::error_chain(&error);
    assert!(
        message.starts_with("cannot open alsa device \"default\" (alsa-lib: "),
        "{message}"
    );
    assert!(message.contains("LoaNoSuchCard"), "{message}");
    let auto = OutputSpec::Auto.open(format).unwrap();
    assert_eq!(auto.name(), "null (auto fallback)");

    let spec: OutputSpec = "alsa:default".parse().unwrap();
    let (player, events) = Player::spawn(spec.factory(format), PlayerConfig::default()).unwrap();
    let failed = match events.recv_timeout(Duration::from_secs(5)).unwrap() {
        PlayerEvent::OutputState(OutputState::Failed { error }) => error,
        other => panic!("expected a failed output, got {other:?}"),
    };
    assert_eq!(failed, message);
    player
        .play(Broadcast {
            id: BroadcastId(1),
            items: Vec::new(),
            gap: Duration::ZERO,
        })
        .unwrap();
    // The due broadcast tries the device once more (reported as another failed state).
    let finished = loop {
        match events.recv_timeout(Duration::from_secs(5)).unwrap() {
            PlayerEvent::OutputState(OutputState::Failed { .. }) => continue,
            other => break other,
        }
    };
    let expected = Outcome::Failed(format!("output unavailable: {message}"));
    assert!(
        matches!(&finished, PlayerEvent::Finished { outcome, items_played: 0, .. } if *outcome == expected),
        "{finished:?}"
    );
    player.shutdown();
}

/// The child's half: plays the tone as a broadcast through the player on `alsa:default` and
/// checks the events, pacing and first-sample timing.
fn play_tone_in_child() {
    let format = OutputFormat::STEREO_48K;
    let tone = PreparedItem {
        label: "tone".to_owned(),
        pcm: Arc::new(TONE.render(format).unwrap()),
        gain: 1.0,
        kind: ItemKind::Clip,
    };
    let spec: OutputSpec = "alsa:default".parse().unwrap();
    let (player, events) = Player::spawn(spec.factory(format), PlayerConfig::default()).unwrap();
    let opened = events.recv_timeout(Duration::from_secs(5)).unwrap();
    assert_eq!(
        opened,
        PlayerEvent::OutputState(OutputState::Open {
            name: "alsa:default".to_owned()
        })
    );
    let sent = Instant::now();
    player
        .play(Broadcast {
            id: BroadcastId(1),
            items: vec![tone],
            gap: Duration::ZERO,
        })
        .unwrap();
    let mut first_sample = None;
    let outcome = loop {
        match events.recv_timeout(Duration::from_secs(5)).unwrap() {
            PlayerEvent::Started {
                first_sample_at, ..
            } => first_sample = Some(first_sample_at),
            PlayerEvent::Finished {
                outcome,
                items_played,
                ..
            } => break (outcome, items_played),
            _ => {}
        }
    };
    let elapsed = sent.elapsed();
    let first_after = first_sample.expect("a started event").duration_since(sent);
    println!("first sample after {first_after:?}, played in {elapsed:?}");
    assert_eq!(outcome, (Outcome::Completed, 1));
    assert!(
        first_after < Duration::from_millis(300),
        "first sample after {first_after:?}"
    );
    assert!(
        elapsed >= Duration::from_millis(900),
        "paced: took {elapsed:?}"
    );
    assert!(elapsed < Duration::from_millis(2_500), "took {elapsed:?}");
    player.shutdown();
}
