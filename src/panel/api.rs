//! JSON API handlers: health, metrics, status, the computed schedule, the broadcast log,
//! cron preview, and manual broadcasts.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use std::fmt::Write as _;

use super::auth::ApiUser;
use super::body::{self, Query};
use super::{ApiError, PanelState};
use crate::cron::CronExpr;
use crate::engine::Command;
use crate::health;
use crate::model::{PlaylistId, Priority};
use crate::schedule::{Station, Verdict};
use crate::store::Role;

/// One occurrence in the computed schedule.
#[derive(Debug, Serialize)]
pub struct ScheduleItem {
    /// The instant, RFC 3339 in the station's zone.
    pub at: String,
    /// Programme id.
    pub programme: i64,
    /// Programme name.
    pub name: String,
    /// `air`, `air_breaking_rule` or `skip`.
    pub verdict: &'static str,
    /// The rule, when one applies.
    pub rule: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(super) struct Range {
    from: Option<DateTime<chrono::FixedOffset>>,
    to: Option<DateTime<chrono::FixedOffset>>,
}

#[derive(Debug, Deserialize)]
pub(super) struct CronQuery {
    expr: String,
    count: Option<usize>,
}

#[derive(Debug, Deserialize)]
pub(super) struct BroadcastBody {
    playlist: i64,
    #[serde(default = "normal")]
    priority: Priority,
    at: Option<DateTime<chrono::FixedOffset>>,
}

fn normal() -> Priority {
    Priority::Normal
}

/// `GET /healthz`: the checks of [`crate::health`]; 200 when none is a problem, 503 when
/// degraded (warnings keep 200).
pub(super) async fn healthz(State(state): State<PanelState>) -> impl IntoResponse {
    let status = state.engine.status();
    let report = super::health_report::report(&state, &status, state.clock.now()).await;
    let healthy = report.problems() == 0;
    let checks: serde_json::Map<String, serde_json::Value> = report
        .checks
        .iter()
        .map(|c| (c.name.to_owned(), serde_json::json!(c)))
        .collect();
    let body = serde_json::json!({
        // Warnings (no sound card behind `auto`, disk getting full) are "degraded" but
        // still 200; problems are 503.
        "status": if report.level() == health::Level::Ok { "ok" } else { "degraded" },
        "checks": checks,
        "relay_on": status.relay_on,
        "last_error": status.last_error,
    });
    let code = if healthy {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (code, Json(body))
}

/// `GET /metrics`: Prometheus text.
pub(super) async fn metrics(State(state): State<PanelState>) -> impl IntoResponse {
    let status = state.engine.status();
    let report = super::health_report::report(&state, &status, state.clock.now()).await;
    let mut text = format!(
        "# HELP loa_broadcasts_started_total Broadcasts started since the daemon started.\n\
         # TYPE loa_broadcasts_started_total counter\n\
         loa_broadcasts_started_total {}\n\
         # HELP loa_relay_on Whether the amplifier relay is on.\n\
         # TYPE loa_relay_on gauge\n\
         loa_relay_on {}\n\
         # HELP loa_output_ok Whether the output device works.\n\
         # TYPE loa_output_ok gauge\n\
         loa_output_ok {}\n\
         # HELP loa_clock_synchronised Whether the kernel says the clock is synchronised.\n\
         # TYPE loa_clock_synchronised gauge\n\
         loa_clock_synchronised {}\n\
         # HELP loa_clock_sync_required Whether scheduled broadcasts wait for a synchronised clock (require_clock_sync).\n\
         # TYPE loa_clock_sync_required gauge\n\
         loa_clock_sync_required {}\n",
        status.broadcasts_started,
        u8::from(status.relay_on),
        u8::from(status.output_ok),
        u8::from(status.clock_synchronised),
        u8::from(state.config.schedule.require_clock_sync),
    );
    text.push_str(
        "# HELP loa_health_check Each health check: 0 ok, 1 warning, 2 problem.\n\
         # TYPE loa_health_check gauge\n",
    );
    for c in &report.checks {
        let _ = writeln!(
            text,
            "loa_health_check{{check=\"{}\"}} {}",
            c.name, c.level as u8
        );
    }
    let _ = writeln!(
        text,
        "# HELP loa_healthy Whether no health check is a problem.\n\
         # TYPE loa_healthy gauge\n\
         loa_healthy {}",
        u8::from(report.problems() == 0)
    );
    if let Ok(space) = health::disk_free(&state.config.station.data_dir) {
        let _ = writeln!(
            text,
            "# HELP loa_disk_free_bytes Free bytes on the data directory's file system.\n\
             # TYPE loa_disk_free_bytes gauge\n\
             loa_disk_free_bytes {}",
            space.free_bytes
        );
    }
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4",
        )],
        text,
    )
}

