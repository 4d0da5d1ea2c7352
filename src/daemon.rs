//! `loa serve`: wires the store, player, amplifier, engine and panel together and runs them
//! until SIGTERM or SIGINT.
//!
//! [`run`] is injectable (house style 3): it takes its listener, clock, output factory and
//! shutdown future, so a test runs the whole daemon on a port-0 listener with a fake clock
//! and a capture output. [`serve`] is the production wiring around it: real clock, the
//! configured output, signals, systemd notification.

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;

use chrono::Utc;
use tokio::net::TcpListener;
use tokio::sync::mpsc;

use crate::amp::{self, AmpTiming, Amplifier};
use crate::clock::{Clock, SystemClock};
use crate::config::Config;
use crate::engine::core::CoreSettings;
use crate::engine::effects::{AudioSettings, RealEffects};
use crate::engine::prepare::GainPolicy;
use crate::engine::{self, EngineHandle, EngineSettings};
use crate::library;
use crate::output::{Output, OutputError, OutputFormat};
use crate::panel::{self, PanelState};
use crate::player::{Player, PlayerConfig};
use crate::seed;
use crate::store::Store;

/// Why the daemon stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    /// Startup failed.
    #[error("{0}")]
    Startup(String),
    /// The engine failed.
    #[error(transparent)]
    Engine(#[from] engine::EngineError),
}

/// What `run` needs from outside.
pub struct Wiring<F> {
    /// The validated config.
    pub config: Config,
    /// Where the panel listens.
    pub listener: TcpListener,
    /// Wall clock and synchronisation.
    pub clock: Arc<dyn Clock>,
    /// Opens the output device (called on the player thread, again after failures).
    pub output_factory: F,
    /// Where shipped media (chime, demo clips) are.
    pub shipped_media: PathBuf,
}

/// Production entry: real clock and output, signals, systemd readiness.
pub fn serve(config: Config) -> Result<(), DaemonError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| DaemonError::Startup(format!("cannot start the runtime: {e}")))?;
    runtime.block_on(async {
        let shutdown = shutdown_signal()?;
        let listener = TcpListener::bind(config.panel.listen).await.map_err(|e| {
            DaemonError::Startup(format!("cannot listen on {}: {e}", config.panel.listen))
        })?;
        let format = output_format(&config);
        let spec = config.audio.output.clone();
        let shipped_media = crate::demo::shipped_media_dir(&config.path);
        let wiring = Wiring {
            listener,
            // The kernel's answer as it is: the engine applies `require_clock_sync`, and
            // health reports both.
            clock: Arc::new(SystemClock::default()),
            output_factory: move || spec.open(format),
            shipped_media,
            config,
        };
        run(wiring, shutdown, |engine| {
            let _ = sd_notify::notify(&[sd_notify::NotifyState::Ready]);
            if let Some(period) = sd_notify::watchdog_enabled() {
                tokio::spawn(feed_watchdog(engine.clone(), period));
            }
        })
        .await
    })
}

