//! Real-time pacing for sinks that have no device clock (`wav`, `null`, capture).
//!
//! The pacer models a virtual play head: written audio is scheduled to play back to back from
//! the moment writing started, and `write` sleeps so the writer never runs more than a small
//! lead ahead of the wall clock. When the writer falls behind (idle between broadcasts, a slow
//! writer), the play head restarts at "now", as a real device does after an underrun. It does
//! not write anything itself.

use std::time::{Duration, Instant};

/// A virtual play head for a sink without a device clock.
#[derive(Debug)]
pub(crate) struct Pacer {
    sample_rate: u32,
    lead: Duration,
    origin: Option<Instant>,
    frames: u64,
}

impl Pacer {
    /// A pacer for `sample_rate` frames a second that may run `lead` ahead of the wall clock.
    pub(crate) fn new(sample_rate: u32, lead: Duration) -> Self {
        Pacer {
            sample_rate,
            lead,
            origin: None,
            frames: 0,
        }
    }

    /// Schedules `frames` more frames, sleeps as needed and returns when the first of them
    /// plays on the virtual play head.
    pub(crate) fn advance(&mut self, frames: usize) -> Instant {
        let now = Instant::now();
        let start = match (self.origin, self.end()) {
            (Some(_), Some(end)) if end >= now => end,
            _ => {
                self.origin = Some(now);
                self.frames = 0;
                now
            }
        };
        self.frames += frames as u64;
        if let Some(end) = self.end() {
            sleep_until(end.checked_sub(self.lead).unwrap_or(end));
        }
        start
    }

    /// Sleeps until everything scheduled has played.
    pub(crate) fn drain(&mut self) {
        if let Some(end) = self.end() {
            sleep_until(end);
        }
    }

    /// Forgets scheduled audio that has not played yet, as when a device drops its buffer.
    pub(crate) fn discard(&mut self) {
        if let (Some(origin), Some(end)) = (self.origin, self.end()) {
            let now = Instant::now();
            if end > now {
                let played = now.saturating_duration_since(origin);
                self.frames =
                    (played.as_nanos() * u128::from(self.sample_rate) / 1_000_000_000) as u64;
            }
        }
    }

    /// When the last scheduled frame finishes playing.
    fn end(&self) -> Option<Instant> {
        let origin = self.origin?;
        let nanos = u128::from(self.frames) * 1_000_000_000 / u128::from(self.sample_rate.max(1));
        Some(origin + Duration::from_nanos(nanos as u64))
    }
}

/// Sleeps until `deadline` if it is in the future.
fn sleep_until(deadline: Instant) {
    let now = Instant::now();
    if deadline > now {
        std::thread::sleep(deadline - now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_second_of_frames_takes_about_one_second() {
        let mut pacer = Pacer::new(1_000, Duration::from_millis(50));
        let started = Instant::now();
        let first = pacer.advance(20);
        for _ in 1..50 {
            pacer.advance(20);
        }
        let written = started.elapsed();
        pacer.drain();
        let drained = started.elapsed();
        assert!(first.duration_since(started) < Duration::from_millis(5));
        assert!(
            written >= Duration::from_millis(940),
            "wrote in {written:?}"
        );
        assert!(
            drained >= Duration::from_millis(995),
            "drained in {drained:?}"
        );
        assert!(
            drained < Duration::from_millis(1_200),
            "drained in {drained:?}"
        );
    }

    #[test]
    fn play_head_restarts_after_idle() {
        let mut pacer = Pacer::new(1_000, Duration::from_millis(50));
        pacer.advance(10);
        std::thread::sleep(Duration::from_millis(40));
        let before = Instant::now();
        let start = pacer.advance(10);
        assert!(start >= before, "a late block starts now, not in the past");
    }

    #[test]
    fn back_to_back_blocks_start_where_the_previous_ended() {
        let mut pacer = Pacer::new(1_000, Duration::from_millis(500));
        let first = pacer.advance(100);
        let second = pacer.advance(100);
        assert_eq!(second.duration_since(first), Duration::from_millis(100));
    }

    #[test]
    fn discard_drops_unplayed_audio() {
        let mut pacer = Pacer::new(1_000, Duration::from_secs(10));
        pacer.advance(5_000);
        pacer.discard();
        let started = Instant::now();
        pacer.drain();
        assert!(started.elapsed() < Duration::from_millis(50));
    }
}
