//! Tests of standard cron parsing and firing times, mostly driven by the table in
//! `cases.txt` (firings) and by the table of rejected expressions below.
//!
//! The firing table's expected values were worked out by hand from the calendar and
//! cross-checked with an outside implementation; nothing here derives them from this code.

use std::collections::BTreeSet;

use chrono::{DateTime, Datelike, Duration, Timelike, Utc};
use chrono_tz::Tz;
use serde::Deserialize;
use serde::de::IntoDeserializer;
use serde::de::value::{Error as ValueError, StrDeserializer};

use super::{CronError, CronExpr, Field};

/// The firing table: `expression | zone | start | expected...`.
const CASES: &str = include_str!("cases.txt");

/// Rejected expressions and fragments that their error message must contain.
const REJECTED: &[(&str, &[&str])] = &[
    ("", &["empty cron expression"]),
    ("   ", &["empty cron expression"]),
    ("* * * *", &["has 4 fields", "expected 5"]),
    ("0 0 * * * * *", &["has 7 fields"]),
    (
        "60 * * * *",
        &["minute field \"60\": value 60 out of range 0-59"],
    ),
    (
        "0 25 * * *",
        &["hour field \"25\": value 25 out of range 0-23"],
    ),
    (
        "0 0 0 * *",
        &["day-of-month field \"0\": value 0 out of range 1-31"],
    ),
    (
        "0 0 1,32 * *",
        &["day-of-month field \"32\": value 32 out of range 1-31"],
    ),
    (
        "0 0 * 13 *",
        &["month field \"13\": value 13 out of range 1-12"],
    ),
    (
        "0 0 * 0 *",
        &["month field \"0\": value 0 out of range 1-12"],
    ),
    (
        "0 0 * * 8",
        &["day-of-week field \"8\": value 8 out of range 0-7"],
    ),
    (
        "60 0 0 * * *",
        &["second field \"60\": value 60 out of range 0-59"],
    ),
    (
        "99999999999 * * * *",
        &["minute field \"99999999999\": value 99999999999 out"],
    ),
    (
        "0 0 * FOO *",
        &["month field \"FOO\": unknown name \"FOO\", expected JAN-DEC"],
    ),
    (
        "0 0 * JAN-FEBR *",
        &["month field \"JAN-FEBR\": unknown name \"FEBR\""],
    ),
    (
        "0 0 * * MONDAY",
        &["day-of-week field \"MONDAY\": unknown name", "SUN-SAT"],
    ),
    (
        "0 MON * * *",
        &["hour field \"MON\": \"MON\" is not a number"],
    ),
    (
        "*/0 * * * *",
        &["minute field \"*/0\": step 0 must be at least 1"],
    ),
    ("0 0 1-10/0 * *", &["day-of-month field \"1-10/0\": step 0"]),
    (
        "*/61 * * * *",
        &["minute field \"*/61\": step 61 out of range 1-60"],
    ),
    (
        "*/x * * * *",
        &["minute field \"*/x\": step \"x\" is not a whole number"],
    ),
    ("5/ * * * *", &["minute field \"5/\": step \"\""]),
    (
        "0 17-9 * * *",
        &["hour field \"17-9\": range 17-9 is reversed"],
    ),
    (
        "0 0 * * FRI-MON",
        &["day-of-week field \"FRI-MON\": range 5-1 is reversed"],
    ),
    (
        "0 0 * DEC-JAN *",
        &["month field \"DEC-JAN\": range 12-1 is reversed"],
    ),
    ("x * * * *", &["minute field \"x\": \"x\" is not a number"]),
    (
        "1-2-3 * * * *",
        &["minute field \"1-2-3\": expected *, a number"],
    ),
    ("-5 * * * *", &["minute field \"-5\": expected"]),
    ("0 0 * * ?", &["day-of-week field \"?\": expected"]),
    (
        "0 0 L * *",
        &["day-of-month field \"L\": \"L\" is not a number"],
    ),
    ("1,,2 * * * *", &["minute field \"1,,2\": empty list item"]),
    ("0 0 * * 1,", &["day-of-week field \"1,\": empty list item"]),
    ("@reboot", &["unsupported macro \"@reboot\""]),
    ("@fortnightly", &["unsupported macro \"@fortnightly\""]),
    ("@daily 5", &["unsupported macro \"@daily 5\""]),
    ("0 0 31 4,6,9,11 *", &["never fires"]),
    ("0 0 30 2 *", &["never fires"]),
];

