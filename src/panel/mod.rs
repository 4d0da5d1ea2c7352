//! The web panel and JSON API: the axum router, its handlers and error mapping.
//!
//! It is the only module that knows HTTP. It reads the store, asks the engine for its
//! status and sends it commands; it never touches audio devices, the relay, or the clock
//! directly (the clock comes in as state). Errors are `{"error": {"code", "message"}}` with
//! a 4xx status for bad input and 500 (logged) otherwise. State-changing API calls need a
//! bearer token declared in the config file.

mod api;
mod openapi;
mod pages;
mod playlists;

pub use openapi::DOCUMENTED as DOCUMENTED_ROUTES;

use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};

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
}

/// An API error: a status and a stable code with a message for people.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl ApiError {
    /// 400 with a message saying what is wrong.
    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            code: "bad_request",
            message: message.into(),
        }
    }

    fn unauthorized() -> ApiError {
        ApiError {
            status: StatusCode::UNAUTHORIZED,
            code: "unauthorized",
            message:
                "this call needs Authorization: Bearer TOKEN with a token from the config file"
                    .to_owned(),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match e {
            StoreError::NotFound { .. } => ApiError {
                status: StatusCode::NOT_FOUND,
                code: "not_found",
                message: e.to_string(),
            },
            other => {
                tracing::error!(error = %other, "database error in the panel");
                ApiError {
                    status: StatusCode::INTERNAL_SERVER_ERROR,
                    code: "internal",
                    message: "internal error; see the daemon's log".to_owned(),
                }
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({"error": {"code": self.code, "message": self.message}});
        (self.status, axum::Json(body)).into_response()
    }
}

/// The panel's router.
pub fn router(state: PanelState) -> Router {
    Router::new()
        .route("/", get(pages::dashboard))
        .route("/healthz", get(api::healthz))
        .route("/metrics", get(api::metrics))
        .route("/api/openapi.json", get(openapi::document))
        .route("/api/status", get(api::status))
        .route("/api/schedule", get(api::schedule))
        .route("/api/log", get(api::log))
        .route("/api/cron/preview", get(api::cron_preview))
        .route("/api/broadcasts", post(api::broadcast))
        .route("/api/broadcasts/stop", post(api::stop))
        .route("/api/playlists/{id}/items", put(playlists::replace_items))
        .fallback(|| async {
            ApiError {
                status: StatusCode::NOT_FOUND,
                code: "not_found",
                message: "no such page or API route".to_owned(),
            }
        })
        .layer(axum::middleware::map_response(security_headers))
        .with_state(state)
}

/// Checks the bearer token against the config; returns the token's name.
fn authorize(state: &PanelState, headers: &HeaderMap) -> Result<String, ApiError> {
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(ApiError::unauthorized)?;
    state
        .config
        .tokens
        .iter()
        .find(|t| constant_time_eq(t.token.as_bytes(), given.as_bytes()))
        .map(|t| t.name.clone())
        .ok_or_else(ApiError::unauthorized)
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
        "default-src 'self'; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'"
            .parse()
            .expect("static header"),
    );
    response
}
