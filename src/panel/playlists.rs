//! `PUT /api/playlists/{id}/items`: replaces a playlist's order in one atomic write, named
//! by the version it was based on (bearer token).
//!
//! A stale version gets 409 with the playlist as stored now, so the caller can show the
//! other person's order and redo the edit; nothing is lost silently. This is the minimal
//! playlist-edit route the power-cut fault test drives; it holds no ordering logic (the
//! store does the versioned write).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::{ApiError, PanelState, authorize};
use crate::model::{ClipId, PlaylistId};
use crate::store::StoreError;

/// The request body: the version the edit is based on and the new order of clip ids.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ItemsBody {
    version: i64,
    items: Vec<i64>,
}

/// At most this many items in one playlist.
const MAX_ITEMS: usize = 1000;

/// `PUT /api/playlists/{id}/items`: 200 with the new playlist, 409 with the current one.
pub(super) async fn replace_items(
    State(state): State<PanelState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Json(body): Json<ItemsBody>,
) -> Result<Response, ApiError> {
    let who = authorize(&state, &headers)?;
    if body.items.len() > MAX_ITEMS {
        return Err(ApiError::bad_request(format!(
            "a playlist holds at most {MAX_ITEMS} items"
        )));
    }
    let items: Vec<ClipId> = body.items.into_iter().map(ClipId).collect();
    let store = state.store.clone();
    let result = tokio::task::spawn_blocking(move || {
        store.replace_playlist_items(PlaylistId(id), body.version, &items)
    })
    .await
    .map_err(|e| {
        tracing::error!(error = %e, playlist = id, "the playlist edit task failed");
        ApiError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            code: "internal",
            message: "internal error; see the daemon's log".to_owned(),
        }
    })?;
    match result {
        Ok(playlist) => {
            tracing::info!(playlist = id, version = playlist.version, by = %who, "playlist order changed");
            Ok((StatusCode::OK, Json(playlist)).into_response())
        }
        Err(StoreError::VersionConflict { current }) => {
            let message = format!(
                "playlist \"{}\" was changed by someone else (now version {}); reload and redo the edit",
                current.name, current.version
            );
            let body = serde_json::json!({
                "error": {"code": "version_conflict", "message": message},
                "current": current,
            });
            Ok((StatusCode::CONFLICT, Json(body)).into_response())
        }
        Err(StoreError::Invalid(why)) => Err(ApiError::bad_request(why)),
        Err(e) => Err(e.into()),
    }
}
