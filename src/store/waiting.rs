//! The `waiting_broadcasts` table: broadcasts that are owed but have not started. A manual
//! request (play now, a one-shot at an instant, an emergency) is written here before it is
//! acknowledged; a scheduled occurrence that fell due but waits for the air (queued behind
//! another broadcast, or for the relay's warm-up) is written here by the engine before its
//! schedule position moves past it. A row leaves only in the transaction that writes the
//! broadcast's log row (see `log::insert`), so after a power cut every owed broadcast is
//! either in the log or still here, for the engine to play late or log as missed.
//!
//! It keeps rows; the engine decides what becomes of them.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, Row, Transaction, params};
use serde::Serialize;

use super::programmes::{priority, priority_text};
use super::{Store, StoreError, instant, millis};
use crate::model::{OccurrenceKey, Origin, PlaylistId, Priority, ProgrammeId};

/// The id of a waiting broadcast; a manual broadcast's log row keeps it (`request`), so
/// one request is logged at most once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct WaitingId(pub i64);

impl std::fmt::Display for WaitingId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// A broadcast owed but not started.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WaitingBroadcast {
    /// Row id.
    pub id: WaitingId,
    /// A programme's occurrence, or who asked.
    pub origin: Origin,
    /// What it plays.
    pub playlist: PlaylistId,
    /// The playlist version an approver approved, when one did: it airs only while the
    /// playlist is still at this version.
    pub playlist_version: Option<i64>,
    /// Its priority.
    pub priority: Priority,
    /// The instant it is due (for play-now, the instant it was asked for).
    pub scheduled_at: DateTime<Utc>,
    /// When it was accepted (requested, or fell due).
    pub accepted_at: DateTime<Utc>,
}

/// A manual broadcast to accept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewManualBroadcast {
    /// What to play.
    pub playlist: PlaylistId,
    /// The playlist version an approver approved, if the request went through approval.
    pub playlist_version: Option<i64>,
    /// Normal, priority or emergency.
    pub priority: Priority,
    /// When it should air; `None` means now.
    pub at: Option<DateTime<Utc>>,
    /// Who asked (user name, `token:NAME`, `cli`).
    pub requested_by: String,
}

impl Store {
    /// Accepts a manual broadcast: durable when this returns, so it may be acknowledged.
    /// The store generation moves, which is how the engine hears of it.
    pub fn request_broadcast(
        &self,
        new: &NewManualBroadcast,
        now: DateTime<Utc>,
    ) -> Result<WaitingBroadcast, StoreError> {
        if new.requested_by.trim().is_empty() {
            return Err(StoreError::Invalid(
                "a broadcast request must name who asked".to_owned(),
            ));
        }
        let scheduled_at = new.at.unwrap_or(now);
        self.write(|tx| {
            tx.execute(
                "INSERT INTO waiting_broadcasts (origin, requested_by, playlist, playlist_version,
                     priority, scheduled_at, accepted_at)
                 VALUES ('manual', ?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    new.requested_by,
                    new.playlist.0,
                    new.playlist_version,
                    priority_text(new.priority),
                    millis(scheduled_at),
                    millis(now),
                ],
            )?;
            by_id(tx, WaitingId(tx.last_insert_rowid()))
        })
    }

    /// Records that a scheduled occurrence fell due and waits for the air; the engine calls
    /// this before its schedule position moves past the instant. Holding an occurrence
    /// already waiting returns its row; one already in the log is refused with
    /// [`StoreError::AlreadyLogged`]. Does not move the store generation.
    pub fn hold_occurrence(
        &self,
        key: OccurrenceKey,
        playlist: PlaylistId,
        priority: Priority,
        now: DateTime<Utc>,
    ) -> Result<WaitingId, StoreError> {
        self.write_quiet(|tx| {
            if let Some(existing) = super::log::find(tx, key)? {
                return Err(StoreError::AlreadyLogged { key, existing });
            }
            tx.execute(
                "INSERT INTO waiting_broadcasts (origin, programme, playlist, priority,
                     scheduled_at, accepted_at)
                 VALUES ('scheduled', ?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT DO NOTHING",
                params![
                    key.programme.0,
                    playlist.0,
                    priority_text(priority),
                    millis(key.scheduled),
                    millis(now),
                ],
            )?;
            let id: i64 = tx.query_row(
                "SELECT id FROM waiting_broadcasts
                 WHERE origin = 'scheduled' AND programme = ?1 AND scheduled_at = ?2",
                params![key.programme.0, millis(key.scheduled)],
                |row| row.get(0),
            )?;
            Ok(WaitingId(id))
        })
    }

    /// Every broadcast owed and not started, by due instant then id.
    pub fn waiting_broadcasts(&self) -> Result<Vec<WaitingBroadcast>, StoreError> {
        self.read(|tx| {
            let mut stmt = tx.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM waiting_broadcasts ORDER BY scheduled_at, id"
            ))?;
            let rows = stmt.query_map([], from_row)?;
            rows.map(|r| r?).collect()
        })
    }
}

