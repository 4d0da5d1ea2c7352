//! The `clips` table: one row per uploaded recording, keyed by the SHA-256 of its file.
//! It stores what ingest measured; it does not decode audio or touch the media directory.
//!
//! Clips are archived (hidden from the library; they still play in the playlists that hold
//! them) or deleted. Deleting is refused while a playlist holds the clip unless forced, which
//! first takes it out of those playlists (bumping their versions). The broadcast log keeps
//! each aired clip's title and hash in its own column, so reports survive a deletion; ids
//! are never reused.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, Row, Transaction, params};

use super::{Store, StoreError, instant, millis};
use crate::model::{Clip, ClipId, ClipLoudness};

/// A clip to add, as measured by ingest.
#[derive(Debug, Clone, PartialEq)]
pub struct NewClip {
    /// Hex SHA-256 of the original file (64 hex digits, any case; stored lowercase).
    pub sha256: String,
    /// Title shown to staff.
    pub title: String,
    /// File name as uploaded.
    pub original_name: String,
    /// Decoded duration in milliseconds.
    pub duration_ms: i64,
    /// Native sample rate.
    pub sample_rate: u32,
    /// Native channel count.
    pub channels: u16,
    /// Loudness measured at ingest.
    pub loudness: ClipLoudness,
    /// When the clip was added.
    pub created_at: DateTime<Utc>,
}

/// How [`Store::search_clips`] orders clips.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ClipSort {
    /// Most recently added first.
    #[default]
    Newest,
    /// Oldest first.
    Oldest,
    /// By title, case-insensitive.
    Title,
    /// Longest first.
    Longest,
}

/// The result of [`Store::insert_clip`].
#[derive(Debug, Clone, PartialEq)]
pub struct InsertedClip {
    /// The stored clip: the new row, or the one that already had this SHA-256.
    pub clip: Clip,
    /// False when the file was already in the store (its stored fields are kept).
    pub is_new: bool,
}

impl Store {
    /// Adds a clip, or returns the existing clip with the same SHA-256 (un-archiving it).
    pub fn insert_clip(&self, new: &NewClip) -> Result<InsertedClip, StoreError> {
        let sha256 = checked_sha256(&new.sha256)?;
        let title = super::name(&new.title, "clip title")?;
        if new.duration_ms < 0 || new.sample_rate == 0 || new.channels == 0 {
            return Err(StoreError::Invalid(format!(
                "clip {:?} has an impossible format: {} ms, {} Hz, {} channels",
                new.original_name, new.duration_ms, new.sample_rate, new.channels
            )));
        }
        let l = new.loudness;
        if [l.integrated_lufs, l.range_lu, l.true_peak_dbtp]
            .iter()
            .any(|v| v.is_nan())
        {
            return Err(StoreError::Invalid(format!(
                "clip {:?} has a loudness that is not a number",
                new.original_name
            )));
        }
        self.write(|tx| {
            if let Some(clip) = by_sha(tx, &sha256)? {
                tx.execute("UPDATE clips SET archived = 0 WHERE id = ?1", [clip.id.0])?;
                return Ok(InsertedClip {
                    clip,
                    is_new: false,
                });
            }
            tx.execute(
                "INSERT INTO clips (sha256, title, original_name, duration_ms, sample_rate,
                     channels, integrated_lufs, range_lu, true_peak_dbtp, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                params![
                    sha256,
                    title,
                    new.original_name,
                    new.duration_ms,
                    new.sample_rate,
                    new.channels,
                    l.integrated_lufs,
                    l.range_lu,
                    l.true_peak_dbtp,
                    millis(new.created_at),
                ],
            )?;
            let clip = by_id(tx, ClipId(tx.last_insert_rowid()))?;
            Ok(InsertedClip { clip, is_new: true })
        })
    }

    /// The clip with this id, archived or not.
    pub fn clip(&self, id: ClipId) -> Result<Clip, StoreError> {
        self.read(|tx| by_id(tx, id))
    }

    /// The clip whose file has this SHA-256 (any case), if any.
    pub fn clip_by_sha(&self, sha256: &str) -> Result<Option<Clip>, StoreError> {
        self.read(|tx| by_sha(tx, &sha256.to_ascii_lowercase()))
    }

    /// The clips in the library (not archived), oldest first.
    pub fn clips(&self) -> Result<Vec<Clip>, StoreError> {
        self.read(|tx| list(tx, false))
    }

    /// The archived clips, oldest first.
    pub fn archived_clips(&self) -> Result<Vec<Clip>, StoreError> {
        self.read(|tx| list(tx, true))
    }

    /// Archives a clip (hides it from the library) or brings it back.
    pub fn set_clip_archived(&self, id: ClipId, archived: bool) -> Result<Clip, StoreError> {
        self.write(|tx| {
            let n = tx.execute(
                "UPDATE clips SET archived = ?2 WHERE id = ?1",
                params![id.0, archived],
            )?;
            if n == 0 {
                return Err(not_found(id));
            }
            by_id(tx, id)
        })
    }
}

