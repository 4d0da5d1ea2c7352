//! Manual broadcasts and their approval: the one place a play-now, one-shot or emergency
//! request from the API or the broadcast page becomes an engine command, or — when the
//! station requires approval and the caller is an editor — a pending request that waits
//! for an approver. Also the pending list and the approve / reject routes (JSON and page
//! forms) and the page's pending section. It decides who may air what; it does not decide
//! when things play (the engine does) or store rows itself (the store does).
//!
//! Decisions: a request that cannot air (`airable`) is refused before it is sent or held,
//! and again at approval if it cannot air then (it keeps waiting); an approved play-now
//! airs at approval time; an approved one-shot airs at its instant, and one whose instant
//! has passed by then is refused (409 `expired`) and marked expired rather than aired late; an editor's emergency is held too (the station chose
//! approval) but listed first and marked urgent. Approvers, admins and bearer tokens air at
//! once. Approval binds content: the engine is given the playlist version that was
//! approved (the one the approver was shown, when the form or the call names it) and does
//! not play the broadcast if the playlist changed since.

use std::collections::HashMap;
use std::fmt::Write as _;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Json};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::airable::{self, Refused};
use super::auth::{ApiUser, PageUser, Principal};
use super::body::{OptionalJson, Path};
use super::i18n::Lang;
use super::pages::{clip_list, csrf_field, esc, local};
use super::{ApiError, PanelState, audit};
use crate::model::{PlaylistId, Priority};
use crate::store::{Decision, NewManualBroadcast, NewPendingBroadcast, PendingBroadcast, Role};

/// The pending-broadcast routes (API and page forms).
pub(super) fn routes() -> Router<PanelState> {
    Router::new()
        .route("/api/broadcasts/pending", get(list))
        .route("/api/broadcasts/pending/{id}/approve", post(approve_api))
        .route("/api/broadcasts/pending/{id}/reject", post(reject_api))
        .route("/broadcast/pending/{id}/approve", post(approve_page))
        .route("/broadcast/pending/{id}/reject", post(reject_page))
}

/// What became of a broadcast request.
pub(super) enum Requested {
    /// Sent to the engine.
    Sent,
    /// Held for an approver.
    Held(PendingBroadcast),
}

/// A pending request as the API shows it.
#[derive(Debug, Serialize)]
pub(super) struct PendingView {
    #[serde(flatten)]
    row: PendingBroadcast,
    /// The playlist's name (empty when it was removed since).
    playlist_name: String,
    /// An emergency: shown first and marked urgent.
    urgent: bool,
    /// `waiting_for_approval`.
    status: &'static str,
}

fn view(state: &PanelState, row: PendingBroadcast) -> PendingView {
    let playlist_name = state
        .store
        .playlist(row.playlist)
        .map(|p| p.name)
        .unwrap_or_default();
    PendingView {
        urgent: row.priority == Priority::Emergency,
        row,
        playlist_name,
        status: "waiting_for_approval",
    }
}

/// Whether this caller's broadcasts wait for an approver.
fn needs_approval(state: &PanelState, who: &Principal) -> bool {
    state.config.station.approval_required && who.role < Role::Approver
}

/// The one way a manual broadcast is asked for (editor): refuses at once what cannot air
/// (`airable::check`: the playlist, its files, the station rules at the requested instant),
/// then sends it to the engine or holds it for approval; either is written to the audit
/// trail. A held play-now is judged by the rules again when it is approved.
pub(super) fn request(
    state: &PanelState,
    who: &Principal,
    playlist: PlaylistId,
    priority: Priority,
    at: Option<DateTime<Utc>>,
) -> Result<Requested, Refused> {
    who.require(Role::Editor)?;
    let now = state.clock.now();
    let held = needs_approval(state, who);
    // Sent now, it starts at its instant or at once; held, a one-shot keeps its instant
    // and a play-now's is not known until it is approved.
    let starts = if held {
        at
    } else {
        Some(at.unwrap_or(now).max(now))
    };
    airable::check(state, playlist, priority, starts)?;
    let detail = format!(
        "{priority:?}{}",
        at.map(|t| format!(" at {}", t.to_rfc3339()))
            .unwrap_or_default()
    );
    if held {
        if let Some(t) = at.filter(|t| *t <= now) {
            return Err(Refused::Other(ApiError::unprocessable(format!(
                "the instant {} has passed; leave `at` out to play as soon as it is approved",
                t.to_rfc3339()
            ))));
        }
        let held = state.store.add_pending_broadcast(
            &NewPendingBroadcast {
                playlist,
                priority,
                at,
                requested_by: who.actor(),
            },
            now,
        )?;
        audit(
            state,
            who,
            "broadcast.hold",
            format!("pending broadcast {}", held.id),
            format!("playlist {playlist} {detail}; waits for an approver"),
        );
        return Ok(Requested::Held(held));
    }
    // With approval, even an approver's own broadcast airs only what it was asked with.
    let version = if state.config.station.approval_required {
        Some(
            state
                .store
                .playlist(playlist)
                .map_err(ApiError::from)?
                .version,
        )
    } else {
        None
    };
    send(state, playlist, version, priority, at, who.actor())?;
    audit(
        state,
        who,
        "broadcast.request",
        format!("playlist {playlist}"),
        detail,
    );
    Ok(Requested::Sent)
}

