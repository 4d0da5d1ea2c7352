//! The `playlists` and `playlist_items` tables: named, ordered lists of clips with a
//! version number for optimistic concurrency. It does not know what the clips sound like.
//!
//! Every change bumps the version. A write names the version it was based on and fails
//! with [`StoreError::VersionConflict`] (carrying the stored playlist) if someone else
//! changed it meanwhile, so two staff editing at once never silently lose work.
//! Single-item edits (insert, move, remove) follow the same rule. A playlist is deleted only
//! when no programme row refers to it (deleted programmes too: the log refers to them).
//! A version bump is also what withdraws the approval of programmes playing the playlist
//! (see `approval`).

use std::time::Duration;

use rusqlite::{OptionalExtension, Transaction, params};

use super::approval::{Approvals, Change};
use super::{Store, StoreError, clips};
use crate::model::{ClipId, Playlist, PlaylistId};

impl Store {
    /// Creates a playlist at version 1. Every clip must exist; a clip may repeat.
    pub fn create_playlist(&self, name: &str, items: &[ClipId]) -> Result<Playlist, StoreError> {
        let name = super::name(name, "playlist name")?;
        self.write(|tx| {
            tx.execute(
                "INSERT INTO playlists (name, version) VALUES (?1, 1)",
                [&name],
            )?;
            let id = PlaylistId(tx.last_insert_rowid());
            write_items(tx, id, items)?;
            by_id(tx, id)
        })
    }

    /// The playlist with this id.
    pub fn playlist(&self, id: PlaylistId) -> Result<Playlist, StoreError> {
        self.read(|tx| by_id(tx, id))
    }

    /// All playlists, oldest first.
    pub fn playlists(&self) -> Result<Vec<Playlist>, StoreError> {
        self.read(|tx| {
            let mut playlists = {
                let mut stmt =
                    tx.prepare_cached("SELECT id, name, version FROM playlists ORDER BY id")?;
                stmt.query_map([], |row| {
                    Ok(Playlist {
                        id: PlaylistId(row.get(0)?),
                        name: row.get(1)?,
                        version: row.get(2)?,
                        items: Vec::new(),
                    })
                })?
                .collect::<Result<Vec<_>, _>>()?
            };
            let mut stmt = tx.prepare_cached(
                "SELECT playlist, clip FROM playlist_items ORDER BY playlist, position",
            )?;
            let mut rows = stmt.query([])?;
            let mut slots = playlists.iter_mut().peekable();
            while let Some(row) = rows.next()? {
                let (playlist, clip) = (PlaylistId(row.get(0)?), ClipId(row.get(1)?));
                while slots.next_if(|p| p.id < playlist).is_some() {}
                match slots.peek_mut() {
                    Some(p) if p.id == playlist => p.items.push(clip),
                    _ => {
                        return Err(StoreError::Corrupt(format!(
                            "playlist item for missing playlist {playlist}"
                        )));
                    }
                }
            }
            Ok(playlists)
        })
    }

    /// Replaces the playlist's items if it is still at `expected_version`; bumps the version,
    /// which withdraws the approval of programmes playing it unless `approvals` keeps it.
    pub fn replace_playlist_items(
        &self,
        id: PlaylistId,
        expected_version: i64,
        items: &[ClipId],
        approvals: Approvals,
    ) -> Result<Change<Playlist>, StoreError> {
        self.change(approvals, |tx| {
            bump_version(tx, id, expected_version)?;
            tx.execute("DELETE FROM playlist_items WHERE playlist = ?1", [id.0])?;
            write_items(tx, id, items)?;
            by_id(tx, id)
        })
    }

    /// Renames the playlist if it is still at `expected_version`; bumps the version (so, like
    /// any change to a playlist, it withdraws approvals unless `approvals` keeps them).
    pub fn rename_playlist(
        &self,
        id: PlaylistId,
        expected_version: i64,
        name: &str,
        approvals: Approvals,
    ) -> Result<Change<Playlist>, StoreError> {
        let name = super::name(name, "playlist name")?;
        self.change(approvals, |tx| {
            bump_version(tx, id, expected_version)?;
            tx.execute(
                "UPDATE playlists SET name = ?2 WHERE id = ?1",
                params![id.0, name],
            )?;
            by_id(tx, id)
        })
    }
}

