//! Tests of the relay drivers and the amplifier handle, with command relays writing to
//! temporary files and a scripted in-memory relay. Real GPIO hardware is not exercised.

use std::path::Path;
use std::sync::mpsc::Receiver;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::*;

/// A relay that records every switch and fails the ones it is told to.
struct Scripted {
    log: Arc<Mutex<Vec<bool>>>,
    /// How many of the next switch-offs fail.
    failing_offs: Arc<Mutex<u32>>,
    /// Whether switch-ons fail.
    failing_ons: bool,
}

impl Relay for Scripted {
    fn set(&mut self, on: bool) -> Result<(), AmpError> {
        let mut failing = self.failing_offs.lock().unwrap();
        if (on && self.failing_ons) || (!on && *failing > 0) {
            if !on {
                *failing -= 1;
            }
            return Err(AmpError::CommandFailed {
                command: "scripted".to_owned(),
                status: "exit status: 1".to_owned(),
                stderr: "relay jammed".to_owned(),
            });
        }
        self.log.lock().unwrap().push(on);
        Ok(())
    }

    fn description(&self) -> String {
        "scripted test relay".to_owned()
    }
}

/// A scripted relay's log of switches and its counter of switch-offs still to fail.
type Handles = (Arc<Mutex<Vec<bool>>>, Arc<Mutex<u32>>);

/// A scripted relay plus handles to its log and its failure counter.
fn scripted(failing_offs: u32) -> (Box<dyn Relay>, Handles) {
    let log = Arc::new(Mutex::new(Vec::new()));
    let failing = Arc::new(Mutex::new(failing_offs));
    let relay = Scripted {
        log: Arc::clone(&log),
        failing_offs: Arc::clone(&failing),
        failing_ons: false,
    };
    (Box::new(relay), (log, failing))
}

/// A command relay appending "on" and "off" lines to `file`.
fn file_relay(file: &Path) -> RelaySpec {
    let quoted = format!("'{}'", file.display());
    RelaySpec::Command {
        on: format!("echo on >> {quoted}"),
        off: format!("echo off >> {quoted}"),
        timeout: Duration::from_secs(5),
    }
}

fn lines(file: &Path) -> Vec<String> {
    std::fs::read_to_string(file)
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect()
}

fn timing(max_on_ms: u64) -> AmpTiming {
    AmpTiming {
        max_on: Duration::from_millis(max_on_ms),
        off_retry: Duration::from_millis(20),
    }
}

/// Waits for the first event matching `wanted`, failing after two seconds.
fn wait_for(events: &Receiver<AmpEvent>, wanted: impl Fn(&AmpEvent) -> bool) -> AmpEvent {
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match events.recv_timeout(left) {
            Ok(event) if wanted(&event) => return event,
            Ok(_) => {}
            Err(error) => panic!("expected event never came: {error}"),
        }
    }
}

#[test]
fn command_relay_switches_in_order_and_skips_repeats() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("relay log");
    let relay = open(&file_relay(&file)).unwrap();
    let (amp, events) = Amplifier::with_channel(relay, timing(60_000)).unwrap();
    amp.switch_on("morning session").unwrap();
    amp.switch_on("again").unwrap();
    assert!(amp.is_on());
    amp.switch_off("hold elapsed").unwrap();
    amp.switch_off("again").unwrap();
    assert!(!amp.is_on());
    amp.switch_on("evening session").unwrap();
    drop(amp);
    assert_eq!(lines(&file), ["off", "on", "off", "on", "off"]);
    let reasons: Vec<String> = events
        .try_iter()
        .map(|event| match event {
            AmpEvent::SwitchedOn { reason } => format!("on: {reason}"),
            AmpEvent::SwitchedOff { reason, .. } => format!("off: {reason}"),
            other => panic!("unexpected event {other:?}"),
        })
        .collect();
    assert_eq!(
        reasons,
        [
            "on: morning session",
            "off: hold elapsed",
            "on: evening session",
            "off: shutdown"
        ]
    );
}

