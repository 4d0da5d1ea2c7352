//! Account routes of the JSON API: log in and out, who am I, users (admin) and the audit
//! trail (admin). Identity itself is decided in `auth`.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{delete, get, post};
use axum::{Extension, Router};
use serde::Deserialize;

use super::auth::{self, ApiUser, Limiter, Peer};
use super::body::{Json, Path, Query};
use super::{ApiError, PanelState, audit};
use crate::accounts::{self, AccountError};
use crate::store::Role;

/// The account routes.
pub(super) fn routes() -> Router<PanelState> {
    Router::new()
        .route("/api/login", post(login))
        .route("/api/logout", post(logout))
        .route("/api/me", get(me))
        .route("/api/users", get(users).post(create_user))
        .route("/api/users/{id}", delete(delete_user))
        .route("/api/audit", get(audit_trail))
}

#[derive(Debug, Deserialize)]
pub(super) struct LoginBody {
    name: String,
    password: String,
}

#[derive(Debug, Deserialize)]
pub(super) struct NewUserBody {
    name: String,
    role: Role,
    password: String,
}

#[derive(Debug, Deserialize)]
pub(super) struct Limit {
    limit: Option<u32>,
}

/// `POST /api/login`: sets the session cookie; returns the user and the CSRF token.
async fn login(
    State(state): State<PanelState>,
    Extension(limiter): Extension<Limiter>,
    Extension(peer): Extension<Peer>,
    headers: HeaderMap,
    Json(body): Json<LoginBody>,
) -> Result<impl IntoResponse, ApiError> {
    let s = auth::login(&state, &limiter, peer, &headers, &body.name, &body.password).await?;
    Ok((
        [(header::SET_COOKIE, s.cookie)],
        axum::Json(serde_json::json!({"user": s.user, "csrf": s.csrf})),
    ))
}

/// `POST /api/logout`: ends the session and clears the cookie.
async fn logout(
    State(state): State<PanelState>,
    ApiUser(who): ApiUser,
    headers: HeaderMap,
) -> Result<impl IntoResponse, ApiError> {
    if let Some(hash) = &who.session {
        state.store.delete_session(hash)?;
    }
    Ok((
        StatusCode::NO_CONTENT,
        [(header::SET_COOKIE, auth::cookie(&headers, "", 0))],
    ))
}

/// `GET /api/me`: the caller's name, role and CSRF token.
async fn me(ApiUser(who): ApiUser) -> impl IntoResponse {
    axum::Json(serde_json::json!({
        "name": who.name, "role": who.role, "csrf": who.csrf, "token": who.via_token
    }))
}

/// `GET /api/users` (admin).
async fn users(
    State(state): State<PanelState>,
    ApiUser(who): ApiUser,
) -> Result<impl IntoResponse, ApiError> {
    who.require(Role::Admin)?;
    Ok(axum::Json(state.store.users()?))
}

/// `POST /api/users` (admin): creates a user or resets their password and role.
async fn create_user(
    State(state): State<PanelState>,
    ApiUser(who): ApiUser,
    Json(body): Json<NewUserBody>,
) -> Result<impl IntoResponse, ApiError> {
    who.require(Role::Admin)?;
    let now = state.clock.now();
    let user = tokio::task::spawn_blocking(move || {
        accounts::set_password(&state.store, &body.name, body.role, &body.password, now)
            .map(|u| (u, state))
    })
    .await
    .map_err(|_| ApiError::internal())?;
    let (user, state) = user.map_err(|e| match e {
        AccountError::WeakPassword => ApiError::unprocessable(e.to_string()),
        AccountError::Store(s) => ApiError::from(s),
        other => {
            tracing::error!(error = %other, "cannot save a user");
            ApiError::internal()
        }
    })?;
    audit(
        &state,
        &who,
        "user.save",
        format!("user {}", user.id),
        format!("{} ({})", user.name, user.role.as_str()),
    );
    Ok((StatusCode::CREATED, axum::Json(user)))
}

/// `DELETE /api/users/{id}` (admin). An admin cannot delete themself.
async fn delete_user(
    State(state): State<PanelState>,
    ApiUser(who): ApiUser,
    Path(id): Path<i64>,
) -> Result<impl IntoResponse, ApiError> {
    who.require(Role::Admin)?;
    let users = state.store.users()?;
    let target = users
        .iter()
        .find(|u| u.id == id)
        .ok_or_else(|| ApiError::not_found(format!("user {id} not found")))?;
    if !who.via_token && target.name.eq_ignore_ascii_case(&who.name) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "conflict",
            "you cannot delete your own account".to_owned(),
        ));
    }
    state.store.delete_user(id)?;
    audit(
        &state,
        &who,
        "user.delete",
        format!("user {id}"),
        target.name.clone(),
    );
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/audit?limit=` (admin): newest first.
async fn audit_trail(
    State(state): State<PanelState>,
    ApiUser(who): ApiUser,
    Query(q): Query<Limit>,
) -> Result<impl IntoResponse, ApiError> {
    who.require(Role::Admin)?;
    Ok(axum::Json(
        state.store.audit_recent(q.limit.unwrap_or(200).min(5000))?,
    ))
}
