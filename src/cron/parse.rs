//! Parsing of standard cron text into explicit value sets, and their translation into the
//! `cron` crate's dialect.
//!
//! This module checks every field of a standard expression (5 fields, or 6 with a leading
//! seconds field, or a macro such as `@daily`) and turns each field into the sorted list of
//! values it allows. It then writes those lists out as expressions the `cron` crate accepts:
//! weekdays as names (so the crate's Sunday = 1 numbering never matters) and days as plain
//! numbers. It is not the place where times are computed; `mod.rs` does that.

use std::collections::BTreeSet;

use super::{CronError, Field, Problem};

/// The allowed values of every field of one expression, after normalisation.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(super) struct Spec {
    pub(super) seconds: BTreeSet<u32>,
    pub(super) minutes: BTreeSet<u32>,
    pub(super) hours: BTreeSet<u32>,
    pub(super) days_of_month: BTreeSet<u32>,
    pub(super) months: BTreeSet<u32>,
    /// Weekdays with Sunday = 0 and Saturday = 6; a written 7 is stored as 0.
    pub(super) days_of_week: BTreeSet<u32>,
    /// Whether the day-of-month field was written starting with `*` (classic cron rule).
    pub(super) dom_star: bool,
    /// Whether the day-of-week field was written starting with `*` (classic cron rule).
    pub(super) dow_star: bool,
}

/// What one field may hold.
struct Bounds {
    field: Field,
    min: u32,
    max: u32,
    /// The largest value that `*` and `a/n` reach (6 for weekdays, where 7 is only an alias).
    star_max: u32,
    /// Three-letter names, the first standing for `min` (month) or 0 (weekday).
    names: &'static [&'static str],
    names_hint: &'static str,
}

const MONTH_NAMES: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];
const WEEKDAY_NAMES: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

const SECOND: Bounds = Bounds::numeric(Field::Second, 0, 59);
const MINUTE: Bounds = Bounds::numeric(Field::Minute, 0, 59);
const HOUR: Bounds = Bounds::numeric(Field::Hour, 0, 23);
const DAY_OF_MONTH: Bounds = Bounds::numeric(Field::DayOfMonth, 1, 31);
const MONTH: Bounds = Bounds {
    field: Field::Month,
    min: 1,
    max: 12,
    star_max: 12,
    names: &MONTH_NAMES,
    names_hint: "JAN-DEC",
};
const DAY_OF_WEEK: Bounds = Bounds {
    field: Field::DayOfWeek,
    min: 0,
    max: 7,
    star_max: 6,
    names: &WEEKDAY_NAMES,
    names_hint: "SUN-SAT",
};

/// Macros and the five-field expressions they stand for.
const MACROS: [(&str, &str); 8] = [
    ("@yearly", "0 0 1 1 *"),
    ("@annually", "0 0 1 1 *"),
    ("@monthly", "0 0 1 * *"),
    ("@weekly", "0 0 * * 0"),
    ("@daily", "0 0 * * *"),
    ("@midnight", "0 0 * * *"),
    ("@hourly", "0 * * * *"),
    // `@reboot` is listed so that it gets a precise error rather than "unknown".
    ("@reboot", ""),
];

/// Parses trimmed, non-empty standard cron text.
pub(super) fn parse_spec(text: &str) -> Result<Spec, CronError> {
    if text.starts_with('@') {
        let lower = text.to_ascii_lowercase();
        return match MACROS.iter().find(|(name, _)| *name == lower) {
            Some((_, "")) | None => Err(CronError::UnknownMacro {
                name: text.to_string(),
            }),
            Some((_, expansion)) => parse_spec(expansion),
        };
    }
    let fields: Vec<&str> = text.split_whitespace().collect();
    let (second, rest) = match fields.len() {
        5 => ("0", &fields[..]),
        6 => (fields[0], &fields[1..]),
        found => {
            return Err(CronError::FieldCount {
                found,
                text: text.to_string(),
            });
        }
    };
    let days_of_week = parse_field(rest[4], &DAY_OF_WEEK)?
        .into_iter()
        .map(|day| day % 7)
        .collect();
    Ok(Spec {
        seconds: parse_field(second, &SECOND)?,
        minutes: parse_field(rest[0], &MINUTE)?,
        hours: parse_field(rest[1], &HOUR)?,
        days_of_month: parse_field(rest[2], &DAY_OF_MONTH)?,
        months: parse_field(rest[3], &MONTH)?,
        days_of_week,
        dom_star: rest[2].starts_with('*'),
        dow_star: rest[4].starts_with('*'),
    })
}

impl Spec {
    /// Whether the classic rule applies: both day fields restricted, so either may match.
    pub(super) fn days_either(&self) -> bool {
        !self.dom_star && !self.dow_star
    }

    /// Whether some date of some year can match; `0 0 31 4 *` cannot.
    pub(super) fn can_fire(&self) -> bool {
        if self.days_either() {
            // The day-of-week branch alone matches some day of every month.
            return true;
        }
        // Every day number that exists in a month falls on every weekday in some year
        // within the `cron` crate's range (1970-2100), Feb 29 included.
        self.months.iter().any(|&month| {
            let longest = match month {
                2 => 29,
                4 | 6 | 9 | 11 => 30,
                _ => 31,
            };
            self.days_of_month.iter().any(|&day| day <= longest)
        })
    }

