//! The health checks shared by `loa check`, `GET /healthz` and `GET /metrics`: config,
//! database integrity, media directory, output device, relay, clock synchronisation, free
//! disk space and whether the last scheduled broadcast went out.
//!
//! Each check is OK, a warning, or a problem with the fix a technician should try. This
//! module only reads: it never opens audio devices or the relay itself (the caller passes
//! what it found, `loa check` by opening them, the daemon from the engine's status), and it
//! never reads the clock (`now` is an argument). [`disk_free`] and [`ensure_room`] are also
//! what the upload path calls to refuse files before the card is full.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use crate::config::Config;
use crate::engine::EngineStatus;
use crate::model::{Origin, Outcome};
use crate::store::Store;

/// How a check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Working.
    Ok,
    /// Working, but needs attention soon.
    Warn,
    /// Broken or degraded: broadcasts may not go out as planned.
    Problem,
}

/// One check's result.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    /// Stable name: `config`, `database`, `media`, `output`, `relay`, `clock`, `disk`,
    /// `last_broadcast`.
    pub name: &'static str,
    /// The outcome.
    pub level: Level,
    /// What was found.
    pub detail: String,
    /// What to do about it (warnings and problems).
    pub fix: Option<String>,
}

/// All checks of one run.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// In a fixed order.
    pub checks: Vec<Check>,
}

/// Free and total space of a file system.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DiskSpace {
    /// Bytes an unprivileged process may still write.
    pub free_bytes: u64,
    /// Size of the file system.
    pub total_bytes: u64,
}

/// Why free space could not be read, or is too low.
#[derive(Debug, thiserror::Error)]
pub enum HealthError {
    /// `statvfs` failed (the directory is missing or unreadable).
    #[error("cannot read the free space of {path}")]
    Statvfs {
        /// The directory asked about.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// Writing `needed` bytes would leave less than the configured reserve.
    #[error(
        "not enough free disk space in {path}: {} MiB free, {} MiB needed with {} MiB kept \
         free (min_free_mb); delete old clips or use a bigger SD card",
        free / MIB,
        needed / MIB,
        reserve / MIB
    )]
    LowDisk {
        /// The directory asked about.
        path: PathBuf,
        /// Free bytes now.
        free: u64,
        /// Bytes the write needs.
        needed: u64,
        /// The configured reserve.
        reserve: u64,
    },
}

const MIB: u64 = 1024 * 1024;

/// Free space of the file system holding `path`.
pub fn disk_free(path: &Path) -> Result<DiskSpace, HealthError> {
    let st = rustix::fs::statvfs(path).map_err(|e| HealthError::Statvfs {
        path: path.to_owned(),
        source: e.into(),
    })?;
    Ok(DiskSpace {
        free_bytes: st.f_bavail.saturating_mul(st.f_frsize),
        total_bytes: st.f_blocks.saturating_mul(st.f_frsize),
    })
}

/// `Ok` when `incoming` more bytes fit in `path` and still leave `reserve` bytes free;
/// otherwise [`HealthError::LowDisk`] with a message for staff. Uploads call this first.
pub fn ensure_room(path: &Path, reserve: u64, incoming: u64) -> Result<(), HealthError> {
    let space = disk_free(path)?;
    room_left(path, space, reserve, incoming)
}

fn room_left(
    path: &Path,
    space: DiskSpace,
    reserve: u64,
    incoming: u64,
) -> Result<(), HealthError> {
    if space.free_bytes >= reserve.saturating_add(incoming) {
        Ok(())
    } else {
        Err(HealthError::LowDisk {
            path: path.to_owned(),
            free: space.free_bytes,
            needed: incoming,
            reserve,
        })
    }
}

impl Report {
    /// The worst level of all checks.
    pub fn level(&self) -> Level {
        self.checks
            .iter()
            .map(|c| c.level)
            .max()
            .unwrap_or(Level::Ok)
    }

    /// How many checks are problems.
    pub fn problems(&self) -> usize {
        self.checks
            .iter()
            .filter(|c| c.level == Level::Problem)
            .count()
    }

    /// The check with this name.
    pub fn get(&self, name: &str) -> Option<&Check> {
        self.checks.iter().find(|c| c.name == name)
    }
}

impl Check {
    /// A passing check.
    pub fn ok(name: &'static str, detail: impl Into<String>) -> Check {
        Check {
            name,
            level: Level::Ok,
            detail: detail.into(),
            fix: None,
        }
    }

    /// A warning with its fix.
    pub fn warn(name: &'static str, detail: impl Into<String>, fix: impl Into<String>) -> Check {
        Check {
            name,
            level: Level::Warn,
            detail: detail.into(),
            fix: Some(fix.into()),
        }
    }

    /// A problem with its fix.
    pub fn problem(name: &'static str, detail: impl Into<String>, fix: impl Into<String>) -> Check {
        Check {
            name,
            level: Level::Problem,
            detail: detail.into(),
            fix: Some(fix.into()),
        }
    }
}

