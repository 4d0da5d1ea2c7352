//! The `pending_broadcasts` table: manual broadcasts (play now, one-shot, emergency) that an
//! editor asked for while the station requires approval, and what became of them. A row is
//! written once as `pending` and decided once (approved, rejected or expired); it is never
//! deleted. It records decisions; the panel decides who may make them and what airs.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, Row, params};
use serde::Serialize;

use super::programmes::{priority, priority_text};
use super::{Store, StoreError, instant, millis};
use crate::model::{PlaylistId, Priority};

/// A manual broadcast waiting for an approver.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PendingBroadcast {
    /// Row id.
    pub id: i64,
    /// What to play.
    pub playlist: PlaylistId,
    /// Normal, priority or emergency.
    pub priority: Priority,
    /// The one-shot instant; `None` means "as soon as it is approved".
    pub at: Option<DateTime<Utc>>,
    /// Who asked (the audit actor name).
    pub requested_by: String,
    /// When they asked.
    pub requested_at: DateTime<Utc>,
}

/// A request to hold.
#[derive(Debug, Clone)]
pub struct NewPendingBroadcast {
    /// What to play.
    pub playlist: PlaylistId,
    /// Its priority.
    pub priority: Priority,
    /// The one-shot instant, if any.
    pub at: Option<DateTime<Utc>>,
    /// Who asks.
    pub requested_by: String,
}

/// What an approver decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// It airs.
    Approved,
    /// It does not air.
    Rejected,
    /// It was approved after its instant had passed, so it does not air.
    Expired,
}

impl Decision {
    fn as_str(self) -> &'static str {
        match self {
            Decision::Approved => "approved",
            Decision::Rejected => "rejected",
            Decision::Expired => "expired",
        }
    }
}

const COLUMNS: &str = "id, playlist, priority, at, requested_by, requested_at";

fn from_row(row: &Row<'_>) -> rusqlite::Result<(i64, i64, String, Option<i64>, String, i64)> {
    Ok((
        row.get(0)?,
        row.get(1)?,
        row.get(2)?,
        row.get(3)?,
        row.get(4)?,
        row.get(5)?,
    ))
}

fn build(
    (id, playlist, prio, at, requested_by, requested_at): (
        i64,
        i64,
        String,
        Option<i64>,
        String,
        i64,
    ),
) -> Result<PendingBroadcast, StoreError> {
    Ok(PendingBroadcast {
        id,
        playlist: PlaylistId(playlist),
        priority: priority(&prio)?,
        at: at.map(instant).transpose()?,
        requested_by,
        requested_at: instant(requested_at)?,
    })
}

impl Store {
    /// Holds a manual broadcast for approval.
    pub fn add_pending_broadcast(
        &self,
        new: &NewPendingBroadcast,
        now: DateTime<Utc>,
    ) -> Result<PendingBroadcast, StoreError> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO pending_broadcasts (playlist, priority, at, requested_by, requested_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    new.playlist.0,
                    priority_text(new.priority),
                    new.at.map(millis),
                    new.requested_by,
                    millis(now)
                ],
            )?;
            Ok(PendingBroadcast {
                id: tx.last_insert_rowid(),
                playlist: new.playlist,
                priority: new.priority,
                at: new.at.map(|t| instant(millis(t))).transpose()?,
                requested_by: new.requested_by.clone(),
                requested_at: instant(millis(now))?,
            })
        })
    }

    /// The broadcasts still waiting: emergencies first, then oldest request first.
    pub fn pending_broadcasts(&self) -> Result<Vec<PendingBroadcast>, StoreError> {
        self.read(|tx| {
            let mut stmt = tx.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM pending_broadcasts WHERE state = 'pending' \
                 ORDER BY priority = 'emergency' DESC, requested_at, id"
            ))?;
            let rows = stmt.query_map([], from_row)?;
            rows.map(|r| build(r?)).collect()
        })
    }

    /// Decides a waiting request, once: returns it, or `NotFound` when no request with
    /// this id is waiting (never asked for, or already decided).
    pub fn decide_pending_broadcast(
        &self,
        id: i64,
        decision: Decision,
        by: &str,
        now: DateTime<Utc>,
    ) -> Result<PendingBroadcast, StoreError> {
        self.write(|tx| {
            let found = tx
                .query_row(
                    &format!(
                        "SELECT {COLUMNS} FROM pending_broadcasts WHERE id = ?1 AND state = 'pending'"
                    ),
                    [id],
                    from_row,
                )
                .optional()?
                .ok_or(StoreError::NotFound {
                    what: "pending broadcast",
                    id,
                })?;
            tx.execute(
                "UPDATE pending_broadcasts SET state = ?2, decided_by = ?3, decided_at = ?4 \
                 WHERE id = ?1",
                params![id, decision.as_str(), by, millis(now)],
            )?;
            build(found)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new(p: Priority, by: &str) -> NewPendingBroadcast {
        NewPendingBroadcast {
            playlist: PlaylistId(1),
            priority: p,
            at: None,
            requested_by: by.to_owned(),
        }
    }

    #[test]
    fn emergencies_wait_first_and_each_request_is_decided_once() {
        let store = Store::open_in_memory().unwrap();
        let t = DateTime::from_timestamp(1_780_000_000, 0).unwrap();
        let a = store
            .add_pending_broadcast(&new(Priority::Normal, "hoa"), t)
            .unwrap();
        let mut later = new(Priority::Emergency, "hoa");
        later.at = Some(t + chrono::Duration::hours(1));
        let b = store
            .add_pending_broadcast(&later, t + chrono::Duration::seconds(5))
            .unwrap();
        let list = store.pending_broadcasts().unwrap();
        assert_eq!(
            list.iter().map(|p| p.id).collect::<Vec<_>>(),
            [b.id, a.id],
            "emergency first although asked later"
        );
        assert_eq!(list[0].at, later.at);
        let decided = store
            .decide_pending_broadcast(a.id, Decision::Approved, "tuan", t)
            .unwrap();
        assert_eq!(decided.requested_by, "hoa");
        let again = store.decide_pending_broadcast(a.id, Decision::Rejected, "tuan", t);
        assert!(
            matches!(again, Err(StoreError::NotFound { .. })),
            "{again:?}"
        );
        store
            .decide_pending_broadcast(b.id, Decision::Expired, "tuan", t)
            .unwrap();
        assert!(store.pending_broadcasts().unwrap().is_empty());
    }
}
