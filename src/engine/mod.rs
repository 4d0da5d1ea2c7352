//! The engine: one loop owning the schedule, the player and the relay, taking commands
//! through one channel and writing every occurrence's outcome to the log.
//!
//! The decisions live in [`core::EngineCore`], a state machine with no I/O; this module is
//! its async shell: it reads the clock (through the injected [`Clock`]), naps until the
//! next thing to do (at most a minute, so clock jumps are noticed), forwards player events
//! and commands, persists how far the schedule has been handled, and publishes a status
//! snapshot. It knows nothing of HTTP.

pub mod core;
pub mod effects;
pub mod prepare;

use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Utc};
use tokio::sync::{mpsc, watch};

use crate::amp::AmpEvent;
use crate::clock::Clock;
use crate::engine::core::{CoreSettings, EngineCore, MAX_NAP, ManualRequest, PlayEnd};
use crate::engine::effects::RealEffects;
use crate::model::{Campaign, Programme};
use crate::player::{self, OutputState, PlayerEvent};
use crate::schedule::{Station, StationRules};
use crate::store::{Store, StoreError};

/// A command to the engine.
#[derive(Debug, Clone)]
pub enum Command {
    /// Play a playlist now or at an instant, at a priority.
    Request(ManualRequest),
    /// Stop what is on air.
    Stop {
        /// Who asked.
        requested_by: String,
    },
    /// Programmes or campaigns changed in the store: re-read them.
    Reload,
}

/// A snapshot of the engine for the panel, health checks and metrics.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct EngineStatus {
    /// The broadcast on air: its scheduled instant and playlist id.
    pub on_air: Option<OnAirStatus>,
    /// Whether the relay is on.
    pub relay_on: bool,
    /// Whether the clock is synchronised.
    pub clock_synchronised: bool,
    /// The output device's state, in words.
    pub output: String,
    /// Whether the output device is working.
    pub output_ok: bool,
    /// The last problem the engine met.
    pub last_error: Option<String>,
    /// The next scheduled instant.
    pub next_occurrence: Option<DateTime<Utc>>,
    /// How many broadcasts started since the daemon started.
    pub broadcasts_started: u64,
    /// Accepted one-shots waiting for their instant.
    pub one_shots_waiting: usize,
    /// When the loop last went round (the systemd watchdog is fed only while it does).
    #[serde(skip)]
    pub heartbeat: Option<Instant>,
}

/// What is on air.
#[derive(Debug, Clone, serde::Serialize)]
pub struct OnAirStatus {
    /// When it was due.
    pub scheduled_at: DateTime<Utc>,
    /// The playlist.
    pub playlist: i64,
    /// Its priority.
    pub priority: crate::model::Priority,
    /// The programme it is an occurrence of (`None` for a manual broadcast).
    pub programme: Option<i64>,
    /// The playlist's name (empty until the player has it).
    pub playlist_name: String,
    /// When it began: the first sample, or the request until the player reports it.
    pub started_at: Option<DateTime<Utc>>,
    /// How long it plays in all (chimes, clips, gaps), in milliseconds.
    pub length_ms: Option<u64>,
    /// Milliseconds since `started_at` when the snapshot was taken (see
    /// [`EngineStatus::as_of`]), at most `length_ms`.
    pub elapsed_ms: Option<u64>,
    /// The clip on air, counting from 1 (0 while the opening chime plays).
    pub clip: usize,
    /// How many clips it plays (repeats included).
    pub clips: usize,
    /// The title of the clip on air.
    pub clip_title: Option<String>,
}

impl EngineStatus {
    /// The snapshot with the on-air elapsed time brought up to `now` (the snapshot is
    /// published when something changes, not every second).
    #[must_use]
    pub fn as_of(mut self, now: DateTime<Utc>) -> EngineStatus {
        if let Some(air) = &mut self.on_air {
            air.elapsed_ms = air.started_at.map(|t| {
                let ms = u64::try_from((now - t).num_milliseconds()).unwrap_or(0);
                air.length_ms.map_or(ms, |len| ms.min(len))
            });
        }
        self
    }
}

/// The timing and rules the engine runs with.
#[derive(Debug, Clone)]
pub struct EngineSettings {
    /// Core timing.
    pub core: CoreSettings,
    /// Station rules.
    pub rules: StationRules,
    /// Station time zone.
    pub tz: chrono_tz::Tz,
    /// Whether unapproved programmes are held back.
    pub approval_required: bool,
}

