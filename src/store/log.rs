//! The `broadcast_log` table: one row per occurrence (scheduled or manual) with its times,
//! the clips that went on air, its outcome and any station rule it broke. It records what
//! the engine reports; it does not decide outcomes.
//!
//! See the module header of `store` for the occurrence protocol: a scheduled occurrence is
//! claimed by writing its row before it plays, and can never be logged twice.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, Row, Transaction, params};

use super::programmes::{priority, priority_text};
use super::waiting::{self, WaitingId};
use super::{Store, StoreError, campaigns, instant, millis};
use crate::model::{
    CampaignId, LogEntry, LogId, OccurrenceKey, Origin, Outcome, PlayedClip, Priority, ProgrammeId,
};

/// The detail of the provisional `failed` outcome a row carries while its broadcast plays;
/// a row that still has it after a restart was cut by a crash or power loss.
pub const PROVISIONAL_OUTCOME_DETAIL: &str =
    "loa stopped before the broadcast finished (power loss, crash or kill)";

/// Whether `row` is the claimed, unfinished row of the broadcast due at `due` (its outcome
/// is still the provisional one). The log keeps milliseconds; the engine's instant of a
/// manual broadcast has more, so the two are compared to the millisecond.
pub fn is_unfinished_claim(row: &LogEntry, due: DateTime<Utc>) -> bool {
    row.ended_at.is_none()
        && row.outcome.detail() == PROVISIONAL_OUTCOME_DETAIL
        && row.scheduled_at.timestamp_millis() == due.timestamp_millis()
}

/// A complete log row to write in one step (skipped, missed, or already finished).
#[derive(Debug, Clone, PartialEq)]
pub struct LogEntryDraft {
    /// Scheduled programme or manual request.
    pub origin: Origin,
    /// Priority it ran with.
    pub priority: Priority,
    /// The instant it was due.
    pub scheduled_at: DateTime<Utc>,
    /// When its first sample reached the output.
    pub started_at: Option<DateTime<Utc>>,
    /// When its last sample reached the output.
    pub ended_at: Option<DateTime<Utc>>,
    /// Clips that went on air, in order.
    pub clips: Vec<PlayedClip>,
    /// How it ended.
    pub outcome: Outcome,
    /// A station rule this broadcast was allowed to break.
    pub rule_broken: Option<String>,
    /// The waiting row this row settles (a manual request's id); a scheduled occurrence's
    /// waiting row is found by its key.
    pub request: Option<WaitingId>,
}

/// What is known when a broadcast is about to start: written before the amplifier is on.
#[derive(Debug, Clone, PartialEq)]
pub struct OccurrenceStart {
    /// Scheduled programme or manual request.
    pub origin: Origin,
    /// Priority it runs with.
    pub priority: Priority,
    /// The instant it was due.
    pub scheduled_at: DateTime<Utc>,
    /// When the broadcast began (the finish may correct it to the first sample).
    pub started_at: DateTime<Utc>,
    /// A station rule this broadcast is allowed to break.
    pub rule_broken: Option<String>,
    /// The waiting row this claim settles (see [`LogEntryDraft::request`]).
    pub request: Option<WaitingId>,
}

/// How a started broadcast ended; replaces the row's times, clips and outcome.
#[derive(Debug, Clone, PartialEq)]
pub struct OccurrenceEnd {
    /// When its first sample reached the output (`None` if nothing played).
    pub started_at: Option<DateTime<Utc>>,
    /// When its last sample reached the output (`None` if nothing played).
    pub ended_at: Option<DateTime<Utc>>,
    /// Clips that went on air, in order.
    pub clips: Vec<PlayedClip>,
    /// How it ended.
    pub outcome: Outcome,
}

impl Store {
    /// Writes a finished log row. A scheduled occurrence already in the log is refused
    /// with [`StoreError::AlreadyLogged`].
    pub fn record(&self, draft: &LogEntryDraft) -> Result<LogId, StoreError> {
        let clips = serde_json::to_string(&draft.clips)?;
        self.write_quiet(|tx| {
            insert(
                tx,
                &NewRow {
                    origin: &draft.origin,
                    priority: draft.priority,
                    scheduled_at: draft.scheduled_at,
                    started_at: draft.started_at,
                    ended_at: draft.ended_at,
                    clips: &clips,
                    outcome: &draft.outcome,
                    rule_broken: draft.rule_broken.as_deref(),
                    request: draft.request,
                    in_progress: false,
                },
            )
        })
    }

    /// Claims an occurrence before it plays: writes its row with the provisional outcome
    /// and marks it in progress. Refused with [`StoreError::AlreadyLogged`] if a scheduled
    /// occurrence is already in the log, in which case it must not be played.
    pub fn start_occurrence(&self, start: &OccurrenceStart) -> Result<LogId, StoreError> {
        let provisional = Outcome::Failed(PROVISIONAL_OUTCOME_DETAIL.to_owned());
        self.write_quiet(|tx| {
            insert(
                tx,
                &NewRow {
                    origin: &start.origin,
                    priority: start.priority,
                    scheduled_at: start.scheduled_at,
                    started_at: Some(start.started_at),
                    ended_at: None,
                    clips: "[]",
                    outcome: &provisional,
                    rule_broken: start.rule_broken.as_deref(),
                    request: start.request,
                    in_progress: true,
                },
            )
        })
    }