#[test]
fn failing_command_reports_its_stderr_and_status() {
    let spec = RelaySpec::Command {
        on: "echo 'usbrelay: device not found' >&2; exit 3".to_owned(),
        off: "true".to_owned(),
        timeout: Duration::from_secs(5),
    };
    let (amp, events) = Amplifier::with_channel(open(&spec).unwrap(), timing(60_000)).unwrap();
    let error = amp.switch_on("test").unwrap_err();
    let message = error.to_string();
    assert!(message.contains("usbrelay: device not found"), "{message}");
    assert!(message.contains("exit status: 3"), "{message}");
    assert!(!amp.is_on());
    match wait_for(&events, |e| matches!(e, AmpEvent::RelayFailed { .. })) {
        AmpEvent::RelayFailed { on, error, .. } => {
            assert!(on);
            assert!(error.to_string().contains("device not found"));
        }
        _ => unreachable!(),
    }
}

#[test]
fn silent_failing_command_says_stderr_was_empty() {
    let mut relay = open(&RelaySpec::Command {
        on: "exit 1".to_owned(),
        off: "true".to_owned(),
        timeout: Duration::from_secs(5),
    })
    .unwrap();
    let message = relay.set(true).unwrap_err().to_string();
    assert_eq!(
        message,
        "relay command `exit 1` failed with exit status: 1: no output on stderr"
    );
    relay.set(false).unwrap();
}

#[test]
fn slow_command_and_its_children_are_killed_at_the_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("late");
    let mut relay = open(&RelaySpec::Command {
        // Not a lone command, so the shell forks `sleep`: the group kill must reach it.
        on: format!("sleep 1; echo late > '{}'", marker.display()),
        off: "true".to_owned(),
        timeout: Duration::from_millis(200),
    })
    .unwrap();
    let start = Instant::now();
    let error = relay.set(true).unwrap_err();
    assert!(matches!(error, AmpError::CommandTimeout { .. }), "{error}");
    assert!(
        start.elapsed() < Duration::from_millis(900),
        "{:?}",
        start.elapsed()
    );
    std::thread::sleep(Duration::from_millis(1300));
    assert!(!marker.exists(), "the command went on after its timeout");
}

#[test]
fn bad_command_specs_are_rejected() {
    let cases = [
        ("", "true", 5_000, "relay on command is empty"),
        ("true", "  ", 5_000, "relay off command is empty"),
        ("true", "true", 0, "relay command timeout is zero"),
    ];
    for (on, off, timeout_ms, expected) in cases {
        let spec = RelaySpec::Command {
            on: on.to_owned(),
            off: off.to_owned(),
            timeout: Duration::from_millis(timeout_ms),
        };
        let error = open(&spec).err().expect("spec should be rejected");
        assert_eq!(error.to_string(), expected);
    }
}

#[test]
fn watchdog_forces_off_after_max_on_and_reports_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("relay.log");
    let relay = open(&file_relay(&file)).unwrap();
    let (amp, events) = Amplifier::with_channel(relay, timing(200)).unwrap();
    let start = Instant::now();
    amp.switch_on("stuck broadcast").unwrap();
    // Repeating the switch-on must not extend the stretch.
    std::thread::sleep(Duration::from_millis(100));
    amp.switch_on("again").unwrap();
    match wait_for(&events, |e| matches!(e, AmpEvent::MaxOnReached { .. })) {
        AmpEvent::MaxOnReached { on_for, max_on } => {
            assert_eq!(max_on, Duration::from_millis(200));
            assert!(on_for >= max_on, "{on_for:?}");
        }
        _ => unreachable!(),
    }
    let elapsed = start.elapsed();
    assert!(elapsed >= Duration::from_millis(200), "{elapsed:?}");
    assert!(elapsed < Duration::from_millis(1500), "{elapsed:?}");
    match wait_for(&events, |e| matches!(e, AmpEvent::SwitchedOff { .. })) {
        AmpEvent::SwitchedOff { reason, .. } => assert_eq!(reason, "maximum on time reached"),
        _ => unreachable!(),
    }
    assert!(!amp.is_on());
    assert_eq!(lines(&file), ["off", "on", "off"]);
}

