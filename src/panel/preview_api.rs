//! `GET /api/programmes/preview`: the next firings of a programme being written, each with
//! the verdict the station rules give it (airs, or skipped by which rule), so the
//! programme form can warn before saving a programme whose times would be skipped.
//!
//! The firings and verdicts are [`crate::schedule::Station::upcoming`]'s — the same
//! occurrences `/api/schedule`, `loa next` and the engine use — for a programme that is not
//! saved: this file applies no rule itself. The campaign chosen in the form (`campaign=`)
//! and the programme's own dates (`start=`, `end=`) bound the firings as they will once it
//! is saved. The programme is taken as approved (approval is a person's step, not a station
//! rule).

use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::routing::get;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::auth::ApiUser;
use super::body::Query;
use super::i18n::Lang;
use super::words::rule_words;
use super::{ApiError, PanelState};
use crate::cron::CronExpr;
use crate::model::{
    CampaignId, ClashRule, DateRange, PlaylistId, Priority, Programme, ProgrammeId,
};
use crate::schedule::{Station, Verdict};

/// The preview route.
pub(super) fn routes() -> Router<PanelState> {
    Router::new().route("/api/programmes/preview", get(preview))
}

#[derive(Debug, Deserialize)]
pub(super) struct PreviewQuery {
    expr: String,
    count: Option<usize>,
    #[serde(default = "normal")]
    priority: Priority,
    /// The campaign the programme belongs to (empty: none).
    #[serde(default, deserialize_with = "empty_is_none")]
    campaign: Option<i64>,
    /// The programme's own first day.
    start: Option<NaiveDate>,
    /// The programme's own last day.
    end: Option<NaiveDate>,
}

/// `campaign=` as the form sends it: empty for "no campaign".
fn empty_is_none<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    let raw = Option::<String>::deserialize(d)?;
    match raw.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(n) => n.parse().map(Some).map_err(serde::de::Error::custom),
    }
}

fn normal() -> Priority {
    Priority::Normal
}

/// The preview: each firing with its verdict, and how many would be skipped.
#[derive(Debug, Serialize)]
pub struct Preview {
    /// The firings, in order.
    pub times: Vec<PreviewTime>,
    /// How many of them would not air.
    pub skipped: usize,
}

/// One firing of the previewed programme.
#[derive(Debug, Serialize)]
pub struct PreviewTime {
    /// The instant, RFC 3339 in the station's zone.
    pub at: String,
    /// `air`, `air_breaking_rule` (emergencies) or `skip`.
    pub verdict: &'static str,
    /// The rule as the schedule names it, when one applies.
    pub rule: Option<String>,
    /// The rule in the caller's language (`?lang=` or the language cookie).
    pub reason: Option<String>,
}

/// `GET /api/programmes/preview?expr=&count=&priority=&campaign=&start=&end=` (viewer):
/// 422 for a bad expression, an unknown campaign or `start` after `end`.
async fn preview(
    State(state): State<PanelState>,
    _: ApiUser,
    lang: Lang,
    Query(q): Query<PreviewQuery>,
) -> Result<Json<Preview>, ApiError> {
    let cron = CronExpr::parse(&q.expr)
        .map_err(|e| ApiError::unprocessable(format!("cron expression: {e}")))?;
    let count = q.count.unwrap_or(10);
    if !(1..=100).contains(&count) {
        return Err(ApiError::unprocessable("count must be between 1 and 100"));
    }
    let tz = state.config.station.time_zone;
    let campaigns = state.store.campaigns()?;
    let campaign = q.campaign.map(CampaignId);
    if let Some(id) = campaign
        && !campaigns.iter().any(|c| c.id == id)
    {
        return Err(ApiError::unprocessable(format!("no campaign {id}")));
    }
    let dates = match (q.start, q.end) {
        (None, None) => None,
        (start, end) => {
            let range = DateRange {
                start: start.unwrap_or(NaiveDate::MIN),
                end: end.unwrap_or(NaiveDate::MAX),
            };
            if range.start > range.end {
                return Err(ApiError::unprocessable("start is after end"));
            }
            Some(range)
        }
    };
    let draft = Programme {
        id: ProgrammeId(0),
        name: String::new(),
        cron,
        playlist: PlaylistId(0),
        campaign,
        dates,
        priority: q.priority,
        clash: ClashRule::Queue {
            max_wait: Duration::from_secs(600),
        },
        repeat: 1,
        repeat_pause: Duration::ZERO,
        chime: true,
        enabled: true,
        approved: true,
    };
    let station = Station {
        programmes: std::slice::from_ref(&draft),
        campaigns: &campaigns,
        rules: &state.config.schedule.rules,
        tz,
        approval_required: state.config.station.approval_required,
    };
    let times: Vec<PreviewTime> = station
        .upcoming(state.clock.now(), count)
        .into_iter()
        .map(|planned| {
            let (verdict, rule) = match planned.verdict {
                Verdict::Air => ("air", None),
                Verdict::AirBreakingRule(r) => ("air_breaking_rule", Some(r)),
                Verdict::Skip(r) => ("skip", Some(r)),
            };
            PreviewTime {
                at: planned.key.scheduled.with_timezone(&tz).to_rfc3339(),
                verdict,
                reason: rule.as_deref().map(|r| rule_words(lang, r)),
                rule,
            }
        })
        .collect();
    let skipped = times.iter().filter(|t| t.verdict == "skip").count();
    Ok(Json(Preview { times, skipped }))
}