/// Writes the request among the broadcasts owed, durably, before it is acknowledged; the
/// engine takes it from there. An approved request carries the playlist version approved.
fn send(
    state: &PanelState,
    playlist: PlaylistId,
    playlist_version: Option<i64>,
    priority: Priority,
    at: Option<DateTime<Utc>>,
    requested_by: String,
) -> Result<(), ApiError> {
    state.store.request_broadcast(
        &NewManualBroadcast {
            playlist,
            playlist_version,
            priority,
            at,
            requested_by,
        },
        state.clock.now(),
    )?;
    Ok(())
}

/// The JSON answer to `POST /api/broadcasts`.
pub(super) fn answer(state: &PanelState, r: Requested) -> Response {
    let body = match r {
        Requested::Sent => serde_json::json!({"accepted": true, "status": "sent"}),
        Requested::Held(row) => serde_json::json!({
            "accepted": true,
            "status": "waiting_for_approval",
            "message": "the station requires approval: this broadcast airs when an approver approves it",
            "pending": view(state, row),
        }),
    };
    (StatusCode::ACCEPTED, Json(body)).into_response()
}

/// `GET /api/broadcasts/pending` (viewer): waiting requests, emergencies first.
async fn list(
    State(state): State<PanelState>,
    _: ApiUser,
) -> Result<Json<Vec<PendingView>>, ApiError> {
    let rows = state.store.pending_broadcasts()?;
    Ok(Json(rows.into_iter().map(|r| view(&state, r)).collect()))
}

/// Approves request `id`: it airs as if the approver had asked for it now, with the
/// playlist as it is now — or, with `seen`, only if the playlist is still at the version the
/// approver was shown (409 `changed` otherwise); it is bound to that version, so a later
/// change to the playlist withdraws it. One that cannot air now (`airable::check` at its
/// instant, or now for a play-now) is refused and keeps waiting, to be approved later or
/// rejected.
fn approve(
    state: &PanelState,
    who: &Principal,
    id: i64,
    seen: Option<i64>,
) -> Result<PendingBroadcast, Refused> {
    who.require(Role::Approver)?;
    let now = state.clock.now();
    let row = state
        .store
        .pending_broadcasts()?
        .into_iter()
        .find(|r| r.id == id)
        .ok_or_else(|| not_waiting(id))?;
    if let Some(at) = row.at.filter(|t| *t <= now) {
        state
            .store
            .decide_pending_broadcast(id, Decision::Expired, &who.actor(), now)?;
        audit(
            state,
            who,
            "broadcast.expire",
            format!("pending broadcast {id}"),
            format!("approved after its instant {} had passed", at.to_rfc3339()),
        );
        return Err(Refused::Other(ApiError::new(
            StatusCode::CONFLICT,
            "expired",
            format!(
                "pending broadcast {id} was for {}, which has passed; it was not aired. Ask \
                 for it again with a new time",
                at.to_rfc3339()
            ),
        )));
    }
    airable::check(
        state,
        row.playlist,
        row.priority,
        Some(row.at.unwrap_or(now)),
    )?;
    let list = state.store.playlist(row.playlist).map_err(ApiError::from)?;
    if seen.is_some_and(|v| v != list.version) {
        return Err(Refused::Other(ApiError::new(
            StatusCode::CONFLICT,
            "changed",
            format!(
                "playlist \"{}\" changed while you looked at it; look at its clips again \
                 before approving",
                list.name
            ),
        )));
    }
    let row = state
        .store
        .decide_pending_broadcast(id, Decision::Approved, &who.actor(), now)
        .map_err(|_| not_waiting(id))?;
    send(
        state,
        row.playlist,
        Some(list.version),
        row.priority,
        row.at,
        format!("{}, approved by {}", row.requested_by, who.actor()),
    )?;
    audit(
        state,
        who,
        "broadcast.approve",
        format!("pending broadcast {id}"),
        format!(
            "playlist {} version {} {:?} asked for by {}",
            row.playlist, list.version, row.priority, row.requested_by
        ),
    );
    Ok(row)
}

/// Rejects request `id`: it never airs.
fn reject(state: &PanelState, who: &Principal, id: i64) -> Result<PendingBroadcast, ApiError> {
    who.require(Role::Approver)?;
    let row = state
        .store
        .decide_pending_broadcast(id, Decision::Rejected, &who.actor(), state.clock.now())
        .map_err(|_| not_waiting(id))?;
    audit(
        state,
        who,
        "broadcast.reject",
        format!("pending broadcast {id}"),
        format!(
            "playlist {} {:?} asked for by {}",
            row.playlist, row.priority, row.requested_by
        ),
    );
    Ok(row)
}

fn not_waiting(id: i64) -> ApiError {
    ApiError::not_found(format!(
        "no broadcast {id} is waiting for approval (already decided, or never asked for)"
    ))
}

