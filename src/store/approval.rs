//! Approval seals: what an approver approved, so that an approval covers content, not an id.
//!
//! Approving a programme stores its *content* as text in `programmes.approval_seal`: the
//! cron expression, the priority, the playlist and its version (every change to a
//! playlist's items bumps its version, and clips never change their audio), the
//! programme's own dates, its campaign and the campaign's dates, the repeat count and the
//! clash rule. Whenever a programme is read, its content is computed again from the rows
//! as they are now (`CONTENT_SQL`, joined in the same query) and the programme counts as
//! approved only if the two are equal. So no write path can forget to withdraw an
//! approval: a change to any of those rows, from any door, withdraws it by construction,
//! and approving again is the only way back. A change that leaves the content as it was
//! (a programme's name, its chime) keeps the approval.
//!
//! A write made through [`Store::change`] with [`Approvals::Keep`] (an approver's own
//! edit) seals again, in the same transaction, the programmes that were approved just
//! before it; one with [`Approvals::Withdraw`] reports which approvals it withdrew, so
//! the caller can audit them. It decides nothing about roles; the panel's action layer
//! does.

use std::collections::BTreeMap;

use rusqlite::{OptionalExtension, Transaction, params};
use serde::Serialize;

use super::{Store, StoreError};
use crate::model::{Programme, ProgrammeId};

/// The content an approval covers, as one SQL text expression over the row `programmes`.
/// A macro so that the schema migration that introduced seals uses the same text.
macro_rules! content_sql {
    () => {
        "('cron ' || programmes.cron || '; priority ' || programmes.priority \
         || '; playlist ' || programmes.playlist || ' version ' \
         || coalesce((SELECT version FROM playlists WHERE playlists.id = programmes.playlist), '?') \
         || '; dates ' || coalesce(programmes.start_date || '..' || programmes.end_date, 'any') \
         || '; campaign ' || coalesce(programmes.campaign || ' ' || (SELECT start_date || '..' \
         || end_date FROM campaigns WHERE campaigns.id = programmes.campaign), 'none') \
         || '; repeat ' || programmes.repeat_count || '; clash ' || programmes.clash_rule)"
    };
}
pub(super) use content_sql;

/// The content expression, for queries in this module and `programmes`.
pub(super) const CONTENT_SQL: &str = content_sql!();

/// What a change does to the approvals of the programmes whose content it changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Approvals {
    /// Programmes approved before the change stay approved: they are sealed again to the
    /// new content (an approver's own change, or a station without approval).
    Keep,
    /// Their approval is withdrawn until an approver approves again.
    Withdraw,
}

/// Where a programme stands with approval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalState {
    /// Approved, and its content is what was approved.
    Approved,
    /// Never approved, or the approval was taken back on purpose.
    Waiting,
    /// Approved once, but its content changed since: it needs approving again.
    NeedsReapproval,
}

/// A programme's approval and the content an approver would approve now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Approval {
    /// Where it stands.
    pub state: ApprovalState,
    /// Its content now, as sealed on approval (give it back to approve exactly this).
    pub content: String,
    /// The content that was approved, when it differs from `content`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approved_content: Option<String>,
}

/// The result of a change, and the approvals it withdrew.
#[derive(Debug, Clone, PartialEq)]
pub struct Change<T> {
    /// What the write returned.
    pub value: T,
    /// Programmes (id, name) that were approved before the change and are not now.
    pub withdrawn: Vec<(ProgrammeId, String)>,
}

impl Approval {
    /// Reads the state from a stored seal and the content computed now.
    pub(super) fn of(seal: Option<String>, content: String) -> Approval {
        match seal {
            Some(s) if s == content => Approval {
                state: ApprovalState::Approved,
                content,
                approved_content: None,
            },
            Some(s) => Approval {
                state: ApprovalState::NeedsReapproval,
                content,
                approved_content: Some(s),
            },
            None => Approval {
                state: ApprovalState::Waiting,
                content,
                approved_content: None,
            },
        }
    }
}

