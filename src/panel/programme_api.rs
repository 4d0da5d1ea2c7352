//! Campaign and programme routes of the JSON API (create, read, update, delete) and the
//! approval step. A cron expression is checked here, and a bad one is 422 with the message
//! naming the field (`hour field "25": …`). When the station requires approval, a
//! programme saved by an editor waits for an approver.

use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};

use super::auth::{ApiUser, Principal};
use super::body::{Json, Path};
use super::{ApiError, PanelState, audit};
use crate::cron::CronExpr;
use crate::model::{
    CampaignId, ClashRule, DateRange, PlaylistId, Priority, Programme, ProgrammeId,
};
use crate::store::{NewCampaign, NewProgramme, Role, StoreError};

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
    #[serde(default = "queue")]
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
    /// Whether it is approved (set by the server from the caller's role).
    #[serde(default)]
    pub approved: bool,
}

fn normal() -> Priority {
    Priority::Normal
}
fn queue() -> ClashRule {
    ClashRule::Queue {
        max_wait: Duration::from_secs(600),
    }
}
fn one() -> u32 {
    1
}
fn yes() -> bool {
    true
}

impl From<&Programme> for ProgrammeJson {
    fn from(p: &Programme) -> ProgrammeJson {
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
        }
    }
}

impl ProgrammeJson {
    /// Checks the expression and the numbers; `approved` comes from the caller's role.
    fn to_new(&self, approved: bool) -> Result<NewProgramme, ApiError> {
        let cron = CronExpr::parse(&self.cron)
            .map_err(|e| ApiError::unprocessable(format!("cron expression: {e}")))?;
        if self.repeat == 0 || self.repeat > 20 {
            return Err(ApiError::unprocessable("repeat must be between 1 and 20"));
        }
        Ok(NewProgramme {
            name: self.name.clone(),
            cron,
            playlist: self.playlist,
            campaign: self.campaign,
            dates: self.dates,
            priority: self.priority,
            clash: self.clash,
            repeat: self.repeat,
            repeat_pause: Duration::from_secs(self.repeat_pause),
            chime: self.chime,
            enabled: self.enabled,
            approved,
        })
    }
}

/// Whether what `who` saves is approved: always when the station does not require
/// approval; otherwise only an approver's (or admin's) own request to approve.
fn approval(state: &PanelState, who: &Principal, requested: bool) -> bool {
    !state.config.station.approval_required || (who.role >= Role::Approver && requested)
}