impl Store {
    /// Inserts `clip` before `position` (`position` = length appends), at `expected_version`.
    pub fn insert_playlist_item(
        &self,
        id: PlaylistId,
        expected_version: i64,
        position: usize,
        clip: ClipId,
    ) -> Result<Playlist, StoreError> {
        self.edit_items(id, expected_version, |items| {
            if position > items.len() {
                return Err(bad_position(position, items.len() + 1));
            }
            items.insert(position, clip);
            Ok(())
        })
    }

    /// Moves the item at `from` so that it ends up at `to`, at `expected_version`.
    pub fn move_playlist_item(
        &self,
        id: PlaylistId,
        expected_version: i64,
        from: usize,
        to: usize,
    ) -> Result<Playlist, StoreError> {
        self.edit_items(id, expected_version, |items| {
            if from >= items.len() || to >= items.len() {
                return Err(bad_position(from.max(to), items.len()));
            }
            let clip = items.remove(from);
            items.insert(to, clip);
            Ok(())
        })
    }

    /// Removes the item at `position`, at `expected_version`.
    pub fn remove_playlist_item(
        &self,
        id: PlaylistId,
        expected_version: i64,
        position: usize,
    ) -> Result<Playlist, StoreError> {
        self.edit_items(id, expected_version, |items| {
            if position >= items.len() {
                return Err(bad_position(position, items.len()));
            }
            items.remove(position);
            Ok(())
        })
    }

    /// Deletes a playlist; refused with `InUse` while any programme refers to it.
    pub fn delete_playlist(&self, id: PlaylistId) -> Result<(), StoreError> {
        self.write(|tx| {
            ensure_exists(tx, id)?;
            let users = {
                let mut stmt = tx.prepare_cached(
                    "SELECT 'programme \"' || name || '\"' || CASE deleted WHEN 1
                         THEN ' (deleted, kept for the log)' ELSE '' END
                     FROM programmes WHERE playlist = ?1 ORDER BY id",
                )?;
                stmt.query_map([id.0], |row| row.get::<_, String>(0))?
                    .collect::<Result<Vec<_>, _>>()?
            };
            if !users.is_empty() {
                return Err(StoreError::InUse {
                    what: "playlist",
                    id: id.0,
                    users,
                });
            }
            tx.execute("DELETE FROM playlists WHERE id = ?1", [id.0])?;
            Ok(())
        })
    }

    /// How long the playlist plays: the sum of its items' durations (repeats counted,
    /// without gaps or chime).
    pub fn playlist_duration(&self, id: PlaylistId) -> Result<Duration, StoreError> {
        self.read(|tx| {
            ensure_exists(tx, id)?;
            let ms: i64 = tx.query_row(
                "SELECT coalesce(sum(c.duration_ms), 0) FROM playlist_items i
                 JOIN clips c ON c.id = i.clip WHERE i.playlist = ?1",
                [id.0],
                |row| row.get(0),
            )?;
            Ok(Duration::from_millis(u64::try_from(ms).unwrap_or(0)))
        })
    }

    /// Reads the items, lets `edit` change them, writes them back with a version bump.
    fn edit_items(
        &self,
        id: PlaylistId,
        expected_version: i64,
        edit: impl FnOnce(&mut Vec<ClipId>) -> Result<(), StoreError>,
    ) -> Result<Playlist, StoreError> {
        self.write(|tx| {
            bump_version(tx, id, expected_version)?;
            let mut items = by_id(tx, id)?.items;
            edit(&mut items)?;
            tx.execute("DELETE FROM playlist_items WHERE playlist = ?1", [id.0])?;
            write_items(tx, id, &items)?;
            by_id(tx, id)
        })
    }
}