/// `GET /api/status`: the engine's snapshot.
pub(super) async fn status(State(state): State<PanelState>, _: ApiUser) -> impl IntoResponse {
    Json(state.engine.status().as_of(state.clock.now()))
}

/// `GET /api/schedule?from=&to=`: occurrences with verdicts (default: the next 7 days).
pub(super) async fn schedule(
    State(state): State<PanelState>,
    _: ApiUser,
    Query(range): Query<Range>,
) -> Result<Json<Vec<ScheduleItem>>, ApiError> {
    let from = range.from.map_or_else(|| state.clock.now(), |t| t.to_utc());
    let to = range
        .to
        .map_or(from + chrono::Duration::days(7), |t| t.to_utc());
    if to < from || to - from > chrono::Duration::days(400) {
        return Err(ApiError::bad_request(
            "`to` must be after `from` and at most 400 days later",
        ));
    }
    Ok(Json(schedule_items(&state, from, to)?))
}

/// The computed schedule between two instants.
pub(super) fn schedule_items(
    state: &PanelState,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<ScheduleItem>, ApiError> {
    let programmes = state.store.programmes()?;
    let campaigns = state.store.campaigns()?;
    let tz = state.config.station.time_zone;
    let station = Station {
        programmes: &programmes,
        campaigns: &campaigns,
        rules: &state.config.schedule.rules,
        tz,
        approval_required: state.config.station.approval_required,
    };
    let names: std::collections::HashMap<_, &str> =
        programmes.iter().map(|p| (p.id, p.name.as_str())).collect();
    Ok(station
        .occurrences(from, to)
        .into_iter()
        .map(|p| {
            let (verdict, rule) = match p.verdict {
                Verdict::Air => ("air", None),
                Verdict::AirBreakingRule(r) => ("air_breaking_rule", Some(r)),
                Verdict::Skip(r) => ("skip", Some(r)),
            };
            ScheduleItem {
                at: p.key.scheduled.with_timezone(&tz).to_rfc3339(),
                programme: p.key.programme.0,
                name: names
                    .get(&p.key.programme)
                    .map_or_else(String::new, |n| (*n).to_owned()),
                verdict,
                rule,
            }
        })
        .collect())
}

/// `GET /api/cron/preview?expr=&count=`: the next firings of an expression.
pub(super) async fn cron_preview(
    State(state): State<PanelState>,
    _: ApiUser,
    Query(q): Query<CronQuery>,
) -> Result<Json<Vec<String>>, ApiError> {
    let cron = CronExpr::parse(&q.expr)
        .map_err(|e| ApiError::bad_request(format!("cron expression: {e}")))?;
    let tz = state.config.station.time_zone;
    Ok(Json(
        cron.iter_after(state.clock.now(), tz)
            .take(q.count.unwrap_or(10).min(100))
            .map(|t| t.with_timezone(&tz).to_rfc3339())
            .collect(),
    ))
}

/// `POST /api/broadcasts`: play a playlist now or at an instant (editor); an editor's
/// request waits for an approver when the station requires approval (see `pending_api`).
/// One that cannot air is refused at once: 422 `no_playlist` / `empty_playlist`, 409
/// `clip_file_missing` or the station rule broken at the instant (`before_earliest`,
/// `after_latest`, `quiet_hours`; emergencies may break them).
pub(super) async fn broadcast(
    State(state): State<PanelState>,
    ApiUser(who): ApiUser,
    body::Json(body): body::Json<BroadcastBody>,
) -> Result<axum::response::Response, ApiError> {
    let requested = super::pending_api::request(
        &state,
        &who,
        PlaylistId(body.playlist),
        body.priority,
        body.at.map(|t| t.to_utc()),
    )?;
    Ok(super::pending_api::answer(&state, requested))
}

/// `POST /api/broadcasts/stop`: stop what is on air (editor).
pub(super) async fn stop(
    State(state): State<PanelState>,
    ApiUser(who): ApiUser,
) -> Result<impl IntoResponse, ApiError> {
    who.require(Role::Editor)?;
    state.engine.send(Command::Stop {
        requested_by: who.actor(),
    });
    super::audit(&state, &who, "broadcast.stop", String::new(), String::new());
    Ok((
        StatusCode::ACCEPTED,
        Json(serde_json::json!({"accepted": true})),
    ))
}
