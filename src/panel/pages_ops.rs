//! Broadcast, log and report pages: play now, emergency (a confirmation checkbox, and a
//! dialog when script runs), stop; the log filtered by date, campaign and outcome with a
//! CSV link; the per-campaign report ready to print and hand in.

use std::collections::HashMap;
use std::fmt::Write;

use axum::extract::{Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use chrono::{NaiveDate, TimeZone};

use super::auth::PageUser;
use super::body::Path;
use super::i18n::Lang;
use super::pages::{csrf_field, esc, local, page};
use super::report_api::{LogFilter, campaign_report, filtered};
use super::{ApiError, PanelState, audit, pending_api};
use crate::engine::Command;
use crate::model::{CampaignId, Origin, PlaylistId, Priority};
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
    let playlists = state.store.playlists()?;
    let status = state.engine.status();
    let mut body = String::new();
    for (key, word) in [
        ("sent", "sent"),
        ("held", "held for approval"),
        ("rejected", "request rejected"),
        ("expired", "request expired"),
        ("changed", "content changed"),
    ] {
        if q.contains_key(key) {
            let _ = write!(body, "<p class=\"ok\" role=\"status\">{}</p>", lang.t(word));
        }
    }
    let _ = write!(
        body,
        "<div class=\"card\"><h2>{}</h2><p>{}</p></div>",
        lang.t("on air"),
        status.on_air.as_ref().map_or_else(
            || lang.t("nothing on air").to_owned(),
            |a| format!("#{} ({})", a.playlist, local(&state, a.scheduled_at))
        )
    );
    body.push_str(&pending_api::section(&state, &user, lang)?);
    if user.role < Role::Editor {
        return Ok(page(
            lang,
            Some(&user),
            lang.t("broadcast"),
            "/broadcast",
            &body,
        ));
    }
    let options: String = playlists
        .iter()
        .filter(|p| !p.items.is_empty())
        .map(|p| format!("<option value=\"{}\">{}</option>", p.id, esc(&p.name)))
        .collect();
    let _ = write!(
        body,
        "<h2>{play}</h2><form method=\"post\" action=\"/broadcast/play\">{csrf}\
         <input type=\"hidden\" name=\"priority\" value=\"normal\">\
         <label for=\"b-playlist\">{playlist}</label><select id=\"b-playlist\" name=\"playlist\">{options}</select>\
         <p><button type=\"submit\">{play}</button></p></form>\
         <h2>{emergency}</h2><form method=\"post\" action=\"/broadcast/play\" data-confirm=\"{confirm}\">{csrf}\
         <input type=\"hidden\" name=\"priority\" value=\"emergency\">\
         <label for=\"e-playlist\">{playlist}</label><select id=\"e-playlist\" name=\"playlist\">{options}</select>\
         <label><input type=\"checkbox\" name=\"confirm\" value=\"yes\" required> {confirm}</label>\
         <p><button type=\"submit\" class=\"danger\">{emergency}</button></p></form>\
         <h2>{stop}</h2><form method=\"post\" action=\"/broadcast/stop\">{csrf}\
         <p><button type=\"submit\" class=\"secondary\">{stop}</button></p></form>",
        play = lang.t("play now"),
        csrf = csrf_field(&user),
        playlist = lang.t("playlist"),
        emergency = lang.t("emergency broadcast"),
        confirm = lang.t("confirm emergency"),
        stop = lang.t("stop"),
    );
    Ok(page(
        lang,
        Some(&user),
        lang.t("broadcast"),
        "/broadcast",
        &body,
    ))
}

