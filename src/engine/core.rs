//! The engine's decision core: a state machine that, told the time and what happened,
//! decides what to play, what to skip, when the relay switches, and what to log.
//!
//! It does no I/O itself: every effect (relay, player, log) goes through the [`Effects`]
//! trait, and time is always an argument. The async runner (`engine::run`) drives it in
//! production; the fake-clock simulation tests drive it with a simulated player, so both
//! exercise exactly this logic.
//!
//! Invariants kept here:
//! - one broadcast at a time; an emergency always cuts in, a programme whose clash rule is
//!   cut-in interrupts a lower priority, anything else queues up to its maximum wait;
//! - a scheduled occurrence (programme, instant) is handled at most once: the window of
//!   handled instants only moves forward, and the log is asked before anything starts;
//! - after downtime or a forward clock jump at most one late play per programme, and only
//!   within the catch-up window; everything older is logged as missed;
//! - scheduled occurrences wait for a synchronised clock, manual broadcasts do not.

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::model::{
    ClashRule, OccurrenceKey, Origin, Outcome, PlaylistId, Priority, Programme, ProgrammeId,
};
use crate::schedule::{Planned, Station, Verdict};

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
}

/// How a started broadcast ended, as the player reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlayEnd {
    /// Everything played.
    Completed,
    /// Stopped on the engine's request.
    Stopped,
    /// The output or decoding failed; `played_any` says whether audio went out.
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
    /// Starts playing `job`. An error means it could not start (it is then logged failed).
    fn start(&mut self, job: &Job, now: DateTime<Utc>) -> Result<(), String>;
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
    /// Relay on this long before a due broadcast.
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
    checked_until: DateTime<Utc>,
    on_air: Option<OnAir>,
    queue: Vec<Waiting>,
    one_shots: Vec<Job>,
    relay_on: bool,
    relay_off_at: Option<DateTime<Utc>>,
    /// Occurrences handled in this run (belt and braces beside the log).
    handled: HashSet<OccurrenceKey>,
    /// Occurrences whose audio was already prepared.
    prepared: HashSet<OccurrenceKey>,
}

#[derive(Debug)]
struct OnAir {
    job: Job,
    deadline: Option<DateTime<Utc>>,
    stop_outcome: Option<Outcome>,
}

#[derive(Debug)]
struct Waiting {
    job: Job,
    give_up_at: DateTime<Utc>,
}

/// Longest nap between wakes; a clock jump is noticed within this.
pub const MAX_NAP: chrono::Duration = chrono::Duration::seconds(60);

impl EngineCore {
    /// A core that has handled every instant up to `checked_until` (persisted across runs).
    pub fn new(settings: CoreSettings, checked_until: DateTime<Utc>) -> EngineCore {
        EngineCore {
            settings,
            checked_until,
            on_air: None,
            queue: Vec::new(),
            one_shots: Vec::new(),
            relay_on: false,
            relay_off_at: None,
            handled: HashSet::new(),
            prepared: HashSet::new(),
        }
    }

    /// Every scheduled instant up to this one has been handled.
    pub fn checked_until(&self) -> DateTime<Utc> {
        self.checked_until
    }

    /// The job on air, if any.
    pub fn on_air(&self) -> Option<&Job> {
        self.on_air.as_ref().map(|a| &a.job)
    }

    /// Whether the relay is on.
    pub fn relay_is_on(&self) -> bool {
        self.relay_on
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
        if synchronised {
            self.collect_due(now, station, fx);
            self.prepare_upcoming(now, station, fx);
        }
        let due_manual: Vec<Job> = extract(&mut self.one_shots, |j| j.scheduled_at <= now);
        for job in due_manual {
            self.offer_manual(job, now, station, fx);
        }
        self.enforce_session_limit(now, fx);
        self.expire_queue(now, fx);
        self.start_next_if_free(now, fx);
        self.drive_relay(now, synchronised, station, fx);
    }