/// Takes `clip` out of every playlist that holds it, bumping each one's version.
pub(super) fn remove_clip_everywhere(tx: &Transaction<'_>, clip: ClipId) -> Result<(), StoreError> {
    let holders = {
        let mut stmt =
            tx.prepare_cached("SELECT DISTINCT playlist FROM playlist_items WHERE clip = ?1")?;
        stmt.query_map([clip.0], |row| Ok(PlaylistId(row.get(0)?)))?
            .collect::<Result<Vec<_>, _>>()?
    };
    for id in holders {
        let mut playlist = by_id(tx, id)?;
        playlist.items.retain(|c| *c != clip);
        tx.execute("DELETE FROM playlist_items WHERE playlist = ?1", [id.0])?;
        write_items(tx, id, &playlist.items)?;
        bump_version(tx, id, playlist.version)?;
    }
    Ok(())
}

fn bad_position(position: usize, len: usize) -> StoreError {
    StoreError::Invalid(format!(
        "position {position} is outside the playlist (0..{len})"
    ))
}

/// Fails with `NotFound` unless the playlist exists.
pub(super) fn ensure_exists(tx: &Transaction<'_>, id: PlaylistId) -> Result<(), StoreError> {
    let found: Option<i64> = tx
        .query_row("SELECT 1 FROM playlists WHERE id = ?1", [id.0], |row| {
            row.get(0)
        })
        .optional()?;
    found.map(|_| ()).ok_or_else(|| not_found(id))
}

fn not_found(id: PlaylistId) -> StoreError {
    StoreError::NotFound {
        what: "playlist",
        id: id.0,
    }
}

/// Moves the playlist from `expected` to the next version, or reports the conflict.
fn bump_version(tx: &Transaction<'_>, id: PlaylistId, expected: i64) -> Result<(), StoreError> {
    let n = tx.execute(
        "UPDATE playlists SET version = version + 1 WHERE id = ?1 AND version = ?2",
        params![id.0, expected],
    )?;
    if n == 1 {
        return Ok(());
    }
    let current = by_id(tx, id)?;
    Err(StoreError::VersionConflict {
        current: Box::new(current),
    })
}

/// Inserts the items at positions 0, 1, …, checking that each clip exists.
fn write_items(tx: &Transaction<'_>, id: PlaylistId, items: &[ClipId]) -> Result<(), StoreError> {
    let mut stmt = tx.prepare_cached(
        "INSERT INTO playlist_items (playlist, position, clip) VALUES (?1, ?2, ?3)",
    )?;
    for (position, clip) in (0_i64..).zip(items) {
        clips::ensure_exists(tx, *clip)?;
        stmt.execute(params![id.0, position, clip.0])?;
    }
    Ok(())
}

