//! Tests of the player thread, with capture outputs standing in for the device.

use std::sync::Mutex;

use super::*;
use crate::output::{CaptureHandle, CaptureOutput, OutputFormat};

/// 8 kHz stereo: a 20 ms block is 320 samples.
const FORMAT: OutputFormat = OutputFormat {
    sample_rate: 8_000,
    channels: 2,
};
const WAIT: Duration = Duration::from_secs(5);

fn item(label: &str, kind: ItemKind, value: f32, frames: usize, gain: f32) -> PreparedItem {
    PreparedItem {
        label: label.to_owned(),
        pcm: Arc::new(vec![value; frames * 2]),
        gain,
        kind,
    }
}

fn broadcast(id: u64, items: Vec<PreparedItem>, gap: Duration) -> Broadcast {
    Broadcast {
        id: BroadcastId(id),
        items,
        gap,
    }
}

/// The handles of every capture output a test factory opened.
type Handles = Arc<Mutex<Vec<CaptureHandle>>>;

/// A factory of capture outputs that keeps every opened output's handle.
fn captures(
    paced: bool,
) -> (
    impl FnMut() -> Result<Box<dyn Output>, OutputError> + Send,
    Handles,
) {
    let handles = Arc::new(Mutex::new(Vec::new()));
    let kept = Arc::clone(&handles);
    let factory = move || {
        let (output, handle) = CaptureOutput::new(FORMAT);
        kept.lock().unwrap().push(handle);
        let output = if paced { output } else { output.unpaced() };
        Ok(Box::new(output) as Box<dyn Output>)
    };
    (factory, handles)
}

/// Receives events until broadcast `id` finishes.
fn until_finished(events: &Receiver<PlayerEvent>, id: u64) -> Vec<PlayerEvent> {
    let mut seen = Vec::new();
    loop {
        let event = events.recv_timeout(WAIT).expect("an event in time");
        let done = matches!(&event, PlayerEvent::Finished { id: done, .. } if done.0 == id);
        seen.push(event);
        if done {
            return seen;
        }
    }
}

fn finished(events: &[PlayerEvent]) -> (Outcome, usize) {
    match events.last() {
        Some(PlayerEvent::Finished {
            outcome,
            items_played,
            ..
        }) => (outcome.clone(), *items_played),
        other => panic!("not finished: {other:?}"),
    }
}

#[test]
fn plays_items_in_order_with_gain_clamping_and_gaps_between_clips_only() {
    let (factory, handles) = captures(false);
    let (player, events) = Player::spawn(factory, PlayerConfig::default()).unwrap();
    let items = vec![
        item("chime", ItemKind::Chime, 0.5, 100, 0.5),
        item("first", ItemKind::Clip, 0.5, 500, 4.0),
        item("second", ItemKind::Clip, -0.5, 300, 4.0),
        item("third", ItemKind::Clip, 0.1, 7, 1.0),
        item("closing", ItemKind::Chime, 0.2, 50, 1.0),
    ];
    player
        .play(broadcast(7, items, Duration::from_millis(50)))
        .unwrap();
    let seen = until_finished(&events, 7);
    let log = handles.lock().unwrap()[0].snapshot();

    let mut expected = vec![0.25; 200];
    expected.extend(vec![1.0; 1_000]);
    expected.extend(vec![0.0; 800]);
    expected.extend(vec![-1.0; 600]);
    expected.extend(vec![0.0; 800]);
    expected.extend(vec![0.1; 14]);
    expected.extend(vec![0.2; 100]);
    assert_eq!(log.samples, expected);
    assert_eq!(log.begins, vec![0]);
    assert_eq!(log.drains, 1);
    assert!(
        log.writes.iter().all(|w| w.len <= 320),
        "blocks of at most 20 ms"
    );

    let id = BroadcastId(7);
    assert_eq!(
        seen[0],
        PlayerEvent::OutputState(OutputState::Open {
            name: "capture".to_owned()
        })
    );
    let items_started: Vec<usize> = seen
        .iter()
        .filter_map(|e| match e {
            PlayerEvent::ItemStarted { id: i, index } if *i == id => Some(*index),
            _ => None,
        })
        .collect();
    assert_eq!(items_started, vec![0, 1, 2, 3, 4]);
    let started = seen
        .iter()
        .filter(|e| matches!(e, PlayerEvent::Started { .. }))
        .count();
    assert_eq!(started, 1);
    assert_eq!(finished(&seen), (Outcome::Completed, 5));
    player.shutdown();
}

