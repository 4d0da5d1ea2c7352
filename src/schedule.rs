//! Occurrences computed from programmes, campaigns and station rules — pure computation.
//!
//! Given the programmes, their campaigns, the station rules, the time zone and a window of
//! instants, this module says which occurrences fall in the window and whether each may
//! air, airs breaking a rule (emergencies only), or is skipped and by which rule. It never
//! reads the clock (`now` and windows are arguments), never sleeps, never does I/O.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

use crate::model::{Campaign, CampaignId, DateRange, OccurrenceKey, Priority, Programme};

/// Limits on when and how long the station broadcasts. Only emergencies may break them.
#[derive(Debug, Clone, PartialEq)]
pub struct StationRules {
    /// No broadcast starts before this local time.
    pub earliest: NaiveTime,
    /// No broadcast starts after this local time.
    pub latest: NaiveTime,
    /// Local time intervals with no broadcasts.
    pub quiet_hours: Vec<QuietHours>,
    /// A session is cut after this long.
    pub max_session: Duration,
}

/// A local time interval `[from, to)`; it wraps past midnight when `to <= from`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuietHours {
    /// Start, inclusive.
    pub from: NaiveTime,
    /// End, exclusive.
    pub to: NaiveTime,
}

/// A station rule a broadcast would break. Its `Display` is the reason the log keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleBreak {
    /// It would start before the earliest broadcast time.
    BeforeEarliest(NaiveTime),
    /// It would start after the latest broadcast time.
    AfterLatest(NaiveTime),
    /// It would start inside these quiet hours.
    QuietHours(QuietHours),
}

/// What the rules say about one occurrence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// It airs.
    Air,
    /// It airs although it breaks this rule (emergency); the log says so.
    AirBreakingRule(String),
    /// It does not air, because of this rule.
    Skip(String),
}

/// One occurrence of a programme in a window.
#[derive(Debug, Clone, PartialEq)]
pub struct Planned {
    /// Programme and scheduled instant.
    pub key: OccurrenceKey,
    /// The programme's priority.
    pub priority: Priority,
    /// Whether and how it airs.
    pub verdict: Verdict,
}

/// Everything the scheduler needs, borrowed.
#[derive(Debug, Clone, Copy)]
pub struct Station<'a> {
    /// All programmes (disabled ones are ignored).
    pub programmes: &'a [Programme],
    /// Campaigns programmes may belong to.
    pub campaigns: &'a [Campaign],
    /// Station rules.
    pub rules: &'a StationRules,
    /// The station's time zone.
    pub tz: Tz,
    /// Whether unapproved programmes are held back.
    pub approval_required: bool,
}

/// How far ahead `next_instant` looks before concluding nothing will ever fire.
const HORIZON_DAYS: i64 = 400;

impl StationRules {
    /// The rule a broadcast starting at local time `t` would break, if any: the one
    /// judgement of the station rules, which the engine, the schedule's verdicts and the
    /// panel's refusal of a manual broadcast all make through this function.
    pub fn rule_broken(&self, t: NaiveTime) -> Option<RuleBreak> {
        if t < self.earliest {
            return Some(RuleBreak::BeforeEarliest(self.earliest));
        }
        if t > self.latest {
            return Some(RuleBreak::AfterLatest(self.latest));
        }
        self.quiet_hours
            .iter()
            .find(|q| q.contains(t))
            .map(|q| RuleBreak::QuietHours(*q))
    }

    /// [`StationRules::rule_broken`] in the words the log keeps ("quiet hours 21:00-05:00").
    pub fn violation(&self, t: NaiveTime) -> Option<String> {
        self.rule_broken(t).map(|r| r.to_string())
    }
}

impl RuleBreak {
    /// A stable code for APIs: `before_earliest`, `after_latest` or `quiet_hours`.
    pub fn code(&self) -> &'static str {
        match self {
            RuleBreak::BeforeEarliest(_) => "before_earliest",
            RuleBreak::AfterLatest(_) => "after_latest",
            RuleBreak::QuietHours(_) => "quiet_hours",
        }
    }
}

impl std::fmt::Display for RuleBreak {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RuleBreak::BeforeEarliest(t) => {
                write!(f, "before earliest broadcast time {}", t.format("%H:%M"))
            }
            RuleBreak::AfterLatest(t) => {
                write!(f, "after latest broadcast time {}", t.format("%H:%M"))
            }
            RuleBreak::QuietHours(q) => write!(
                f,
                "quiet hours {}-{}",
                q.from.format("%H:%M"),
                q.to.format("%H:%M")
            ),
        }
    }
}

impl QuietHours {
    /// Whether local time `t` falls inside.
    pub fn contains(&self, t: NaiveTime) -> bool {
        if self.from < self.to {
            self.from <= t && t < self.to
        } else {
            t >= self.from || t < self.to
        }
    }
}

