//! The `programmes` table: schedule entries (cron text, playlist, dates, priority, clash
//! rule, repeats, chime, enabled, approval seal). It stores them; it does not compute when
//! they fire. A programme read back is `approved` only while its seal matches its content
//! (see `approval`); writing a programme never approves it, except creating one approved.
//!
//! Deleting a programme only marks it deleted (and disabled): the broadcast log and the
//! per-campaign reports keep referring to it, and its id is never reused.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use rusqlite::{OptionalExtension, Row, Transaction, params};

use super::approval::{Approvals, CONTENT_SQL, Change, seal};
use super::{Store, StoreError, campaigns, date, date_text, duration, playlists, secs};
use crate::cron::{CronError, CronExpr};
use crate::model::{
    CampaignId, ClashRule, DateRange, PlaylistId, Priority, Programme, ProgrammeId,
};

/// A programme to create: every field of [`Programme`] but the id.
#[derive(Debug, Clone, PartialEq)]
pub struct NewProgramme {
    /// Name shown to staff.
    pub name: String,
    /// When it fires, in the station's time zone.
    pub cron: CronExpr,
    /// What it plays.
    pub playlist: PlaylistId,
    /// The campaign it belongs to.
    pub campaign: Option<CampaignId>,
    /// The programme's own date bounds.
    pub dates: Option<DateRange>,
    /// Priority against other broadcasts.
    pub priority: Priority,
    /// Behaviour when the air is busy.
    pub clash: ClashRule,
    /// Plays of the playlist per occurrence (at least 1).
    pub repeat: u32,
    /// Pause between repeats (whole seconds are kept).
    pub repeat_pause: Duration,
    /// Whether the opening and closing chime play.
    pub chime: bool,
    /// Disabled programmes never fire.
    pub enabled: bool,
    /// Created approved: its content as created is sealed.
    pub approved: bool,
}

impl Store {
    /// Creates a programme; its playlist and campaign must exist.
    pub fn create_programme(&self, new: &NewProgramme) -> Result<Programme, StoreError> {
        let draft = Programme {
            id: ProgrammeId(0),
            name: new.name.clone(),
            cron: new.cron.clone(),
            playlist: new.playlist,
            campaign: new.campaign,
            dates: new.dates,
            priority: new.priority,
            clash: new.clash,
            repeat: new.repeat,
            repeat_pause: new.repeat_pause,
            chime: new.chime,
            enabled: new.enabled,
            approved: new.approved,
        };
        let values = Values::of(&draft)?;
        self.write(|tx| {
            values.check_references(tx)?;
            tx.execute(
                "INSERT INTO programmes (name, cron, playlist, campaign, start_date, end_date,
                     priority, clash_rule, clash_max_wait_s, repeat_count, repeat_pause_s,
                     chime, enabled, approved)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, 0)",
                values.params(),
            )?;
            let id = ProgrammeId(tx.last_insert_rowid());
            if new.approved {
                seal(tx, id)?;
            }
            by_id(tx, id, &self.crons)
        })
    }

    /// Replaces every field of the programme with this id but its approval (its
    /// `approved` field is not read): a change to its content withdraws the approval
    /// unless `approvals` keeps it.
    pub fn update_programme(
        &self,
        programme: &Programme,
        approvals: Approvals,
    ) -> Result<Change<Programme>, StoreError> {
        let values = Values::of(programme)?;
        self.change(approvals, |tx| {
            by_id(tx, programme.id, &self.crons)?;
            values.check_references(tx)?;
            let mut params = values.params().to_vec();
            params.push(&programme.id.0);
            tx.execute(
                "UPDATE programmes SET name = ?1, cron = ?2, playlist = ?3, campaign = ?4,
                     start_date = ?5, end_date = ?6, priority = ?7, clash_rule = ?8,
                     clash_max_wait_s = ?9, repeat_count = ?10, repeat_pause_s = ?11,
                     chime = ?12, enabled = ?13
                 WHERE id = ?14 AND deleted = 0",
                params.as_slice(),
            )?;
            Ok(programme.id)
        })
        .and_then(|c| {
            Ok(Change {
                value: self.programme(c.value)?,
                withdrawn: c.withdrawn,
            })
        })
    }

    /// Enables or disables a programme.
    pub fn set_programme_enabled(
        &self,
        id: ProgrammeId,
        enabled: bool,
    ) -> Result<Programme, StoreError> {
        self.set_flag(
            id,
            "UPDATE programmes SET enabled = ?2 WHERE id = ?1",
            enabled,
        )
    }

    /// The programme with this id, unless it was deleted.
    pub fn programme(&self, id: ProgrammeId) -> Result<Programme, StoreError> {
        self.read(|tx| by_id(tx, id, &self.crons))
    }

    /// The programme with this id even if deleted, for the log and reports.
    pub fn programme_including_deleted(&self, id: ProgrammeId) -> Result<Programme, StoreError> {
        self.read(|tx| {
            let sql = format!("SELECT {} FROM programmes WHERE id = ?1", columns());
            tx.query_row(&sql, [id.0], |row| from_row(row, &self.crons))
                .optional()?
                .ok_or_else(|| not_found(id))?
        })
    }

    /// The programmes that are not deleted, by id.
    pub fn programmes(&self) -> Result<Vec<Programme>, StoreError> {
        self.read(|tx| {
            let sql = format!(
                "SELECT {} FROM programmes WHERE deleted = 0 ORDER BY id",
                columns()
            );
            let mut stmt = tx.prepare_cached(&sql)?;
            let rows = stmt.query_map([], |row| from_row(row, &self.crons))?;
            rows.map(|row| row?).collect()
        })
    }

    /// Deletes a programme: it is disabled and hidden, and kept for the log's sake.
    pub fn delete_programme(&self, id: ProgrammeId) -> Result<(), StoreError> {
        self.write(|tx| {
            let n = tx.execute(
                "UPDATE programmes SET deleted = 1, enabled = 0 WHERE id = ?1 AND deleted = 0",
                [id.0],
            )?;
            if n == 0 {
                return Err(not_found(id));
            }
            Ok(())
        })
    }

    fn set_flag(&self, id: ProgrammeId, sql: &str, value: bool) -> Result<Programme, StoreError> {
        self.write(|tx| {
            by_id(tx, id, &self.crons)?;
            tx.execute(sql, params![id.0, value])?;
            by_id(tx, id, &self.crons)
        })
    }
}