#[test]
fn stop_mid_broadcast_ends_promptly_and_discards() {
    let (factory, handles) = captures(true);
    let (player, events) = Player::spawn(factory, PlayerConfig::default()).unwrap();
    let long = item("long", ItemKind::Clip, 0.3, 8_000 * 5, 1.0);
    player
        .play(broadcast(1, vec![long], Duration::ZERO))
        .unwrap();
    let started_at = loop {
        match events.recv_timeout(WAIT).unwrap() {
            PlayerEvent::Started {
                first_sample_at, ..
            } => break first_sample_at,
            _ => continue,
        }
    };
    std::thread::sleep(Duration::from_millis(200));
    let stop_sent = Instant::now();
    player.stop().unwrap();
    let seen = until_finished(&events, 1);
    let latency = stop_sent.elapsed();
    assert!(
        latency < Duration::from_millis(100),
        "stop took {latency:?}"
    );
    assert_eq!(finished(&seen), (Outcome::Stopped, 0));
    let log = handles.lock().unwrap()[0].snapshot();
    let played = FORMAT.duration_of(log.samples.len());
    assert!(
        played < Duration::from_millis(400),
        "wrote {played:?} before stopping"
    );
    assert_eq!(log.discards, vec![log.samples.len()]);
    assert!(started_at <= stop_sent);
    player.shutdown();
}

#[test]
fn a_new_play_cuts_the_current_broadcast() {
    let (factory, _handles) = captures(true);
    let (player, events) = Player::spawn(factory, PlayerConfig::default()).unwrap();
    let long = item("long", ItemKind::Clip, 0.3, 8_000 * 5, 1.0);
    let short = item("short", ItemKind::Clip, 0.3, 80, 1.0);
    player
        .play(broadcast(1, vec![long], Duration::ZERO))
        .unwrap();
    std::thread::sleep(Duration::from_millis(100));
    player
        .play(broadcast(2, vec![short], Duration::ZERO))
        .unwrap();
    let first = until_finished(&events, 1);
    assert_eq!(finished(&first), (Outcome::Stopped, 0));
    let second = until_finished(&events, 2);
    assert_eq!(finished(&second), (Outcome::Completed, 1));
    assert!(
        second
            .iter()
            .any(|e| matches!(e, PlayerEvent::Started { id, .. } if id.0 == 2))
    );
    player.shutdown();
}

