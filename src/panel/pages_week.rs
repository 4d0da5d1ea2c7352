//! The week calendar (`GET /schedule`): Monday to Sunday around any date chosen directly
//! (a date field, plus previous / next week and today). What is still ahead comes from the
//! plan (`api::schedule_items`: will air, or will be skipped and by which station rule);
//! what is past comes from the broadcast log (aired, missed, failed, skipped, with the
//! reason in the page's language from `words`), manual broadcasts included. It decides
//! nothing itself: the verdicts are `schedule`'s and the outcomes are the log's.

use std::collections::HashMap;
use std::fmt::Write;

use axum::Router;
use axum::extract::{Query, State};
use axum::response::Html;
use axum::routing::get;
use chrono::{DateTime, Datelike, NaiveDate, Utc};

use super::api::schedule_items;
use super::auth::PageUser;
use super::i18n::Lang;
use super::pages::{esc, outcome_html, page};
use super::report_api::programme_names;
use super::words::rule_words;
use super::{ApiError, PanelState};
use crate::model::{LogEntry, Origin};
use crate::store::is_unfinished_claim;

/// The week page route.
pub(super) fn routes() -> Router<PanelState> {
    Router::new().route("/schedule", get(week))
}

/// One line of a day: its local time and its HTML.
struct Line {
    at: String,
    html: String,
}

/// `GET /schedule?week=YYYY-MM-DD`: the week (Monday to Sunday) containing that date.
async fn week(
    State(state): State<PanelState>,
    PageUser(user): PageUser,
    lang: Lang,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Html<String>, ApiError> {
    let tz = state.config.station.time_zone;
    let now = state.clock.now();
    let today = now.with_timezone(&tz).date_naive();
    let chosen = q
        .get("week")
        .and_then(|w| NaiveDate::parse_from_str(w, "%Y-%m-%d").ok());
    let day = chosen.unwrap_or(today);
    let monday = day - chrono::Duration::days(i64::from(day.weekday().num_days_from_monday()));
    let midnight = |d: NaiveDate| {
        d.and_hms_opt(0, 0, 0)
            .and_then(|t| t.and_local_timezone(tz).earliest())
            .map(|t| t.to_utc())
            .ok_or_else(|| ApiError::bad_request("no such week"))
    };
    let start = midnight(monday)?;
    let end = midnight(monday + chrono::Duration::days(7))?;
    let mut lines: Vec<Line> = Vec::new();
    if end > now {
        for item in schedule_items(&state, start.max(now), end)? {
            let (class, note) = match (item.verdict, &item.rule) {
                ("skip", Some(r)) => (
                    " skip",
                    format!(
                        "<br>{}: {}",
                        lang.t("would skip"),
                        esc(&rule_words(lang, r))
                    ),
                ),
                ("air_breaking_rule", Some(r)) => (
                    " breaks",
                    format!("<br>{}: {}", lang.t("breaks"), esc(&rule_words(lang, r))),
                ),
                _ => ("", String::new()),
            };
            lines.push(Line {
                html: format!(
                    "<div class=\"occ{class}\"><strong>{}</strong> {}{note}</div>",
                    esc(item.at.get(11..16).unwrap_or("")),
                    esc(&item.name)
                ),
                at: item.at,
            });
        }
    }
    if start <= now {
        let rows = state.store.log_between(start, end.min(now))?;
        lines.extend(past_lines(&state, lang, &rows));
    }
    lines.sort_by_key(|l| DateTime::parse_from_rfc3339(&l.at).ok());
    let mut body = format!(
        "<h2>{week} {from} – {to}</h2>\
         <form class=\"week-nav\" method=\"get\" action=\"/schedule\">\
         <a class=\"button secondary\" href=\"/schedule?week={prev}\">← {prev_word}</a>\
         <span><label for=\"week-date\">{choose}</label>\
         <input id=\"week-date\" type=\"date\" name=\"week\" value=\"{day}\" required></span>\
         <button type=\"submit\">{show}</button>\
         <a class=\"button secondary\" href=\"/schedule?week={next}\">{next_word} →</a>\
         <a class=\"button secondary\" href=\"/schedule\">{today_word}</a></form>\
         <p class=\"muted\">{legend}</p><div class=\"week\">",
        week = lang.t("week"),
        from = monday.format("%d/%m/%Y"),
        to = (monday + chrono::Duration::days(6)).format("%d/%m/%Y"),
        prev = monday - chrono::Duration::days(7),
        prev_word = lang.t("previous week"),
        choose = lang.t("choose date"),
        show = lang.t("show"),
        next = monday + chrono::Duration::days(7),
        next_word = lang.t("next week"),
        today_word = lang.t("this week"),
        legend = lang.t("week legend"),
    );
    for offset in 0..7 {
        let date = monday + chrono::Duration::days(offset);
        let key = ["day0", "day1", "day2", "day3", "day4", "day5", "day6"]
            [date.weekday().num_days_from_sunday() as usize];
        let _ = write!(
            body,
            "<section class=\"day{}\" data-date=\"{date}\"><h3>{} {}</h3>",
            if date == today { " today" } else { "" },
            lang.t(key),
            date.format("%d/%m")
        );
        let prefix = date.format("%Y-%m-%d").to_string();
        let mut any = false;
        for line in lines.iter().filter(|l| l.at.starts_with(&prefix)) {
            body.push_str(&line.html);
            any = true;
        }
        if !any {
            let _ = write!(
                body,
                "<p class=\"muted\">{}</p>",
                lang.t("nothing this day")
            );
        }
        body.push_str("</section>");
    }
    body.push_str("</div>");
    Ok(page(
        lang,
        Some(&user),
        lang.t("schedule"),
        "/schedule",
        &body,
    ))
}

/// What the log says about the week's past: each row with its outcome and reason.
fn past_lines(state: &PanelState, lang: Lang, rows: &[LogEntry]) -> Vec<Line> {
    let tz = state.config.station.time_zone;
    let names = programme_names(state, rows);
    let on_air = state.engine.status().on_air.map(|a| a.scheduled_at);
    rows.iter()
        .map(|r| {
            let local = r.scheduled_at.with_timezone(&tz);
            let name = match &r.origin {
                Origin::Scheduled { programme } => {
                    esc(names.get(programme).map_or("", String::as_str))
                }
                Origin::Manual { requested_by } => {
                    format!("{}: {}", lang.t("manual broadcast"), esc(requested_by))
                }
            };
            // The claimed row of the broadcast on air still holds its provisional outcome.
            let live = on_air.is_some_and(|due: DateTime<Utc>| is_unfinished_claim(r, due));
            let (class, outcome) = if live {
                ("played", lang.t("outcome on air").to_owned())
            } else {
                (r.outcome.code(), outcome_html(lang, r))
            };
            Line {
                at: local.to_rfc3339(),
                html: format!(
                    "<div class=\"occ past {class}\"><strong>{}</strong> {name}<br>{outcome}</div>",
                    local.format("%H:%M"),
                ),
            }
        })
        .collect()
}