fn by_id(tx: &Transaction<'_>, id: PlaylistId) -> Result<Playlist, StoreError> {
    let head = tx
        .query_row(
            "SELECT name, version FROM playlists WHERE id = ?1",
            [id.0],
            |row| Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?)),
        )
        .optional()?;
    let (name, version) = head.ok_or_else(|| not_found(id))?;
    let mut stmt =
        tx.prepare_cached("SELECT clip FROM playlist_items WHERE playlist = ?1 ORDER BY position")?;
    let items = stmt
        .query_map([id.0], |row| Ok(ClipId(row.get(0)?)))?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Playlist {
        id,
        name,
        version,
        items,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::tests::new_clip;

    fn store_with_clips(n: u64) -> (Store, Vec<ClipId>) {
        let store = Store::open_in_memory().unwrap();
        let ids = (0..n)
            .map(|i| store.insert_clip(&new_clip(i)).unwrap().clip.id)
            .collect();
        (store, ids)
    }

    #[test]
    fn create_and_read_back_with_repeated_clip() {
        let (store, c) = store_with_clips(2);
        let items = [c[0], c[1], c[0]];
        let p = store.create_playlist(" Sáng ", &items).unwrap();
        assert_eq!(p.name, "Sáng");
        assert_eq!(p.version, 1);
        assert_eq!(p.items, items);
        assert_eq!(store.playlist(p.id).unwrap(), p);
        let empty = store.create_playlist("Trống", &[]).unwrap();
        let other = store.create_playlist("Chiều", &[c[1]]).unwrap();
        assert_eq!(store.playlists().unwrap(), vec![p, empty, other]);
    }

    #[test]
    fn replace_bumps_version_and_stale_version_conflicts() {
        let (store, c) = store_with_clips(3);
        let p = store.create_playlist("Sáng", &[c[0], c[1]]).unwrap();
        let p2 = store
            .replace_playlist_items(p.id, 1, &[c[2], c[0]], Approvals::Withdraw)
            .map(|c| c.value)
            .unwrap();
        assert_eq!(p2.version, 2);
        assert_eq!(p2.items, vec![c[2], c[0]]);
        // A second editor still holding version 1 loses, and learns what is stored now.
        match store.replace_playlist_items(p.id, 1, &[c[1]], Approvals::Withdraw) {
            Err(StoreError::VersionConflict { current }) => assert_eq!(*current, p2),
            other => panic!("expected a conflict, got {other:?}"),
        }
        assert_eq!(store.playlist(p.id).unwrap(), p2);
    }

    #[test]
    fn rename_bumps_version_and_checks_it() {
        let (store, c) = store_with_clips(1);
        let p = store.create_playlist("Sáng", &[c[0]]).unwrap();
        let renamed = store
            .rename_playlist(p.id, 1, "Buổi sáng", Approvals::Withdraw)
            .map(|c| c.value)
            .unwrap();
        assert_eq!((renamed.name.as_str(), renamed.version), ("Buổi sáng", 2));
        assert_eq!(renamed.items, p.items);
        assert!(matches!(
            store
                .rename_playlist(p.id, 1, "X", Approvals::Withdraw)
                .map(|c| c.value),
            Err(StoreError::VersionConflict { .. })
        ));
        assert!(matches!(
            store
                .rename_playlist(p.id, 2, " ", Approvals::Withdraw)
                .map(|c| c.value),
            Err(StoreError::Invalid(_))
        ));
    }

    #[test]
    fn unknown_clip_or_playlist_is_not_found_and_changes_nothing() {
        let (store, c) = store_with_clips(1);
        assert!(matches!(
            store.create_playlist("X", &[c[0], ClipId(99)]),
            Err(StoreError::NotFound {
                what: "clip",
                id: 99
            })
        ));
        assert!(store.playlists().unwrap().is_empty());
        let p = store.create_playlist("Sáng", &[c[0]]).unwrap();
        assert!(matches!(
            store
                .replace_playlist_items(p.id, 1, &[ClipId(99)], Approvals::Withdraw)
                .map(|c| c.value),
            Err(StoreError::NotFound {
                what: "clip",
                id: 99
            })
        ));
        assert_eq!(store.playlist(p.id).unwrap(), p);
        for result in [
            store.playlist(PlaylistId(5)),
            store
                .replace_playlist_items(PlaylistId(5), 1, &[], Approvals::Withdraw)
                .map(|c| c.value),
            store
                .rename_playlist(PlaylistId(5), 1, "Y", Approvals::Withdraw)
                .map(|c| c.value),
        ] {
            assert!(matches!(
                result,
                Err(StoreError::NotFound {
                    what: "playlist",
                    id: 5
                })
            ));
        }
    }

    #[test]
    fn archived_clip_stays_usable_in_playlists() {
        let (store, c) = store_with_clips(1);
        let p = store.create_playlist("Sáng", &[c[0]]).unwrap();
        store.set_clip_archived(c[0], true).unwrap();
        let p2 = store
            .replace_playlist_items(p.id, 1, &[c[0], c[0]], Approvals::Withdraw)
            .map(|c| c.value)
            .unwrap();
        assert_eq!(p2.items, vec![c[0], c[0]]);
    }
}