    /// The `cron` crate expressions (seconds first) whose union is this expression.
    pub(super) fn crate_expressions(&self) -> Vec<String> {
        let head = format!(
            "{} {} {}",
            numbers(&self.seconds, 60),
            numbers(&self.minutes, 60),
            numbers(&self.hours, 24)
        );
        let dom = numbers(&self.days_of_month, 31);
        let months = numbers(&self.months, 12);
        let dow = if self.days_of_week.len() == 7 {
            "*".to_string()
        } else {
            let names: Vec<&str> = self
                .days_of_week
                .iter()
                .map(|&day| WEEKDAY_NAMES[day as usize])
                .collect();
            names.join(",")
        };
        if self.days_either() {
            vec![
                format!("{head} {dom} {months} *"),
                format!("{head} * {months} {dow}"),
            ]
        } else {
            vec![format!("{head} {dom} {months} {dow}")]
        }
    }
}

/// Writes a value set as `*` when it is complete, else as a comma list.
fn numbers(values: &BTreeSet<u32>, complete: usize) -> String {
    if values.len() == complete {
        return "*".to_string();
    }
    let items: Vec<String> = values.iter().map(u32::to_string).collect();
    items.join(",")
}

impl Bounds {
    const fn numeric(field: Field, min: u32, max: u32) -> Bounds {
        Bounds {
            field,
            min,
            max,
            star_max: max,
            names: &[],
            names_hint: "",
        }
    }

    fn error(&self, token: &str, problem: Problem) -> CronError {
        CronError::Field {
            field: self.field,
            token: token.to_string(),
            problem,
        }
    }
}

/// Parses one field: a comma list of `*`, `a`, `a-b`, each optionally followed by `/step`.
fn parse_field(text: &str, bounds: &Bounds) -> Result<BTreeSet<u32>, CronError> {
    let mut values = BTreeSet::new();
    for item in text.split(',') {
        if item.is_empty() {
            return Err(bounds.error(text, Problem::EmptyItem));
        }
        let (start, end, step) = parse_item(item, bounds).map_err(|p| bounds.error(item, p))?;
        values.extend((start..=end).step_by(step as usize));
    }
    Ok(values)
}

/// Parses one list item into an inclusive range and a step.
fn parse_item(item: &str, bounds: &Bounds) -> Result<(u32, u32, u32), Problem> {
    let (base, step) = match item.split_once('/') {
        Some((base, step)) => (base, Some(parse_step(step, bounds)?)),
        None => (item, None),
    };
    let (start, end) = if base == "*" {
        (bounds.min, bounds.star_max)
    } else if let Some((start, end)) = base.split_once('-') {
        let start = parse_value(start, bounds, false)?;
        let end = parse_value(end, bounds, true)?;
        if start > end {
            return Err(Problem::Reversed { start, end });
        }
        (start, end)
    } else {
        let start = parse_value(base, bounds, false)?;
        match step {
            Some(_) => (start, bounds.star_max.max(start)),
            None => (start, start),
        }
    };
    Ok((start, end, step.unwrap_or(1)))
}

/// Parses a step: a whole number from 1 to the number of values the field has.
fn parse_step(text: &str, bounds: &Bounds) -> Result<u32, Problem> {
    let span = bounds.star_max - bounds.min + 1;
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Problem::BadStep {
            step: text.to_string(),
        });
    }
    match text.parse::<u32>() {
        Ok(0) => Err(Problem::StepZero),
        Ok(step) if step <= span => Ok(step),
        _ => Err(Problem::StepTooLarge {
            step: text.to_string(),
            span,
        }),
    }
}

/// Parses a number or a name and checks its range. A weekday range ending in `SUN` ends at
/// 7, so that `FRI-SUN` means Friday to Sunday.
fn parse_value(text: &str, bounds: &Bounds, range_end: bool) -> Result<u32, Problem> {
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return match text.parse::<u32>() {
            Ok(value) if (bounds.min..=bounds.max).contains(&value) => Ok(value),
            _ => Err(Problem::OutOfRange {
                value: text.to_string(),
                min: bounds.min,
                max: bounds.max,
            }),
        };
    }
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_alphabetic()) {
        if bounds.names.is_empty() {
            return Err(Problem::NameNotAllowed {
                name: text.to_string(),
            });
        }
        let index = bounds
            .names
            .iter()
            .position(|name| name.eq_ignore_ascii_case(text))
            .ok_or_else(|| Problem::UnknownName {
                name: text.to_string(),
                expected: bounds.names_hint,
            })? as u32;
        let first = if bounds.field == Field::Month { 1 } else { 0 };
        return Ok(match (bounds.field, index, range_end) {
            (Field::DayOfWeek, 0, true) => 7,
            _ => index + first,
        });
    }
    Err(Problem::Malformed)
}
