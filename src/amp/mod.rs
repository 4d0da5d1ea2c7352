//! Amplifier control: switching the public-address amplifier through its relay.
//!
//! [`Amplifier`] is the handle the engine uses to switch the amplifier on and off with a
//! reason, and to read whether it is on and for how long it has been on in total. It owns
//! a watchdog thread that switches the relay off once it has been on for the configured
//! maximum, whatever the caller does, and that retries a switch-off that failed. Dropping
//! the handle switches the relay off, and a [`KillSwitch`] forces it off from any thread
//! (a panic hook or the shutdown path). Everything that happens is reported as an
//! [`AmpEvent`] to a sink the caller supplies. This module does not decide when to
//! switch: warm-up before a broadcast and hold after it are timed by the engine. The relay
//! drivers themselves live in the `relay` submodule.

mod relay;
#[cfg(test)]
mod tests;

use std::fmt;
use std::path::PathBuf;
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError, TryLockError, Weak};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

pub use relay::{CommandRelay, GpioRelay, NoRelay, Relay, RelaySpec, open};

/// What can go wrong with the relay or the amplifier handle.
#[derive(Debug, Clone, thiserror::Error)]
pub enum AmpError {
    /// The GPIO line could not be requested as an output.
    #[error("cannot request gpio line {line} on {} as an output", chip.display())]
    GpioOpen {
        chip: PathBuf,
        line: u32,
        #[source]
        source: gpiocdev::Error,
    },
    /// The GPIO line refused a new value.
    #[error("cannot switch gpio line {line} on {} {state}", chip.display())]
    GpioSet {
        chip: PathBuf,
        line: u32,
        state: &'static str,
        #[source]
        source: gpiocdev::Error,
    },
    /// A relay command in the config is empty.
    #[error("relay {which} command is empty")]
    CommandEmpty { which: &'static str },
    /// The relay command timeout in the config is zero.
    #[error("relay command timeout is zero")]
    CommandZeroTimeout,
    /// The shell for a relay command could not be started.
    #[error("cannot run relay command `{command}`")]
    CommandSpawn {
        command: String,
        #[source]
        source: Arc<std::io::Error>,
    },
    /// Waiting for a relay command failed.
    #[error("cannot wait for relay command `{command}`")]
    CommandWait {
        command: String,
        #[source]
        source: Arc<std::io::Error>,
    },
    /// A relay command exited unsuccessfully.
    #[error(
        "relay command `{command}` failed with {status}: {}",
        stderr_or_none(stderr)
    )]
    CommandFailed {
        command: String,
        status: String,
        stderr: String,
    },
    /// A relay command ran past its timeout and was killed.
    #[error("relay command `{command}` did not finish within {timeout:?} and was killed")]
    CommandTimeout { command: String, timeout: Duration },
    /// The amplifier was forced off for shutdown and may not be switched on again.
    #[error("amplifier was forced off ({reason}) and stays off")]
    ForcedOff { reason: String },
    /// A forced switch-off could not take the relay because another switch was still
    /// running.
    #[error("relay stayed busy for {waited:?}, could not force the amplifier off")]
    Busy { waited: Duration },
    /// The watchdog thread could not be started.
    #[error("cannot start the amplifier watchdog thread")]
    Watchdog(#[source] Arc<std::io::Error>),
}

/// Something that happened to the amplifier, for the engine, the panel and the log.
#[derive(Debug, Clone)]
pub enum AmpEvent {
    /// The relay was switched on.
    SwitchedOn { reason: String },
    /// The relay was switched off after being on for `on_for`.
    SwitchedOff { reason: String, on_for: Duration },
    /// The relay reached its maximum on time; the watchdog is switching it off.
    MaxOnReached { on_for: Duration, max_on: Duration },
    /// Switching the relay failed; a failed switch-off is retried by the watchdog.
    RelayFailed {
        on: bool,
        reason: String,
        error: AmpError,
    },
}

/// The amplifier's time limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AmpTiming {
    /// The longest the relay may stay on in one stretch.
    pub max_on: Duration,
    /// The first delay before a failed switch-off is retried; it doubles on every further
    /// failure up to a minute (or this value, if longer).
    pub off_retry: Duration,
}

