//! The dashboard page: what is on air with its progress (clip n of m, elapsed / total, a
//! bar that `static/app.js` keeps moving by polling `/api/status`) and the Stop button,
//! the health checks of `/healthz` that are not OK as alerts with their fix (in Vietnamese
//! or English), the state cards (relay, clock — synchronised, or not and whether that is
//! required —, output, disk), missed or failed broadcasts of the last day, today's
//! remaining occurrences and the recent log.
//!
//! It decides no health itself: the checks come from [`crate::health::daemon_report`],
//! the same function `/healthz` and `/metrics` use.

use std::fmt::Write;

use axum::extract::State;
use axum::response::Html;
use chrono::{DateTime, Utc};

use super::PanelState;
use super::api::schedule_items;
use super::auth::{PageUser, Principal};
use super::i18n::Lang;
use super::pages::{esc, local, mmss, outcome_html, page};
use super::pages_ops::stop_form;
use super::words::{check_words, clock_words, rule_words};
use crate::engine::{EngineStatus, OnAirStatus};
use crate::health::{self, Level};
use crate::model::{LogEntry, ProgrammeId};
use crate::store::is_unfinished_claim;

/// `GET /`: the dashboard.
pub(super) async fn dashboard(
    State(state): State<PanelState>,
    PageUser(user): PageUser,
    lang: Lang,
) -> Html<String> {
    let now = state.clock.now();
    let status = state.engine.status().as_of(now);
    let report = super::health_report::report(&state, &status, now).await;
    let mut body = String::new();
    on_air_card(&mut body, &state, &user, lang, status.on_air.as_ref());
    health_alerts(&mut body, lang, &report);
    state_cards(
        &mut body,
        lang,
        &state.config.station.data_dir,
        &status,
        &report,
    );
    log_alerts(&mut body, &state, lang, &status, now);
    today(&mut body, &state, lang, now);
    recent(&mut body, &state, lang, &status, now);
    page(lang, Some(&user), lang.t("dashboard"), "/", &body)
}

/// The on-air card, first on the page, with the Stop button for editors while something
/// is on air. `data-key` names the broadcast shown, so the script reloads the page when
/// another one starts or this one ends; the words it needs come as data attributes.
fn on_air_card(
    out: &mut String,
    state: &PanelState,
    user: &Principal,
    lang: Lang,
    air: Option<&OnAirStatus>,
) {
    let key = air.map_or_else(String::new, |a| {
        format!("{}|{}", a.scheduled_at.timestamp_millis(), a.playlist)
    });
    let _ = write!(
        out,
        "<section id=\"on-air\" class=\"card wide{}\" data-key=\"{}\" data-clip-word=\"{}\" \
         data-chime-word=\"{}\" aria-live=\"polite\"><h2>{}</h2>",
        if air.is_some() { " ok" } else { "" },
        esc(&key),
        lang.t("clip n of m"),
        lang.t("chime playing"),
        lang.t("on air"),
    );
    let Some(a) = air else {
        let _ = write!(out, "<p>{}</p></section>", lang.t("nothing on air"));
        return;
    };
    let title = match a.programme {
        Some(id) => state
            .store
            .programme(ProgrammeId(id))
            .map_or_else(|_| format!("#{id}"), |p| p.name),
        None => format!("{}: {}", lang.t("manual broadcast"), a.playlist_name),
    };
    let clip = if a.clip == 0 {
        lang.t("chime playing").to_owned()
    } else {
        format!(
            "{} {}/{}: {}",
            lang.t("clip n of m"),
            a.clip,
            a.clips,
            a.clip_title.as_deref().unwrap_or("")
        )
    };
    let (elapsed, length) = (a.elapsed_ms.unwrap_or(0), a.length_ms.unwrap_or(0));
    let _ = write!(
        out,
        "<p><strong id=\"oa-title\">{}</strong> <span class=\"muted\">({})</span></p>\
         <p id=\"oa-clip\">{}</p>\
         <progress id=\"oa-bar\" max=\"{length}\" value=\"{elapsed}\"></progress>\
         <p id=\"oa-time\" class=\"time\">{} / {}</p>{}</section>",
        esc(&title),
        local(state, a.scheduled_at),
        esc(&clip),
        mmss(i64::try_from(elapsed).unwrap_or(0)),
        mmss(i64::try_from(length).unwrap_or(0)),
        stop_form(user, lang),
    );
}

/// Every check that is not OK, worst first, with what was found and the fix.
fn health_alerts(out: &mut String, lang: Lang, report: &health::Report) {
    let mut bad: Vec<&health::Check> = report
        .checks
        .iter()
        .filter(|c| c.level != Level::Ok)
        .collect();
    if bad.is_empty() {
        return;
    }
    bad.sort_by_key(|c| std::cmp::Reverse(c.level));
    let _ = write!(
        out,
        "<section id=\"health\"><h2>{}</h2>",
        lang.t("system problems")
    );
    for c in bad {
        let (headline, fix) = check_words(lang, c.name, c.level == Level::Problem);
        let class = if c.level == Level::Problem {
            "alert"
        } else {
            "warn"
        };
        let _ = write!(
            out,
            "<div class=\"{class}\" data-check=\"{}\"><strong>{}</strong>\
             <p class=\"detail\" lang=\"en\">{}</p><p><strong>{}:</strong> {}</p>",
            c.name,
            esc(headline),
            esc(&c.detail),
            lang.t("how to fix"),
            esc(fix),
        );
        // The technician's fix as `/healthz` words it (commands to type), when it adds one.
        if let (Lang::Vi, Some(f)) = (lang, &c.fix) {
            let _ = write!(
                out,
                "<p class=\"detail\" lang=\"en\"><code>{}</code></p>",
                esc(f)
            );
        }
        out.push_str("</div>");
    }
    out.push_str("</section>");
}

