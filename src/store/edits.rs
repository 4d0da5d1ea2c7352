//! Small edits the panel needs that the engine never does: delete a campaign that nothing
//! uses (clip rename and playlist delete live with their tables). It refuses, with the
//! reason, rather than break a reference.

use super::{Store, StoreError};
use crate::model::CampaignId;

impl Store {
    /// Deletes a campaign no programme refers to.
    pub fn delete_campaign(&self, id: CampaignId) -> Result<(), StoreError> {
        self.write(|tx| {
            let users = {
                let mut stmt = tx.prepare_cached(
                    "SELECT 'programme \"' || name || '\"' || CASE deleted WHEN 1
                         THEN ' (deleted, kept for the log)' ELSE '' END
                     FROM programmes WHERE campaign = ?1 ORDER BY id",
                )?;
                stmt.query_map([id.0], |row| row.get::<_, String>(0))?
                    .collect::<Result<Vec<_>, _>>()?
            };
            if !users.is_empty() {
                return Err(StoreError::InUse {
                    what: "campaign",
                    id: id.0,
                    users,
                });
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