/// Runs the daemon until `shutdown` resolves. `on_ready` receives the engine handle once
/// the database, schedule and output are set up (tests use it; `serve` notifies systemd).
pub async fn run<F>(
    wiring: Wiring<F>,
    shutdown: impl Future<Output = ()> + Send + 'static,
    on_ready: impl FnOnce(&EngineHandle),
) -> Result<(), DaemonError>
where
    F: FnMut() -> Result<Box<dyn Output>, OutputError> + Send + 'static,
{
    let config = wiring.config;
    let data_dir = &config.station.data_dir;
    std::fs::create_dir_all(data_dir).map_err(|e| {
        DaemonError::Startup(format!(
            "cannot create data directory {}: {e}",
            data_dir.display()
        ))
    })?;
    let store =
        Store::open(&data_dir.join("loa.db")).map_err(|e| DaemonError::Startup(e.to_string()))?;
    let media_dir = library::media_dir(data_dir);
    match library::sweep_orphans(&store, &media_dir) {
        Ok(0) => {}
        Ok(n) => tracing::warn!(
            removed = n,
            "removed half-written media files left by a crash"
        ),
        Err(e) => tracing::error!(error = %e, "cannot sweep the media directory"),
    }
    let cut_off = panel::upload::sweep_leftovers(data_dir);
    if cut_off > 0 {
        tracing::warn!(
            removed = cut_off,
            "removed temporary files of uploads cut off by a crash"
        );
    }
    if config.station.seed_demo {
        match seed::seed_if_empty(&store, &media_dir, &wiring.shipped_media, Utc::now()) {
            Ok(true) => tracing::info!("seeded the demo campaign into the empty database"),
            Ok(false) => {}
            Err(e) => tracing::error!(error = %e, "cannot seed the demo campaign"),
        }
    }

    let (player_tx, player_events) = mpsc::unbounded_channel();
    let player = Player::spawn_with(
        wiring.output_factory,
        PlayerConfig::default(),
        move |event| {
            let _ = player_tx.send(event);
        },
    )
    .map_err(|e| DaemonError::Startup(e.to_string()))?;
    let relay = amp::open(&config.amp.relay).map_err(|e| DaemonError::Startup(e.to_string()))?;
    let (amp_tx, amp_events) = mpsc::unbounded_channel();
    let amp = Amplifier::new(relay, AmpTiming::new(config.amp.max_on), move |event| {
        tracing::info!(?event, "amplifier");
        let _ = amp_tx.send(event);
    })
    .map_err(|e| DaemonError::Startup(e.to_string()))?;
    switch_off_on_panic(&amp);
    let audio = AudioSettings {
        format: output_format(&config),
        policy: GainPolicy {
            target_lufs: config.audio.target_lufs,
            ceiling_dbtp: config.audio.ceiling_dbtp,
            master_db: config.audio.master_volume_db,
        },
        gap: config.audio.gap,
        chime: config.audio.chime.clone(),
        media_dir,
    };
    let fx = RealEffects::new(store.clone(), player, amp, audio);
    let settings = EngineSettings {
        core: CoreSettings {
            catch_up: config.schedule.catch_up,
            warm_up: config.schedule.warm_up,
            hold: config.schedule.hold,
            max_session: config.schedule.rules.max_session,
            manual_max_wait: std::time::Duration::from_secs(30 * 60),
            prepare_lead: std::time::Duration::from_secs(30),
        },
        rules: config.schedule.rules.clone(),
        tz: config.station.time_zone,
        approval_required: config.station.approval_required,
        require_clock_sync: config.schedule.require_clock_sync,
    };
    let (handle, inbox) = engine::channel();
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let panel_state = PanelState {
        config: Arc::new(config.clone()),
        store,
        engine: handle.clone(),
        clock: wiring.clock.clone(),
        health: Default::default(),
    };
    let mut panel_stop = stop_rx.clone();
    let server = panel::serve(wiring.listener, panel::router(panel_state), async move {
        let _ = panel_stop.wait_for(|s| *s).await;
    });
    let server = tokio::spawn(server);
    on_ready(&handle);
    tracing::info!(listen = %config.panel.listen, "loa is running");
    let mut engine_stop = stop_rx;
    let engine = engine::run(
        settings,
        wiring.clock,
        fx,
        player_events,
        amp_events,
        inbox,
        async move {
            let _ = engine_stop.wait_for(|s| *s).await;
        },
    );
    let stopper = async move {
        shutdown.await;
        tracing::info!("shutting down");
        let _ = stop_tx.send(true);
    };
    let (result, ()) = tokio::join!(engine, stopper);
    let _ = server.await;
    result.map_err(DaemonError::from)
}

/// The output format from the config.
fn output_format(config: &Config) -> OutputFormat {
    OutputFormat {
        sample_rate: config.audio.sample_rate,
        channels: config.audio.channels,
    }
}

/// Installs a panic hook that forces the relay off before the default report, so a bug
/// anywhere never leaves the amplifier on.
fn switch_off_on_panic(amp: &Amplifier) {
    let kill = amp.kill_switch();
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let _ = kill.force_off("panic", std::time::Duration::from_millis(500));
        previous(info);
    }));
}

/// Pings the systemd watchdog while the engine loop keeps going round (it wakes at least
/// once a minute); a stuck engine stops the pings and systemd restarts the service.
async fn feed_watchdog(engine: EngineHandle, period: std::time::Duration) {
    let mut tick = tokio::time::interval(period / 3);
    loop {
        tick.tick().await;
        let alive = engine
            .status()
            .heartbeat
            .is_some_and(|t| t.elapsed() < engine::core::MAX_NAP.to_std().unwrap_or_default() * 2);
        if alive {
            let _ = sd_notify::notify(&[sd_notify::NotifyState::Watchdog]);
        }
    }
}

/// Resolves on SIGTERM or SIGINT. The handlers are installed here, before the daemon
/// starts, so a stop that arrives while it is still starting is a clean stop too.
fn shutdown_signal() -> Result<impl Future<Output = ()> + Send + 'static, DaemonError> {
    use tokio::signal::unix::{SignalKind, signal};
    let install = |kind| {
        signal(kind)
            .map_err(|e| DaemonError::Startup(format!("cannot install a signal handler: {e}")))
    };
    let mut term = install(SignalKind::terminate())?;
    let mut int = install(SignalKind::interrupt())?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
    })
}