impl Store {
    /// Runs `f` in one write transaction as a change to content programmes may depend on.
    pub(super) fn change<T>(
        &self,
        approvals: Approvals,
        f: impl FnOnce(&Transaction<'_>) -> Result<T, StoreError>,
    ) -> Result<Change<T>, StoreError> {
        self.write(|tx| {
            let before = approved(tx)?;
            let value = f(tx)?;
            let after = approved(tx)?;
            let lost: Vec<(ProgrammeId, String)> = before
                .into_iter()
                .filter(|(id, _)| !after.contains_key(id))
                .collect();
            let withdrawn = match approvals {
                Approvals::Keep => {
                    for (id, _) in &lost {
                        seal(tx, *id)?;
                    }
                    Vec::new()
                }
                Approvals::Withdraw => lost,
            };
            Ok(Change { value, withdrawn })
        })
    }

    /// Approves a programme: seals its content as it is now. With `seen`, only if its
    /// content is still what the approver was shown; `Ok(None)` when it changed since.
    pub fn approve_programme(
        &self,
        id: ProgrammeId,
        seen: Option<&str>,
    ) -> Result<Option<Programme>, StoreError> {
        self.write(|tx| {
            let current = content(tx, id)?;
            if seen.is_some_and(|s| s != current) {
                return Ok(None);
            }
            seal(tx, id)?;
            super::programmes::by_id(tx, id, &self.crons).map(Some)
        })
    }

    /// Takes a programme's approval back on purpose: it waits for an approver.
    pub fn withdraw_approval(&self, id: ProgrammeId) -> Result<Programme, StoreError> {
        self.write(|tx| {
            content(tx, id)?;
            tx.execute(
                "UPDATE programmes SET approved = 0, approval_seal = NULL WHERE id = ?1",
                [id.0],
            )?;
            super::programmes::by_id(tx, id, &self.crons)
        })
    }

    /// Approves or takes back the approval of a programme, whatever its content.
    pub fn set_programme_approved(
        &self,
        id: ProgrammeId,
        approved: bool,
    ) -> Result<Programme, StoreError> {
        if approved {
            self.approve_programme(id, None)?
                .ok_or_else(|| StoreError::Corrupt(format!("programme {id} cannot be sealed")))
        } else {
            self.withdraw_approval(id)
        }
    }

    /// The approval of every programme that is not deleted, by id.
    pub fn approvals(&self) -> Result<BTreeMap<ProgrammeId, Approval>, StoreError> {
        self.read(|tx| {
            let sql = format!(
                "SELECT id, approval_seal, {CONTENT_SQL} FROM programmes WHERE deleted = 0"
            );
            let mut stmt = tx.prepare_cached(&sql)?;
            let rows = stmt.query_map([], |row| {
                Ok((ProgrammeId(row.get(0)?), row.get(1)?, row.get(2)?))
            })?;
            rows.map(|r| {
                let (id, seal, content) = r?;
                Ok((id, Approval::of(seal, content)))
            })
            .collect()
        })
    }

    /// The approval of one programme.
    pub fn approval(&self, id: ProgrammeId) -> Result<Approval, StoreError> {
        self.read(|tx| {
            let sql = format!(
                "SELECT approval_seal, {CONTENT_SQL} FROM programmes WHERE id = ?1 AND deleted = 0"
            );
            let (seal, content) = tx
                .query_row(&sql, [id.0], |row| Ok((row.get(0)?, row.get(1)?)))
                .optional()?
                .ok_or(StoreError::NotFound {
                    what: "programme",
                    id: id.0,
                })?;
            Ok(Approval::of(seal, content))
        })
    }
}

/// Programmes (not deleted) whose seal matches their content now, with their names.
fn approved(tx: &Transaction<'_>) -> Result<BTreeMap<ProgrammeId, String>, StoreError> {
    let sql = format!(
        "SELECT id, name FROM programmes WHERE deleted = 0 AND approval_seal = {CONTENT_SQL}"
    );
    let mut stmt = tx.prepare_cached(&sql)?;
    let rows = stmt.query_map([], |row| Ok((ProgrammeId(row.get(0)?), row.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Seals programme `id` to its content now.
pub(super) fn seal(tx: &Transaction<'_>, id: ProgrammeId) -> Result<(), StoreError> {
    let sql =
        format!("UPDATE programmes SET approved = 1, approval_seal = {CONTENT_SQL} WHERE id = ?1");
    tx.execute(&sql, params![id.0])?;
    Ok(())
}

/// The content of programme `id` now; `NotFound` if it is missing or deleted.
fn content(tx: &Transaction<'_>, id: ProgrammeId) -> Result<String, StoreError> {
    let sql = format!("SELECT {CONTENT_SQL} FROM programmes WHERE id = ?1 AND deleted = 0");
    tx.query_row(&sql, [id.0], |row| row.get(0))
        .optional()?
        .ok_or(StoreError::NotFound {
            what: "programme",
            id: id.0,
        })
}