    /// Stores the clips that have gone on air so far for an in-progress occurrence.
    pub fn record_progress(&self, id: LogId, clips: &[PlayedClip]) -> Result<(), StoreError> {
        let clips = serde_json::to_string(clips)?;
        self.write_quiet(|tx| {
            ensure_in_progress(tx, id)?;
            tx.execute(
                "UPDATE broadcast_log SET clips = ?2 WHERE id = ?1",
                params![id.0, clips],
            )?;
            Ok(())
        })
    }

    /// Writes how an in-progress occurrence ended and clears its in-progress mark.
    pub fn finish_occurrence(
        &self,
        id: LogId,
        end: &OccurrenceEnd,
    ) -> Result<LogEntry, StoreError> {
        let clips = serde_json::to_string(&end.clips)?;
        self.write_quiet(|tx| {
            ensure_in_progress(tx, id)?;
            tx.execute(
                "UPDATE broadcast_log SET started_at = ?2, ended_at = ?3, clips = ?4,
                     outcome = ?5, detail = ?6, in_progress = 0
                 WHERE id = ?1",
                params![
                    id.0,
                    end.started_at.map(millis),
                    end.ended_at.map(millis),
                    clips,
                    end.outcome.code(),
                    end.outcome.detail(),
                ],
            )?;
            by_id(tx, id)
        })
    }

    /// Clears the in-progress mark on rows left by a crash (they keep the provisional
    /// outcome) and returns them; the engine calls this once at start-up.
    pub fn settle_unfinished(&self) -> Result<Vec<LogEntry>, StoreError> {
        self.write_quiet(|tx| {
            let rows = select(tx, "WHERE in_progress = 1 ORDER BY id", [])?;
            tx.execute(
                "UPDATE broadcast_log SET in_progress = 0 WHERE in_progress = 1",
                [],
            )?;
            Ok(rows)
        })
    }

    /// The log row holding this scheduled occurrence, if it is logged (or claimed).
    pub fn is_logged(&self, key: OccurrenceKey) -> Result<Option<LogId>, StoreError> {
        self.read(|tx| find(tx, key))
    }

    /// The log row with this id.
    pub fn log_entry(&self, id: LogId) -> Result<LogEntry, StoreError> {
        self.read(|tx| by_id(tx, id))
    }

    /// Rows whose scheduled instant is in `[from, to)`, by scheduled instant then id.
    pub fn log_between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<LogEntry>, StoreError> {
        self.read(|tx| {
            select(
                tx,
                "WHERE scheduled_at >= ?1 AND scheduled_at < ?2 ORDER BY scheduled_at, id",
                [millis(from), millis(to)],
            )
        })
    }

    /// Rows of the programmes belonging to this campaign (deleted ones too), by scheduled
    /// instant then id: the source of the campaign's report.
    pub fn log_for_campaign(&self, campaign: CampaignId) -> Result<Vec<LogEntry>, StoreError> {
        self.read(|tx| {
            campaigns::ensure_exists(tx, campaign)?;
            select(
                tx,
                "WHERE origin = 'scheduled'
                   AND programme IN (SELECT id FROM programmes WHERE campaign = ?1)
                 ORDER BY scheduled_at, id",
                [campaign.0],
            )
        })
    }

    /// The latest scheduled instant of this programme that is in the log, if any.
    pub fn latest_scheduled(
        &self,
        programme: ProgrammeId,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        self.read(|tx| {
            let ms: Option<i64> = tx.query_row(
                "SELECT max(scheduled_at) FROM broadcast_log
                 WHERE origin = 'scheduled' AND programme = ?1",
                [programme.0],
                |row| row.get(0),
            )?;
            ms.map(instant).transpose()
        })
    }
}

/// The values of a row to insert.
struct NewRow<'a> {
    origin: &'a Origin,
    priority: Priority,
    scheduled_at: DateTime<Utc>,
    started_at: Option<DateTime<Utc>>,
    ended_at: Option<DateTime<Utc>>,
    clips: &'a str,
    outcome: &'a Outcome,
    rule_broken: Option<&'a str>,
    request: Option<WaitingId>,
    in_progress: bool,
}

/// The columns read by [`from_row`], in order.
const COLUMNS: &str = "id, origin, programme, requested_by, priority, scheduled_at, started_at,
     ended_at, outcome, detail, rule_broken, clips";