#[test]
fn switch_on_after_a_failed_watchdog_cut_is_cut_again() {
    let (relay, (log, failing)) = scripted(0);
    let (amp, events) = Amplifier::with_channel(
        relay,
        AmpTiming {
            max_on: Duration::from_millis(100),
            off_retry: Duration::from_secs(30),
        },
    )
    .unwrap();
    amp.switch_on("test").unwrap();
    *failing.lock().unwrap() = 1;
    wait_for(&events, |e| {
        matches!(e, AmpEvent::RelayFailed { on: false, .. })
    });
    // The retry is 30 s away; a switch-on now must not escape the watchdog.
    amp.switch_on("stubborn caller").unwrap();
    match wait_for(&events, |e| matches!(e, AmpEvent::SwitchedOff { .. })) {
        AmpEvent::SwitchedOff { reason, .. } => assert_eq!(reason, "maximum on time reached"),
        _ => unreachable!(),
    }
    assert!(!amp.is_on());
    assert_eq!(*log.lock().unwrap(), [false, true, true, false]);
}

#[test]
fn handles_can_be_shared_between_threads() {
    fn shareable<T: Send + Sync>() {}
    shareable::<Amplifier>();
    shareable::<KillSwitch>();
    shareable::<AmpEvent>();
    shareable::<AmpError>();
}

#[test]
fn drop_retries_a_failed_switch_off_once() {
    let (relay, (log, failing)) = scripted(0);
    let amp = Amplifier::new(relay, timing(60_000), |_| {}).unwrap();
    amp.switch_on("test").unwrap();
    *failing.lock().unwrap() = 1;
    drop(amp);
    assert_eq!(*log.lock().unwrap(), [false, true, false]);
}

#[test]
fn drop_switches_off() {
    let (relay, (log, _)) = scripted(0);
    let amp = Amplifier::new(relay, timing(60_000), |_| {}).unwrap();
    amp.switch_on("test").unwrap();
    drop(amp);
    assert_eq!(*log.lock().unwrap(), [false, true, false]);
}

#[test]
fn failed_switch_off_is_returned_and_retried_until_it_works() {
    let (relay, (log, failing)) = scripted(0);
    let (amp, events) = Amplifier::with_channel(relay, timing(60_000)).unwrap();
    amp.switch_on("test").unwrap();
    *failing.lock().unwrap() = 3;
    let error = amp.switch_off("hold elapsed").unwrap_err();
    assert!(error.to_string().contains("relay jammed"), "{error}");
    assert!(
        amp.is_on(),
        "a relay whose switch-off failed may still be on"
    );
    assert!(amp.off_pending());
    match wait_for(&events, |e| matches!(e, AmpEvent::SwitchedOff { .. })) {
        AmpEvent::SwitchedOff { reason, .. } => {
            assert_eq!(reason, "retrying a failed switch-off");
        }
        _ => unreachable!(),
    }
    assert!(!amp.is_on());
    assert!(!amp.off_pending());
    assert_eq!(*failing.lock().unwrap(), 0);
    assert_eq!(*log.lock().unwrap(), [false, true, false]);
}

#[test]
fn failed_switch_on_leaves_the_amplifier_off() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let relay = Scripted {
        log: Arc::clone(&log),
        failing_offs: Arc::new(Mutex::new(0)),
        failing_ons: true,
    };
    let amp = Amplifier::new(Box::new(relay), timing(60_000), |_| {}).unwrap();
    assert!(amp.switch_on("test").is_err());
    assert!(!amp.is_on());
    assert_eq!(amp.on_since(), None);
    assert_eq!(*log.lock().unwrap(), [false]);
}