#[test]
fn failing_output_fails_plays_at_once_and_reopens_with_backoff() {
    let attempts = Arc::new(Mutex::new(Vec::new()));
    let seen_attempts = Arc::clone(&attempts);
    let factory = move || {
        let mut attempts = seen_attempts.lock().unwrap();
        attempts.push(Instant::now());
        if attempts.len() <= 3 {
            return Err(OutputError::CaptureFailed("no device yet".to_owned()));
        }
        Ok(Box::new(CaptureOutput::new(FORMAT).0.unpaced()) as Box<dyn Output>)
    };
    let config = PlayerConfig {
        backoff_initial: Duration::from_millis(100),
        backoff_max: Duration::from_millis(300),
        idle_check: Duration::from_secs(1),
    };
    let (player, events) = Player::spawn(factory, config).unwrap();
    let failed = OutputState::Failed {
        error: "capture output failed: no device yet".to_owned(),
    };
    assert_eq!(
        events.recv_timeout(WAIT).unwrap(),
        PlayerEvent::OutputState(failed.clone())
    );

    let sent = Instant::now();
    player
        .play(broadcast(
            1,
            vec![item("a", ItemKind::Clip, 0.1, 8, 1.0)],
            Duration::ZERO,
        ))
        .unwrap();
    let seen = until_finished(&events, 1);
    assert!(
        sent.elapsed() < Duration::from_millis(50),
        "a play while down fails at once"
    );
    assert_eq!(
        finished(&seen),
        (
            Outcome::Failed("output unavailable: capture output failed: no device yet".to_owned()),
            0
        )
    );

    // The play tried the device at once (attempt 2, failed, reported before the end);
    // after that the backoff goes on doubling until the device opens.
    assert!(
        seen.contains(&PlayerEvent::OutputState(failed.clone())),
        "{seen:?}"
    );
    let mut states = Vec::new();
    while states.last()
        != Some(&OutputState::Open {
            name: "capture".to_owned(),
        })
    {
        if let PlayerEvent::OutputState(state) = events.recv_timeout(WAIT).unwrap() {
            states.push(state);
        }
    }
    assert_eq!(states[..states.len() - 1], [failed]);
    let attempts = attempts.lock().unwrap().clone();
    assert_eq!(attempts.len(), 4);
    let gaps: Vec<u128> = attempts
        .windows(2)
        .map(|w| (w[1] - w[0]).as_millis())
        .collect();
    for (gap, expected) in gaps[1..].iter().zip([200, 300]) {
        assert!(
            (expected..expected + 80).contains(gap),
            "attempt gaps {gaps:?}"
        );
    }

    player
        .play(broadcast(
            2,
            vec![item("a", ItemKind::Clip, 0.1, 8, 1.0)],
            Duration::ZERO,
        ))
        .unwrap();
    assert_eq!(
        finished(&until_finished(&events, 2)),
        (Outcome::Completed, 1)
    );
    player.shutdown();
}

#[test]
fn a_write_failure_fails_the_broadcast_and_the_output_is_reopened() {
    let opened = Arc::new(Mutex::new(0));
    let count = Arc::clone(&opened);
    let factory = move || {
        let mut count = count.lock().unwrap();
        *count += 1;
        let output = CaptureOutput::new(FORMAT).0.unpaced();
        let output = if *count == 1 {
            output.failing_after(1_000)
        } else {
            output
        };
        Ok(Box::new(output) as Box<dyn Output>)
    };
    let config = PlayerConfig {
        backoff_initial: Duration::from_millis(50),
        ..PlayerConfig::default()
    };
    let (player, events) = Player::spawn(factory, config).unwrap();
    let items = vec![
        item("short", ItemKind::Clip, 0.1, 100, 1.0),
        item("long", ItemKind::Clip, 0.1, 1_000, 1.0),
    ];
    player.play(broadcast(1, items, Duration::ZERO)).unwrap();
    let seen = until_finished(&events, 1);
    let failure = "capture output failed: told to fail after 1000 samples";
    assert_eq!(
        finished(&seen),
        (Outcome::Failed(format!("output failed: {failure}")), 1)
    );
    assert!(
        seen.contains(&PlayerEvent::OutputState(OutputState::Failed {
            error: failure.to_owned()
        }))
    );
    let reopened = events.recv_timeout(WAIT).unwrap();
    assert_eq!(
        reopened,
        PlayerEvent::OutputState(OutputState::Reopened {
            name: "capture".to_owned()
        })
    );
    player
        .play(broadcast(
            2,
            vec![item("a", ItemKind::Clip, 0.1, 8, 1.0)],
            Duration::ZERO,
        ))
        .unwrap();
    assert_eq!(
        finished(&until_finished(&events, 2)),
        (Outcome::Completed, 1)
    );
    player.shutdown();
}

#[test]
fn a_panicking_factory_is_an_open_failure_not_a_crash() {
    let factory = || -> Result<Box<dyn Output>, OutputError> { panic!("driver bug") };
    let (player, events) = Player::spawn(factory, PlayerConfig::default()).unwrap();
    assert_eq!(
        events.recv_timeout(WAIT).unwrap(),
        PlayerEvent::OutputState(OutputState::Failed {
            error: "the output factory panicked".to_owned()
        })
    );
    player.stop().unwrap();
    player.shutdown();
}