/// `PRAGMA integrity_check` on the open database.
pub fn database(store: &Store, path: &Path) -> Check {
    match store.check_integrity() {
        Ok(()) => Check::ok(
            "database",
            format!("{} passes integrity_check", path.display()),
        ),
        Err(e) => Check::problem(
            "database",
            format!("{}: {e}", path.display()),
            "stop loa, restore the last backup with `loa import`, start loa",
        ),
    }
}

/// The database could not be opened at all.
pub fn database_unopened(path: &Path, error: impl std::fmt::Display) -> Check {
    Check::problem(
        "database",
        format!("{}: {error}", path.display()),
        "check station.data_dir and that the loa user owns it (chown -R loa:loa /var/lib/loa)",
    )
}

/// The media directory exists, is writable, and holds every clip's original.
pub fn media(store: Option<&Store>, data_dir: &Path) -> Check {
    let dir = crate::library::media_dir(data_dir);
    let fix_perm = "the loa user must own it: sudo chown -R loa:loa /var/lib/loa";
    match std::fs::metadata(&dir) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => {
            return Check::problem(
                "media",
                format!("{} is not a directory", dir.display()),
                "remove it; loa makes the directory at the next upload",
            );
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Check::ok(
                "media",
                format!(
                    "{} not created yet (made by the first upload)",
                    dir.display()
                ),
            );
        }
        Err(e) => return Check::problem("media", format!("{}: {e}", dir.display()), fix_perm),
    }
    if let Err(e) = rustix::fs::access(&dir, rustix::fs::Access::WRITE_OK) {
        return Check::problem(
            "media",
            format!(
                "{} is not writable: {}",
                dir.display(),
                std::io::Error::from(e)
            ),
            fix_perm,
        );
    }
    let Some(store) = store else {
        return Check::ok("media", dir.display().to_string());
    };
    match store.clips() {
        Ok(clips) => {
            let missing: Vec<String> = clips
                .iter()
                .filter(|c| !crate::library::clip_path(&dir, c).is_file())
                .map(|c| format!("{} ({})", c.title, c.id))
                .collect();
            if missing.is_empty() {
                Check::ok(
                    "media",
                    format!("{} ({} clips)", dir.display(), clips.len()),
                )
            } else {
                Check::problem(
                    "media",
                    format!(
                        "{} clip file(s) missing in {}: {}",
                        missing.len(),
                        dir.display(),
                        missing.join(", ")
                    ),
                    "restore the media directory from a backup (loa import) or upload the clips again",
                )
            }
        }
        Err(e) => Check::problem(
            "media",
            format!("cannot list clips: {e}"),
            "see the database check",
        ),
    }
}

/// The output device, as opened by the caller: its name, or why it failed.
pub fn output(opened: Result<String, String>) -> Check {
    match opened {
        Ok(name) if name == crate::output::AUTO_FALLBACK_NAME => Check::warn(
            "output",
            "no sound card opened: output auto fell back to null, nothing is heard",
            "plug in or enable the sound card, then run `loa devices` and set [audio] output",
        ),
        Ok(name) => Check::ok("output", name),
        Err(e) => Check::problem(
            "output",
            e,
            "run `loa devices` and set [audio] output to a listed stable name; if loa is \
             running it holds the device (see /healthz instead)",
        ),
    }
}

/// The relay, as opened by the caller: its description, or why it failed.
pub fn relay(opened: Result<String, String>) -> Check {
    match opened {
        Ok(d) => Check::ok("relay", d),
        Err(e) => Check::problem(
            "relay",
            e,
            "check [amp] in the config (gpio_chip, gpio_line, the loa user in group gpio); \
             if loa is running it holds the GPIO line",
        ),
    }
}

/// The kernel's NTP synchronisation flag, and whether the config requires it
/// (`[schedule] require_clock_sync`): synchronised is OK; unsynchronised is a problem when
/// required (scheduled broadcasts wait) and a warning when not (they air by a clock that
/// may be wrong). The one judgement of the clock for `loa check`, `/healthz`, `/metrics`
/// and the dashboard.
pub fn clock(synchronised: bool, required: bool) -> Check {
    let fix = "enable NTP (sudo timedatectl set-ntp true) and check network access; \
               timedatectl timesync-status shows the server";
    match (synchronised, required) {
        (true, true) => Check::ok("clock", "synchronised (required)"),
        (true, false) => Check::ok("clock", "synchronised (not required)"),
        (false, true) => Check::problem(
            "clock",
            "not synchronised, and require_clock_sync = true: scheduled broadcasts wait until \
             it is",
            fix,
        ),
        (false, false) => Check::warn(
            "clock",
            "not synchronised, and require_clock_sync = false: scheduled broadcasts air by a \
             clock that may be wrong",
            fix,
        ),
    }
}

/// Free space on the data directory's file system against the configured reserve: a
/// problem below it (uploads refused), a warning below twice it.
pub fn disk(data_dir: &Path, reserve: u64) -> Check {
    let probe = existing_ancestor(data_dir);
    match disk_free(&probe) {
        Ok(space) => disk_level(&probe, space, reserve),
        Err(e) => Check::problem("disk", e.to_string(), "check station.data_dir"),
    }
}

