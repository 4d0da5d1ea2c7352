//! The SQLite store: clips, playlists, campaigns, programmes, the broadcast log and a small
//! key/value table, with their schema migrations. It is the only module that talks SQL; it
//! does not read the clock, touch media files or decide what plays.
//!
//! # Storage conventions
//!
//! - **Instants** are stored as INTEGER unix milliseconds (UTC). They compare and index
//!   exactly, need no parsing, and are readable in the `sqlite3` shell with
//!   `datetime(col / 1000, 'unixepoch')`. Sub-millisecond precision is dropped on write.
//! - **Local dates** (campaign and programme ranges) are `YYYY-MM-DD` TEXT.
//! - **Durations** (queue wait, repeat pause) are whole seconds, like `model::secs`.
//! - **Ids** are `INTEGER PRIMARY KEY AUTOINCREMENT`, so an id is never reused, even after
//!   a row is removed; ids are stable across restarts and safe to hand to other boxes.
//! - Tables are `STRICT`; foreign keys are enforced; every public method is one
//!   transaction (writes take the write lock up front with `BEGIN IMMEDIATE`).
//!
//! # Durability
//!
//! The database runs in WAL mode with `synchronous=FULL`: when a write method returns
//! `Ok`, the commit has been fsynced and survives a power cut or `kill -9`. The schema
//! version lives in `PRAGMA user_version` and the file is tagged with
//! `PRAGMA application_id`; migrations run in one transaction, so a file is either at the
//! old version or the new one. A file that is not SQLite, an SQLite file of another
//! program, or a loa database newer than this binary is refused with an error naming it.
//!
//! # The occurrence protocol (the engine relies on this)
//!
//! A scheduled occurrence is identified by `(programme, scheduled_at)` and a unique index
//! makes it impossible to log it twice. The engine claims an occurrence by writing its log
//! row *before* the amplifier is switched on:
//!
//! 1. [`Store::start_occurrence`] inserts the row with a provisional outcome
//!    ([`PROVISIONAL_OUTCOME_DETAIL`], code `failed`) and marks it in progress. If the
//!    occurrence is already in the log (it played, was skipped or missed, or was claimed
//!    before a crash), the call fails with [`StoreError::AlreadyLogged`] and the engine
//!    must not play it.
//! 2. While it plays, [`Store::record_progress`] may store the clips that went on air so far.
//! 3. [`Store::finish_occurrence`] writes the real times, clips and outcome and clears the
//!    in-progress mark. Only an in-progress row can be finished.
//! 4. If the process dies between 1 and 3, the row stays with the provisional outcome: the
//!    report shows the broadcast failed, and the occurrence is never played again. At
//!    start-up the engine calls [`Store::settle_unfinished`], which clears the mark on such
//!    rows (keeping their provisional outcome) and returns them for logging.
//!
//! Occurrences that never start (skipped by a rule, missed while the box was down) are
//! written in one step with [`Store::record`], which has the same uniqueness rule. Manual
//! broadcasts carry no programme and are never deduplicated. Apart from finishing an
//! in-progress row, the log is append-only.

mod approval;
mod audit;
mod campaigns;
mod clips;
mod edits;
mod log;
mod meta;
mod pending;
mod playlists;
mod programmes;
mod schema;
#[cfg(test)]
mod tests;
mod users;
mod waiting;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::{Connection, ErrorCode, OpenFlags, Transaction, TransactionBehavior};

use crate::model::{LogId, OccurrenceKey, Playlist};

pub use approval::{Approval, ApprovalState, Approvals, Change};
pub use audit::AuditEntry;
pub use campaigns::NewCampaign;
pub use clips::{ClipSort, InsertedClip, NewClip};
pub use log::{
    LogEntryDraft, OccurrenceEnd, OccurrenceStart, PROVISIONAL_OUTCOME_DETAIL, is_unfinished_claim,
};
pub use meta::LAST_SEEN_WALL_CLOCK;
pub use pending::{Decision, NewPendingBroadcast, PendingBroadcast};
pub use programmes::NewProgramme;
pub use schema::SCHEMA_VERSION;
pub use users::{Role, Session, User};
pub use waiting::{NewManualBroadcast, WaitingBroadcast, WaitingId};

