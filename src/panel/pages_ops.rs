//! Broadcast, log and report pages: play now or at a time, emergency (a confirmation
//! checkbox, and a dialog when script runs), and Stop at the top of the page; a request
//! that cannot air is refused in the page with the reason (`airable`) and what was typed
//! kept. The log filtered by date, campaign and outcome (an emergency that broke a station
//! rule says which) with a CSV link; the per-campaign report ready to print and hand in.

use std::collections::HashMap;
use std::fmt::Write;

use axum::extract::{Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use chrono::{NaiveDate, TimeZone};

use super::airable::{Refused, Unairable};
use super::auth::{PageUser, Principal};
use super::body::Path;
use super::i18n::Lang;
use super::pages::{csrf_field, esc, local, outcome_html, page};
use super::report_api::{LogFilter, campaign_report, filtered, programme_names};
use super::{ApiError, PanelState, audit, pending_api};
use crate::engine::Command;
use crate::model::{CampaignId, Origin, PlaylistId, Priority, ProgrammeId};
use crate::store::{Role, is_unfinished_claim};

type Params = HashMap<String, String>;

/// The broadcast, log and report page routes.
pub(super) fn routes() -> Router<PanelState> {
    Router::new()
        .route("/broadcast", get(broadcast))
        .route("/broadcast/play", post(play))
        .route("/broadcast/stop", post(stop))
        .route("/log", get(log))
        .route("/report/{id}", get(report))
}

/// `GET /broadcast`.
async fn broadcast(
    State(state): State<PanelState>,
    PageUser(user): PageUser,
    lang: Lang,
    Query(q): Query<Params>,
) -> Result<Html<String>, ApiError> {
    let mut notice = String::new();
    for (key, word) in [
        ("sent", "sent"),
        ("sent_at", "sent at"),
        ("stopped", "stopped"),
        ("held", "held for approval"),
        ("rejected", "request rejected"),
        ("expired", "request expired"),
        ("changed", "content changed"),
    ] {
        if q.contains_key(key) {
            let _ = write!(
                notice,
                "<p class=\"ok\" role=\"status\">{}</p>",
                lang.t(word)
            );
        }
    }
    broadcast_page(&state, &user, lang, &notice, &Typed::default())
}

/// What was typed into the play form, shown again with a refusal.
#[derive(Default)]
struct Typed {
    playlist: Option<i64>,
    at: String,
}

/// The broadcast page: `notice` (already HTML) on top, then what is on air with the Stop
/// button — first, so that on a phone it is on screen without scrolling — the requests
/// waiting for approval, and the forms.
fn broadcast_page(
    state: &PanelState,
    user: &Principal,
    lang: Lang,
    notice: &str,
    typed: &Typed,
) -> Result<Html<String>, ApiError> {
    let playlists = state.store.playlists()?;
    let status = state.engine.status();
    let mut body = notice.to_owned();
    let on_air = status.on_air.as_ref().map_or_else(
        || lang.t("nothing on air").to_owned(),
        |a| {
            let what = match a.programme {
                Some(id) => state
                    .store
                    .programme(ProgrammeId(id))
                    .map_or_else(|_| format!("#{id}"), |p| p.name),
                None => format!("{}: {}", lang.t("manual broadcast"), a.playlist_name),
            };
            format!("{} ({})", esc(&what), local(state, a.scheduled_at))
        },
    );
    let _ = write!(
        body,
        "<div class=\"card on-air-stop\"><h2>{}</h2><p>{on_air}</p>{}</div>",
        lang.t("on air"),
        stop_form(user, lang),
    );
    body.push_str(&pending_api::section(state, user, lang)?);
    if user.role < Role::Editor {
        return Ok(page(
            lang,
            Some(user),
            lang.t("broadcast"),
            "/broadcast",
            &body,
        ));
    }
    let options = |chosen: Option<i64>| -> String {
        playlists
            .iter()
            .filter(|p| !p.items.is_empty())
            .map(|p| {
                let sel = if Some(p.id.0) == chosen {
                    " selected"
                } else {
                    ""
                };
                format!("<option value=\"{}\"{sel}>{}</option>", p.id, esc(&p.name))
            })
            .collect()
    };
    let _ = write!(
        body,
        "<h2>{play}</h2><form id=\"play-form\" method=\"post\" action=\"/broadcast/play\">{csrf}\
         <input type=\"hidden\" name=\"priority\" value=\"normal\">\
         <label for=\"b-playlist\">{playlist}</label><select id=\"b-playlist\" name=\"playlist\">{normal_options}</select>\
         <label for=\"b-at\">{play_at}</label><input id=\"b-at\" name=\"at\" type=\"datetime-local\" value=\"{at}\">\
         <p><button type=\"submit\">{play}</button></p></form>\
         <h2>{emergency}</h2><form method=\"post\" action=\"/broadcast/play\" data-confirm=\"{confirm}\">{csrf}\
         <input type=\"hidden\" name=\"priority\" value=\"emergency\">\
         <label for=\"e-playlist\">{playlist}</label><select id=\"e-playlist\" name=\"playlist\">{emergency_options}</select>\
         <label><input type=\"checkbox\" name=\"confirm\" value=\"yes\" required> {confirm}</label>\
         <p><button type=\"submit\" class=\"danger\">{emergency}</button></p></form>",
        play = lang.t("play now"),
        csrf = csrf_field(user),
        playlist = lang.t("playlist"),
        normal_options = options(typed.playlist),
        emergency_options = options(None),
        play_at = lang.t("play at"),
        at = esc(&typed.at),
        emergency = lang.t("emergency broadcast"),
        confirm = lang.t("confirm emergency"),
    );
    Ok(page(
        lang,
        Some(user),
        lang.t("broadcast"),
        "/broadcast",
        &body,
    ))
}

/// The Stop form for editors (empty for others): what is on air stops, manual broadcasts
/// waiting for the air are cancelled.
pub(super) fn stop_form(user: &Principal, lang: Lang) -> String {
    if user.role < Role::Editor {
        return String::new();
    }
    format!(
        "<form class=\"stop\" method=\"post\" action=\"/broadcast/stop\">{}\
         <button type=\"submit\" class=\"danger\">{}</button></form>",
        csrf_field(user),
        lang.t("stop"),
    )
}

/// `POST /broadcast/play` (form, editor): play now, at the typed local time, or an
/// emergency (which needs the confirmation box). A request that cannot air is refused in
/// the page, with the reason in the page's language and what was typed kept.
async fn play(
    State(state): State<PanelState>,
    PageUser(user): PageUser,
    lang: Lang,
    Form(f): Form<Params>,
) -> Result<Response, ApiError> {
    user.require(Role::Editor)?;
    let priority = match f.get("priority").map(String::as_str) {
        Some("emergency") => Priority::Emergency,
        Some("priority") => Priority::Priority,
        _ => Priority::Normal,
    };
    let typed = Typed {
        playlist: f.get("playlist").and_then(|p| p.parse().ok()),
        at: f.get("at").map(|t| t.trim().to_owned()).unwrap_or_default(),
    };
    let refuse = |reason: &str| refused(&state, &user, lang, reason, &typed);
    if priority == Priority::Emergency && f.get("confirm").map(String::as_str) != Some("yes") {
        return refuse(lang.t("confirm emergency first"));
    }
    let Some(id) = typed.playlist else {
        return refuse(lang.t("choose a playlist"));
    };
    let at = match typed.at.as_str() {
        "" => None,
        text => match local_instant(&state, text) {
            Some(t) if t < state.clock.now() - chrono::Duration::minutes(1) => {
                return refuse(lang.t("time passed form"));
            }
            Some(t) => Some(t),
            None => return refuse(lang.t("bad time")),
        },
    };
    match pending_api::request(&state, &user, PlaylistId(id), priority, at) {
        Ok(pending_api::Requested::Sent) if at.is_some() => {
            Ok(Redirect::to("/broadcast?sent_at=1").into_response())
        }
        Ok(pending_api::Requested::Sent) => Ok(Redirect::to("/broadcast?sent=1").into_response()),
        Ok(pending_api::Requested::Held(_)) => {
            Ok(Redirect::to("/broadcast?held=1#pending").into_response())
        }
        Err(Refused::Cannot(why)) => refuse(&why.words(lang)),
        Err(Refused::Other(e)) => Err(e),
    }
}

/// The broadcast page with a refusal on top: `reason` in the page's language.
fn refused(
    state: &PanelState,
    user: &Principal,
    lang: Lang,
    reason: &str,
    typed: &Typed,
) -> Result<Response, ApiError> {
    let notice = format!(
        "<div class=\"alert\" role=\"alert\" id=\"refusal\"><strong>{}</strong><p>{}</p></div>",
        lang.t("refused"),
        esc(reason)
    );
    Ok(broadcast_page(state, user, lang, &notice, typed)?.into_response())
}

/// The broadcast page saying why a request could not air (an approval refused because
/// the request cannot air now).
pub(super) fn cannot_air(
    state: &PanelState,
    user: &Principal,
    lang: Lang,
    why: &Unairable,
) -> Result<Response, ApiError> {
    refused(state, user, lang, &why.words(lang), &Typed::default())
}

/// A `datetime-local` value (`2026-06-01T06:30`, seconds optional) in the station's zone.
fn local_instant(state: &PanelState, text: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    let naive = chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M")
        .or_else(|_| chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S"))
        .ok()?;
    state
        .config
        .station
        .time_zone
        .from_local_datetime(&naive)
        .earliest()
        .map(|t| t.to_utc())
}

/// `POST /broadcast/stop` (form, editor).
async fn stop(
    State(state): State<PanelState>,
    PageUser(user): PageUser,
) -> Result<Response, ApiError> {
    user.require(Role::Editor)?;
    state.engine.send(Command::Stop {
        requested_by: user.actor(),
    });
    audit(
        &state,
        &user,
        "broadcast.stop",
        String::new(),
        String::new(),
    );
    Ok(Redirect::to("/broadcast?stopped=1").into_response())
}

/// `GET /log?from=YYYY-MM-DD&to=YYYY-MM-DD&campaign=&outcome=`. Dates given the wrong
/// way round are swapped, and the page says so (never an error page).
async fn log(
    State(state): State<PanelState>,
    PageUser(user): PageUser,
    lang: Lang,
    Query(q): Query<Params>,
) -> Result<Html<String>, ApiError> {
    let tz = state.config.station.time_zone;
    let today = state.clock.now().with_timezone(&tz).date_naive();
    let day = |k: &str, default: NaiveDate| {
        q.get(k)
            .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
            .unwrap_or(default)
    };
    let (mut from, mut to) = (
        day("from", today - chrono::Duration::days(7)),
        day("to", today),
    );
    let mut body = String::new();
    if to < from {
        std::mem::swap(&mut from, &mut to);
        let _ = write!(
            body,
            "<p class=\"warn\" role=\"status\">{}</p>",
            lang.t("dates swapped")
        );
    }
    let start = |d: NaiveDate| {
        d.and_hms_opt(0, 0, 0)
            .and_then(|t| tz.from_local_datetime(&t).earliest())
            .map(|t| t.fixed_offset())
    };
    let campaign = q.get("campaign").and_then(|c| c.parse::<i64>().ok());
    let outcome = q
        .get("outcome")
        .filter(|o| OUTCOMES.contains(&o.as_str()))
        .cloned();
    let filter = LogFilter {
        from: start(from),
        to: start(to + chrono::Duration::days(1)),
        campaign,
        outcome: outcome.clone(),
    };
    let rows = filtered(&state, &filter)?;
    let names = programme_names(&state, &rows);
    let campaigns = state.store.campaigns()?;
    let _ = write!(
        body,
        "<form method=\"get\" action=\"/log\"><div class=\"pair\"><span><label for=\"l-from\">{}</label>\
         <input id=\"l-from\" type=\"date\" name=\"from\" value=\"{from}\"></span>\
         <span><label for=\"l-to\">{}</label><input id=\"l-to\" type=\"date\" name=\"to\" value=\"{to}\"></span></div>\
         <label for=\"l-campaign\">{}</label><select id=\"l-campaign\" name=\"campaign\"><option value=\"\">{}</option>",
        lang.t("from"),
        lang.t("to"),
        lang.t("campaign"),
        lang.t("all"),
    );
    for c in &campaigns {
        let sel = if Some(c.id.0) == campaign {
            " selected"
        } else {
            ""
        };
        let _ = write!(
            body,
            "<option value=\"{}\"{sel}>{}</option>",
            c.id,
            esc(&c.name)
        );
    }
    let _ = write!(
        body,
        "</select><label for=\"l-outcome\">{}</label><select id=\"l-outcome\" name=\"outcome\"><option value=\"\">{}</option>",
        lang.t("outcome"),
        lang.t("all")
    );
    for o in OUTCOMES {
        let sel = if outcome.as_deref() == Some(o) {
            " selected"
        } else {
            ""
        };
        let _ = write!(
            body,
            "<option value=\"{o}\"{sel}>{}</option>",
            lang.outcome(o)
        );
    }
    let mut csv = format!(
        "/api/log.csv?lang={}&from={}&to={}",
        lang.code(),
        url_time(filter.from),
        url_time(filter.to)
    );
    if let Some(c) = campaign {
        let _ = write!(csv, "&campaign={c}");
    }
    if let Some(o) = &outcome {
        let _ = write!(csv, "&outcome={o}");
    }
    let _ = write!(
        body,
        "</select><p><button type=\"submit\">{}</button> <a class=\"button\" href=\"{}\">{}</a></p></form>\
         <p class=\"muted\">{} {}</p>\
         <div class=\"scroll\"><table id=\"log\" class=\"stack\"><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>",
        lang.t("filter"),
        esc(&csv),
        lang.t("csv"),
        rows.len(),
        lang.t("log rows"),
        lang.t("scheduled"),
        lang.t("outcome"),
        lang.t("clips"),
        lang.t("origin"),
    );
    let on_air = state.engine.status().on_air.map(|a| a.scheduled_at);
    for r in rows.iter().rev() {
        let clips: Vec<String> = r.clips.iter().map(|c| esc(&c.title)).collect();
        // The claimed row of the broadcast on air still holds its provisional outcome.
        let live = on_air.is_some_and(|due| is_unfinished_claim(r, due));
        let outcome = if live {
            lang.t("outcome on air").to_owned()
        } else {
            outcome_html(lang, r)
        };
        let who = match &r.origin {
            Origin::Manual { requested_by } => {
                format!("{}: {}", lang.t("manual broadcast"), esc(requested_by))
            }
            Origin::Scheduled { programme } => esc(names.get(programme).map_or("", String::as_str)),
        };
        let _ = write!(
            body,
            "<tr data-outcome=\"{}\"><td>{}</td><td>{outcome}</td><td>{}</td><td>{who}</td></tr>",
            r.outcome.code(),
            local(&state, r.scheduled_at),
            clips.join(", "),
        );
    }
    body.push_str("</tbody></table></div>");
    Ok(page(lang, Some(&user), lang.t("log"), "/log", &body))
}

/// The outcome codes the log can be filtered by.
const OUTCOMES: [&str; 6] = [
    "played",
    "partial",
    "interrupted",
    "skipped",
    "missed",
    "failed",
];

fn url_time(t: Option<chrono::DateTime<chrono::FixedOffset>>) -> String {
    t.map(|t| t.to_rfc3339().replace('+', "%2B"))
        .unwrap_or_default()
}

/// `GET /report/{campaign}`: the report to hand in.
async fn report(
    State(state): State<PanelState>,
    PageUser(user): PageUser,
    lang: Lang,
    Path(id): Path<i64>,
) -> Result<Html<String>, ApiError> {
    let r = campaign_report(&state, CampaignId(id))?;
    let mut body = format!(
        "<h2>{} — {}</h2><p>{}</p><p>{} – {}</p><h2>{}</h2><div class=\"scroll\"><table>\
         <thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>",
        lang.t("report"),
        esc(&r.campaign.name),
        esc(&r.campaign.theme),
        r.campaign.dates.start.format("%d/%m/%Y"),
        r.campaign.dates.end.format("%d/%m/%Y"),
        lang.t("clips"),
        lang.t("title"),
        lang.t("times aired"),
        lang.t("minutes aired"),
        lang.t("first aired"),
        lang.t("last aired"),
    );
    for c in &r.clips {
        let _ = write!(
            body,
            "<tr><td>{}</td><td>{}</td><td>{:.1}</td><td>{}</td><td>{}</td></tr>",
            esc(&c.title),
            c.times_aired,
            c.minutes_aired,
            local(&state, c.first_aired),
            local(&state, c.last_aired)
        );
    }
    let _ = write!(
        body,
        "</tbody></table></div><h2>{}</h2><div class=\"scroll\"><table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>",
        lang.t("per day"),
        lang.t("start"),
        lang.t("broadcasts"),
        lang.t("minutes"),
        lang.t("not aired"),
    );
    for d in &r.days {
        let _ = write!(
            body,
            "<tr><td>{}</td><td>{}</td><td>{:.1}</td><td>{}</td></tr>",
            d.date.format("%d/%m/%Y"),
            d.broadcasts,
            d.minutes,
            d.not_aired
        );
    }
    let _ = write!(
        body,
        "</tbody></table></div><p><a class=\"button\" href=\"/api/log.csv?campaign={id}&from=2000-01-01T00:00:00%2B00:00\">{}</a></p>",
        lang.t("csv")
    );
    Ok(page(
        lang,
        Some(&user),
        lang.t("report"),
        "/campaigns",
        &body,
    ))
}