#[test]
fn malformed_and_empty_broadcasts_finish_without_touching_the_device_state() {
    let (factory, handles) = captures(false);
    let (player, events) = Player::spawn(factory, PlayerConfig::default()).unwrap();
    let mut odd = item("odd", ItemKind::Clip, 0.1, 4, 1.0);
    odd.pcm = Arc::new(vec![0.1; 3]);
    player
        .play(broadcast(1, vec![odd], Duration::ZERO))
        .unwrap();
    let seen = until_finished(&events, 1);
    assert_eq!(
        finished(&seen),
        (
            Outcome::Failed(
                "item 0 \"odd\" is malformed: 3 samples for 2 channels, gain 1".to_owned()
            ),
            0
        )
    );
    player
        .play(broadcast(2, Vec::new(), Duration::from_secs(1)))
        .unwrap();
    let seen = until_finished(&events, 2);
    assert_eq!(
        seen,
        vec![PlayerEvent::Finished {
            id: BroadcastId(2),
            outcome: Outcome::Completed,
            items_played: 0
        }]
    );
    assert_eq!(handles.lock().unwrap().len(), 1, "never reopened");
    player.shutdown();
}

#[test]
fn shutdown_stops_the_current_broadcast_and_ends_the_thread() {
    let (factory, _handles) = captures(true);
    let (player, events) = Player::spawn(factory, PlayerConfig::default()).unwrap();
    let long = item("long", ItemKind::Clip, 0.3, 8_000 * 5, 1.0);
    player
        .play(broadcast(1, vec![long], Duration::ZERO))
        .unwrap();
    std::thread::sleep(Duration::from_millis(100));
    let started = Instant::now();
    player.shutdown();
    assert!(started.elapsed() < Duration::from_millis(200));
    let seen: Vec<PlayerEvent> = events.try_iter().collect();
    assert_eq!(finished(&seen), (Outcome::Stopped, 0));
}

#[test]
fn backoff_doubles_from_one_to_thirty_seconds() {
    let config = PlayerConfig::default();
    let mut previous = None;
    let mut delays = Vec::new();
    for _ in 0..8 {
        let delay = next_backoff(previous, &config);
        delays.push(delay.as_secs());
        previous = Some(delay);
    }
    assert_eq!(delays, vec![1, 2, 4, 8, 16, 30, 30, 30]);
}

#[test]
fn gaps_go_between_consecutive_clips_only() {
    let cases = [
        ("C c c C", "C c _ c C"),
        ("c c c", "c _ c _ c"),
        ("C C c", "C C c"),
        ("c C c", "c C c"),
        ("c", "c"),
        ("", ""),
    ];
    for (kinds, expected) in cases {
        let items: Vec<PreparedItem> = kinds
            .split_whitespace()
            .map(|k| {
                let kind = if k == "C" {
                    ItemKind::Chime
                } else {
                    ItemKind::Clip
                };
                item(k, kind, 0.0, 1, 1.0)
            })
            .collect();
        let shown: Vec<&str> = plan(&items, 10)
            .iter()
            .map(|segment| match segment {
                Segment::Item(index) => items[*index].label.as_str(),
                Segment::Gap(_) => "_",
            })
            .collect();
        assert_eq!(shown.join(" "), expected, "{kinds}");
        assert_eq!(plan(&items, 0).len(), items.len(), "no gap when it is zero");
    }
}

#[test]
fn gain_is_clamped_and_never_produces_nan() {
    let cases = [
        (0.5, 1.0, 0.5),
        (0.5, 3.0, 1.0),
        (-0.5, 3.0, -1.0),
        (0.25, 0.5, 0.125),
        (f32::NAN, 1.0, 0.0),
        (f32::INFINITY, 1.0, 1.0),
    ];
    for (sample, gain, expected) in cases {
        assert_eq!(apply_gain(sample, gain), expected, "{sample} × {gain}");
    }
}
