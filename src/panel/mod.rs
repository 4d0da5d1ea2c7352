//! The web panel and JSON API: the axum router, its handlers and error mapping.
//!
//! It is the only module that knows HTTP. It reads the store, asks the engine for its
//! status and sends it commands; it never touches audio devices, the relay, or the clock
//! directly (the clock comes in as state). Errors are `{"error": {"code", "message"}}` with
//! a 4xx status for bad input and 500 (logged) otherwise. Every route but `/healthz`,
//! `/metrics`, `/api/openapi.json`, the login and first-admin pages and the static files
//! needs a logged-in user or a config-file bearer token (see `auth`); changes need a role
//! and are written to the audit trail.

mod account_api;
mod actions;
mod airable;
mod api;
pub mod auth;
mod body;
mod clips_api;
mod health_report;
mod i18n;
mod login;
mod openapi;
mod pages;
mod pages_dashboard;
mod pages_library;
mod pages_ops;
mod pages_programmes;
mod pages_schedule;
mod pages_users;
mod pages_week;
mod pending_api;
mod playlist_api;
mod preview_api;
mod programme_api;
mod report_api;
mod server;
mod static_files;
mod timeout;
pub(crate) mod upload;
mod words;

pub use health_report::{HealthCache, STORED_CHECKS_FRESH_FOR};
pub use openapi::DOCUMENTED as DOCUMENTED_ROUTES;
pub use server::{HEADER_TIMEOUT, serve};
pub use timeout::{REQUEST_TIMEOUT, UPLOAD_IDLE_TIMEOUT, UPLOAD_TIMEOUT};

use std::sync::Arc;

use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use crate::clock::Clock;
use crate::config::Config;
use crate::engine::EngineHandle;
use crate::store::{Store, StoreError};

/// What every handler can reach.
#[derive(Clone)]
pub struct PanelState {
    /// The validated config.
    pub config: Arc<Config>,
    /// The database.
    pub store: Store,
    /// The engine.
    pub engine: EngineHandle,
    /// The wall clock.
    pub clock: Arc<dyn Clock>,
    /// The last result of the slow health checks, shared by requests.
    pub health: Arc<HealthCache>,
}

/// An API error: a status and a stable code with a message for people.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    /// For 409: the row as stored now, sent beside the error as `current`.
    current: Option<serde_json::Value>,
}

impl ApiError {
    /// An error with this status, code and message.
    pub fn new(status: StatusCode, code: &'static str, message: String) -> ApiError {
        ApiError {
            status,
            code,
            message,
            current: None,
        }
    }

    /// The stable error code, e.g. `expired`.
    pub fn code(&self) -> &'static str {
        self.code
    }

    /// 500 with a pointer to the log (the cause is logged by the caller).
    pub fn internal() -> ApiError {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error; see the daemon's log".to_owned(),
        )
    }

    /// 404 for a missing row or route.
    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", message.into())
    }

    /// 422: well-formed input that breaks a rule.
    pub fn unprocessable(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", message.into())
    }

    /// 400 with a message saying what is wrong.
    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_request", message.into())
    }

    /// 401: no valid session or token.
    pub fn unauthorized() -> ApiError {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "log in, or send Authorization: Bearer TOKEN with a token from the config \
                      file"
                .to_owned(),
        )
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match e {
            StoreError::NotFound { .. } => ApiError {
                status: StatusCode::NOT_FOUND,
                code: "not_found",
                message: e.to_string(),
                current: None,
            },
            StoreError::Invalid(m) => ApiError::unprocessable(m),
            StoreError::InUse { .. } => ApiError {
                status: StatusCode::CONFLICT,
                code: "in_use",
                message: e.to_string(),
                current: None,
            },
            StoreError::VersionConflict { ref current } => ApiError {
                status: StatusCode::CONFLICT,
                code: "version_conflict",
                message: e.to_string(),
                current: serde_json::to_value(current).ok(),
            },
            other => {
                tracing::error!(error = %other, "database error in the panel");
                ApiError::internal()
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = serde_json::json!({"error": {"code": self.code, "message": self.message}});
        if let Some(current) = self.current {
            body["current"] = current;
        }
        (self.status, axum::Json(body)).into_response()
    }
}

/// The panel's router.
pub fn router(state: PanelState) -> Router {
    let limiter: auth::Limiter = Arc::new(auth::LoginLimiter::default());
    Router::new()
        .route("/", get(pages_dashboard::dashboard))
        .route("/login", get(login::page_get).post(login::submit))
        .route("/logout", post(login::logout))
        .route("/setup", get(login::setup_page).post(login::setup_submit))
        .route("/static/{file}", get(static_files::serve))
        .merge(pages::routes())
        .route("/healthz", get(api::healthz))
        .route("/metrics", get(api::metrics))
        .route("/api/openapi.json", get(openapi::document))
        .route("/api/status", get(api::status))
        .route("/api/schedule", get(api::schedule))
        .route("/api/cron/preview", get(api::cron_preview))
        .route("/api/broadcasts", post(api::broadcast))
        .route("/api/broadcasts/stop", post(api::stop))
        .merge(account_api::routes())
        .merge(clips_api::routes())
        .merge(playlist_api::routes())
        .merge(programme_api::routes())
        .merge(preview_api::routes())
        .merge(report_api::routes())
        .merge(pending_api::routes())
        .fallback(|| async { ApiError::not_found("no such page or API route") })
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::authenticate,
        ))
        .layer(axum::Extension(limiter))
        .layer(axum::middleware::from_fn(i18n::remember))
        .layer(axum::middleware::from_fn(timeout::bound))
        .layer(axum::middleware::map_response(security_headers))
        .with_state(state)
}

/// Writes one audit row; a failure is logged, never shown to the user (the change is done).
pub(crate) fn audit(
    state: &PanelState,
    who: &auth::Principal,
    action: &str,
    target: String,
    detail: String,
) {
    if let Err(e) = state
        .store
        .audit(state.clock.now(), &who.actor(), action, &target, &detail)
    {
        tracing::error!(error = %e, action, "cannot write the audit trail");
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

async fn security_headers(mut response: Response) -> Response {
    let h = response.headers_mut();
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        "nosniff".parse().expect("static header"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
         media-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
            .parse()
            .expect("static header"),
    );
    h.insert(
        header::X_FRAME_OPTIONS,
        "DENY".parse().expect("static header"),
    );
    h.insert(
        header::REFERRER_POLICY,
        "same-origin".parse().expect("static header"),
    );
    response
}
