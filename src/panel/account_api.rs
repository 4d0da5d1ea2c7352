//! Account routes of the JSON API: log in and out, who am I, users (admin: list, create,
//! change role, reset password, remove) and the audit trail (admin). Identity itself is
//! decided in `auth`. The user changes are also what the users page (`pages_users`) calls.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Extension, Router};
use serde::Deserialize;

use super::auth::{self, ApiUser, Limiter, Peer};
use super::body::{Json, Path, Query};
use super::{ApiError, PanelState, audit};
use crate::accounts::{self, AccountError};
use crate::store::{Role, User};

/// The account routes.
pub(super) fn routes() -> Router<PanelState> {
    Router::new()
        .route("/api/login", post(login))
        .route("/api/logout", post(logout))
        .route("/api/me", get(me))
        .route("/api/users", get(users).post(create_user))
        .route(
            "/api/users/{id}",
            axum::routing::patch(change_user).delete(delete_user),
        )
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
pub(super) struct ChangeUserBody {
    role: Option<Role>,
    password: Option<String>,
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
    let user = save_user(&state, &who, &body.name, body.role, &body.password).await?;
    Ok((StatusCode::CREATED, axum::Json(user)))
}

/// `PATCH /api/users/{id}` (admin): a new role, a new password, or both. Either ends the
/// user's sessions. An admin cannot change their own role.
async fn change_user(
    State(state): State<PanelState>,
    ApiUser(who): ApiUser,
    Path(id): Path<i64>,
    Json(body): Json<ChangeUserBody>,
) -> Result<impl IntoResponse, ApiError> {
    let user = change(&state, &who, id, body.role, body.password.as_deref()).await?;
    Ok(axum::Json(user))
}

/// `DELETE /api/users/{id}` (admin). An admin cannot delete themself.
async fn delete_user(
    State(state): State<PanelState>,
    ApiUser(who): ApiUser,
    Path(id): Path<i64>,
) -> Result<impl IntoResponse, ApiError> {
    remove(&state, &who, id)?;
    Ok(StatusCode::NO_CONTENT)
}

/// Creates the user or resets their password and role (admin); audited.
pub(super) async fn save_user(
    state: &PanelState,
    who: &auth::Principal,
    name: &str,
    role: Role,
    password: &str,
) -> Result<User, ApiError> {
    who.require(Role::Admin)?;
    let now = state.clock.now();
    let (store, name2, password) = (state.store.clone(), name.to_owned(), password.to_owned());
    let user = tokio::task::spawn_blocking(move || {
        accounts::set_password(&store, &name2, role, &password, now)
    })
    .await
    .map_err(|_| ApiError::internal())?
    .map_err(account_error)?;
    audit(
        state,
        who,
        "user.save",
        format!("user {}", user.id),
        format!("{} ({})", user.name, user.role.as_str()),
    );
    Ok(user)
}

/// Changes a user's role and/or password (admin); audited.
pub(super) async fn change(
    state: &PanelState,
    who: &auth::Principal,
    id: i64,
    role: Option<Role>,
    password: Option<&str>,
) -> Result<User, ApiError> {
    who.require(Role::Admin)?;
    let target = find(state, id)?;
    let new_role = role.unwrap_or(target.role);
    if new_role != target.role && is_self(who, &target) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "conflict",
            "you cannot change your own role; another administrator can".to_owned(),
        ));
    }
    if let Some(password) = password {
        return save_user(state, who, &target.name, new_role, password).await;
    }
    if role.is_none() {
        return Err(ApiError::unprocessable("send a role, a password, or both"));
    }
    // Same password hash, new role: the store's upsert also ends the user's sessions.
    let (_, hash) = state
        .store
        .user_with_hash(&target.name)?
        .ok_or_else(|| ApiError::not_found(format!("user {id} not found")))?;
    let user = state
        .store
        .upsert_user(&target.name, new_role, &hash, state.clock.now())?;
    audit(
        state,
        who,
        "user.role",
        format!("user {}", user.id),
        format!(
            "{} ({} → {})",
            user.name,
            target.role.as_str(),
            user.role.as_str()
        ),
    );
    Ok(user)
}

/// Removes a user and their sessions (admin; not oneself); audited.
pub(super) fn remove(state: &PanelState, who: &auth::Principal, id: i64) -> Result<User, ApiError> {
    who.require(Role::Admin)?;
    let target = find(state, id)?;
    if is_self(who, &target) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "conflict",
            "you cannot delete your own account".to_owned(),
        ));
    }
    state.store.delete_user(id)?;
    audit(
        state,
        who,
        "user.delete",
        format!("user {id}"),
        target.name.clone(),
    );
    Ok(target)
}

fn find(state: &PanelState, id: i64) -> Result<User, ApiError> {
    state
        .store
        .users()?
        .into_iter()
        .find(|u| u.id == id)
        .ok_or_else(|| ApiError::not_found(format!("user {id} not found")))
}

fn is_self(who: &auth::Principal, user: &User) -> bool {
    !who.via_token && user.name.eq_ignore_ascii_case(&who.name)
}

fn account_error(e: AccountError) -> ApiError {
    match e {
        AccountError::WeakPassword => ApiError::unprocessable(e.to_string()),
        AccountError::Store(s) => ApiError::from(s),
        other => {
            tracing::error!(error = %other, "cannot save a user");
            ApiError::internal()
        }
    }
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