/// `POST /broadcast/play` (form, editor). An emergency needs the confirmation box.
async fn play(
    State(state): State<PanelState>,
    PageUser(user): PageUser,
    Form(f): Form<Params>,
) -> Result<Response, ApiError> {
    user.require(Role::Editor)?;
    let priority = match f.get("priority").map(String::as_str) {
        Some("emergency") => Priority::Emergency,
        Some("priority") => Priority::Priority,
        _ => Priority::Normal,
    };
    if priority == Priority::Emergency && f.get("confirm").map(String::as_str) != Some("yes") {
        return Err(ApiError::unprocessable(
            "an emergency broadcast needs the confirmation box ticked",
        ));
    }
    let id: i64 = f
        .get("playlist")
        .and_then(|p| p.parse().ok())
        .ok_or_else(|| ApiError::unprocessable("choose a playlist"))?;
    let requested = pending_api::request(&state, &user, PlaylistId(id), priority, None)?;
    Ok(match requested {
        pending_api::Requested::Sent => Redirect::to("/broadcast?sent=1"),
        pending_api::Requested::Held(_) => Redirect::to("/broadcast?held=1#pending"),
    }
    .into_response())
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
    Ok(Redirect::to("/broadcast?sent=1").into_response())
}

/// `GET /log?from=YYYY-MM-DD&to=YYYY-MM-DD&campaign=&outcome=`.
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
    let from = day("from", today - chrono::Duration::days(7));
    let to = day("to", today);
    let start = |d: NaiveDate| {
        d.and_hms_opt(0, 0, 0)
            .and_then(|t| tz.from_local_datetime(&t).earliest())
            .map(|t| t.fixed_offset())
    };
    let campaign = q.get("campaign").and_then(|c| c.parse::<i64>().ok());
    let outcome = q.get("outcome").filter(|o| !o.is_empty()).cloned();
    let filter = LogFilter {
        from: start(from),
        to: start(to + chrono::Duration::days(1)),
        campaign,
        outcome: outcome.clone(),
    };
    let rows = filtered(&state, &filter)?;
    let campaigns = state.store.campaigns()?;
    let mut body = format!(
        "<form method=\"get\" action=\"/log\"><label for=\"l-from\">{}</label>\
         <input id=\"l-from\" type=\"date\" name=\"from\" value=\"{from}\">\
         <label for=\"l-to\">{}</label><input id=\"l-to\" type=\"date\" name=\"to\" value=\"{to}\">\
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
    for o in [
        "played",
        "partial",
        "interrupted",
        "skipped",
        "missed",
        "failed",
    ] {
        let sel = if outcome.as_deref() == Some(o) {
            " selected"
        } else {
            ""
        };
        let _ = write!(body, "<option{sel}>{o}</option>");
    }
    let mut csv = format!(
        "/api/log.csv?from={}&to={}",
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
         <div class=\"scroll\"><table id=\"log\"><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>",
        lang.t("filter"),
        esc(&csv),
        lang.t("csv"),
        lang.t("scheduled"),
        lang.t("outcome"),
        lang.t("clips"),
        lang.t("user"),
    );
    let on_air = state.engine.status().on_air.map(|a| a.scheduled_at);
    for r in rows.iter().rev() {
        let clips: Vec<String> = r.clips.iter().map(|c| esc(&c.title)).collect();
        // The claimed row of the broadcast on air still holds its provisional outcome.
        let live = on_air.is_some_and(|due| is_unfinished_claim(r, due));
        let (outcome, detail) = if live {
            (lang.t("outcome on air"), "")
        } else {
            (lang.outcome(r.outcome.code()), r.outcome.detail())
        };
        let who = match &r.origin {
            Origin::Manual { requested_by } => esc(requested_by),
            Origin::Scheduled { programme } => format!("#{programme}"),
        };
        let _ = write!(
            body,
            "<tr><td>{}</td><td>{outcome} <span class=\"muted\">{}</span></td><td>{}</td><td>{who}</td></tr>",
            local(&state, r.scheduled_at),
            esc(detail),
            clips.join(", "),
        );
    }
    body.push_str("</tbody></table></div>");
    Ok(page(lang, Some(&user), lang.t("log"), "/log", &body))
}

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
