//! The `playlists` and `playlist_items` tables: named, ordered lists of clips with a
//! version number for optimistic concurrency. It does not know what the clips sound like.
//!
//! Every change bumps the version. A write names the version it was based on and fails
//! with [`StoreError::VersionConflict`] (carrying the stored playlist) if someone else
//! changed it meanwhile, so two staff editing at once never silently lose work.

use rusqlite::{OptionalExtension, Transaction, params};

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

    /// Replaces the playlist's items if it is still at `expected_version`; bumps the version.
    pub fn replace_playlist_items(
        &self,
        id: PlaylistId,
        expected_version: i64,
        items: &[ClipId],
    ) -> Result<Playlist, StoreError> {
        self.write(|tx| {
            bump_version(tx, id, expected_version)?;
            tx.execute("DELETE FROM playlist_items WHERE playlist = ?1", [id.0])?;
            write_items(tx, id, items)?;
            by_id(tx, id)
        })
    }

    /// Renames the playlist if it is still at `expected_version`; bumps the version.
    pub fn rename_playlist(
        &self,
        id: PlaylistId,
        expected_version: i64,
        name: &str,
    ) -> Result<Playlist, StoreError> {
        let name = super::name(name, "playlist name")?;
        self.write(|tx| {
            bump_version(tx, id, expected_version)?;
            tx.execute(
                "UPDATE playlists SET name = ?2 WHERE id = ?1",
                params![id.0, name],
            )?;
            by_id(tx, id)
        })
    }
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
            .replace_playlist_items(p.id, 1, &[c[2], c[0]])
            .unwrap();
        assert_eq!(p2.version, 2);
        assert_eq!(p2.items, vec![c[2], c[0]]);
        // A second editor still holding version 1 loses, and learns what is stored now.
        match store.replace_playlist_items(p.id, 1, &[c[1]]) {
            Err(StoreError::VersionConflict { current }) => assert_eq!(*current, p2),
            other => panic!("expected a conflict, got {other:?}"),
        }
        assert_eq!(store.playlist(p.id).unwrap(), p2);
    }

    #[test]
    fn rename_bumps_version_and_checks_it() {
        let (store, c) = store_with_clips(1);
        let p = store.create_playlist("Sáng", &[c[0]]).unwrap();
        let renamed = store.rename_playlist(p.id, 1, "Buổi sáng").unwrap();
        assert_eq!((renamed.name.as_str(), renamed.version), ("Buổi sáng", 2));
        assert_eq!(renamed.items, p.items);
        assert!(matches!(
            store.rename_playlist(p.id, 1, "X"),
            Err(StoreError::VersionConflict { .. })
        ));
        assert!(matches!(
            store.rename_playlist(p.id, 2, " "),
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
            store.replace_playlist_items(p.id, 1, &[ClipId(99)]),
            Err(StoreError::NotFound {
                what: "clip",
                id: 99
            })
        ));
        assert_eq!(store.playlist(p.id).unwrap(), p);
        for result in [
            store.playlist(PlaylistId(5)),
            store.replace_playlist_items(PlaylistId(5), 1, &[]),
            store.rename_playlist(PlaylistId(5), 1, "Y"),
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
            .replace_playlist_items(p.id, 1, &[c[0], c[0]])
            .unwrap();
        assert_eq!(p2.items, vec![c[0], c[0]]);
    }
}