/// A handle on the database; cheap to clone and shareable between threads.
///
/// Calls are serialised on one connection. Each takes at most a few milliseconds plus an
/// fsync, but it blocks: async callers should use `spawn_blocking` for bulk work.
#[derive(Clone)]
pub struct Store {
    conn: Arc<Mutex<Connection>>,
    /// Parsed cron expressions of programme rows, by text (see `programmes::CronCache`).
    crons: programmes::CronCache,
    /// The store generation: see [`Store::changes`].
    changes: Arc<Changes>,
}

/// The store generation: a counter bumped after every committed change to what airs, and
/// SQLite's `data_version` as last seen, which moves when another process commits.
struct Changes {
    generation: tokio::sync::watch::Sender<u64>,
    data_version: AtomicI64,
}

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The directory for the database file could not be created.
    #[error("cannot create database directory {path}")]
    CreateDir {
        /// The directory.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The database file could not be opened or configured.
    #[error("cannot open database {path}")]
    Open {
        /// The database file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: rusqlite::Error,
    },
    /// The file exists but is not an SQLite database.
    #[error("{path} is not a database file")]
    NotADatabase {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: rusqlite::Error,
    },
    /// The database works but lacks a property loa needs (such as WAL journaling).
    #[error("database {path} cannot be used: {detail}")]
    Unsupported {
        /// The file.
        path: PathBuf,
        /// What is missing.
        detail: String,
    },
    /// The file is an SQLite database that belongs to another program.
    #[error("{path} is an SQLite database of another program, not a loa database")]
    ForeignDatabase {
        /// The file.
        path: PathBuf,
    },
    /// The database was written by a newer loa.
    #[error(
        "database {path} has schema version {found}, newer than this loa supports \
         ({supported}); install a newer loa or restore a backup"
    )]
    TooNew {
        /// The file.
        path: PathBuf,
        /// Its schema version.
        found: i64,
        /// The newest version this binary knows.
        supported: i64,
    },
    /// A schema migration failed; the file is left at its previous version.
    #[error("cannot migrate database {path} to schema version {version}")]
    Migration {
        /// The file.
        path: PathBuf,
        /// The version whose migration failed.
        version: i64,
        /// The underlying error.
        #[source]
        source: rusqlite::Error,
    },
    /// No row with this id (or this id was deleted).
    #[error("{what} {id} not found")]
    NotFound {
        /// The kind of row: "clip", "playlist", "campaign", "programme", "log entry".
        what: &'static str,
        /// The id asked for.
        id: i64,
    },
    /// A playlist write named an older version; `current` is what is stored now.
    #[error(
        "playlist {} was changed by someone else (now version {})",
        current.id,
        current.version
    )]
    VersionConflict {
        /// The playlist as stored now.
        current: Box<Playlist>,
    },
    /// The row is still used by others (a clip by playlists, a playlist by programmes).
    #[error("{what} {id} is used by {}; remove it from there first, or force", users.join(", "))]
    InUse {
        /// The kind of row: "clip", "playlist".
        what: &'static str,
        /// Its id.
        id: i64,
        /// Who uses it, by name, e.g. `playlist "Sáng"`.
        users: Vec<String>,
    },
    /// The scheduled occurrence is already in the log and must not be played again.
    #[error(
        "occurrence of programme {} at {} is already logged as entry {existing}",
        key.programme,
        key.scheduled.to_rfc3339()
    )]
    AlreadyLogged {
        /// The occurrence.
        key: OccurrenceKey,
        /// The log row that has it.
        existing: LogId,
    },
    /// The input breaks a rule (empty name, bad hash, end before start, …).
    #[error("{0}")]
    Invalid(String),
    /// A stored value cannot be read back (edited by hand or damaged).
    #[error("stored data is damaged: {0}")]
    Corrupt(String),
    /// An SQLite error.
    #[error("database error")]
    Sqlite(#[from] rusqlite::Error),
    /// A JSON column could not be encoded or decoded.
    #[error("cannot encode or decode a JSON column")]
    Json(#[from] serde_json::Error),
}

impl Store {
    /// Opens (creating if missing, with its directory) and migrates the database at `path`.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::CreateDir {
                path: dir.to_owned(),
                source,
            })?;
        }
        let mut conn = Connection::open(path).map_err(|e| open_error(path, e))?;
        configure(&conn, path, true)?;
        schema::migrate(&mut conn, path)?;
        Ok(Store::from_connection(conn))
    }

    /// Opens a fresh, migrated database in memory (for tests and dry runs).
    pub fn open_in_memory() -> Result<Store, StoreError> {
        let path = Path::new(":memory:");
        let mut conn = Connection::open_in_memory().map_err(|e| open_error(path, e))?;
        configure(&conn, path, false)?;
        schema::migrate(&mut conn, path)?;
        Ok(Store::from_connection(conn))
    }

    /// Runs SQLite's `PRAGMA integrity_check`; `Corrupt` lists the problems found.
    ///
    /// On disk it runs on a connection of its own, read-only: the check reads the whole
    /// file, and `/healthz` and the dashboard ask for it on every request, so it must not
    /// hold the shared connection the engine claims occurrences on (WAL lets the reader
    /// and the writer work side by side).
    pub fn check_integrity(&self) -> Result<(), StoreError> {
        let file = self
            .lock()
            .path()
            .filter(|p| !p.is_empty())
            .map(PathBuf::from);
        let Some(file) = file else {
            return self.read(|tx| integrity_check(tx));
        };
        let conn = Connection::open_with_flags(&file, OpenFlags::SQLITE_OPEN_READ_ONLY)
            .map_err(|e| open_error(&file, e))?;
        conn.busy_timeout(BUSY_TIMEOUT)
            .map_err(|e| open_error(&file, e))?;
        integrity_check(&conn)
    }

    fn from_connection(conn: Connection) -> Store {
        let data_version = read_data_version(&conn).unwrap_or(0);
        Store {
            conn: Arc::new(Mutex::new(conn)),
            crons: programmes::CronCache::default(),
            changes: Arc::new(Changes {
                generation: tokio::sync::watch::Sender::new(0),
                data_version: AtomicI64::new(data_version),
            }),
        }
    }

    /// The store generation, for whoever must follow what is stored (the engine): the
    /// value moves after every committed change to clips, playlists, campaigns,
    /// programmes, approvals or requested broadcasts, made through any handle on this
    /// store, and after [`Store::notice_other_writers`] finds another process's commit.
    /// Bookkeeping writes (the broadcast log, meta, audit, users and sessions) do not move
    /// it, so the engine's own writes never wake it.
    pub fn changes(&self) -> tokio::sync::watch::Receiver<u64> {
        self.changes.generation.subscribe()
    }

    /// Checks whether another process (`loa import`, `loa add`, the `sqlite3` shell)
    /// committed to the database since the last check, and if so moves the generation.
    /// Returns whether it did.
    pub fn notice_other_writers(&self) -> Result<bool, StoreError> {
        let now = read_data_version(&self.lock())?;
        let before = self.changes.data_version.swap(now, Ordering::Relaxed);
        if before == now {
            return Ok(false);
        }
        self.bump();
        Ok(true)
    }

    fn bump(&self) {
        self.changes.generation.send_modify(|g| *g += 1);
    }

    /// Locks the connection. A panic in another caller rolled its transaction back when
    /// the `Transaction` dropped, so the connection is still sound after poisoning.
    fn lock(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `f` in a write transaction (`BEGIN IMMEDIATE`), commits if it succeeds, and
    /// moves the store generation: the default for every write, so that no change to what
    /// airs can forget to tell the engine.
    fn write<T>(
        &self,
        f: impl FnOnce(&Transaction<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let out = self.write_quiet(f)?;
        self.bump();
        Ok(out)
    }

    /// [`Store::write`] without moving the generation: only for bookkeeping that never
    /// changes what airs (the log, meta, audit, users and sessions).
    fn write_quiet<T>(
        &self,
        f: impl FnOnce(&Transaction<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let out = f(&tx)?;
        tx.commit()?;
        Ok(out)
    }

    /// Runs `f` in a read transaction, so that it sees one consistent snapshot.
    fn read<T>(
        &self,
        f: impl FnOnce(&Transaction<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Deferred)?;
        f(&tx)
    }
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").finish_non_exhaustive()
    }
}

/// `PRAGMA integrity_check` on `conn`: `Ok` when SQLite answers the single line "ok".
fn integrity_check(conn: &Connection) -> Result<(), StoreError> {
    let mut stmt = conn.prepare("PRAGMA integrity_check")?;
    let lines = stmt
        .query_map([], |row| row.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    if lines == ["ok"] {
        Ok(())
    } else {
        Err(StoreError::Corrupt(lines.join("; ")))
    }
}

/// SQLite's `PRAGMA data_version` on `conn`: it changes when another connection commits.
fn read_data_version(conn: &Connection) -> Result<i64, StoreError> {
    Ok(conn.pragma_query_value(None, "data_version", |row| row.get(0))?)
}

/// How long a call waits for another process's write lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Sets the per-connection pragmas; the first one that reads the file detects non-databases.
fn configure(conn: &Connection, path: &Path, on_disk: bool) -> Result<(), StoreError> {
    let fail = |e| open_error(path, e);
    conn.busy_timeout(BUSY_TIMEOUT).map_err(fail)?;
    if on_disk {
        let mode: String = conn
            .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
            .map_err(fail)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Unsupported {
                path: path.to_owned(),
                detail: format!("the journal stayed in {mode} mode instead of wal"),
            });
        }
    }
    conn.pragma_update(None, "synchronous", "FULL")
        .map_err(fail)?;
    conn.pragma_update(None, "foreign_keys", "ON")
        .map_err(fail)?;
    Ok(())
}

