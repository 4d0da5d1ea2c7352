//! The daemon's health report as `/healthz`, `/metrics` and the dashboard serve it. The
//! checks themselves live in [`crate::health`]; this module only decides how often the
//! slow ones run.
//!
//! Two checks read everything: the database's `integrity_check` and the media check, which
//! looks for every clip's file. Run per request, fifty phones on the dashboard cost a
//! whole-database read each (and a connection's page cache each, in memory). So they run
//! at most one at a time and their result is shared by the requests that come within
//! [`STORED_CHECKS_FRESH_FOR`] of it; the engine's view (output, relay, clock), the disk
//! and the last broadcast are read fresh for every request.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use super::PanelState;
use crate::engine::EngineStatus;
use crate::health::{self, Check, Report};

/// How long the database and media checks' result is served before they run again.
pub const STORED_CHECKS_FRESH_FOR: Duration = Duration::from_secs(1);

/// The last result of the database and media checks, and when they ran.
#[derive(Debug, Default)]
pub struct HealthCache {
    stored: tokio::sync::Mutex<Option<(Instant, [Check; 2])>>,
}

/// The daemon's health report as of `now`, computed off the async threads.
pub(super) async fn report(
    state: &PanelState,
    status: &EngineStatus,
    now: DateTime<Utc>,
) -> Report {
    let stored = stored_checks(state).await;
    let (config, store, status) = (state.config.clone(), state.store.clone(), status.clone());
    tokio::task::spawn_blocking(move || {
        health::daemon_report_with(stored, &config, &store, &status, now)
    })
    .await
    .unwrap_or_else(|e| Report {
        checks: vec![panicked("health", &e)],
    })
}

/// The database and media checks: the shared result while it is fresh, else a new run
/// (callers that arrive meanwhile wait for it rather than start their own).
async fn stored_checks(state: &PanelState) -> [Check; 2] {
    let cache: Arc<HealthCache> = state.health.clone();
    let mut last = cache.stored.lock().await;
    if let Some((at, checks)) = &*last
        && at.elapsed() < STORED_CHECKS_FRESH_FOR
    {
        return checks.clone();
    }
    let (config, store) = (state.config.clone(), state.store.clone());
    let checks = tokio::task::spawn_blocking(move || health::stored_checks(&config, &store))
        .await
        .unwrap_or_else(|e| [panicked("database", &e), panicked("media", &e)]);
    *last = Some((Instant::now(), checks.clone()));
    checks
}

/// The check `name` when computing it panicked.
fn panicked(name: &'static str, e: &tokio::task::JoinError) -> Check {
    Check::problem(
        name,
        format!("the health check panicked: {e}"),
        "see the daemon's log",
    )
}