#[test]
fn firing_table_matches_hand_derived_instants() {
    let mut checked = 0;
    let mut failures = Vec::new();
    for (number, line) in CASES.lines().enumerate() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let columns: Vec<&str> = line.split('|').collect();
        assert_eq!(columns.len(), 4, "cases.txt line {}: {line}", number + 1);
        let expr = CronExpr::parse(columns[0])
            .unwrap_or_else(|e| panic!("cases.txt line {}: {e}", number + 1));
        let tz: Tz = columns[1].trim().parse().expect("zone in cases.txt");
        let start = instant(columns[2]);
        let expected: Vec<DateTime<Utc>> = columns[3].split_whitespace().map(instant).collect();
        assert!(
            expected.len() >= 2,
            "cases.txt line {}: give several",
            number + 1
        );
        let got: Vec<DateTime<Utc>> = expr.iter_after(start, tz).take(expected.len()).collect();
        if got != expected {
            failures.push(format!(
                "line {}: {line}\n  got      {}\n  expected {}",
                number + 1,
                show(&got, tz),
                show(&expected, tz)
            ));
        }
        assert_eq!(expr.next_after(start, tz), expected.first().copied());
        checked += 1;
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(checked >= 70, "only {checked} firing cases");
}

#[test]
fn rejected_expressions_name_the_field_and_token() {
    for (text, fragments) in REJECTED {
        let message = match CronExpr::parse(text) {
            Ok(expr) => panic!("{text:?} was accepted as {expr:?}"),
            Err(error) => error.to_string(),
        };
        for fragment in *fragments {
            assert!(
                message.contains(fragment),
                "{text:?}: message {message:?} lacks {fragment:?}"
            );
        }
        assert_eq!(message, message.trim_end_matches('.'), "trailing period");
    }
    assert!(REJECTED.len() >= 15);
}