/// Maps an error met while opening to `NotADatabase` or `Open`.
fn open_error(path: &Path, source: rusqlite::Error) -> StoreError {
    let path = path.to_owned();
    if source.sqlite_error_code() == Some(ErrorCode::NotADatabase) {
        StoreError::NotADatabase { path, source }
    } else {
        StoreError::Open { path, source }
    }
}

/// An instant as stored: unix milliseconds.
fn millis(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

/// Reads back a stored instant.
fn instant(ms: i64) -> Result<DateTime<Utc>, StoreError> {
    DateTime::from_timestamp_millis(ms)
        .ok_or_else(|| StoreError::Corrupt(format!("instant {ms} ms is out of range")))
}

/// Reads back a stored local date.
fn date(text: &str) -> Result<NaiveDate, StoreError> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|e| StoreError::Corrupt(format!("date {text:?}: {e}")))
}

/// A local date as stored.
fn date_text(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// A duration as stored: whole seconds.
fn secs(d: Duration, what: &str) -> Result<i64, StoreError> {
    i64::try_from(d.as_secs()).map_err(|_| StoreError::Invalid(format!("{what} is too long")))
}

/// Reads back a stored duration.
fn duration(s: i64) -> Result<Duration, StoreError> {
    u64::try_from(s)
        .map(Duration::from_secs)
        .map_err(|_| StoreError::Corrupt(format!("negative duration {s} s")))
}

/// Trims a name and rejects it if empty.
fn name(text: &str, what: &str) -> Result<String, StoreError> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(StoreError::Invalid(format!("{what} must not be empty")));
    }
    Ok(trimmed.to_owned())
}