/// The handle others use to talk to the engine.
#[derive(Debug, Clone)]
pub struct EngineHandle {
    commands: mpsc::UnboundedSender<Command>,
    status: watch::Receiver<EngineStatus>,
}

/// Why the engine could not run.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The database failed at start.
    #[error("engine cannot read its state")]
    Store(#[from] StoreError),
}

impl EngineHandle {
    /// Sends a command; false if the engine has stopped.
    pub fn send(&self, command: Command) -> bool {
        self.commands.send(command).is_ok()
    }

    /// The latest status snapshot.
    pub fn status(&self) -> EngineStatus {
        self.status.borrow().clone()
    }
}

/// The meta key under which the handled-until instant is persisted.
const CHECKED_UNTIL: &str = "engine.checked_until";
/// The meta key under which accepted one-shots waiting for their instant are persisted,
/// so an acknowledged one-shot survives a restart or power cut.
const ONE_SHOTS: &str = "engine.one_shots";

/// A one-shot as persisted while it waits.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct PendingOneShot {
    playlist: crate::model::PlaylistId,
    priority: crate::model::Priority,
    at: DateTime<Utc>,
    requested_by: String,
    #[serde(default)]
    approved_playlist_version: Option<i64>,
}

/// Creates the command channel and status watch; `run` consumes the other ends.
pub fn channel() -> (EngineHandle, EngineInbox) {
    let (tx, rx) = mpsc::unbounded_channel();
    let (status_tx, status_rx) = watch::channel(EngineStatus::default());
    (
        EngineHandle {
            commands: tx,
            status: status_rx,
        },
        EngineInbox {
            commands: rx,
            status: status_tx,
        },
    )
}

/// The engine's ends of its channels.
#[derive(Debug)]
pub struct EngineInbox {
    commands: mpsc::UnboundedReceiver<Command>,
    status: watch::Sender<EngineStatus>,
}

impl EngineInbox {
    /// The next command waiting, if any, without running the engine: lets tests of the
    /// panel see exactly what it asked the engine to do.
    pub fn try_next(&mut self) -> Option<Command> {
        self.commands.try_recv().ok()
    }
}