#[test]
fn field_errors_carry_the_field() {
    match CronExpr::parse("0 0 * * 9") {
        Err(CronError::Field { field, token, .. }) => {
            assert_eq!(field, Field::DayOfWeek);
            assert_eq!(token, "9");
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn thousand_busy_firings_strictly_increase_across_dst() {
    let berlin: Tz = "Europe/Berlin".parse().unwrap();
    for text in [
        "*/7 */20 0-3 * * *",
        "*/5 1-3 1,15,28-31 * MON-FRI",
        "0,30 * * * 0,7",
    ] {
        let expr = CronExpr::parse(text).unwrap();
        // Start shortly before the 2026 spring-forward gap; later ones cross the fall-back.
        let start = instant("2026-03-28T22:00:00Z");
        let firings: Vec<DateTime<Utc>> = expr.iter_after(start, berlin).take(1000).collect();
        assert_eq!(firings.len(), 1000, "{text}");
        assert!(firings[0] > start, "{text}");
        for pair in firings.windows(2) {
            assert!(pair[0] < pair[1], "{text}: {} then {}", pair[0], pair[1]);
        }
    }
}

#[test]
fn utc_firings_agree_with_a_brute_force_matcher() {
    // Step minute by minute through 200 days and apply the standard rules directly.
    let exprs = [
        "*/17 3-5,22 * * *",
        "0 0 1,15 * 3",
        "10 10 */3 * SAT-SUN",
        "59 23 28-31 feb,JUN *",
        "0 12 13 * FRI",
        "5 4 * * 7",
    ];
    let start = instant("2027-12-20T00:00:00Z");
    for text in exprs {
        let expr = CronExpr::parse(text).unwrap();
        let fields: Vec<&str> = text.split_whitespace().collect();
        let end = start + Duration::days(200);
        let mut expected = Vec::new();
        let mut at = start + Duration::minutes(1);
        while at < end {
            if brute_match(&expr, fields[2], fields[4], at) {
                expected.push(at);
            }
            at += Duration::minutes(1);
        }
        let got: Vec<DateTime<Utc>> = expr
            .iter_after(start, Tz::UTC)
            .take_while(|t| *t < end)
            .collect();
        assert!(!expected.is_empty(), "{text}");
        assert_eq!(got, expected, "{text}");
    }
}

#[test]
fn no_firings_after_the_cron_crates_last_year() {
    let expr = CronExpr::parse("@yearly").unwrap();
    let all: Vec<_> = expr
        .iter_after(instant("2098-06-01T00:00:00Z"), Tz::UTC)
        .collect();
    assert_eq!(
        all,
        [
            instant("2099-01-01T00:00:00Z"),
            instant("2100-01-01T00:00:00Z")
        ]
    );
    assert_eq!(
        expr.next_after(instant("2100-01-01T00:00:00Z"), Tz::UTC),
        None
    );
}

#[test]
fn display_and_as_str_keep_the_trimmed_text() {
    let expr: CronExpr = "  0 6 * * mon-FRI \n".parse().unwrap();
    assert_eq!(expr.as_str(), "0 6 * * mon-FRI");
    assert_eq!(expr.to_string(), "0 6 * * mon-FRI");
}

#[test]
fn equality_is_textual_and_same_schedule_is_semantic() {
    let parse = |text: &str| CronExpr::parse(text).unwrap();
    assert_eq!(parse("@daily"), parse(" @daily "));
    assert_ne!(parse("@daily"), parse("0 0 * * *"));
    let same = [
        ("@daily", "0 0 * * *"),
        ("@weekly", "0 0 * * 7"),
        ("0 6 * * MON-FRI", "0 6 * * 1-5"),
        ("0 6 * * *", "0 0 6 * * *"),
        ("*/20 * * * *", "0,20,40 * * * *"),
    ];
    for (left, right) in same {
        assert!(
            parse(left).same_schedule(&parse(right)),
            "{left} vs {right}"
        );
    }
    assert!(!parse("0 6 * * MON").same_schedule(&parse("0 6 * * TUE")));
}

#[test]
fn serde_reads_a_string_and_reports_the_field() {
    let text: StrDeserializer<'_, ValueError> = "30 5 * * *".into_deserializer();
    let expr = CronExpr::deserialize(text).unwrap();
    assert_eq!(expr.as_str(), "30 5 * * *");
    let bad: StrDeserializer<'_, ValueError> = "30 24 * * *".into_deserializer();
    let error = CronExpr::deserialize(bad).unwrap_err().to_string();
    assert!(error.contains("hour field \"24\""), "{error}");
}

/// Parses an RFC 3339 instant from the table.
fn instant(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text.trim())
        .unwrap_or_else(|e| panic!("bad instant {text:?}: {e}"))
        .to_utc()
}

/// Formats instants in the zone of the case, for failure messages.
fn show(instants: &[DateTime<Utc>], tz: Tz) -> String {
    let items: Vec<String> = instants
        .iter()
        .map(|t| t.with_timezone(&tz).to_rfc3339())
        .collect();
    items.join(" ")
}

/// Whether a UTC minute matches, by the standard rules applied to the parsed value sets.
fn brute_match(expr: &CronExpr, dom_text: &str, dow_text: &str, at: DateTime<Utc>) -> bool {
    let spec = &expr.spec;
    let has = |set: &BTreeSet<u32>, value: u32| set.contains(&value);
    let dom = has(&spec.days_of_month, at.day());
    let dow = has(&spec.days_of_week, at.weekday().num_days_from_sunday());
    let day = if dom_text.starts_with('*') || dow_text.starts_with('*') {
        dom && dow
    } else {
        dom || dow
    };
    at.second() == 0
        && has(&spec.minutes, at.minute())
        && has(&spec.hours, at.hour())
        && has(&spec.months, at.month())
        && day
}
