//! The one place where "what time is it" and "is the clock synchronised" are asked.
//!
//! Everything else receives `now` as an argument (house style 4). [`SystemClock`] reads
//! the wall clock and asks the kernel (`adjtimex`) whether NTP has synchronised it; a
//! Raspberry Pi has no battery clock and boots with a stale time. [`FakeClock`] is the
//! seam tests use to move wall-clock time, including jumps, without sleeping.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::{DateTime, Utc};

/// A source of wall-clock time.
pub trait Clock: Send + Sync {
    /// The current wall-clock instant.
    fn now(&self) -> DateTime<Utc>;
    /// Whether the time can be trusted for scheduled broadcasts.
    fn is_synchronised(&self) -> bool;
}

/// The real clock: the system time, synchronisation as the kernel reports it.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock {
    /// Report the clock synchronised regardless of the kernel: for tests and benchmarks on
    /// machines where the kernel never reports sync (containers). The daemon never sets it
    /// (`require_clock_sync = false` is applied by the engine, and health reports the
    /// kernel's answer).
    pub assume_synchronised: bool,
}

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }

    fn is_synchronised(&self) -> bool {
        self.assume_synchronised || kernel_clock_synchronised()
    }
}

/// Asks the kernel whether the clock is synchronised (NTP), via `adjtimex(2)`.
///
/// `adjtimex` with no modes only reads; it returns `TIME_ERROR` while the clock is
/// unsynchronised (the `STA_UNSYNC` status bit).
pub fn kernel_clock_synchronised() -> bool {
    // SAFETY: an all-zero `timex` is a valid argument; with `modes == 0` the call only reads.
    let mut tx: libc::timex = unsafe { std::mem::zeroed() };
    // SAFETY: `tx` is a valid, exclusively borrowed `timex` for the duration of the call.
    let state = unsafe { libc::adjtimex(&mut tx) };
    state != -1 && state != libc::TIME_ERROR && tx.status & libc::STA_UNSYNC == 0
}

/// A clock tests set by hand.
#[derive(Debug)]
pub struct FakeClock {
    now: Mutex<DateTime<Utc>>,
    synchronised: AtomicBool,
}

impl FakeClock {
    /// A synchronised fake clock at `now`.
    pub fn new(now: DateTime<Utc>) -> FakeClock {
        FakeClock {
            now: Mutex::new(now),
            synchronised: AtomicBool::new(true),
        }
    }

    /// Sets the time (forwards or backwards).
    pub fn set(&self, now: DateTime<Utc>) {
        *self.now.lock().unwrap_or_else(|e| e.into_inner()) = now;
    }

    /// Moves the time forward.
    pub fn advance(&self, by: chrono::Duration) {
        let mut now = self.now.lock().unwrap_or_else(|e| e.into_inner());
        *now += by;
    }

    /// Sets whether the clock reports itself synchronised.
    pub fn set_synchronised(&self, synchronised: bool) {
        self.synchronised.store(synchronised, Ordering::SeqCst);
    }
}

impl Clock for FakeClock {
    fn now(&self) -> DateTime<Utc> {
        *self.now.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn is_synchronised(&self) -> bool {
        self.synchronised.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fake_clock_moves_both_ways_and_reports_sync() {
        let t0 = DateTime::parse_from_rfc3339("2026-06-01T05:00:00+07:00")
            .unwrap()
            .to_utc();
        let clock = FakeClock::new(t0);
        clock.advance(chrono::Duration::hours(2));
        assert_eq!(clock.now(), t0 + chrono::Duration::hours(2));
        clock.set(t0 - chrono::Duration::days(1));
        assert_eq!(clock.now(), t0 - chrono::Duration::days(1));
        assert!(clock.is_synchronised());
        clock.set_synchronised(false);
        assert!(!clock.is_synchronised());
    }

    #[test]
    fn system_clock_override_reports_synchronised() {
        let clock = SystemClock {
            assume_synchronised: true,
        };
        assert!(clock.is_synchronised());
        // The kernel query itself must not fail or panic on this machine.
        let _ = kernel_clock_synchronised();
    }
}