/// A priority as stored.
pub(super) fn priority_text(p: Priority) -> &'static str {
    match p {
        Priority::Normal => "normal",
        Priority::Priority => "priority",
        Priority::Emergency => "emergency",
    }
}

/// Reads back a stored priority.
pub(super) fn priority(text: &str) -> Result<Priority, StoreError> {
    match text {
        "normal" => Ok(Priority::Normal),
        "priority" => Ok(Priority::Priority),
        "emergency" => Ok(Priority::Emergency),
        _ => Err(StoreError::Corrupt(format!("unknown priority {text:?}"))),
    }
}

/// The columns read by [`from_row`], in order; the last two are the approval seal and
/// the content as it is now (approved when they are equal).
fn columns() -> &'static str {
    static COLUMNS: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    COLUMNS.get_or_init(|| {
        format!(
            "id, name, cron, playlist, campaign, start_date, end_date, priority, clash_rule,
             clash_max_wait_s, repeat_count, repeat_pause_s, chime, enabled,
             approval_seal IS NOT NULL AND approval_seal = {CONTENT_SQL}"
        )
    })
}

/// A programme's values checked and converted for SQL.
struct Values {
    name: String,
    cron: String,
    playlist: PlaylistId,
    campaign: Option<i64>,
    start: Option<String>,
    end: Option<String>,
    priority: &'static str,
    clash_rule: &'static str,
    max_wait_s: i64,
    repeat: u32,
    pause_s: i64,
    chime: bool,
    enabled: bool,
}

impl Values {
    fn of(p: &Programme) -> Result<Values, StoreError> {
        if p.repeat == 0 {
            return Err(StoreError::Invalid(
                "a programme must play its playlist at least once".to_owned(),
            ));
        }
        if let Some(dates) = p.dates {
            campaigns::check_dates(dates)?;
        }
        let (clash_rule, max_wait_s) = match p.clash {
            ClashRule::Queue { max_wait } => ("queue", secs(max_wait, "queue wait")?),
            ClashRule::CutIn => ("cut_in", 0),
        };
        Ok(Values {
            name: super::name(&p.name, "programme name")?,
            cron: p.cron.as_str().to_owned(),
            playlist: p.playlist,
            campaign: p.campaign.map(|c| c.0),
            start: p.dates.map(|d| date_text(d.start)),
            end: p.dates.map(|d| date_text(d.end)),
            priority: priority_text(p.priority),
            clash_rule,
            max_wait_s,
            repeat: p.repeat,
            pause_s: secs(p.repeat_pause, "repeat pause")?,
            chime: p.chime,
            enabled: p.enabled,
        })
    }

