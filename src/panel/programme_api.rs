//! Campaign and programme routes of the JSON API (create, read, update, delete) and the
//! approval step. The changes are `actions`' (shared with the pages): a bad cron
//! expression is 422 with the message naming the field (`hour field "25": …`), and when the
//! station requires approval an editor's programme waits for an approver, and an editor's
//! change to what a programme airs withdraws its approval. A programme is shown with its
//! approval state and the content an approver would approve (`approval`).

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};

use super::actions::{self, CampaignInput, ProgrammeInput, default_clash};
use super::auth::ApiUser;
use super::body::{Json, Path};
use super::{ApiError, PanelState};
use crate::model::{
    CampaignId, ClashRule, DateRange, PlaylistId, Priority, Programme, ProgrammeId,
};
use crate::store::Approval;

/// The campaign and programme routes.
pub(super) fn routes() -> Router<PanelState> {
    Router::new()
        .route("/api/campaigns", get(campaigns).post(create_campaign))
        .route(
            "/api/campaigns/{id}",
            get(campaign).put(update_campaign).delete(delete_campaign),
        )
        .route("/api/programmes", get(programmes).post(create_programme))
        .route(
            "/api/programmes/{id}",
            get(programme)
                .put(update_programme)
                .delete(delete_programme),
        )
        .route("/api/programmes/{id}/approval", post(approve))
}

#[derive(Debug, Deserialize)]
pub(super) struct CampaignBody {
    name: String,
    #[serde(default)]
    theme: String,
    dates: DateRange,
}

impl CampaignBody {
    fn input(self) -> CampaignInput {
        CampaignInput {
            name: self.name,
            theme: self.theme,
            dates: self.dates,
        }
    }
}

/// A programme as the API shows and takes it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ProgrammeJson {
    /// Id (ignored on input).
    #[serde(default)]
    pub id: i64,
    /// Name shown to staff.
    pub name: String,
    /// Standard cron expression in the station's time zone.
    pub cron: String,
    /// Playlist id.
    pub playlist: PlaylistId,
    /// Campaign id.
    #[serde(default)]
    pub campaign: Option<CampaignId>,
    /// Own date range.
    #[serde(default)]
    pub dates: Option<DateRange>,
    /// normal, priority or emergency.
    #[serde(default = "normal")]
    pub priority: Priority,
    /// `{"rule": "queue", "max_wait": SECONDS}` or `{"rule": "cut_in"}`.
    #[serde(default = "default_clash")]
    pub clash: ClashRule,
    /// Plays per occurrence.
    #[serde(default = "one")]
    pub repeat: u32,
    /// Seconds between repeats.
    #[serde(default)]
    pub repeat_pause: u64,
    /// Whether the chime plays.
    #[serde(default = "yes")]
    pub chime: bool,
    /// Whether it fires at all.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Whether it is approved for what it airs now (ignored on input).
    #[serde(default)]
    pub approved: bool,
    /// `approved`, `waiting` or `needs_reapproval`, and the content an approval covers
    /// (ignored on input).
    #[serde(default, skip_deserializing)]
    pub approval: Option<Approval>,
}

fn normal() -> Priority {
    Priority::Normal
}
fn one() -> u32 {
    1
}
fn yes() -> bool {
    true
}

impl ProgrammeJson {
    fn of(p: &Programme, approval: Option<Approval>) -> ProgrammeJson {
        ProgrammeJson {
            id: p.id.0,
            name: p.name.clone(),
            cron: p.cron.as_str().to_owned(),
            playlist: p.playlist,
            campaign: p.campaign,
            dates: p.dates,
            priority: p.priority,
            clash: p.clash,
            repeat: p.repeat,
            repeat_pause: p.repeat_pause.as_secs(),
            chime: p.chime,
            enabled: p.enabled,
            approved: p.approved,
            approval,
        }
    }

    fn with_approval(state: &PanelState, p: &Programme) -> Result<ProgrammeJson, ApiError> {
        Ok(ProgrammeJson::of(p, Some(state.store.approval(p.id)?)))
    }

    fn input(&self) -> ProgrammeInput {
        ProgrammeInput {
            name: self.name.clone(),
            cron: self.cron.clone(),
            playlist: self.playlist,
            campaign: self.campaign,
            dates: self.dates,
            priority: self.priority,
            clash: self.clash,
            repeat: self.repeat,
            repeat_pause: self.repeat_pause,
            chime: self.chime,
            enabled: self.enabled,
        }
    }
}

async fn campaigns(
    State(state): State<PanelState>,
    _: ApiUser,
) -> Result<impl IntoResponse, ApiError> {
    Ok(axum::Json(state.store.campaigns()?))
}