/// A reference to a missing playlist or campaign is bad input (422), not a missing route.
fn reference(e: StoreError) -> ApiError {
    match e {
        StoreError::NotFound { what, id } if what != "programme" => {
            ApiError::unprocessable(format!("{what} {id} does not exist"))
        }
        other => other.into(),
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
    who.require(Role::Editor)?;
    let c = state.store.create_campaign(&NewCampaign {
        name: body.name,
        theme: body.theme,
        dates: body.dates,
    })?;
    audit(
        &state,
        &who,
        "campaign.create",
        format!("campaign {}", c.id),
        c.name.clone(),
    );
    Ok((StatusCode::CREATED, axum::Json(c)))
}

/// `PUT /api/campaigns/{id}` (editor).
async fn update_campaign(
    State(state): State<PanelState>,
    ApiUser(who): ApiUser,
    Path(id): Path<i64>,
    Json(body): Json<CampaignBody>,
) -> Result<impl IntoResponse, ApiError> {
    who.require(Role::Editor)?;
    let c = state.store.update_campaign(&crate::model::Campaign {
        id: CampaignId(id),
        name: body.name,
        theme: body.theme,
        dates: body.dates,
    })?;
    audit(
        &state,
        &who,
        "campaign.update",
        format!("campaign {id}"),
        c.name.clone(),
    );
    Ok(axum::Json(c))
}

/// `DELETE /api/campaigns/{id}` (editor); 409 while programmes belong to it.
async fn delete_campaign(
    State(state): State<PanelState>,
    ApiUser(who): ApiUser,
    Path(id): Path<i64>,
) -> Result<impl IntoResponse, ApiError> {
    who.require(Role::Editor)?;
    state.store.delete_campaign(CampaignId(id))?;
    audit(
        &state,
        &who,
        "campaign.delete",
        format!("campaign {id}"),
        String::new(),
    );
    Ok(StatusCode::NO_CONTENT)
}

async fn programmes(
    State(state): State<PanelState>,
    _: ApiUser,
) -> Result<impl IntoResponse, ApiError> {
    let list: Vec<ProgrammeJson> = state.store.programmes()?.iter().map(Into::into).collect();
    Ok(axum::Json(list))
}

async fn programme(
    State(state): State<PanelState>,
    _: ApiUser,
    Path(id): Path<i64>,
) -> Result<impl IntoResponse, ApiError> {
    Ok(axum::Json(ProgrammeJson::from(
        &state.store.programme(ProgrammeId(id))?,
    )))
}

/// `POST /api/programmes` (editor).
async fn create_programme(
    State(state): State<PanelState>,
    ApiUser(who): ApiUser,
    Json(body): Json<ProgrammeJson>,
) -> Result<impl IntoResponse, ApiError> {
    who.require(Role::Editor)?;
    let new = body.to_new(approval(&state, &who, true))?;
    let p = state.store.create_programme(&new).map_err(reference)?;
    audit(
        &state,
        &who,
        "programme.create",
        format!("programme {}", p.id),
        format!("{} [{}]", p.name, p.cron),
    );
    Ok((StatusCode::CREATED, axum::Json(ProgrammeJson::from(&p))))
}

/// `PUT /api/programmes/{id}` (editor); an editor's change needs approval again.
async fn update_programme(
    State(state): State<PanelState>,
    ApiUser(who): ApiUser,
    Path(id): Path<i64>,
    Json(body): Json<ProgrammeJson>,
) -> Result<impl IntoResponse, ApiError> {
    who.require(Role::Editor)?;
    let new = body.to_new(approval(&state, &who, true))?;
    let p = state
        .store
        .update_programme(&Programme {
            id: ProgrammeId(id),
            name: new.name,
            cron: new.cron,
            playlist: new.playlist,
            campaign: new.campaign,
            dates: new.dates,
            priority: new.priority,
            clash: new.clash,
            repeat: new.repeat,
            repeat_pause: new.repeat_pause,
            chime: new.chime,
            enabled: new.enabled,
            approved: new.approved,
        })
        .map_err(reference)?;
    audit(
        &state,
        &who,
        "programme.update",
        format!("programme {id}"),
        format!("{} [{}]", p.name, p.cron),
    );
    Ok(axum::Json(ProgrammeJson::from(&p)))
}

/// `DELETE /api/programmes/{id}` (editor): hidden and disabled, kept for the log.
async fn delete_programme(
    State(state): State<PanelState>,
    ApiUser(who): ApiUser,
    Path(id): Path<i64>,
) -> Result<impl IntoResponse, ApiError> {
    who.require(Role::Editor)?;
    state.store.delete_programme(ProgrammeId(id))?;
    audit(
        &state,
        &who,
        "programme.delete",
        format!("programme {id}"),
        String::new(),
    );
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize)]
pub(super) struct ApprovalBody {
    approved: bool,
}

/// `POST /api/programmes/{id}/approval` `{"approved": true|false}` (approver).
async fn approve(
    State(state): State<PanelState>,
    ApiUser(who): ApiUser,
    Path(id): Path<i64>,
    Json(body): Json<ApprovalBody>,
) -> Result<impl IntoResponse, ApiError> {
    who.require(Role::Approver)?;
    let p = state
        .store
        .set_programme_approved(ProgrammeId(id), body.approved)?;
    audit(
        &state,
        &who,
        if body.approved {
            "programme.approve"
        } else {
            "programme.unapprove"
        },
        format!("programme {id}"),
        p.name.clone(),
    );
    Ok(axum::Json(ProgrammeJson::from(&p)))
}