fn disk_level(path: &Path, space: DiskSpace, reserve: u64) -> Check {
    let detail = format!(
        "{} MiB free of {} MiB on {} (keeping {} MiB)",
        space.free_bytes / MIB,
        space.total_bytes / MIB,
        path.display(),
        reserve / MIB
    );
    let fix = "delete unused clips, old backups or logs (journalctl --vacuum-size=100M)";
    if space.free_bytes < reserve {
        Check::problem("disk", format!("{detail}: uploads are refused"), fix)
    } else if space.free_bytes < reserve.saturating_mul(2) {
        Check::warn("disk", format!("{detail}: nearly full"), fix)
    } else {
        Check::ok("disk", detail)
    }
}

/// Whether the latest scheduled occurrence that was due (skips by rule aside) went out.
pub fn last_broadcast(store: &Store, now: DateTime<Utc>) -> Check {
    last_broadcast_besides(store, now, None)
}

/// [`last_broadcast`], leaving out the unfinished row of the broadcast on air (due at
/// `on_air`): until it ends, its claimed row holds the provisional outcome `failed`.
pub fn last_broadcast_besides(
    store: &Store,
    now: DateTime<Utc>,
    on_air: Option<DateTime<Utc>>,
) -> Check {
    let entries = match store.log_between(now - Duration::days(8), now) {
        Ok(e) => e,
        Err(e) => {
            return Check::problem(
                "last_broadcast",
                format!("cannot read the log: {e}"),
                "see the database check",
            );
        }
    };
    let last = entries
        .iter()
        .filter(|e| matches!(e.origin, Origin::Scheduled { .. }))
        .filter(|e| !matches!(e.outcome, Outcome::Skipped(_)))
        .filter(|e| !on_air.is_some_and(|due| crate::store::is_unfinished_claim(e, due)))
        .max_by_key(|e| (e.scheduled_at, e.id.0));
    let Some(last) = last else {
        return Check::ok(
            "last_broadcast",
            "no scheduled broadcast in the last 8 days",
        );
    };
    let when = last.scheduled_at.to_rfc3339();
    match &last.outcome {
        Outcome::Missed(why) => Check::problem(
            "last_broadcast",
            format!("the broadcast due at {when} was missed: {why}"),
            "keep the box powered and its clock synchronised; see journalctl -u loa",
        ),
        Outcome::Failed(why) => Check::problem(
            "last_broadcast",
            format!("the broadcast due at {when} failed: {why}"),
            "see journalctl -u loa; `loa tone` tests the output and relay",
        ),
        other => Check::ok("last_broadcast", format!("due at {when}: {}", other.code())),
    }
}

/// The checks that read the whole database or look for every clip's file: the slow part
/// of [`daemon_report`], which the panel shares between requests.
pub fn stored_checks(config: &Config, store: &Store) -> [Check; 2] {
    let data_dir = &config.station.data_dir;
    [
        database(store, &data_dir.join("loa.db")),
        media(Some(store), data_dir),
    ]
}

/// The daemon's report: the engine's view of output, relay and clock plus the store and
/// disk checks, as served by `/healthz` and `/metrics`.
pub fn daemon_report(
    config: &Config,
    store: &Store,
    status: &EngineStatus,
    now: DateTime<Utc>,
) -> Report {
    daemon_report_with(stored_checks(config, store), config, store, status, now)
}

/// [`daemon_report`] with the result of [`stored_checks`] already in hand.
pub fn daemon_report_with(
    [database, media]: [Check; 2],
    config: &Config,
    store: &Store,
    status: &EngineStatus,
    now: DateTime<Utc>,
) -> Report {
    let data_dir = &config.station.data_dir;
    let output = if status.output_ok {
        Ok(status.output.clone())
    } else {
        Err(status.output.clone())
    };
    let relay_state = if status.relay_on { "on" } else { "off" };
    Report {
        checks: vec![
            Check::ok("config", config.path.display().to_string()),
            database,
            media,
            self::output(output),
            relay(Ok(format!("{} ({relay_state})", relay_kind(config)))),
            clock(
                status.clock_synchronised,
                config.schedule.require_clock_sync,
            ),
            disk(data_dir, config.station.min_free_bytes),
            last_broadcast_besides(store, now, status.on_air.as_ref().map(|a| a.scheduled_at)),
        ],
    }
}

fn relay_kind(config: &Config) -> String {
    use crate::amp::RelaySpec;
    match &config.amp.relay {
        RelaySpec::None => "no relay".to_owned(),
        RelaySpec::Gpio {
            chip,
            line,
            active_low,
        } => format!(
            "gpio {} line {line}{}",
            chip.display(),
            if *active_low { " active-low" } else { "" }
        ),
        RelaySpec::Command { .. } => "command".to_owned(),
    }
}

/// The deepest existing directory at or above `path` (the data directory may not exist
/// before the first start; its file system is what counts).
fn existing_ancestor(path: &Path) -> PathBuf {
    let mut p = path.to_owned();
    while !p.exists() {
        match p.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => p = parent.to_owned(),
            _ => return PathBuf::from("."),
        }
    }
    p
}

#[cfg(test)]
mod tests;