#[test]
fn total_on_time_adds_up_stretches() {
    let (relay, _) = scripted(0);
    let amp = Amplifier::new(relay, timing(60_000), |_| {}).unwrap();
    assert_eq!(amp.total_on_time(), Duration::ZERO);
    for _ in 0..2 {
        amp.switch_on("test").unwrap();
        assert!(amp.on_since().is_some());
        std::thread::sleep(Duration::from_millis(30));
        amp.switch_off("test").unwrap();
    }
    let total = amp.total_on_time();
    assert!(total >= Duration::from_millis(60), "{total:?}");
    assert!(total < Duration::from_secs(2), "{total:?}");
    std::thread::sleep(Duration::from_millis(30));
    assert_eq!(amp.total_on_time(), total, "off time must not count");
}

#[test]
fn kill_switch_forces_off_from_another_thread_and_latches() {
    let (relay, (log, _)) = scripted(0);
    let (amp, events) = Amplifier::with_channel(relay, timing(60_000)).unwrap();
    amp.switch_on("test").unwrap();
    let kill = amp.kill_switch();
    std::thread::spawn(move || kill.force_off("panic", Duration::from_secs(1)))
        .join()
        .unwrap()
        .unwrap();
    assert!(!amp.is_on());
    let error = amp.switch_on("after panic").unwrap_err();
    assert_eq!(
        error.to_string(),
        "amplifier was forced off (panic) and stays off"
    );
    match wait_for(&events, |e| matches!(e, AmpEvent::SwitchedOff { .. })) {
        AmpEvent::SwitchedOff { reason, .. } => assert_eq!(reason, "panic"),
        _ => unreachable!(),
    }
    assert_eq!(*log.lock().unwrap(), [false, true, false]);
}

#[test]
fn kill_switch_outliving_the_amplifier_does_nothing() {
    let (relay, (log, _)) = scripted(0);
    let amp = Amplifier::new(relay, timing(60_000), |_| {}).unwrap();
    let kill = amp.kill_switch();
    drop(amp);
    kill.force_off("late", Duration::from_millis(10)).unwrap();
    assert_eq!(*log.lock().unwrap(), [false, false]);
}

#[test]
fn none_relay_switches_and_reports() {
    let relay = open(&RelaySpec::None).unwrap();
    let (amp, events) = Amplifier::with_channel(relay, timing(60_000)).unwrap();
    assert!(amp.description().contains("no relay"));
    amp.switch_on("test").unwrap();
    assert!(amp.is_on());
    amp.switch_off("test").unwrap();
    assert!(!amp.is_on());
    assert_eq!(events.try_iter().count(), 2);
}

#[test]
fn gpio_on_a_missing_chip_names_chip_and_line() {
    let spec = RelaySpec::Gpio {
        chip: "/dev/gpiochip-loa-missing".into(),
        line: 17,
        active_low: true,
    };
    let error = open(&spec).err().expect("there is no such chip");
    assert_eq!(
        error.to_string(),
        "cannot request gpio line 17 on /dev/gpiochip-loa-missing as an output"
    );
    let cause = std::error::Error::source(&error).expect("the cause is kept");
    assert!(cause.to_string().contains("No such file"), "{cause}");
}

#[test]
fn gpio_on_a_file_that_is_not_a_chip_is_refused() {
    let file = tempfile::NamedTempFile::new().unwrap();
    let error = GpioRelay::open(file.path(), 0, false).unwrap_err();
    let source = std::error::Error::source(&error).unwrap().to_string();
    assert!(error.to_string().contains("line 0"), "{error}");
    assert!(source.contains("not a character device"), "{source}");
}

#[test]
fn retry_delay_doubles_up_to_a_minute() {
    let second = Duration::from_secs(1);
    let cases = [
        (None, second, second),
        (Some(second), second, 2 * second),
        (
            Some(Duration::from_secs(40)),
            second,
            Duration::from_secs(60),
        ),
        (
            Some(Duration::from_secs(60)),
            second,
            Duration::from_secs(60),
        ),
        (None, Duration::from_secs(90), Duration::from_secs(90)),
        (
            Some(Duration::from_secs(90)),
            Duration::from_secs(90),
            Duration::from_secs(90),
        ),
    ];
    for (previous, first, expected) in cases {
        assert_eq!(
            next_retry_delay(previous, first),
            expected,
            "{previous:?} {first:?}"
        );
    }
}
