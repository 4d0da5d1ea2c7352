//! The engine's decision core: a state machine that, told the time and what happened,
//! decides what to play, what to skip, when the relay switches, and what to log.
//!
//! It does no I/O itself: every effect (relay, player, log) goes through the [`Effects`]
//! trait, and time is always an argument. The async runner (`engine::run`) drives it in
//! production; the fake-clock simulation tests drive it with a simulated player, so both
//! exercise exactly this logic. The private decision steps live in `core/air.rs`.
//!
//! Invariants kept here:
//! - one broadcast at a time; an emergency always cuts in (except into another emergency,
//!   which it follows), a programme whose clash rule is cut-in interrupts a lower
//!   priority, anything else queues up to its maximum wait;
//! - no first sample before the relay has been on for the warm-up time;
//! - a scheduled occurrence (programme, instant) is handled at most once: the window of
//!   handled instants only moves forward, and the log is asked before anything starts;
//! - after downtime or a forward clock jump at most one late play per programme, and only
//!   within the catch-up window; everything older is logged as missed;
//! - station rules are checked when a broadcast really starts, not only when it was due;
//! - scheduled occurrences wait for a synchronised clock, manual broadcasts do not.

mod air;

use std::collections::HashSet;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::model::{ClashRule, OccurrenceKey, Origin, Outcome, PlaylistId, Priority};
use crate::schedule::{Station, Verdict};

/// One broadcast to be played: a scheduled occurrence or a manual request.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    /// Where it came from.
    pub origin: Origin,
    /// Set for scheduled occurrences.
    pub key: Option<OccurrenceKey>,
    /// Its priority.
    pub priority: Priority,
    /// Its clash rule.
    pub clash: ClashRule,
    /// The instant it was due.
    pub scheduled_at: DateTime<Utc>,
    /// What it plays.
    pub playlist: PlaylistId,
    /// How many times the playlist plays.
    pub repeat: u32,
    /// Pause between repeats.
    pub repeat_pause: Duration,
    /// Whether chimes play.
    pub chime: bool,
    /// The station rule it is allowed to break (emergencies only).
    pub rule_broken: Option<String>,
    /// The playlist version an approver approved; it does not play if the playlist has
    /// changed since (`None`: nothing to check).
    pub approved_playlist_version: Option<i64>,
}

/// A manual request the engine accepts through its command channel.
#[derive(Debug, Clone, PartialEq)]
pub struct ManualRequest {
    /// What to play.
    pub playlist: PlaylistId,
    /// Normal, priority or emergency (emergency always cuts in).
    pub priority: Priority,
    /// When; `None` means now.
    pub at: Option<DateTime<Utc>>,
    /// Who asked.
    pub requested_by: String,
    /// The playlist version that was approved, when approval binds the request.
    pub approved_playlist_version: Option<i64>,
}

/// How a started broadcast ended, as the player reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlayEnd {
    /// Everything played.
    Completed,
    /// Stopped on the engine's request.
    Stopped,
    /// The output or decoding failed; `played_any` says whether any clip aired.
    Failed {
        /// The error.
        error: String,
        /// Whether some clips had aired.
        played_any: bool,
    },
}

/// The side effects the core asks for.
pub trait Effects {
    /// Whether this occurrence is already in the log (played, skipped or missed).
    fn is_logged(&self, key: &OccurrenceKey) -> bool;
    /// Switches the amplifier relay.
    fn relay(&mut self, on: bool, now: DateTime<Utc>);
    /// Starts playing `job` and returns how long it will play. An error means it could
    /// not start (it is then logged failed).
    fn start(&mut self, job: &Job, now: DateTime<Utc>) -> Result<Duration, String>;
    /// Asks the player to stop the current broadcast; `finished` follows.
    fn stop(&mut self);
    /// Logs a job that never started.
    fn log_unplayed(&mut self, job: &Job, outcome: Outcome, now: DateTime<Utc>);
    /// Logs the end of the started job.
    fn log_finished(&mut self, job: &Job, outcome: Outcome, now: DateTime<Utc>);
    /// Gets `job`'s audio ready ahead of its instant (decoding), so it starts on time.
    fn prepare(&mut self, _job: &Job) {}
}

/// Timing settings of the core.
#[derive(Debug, Clone)]
pub struct CoreSettings {
    /// How late a missed occurrence may still play.
    pub catch_up: Duration,
    /// Relay on this long before the first sample.
    pub warm_up: Duration,
    /// Relay off this long after the air becomes free.
    pub hold: Duration,
    /// Longest session (not enforced on emergencies).
    pub max_session: Duration,
    /// Longest wait in the queue for manual broadcasts.
    pub manual_max_wait: Duration,
    /// How long before its instant a broadcast's audio is prepared.
    pub prepare_lead: Duration,
}