/// The handle that switches the amplifier; see the module documentation.
pub struct Amplifier {
    shared: Arc<Shared>,
    watchdog: Option<JoinHandle<()>>,
}

/// A cheap, cloneable handle that forces the amplifier off from any thread.
///
/// It does not keep the amplifier alive: once the [`Amplifier`] is dropped (which switches
/// the relay off), forcing off does nothing.
#[derive(Clone)]
pub struct KillSwitch {
    shared: Weak<Shared>,
}

/// Where events go; called outside the relay lock, from whichever thread switched.
type EventSink = Box<dyn Fn(AmpEvent) + Send + Sync>;

/// The upper bound of the switch-off retry backoff.
const OFF_RETRY_CAP: Duration = Duration::from_secs(60);

/// How long dropping the handle waits before its one retry of a failed switch-off.
const SHUTDOWN_RETRY: Duration = Duration::from_millis(200);

/// State shared by the handle, the watchdog and the kill switches.
struct Shared {
    state: Mutex<State>,
    wake: Condvar,
    sink: EventSink,
    timing: AmpTiming,
    description: String,
}

/// The relay and what is known about it.
struct State {
    relay: Box<dyn Relay>,
    /// When the relay was switched on, while it is (or may still be) on.
    on_since: Option<Instant>,
    /// On time of the finished stretches.
    total_on: Duration,
    /// Whether this stretch's maximum on time was already reported.
    max_on_reported: bool,
    /// A pending retry of a failed switch-off.
    retry: Option<Retry>,
    /// Set by a kill switch: the relay stays off from then on.
    forced: Option<String>,
    /// Set by drop: the watchdog ends.
    shutdown: bool,
}

/// When to retry a failed switch-off, and the delay used to get there.
#[derive(Debug, Clone, Copy)]
struct Retry {
    at: Instant,
    delay: Duration,
}

impl AmpTiming {
    /// Limits with the given maximum on time and a one-second first retry delay.
    pub fn new(max_on: Duration) -> Self {
        Self {
            max_on,
            off_retry: Duration::from_secs(1),
        }
    }
}

impl Amplifier {
    /// Takes over `relay`, switches it off, and starts the watchdog; events go to `sink`.
    ///
    /// A failing initial switch-off does not fail the start: it is reported and retried.
    pub fn new(
        relay: Box<dyn Relay>,
        timing: AmpTiming,
        sink: impl Fn(AmpEvent) + Send + Sync + 'static,
    ) -> Result<Self, AmpError> {
        let shared = Arc::new(Shared {
            description: relay.description(),
            state: Mutex::new(State {
                relay,
                on_since: None,
                total_on: Duration::ZERO,
                max_on_reported: false,
                retry: None,
                forced: None,
                shutdown: false,
            }),
            wake: Condvar::new(),
            sink: Box::new(sink),
            timing,
        });
        // A failure here is reported and retried by the watchdog, not fatal.
        let _ = shared.off_and_report(shared.lock(), "start");
        let for_thread = Arc::clone(&shared);
        let watchdog = thread::Builder::new()
            .name("loa-amp-watchdog".to_owned())
            .spawn(move || for_thread.watch())
            .map_err(|error| AmpError::Watchdog(Arc::new(error)))?;
        Ok(Self {
            shared,
            watchdog: Some(watchdog),
        })
    }

    /// Like [`Amplifier::new`], with the events delivered on a channel.
    pub fn with_channel(
        relay: Box<dyn Relay>,
        timing: AmpTiming,
    ) -> Result<(Self, mpsc::Receiver<AmpEvent>), AmpError> {
        let (tx, rx) = mpsc::channel();
        let amp = Self::new(relay, timing, move |event| {
            // A closed receiver means nobody listens any more; the relay still switches.
            let _ = tx.send(event);
        })?;
        Ok((amp, rx))
    }

