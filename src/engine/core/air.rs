//! The engine core's decision steps: which occurrences are due, late or missed; who gets
//! the air; limits; and the relay's warm-up and hold. Private to `engine::core`.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::{Effects, EngineCore, Job, OVERDUE_MARGIN, OnAir, Waiting, chrono_dur, extract};
use crate::model::{ClashRule, Origin, Outcome, Priority, Programme, ProgrammeId};
use crate::schedule::{Planned, Station, Verdict};

impl EngineCore {
    /// Handles scheduled occurrences in `(checked_until, now]`.
    pub(super) fn collect_due(
        &mut self,
        now: DateTime<Utc>,
        station: &Station<'_>,
        fx: &mut impl Effects,
    ) {
        let Some(from) = self.checked_until else {
            // First synchronised tick with nothing persisted: start here.
            self.checked_until = Some(now);
            return;
        };
        if now <= from {
            // The clock went backwards (or stood still): nothing new is due, and nothing
            // already handled is looked at again.
            return;
        }
        let due = station.occurrences(from, now);
        self.checked_until = Some(now);
        self.handled.retain(|k| k.scheduled > from);
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
    pub(super) fn prepare_upcoming(
        &mut self,
        now: DateTime<Utc>,
        station: &Station<'_>,
        fx: &mut impl Effects,
    ) {
        let lead = chrono_dur(self.settings.prepare_lead);
        let from = self.checked_until.unwrap_or(now).max(now);
        for planned in station.occurrences(from, now + lead) {
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

    /// A job becomes due: it cuts in, or queues for the air (and the relay's warm-up).
    pub(super) fn offer(&mut self, job: Job, now: DateTime<Utc>, fx: &mut impl Effects) {
        if let Some(air) = &mut self.on_air {
            let cuts_in = (job.priority == Priority::Emergency
                && air.job.priority < Priority::Emergency)
                || (job.clash == ClashRule::CutIn && job.priority > air.job.priority);
            if cuts_in && air.stop_outcome.is_none() {
                air.stop_outcome = Some(Outcome::Interrupted(format!(
                    "cut in by {} broadcast",
                    priority_words(job.priority)
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

    /// The session limit, and a player that never reports the end.
    pub(super) fn enforce_limits(&mut self, now: DateTime<Utc>, fx: &mut impl Effects) {
        let minutes = self.settings.max_session.as_secs() / 60;
        let Some(air) = &mut self.on_air else { return };
        if air.stop_outcome.is_none() && air.deadline.is_some_and(|d| now >= d) {
            air.stop_outcome = Some(Outcome::Partial(format!(
                "session limit of {minutes} min reached"
            )));
            fx.stop();
        }
        if now >= air.overdue_at {
            let air = self.on_air.take().expect("checked above");
            fx.stop();
            fx.log_finished(
                &air.job,
                Outcome::Failed("the player did not report the end of the broadcast".to_owned()),
                now,
            );
        }
    }

    pub(super) fn expire_queue(&mut self, now: DateTime<Utc>, fx: &mut impl Effects) {
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

    /// With the air free, the best waiting job starts once the relay has warmed up; the
    /// station rules are checked again at this real start.
    pub(super) fn start_next_if_free(
        &mut self,
        now: DateTime<Utc>,
        station: &Station<'_>,
        fx: &mut impl Effects,
    ) {
        while self.on_air.is_none() && !self.queue.is_empty() {
            let on_at = match self.relay_on_at {
                Some(t) => t,
                None => {
                    self.relay_on_at = Some(now);
                    fx.relay(true, now);
                    now
                }
            };
            self.relay_off_at = None;
            if now < on_at + chrono_dur(self.settings.warm_up) {
                return;
            }
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
            let mut job = self.queue.remove(best).job;
            let local = now.with_timezone(&station.tz).time();
            match station.rules.violation(local) {
                Some(rule) if job.priority == Priority::Emergency => {
                    job.rule_broken.get_or_insert(rule);
                }
                Some(rule) => {
                    fx.log_unplayed(&job, Outcome::Skipped(rule), now);
                    continue;
                }
                None => {}
            }
            match fx.start(&job, now) {
                Ok(length) => {
                    let deadline = (job.priority != Priority::Emergency)
                        .then(|| now + chrono_dur(self.settings.max_session));
                    self.on_air = Some(OnAir {
                        job,
                        deadline,
                        overdue_at: now + chrono_dur(length) + OVERDUE_MARGIN,
                        stop_outcome: None,
                    });
                }
                Err(error) => fx.log_unplayed(&job, Outcome::Failed(error), now),
            }
        }
    }

    /// Relay on for warm-up before the next due broadcast, off after the hold.
    pub(super) fn drive_relay(
        &mut self,
        now: DateTime<Utc>,
        station: &Station<'_>,
        fx: &mut impl Effects,
    ) {
        let warm_up = chrono_dur(self.settings.warm_up);
        let airing_soon = self.synchronised
            && station
                .occurrences(self.checked_until.unwrap_or(now).max(now), now + warm_up)
                .iter()
                .any(|p| !matches!(p.verdict, Verdict::Skip(_)));
        let manual_soon = self
            .one_shots
            .iter()
            .any(|j| j.scheduled_at - warm_up <= now);
        if self.on_air.is_some() || airing_soon || manual_soon || !self.queue.is_empty() {
            self.relay_off_at = None;
            if self.relay_on_at.is_none() {
                self.relay_on_at = Some(now);
                fx.relay(true, now);
            }
            return;
        }
        if self.relay_on_at.is_none() {
            return;
        }
        let off_at = *self
            .relay_off_at
            .get_or_insert(now + chrono_dur(self.settings.hold));
        if now >= off_at {
            self.relay_on_at = None;
            self.relay_off_at = None;
            fx.relay(false, now);
        }
    }
}

/// The job for a programme's planned occurrence.
pub(super) fn job_for(programme: &Programme, planned: &Planned) -> Job {
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
        // A programme's approval is checked by the store on every read (its seal).
        approved_playlist_version: None,
    }
}

fn priority_words(p: Priority) -> &'static str {
    match p {
        Priority::Normal => "a normal",
        Priority::Priority => "a priority",
        Priority::Emergency => "an emergency",
    }
}
