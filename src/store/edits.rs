//! Small edits the panel needs that the engine never does: rename a clip, delete a
//! playlist or a campaign that nothing uses. Each refuses, with the reason, rather than
//! break a reference.

use rusqlite::params;

use super::{Store, StoreError};
use crate::model::{CampaignId, Clip, ClipId, PlaylistId};

impl Store {
    /// Gives a clip a new title.
    pub fn rename_clip(&self, id: ClipId, title: &str) -> Result<Clip, StoreError> {
        let title = super::name(title, "clip title")?;
        self.write(|tx| {
            let n = tx.execute(
                "UPDATE clips SET title = ?2 WHERE id = ?1",
                params![id.0, title],
            )?;
            if n == 0 {
                return Err(StoreError::NotFound {
                    what: "clip",
                    id: id.0,
                });
            }
            Ok(())
        })?;
        self.clip(id)
    }

    /// Records the client's file name of an uploaded clip (its extension must not change,
    /// since the stored original's name is derived from it).
    pub fn set_clip_original_name(&self, id: ClipId, name: &str) -> Result<Clip, StoreError> {
        self.write(|tx| {
            tx.execute(
                "UPDATE clips SET original_name = ?2 WHERE id = ?1",
                params![id.0, name],
            )?;
            Ok(())
        })?;
        self.clip(id)
    }

    /// Deletes a playlist no programme (not even a deleted one) refers to.
    pub fn delete_playlist(&self, id: PlaylistId) -> Result<(), StoreError> {
        self.write(|tx| {
            let users: Vec<String> = {
                let mut stmt = tx.prepare_cached(
                    "SELECT name FROM programmes WHERE playlist = ?1 AND deleted = 0 ORDER BY id",
                )?;
                stmt.query_map([id.0], |r| r.get(0))?
                    .collect::<Result<_, _>>()?
            };
            if !users.is_empty() {
                return Err(StoreError::Invalid(format!(
                    "playlist {id} is used by programme {}",
                    users.join(", ")
                )));
            }
            let kept: i64 = tx.query_row(
                "SELECT count(*) FROM programmes WHERE playlist = ?1",
                [id.0],
                |r| r.get(0),
            )?;
            if kept > 0 {
                return Err(StoreError::Invalid(format!(
                    "playlist {id} is kept for the log of deleted programmes"
                )));
            }
            if tx.execute("DELETE FROM playlists WHERE id = ?1", [id.0])? == 0 {
                return Err(StoreError::NotFound {
                    what: "playlist",
                    id: id.0,
                });
            }
            Ok(())
        })
    }

    /// Deletes a campaign no programme refers to.
    pub fn delete_campaign(&self, id: CampaignId) -> Result<(), StoreError> {
        self.write(|tx| {
            let used: i64 = tx.query_row(
                "SELECT count(*) FROM programmes WHERE campaign = ?1",
                [id.0],
                |r| r.get(0),
            )?;
            if used > 0 {
                return Err(StoreError::Invalid(format!(
                    "campaign {id} has {used} programme(s); move or delete them first"
                )));
            }
            if tx.execute("DELETE FROM campaigns WHERE id = ?1", [id.0])? == 0 {
                return Err(StoreError::NotFound {
                    what: "campaign",
                    id: id.0,
                });
            }
            Ok(())
        })
    }
}
