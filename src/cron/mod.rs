//! Standard cron expressions and their firing instants in the station's time zone.
//!
//! Users write standard cron: five fields `min hour day-of-month month day-of-week`, or six
//! with a leading seconds field, or a macro such as `@daily`. Names (`JAN`, `mon`) are
//! case-insensitive, Sunday is 0 or 7, and when both day fields are restricted a day
//! matches if either matches. [`CronExpr`] checks the text once, names the field and token
//! that is wrong, and computes firings through the `cron` crate, whose own dialect differs
//! (seconds first, Sunday = 1, both day fields must match): the text is normalised into
//! explicit lists that crate reads the same way, and the either-day rule becomes two of its
//! schedules whose times are merged.
//!
//! Expressions are evaluated on local wall-clock time in an IANA zone. A local time that
//! does not exist (spring-forward gap) fires once, at the first instant after the gap; a
//! local time that happens twice (fall-back overlap) fires once, at its earlier instant.
//! Firings exist for local years 1970 to 2100 (the `cron` crate's range).
//!
//! This module never reads the clock, sleeps or does I/O: the caller passes the instant to
//! count from.

mod parse;
#[cfg(test)]
mod tests;

use std::fmt;
use std::iter::Peekable;
use std::str::FromStr;

use ::cron::{Schedule, ScheduleIterator};
use chrono::{DateTime, MappedLocalTime, NaiveDateTime, TimeZone, Timelike, Utc};
use chrono_tz::Tz;

use parse::Spec;

/// A checked standard cron expression.
///
/// Equality compares the text as written; [`CronExpr::same_schedule`] compares meaning.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CronExpr {
    /// The text as written, trimmed.
    text: String,
    /// The allowed values of each field.
    spec: Spec,
    /// One `cron` crate schedule, or two whose union is the expression (either-day rule).
    schedules: Vec<Schedule>,
}

/// Why a cron expression was rejected.
#[derive(Debug, thiserror::Error)]
pub enum CronError {
    /// The text is empty or only spaces.
    #[error("empty cron expression")]
    Empty,
    /// The text has the wrong number of fields.
    #[error(
        "cron expression \"{text}\" has {found} fields, expected 5 (minute hour day-of-month \
         month day-of-week) or 6 (with a leading second)"
    )]
    FieldCount {
        /// How many whitespace-separated fields were found.
        found: usize,
        /// The whole expression.
        text: String,
    },
    /// The text starts with `@` but is not a supported macro.
    #[error(
        "unsupported macro \"{name}\", expected @yearly, @annually, @monthly, @weekly, \
         @daily, @midnight or @hourly"
    )]
    UnknownMacro {
        /// The text as written.
        name: String,
    },
    /// One field holds a bad token.
    #[error("{field} field \"{token}\": {problem}")]
    Field {
        /// Which field.
        field: Field,
        /// The offending list item (or the whole field for an empty item).
        token: String,
        /// What is wrong with it.
        problem: Problem,
    },
    /// Every field is valid but no date can ever match, like `0 0 31 4 *`.
    #[error("cron expression \"{text}\" never fires: no month in it has those days")]
    NeverFires {
        /// The whole expression.
        text: String,
    },
    /// The `cron` crate refused the normalised form; this is a bug in this module.
    #[error("cron expression \"{text}\" could not be translated as \"{translated}\"")]
    Translate {
        /// The whole expression.
        text: String,
        /// The `cron` crate expression built from it.
        translated: String,
        /// The `cron` crate's error.
        #[source]
        source: ::cron::error::Error,
    },
}

/// A field of a cron expression, for error messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Field {
    /// The optional leading seconds field.
    Second,
    /// Minutes, 0-59.
    Minute,
    /// Hours, 0-23.
    Hour,
    /// Day of month, 1-31.
    DayOfMonth,
    /// Month, 1-12 or `JAN`-`DEC`.
    Month,
    /// Day of week, 0-7 (0 and 7 are Sunday) or `SUN`-`SAT`.
    DayOfWeek,
}

/// What is wrong with one token of a field.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    /// A list has an empty item, as in `1,,2` or a trailing comma.
    #[error("empty list item")]
    EmptyItem,
    /// A number outside the field's range.
    #[error("value {value} out of range {min}-{max}")]
    OutOfRange {
        /// The number as written.
        value: String,
        /// The smallest allowed value.
        min: u32,
        /// The largest allowed value.
        max: u32,
    },
    /// A name in a field that takes only numbers.
    #[error("\"{name}\" is not a number (names are allowed only for month and day-of-week)")]
    NameNotAllowed {
        /// The name as written.
        name: String,
    },
    /// A name that the field does not know.
    #[error("unknown name \"{name}\", expected {expected}")]
    UnknownName {
        /// The name as written.
        name: String,
        /// The allowed names, like `JAN-DEC`.
        expected: &'static str,
    },
    /// A range whose start is after its end; wrap-around is not supported.
    #[error("range {start}-{end} is reversed (start must not be after end)")]
    Reversed {
        /// The start value.
        start: u32,
        /// The end value.
        end: u32,
    },
    /// A step of zero.
    #[error("step 0 must be at least 1")]
    StepZero,
    /// A step larger than the field has values.
    #[error("step {step} out of range 1-{span}")]
    StepTooLarge {
        /// The step as written.
        step: String,
        /// How many values the field has.
        span: u32,
    },
    /// A step that is not a whole number.
    #[error("step \"{step}\" is not a whole number")]
    BadStep {
        /// The step as written.
        step: String,
    },
    /// Anything else.
    #[error("expected *, a number, a name, a range a-b, or one of those with /step")]
    Malformed,
}