/// Runs the engine until `shutdown` resolves; the relay is off when it returns.
pub async fn run(
    settings: EngineSettings,
    clock: Arc<dyn Clock>,
    mut fx: RealEffects,
    mut player_events: mpsc::UnboundedReceiver<PlayerEvent>,
    mut amp_events: mpsc::UnboundedReceiver<AmpEvent>,
    mut inbox: EngineInbox,
    shutdown: impl Future<Output = ()>,
) -> Result<(), EngineError> {
    let store = fx.store.clone();
    for settled in store.settle_unfinished()? {
        tracing::warn!(scheduled = %settled.scheduled_at, "a broadcast was cut by a crash or power loss; logged as failed");
    }
    let (mut programmes, mut campaigns) = load(&store)?;
    let checked = store
        .meta(CHECKED_UNTIL)?
        .and_then(|s| DateTime::parse_from_rfc3339(&s).ok())
        .map(|t| t.to_utc());
    let mut core = EngineCore::new(settings.core.clone(), checked);
    let mut persisted_one_shots = restore_one_shots(
        &store,
        &mut core,
        &settings,
        &programmes,
        &campaigns,
        &*clock,
        &mut fx,
    );
    let mut status = EngineStatus {
        output: "opening".to_owned(),
        ..EngineStatus::default()
    };
    tokio::pin!(shutdown);
    loop {
        let now = clock.now();
        let synced = clock.is_synchronised();
        let station = Station {
            programmes: &programmes,
            campaigns: &campaigns,
            rules: &settings.rules,
            tz: settings.tz,
            approval_required: settings.approval_required,
        };
        let before = core.checked_until();
        core.tick(now, synced, &station, &mut fx);
        if let Some(checked) = core.checked_until().filter(|c| Some(*c) != before) {
            if let Err(e) = store.set_meta(CHECKED_UNTIL, &checked.to_rfc3339()) {
                tracing::error!(error = %e, "cannot persist the schedule position");
            }
        }
        persist_one_shots(&store, &core, &mut persisted_one_shots);
        status.relay_on = core.relay_is_on();
        status.one_shots_waiting = core.pending_one_shots().len();
        status.clock_synchronised = synced;
        status.on_air = core.on_air().map(|j| on_air_status(j, fx.on_air.as_ref()));
        status.last_error.clone_from(&fx.last_error);
        status.next_occurrence = station.next_instant(now.max(core.checked_until().unwrap_or(now)));
        status.heartbeat = Some(Instant::now());
        inbox.status.send_replace(status.clone().as_of(now));

        let wake = core
            .next_wake(now, &station)
            .map_or(now + MAX_NAP, |w| w.min(now + MAX_NAP));
        let nap = (wake - clock.now()).to_std().unwrap_or_default();
        tokio::select! {
            () = &mut shutdown => break,
            () = tokio::time::sleep(nap) => {}
            Some(command) = inbox.commands.recv() => {
                let now = clock.now();
                match command {
                    Command::Request(req) => core.request(req, now, &station, &mut fx),
                    Command::Stop { requested_by } => core.stop(&requested_by, now, &mut fx),
                    Command::Reload => {
                        match load(&store) {
                            Ok((p, c)) => {
                                (programmes, campaigns) = (p, c);
                                let station = Station {
                                    programmes: &programmes,
                                    campaigns: &campaigns,
                                    rules: &settings.rules,
                                    tz: settings.tz,
                                    approval_required: settings.approval_required,
                                };
                                core.reload(now, &station, &mut fx);
                            }
                            Err(e) => tracing::error!(error = %e, "cannot reload programmes"),
                        }
                    }
                }
            }
            Some(event) = amp_events.recv() => {
                match event {
                    AmpEvent::MaxOnReached { .. } => {
                        tracing::error!("the amplifier relay reached its maximum on time and was cut");
                        core.relay_cut(&mut fx);
                    }
                    AmpEvent::RelayFailed { error, .. } => {
                        fx.last_error = Some(format!("relay: {error}"));
                    }
                    _ => {}
                }
            }
            Some(event) = player_events.recv() => {
                let now = clock.now();
                match event {
                    PlayerEvent::Started { id, first_sample_at } => {
                        if let Some(air) = fx.on_air.as_mut().filter(|a| a.broadcast == id) {
                            air.first_sample = Some(wall_time(&*clock, first_sample_at));
                            status.broadcasts_started += 1;
                        }
                    }
                    PlayerEvent::ItemStarted { id, index } => {
                        if let Some(air) = fx.on_air.as_mut().filter(|a| a.broadcast == id) {
                            air.items_started = air.items_started.max(index + 1);
                        }
                    }
                    PlayerEvent::Finished { id, outcome, .. } => {
                        if fx.on_air.as_ref().is_some_and(|a| a.broadcast == id) {
                            let end = match outcome {
                                player::Outcome::Completed => PlayEnd::Completed,
                                player::Outcome::Stopped => PlayEnd::Stopped,
                                player::Outcome::Failed(error) => PlayEnd::Failed {
                                    played_any: fx.on_air.as_ref().is_some_and(|a| a.clips_aired() > 0),
                                    error,
                                },
                            };
                            core.finished(end, now, &station, &mut fx);
                        }
                    }
                    PlayerEvent::OutputState(state) => {
                        (status.output, status.output_ok) = match &state {
                            OutputState::Open { name } | OutputState::Reopened { name } => (name.clone(), true),
                            OutputState::Failed { error } => (format!("unavailable: {error}"), false),
                        };
                        if !status.output_ok {
                            tracing::warn!(output = %status.output, "output device problem; retrying");
                        }
                    }
                }
            }
        }
    }
    core.shut_down(clock.now(), &mut fx);
    if let Err(e) = fx.amp.switch_off("shutdown") {
        tracing::error!(error = %e, "relay did not switch off at shutdown");
    }
    Ok(())
}

/// The status of the job on air, with its progress from the effects' record.
fn on_air_status(job: &core::Job, record: Option<&effects::OnAirRecord>) -> OnAirStatus {
    OnAirStatus {
        scheduled_at: job.scheduled_at,
        playlist: job.playlist.0,
        priority: job.priority,
        programme: match job.origin {
            crate::model::Origin::Scheduled { programme } => Some(programme.0),
            crate::model::Origin::Manual { .. } => None,
        },
        playlist_name: record.map_or_else(String::new, |r| r.playlist_name.clone()),
        started_at: record.map(|r| r.first_sample.unwrap_or(r.requested_at)),
        length_ms: record.map(|r| u64::try_from(r.length.as_millis()).unwrap_or(u64::MAX)),
        elapsed_ms: None,
        clip: record.map_or(0, effects::OnAirRecord::clips_aired),
        clips: record.map_or(0, |r| r.clips.len()),
        clip_title: record.and_then(|r| r.current_clip().map(str::to_owned)),
    }
}