fn state_cards(
    out: &mut String,
    lang: Lang,
    data_dir: &std::path::Path,
    status: &EngineStatus,
    report: &health::Report,
) {
    let class = |name: &str| match report.get(name).map(|c| c.level) {
        Some(Level::Problem) => " alert",
        Some(Level::Warn) => " warn",
        _ => "",
    };
    let disk = health::disk_free(data_dir).map_or_else(
        |_| "?".to_owned(),
        |s| format!("{:.1} GB", s.free_bytes as f64 / 1024.0 / 1024.0 / 1024.0),
    );
    let _ = write!(
        out,
        "<section class=\"cards\">\
         <div class=\"card\"><h2>{}</h2><p>{}</p></div>\
         <div class=\"card{}\"><h2>{}</h2><p>{}</p></div>\
         <div class=\"card{}\"><h2>{}</h2><p>{}</p></div>\
         <div class=\"card{}\"><h2>{}</h2><p>{}</p></div></section>",
        lang.t("relay"),
        if status.relay_on {
            lang.t("on")
        } else {
            lang.t("off")
        },
        class("clock"),
        lang.t("clock"),
        clock_words(lang, report.get("clock").map_or(Level::Ok, |c| c.level)),
        class("output"),
        lang.t("output"),
        esc(&status.output),
        class("disk"),
        lang.t("disk"),
        esc(&disk),
    );
}

/// The engine's last error and missed or failed broadcasts of the last day.
fn log_alerts(
    out: &mut String,
    state: &PanelState,
    lang: Lang,
    status: &EngineStatus,
    now: DateTime<Utc>,
) {
    let rows = state
        .store
        .log_between(
            now - chrono::Duration::days(1),
            now + chrono::Duration::seconds(1),
        )
        .unwrap_or_default();
    let mut alerts: Vec<String> = Vec::new();
    if let Some(e) = &status.last_error {
        alerts.push(format!("{}: {}", lang.t("problem"), esc(e)));
    }
    for row in rows
        .iter()
        .filter(|r| matches!(r.outcome.code(), "missed" | "failed") && !live(r, status))
    {
        alerts.push(format!(
            "{} {}",
            local(state, row.scheduled_at),
            outcome_html(lang, row)
        ));
    }
    if !alerts.is_empty() {
        let _ = write!(out, "<h2>{}</h2>", lang.t("alerts"));
        for a in alerts {
            let _ = write!(out, "<p class=\"alert\">{a}</p>");
        }
    }
}

/// Today's remaining occurrences, with the rule that skips any of them.
fn today(out: &mut String, state: &PanelState, lang: Lang, now: DateTime<Utc>) {
    let tz = state.config.station.time_zone;
    let end_of_day = now
        .with_timezone(&tz)
        .date_naive()
        .succ_opt()
        .map_or(now + chrono::Duration::days(1), |d| {
            crate::schedule::local_midnight(d, tz)
        });
    let _ = write!(
        out,
        "<h2>{}</h2><div class=\"scroll\"><table id=\"today\">",
        lang.t("today")
    );
    let items = schedule_items(state, now, end_of_day).unwrap_or_default();
    if items.is_empty() {
        let _ = write!(out, "<tr><td>{}</td></tr>", lang.t("none"));
    }
    for item in items.iter().take(50) {
        let note = match (item.verdict, &item.rule) {
            ("skip", Some(r)) => format!(
                "<span class=\"skip\">{}: {}</span>",
                lang.t("skipped"),
                esc(&rule_words(lang, r))
            ),
            ("air_breaking_rule", Some(r)) => format!(
                "<span class=\"skip\">{}: {}</span>",
                lang.t("breaks"),
                esc(&rule_words(lang, r))
            ),
            _ => String::new(),
        };
        let at = item.at.get(11..16).unwrap_or(&item.at);
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{note}</td></tr>",
            esc(at),
            esc(&item.name)
        );
    }
    out.push_str("</table></div>");
}

/// Whether `row` is the claimed row of the broadcast on air (its outcome is provisional).
fn live(row: &LogEntry, status: &EngineStatus) -> bool {
    status
        .on_air
        .as_ref()
        .is_some_and(|a| is_unfinished_claim(row, a.scheduled_at))
}

fn recent(
    out: &mut String,
    state: &PanelState,
    lang: Lang,
    status: &EngineStatus,
    now: DateTime<Utc>,
) {
    let rows = state
        .store
        .log_between(
            now - chrono::Duration::days(7),
            now + chrono::Duration::seconds(1),
        )
        .unwrap_or_default();
    let _ = write!(
        out,
        "<h2>{}</h2><div class=\"scroll\"><table>",
        lang.t("recent")
    );
    if rows.is_empty() {
        let _ = write!(out, "<tr><td>{}</td></tr>", lang.t("none"));
    }
    for row in rows.iter().rev().take(20) {
        let outcome = if live(row, status) {
            lang.t("outcome on air").to_owned()
        } else {
            outcome_html(lang, row)
        };
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{outcome}</td></tr>",
            local(state, row.scheduled_at),
        );
    }
    out.push_str("</table></div>");
}
