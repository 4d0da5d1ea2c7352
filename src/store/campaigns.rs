//! The `campaigns` table: named ranges of local dates that programmes belong to.
//! It does not decide whether a programme fires on a date; the scheduler does.

use rusqlite::{OptionalExtension, Row, Transaction, params};

use super::approval::{Approvals, Change};
use super::{Store, StoreError, date, date_text};
use crate::model::{Campaign, CampaignId, DateRange};

/// A campaign to create.
#[derive(Debug, Clone, PartialEq)]
pub struct NewCampaign {
    /// Name, e.g. "Tháng hành động vì trẻ em 2026".
    pub name: String,
    /// Theme line from the plan (may be empty).
    pub theme: String,
    /// Dates the campaign runs, inclusive.
    pub dates: DateRange,
}

impl Store {
    /// Creates a campaign.
    pub fn create_campaign(&self, new: &NewCampaign) -> Result<Campaign, StoreError> {
        let name = super::name(&new.name, "campaign name")?;
        check_dates(new.dates)?;
        self.write(|tx| {
            tx.execute(
                "INSERT INTO campaigns (name, theme, start_date, end_date)
                 VALUES (?1, ?2, ?3, ?4)",
                params![
                    name,
                    new.theme.trim(),
                    date_text(new.dates.start),
                    date_text(new.dates.end)
                ],
            )?;
            by_id(tx, CampaignId(tx.last_insert_rowid()))
        })
    }

    /// Replaces a campaign's name, theme and dates; new dates withdraw the approval of its
    /// programmes unless `approvals` keeps it.
    pub fn update_campaign(
        &self,
        campaign: &Campaign,
        approvals: Approvals,
    ) -> Result<Change<Campaign>, StoreError> {
        let name = super::name(&campaign.name, "campaign name")?;
        check_dates(campaign.dates)?;
        self.change(approvals, |tx| {
            let n = tx.execute(
                "UPDATE campaigns SET name = ?2, theme = ?3, start_date = ?4, end_date = ?5
                 WHERE id = ?1",
                params![
                    campaign.id.0,
                    name,
                    campaign.theme.trim(),
                    date_text(campaign.dates.start),
                    date_text(campaign.dates.end)
                ],
            )?;
            if n == 0 {
                return Err(not_found(campaign.id));
            }
            by_id(tx, campaign.id)
        })
    }

    /// The campaign with this id.
    pub fn campaign(&self, id: CampaignId) -> Result<Campaign, StoreError> {
        self.read(|tx| by_id(tx, id))
    }

    /// All campaigns, by start date then id.
    pub fn campaigns(&self) -> Result<Vec<Campaign>, StoreError> {
        self.read(|tx| {
            let mut stmt = tx.prepare_cached(
                "SELECT id, name, theme, start_date, end_date FROM campaigns
                 ORDER BY start_date, id",
            )?;
            let rows = stmt.query_map([], from_row)?;
            rows.map(|row| row?).collect()
        })
    }
}

/// Fails with `NotFound` unless the campaign exists.
pub(super) fn ensure_exists(tx: &Transaction<'_>, id: CampaignId) -> Result<(), StoreError> {
    let found: Option<i64> = tx
        .query_row("SELECT 1 FROM campaigns WHERE id = ?1", [id.0], |row| {
            row.get(0)
        })
        .optional()?;
    found.map(|_| ()).ok_or_else(|| not_found(id))
}

/// Rejects a range whose end is before its start.
pub(super) fn check_dates(dates: DateRange) -> Result<(), StoreError> {
    if dates.end < dates.start {
        return Err(StoreError::Invalid(format!(
            "date range ends ({}) before it starts ({})",
            dates.end, dates.start
        )));
    }
    Ok(())
}

fn not_found(id: CampaignId) -> StoreError {
    StoreError::NotFound {
        what: "campaign",
        id: id.0,
    }
}

fn by_id(tx: &Transaction<'_>, id: CampaignId) -> Result<Campaign, StoreError> {
    tx.query_row(
        "SELECT id, name, theme, start_date, end_date FROM campaigns WHERE id = ?1",
        [id.0],
        from_row,
    )
    .optional()?
    .ok_or_else(|| not_found(id))?
}

/// Reads a campaign row; the outer error is SQLite's, the inner one a damaged value.
fn from_row(row: &Row<'_>) -> rusqlite::Result<Result<Campaign, StoreError>> {
    let (start, end): (String, String) = (row.get(3)?, row.get(4)?);
    let (id, name, theme) = (CampaignId(row.get(0)?), row.get(1)?, row.get(2)?);
    Ok((|| {
        Ok(Campaign {
            id,
            name,
            theme,
            dates: DateRange {
                start: date(&start)?,
                end: date(&end)?,
            },
        })
    })())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::tests::day;

    fn june() -> NewCampaign {
        NewCampaign {
            name: "Tháng hành động vì trẻ em 2026".to_owned(),
            theme: "Trẻ em hạnh phúc, an toàn, vững bước trong kỷ nguyên số".to_owned(),
            dates: DateRange {
                start: day("2026-06-01"),
                end: day("2026-06-30"),
            },
        }
    }

    #[test]
    fn create_read_list_update() {
        let store = Store::open_in_memory().unwrap();
        let c = store.create_campaign(&june()).unwrap();
        assert_eq!(c.name, june().name);
        assert_eq!(c.theme, june().theme);
        assert_eq!(c.dates, june().dates);
        assert_eq!(store.campaign(c.id).unwrap(), c);
        let mut earlier = june();
        earlier.name = "Tết Trung thu".to_owned();
        earlier.dates.start = day("2026-05-01");
        let e = store.create_campaign(&earlier).unwrap();
        assert_eq!(store.campaigns().unwrap(), vec![e, c.clone()]);
        let mut changed = c.clone();
        changed.dates.end = day("2026-07-01");
        assert_eq!(
            store
                .update_campaign(&changed, Approvals::Withdraw)
                .map(|c| c.value)
                .unwrap(),
            changed
        );
        assert_eq!(store.campaign(c.id).unwrap(), changed);
    }

    #[test]
    fn bad_campaigns_are_rejected() {
        let store = Store::open_in_memory().unwrap();
        let mut reversed = june();
        reversed.dates.end = day("2026-05-31");
        assert!(matches!(
            store.create_campaign(&reversed),
            Err(StoreError::Invalid(_))
        ));
        let mut unnamed = june();
        unnamed.name = String::new();
        assert!(matches!(
            store.create_campaign(&unnamed),
            Err(StoreError::Invalid(_))
        ));
        let ghost = Campaign {
            id: CampaignId(9),
            name: "x".to_owned(),
            theme: String::new(),
            dates: june().dates,
        };
        assert!(matches!(
            store
                .update_campaign(&ghost, Approvals::Withdraw)
                .map(|c| c.value),
            Err(StoreError::NotFound {
                what: "campaign",
                id: 9
            })
        ));
        assert!(matches!(
            store.campaign(CampaignId(9)),
            Err(StoreError::NotFound {
                what: "campaign",
                id: 9
            })
        ));
        assert!(store.campaigns().unwrap().is_empty());
    }
}