impl<'a> Station<'a> {
    /// Occurrences with `after < instant <= until`, sorted by instant, then by priority
    /// (highest first), then by programme id.
    pub fn occurrences(&self, after: DateTime<Utc>, until: DateTime<Utc>) -> Vec<Planned> {
        let campaigns = self.campaign_dates();
        let mut out = Vec::new();
        for p in self.programmes.iter().filter(|p| p.enabled) {
            let Some(dates) = effective_dates(p, &campaigns) else {
                continue;
            };
            for at in self.firings(p, dates, after).take_while(|t| *t <= until) {
                out.push(Planned {
                    key: OccurrenceKey {
                        programme: p.id,
                        scheduled: at,
                    },
                    priority: p.priority,
                    verdict: self.verdict(p, at),
                });
            }
        }
        out.sort_by(|a, b| {
            (
                a.key.scheduled,
                std::cmp::Reverse(a.priority),
                a.key.programme,
            )
                .cmp(&(
                    b.key.scheduled,
                    std::cmp::Reverse(b.priority),
                    b.key.programme,
                ))
        });
        out
    }

    /// The first instant after `after` at which any enabled programme fires, looking at
    /// most about a year ahead.
    pub fn next_instant(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let campaigns = self.campaign_dates();
        let horizon = after + chrono::Duration::days(HORIZON_DAYS);
        self.programmes
            .iter()
            .filter(|p| p.enabled)
            .filter_map(|p| {
                let dates = effective_dates(p, &campaigns)?;
                self.firings(p, dates, after).next()
            })
            .filter(|t| *t <= horizon)
            .min()
    }

    /// The station rule a broadcast due at `at` would break, if any: the one judgement of
    /// the rules, made on the instant a broadcast is due (not the moment it really starts,
    /// a few milliseconds later), by the preview, the schedule, `loa next` and the engine.
    pub fn rule_at(&self, at: DateTime<Utc>) -> Option<String> {
        self.rules.violation(at.with_timezone(&self.tz).time())
    }

    /// The next `count` occurrences strictly after `after`, with their verdicts, as
    /// [`Station::occurrences`] gives them (campaign and own dates applied), looking at
    /// most about a year ahead.
    pub fn upcoming(&self, after: DateTime<Utc>, count: usize) -> Vec<Planned> {
        let mut out = Vec::new();
        let mut from = after;
        while out.len() < count {
            let Some(t) = self.next_instant(from) else {
                break;
            };
            out.extend(self.occurrences(from, t));
            from = t;
        }
        out.truncate(count);
        out
    }

    /// The verdict for programme `p` firing at `at`.
    pub fn verdict(&self, p: &Programme, at: DateTime<Utc>) -> Verdict {
        if self.approval_required && !p.approved {
            return Verdict::Skip("awaiting approval".to_owned());
        }
        match self.rule_at(at) {
            None => Verdict::Air,
            Some(rule) if p.priority == Priority::Emergency => Verdict::AirBreakingRule(rule),
            Some(rule) => Verdict::Skip(rule),
        }
    }

    /// Firings of `p` strictly after `after` and within `dates` (local, inclusive).
    fn firings(
        &self,
        p: &'a Programme,
        dates: Option<DateRange>,
        after: DateTime<Utc>,
    ) -> impl Iterator<Item = DateTime<Utc>> + 'a {
        let tz = self.tz;
        let (start, end) = match dates {
            Some(d) => (
                after.max(local_midnight(d.start, tz) - chrono::Duration::seconds(1)),
                Some(d.end),
            ),
            None => (after, None),
        };
        let horizon = after + chrono::Duration::days(HORIZON_DAYS);
        p.cron
            .iter_after(start, tz)
            .take_while(move |t| *t <= horizon)
            .take_while(move |t| end.is_none_or(|end| local_date(*t, tz) <= end))
    }

    fn campaign_dates(&self) -> HashMap<CampaignId, DateRange> {
        self.campaigns.iter().map(|c| (c.id, c.dates)).collect()
    }
}

/// The programme's effective date bounds: its campaign's and its own, intersected.
/// `None` means it can never fire (unknown campaign or empty intersection);
/// `Some(None)` means unbounded.
fn effective_dates(
    p: &Programme,
    campaigns: &HashMap<CampaignId, DateRange>,
) -> Option<Option<DateRange>> {
    let campaign = match p.campaign {
        Some(id) => Some(*campaigns.get(&id)?),
        None => None,
    };
    let bounds = match (campaign, p.dates) {
        (Some(a), Some(b)) => Some(DateRange {
            start: a.start.max(b.start),
            end: a.end.min(b.end),
        }),
        (a, b) => a.or(b),
    };
    match bounds {
        Some(r) if r.start > r.end => None,
        other => Some(other),
    }
}

/// The first instant of local date `d` in `tz`. Where midnight falls in a DST gap (a few
/// zones change at 00:00), the day starts at the first local time that exists after it.
pub fn local_midnight(d: NaiveDate, tz: Tz) -> DateTime<Utc> {
    let midnight = d.and_time(NaiveTime::MIN);
    (0..=24 * 60)
        .find_map(|minutes| {
            let naive = midnight + chrono::Duration::minutes(minutes);
            tz.from_local_datetime(&naive).earliest()
        })
        .map_or_else(|| tz.from_utc_datetime(&midnight).to_utc(), |t| t.to_utc())
}

/// The local date of instant `t` in `tz`.
pub fn local_date(t: DateTime<Utc>, tz: Tz) -> NaiveDate {
    t.with_timezone(&tz).date_naive()
}

#[cfg(test)]
mod tests;