impl Store {
    /// Clips whose title or original name contains `text` (case-insensitive, any script;
    /// empty matches all), archived ones only if `archived`, in `sort` order.
    pub fn search_clips(
        &self,
        text: &str,
        sort: ClipSort,
        archived: bool,
    ) -> Result<Vec<Clip>, StoreError> {
        let needle = text.trim().to_lowercase();
        let mut clips: Vec<Clip> = self
            .read(|tx| list(tx, archived))?
            .into_iter()
            .filter(|c| {
                needle.is_empty()
                    || c.title.to_lowercase().contains(&needle)
                    || c.original_name.to_lowercase().contains(&needle)
            })
            .collect();
        match sort {
            ClipSort::Newest => clips.sort_by_key(|c| std::cmp::Reverse((c.created_at, c.id))),
            ClipSort::Oldest => clips.sort_by_key(|c| (c.created_at, c.id)),
            ClipSort::Title => clips.sort_by_cached_key(|c| (c.title.to_lowercase(), c.id)),
            ClipSort::Longest => {
                clips.sort_by(|a, b| (b.duration_ms, a.id).cmp(&(a.duration_ms, b.id)))
            }
        }
        Ok(clips)
    }

    /// Gives a clip a new title.
    pub fn rename_clip(&self, id: ClipId, title: &str) -> Result<Clip, StoreError> {
        let title = super::name(title, "clip title")?;
        self.write(|tx| {
            let n = tx.execute(
                "UPDATE clips SET title = ?2 WHERE id = ?1",
                params![id.0, title],
            )?;
            if n == 0 {
                return Err(not_found(id));
            }
            by_id(tx, id)
        })
    }

    /// Who uses the clip: each playlist holding it (by name), and each programme playing
    /// one of those playlists. Empty when the clip can be deleted without force.
    pub fn clip_users(&self, id: ClipId) -> Result<Vec<String>, StoreError> {
        self.read(|tx| {
            ensure_exists(tx, id)?;
            users(tx, id)
        })
    }

    /// Deletes the clip's row and returns what it was. Refused with `InUse` while a
    /// playlist holds it, unless `force`, which removes it from every playlist first (each
    /// changed playlist's version is bumped). The caller removes the media file.
    pub fn delete_clip(&self, id: ClipId, force: bool) -> Result<Clip, StoreError> {
        self.write(|tx| {
            let clip = by_id(tx, id)?;
            let users = users(tx, id)?;
            if !users.is_empty() && !force {
                return Err(StoreError::InUse {
                    what: "clip",
                    id: id.0,
                    users,
                });
            }
            super::playlists::remove_clip_everywhere(tx, id)?;
            tx.execute("DELETE FROM clips WHERE id = ?1", [id.0])?;
            Ok(clip)
        })
    }
}