/// Inserts a row, refusing a scheduled occurrence that is already logged, and removes the
/// waiting row it settles in the same transaction.
fn insert(tx: &Transaction<'_>, r: &NewRow<'_>) -> Result<LogId, StoreError> {
    let (kind, programme, requested_by) = match r.origin {
        Origin::Scheduled { programme } => ("scheduled", Some(programme.0), None),
        Origin::Manual { requested_by } => ("manual", None, Some(requested_by.as_str())),
    };
    if let Origin::Scheduled { programme } = *r.origin {
        let known: Option<i64> = tx
            .query_row(
                "SELECT 1 FROM programmes WHERE id = ?1",
                [programme.0],
                |row| row.get(0),
            )
            .optional()?;
        if known.is_none() {
            return Err(StoreError::NotFound {
                what: "programme",
                id: programme.0,
            });
        }
        let key = OccurrenceKey {
            programme,
            scheduled: r.scheduled_at,
        };
        if let Some(existing) = find(tx, key)? {
            return Err(StoreError::AlreadyLogged { key, existing });
        }
    }
    waiting::settle(tx, r.origin, r.scheduled_at, r.request)?;
    tx.execute(
        "INSERT INTO broadcast_log (origin, programme, requested_by, priority, scheduled_at,
             started_at, ended_at, outcome, detail, rule_broken, clips, in_progress, request)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
        params![
            kind,
            programme,
            requested_by,
            priority_text(r.priority),
            millis(r.scheduled_at),
            r.started_at.map(millis),
            r.ended_at.map(millis),
            r.outcome.code(),
            r.outcome.detail(),
            r.rule_broken,
            r.clips,
            r.in_progress,
            r.request.map(|w| w.0),
        ],
    )?;
    Ok(LogId(tx.last_insert_rowid()))
}

pub(super) fn find(tx: &Transaction<'_>, key: OccurrenceKey) -> Result<Option<LogId>, StoreError> {
    let id = tx
        .query_row(
            "SELECT id FROM broadcast_log
             WHERE origin = 'scheduled' AND programme = ?1 AND scheduled_at = ?2",
            [key.programme.0, millis(key.scheduled)],
            |row| row.get(0),
        )
        .optional()?;
    Ok(id.map(LogId))
}

fn ensure_in_progress(tx: &Transaction<'_>, id: LogId) -> Result<(), StoreError> {
    let flag: Option<bool> = tx
        .query_row(
            "SELECT in_progress FROM broadcast_log WHERE id = ?1",
            [id.0],
            |row| row.get(0),
        )
        .optional()?;
    match flag {
        None => Err(not_found(id)),
        Some(false) => Err(StoreError::Invalid(format!(
            "log entry {id} is not in progress, so it cannot be changed"
        ))),
        Some(true) => Ok(()),
    }
}

fn not_found(id: LogId) -> StoreError {
    StoreError::NotFound {
        what: "log entry",
        id: id.0,
    }
}

fn by_id(tx: &Transaction<'_>, id: LogId) -> Result<LogEntry, StoreError> {
    select(tx, "WHERE id = ?1", [id.0])?
        .pop()
        .ok_or_else(|| not_found(id))
}

fn select<P: rusqlite::Params>(
    tx: &Transaction<'_>,
    tail: &str,
    params: P,
) -> Result<Vec<LogEntry>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM broadcast_log {tail}");
    let mut stmt = tx.prepare_cached(&sql)?;
    let rows = stmt.query_map(params, from_row)?;
    rows.map(|row| row?).collect()
}

/// Reads a log row; the outer error is SQLite's, the inner one a damaged value.
fn from_row(row: &Row<'_>) -> rusqlite::Result<Result<LogEntry, StoreError>> {
    let id = LogId(row.get(0)?);
    let kind: String = row.get(1)?;
    let programme: Option<i64> = row.get(2)?;
    let requested_by: Option<String> = row.get(3)?;
    let priority_raw: String = row.get(4)?;
    let scheduled_ms: i64 = row.get(5)?;
    let (started_ms, ended_ms): (Option<i64>, Option<i64>) = (row.get(6)?, row.get(7)?);
    let (code, detail): (String, String) = (row.get(8)?, row.get(9)?);
    let rule_broken: Option<String> = row.get(10)?;
    let clips_json: String = row.get(11)?;
    Ok((|| {
        let origin = match (kind.as_str(), programme, requested_by) {
            ("scheduled", Some(p), _) => Origin::Scheduled {
                programme: ProgrammeId(p),
            },
            ("manual", _, Some(requested_by)) => Origin::Manual { requested_by },
            _ => {
                return Err(StoreError::Corrupt(format!(
                    "log entry {id} has origin {kind:?} without its fields"
                )));
            }
        };
        let outcome = Outcome::from_parts(&code, &detail)
            .ok_or_else(|| StoreError::Corrupt(format!("log entry {id} has outcome {code:?}")))?;
        Ok(LogEntry {
            id,
            origin,
            priority: priority(&priority_raw)?,
            scheduled_at: instant(scheduled_ms)?,
            started_at: started_ms.map(instant).transpose()?,
            ended_at: ended_ms.map(instant).transpose()?,
            clips: serde_json::from_str(&clips_json)?,
            outcome,
            rule_broken,
        })
    })())
}