/// The engine's decision state.
#[derive(Debug)]
pub struct EngineCore {
    settings: CoreSettings,
    /// Every scheduled instant up to this one is handled; `None` until the first tick
    /// with a synchronised clock when nothing was persisted (a stale clock at first boot
    /// must not turn months into "missed" rows).
    checked_until: Option<DateTime<Utc>>,
    on_air: Option<OnAir>,
    queue: Vec<Waiting>,
    one_shots: Vec<Job>,
    /// When the relay was switched on; `None` while it is off.
    relay_on_at: Option<DateTime<Utc>>,
    relay_off_at: Option<DateTime<Utc>>,
    /// Occurrences handled in this run (belt and braces beside the log), pruned as the
    /// window moves.
    handled: HashSet<OccurrenceKey>,
    /// Occurrences whose audio was already prepared.
    prepared: HashSet<OccurrenceKey>,
    /// Whether the clock was synchronised at the last tick.
    synchronised: bool,
}

#[derive(Debug)]
struct OnAir {
    job: Job,
    /// When the session limit cuts it.
    deadline: Option<DateTime<Utc>>,
    /// When it should have ended at the latest; past this the player is presumed lost.
    overdue_at: DateTime<Utc>,
    stop_outcome: Option<Outcome>,
}

#[derive(Debug)]
struct Waiting {
    job: Job,
    give_up_at: DateTime<Utc>,
}

/// Longest nap between wakes; a clock jump is noticed within this.
pub const MAX_NAP: chrono::Duration = chrono::Duration::seconds(60);

/// Extra time a broadcast may take past its expected length before the player is
/// presumed lost and the broadcast logged failed.
const OVERDUE_MARGIN: chrono::Duration = chrono::Duration::seconds(30);

impl EngineCore {
    /// A core that has handled every scheduled instant up to `checked_until` (persisted
    /// across runs), or that starts handling at its first synchronised tick.
    pub fn new(settings: CoreSettings, checked_until: Option<DateTime<Utc>>) -> EngineCore {
        EngineCore {
            settings,
            checked_until,
            on_air: None,
            queue: Vec::new(),
            one_shots: Vec::new(),
            relay_on_at: None,
            relay_off_at: None,
            handled: HashSet::new(),
            prepared: HashSet::new(),
            synchronised: false,
        }
    }

    /// Every scheduled instant up to this one has been handled.
    pub fn checked_until(&self) -> Option<DateTime<Utc>> {
        self.checked_until
    }

    /// The job on air, if any.
    pub fn on_air(&self) -> Option<&Job> {
        self.on_air.as_ref().map(|a| &a.job)
    }

    /// Whether the relay is on.
    pub fn relay_is_on(&self) -> bool {
        self.relay_on_at.is_some()
    }

    /// Manual one-shots waiting for their instant.
    pub fn pending_one_shots(&self) -> &[Job] {
        &self.one_shots
    }

    /// Handles the passage of time: due occurrences, catch-up, queue, session limits,
    /// warm-up and hold. `synchronised` gates scheduled occurrences.
    pub fn tick(
        &mut self,
        now: DateTime<Utc>,
        synchronised: bool,
        station: &Station<'_>,
        fx: &mut impl Effects,
    ) {
        self.synchronised = synchronised;
        if synchronised {
            self.collect_due(now, station, fx);
        }
        let due_manual: Vec<Job> = extract(&mut self.one_shots, |j| j.scheduled_at <= now);
        for job in due_manual {
            self.offer(job, now, fx);
        }
        self.enforce_limits(now, fx);
        self.expire_queue(now, fx);
        self.start_next_if_free(now, station, fx);
        if synchronised {
            self.prepare_upcoming(now, station, fx);
        }
        self.drive_relay(now, station, fx);
    }

    /// Accepts a manual request: a one-shot for later, or a broadcast now (after the
    /// relay's warm-up when the relay is off).
    pub fn request(
        &mut self,
        req: ManualRequest,
        now: DateTime<Utc>,
        station: &Station<'_>,
        fx: &mut impl Effects,
    ) {
        let emergency = req.priority == Priority::Emergency;
        let job = Job {
            origin: Origin::Manual {
                requested_by: req.requested_by,
            },
            key: None,
            priority: req.priority,
            clash: if emergency {
                ClashRule::CutIn
            } else {
                ClashRule::Queue {
                    max_wait: self.settings.manual_max_wait,
                }
            },
            scheduled_at: req.at.unwrap_or(now).max(now),
            playlist: req.playlist,
            repeat: 1,
            repeat_pause: Duration::ZERO,
            chime: !emergency,
            rule_broken: None,
            approved_playlist_version: req.approved_playlist_version,
        };
        let local = job.scheduled_at.with_timezone(&station.tz).time();
        if let (Some(rule), false) = (station.rules.violation(local), emergency) {
            // Refused at once: only emergencies may break station rules.
            return fx.log_unplayed(&job, Outcome::Skipped(rule), now);
        }
        fx.prepare(&job);
        if job.scheduled_at > now {
            self.one_shots.push(job);
        } else {
            self.offer(job, now, fx);
            self.start_next_if_free(now, station, fx);
        }
        self.drive_relay(now, station, fx);
    }

