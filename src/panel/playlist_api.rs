//! Playlist routes of the JSON API: list, get, create, rename, delete, and the versioned
//! order (replace it whole, or insert / move / remove one item). Every change names the
//! version it was based on; a stale one is 409 with the current playlist as `current`.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, put};
use serde::Deserialize;

use super::auth::ApiUser;
use super::body::{Json, Path};
use super::{ApiError, PanelState, audit};
use crate::model::{ClipId, Playlist, PlaylistId};
use crate::store::{Role, StoreError};

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

/// One change to the order.
#[derive(Debug, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub(super) enum Edit {
    /// Inserts `clip` at position `at` (default: the end).
    Insert { clip: ClipId, at: Option<usize> },
    /// Moves the item at `from` to position `to`.
    Move { from: usize, to: usize },
    /// Removes the item at `at`.
    Remove { at: usize },
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
    who.require(Role::Editor)?;
    let p = state
        .store
        .create_playlist(&body.name, &body.items)
        .map_err(missing_clip)?;
    audit(
        &state,
        &who,
        "playlist.create",
        format!("playlist {}", p.id),
        p.name.clone(),
    );
    Ok((StatusCode::CREATED, axum::Json(p)))
}

/// `PATCH /api/playlists/{id}` `{"version", "name"}` (editor).
async fn rename(
    State(state): State<PanelState>,
    ApiUser(who): ApiUser,
    Path(id): Path<i64>,
    Json(body): Json<RenameBody>,
) -> Result<impl IntoResponse, ApiError> {
    who.require(Role::Editor)?;
    let p = state
        .store
        .rename_playlist(PlaylistId(id), body.version, &body.name)?;
    audit(
        &state,
        &who,
        "playlist.rename",
        format!("playlist {id}"),
        p.name.clone(),
    );
    Ok(axum::Json(p))
}

/// `DELETE /api/playlists/{id}` (editor); 409 while a programme uses it.
async fn remove(
    State(state): State<PanelState>,
    ApiUser(who): ApiUser,
    Path(id): Path<i64>,
) -> Result<impl IntoResponse, ApiError> {
    who.require(Role::Editor)?;
    state.store.delete_playlist(PlaylistId(id))?;
    audit(
        &state,
        &who,
        "playlist.delete",
        format!("playlist {id}"),
        String::new(),
    );
    Ok(StatusCode::NO_CONTENT)
}

/// `PUT /api/playlists/{id}/order` `{"version", "items"}` (editor).
async fn replace_order(
    State(state): State<PanelState>,
    ApiUser(who): ApiUser,
    Path(id): Path<i64>,
    Json(body): Json<OrderBody>,
) -> Result<impl IntoResponse, ApiError> {
    who.require(Role::Editor)?;
    let p = state
        .store
        .replace_playlist_items(PlaylistId(id), body.version, &body.items)
        .map_err(missing_clip)?;
    audit_order(&state, &who, &p);
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
    who.require(Role::Editor)?;
    let current = state.store.playlist(PlaylistId(id))?;
    if current.version != body.version {
        return Err(StoreError::VersionConflict {
            current: Box::new(current),
        }
        .into());
    }
    let items = apply(&current.items, &body.edit).map_err(ApiError::unprocessable)?;
    let p = state
        .store
        .replace_playlist_items(current.id, body.version, &items)
        .map_err(missing_clip)?;
    audit_order(&state, &who, &p);
    Ok(axum::Json(p))
}

/// The order after one edit, or why the edit does not fit the playlist.
pub(super) fn apply(items: &[ClipId], edit: &Edit) -> Result<Vec<ClipId>, String> {
    let mut out = items.to_vec();
    let len = items.len();
    match *edit {
        Edit::Insert { clip, at } => {
            let at = at.unwrap_or(len);
            if at > len {
                return Err(format!("position {at} is past the end ({len} items)"));
            }
            out.insert(at, clip);
        }
        Edit::Move { from, to } => {
            if from >= len || to >= len {
                return Err(format!("positions {from} and {to} must be below {len}"));
            }
            let item = out.remove(from);
            out.insert(to, item);
        }
        Edit::Remove { at } => {
            if at >= len {
                return Err(format!("position {at} must be below {len}"));
            }
            out.remove(at);
        }
    }
    Ok(out)
}

fn audit_order(state: &PanelState, who: &super::auth::Principal, p: &Playlist) {
    let ids: Vec<String> = p.items.iter().map(ToString::to_string).collect();
    audit(
        state,
        who,
        "playlist.order",
        format!("playlist {}", p.id),
        format!("version {}: [{}]", p.version, ids.join(", ")),
    );
}

/// A clip id that does not exist is bad input here (422), not a missing playlist.
fn missing_clip(e: StoreError) -> ApiError {
    match e {
        StoreError::NotFound { what: "clip", id } => {
            ApiError::unprocessable(format!("clip {id} does not exist"))
        }
        other => other.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(v: &[i64]) -> Vec<ClipId> {
        v.iter().map(|i| ClipId(*i)).collect()
    }

    #[test]
    fn edits_apply_or_say_why_not() {
        let items = ids(&[1, 2, 3]);
        let ins = Edit::Insert {
            clip: ClipId(9),
            at: Some(1),
        };
        assert_eq!(apply(&items, &ins).unwrap(), ids(&[1, 9, 2, 3]));
        let end = Edit::Insert {
            clip: ClipId(9),
            at: None,
        };
        assert_eq!(apply(&items, &end).unwrap(), ids(&[1, 2, 3, 9]));
        assert_eq!(
            apply(&items, &Edit::Move { from: 0, to: 2 }).unwrap(),
            ids(&[2, 3, 1])
        );
        assert_eq!(
            apply(&items, &Edit::Move { from: 2, to: 0 }).unwrap(),
            ids(&[3, 1, 2])
        );
        assert_eq!(
            apply(&items, &Edit::Remove { at: 1 }).unwrap(),
            ids(&[1, 3])
        );
        assert!(apply(&items, &Edit::Remove { at: 3 }).is_err());
        assert!(apply(&items, &Edit::Move { from: 0, to: 3 }).is_err());
        let past = Edit::Insert {
            clip: ClipId(9),
            at: Some(4),
        };
        assert!(apply(&items, &past).unwrap_err().contains("past the end"));
    }
}