fn users(tx: &Transaction<'_>, id: ClipId) -> Result<Vec<String>, StoreError> {
    let mut stmt = tx.prepare_cached(
        "SELECT 'playlist \"' || p.name || '\"' FROM playlists p
         WHERE p.id IN (SELECT playlist FROM playlist_items WHERE clip = ?1)
         UNION ALL
         SELECT 'programme \"' || g.name || '\"' FROM programmes g
         WHERE g.deleted = 0
           AND g.playlist IN (SELECT playlist FROM playlist_items WHERE clip = ?1)",
    )?;
    let rows = stmt.query_map([id.0], |row| row.get::<_, String>(0))?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

/// The columns read by [`from_row`], in order.
const COLUMNS: &str = "id, sha256, title, original_name, duration_ms, sample_rate, channels,
     integrated_lufs, range_lu, true_peak_dbtp, created_at";

/// Fails with `NotFound` unless the clip exists (archived clips count).
pub(super) fn ensure_exists(tx: &Transaction<'_>, id: ClipId) -> Result<(), StoreError> {
    let found: Option<i64> = tx
        .query_row("SELECT 1 FROM clips WHERE id = ?1", [id.0], |row| {
            row.get(0)
        })
        .optional()?;
    found.map(|_| ()).ok_or_else(|| not_found(id))
}

fn not_found(id: ClipId) -> StoreError {
    StoreError::NotFound {
        what: "clip",
        id: id.0,
    }
}

fn by_id(tx: &Transaction<'_>, id: ClipId) -> Result<Clip, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM clips WHERE id = ?1");
    let raw = tx.query_row(&sql, [id.0], from_row).optional()?;
    raw.ok_or_else(|| not_found(id))?
}

fn by_sha(tx: &Transaction<'_>, sha256: &str) -> Result<Option<Clip>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM clips WHERE sha256 = ?1");
    tx.query_row(&sql, [sha256], from_row)
        .optional()?
        .transpose()
}

fn list(tx: &Transaction<'_>, archived: bool) -> Result<Vec<Clip>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM clips WHERE archived = ?1 ORDER BY id");
    let mut stmt = tx.prepare_cached(&sql)?;
    let rows = stmt.query_map([archived], from_row)?;
    rows.map(|row| row?).collect()
}

/// Reads a clip row; the outer error is SQLite's, the inner one a damaged value.
fn from_row(row: &Row<'_>) -> rusqlite::Result<Result<Clip, StoreError>> {
    let created_at = match instant(row.get(10)?) {
        Ok(t) => t,
        Err(e) => return Ok(Err(e)),
    };
    Ok(Ok(Clip {
        id: ClipId(row.get(0)?),
        sha256: row.get(1)?,
        title: row.get(2)?,
        original_name: row.get(3)?,
        duration_ms: row.get(4)?,
        sample_rate: row.get(5)?,
        channels: row.get(6)?,
        loudness: ClipLoudness {
            integrated_lufs: row.get(7)?,
            range_lu: row.get(8)?,
            true_peak_dbtp: row.get(9)?,
        },
        created_at,
    }))
}

/// Checks a hex SHA-256 and returns it lowercase.
fn checked_sha256(text: &str) -> Result<String, StoreError> {
    if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(text.to_ascii_lowercase())
    } else {
        Err(StoreError::Invalid(format!(
            "{text:?} is not a SHA-256 (64 hex digits)"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::tests::{at, new_clip};

    #[test]
    fn insert_then_read_back_by_id_sha_and_list() {
        let store = Store::open_in_memory().unwrap();
        let new = new_clip(1);
        let inserted = store.insert_clip(&new).unwrap();
        assert!(inserted.is_new);
        let clip = inserted.clip;
        assert_eq!(clip.sha256, new.sha256);
        assert_eq!(clip.title, new.title);
        assert_eq!(clip.original_name, new.original_name);
        assert_eq!(clip.duration_ms, new.duration_ms);
        assert_eq!(clip.sample_rate, new.sample_rate);
        assert_eq!(clip.channels, new.channels);
        assert_eq!(clip.loudness, new.loudness);
        assert_eq!(clip.created_at, new.created_at);
        assert_eq!(store.clip(clip.id).unwrap(), clip);
        assert_eq!(
            store.clip_by_sha(&new.sha256.to_uppercase()).unwrap(),
            Some(clip.clone())
        );
        assert_eq!(store.clips().unwrap(), vec![clip]);
    }

    #[test]
    fn same_sha_returns_existing_clip_and_unarchives_it() {
        let store = Store::open_in_memory().unwrap();
        let first = store.insert_clip(&new_clip(1)).unwrap().clip;
        store.set_clip_archived(first.id, true).unwrap();
        assert!(store.clips().unwrap().is_empty());
        assert_eq!(store.archived_clips().unwrap(), vec![first.clone()]);
        let mut again = new_clip(1);
        again.title = "Another title".to_owned();
        again.sha256 = again.sha256.to_uppercase();
        let second = store.insert_clip(&again).unwrap();
        assert!(!second.is_new);
        assert_eq!(second.clip, first);
        assert_eq!(store.clips().unwrap(), vec![first]);
    }

    #[test]
    fn unknown_clip_is_not_found() {
        let store = Store::open_in_memory().unwrap();
        assert!(matches!(
            store.clip(ClipId(42)),
            Err(StoreError::NotFound {
                what: "clip",
                id: 42
            })
        ));
        assert!(matches!(
            store.set_clip_archived(ClipId(42), true),
            Err(StoreError::NotFound {
                what: "clip",
                id: 42
            })
        ));
        assert_eq!(store.clip_by_sha(&"0".repeat(64)).unwrap(), None);
    }

    #[test]
    fn bad_clips_are_rejected() {
        type Breaker = fn(&mut NewClip);
        let cases: [(&str, Breaker); 7] = [
            ("short hash", |c| c.sha256 = "abc".to_owned()),
            ("non-hex hash", |c| c.sha256 = "g".repeat(64)),
            ("empty title", |c| c.title = "  ".to_owned()),
            ("negative duration", |c| c.duration_ms = -1),
            ("zero rate", |c| c.sample_rate = 0),
            ("zero channels", |c| c.channels = 0),
            ("NaN loudness", |c| c.loudness.integrated_lufs = f64::NAN),
        ];
        let store = Store::open_in_memory().unwrap();
        for (label, break_it) in cases {
            let mut clip = new_clip(7);
            break_it(&mut clip);
            assert!(
                matches!(store.insert_clip(&clip), Err(StoreError::Invalid(_))),
                "{label}"
            );
        }
        assert!(store.clips().unwrap().is_empty());
    }

    #[test]
    fn silence_with_infinite_loudness_round_trips() {
        let store = Store::open_in_memory().unwrap();
        let mut new = new_clip(3);
        new.loudness.integrated_lufs = f64::NEG_INFINITY;
        new.created_at = at("2026-06-01T05:30:00.123Z");
        let clip = store.insert_clip(&new).unwrap().clip;
        assert_eq!(store.clip(clip.id).unwrap().loudness, new.loudness);
        assert_eq!(store.clip(clip.id).unwrap().created_at, new.created_at);
    }
}
