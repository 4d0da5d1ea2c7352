//! Playlist routes of the JSON API: list, get, create, rename, delete, and the versioned
//! order (replace it whole, or insert / move / remove one item). Every change names the
//! version it was based on; a stale one is 409 with the current playlist as `current`.
//! The changes themselves are `actions`' (shared with the pages).

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, put};
use serde::Deserialize;

use super::actions::{self, Edit};
use super::auth::ApiUser;
use super::body::{Json, Path};
use super::{ApiError, PanelState};
use crate::model::{ClipId, PlaylistId};

/// The playlist routes.
pub(super) fn routes() -> Router<PanelState> {
    Router::new()
        .route("/api/playlists", get(list).post(create))
        .route("/api/playlists/{id}", get(one).patch(rename).delete(remove))
        .route(
            "/api/playlists/{id}/order",
            put(replace_order).post(edit_order),
        )
}

#[derive(Debug, Deserialize)]
pub(super) struct CreateBody {
    name: String,
    #[serde(default)]
    items: Vec<ClipId>,
}

#[derive(Debug, Deserialize)]
pub(super) struct RenameBody {
    version: i64,
    name: String,
}

#[derive(Debug, Deserialize)]
pub(super) struct OrderBody {
    version: i64,
    items: Vec<ClipId>,
}

#[derive(Debug, Deserialize)]
pub(super) struct EditBody {
    version: i64,
    #[serde(flatten)]
    edit: Edit,
}

async fn list(State(state): State<PanelState>, _: ApiUser) -> Result<impl IntoResponse, ApiError> {
    Ok(axum::Json(state.store.playlists()?))
}

async fn one(
    State(state): State<PanelState>,
    _: ApiUser,
    Path(id): Path<i64>,
) -> Result<impl IntoResponse, ApiError> {
    Ok(axum::Json(state.store.playlist(PlaylistId(id))?))
}

/// `POST /api/playlists` `{"name", "items"?}` (editor).
async fn create(
    State(state): State<PanelState>,
    ApiUser(who): ApiUser,
    Json(body): Json<CreateBody>,
) -> Result<impl IntoResponse, ApiError> {
    let p = actions::create_playlist(&state, &who, &body.name, &body.items)?;
    Ok((StatusCode::CREATED, axum::Json(p)))
}

/// `PATCH /api/playlists/{id}` `{"version", "name"}` (editor).
async fn rename(
    State(state): State<PanelState>,
    ApiUser(who): ApiUser,
    Path(id): Path<i64>,
    Json(body): Json<RenameBody>,
) -> Result<impl IntoResponse, ApiError> {
    let p = actions::rename_playlist(&state, &who, PlaylistId(id), body.version, &body.name)?;
    Ok(axum::Json(p))
}

/// `DELETE /api/playlists/{id}` (editor); 409 while a programme uses it.
async fn remove(
    State(state): State<PanelState>,
    ApiUser(who): ApiUser,
    Path(id): Path<i64>,
) -> Result<impl IntoResponse, ApiError> {
    actions::delete_playlist(&state, &who, PlaylistId(id))?;
    Ok(StatusCode::NO_CONTENT)
}

/// `PUT /api/playlists/{id}/order` `{"version", "items"}` (editor).
async fn replace_order(
    State(state): State<PanelState>,
    ApiUser(who): ApiUser,
    Path(id): Path<i64>,
    Json(body): Json<OrderBody>,
) -> Result<impl IntoResponse, ApiError> {
    let p = actions::replace_order(&state, &who, PlaylistId(id), body.version, &body.items)?;
    Ok(axum::Json(p))
}

/// `POST /api/playlists/{id}/order` `{"version", "op": "insert" | "move" | "remove", …}`
/// (editor).
async fn edit_order(
    State(state): State<PanelState>,
    ApiUser(who): ApiUser,
    Path(id): Path<i64>,
    Json(body): Json<EditBody>,
) -> Result<impl IntoResponse, ApiError> {
    let p = actions::edit_order(&state, &who, PlaylistId(id), body.version, &body.edit)?;
    Ok(axum::Json(p))
}