/// Converts a monotonic instant from the player into wall-clock time.
fn wall_time(clock: &dyn Clock, at: Instant) -> DateTime<Utc> {
    let ago = Instant::now().saturating_duration_since(at);
    clock.now() - chrono::Duration::from_std(ago).unwrap_or_default()
}

/// Re-requests the one-shots accepted before a restart (they were acknowledged).
fn restore_one_shots(
    store: &Store,
    core: &mut EngineCore,
    settings: &EngineSettings,
    programmes: &[Programme],
    campaigns: &[Campaign],
    clock: &dyn Clock,
    fx: &mut RealEffects,
) -> Vec<PendingOneShot> {
    let saved: Vec<PendingOneShot> = match store.meta(ONE_SHOTS) {
        Ok(Some(text)) => serde_json::from_str(&text).unwrap_or_else(|e| {
            tracing::error!(error = %e, "cannot read the saved one-shots; they are lost");
            Vec::new()
        }),
        Ok(None) => Vec::new(),
        Err(e) => {
            tracing::error!(error = %e, "cannot read the saved one-shots");
            Vec::new()
        }
    };
    let station = Station {
        programmes,
        campaigns,
        rules: &settings.rules,
        tz: settings.tz,
        approval_required: settings.approval_required,
    };
    let now = clock.now();
    for shot in &saved {
        let late = now - shot.at;
        if late > chrono::Duration::from_std(settings.core.catch_up).unwrap_or_default() {
            tracing::warn!(at = %shot.at, "a one-shot was due while the box was down; not played");
            continue;
        }
        core.request(
            ManualRequest {
                playlist: shot.playlist,
                priority: shot.priority,
                at: Some(shot.at),
                requested_by: shot.requested_by.clone(),
                approved_playlist_version: shot.approved_playlist_version,
            },
            now,
            &station,
            fx,
        );
    }
    Vec::new()
}

/// Saves the waiting one-shots when they changed.
fn persist_one_shots(store: &Store, core: &EngineCore, persisted: &mut Vec<PendingOneShot>) {
    let pending: Vec<PendingOneShot> = core
        .pending_one_shots()
        .iter()
        .map(|j| PendingOneShot {
            playlist: j.playlist,
            priority: j.priority,
            at: j.scheduled_at,
            requested_by: match &j.origin {
                crate::model::Origin::Manual { requested_by } => requested_by.clone(),
                crate::model::Origin::Scheduled { .. } => String::new(),
            },
            approved_playlist_version: j.approved_playlist_version,
        })
        .collect();
    if pending == *persisted {
        return;
    }
    let text = serde_json::to_string(&pending).unwrap_or_else(|_| "[]".to_owned());
    match store.set_meta(ONE_SHOTS, &text) {
        Ok(()) => *persisted = pending,
        Err(e) => tracing::error!(error = %e, "cannot save the waiting one-shots"),
    }
}

fn load(store: &Store) -> Result<(Vec<Programme>, Vec<Campaign>), StoreError> {
    Ok((store.programmes()?, store.campaigns()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elapsed_is_brought_up_to_now_and_stops_at_the_length() {
        let t0 = DateTime::parse_from_rfc3339("2026-06-01T06:00:00+07:00")
            .unwrap()
            .to_utc();
        let air = OnAirStatus {
            scheduled_at: t0,
            playlist: 1,
            priority: crate::model::Priority::Normal,
            programme: Some(3),
            playlist_name: "Khẩu hiệu tháng 6".to_owned(),
            started_at: Some(t0 + chrono::Duration::seconds(2)),
            length_ms: Some(30_000),
            elapsed_ms: None,
            clip: 1,
            clips: 2,
            clip_title: Some("Tổng đài 111".to_owned()),
        };
        let status = EngineStatus {
            on_air: Some(air),
            ..EngineStatus::default()
        };
        let at = |s| {
            status
                .clone()
                .as_of(t0 + chrono::Duration::seconds(s))
                .on_air
                .unwrap()
                .elapsed_ms
        };
        assert_eq!(at(12), Some(10_000));
        assert_eq!(at(60), Some(30_000), "never past the length");
        assert_eq!(at(0), Some(0), "a clock behind the start is not negative");
        let mut unstarted = status.clone();
        unstarted.on_air.as_mut().unwrap().started_at = None;
        assert_eq!(unstarted.as_of(t0).on_air.unwrap().elapsed_ms, None);
    }
}