async fn campaign(
    State(state): State<PanelState>,
    _: ApiUser,
    Path(id): Path<i64>,
) -> Result<impl IntoResponse, ApiError> {
    Ok(axum::Json(state.store.campaign(CampaignId(id))?))
}

/// `POST /api/campaigns` `{"name", "theme", "dates": {"start", "end"}}` (editor).
async fn create_campaign(
    State(state): State<PanelState>,
    ApiUser(who): ApiUser,
    Json(body): Json<CampaignBody>,
) -> Result<impl IntoResponse, ApiError> {
    let c = actions::create_campaign(&state, &who, &body.input())?;
    Ok((StatusCode::CREATED, axum::Json(c)))
}

/// `PUT /api/campaigns/{id}` (editor): new dates withdraw its programmes' approval when an
/// editor gives them.
async fn update_campaign(
    State(state): State<PanelState>,
    ApiUser(who): ApiUser,
    Path(id): Path<i64>,
    Json(body): Json<CampaignBody>,
) -> Result<impl IntoResponse, ApiError> {
    let c = actions::update_campaign(&state, &who, CampaignId(id), &body.input())?;
    Ok(axum::Json(c))
}

/// `DELETE /api/campaigns/{id}` (editor); 409 while programmes belong to it.
async fn delete_campaign(
    State(state): State<PanelState>,
    ApiUser(who): ApiUser,
    Path(id): Path<i64>,
) -> Result<impl IntoResponse, ApiError> {
    actions::delete_campaign(&state, &who, CampaignId(id))?;
    Ok(StatusCode::NO_CONTENT)
}

async fn programmes(
    State(state): State<PanelState>,
    _: ApiUser,
) -> Result<impl IntoResponse, ApiError> {
    let mut approvals = state.store.approvals()?;
    let list: Vec<ProgrammeJson> = state
        .store
        .programmes()?
        .iter()
        .map(|p| ProgrammeJson::of(p, approvals.remove(&p.id)))
        .collect();
    Ok(axum::Json(list))
}

async fn programme(
    State(state): State<PanelState>,
    _: ApiUser,
    Path(id): Path<i64>,
) -> Result<impl IntoResponse, ApiError> {
    let p = state.store.programme(ProgrammeId(id))?;
    Ok(axum::Json(ProgrammeJson::with_approval(&state, &p)?))
}

/// `POST /api/programmes` (editor).
async fn create_programme(
    State(state): State<PanelState>,
    ApiUser(who): ApiUser,
    Json(body): Json<ProgrammeJson>,
) -> Result<impl IntoResponse, ApiError> {
    let p = actions::create_programme(&state, &who, &body.input())?;
    Ok((
        StatusCode::CREATED,
        axum::Json(ProgrammeJson::with_approval(&state, &p)?),
    ))
}

/// `PUT /api/programmes/{id}` (editor); an editor's change to what it airs needs approval
/// again.
async fn update_programme(
    State(state): State<PanelState>,
    ApiUser(who): ApiUser,
    Path(id): Path<i64>,
    Json(body): Json<ProgrammeJson>,
) -> Result<impl IntoResponse, ApiError> {
    let p = actions::update_programme(&state, &who, ProgrammeId(id), &body.input())?;
    Ok(axum::Json(ProgrammeJson::with_approval(&state, &p)?))
}

/// `DELETE /api/programmes/{id}` (editor): hidden and disabled, kept for the log.
async fn delete_programme(
    State(state): State<PanelState>,
    ApiUser(who): ApiUser,
    Path(id): Path<i64>,
) -> Result<impl IntoResponse, ApiError> {
    actions::delete_programme(&state, &who, ProgrammeId(id))?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize)]
pub(super) struct ApprovalBody {
    approved: bool,
    /// The content the approver was shown (`approval.content`); the approval is refused
    /// (409 `changed`) if the programme no longer has it.
    #[serde(default)]
    content: Option<String>,
}

/// `POST /api/programmes/{id}/approval` `{"approved": true|false, "content"?}` (approver).
async fn approve(
    State(state): State<PanelState>,
    ApiUser(who): ApiUser,
    Path(id): Path<i64>,
    Json(body): Json<ApprovalBody>,
) -> Result<impl IntoResponse, ApiError> {
    let id = ProgrammeId(id);
    let p = if body.approved {
        actions::approve_programme(&state, &who, id, body.content.as_deref())?
    } else {
        actions::unapprove_programme(&state, &who, id)?
    };
    Ok(axum::Json(ProgrammeJson::with_approval(&state, &p)?))
}