    /// Stops what is on air (logged as interrupted by the operator) and cancels manual
    /// broadcasts still waiting for the air or for the relay's warm-up.
    pub fn stop(&mut self, requested_by: &str, now: DateTime<Utc>, fx: &mut impl Effects) {
        let cancelled = extract(&mut self.queue, |w| w.job.key.is_none());
        for w in cancelled {
            fx.log_unplayed(
                &w.job,
                Outcome::Skipped(format!("cancelled by {requested_by}")),
                now,
            );
        }
        if let Some(air) = &mut self.on_air {
            if air.stop_outcome.is_none() {
                air.stop_outcome = Some(Outcome::Interrupted(format!("stopped by {requested_by}")));
                fx.stop();
            }
        }
    }

    /// The player reports that the started job ended.
    pub fn finished(
        &mut self,
        end: PlayEnd,
        now: DateTime<Utc>,
        station: &Station<'_>,
        fx: &mut impl Effects,
    ) {
        let Some(air) = self.on_air.take() else {
            return;
        };
        let outcome = match (end, air.stop_outcome) {
            (PlayEnd::Completed, _) => Outcome::Played,
            (PlayEnd::Stopped, Some(o)) => o,
            (PlayEnd::Stopped, None) => Outcome::Interrupted("stopped".to_owned()),
            (
                PlayEnd::Failed {
                    error,
                    played_any: true,
                },
                _,
            ) => Outcome::Partial(error),
            (PlayEnd::Failed { error, .. }, _) => Outcome::Failed(error),
        };
        fx.log_finished(&air.job, outcome, now);
        self.start_next_if_free(now, station, fx);
        self.drive_relay(now, station, fx);
    }

    /// The amplifier's watchdog cut the relay: whatever is on air is cut too (it would
    /// play into a dead amplifier) and logged partial.
    pub fn relay_cut(&mut self, fx: &mut impl Effects) {
        self.relay_on_at = None;
        self.relay_off_at = None;
        if let Some(air) = &mut self.on_air {
            if air.stop_outcome.is_none() {
                air.stop_outcome = Some(Outcome::Partial(
                    "the amplifier relay was cut after its maximum on time".to_owned(),
                ));
                fx.stop();
            }
        }
    }

    /// Programmes changed: queued occurrences of programmes that no longer exist, are
    /// disabled or lost their approval do not air.
    pub fn reload(&mut self, now: DateTime<Utc>, station: &Station<'_>, fx: &mut impl Effects) {
        let gone = extract(&mut self.queue, |w| {
            w.job.key.is_some_and(|k| {
                !station.programmes.iter().any(|p| {
                    p.id == k.programme
                        && p.enabled
                        && !matches!(station.verdict(p, k.scheduled), Verdict::Skip(_))
                })
            })
        });
        for w in gone {
            fx.log_unplayed(
                &w.job,
                Outcome::Skipped(
                    "programme changed, disabled or removed before it aired".to_owned(),
                ),
                now,
            );
        }
    }

    /// The daemon is stopping: what is on air is logged interrupted and the relay goes off.
    pub fn shut_down(&mut self, now: DateTime<Utc>, fx: &mut impl Effects) {
        if let Some(air) = self.on_air.take() {
            fx.stop();
            fx.log_finished(
                &air.job,
                Outcome::Interrupted("loa was stopped".to_owned()),
                now,
            );
        }
        if self.relay_on_at.take().is_some() {
            fx.relay(false, now);
        }
    }

    /// The next instant at which `tick` has something to do (the runner also naps at most
    /// [`MAX_NAP`], to notice clock jumps); `None` when nothing is ahead.
    pub fn next_wake(&self, now: DateTime<Utc>, station: &Station<'_>) -> Option<DateTime<Utc>> {
        let warm_up = chrono_dur(self.settings.warm_up);
        let lead = chrono_dur(self.settings.prepare_lead);
        let next = station.next_instant(self.checked_until.unwrap_or(now).max(now));
        let first_shot = self.one_shots.iter().map(|j| j.scheduled_at).min();
        let warmed = self
            .relay_on_at
            .filter(|_| !self.queue.is_empty())
            .map(|t| t + warm_up);
        let candidates = [
            next.map(|t| t - lead),
            next.map(|t| t - warm_up),
            next,
            first_shot.map(|t| t - warm_up),
            first_shot,
            self.queue.iter().map(|w| w.give_up_at).min(),
            warmed,
            self.on_air.as_ref().and_then(|a| a.deadline),
            self.on_air.as_ref().map(|a| a.overdue_at),
            self.relay_off_at,
        ];
        candidates.into_iter().flatten().filter(|t| *t > now).min()
    }
}

/// Removes and returns the elements matching `pred`, keeping the order of the rest.
fn extract<T>(v: &mut Vec<T>, pred: impl Fn(&T) -> bool) -> Vec<T> {
    let (taken, kept): (Vec<T>, Vec<T>) = std::mem::take(v).into_iter().partition(|x| pred(x));
    *v = kept;
    taken
}

fn chrono_dur(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}
