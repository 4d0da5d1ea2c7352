//! The `audit` table: who changed what, and when, through the panel or the API. Rows are
//! only ever appended. It records what it is told; the panel decides what to record.

use chrono::{DateTime, Utc};
use rusqlite::params;
use serde::Serialize;

use super::{Store, StoreError, instant, millis};

/// One recorded change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    /// Row id (increasing).
    pub id: i64,
    /// When it happened.
    pub at: DateTime<Utc>,
    /// Who did it: a user name, or `token:NAME` for automation.
    pub actor: String,
    /// What was done, e.g. `playlist.reorder`.
    pub action: String,
    /// What it was done to, e.g. `playlist 3`.
    pub target: String,
    /// Anything else worth keeping (free text or JSON).
    pub detail: String,
}

impl Store {
    /// Appends one audit row.
    pub fn audit(
        &self,
        at: DateTime<Utc>,
        actor: &str,
        action: &str,
        target: &str,
        detail: &str,
    ) -> Result<(), StoreError> {
        self.write_quiet(|tx| {
            tx.execute(
                "INSERT INTO audit (at, actor, action, target, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![millis(at), actor, action, target, detail],
            )?;
            Ok(())
        })
    }

    /// The newest `limit` audit rows, newest first.
    pub fn audit_recent(&self, limit: u32) -> Result<Vec<AuditEntry>, StoreError> {
        self.read(|tx| {
            let mut stmt = tx.prepare_cached(
                "SELECT id, at, actor, action, target, detail FROM audit ORDER BY id DESC LIMIT ?1",
            )?;
            let rows = stmt.query_map([limit], |row| {
                Ok((
                    row.get::<_, i64>(0)?,
                    row.get::<_, i64>(1)?,
                    row.get::<_, String>(2)?,
                    row.get::<_, String>(3)?,
                    row.get::<_, String>(4)?,
                    row.get::<_, String>(5)?,
                ))
            })?;
            rows.map(|r| {
                let (id, at, actor, action, target, detail) = r?;
                Ok(AuditEntry {
                    id,
                    at: instant(at)?,
                    actor,
                    action,
                    target,
                    detail,
                })
            })
            .collect()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audit_rows_come_back_newest_first() {
        let store = Store::open_in_memory().unwrap();
        let t = DateTime::from_timestamp(1_780_000_000, 0).unwrap();
        store
            .audit(t, "lan", "playlist.create", "playlist 1", "")
            .unwrap();
        store
            .audit(t, "token:auto", "broadcast.stop", "", "")
            .unwrap();
        let rows = store.audit_recent(10).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].action, "broadcast.stop");
        assert_eq!(rows[1].actor, "lan");
        assert_eq!(store.audit_recent(1).unwrap().len(), 1);
    }
}