    /// Switches the amplifier on; does nothing if it is already on.
    ///
    /// The maximum on time counts from the first switch-on of a stretch, so repeating this
    /// call never extends it.
    pub fn switch_on(&self, reason: &str) -> Result<(), AmpError> {
        let now = Instant::now();
        let mut state = self.shared.lock();
        if let Some(forced) = &state.forced {
            return Err(AmpError::ForcedOff {
                reason: forced.clone(),
            });
        }
        if state.on_since.is_some() && state.retry.is_none() {
            return Ok(());
        }
        let result = state.relay.set(true);
        let event = match result {
            Ok(()) => {
                if state.on_since.is_none() {
                    state.on_since = Some(now);
                    state.max_on_reported = false;
                }
                state.retry = None;
                Ok(AmpEvent::SwitchedOn {
                    reason: reason.to_owned(),
                })
            }
            Err(error) => Err(error),
        };
        drop(state);
        self.shared.wake.notify_all();
        match event {
            Ok(event) => {
                self.shared.emit(vec![event]);
                Ok(())
            }
            Err(error) => {
                self.shared.emit(vec![AmpEvent::RelayFailed {
                    on: true,
                    reason: reason.to_owned(),
                    error: error.clone(),
                }]);
                Err(error)
            }
        }
    }

    /// Switches the amplifier off; does nothing if it is already off. A failure is
    /// returned, reported, and retried by the watchdog until the relay is off.
    pub fn switch_off(&self, reason: &str) -> Result<(), AmpError> {
        self.shared.switch_off(reason)
    }

    /// Whether the relay is on, or may still be on because a switch-off failed.
    pub fn is_on(&self) -> bool {
        self.shared.lock().on_since.is_some()
    }

    /// When the current on stretch began, if the relay is on.
    pub fn on_since(&self) -> Option<Instant> {
        self.shared.lock().on_since
    }

    /// Whether a failed switch-off is waiting to be retried.
    pub fn off_pending(&self) -> bool {
        self.shared.lock().retry.is_some()
    }

    /// Total time the relay has been on since the handle was made, including the current
    /// stretch.
    pub fn total_on_time(&self) -> Duration {
        let state = self.shared.lock();
        state.total_on
            + state
                .on_since
                .map_or(Duration::ZERO, |since| since.elapsed())
    }

    /// The relay's description, e.g. "gpio line 17 on /dev/gpiochip0 (active low)".
    pub fn description(&self) -> &str {
        &self.shared.description
    }

    /// The amplifier's time limits.
    pub fn timing(&self) -> AmpTiming {
        self.shared.timing
    }

    /// A handle that forces the relay off from any thread.
    pub fn kill_switch(&self) -> KillSwitch {
        KillSwitch {
            shared: Arc::downgrade(&self.shared),
        }
    }
}

impl Drop for Amplifier {
    fn drop(&mut self) {
        let mut state = self.shared.lock();
        state.shutdown = true;
        // Failures are reported as events; with the watchdog ending, retry once here.
        if self.shared.off_and_report(state, "shutdown").is_err() {
            thread::sleep(SHUTDOWN_RETRY);
            let _ = self
                .shared
                .off_and_report(self.shared.lock(), "shutdown retry");
        }
        if let Some(watchdog) = self.watchdog.take() {
            let _ = watchdog.join();
        }
    }
}

impl fmt::Debug for Amplifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Amplifier")
            .field("relay", &self.shared.description)
            .field("timing", &self.shared.timing)
            .finish_non_exhaustive()
    }
}

impl KillSwitch {
    /// Switches the relay off and keeps it off: later [`Amplifier::switch_on`] calls fail.
    ///
    /// Meant for a panic hook or the shutdown path. It waits at most `wait` for a switch
    /// already in progress on another thread, and never blocks longer than that plus one
    /// relay operation. Does nothing once the amplifier is gone.
    pub fn force_off(&self, reason: &str, wait: Duration) -> Result<(), AmpError> {
        let Some(shared) = self.shared.upgrade() else {
            return Ok(());
        };
        let start = Instant::now();
        let mut state = loop {
            match shared.state.try_lock() {
                Ok(state) => break state,
                Err(TryLockError::Poisoned(poisoned)) => break poisoned.into_inner(),
                Err(TryLockError::WouldBlock) if start.elapsed() < wait => {
                    thread::sleep(Duration::from_millis(5));
                }
                Err(TryLockError::WouldBlock) => {
                    return Err(AmpError::Busy {
                        waited: start.elapsed(),
                    });
                }
            }
        };
        state.forced = Some(reason.to_owned());
        // Even a relay believed off is told once more: it costs nothing.
        shared.off_and_report(state, reason)
    }
}

impl fmt::Debug for KillSwitch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KillSwitch")
            .field("alive", &(self.shared.strong_count() > 0))
            .finish()
    }
}

