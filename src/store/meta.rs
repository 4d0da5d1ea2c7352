//! The `meta` table: a few named text values the engine keeps between runs, such as the
//! last wall-clock time it saw. It does not interpret the values.

use rusqlite::{OptionalExtension, params};

use super::{Store, StoreError};

/// Key under which the engine keeps the last wall-clock time it saw (RFC 3339 text).
pub const LAST_SEEN_WALL_CLOCK: &str = "engine.last_seen_wall_clock";

impl Store {
    /// The value stored under `key`, if any.
    pub fn meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        self.read(|tx| {
            Ok(tx
                .query_row("SELECT value FROM meta WHERE key = ?1", [key], |row| {
                    row.get(0)
                })
                .optional()?)
        })
    }

    /// Stores `value` under `key`, replacing any previous value.
    pub fn set_meta(&self, key: &str, value: &str) -> Result<(), StoreError> {
        self.write_quiet(|tx| {
            tx.execute(
                "INSERT INTO meta (key, value) VALUES (?1, ?2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                params![key, value],
            )?;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_get_and_overwrite() {
        let store = Store::open_in_memory().unwrap();
        assert_eq!(store.meta(LAST_SEEN_WALL_CLOCK).unwrap(), None);
        store
            .set_meta(LAST_SEEN_WALL_CLOCK, "2026-06-01T05:30:00Z")
            .unwrap();
        store.set_meta("other", "x").unwrap();
        store
            .set_meta(LAST_SEEN_WALL_CLOCK, "2026-06-01T05:31:00Z")
            .unwrap();
        assert_eq!(
            store.meta(LAST_SEEN_WALL_CLOCK).unwrap().as_deref(),
            Some("2026-06-01T05:31:00Z")
        );
        assert_eq!(store.meta("other").unwrap().as_deref(), Some("x"));
    }
}