    fn check_references(&self, tx: &Transaction<'_>) -> Result<(), StoreError> {
        playlists::ensure_exists(tx, self.playlist)?;
        if let Some(campaign) = self.campaign {
            campaigns::ensure_exists(tx, CampaignId(campaign))?;
        }
        Ok(())
    }

    /// Parameters ?1 to ?13 of the insert and update statements.
    fn params(&self) -> [&dyn rusqlite::ToSql; 13] {
        [
            &self.name,
            &self.cron,
            &self.playlist.0,
            &self.campaign,
            &self.start,
            &self.end,
            &self.priority,
            &self.clash_rule,
            &self.max_wait_s,
            &self.repeat,
            &self.pause_s,
            &self.chime,
            &self.enabled,
        ]
    }
}

fn not_found(id: ProgrammeId) -> StoreError {
    StoreError::NotFound {
        what: "programme",
        id: id.0,
    }
}

/// Parsed cron expressions by their text. Every read of the programme list (each schedule
/// page, dashboard and engine round) would otherwise parse every row again: about 5 µs
/// each, 1 ms for 200 programmes, spent while holding the connection. A clone costs a
/// tenth of a parse. Rows with the same text share an entry; the map is emptied when it
/// passes `CronCache::MAX` entries, so edits over years cannot grow it without bound.
#[derive(Clone, Default)]
pub(super) struct CronCache(Arc<Mutex<HashMap<String, CronExpr>>>);

impl CronCache {
    pub(super) const MAX: usize = 4096;

    pub(super) fn parse(&self, text: &str) -> Result<CronExpr, CronError> {
        let mut map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(cron) = map.get(text) {
            return Ok(cron.clone());
        }
        let cron = CronExpr::parse(text)?;
        if map.len() >= Self::MAX {
            map.clear();
        }
        map.insert(text.to_owned(), cron.clone());
        Ok(cron)
    }

    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).len()
    }
}

pub(super) fn by_id(
    tx: &Transaction<'_>,
    id: ProgrammeId,
    crons: &CronCache,
) -> Result<Programme, StoreError> {
    let sql = format!(
        "SELECT {} FROM programmes WHERE id = ?1 AND deleted = 0",
        columns()
    );
    tx.query_row(&sql, [id.0], |row| from_row(row, crons))
        .optional()?
        .ok_or_else(|| not_found(id))?
}

/// Reads a programme row; the outer error is SQLite's, the inner one a damaged value.
fn from_row(row: &Row<'_>, crons: &CronCache) -> rusqlite::Result<Result<Programme, StoreError>> {
    let id = ProgrammeId(row.get(0)?);
    let cron_text: String = row.get(2)?;
    let campaign: Option<i64> = row.get(4)?;
    let (start, end): (Option<String>, Option<String>) = (row.get(5)?, row.get(6)?);
    let priority_raw: String = row.get(7)?;
    let clash_raw: String = row.get(8)?;
    let (max_wait_s, pause_s): (i64, i64) = (row.get(9)?, row.get(11)?);
    let (name, playlist, repeat) = (row.get(1)?, PlaylistId(row.get(3)?), row.get(10)?);
    let (chime, enabled, approved) = (row.get(12)?, row.get(13)?, row.get(14)?);
    Ok((|| {
        let cron = crons.parse(&cron_text).map_err(|e| {
            StoreError::Corrupt(format!("programme {id} has cron {cron_text:?}: {e}"))
        })?;
        let dates = match (start, end) {
            (Some(start), Some(end)) => Some(DateRange {
                start: date(&start)?,
                end: date(&end)?,
            }),
            _ => None,
        };
        let clash = match clash_raw.as_str() {
            "queue" => ClashRule::Queue {
                max_wait: duration(max_wait_s)?,
            },
            "cut_in" => ClashRule::CutIn,
            other => {
                return Err(StoreError::Corrupt(format!(
                    "programme {id} has clash rule {other:?}"
                )));
            }
        };
        Ok(Programme {
            id,
            name,
            cron,
            playlist,
            campaign: campaign.map(CampaignId),
            dates,
            priority: priority(&priority_raw)?,
            clash,
            repeat,
            repeat_pause: duration(pause_s)?,
            chime,
            enabled,
            approved,
        })
    })())
}