    /// Accepts a manual request.
    pub fn request(
        &mut self,
        req: ManualRequest,
        now: DateTime<Utc>,
        station: &Station<'_>,
        fx: &mut impl Effects,
    ) {
        let job = Job {
            origin: Origin::Manual {
                requested_by: req.requested_by,
            },
            key: None,
            priority: req.priority,
            clash: if req.priority == Priority::Emergency {
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
            chime: req.priority != Priority::Emergency,
            rule_broken: None,
        };
        let warm_up = chrono_dur(self.settings.warm_up);
        if job.scheduled_at > now {
            fx.prepare(&job);
            self.one_shots.push(job);
        } else if !self.relay_on && self.on_air.is_none() && warm_up > chrono::Duration::zero() {
            // The amplifier needs its warm-up before the first sample.
            self.relay_on = true;
            self.relay_off_at = None;
            fx.relay(true, now);
            fx.prepare(&job);
            self.one_shots.push(Job {
                scheduled_at: now + warm_up,
                ..job
            });
        } else {
            self.offer_manual(job, now, station, fx);
            self.start_next_if_free(now, fx);
            self.relay_for_air(now, fx);
        }
    }

    /// A manual job is due: station rules apply to it as to programmes.
    fn offer_manual(
        &mut self,
        mut job: Job,
        now: DateTime<Utc>,
        station: &Station<'_>,
        fx: &mut impl Effects,
    ) {
        let local = job.scheduled_at.with_timezone(&station.tz).time();
        match station.rules.violation(local) {
            Some(rule) if job.priority == Priority::Emergency => job.rule_broken = Some(rule),
            Some(rule) => return fx.log_unplayed(&job, Outcome::Skipped(rule), now),
            None => {}
        }
        self.offer(job, now, fx);
    }

    /// Stops what is on air (logged as interrupted by the operator).
    pub fn stop(&mut self, requested_by: &str, fx: &mut impl Effects) {
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
        self.start_next_if_free(now, fx);
        self.drive_relay(now, true, station, fx);
    }

    /// The next instant at which `tick` has something to do (the runner also naps at most
    /// [`MAX_NAP`], to notice clock jumps); `None` when nothing is ahead.
    pub fn next_wake(&self, now: DateTime<Utc>, station: &Station<'_>) -> Option<DateTime<Utc>> {
        let mut wake: Option<DateTime<Utc>> = None;
        let warm_up = chrono_dur(self.settings.warm_up);
        let next = station.next_instant(self.checked_until.max(now));
        let candidates = [
            next.map(|t| t - warm_up),
            next,
            self.one_shots
                .iter()
                .map(|j| j.scheduled_at - warm_up)
                .min(),
            self.one_shots.iter().map(|j| j.scheduled_at).min(),
            self.queue.iter().map(|w| w.give_up_at).min(),
            self.on_air.as_ref().and_then(|a| a.deadline),
            self.relay_off_at,
        ];
        for t in candidates.into_iter().flatten() {
            if t > now {
                wake = Some(wake.map_or(t, |w| w.min(t)));
            }
        }
        wake
    }

    /// Handles scheduled occurrences in `(checked_until, now]`.
    fn collect_due(&mut self, now: DateTime<Utc>, station: &Station<'_>, fx: &mut impl Effects) {
        if now <= self.checked_until {
            // The clock went backwards (or stood still): nothing new is due, and nothing
            // already handled is looked at again.
            return;
        }
        let due = station.occurrences(self.checked_until, now);
        self.checked_until = now;
        let catch_up = chrono_dur(self.settings.catch_up);
        // The latest airable occurrence of each programme within the catch-up window.
        let mut late_pick: BTreeMap<ProgrammeId, DateTime<Utc>> = BTreeMap::new();
        for p in &due {
            if !matches!(p.verdict, Verdict::Skip(_)) && now - p.key.scheduled <= catch_up {
                late_pick.insert(p.key.programme, p.key.scheduled);
            }
        }
        for planned in due {
            if !self.handled.insert(planned.key) || fx.is_logged(&planned.key) {
                continue;
            }
            let Some(programme) = station
                .programmes
                .iter()
                .find(|p| p.id == planned.key.programme)
            else {
                continue;
            };
            let job = job_for(programme, &planned);
            match planned.verdict {
                Verdict::Skip(rule) => fx.log_unplayed(&job, Outcome::Skipped(rule), now),
                _ if late_pick.get(&planned.key.programme) == Some(&planned.key.scheduled) => {
                    self.offer(job, now, fx);
                }
                _ if now - planned.key.scheduled > catch_up => {
                    let late = (now - planned.key.scheduled).num_minutes();
                    fx.log_unplayed(
                        &job,
                        Outcome::Missed(format!("box down or clock wrong ({late} min late)")),
                        now,
                    );
                }
                _ => fx.log_unplayed(
                    &job,
                    Outcome::Missed(
                        "superseded by a later occurrence of the same programme".to_owned(),
                    ),
                    now,
                ),
            }
        }
    }

    /// Asks for the audio of airable occurrences within the prepare lead.
    fn prepare_upcoming(
        &mut self,
        now: DateTime<Utc>,
        station: &Station<'_>,
        fx: &mut impl Effects,
    ) {
        let lead = chrono_dur(self.settings.prepare_lead);
        for planned in station.occurrences(self.checked_until.max(now), now + lead) {
            if matches!(planned.verdict, Verdict::Skip(_)) || !self.prepared.insert(planned.key) {
                continue;
            }
            if let Some(p) = station
                .programmes
                .iter()
                .find(|p| p.id == planned.key.programme)
            {
                fx.prepare(&job_for(p, &planned));
            }
        }
        self.prepared.retain(|k| k.scheduled > now);
    }

    /// A job becomes due: it cuts in, queues, or waits for the air.
    fn offer(&mut self, job: Job, now: DateTime<Utc>, fx: &mut impl Effects) {
        if let Some(air) = &mut self.on_air {
            let cuts_in = job.priority == Priority::Emergency
                || (job.clash == ClashRule::CutIn && job.priority > air.job.priority);
            if cuts_in && air.stop_outcome.is_none() {
                air.stop_outcome = Some(Outcome::Interrupted(format!(
                    "cut in by a {} broadcast",
                    priority_word(job.priority)
                )));
                fx.stop();
            }
        }
        let max_wait = match job.clash {
            ClashRule::Queue { max_wait } => max_wait,
            ClashRule::CutIn => self.settings.manual_max_wait,
        };
        let give_up_at = job.scheduled_at.max(now) + chrono_dur(max_wait);
        self.queue.push(Waiting { job, give_up_at });
    }

    fn enforce_session_limit(&mut self, now: DateTime<Utc>, fx: &mut impl Effects) {
        if let Some(air) = &mut self.on_air {
            if air.stop_outcome.is_none() && air.deadline.is_some_and(|d| now >= d) {
                let minutes = self.settings.max_session.as_secs() / 60;
                air.stop_outcome = Some(Outcome::Partial(format!(
                    "session limit of {minutes} min reached"
                )));
                fx.stop();
            }
        }
    }

    fn expire_queue(&mut self, now: DateTime<Utc>, fx: &mut impl Effects) {
        let expired = extract(&mut self.queue, |w| w.give_up_at <= now);
        for w in expired {
            let waited = (now - w.job.scheduled_at).num_minutes();
            fx.log_unplayed(
                &w.job,
                Outcome::Skipped(format!("air busy: waited {waited} min, the queue limit")),
                now,
            );
        }
    }

    fn start_next_if_free(&mut self, now: DateTime<Utc>, fx: &mut impl Effects) {
        while self.on_air.is_none() && !self.queue.is_empty() {
            let best = (0..self.queue.len())
                .max_by_key(|&i| {
                    let j = &self.queue[i].job;
                    (
                        j.priority,
                        std::cmp::Reverse(j.scheduled_at),
                        std::cmp::Reverse(i),
                    )
                })
                .expect("queue is not empty");
            let job = self.queue.remove(best).job;
            if !self.relay_on {
                self.relay_on = true;
                fx.relay(true, now);
            }
            self.relay_off_at = None;
            match fx.start(&job, now) {
                Ok(()) => {
                    let deadline = (job.priority != Priority::Emergency)
                        .then(|| now + chrono_dur(self.settings.max_session));
                    self.on_air = Some(OnAir {
                        job,
                        deadline,
                        stop_outcome: None,
                    });
                }
                Err(error) => fx.log_unplayed(&job, Outcome::Failed(error), now),
            }
        }
    }

    /// Relay on for warm-up before the next due broadcast, off after the hold.
    fn drive_relay(
        &mut self,
        now: DateTime<Utc>,
        synchronised: bool,
        station: &Station<'_>,
        fx: &mut impl Effects,
    ) {
        let warm_up = chrono_dur(self.settings.warm_up);
        let airing_soon = synchronised
            && station
                .occurrences(self.checked_until.max(now), now + warm_up)
                .iter()
                .any(|p| !matches!(p.verdict, Verdict::Skip(_)));
        let manual_soon = self
            .one_shots
            .iter()
            .any(|j| j.scheduled_at - warm_up <= now);
        let warming = airing_soon || manual_soon;
        if self.on_air.is_some() || warming || !self.queue.is_empty() {
            self.relay_off_at = None;
            if !self.relay_on {
                self.relay_on = true;
                fx.relay(true, now);
            }
            return;
        }
        self.relay_for_air(now, fx);
    }

    /// With nothing on air: schedule the hold, and switch off once it has passed.
    fn relay_for_air(&mut self, now: DateTime<Utc>, fx: &mut impl Effects) {
        if !self.relay_on || self.on_air.is_some() || !self.queue.is_empty() {
            return;
        }
        let off_at = *self
            .relay_off_at
            .get_or_insert(now + chrono_dur(self.settings.hold));
        if now >= off_at {
            self.relay_on = false;
            self.relay_off_at = None;
            fx.relay(false, now);
        }
    }
}

/// The job for a programme's planned occurrence.
fn job_for(programme: &Programme, planned: &Planned) -> Job {
    Job {
        origin: Origin::Scheduled {
            programme: programme.id,
        },
        key: Some(planned.key),
        priority: programme.priority,
        clash: programme.clash,
        scheduled_at: planned.key.scheduled,
        playlist: programme.playlist,
        repeat: programme.repeat.max(1),
        repeat_pause: programme.repeat_pause,
        chime: programme.chime,
        rule_broken: match &planned.verdict {
            Verdict::AirBreakingRule(rule) => Some(rule.clone()),
            _ => None,
        },
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

fn priority_word(p: Priority) -> &'static str {
    match p {
        Priority::Normal => "normal",
        Priority::Priority => "priority",
        Priority::Emergency => "emergency",
    }
}