/// The optional body of an approval: the playlist version the approver was shown.
#[derive(Debug, Default, Deserialize)]
pub(super) struct ApproveBody {
    #[serde(default)]
    playlist_version: Option<i64>,
}

/// `POST /api/broadcasts/pending/{id}/approve` `{"playlist_version"?}` (approver): 202, it is
/// sent to the engine bound to that version of the playlist.
async fn approve_api(
    State(state): State<PanelState>,
    ApiUser(who): ApiUser,
    Path(id): Path<i64>,
    OptionalJson(body): OptionalJson<ApproveBody>,
) -> Result<Response, ApiError> {
    let seen = body.and_then(|b| b.playlist_version);
    let row = approve(&state, &who, id, seen)?;
    Ok((
        StatusCode::ACCEPTED,
        Json(serde_json::json!({"accepted": true, "status": "sent", "approved": row})),
    )
        .into_response())
}

/// `POST /api/broadcasts/pending/{id}/reject` (approver).
async fn reject_api(
    State(state): State<PanelState>,
    ApiUser(who): ApiUser,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    let row = reject(&state, &who, id)?;
    Ok(Json(serde_json::json!({"status": "rejected", "rejected": row})).into_response())
}

/// `POST /broadcast/pending/{id}/approve` (form, approver; `version` is the playlist
/// version the page showed).
async fn approve_page(
    State(state): State<PanelState>,
    PageUser(who): PageUser,
    lang: Lang,
    Path(id): Path<i64>,
    Form(f): Form<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let seen = f.get("version").and_then(|v| v.parse().ok());
    match approve(&state, &who, id, seen) {
        Ok(_) => Ok(Redirect::to("/broadcast?sent=1").into_response()),
        Err(Refused::Cannot(why)) => super::pages_ops::cannot_air(&state, &who, lang, &why),
        Err(Refused::Other(e)) if e.code() == "expired" => {
            Ok(Redirect::to("/broadcast?expired=1").into_response())
        }
        Err(Refused::Other(e)) if e.code() == "changed" => {
            Ok(Redirect::to("/broadcast?changed=1").into_response())
        }
        Err(Refused::Other(e)) => Err(e),
    }
}

/// `POST /broadcast/pending/{id}/reject` (form, approver).
async fn reject_page(
    State(state): State<PanelState>,
    PageUser(who): PageUser,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    reject(&state, &who, id)?;
    Ok(Redirect::to("/broadcast?rejected=1").into_response())
}

/// The broadcast page's pending section: approve / reject buttons for approvers, "waiting
/// for approval" for everyone else; empty when nothing waits.
pub(super) fn section(
    state: &PanelState,
    user: &Principal,
    lang: Lang,
) -> Result<String, ApiError> {
    let note = if user.role >= Role::Editor && needs_approval(state, user) {
        format!("<p class=\"muted\">{}</p>", lang.t("your broadcasts wait"))
    } else {
        String::new()
    };
    let rows = state.store.pending_broadcasts()?;
    if rows.is_empty() {
        return Ok(note);
    }
    let now = state.clock.now();
    let mut out = format!(
        "{note}<section class=\"card\" id=\"pending\"><h2>{}</h2><ul>",
        lang.t("pending broadcasts")
    );
    for r in rows {
        let list = state.store.playlist(r.playlist).ok();
        let name = list
            .as_ref()
            .map_or_else(|| format!("#{}", r.playlist), |p| p.name.clone());
        let urgent = if r.priority == Priority::Emergency {
            format!("<strong class=\"alert\">{}</strong> ", lang.t("urgent"))
        } else {
            String::new()
        };
        let when = match r.at {
            Some(t) if t <= now => format!("{} ({})", local(state, t), lang.t("time passed")),
            Some(t) => local(state, t),
            None => lang.t("when approved").to_owned(),
        };
        let _ = write!(
            out,
            "<li>{urgent}<b>{}</b> — {when} — {} {} ({})",
            esc(&name),
            lang.t("asked by"),
            esc(&r.requested_by),
            local(state, r.requested_at),
        );
        if let Some(list) = &list {
            out.push_str(&clip_list(state, lang, list));
        }
        if user.role >= Role::Approver {
            let csrf = csrf_field(user);
            let version = list.as_ref().map_or(0, |p| p.version);
            let _ = write!(
                out,
                "<div><form method=\"post\" action=\"/broadcast/pending/{id}/approve\" class=\"inline\">{csrf}\
                 <input type=\"hidden\" name=\"version\" value=\"{version}\">\
                 <button type=\"submit\">{approve}</button></form> \
                 <form method=\"post\" action=\"/broadcast/pending/{id}/reject\" class=\"inline\">{csrf}\
                 <button type=\"submit\" class=\"secondary\">{reject}</button></form></div>",
                id = r.id,
                approve = lang.t("approve"),
                reject = lang.t("reject"),
            );
        } else {
            let _ = write!(out, " <em>{}</em>", lang.t("waiting for approval"));
        }
        out.push_str("</li>");
    }
    out.push_str("</ul></section>");
    Ok(out)
}
