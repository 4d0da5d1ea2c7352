//! Small edits the panel needs that the engine never does: delete a campaign that nothing
//! uses (clip rename and playlist delete live with their tables). It refuses, with the
//! reason, rather than break a reference.

use super::{Store, StoreError};
use crate::model::CampaignId;

impl Store {
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