/// The firings of one expression after an instant, increasing; see [`CronExpr::iter_after`].
pub struct Firings<'a> {
    /// Local wall-clock times (carried as UTC values) from each `cron` crate schedule.
    sources: Vec<Peekable<ScheduleIterator<'a, Utc>>>,
    /// The zone the wall-clock times are in.
    tz: Tz,
    /// The start instant, then the last firing returned.
    last: DateTime<Utc>,
}

impl CronExpr {
    /// Parses and checks standard cron text; see the module documentation for the syntax.
    pub fn parse(text: &str) -> Result<CronExpr, CronError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(CronError::Empty);
        }
        let spec = parse::parse_spec(text)?;
        if !spec.can_fire() {
            return Err(CronError::NeverFires {
                text: text.to_string(),
            });
        }
        let schedules = spec
            .crate_expressions()
            .into_iter()
            .map(|translated| {
                Schedule::from_str(&translated).map_err(|source| CronError::Translate {
                    text: text.to_string(),
                    translated,
                    source,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(CronExpr {
            text: text.to_string(),
            spec,
            schedules,
        })
    }

    /// The text as written, trimmed.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether two expressions fire at the same times, however they are written
    /// (`@daily` and `0 0 * * *`, `MON-FRI` and `1-5`).
    pub fn same_schedule(&self, other: &CronExpr) -> bool {
        self.spec == other.spec || self.schedules == other.schedules
    }

    /// First firing strictly after `after`, in zone `tz`.
    pub fn next_after(&self, after: DateTime<Utc>, tz: Tz) -> Option<DateTime<Utc>> {
        self.iter_after(after, tz).next()
    }

    /// Firings strictly after `after`, increasing.
    pub fn iter_after(
        &self,
        after: DateTime<Utc>,
        tz: Tz,
    ) -> impl Iterator<Item = DateTime<Utc>> + '_ {
        self.firings(after, tz)
    }

    /// Firings strictly after `after`, increasing, as a named iterator type.
    pub fn firings(&self, after: DateTime<Utc>, tz: Tz) -> Firings<'_> {
        // Every local time up to the start's own wall-clock time resolves to an instant at
        // or before the start, so the search begins just after it.
        let local = after.with_timezone(&tz).naive_local();
        let local = local.with_nanosecond(0).unwrap_or(local).and_utc();
        Firings {
            sources: self
                .schedules
                .iter()
                .map(|schedule| schedule.after(&local).peekable())
                .collect(),
            tz,
            last: after,
        }
    }
}

impl FromStr for CronExpr {
    type Err = CronError;

    fn from_str(text: &str) -> Result<CronExpr, CronError> {
        CronExpr::parse(text)
    }
}

impl fmt::Display for CronExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl serde::Serialize for CronExpr {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text)
    }
}

impl<'de> serde::Deserialize<'de> for CronExpr {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<CronExpr, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        CronExpr::parse(&text).map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Field::Second => "second",
            Field::Minute => "minute",
            Field::Hour => "hour",
            Field::DayOfMonth => "day-of-month",
            Field::Month => "month",
            Field::DayOfWeek => "day-of-week",
        })
    }
}

impl Iterator for Firings<'_> {
    type Item = DateTime<Utc>;

    fn next(&mut self) -> Option<DateTime<Utc>> {
        loop {
            let local = self.next_local()?;
            let instant = resolve(self.tz, local.naive_utc())?;
            // Several local times in one gap resolve to the same instant, and local times
            // after the start may resolve before it in an overlap: skip both.
            if instant > self.last {
                self.last = instant;
                return Some(instant);
            }
        }
    }
}

impl Firings<'_> {
    /// The next local time from the union of the sources.
    fn next_local(&mut self) -> Option<DateTime<Utc>> {
        let least = self
            .sources
            .iter_mut()
            .filter_map(|source| source.peek().copied())
            .min()?;
        for source in &mut self.sources {
            source.next_if_eq(&least);
        }
        Some(least)
    }
}

/// The instant at which a local wall-clock time fires: its only instant, the earlier of
/// two in an overlap, or the end of the gap it falls in. In all cases this is the first
/// instant whose local time is not before `local`, so it never decreases as `local` grows.
fn resolve(tz: Tz, local: NaiveDateTime) -> Option<DateTime<Utc>> {
    match tz.from_local_datetime(&local) {
        MappedLocalTime::Single(at) => Some(at.to_utc()),
        MappedLocalTime::Ambiguous(one, other) => Some(one.min(other).to_utc()),
        MappedLocalTime::None => {
            // Binary search on whole seconds. No zone is 16 hours off UTC, so the local
            // time at `low` is before `local` and the one at `high` is after it.
            let wall = |seconds: i64| {
                DateTime::from_timestamp(seconds, 0).map(|at| at.with_timezone(&tz).naive_local())
            };
            let guess = local.and_utc().timestamp();
            let (mut low, mut high) = (guess - 16 * 3600, guess + 16 * 3600);
            while high - low > 1 {
                let middle = low + (high - low) / 2;
                if wall(middle)? >= local {
                    high = middle;
                } else {
                    low = middle;
                }
            }
            DateTime::from_timestamp(high, 0)
        }
    }
}