/// Removes the waiting row a log row settles: a manual request by its id, a scheduled
/// occurrence by its key. Called by `log::insert` inside the log row's transaction.
pub(super) fn settle(
    tx: &Transaction<'_>,
    origin: &Origin,
    scheduled_at: DateTime<Utc>,
    request: Option<WaitingId>,
) -> Result<(), StoreError> {
    if let Some(id) = request {
        tx.execute("DELETE FROM waiting_broadcasts WHERE id = ?1", [id.0])?;
    }
    if let Origin::Scheduled { programme } = origin {
        tx.execute(
            "DELETE FROM waiting_broadcasts
             WHERE origin = 'scheduled' AND programme = ?1 AND scheduled_at = ?2",
            params![programme.0, millis(scheduled_at)],
        )?;
    }
    Ok(())
}

const COLUMNS: &str = "id, origin, programme, requested_by, playlist, playlist_version, priority, scheduled_at, accepted_at";

fn by_id(tx: &Transaction<'_>, id: WaitingId) -> Result<WaitingBroadcast, StoreError> {
    tx.query_row(
        &format!("SELECT {COLUMNS} FROM waiting_broadcasts WHERE id = ?1"),
        [id.0],
        from_row,
    )
    .optional()?
    .ok_or(StoreError::NotFound {
        what: "waiting broadcast",
        id: id.0,
    })?
}

/// Reads a row; the outer error is SQLite's, the inner one a damaged value.
fn from_row(row: &Row<'_>) -> rusqlite::Result<Result<WaitingBroadcast, StoreError>> {
    let id = WaitingId(row.get(0)?);
    let kind: String = row.get(1)?;
    let programme: Option<i64> = row.get(2)?;
    let requested_by: Option<String> = row.get(3)?;
    let playlist = PlaylistId(row.get(4)?);
    let playlist_version: Option<i64> = row.get(5)?;
    let priority_raw: String = row.get(6)?;
    let (scheduled_ms, accepted_ms): (i64, i64) = (row.get(7)?, row.get(8)?);
    Ok((|| {
        let origin = match (kind.as_str(), programme, requested_by) {
            ("scheduled", Some(p), _) => Origin::Scheduled {
                programme: ProgrammeId(p),
            },
            ("manual", _, Some(requested_by)) => Origin::Manual { requested_by },
            _ => {
                return Err(StoreError::Corrupt(format!(
                    "waiting broadcast {id} has origin {kind:?} without its fields"
                )));
            }
        };
        Ok(WaitingBroadcast {
            id,
            origin,
            playlist,
            playlist_version,
            priority: priority(&priority_raw)?,
            scheduled_at: instant(scheduled_ms)?,
            accepted_at: instant(accepted_ms)?,
        })
    })())
}