impl Shared {
    /// Locks the state, recovering it if a thread panicked while holding it.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Hands events to the sink; never called with the state locked.
    fn emit(&self, events: Vec<AmpEvent>) {
        for event in events {
            (self.sink)(event);
        }
    }

    /// The body of [`Amplifier::switch_off`].
    fn switch_off(&self, reason: &str) -> Result<(), AmpError> {
        let state = self.lock();
        if state.on_since.is_none() && state.retry.is_none() {
            return Ok(());
        }
        self.off_and_report(state, reason)
    }

    /// Switches the relay off, then unlocks the state, wakes the watchdog, emits the
    /// events and returns the outcome.
    fn off_and_report(
        &self,
        mut state: MutexGuard<'_, State>,
        reason: &str,
    ) -> Result<(), AmpError> {
        let events = self.off(&mut state, reason, Instant::now());
        drop(state);
        self.wake.notify_all();
        let error = events.iter().find_map(|event| match event {
            AmpEvent::RelayFailed { error, .. } => Some(error.clone()),
            _ => None,
        });
        self.emit(events);
        error.map_or(Ok(()), Err)
    }

    /// Switches the relay off with the state locked and returns the events to emit; a
    /// failure schedules (or backs off) a retry.
    fn off(&self, state: &mut State, reason: &str, now: Instant) -> Vec<AmpEvent> {
        match state.relay.set(false) {
            Ok(()) => {
                state.retry = None;
                match state.on_since.take() {
                    Some(since) => {
                        let on_for = now.saturating_duration_since(since);
                        state.total_on += on_for;
                        vec![AmpEvent::SwitchedOff {
                            reason: reason.to_owned(),
                            on_for,
                        }]
                    }
                    None => Vec::new(),
                }
            }
            Err(error) => {
                let delay = next_retry_delay(state.retry.map(|r| r.delay), self.timing.off_retry);
                state.retry = Some(Retry {
                    at: now + delay,
                    delay,
                });
                vec![AmpEvent::RelayFailed {
                    on: false,
                    reason: reason.to_owned(),
                    error,
                }]
            }
        }
    }

    /// The watchdog thread: enforces the maximum on time and retries failed switch-offs.
    fn watch(&self) {
        let mut state = self.lock();
        loop {
            if state.shutdown {
                return;
            }
            let now = Instant::now();
            let mut events = Vec::new();
            let mut wake_at: Option<Instant> = None;
            if let Some(since) = state.on_since {
                let deadline = since + self.timing.max_on;
                if now >= deadline && state.retry.is_none() {
                    // Reported once a stretch; a switch-on after a failed cut is cut again.
                    if !state.max_on_reported {
                        state.max_on_reported = true;
                        events.push(AmpEvent::MaxOnReached {
                            on_for: now.saturating_duration_since(since),
                            max_on: self.timing.max_on,
                        });
                    }
                    events.extend(self.off(&mut state, "maximum on time reached", now));
                } else if now < deadline {
                    wake_at = Some(deadline);
                }
            }
            if events.is_empty()
                && let Some(retry) = state.retry
            {
                if now >= retry.at {
                    events.extend(self.off(&mut state, "retrying a failed switch-off", now));
                } else {
                    wake_at = Some(wake_at.map_or(retry.at, |at| at.min(retry.at)));
                }
            }
            if !events.is_empty() {
                drop(state);
                self.emit(events);
                state = self.lock();
                continue;
            }
            state = match wake_at {
                Some(at) => {
                    let timeout = at.saturating_duration_since(Instant::now());
                    self.wake
                        .wait_timeout(state, timeout)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0
                }
                None => self
                    .wake
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner),
            };
        }
    }
}

/// The delay before the next switch-off retry: `first` after the first failure, then
/// doubling up to a minute (or `first`, if that is longer).
fn next_retry_delay(previous: Option<Duration>, first: Duration) -> Duration {
    match previous {
        None => first,
        Some(previous) => previous.saturating_mul(2).min(OFF_RETRY_CAP.max(first)),
    }
}

/// Shows an empty stderr as such in messages.
fn stderr_or_none(stderr: &str) -> &str {
    if stderr.is_empty() {
        "no output on stderr"
    } else {
        stderr
    }
}
