//! Server-rendered HTML pages, Vietnamese by default with an English switch (`?lang=en`).
//! No script, no CDN: everything the page needs is in this response.

use std::fmt::Write;

use axum::extract::{Query, State};
use axum::response::Html;
use serde::Deserialize;

use super::PanelState;
use super::api::schedule_items;

#[derive(Debug, Deserialize)]
pub(super) struct LangQuery {
    lang: Option<String>,
}

/// The panel's words in one language.
struct Words {
    lang: &'static str,
    title: &'static str,
    on_air: &'static str,
    nothing_on_air: &'static str,
    relay: &'static str,
    on: &'static str,
    off: &'static str,
    clock: &'static str,
    synced: &'static str,
    not_synced: &'static str,
    output: &'static str,
    upcoming: &'static str,
    recent: &'static str,
    skipped: &'static str,
    breaks: &'static str,
    none: &'static str,
    switch: &'static str,
    problem: &'static str,
}

const VI: Words = Words {
    lang: "vi",
    title: "Bảng điều khiển",
    on_air: "Đang phát",
    nothing_on_air: "Không có chương trình nào đang phát",
    relay: "Rơ-le âm ly",
    on: "Bật",
    off: "Tắt",
    clock: "Đồng hồ",
    synced: "đã đồng bộ",
    not_synced: "CHƯA đồng bộ — lịch phát đang chờ",
    output: "Thiết bị âm thanh",
    upcoming: "Sắp phát (7 ngày tới)",
    recent: "Nhật ký phát thanh gần đây",
    skipped: "bỏ qua",
    breaks: "phát dù vi phạm",
    none: "Không có",
    switch: "English",
    problem: "Sự cố",
};

const EN: Words = Words {
    lang: "en",
    title: "Dashboard",
    on_air: "On air",
    nothing_on_air: "Nothing on air",
    relay: "Amplifier relay",
    on: "On",
    off: "Off",
    clock: "Clock",
    synced: "synchronised",
    not_synced: "NOT synchronised — the schedule is waiting",
    output: "Output device",
    upcoming: "Coming up (next 7 days)",
    recent: "Recent broadcast log",
    skipped: "skipped",
    breaks: "airs breaking",
    none: "None",
    switch: "Tiếng Việt",
    problem: "Problem",
};

/// `GET /`: the dashboard.
pub(super) async fn dashboard(
    State(state): State<PanelState>,
    Query(q): Query<LangQuery>,
) -> Html<String> {
    let w = if q.lang.as_deref() == Some("en") {
        &EN
    } else {
        &VI
    };
    let tz = state.config.station.time_zone;
    let status = state.engine.status();
    let now = state.clock.now();
    let mut body = String::new();
    let other = if w.lang == "vi" { "en" } else { "vi" };
    let _ = write!(
        body,
        "<!doctype html><html lang=\"{}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{} — {}</title><style>{CSS}</style></head><body>\
         <header><h1>{}</h1><a href=\"/?lang={other}\">{}</a></header><main>",
        w.lang,
        esc(&state.config.station.name),
        w.title,
        esc(&state.config.station.name),
        w.switch
    );
    let on_air = match &status.on_air {
        Some(a) => format!(
            "{} ({})",
            a.scheduled_at.with_timezone(&tz).format("%H:%M %d/%m"),
            a.playlist
        ),
        None => w.nothing_on_air.to_owned(),
    };
    let _ = write!(
        body,
        "<section class=\"cards\"><div class=\"card\"><h2>{}</h2><p>{}</p></div>\
         <div class=\"card\"><h2>{}</h2><p>{}</p></div>\
         <div class=\"card {}\"><h2>{}</h2><p>{}</p></div>\
         <div class=\"card {}\"><h2>{}</h2><p>{}</p></div></section>",
        w.on_air,
        esc(&on_air),
        w.relay,
        if status.relay_on { w.on } else { w.off },
        if status.clock_synchronised {
            ""
        } else {
            "alert"
        },
        w.clock,
        if status.clock_synchronised {
            w.synced
        } else {
            w.not_synced
        },
        if status.output_ok { "" } else { "alert" },
        w.output,
        esc(&status.output),
    );
    if let Some(e) = &status.last_error {
        let _ = write!(body, "<p class=\"alert\">{}: {}</p>", w.problem, esc(e));
    }
    let _ = write!(body, "<h2>{}</h2><table>", w.upcoming);
    let items = schedule_items(&state, now, now + chrono::Duration::days(7)).unwrap_or_default();
    if items.is_empty() {
        let _ = write!(body, "<tr><td>{}</td></tr>", w.none);
    }
    for item in items.iter().take(30) {
        let note = match (item.verdict, &item.rule) {
            ("skip", Some(r)) => format!("<span class=\"skip\">{}: {}</span>", w.skipped, esc(r)),
            ("air_breaking_rule", Some(r)) => {
                format!("<span class=\"skip\">{}: {}</span>", w.breaks, esc(r))
            }
            _ => String::new(),
        };
        let at = chrono::DateTime::parse_from_rfc3339(&item.at)
            .map(|t| t.format("%a %d/%m %H:%M").to_string())
            .unwrap_or_else(|_| item.at.clone());
        let _ = write!(
            body,
            "<tr><td>{}</td><td>{}</td><td>{note}</td></tr>",
            esc(&at),
            esc(&item.name)
        );
    }
    let _ = write!(body, "</table><h2>{}</h2><table>", w.recent);
    let log = state
        .store
        .log_between(now - chrono::Duration::days(7), now)
        .unwrap_or_default();
    if log.is_empty() {
        let _ = write!(body, "<tr><td>{}</td></tr>", w.none);
    }
    for row in log.iter().rev().take(30) {
        let _ = write!(
            body,
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            row.scheduled_at.with_timezone(&tz).format("%d/%m %H:%M"),
            row.outcome.code(),
            esc(row.outcome.detail())
        );
    }
    body.push_str("</table></main></body></html>");
    Html(body)
}

/// Escapes text for HTML.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

const CSS: &str = "body{font-family:system-ui,sans-serif;margin:0;background:#f6f7f9;color:#1b1f24}\
header{display:flex;justify-content:space-between;align-items:center;padding:.8rem 1rem;background:#8b1a1a;color:#fff}\
header a{color:#fff}h1{font-size:1.2rem;margin:0}main{padding:1rem;max-width:60rem;margin:auto}\
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(12rem,1fr));gap:.6rem}\
.card{background:#fff;border-radius:.4rem;padding:.6rem .8rem;box-shadow:0 1px 2px #0002}\
.card h2{font-size:.85rem;margin:0;color:#555}.alert{background:#fde8e8;color:#8b1a1a}\
table{width:100%;border-collapse:collapse;background:#fff}td{padding:.35rem .5rem;border-bottom:1px solid #eee}\
.skip{color:#a05a00}";
