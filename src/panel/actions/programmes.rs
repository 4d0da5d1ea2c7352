//! Programme actions: create, update, delete, approve and take back approval. The input is
//! the same whichever door it came through (`ProgrammeInput`, with the defaults both doors
//! use); the cron expression and numbers are checked here, references by the store.

use std::time::Duration;

use super::{ActionError, Problem, approvals, audit_withdrawn, reference, require};
use crate::cron::CronExpr;
use crate::model::{
    CampaignId, ClashRule, DateRange, PlaylistId, Priority, Programme, ProgrammeId,
};
use crate::panel::auth::Principal;
use crate::panel::{PanelState, audit};
use crate::store::{NewProgramme, Role};

/// The most plays of the playlist one occurrence may have.
const MAX_REPEAT: u32 = 20;

/// A programme as staff give it, unchecked.
#[derive(Debug, Clone)]
pub(in crate::panel) struct ProgrammeInput {
    /// Name shown to staff.
    pub name: String,
    /// Cron expression as typed.
    pub cron: String,
    /// What it plays.
    pub playlist: PlaylistId,
    /// Its campaign.
    pub campaign: Option<CampaignId>,
    /// Its own dates.
    pub dates: Option<DateRange>,
    /// Its priority.
    pub priority: Priority,
    /// What it does when the air is busy.
    pub clash: ClashRule,
    /// Plays per occurrence.
    pub repeat: u32,
    /// Seconds between plays.
    pub repeat_pause: u64,
    /// Whether the chime plays.
    pub chime: bool,
    /// Whether it fires.
    pub enabled: bool,
}

/// The clash rule a programme gets when none is given: queue for up to ten minutes.
pub(in crate::panel) fn default_clash() -> ClashRule {
    ClashRule::Queue {
        max_wait: Duration::from_secs(600),
    }
}

impl ProgrammeInput {
    /// Checks the name, the expression and the numbers.
    fn check(&self, approved: bool) -> Result<NewProgramme, ActionError> {
        if self.name.trim().is_empty() {
            return Err(ActionError::Invalid(Problem::Name("programme")));
        }
        let cron = CronExpr::parse(&self.cron)
            .map_err(|e| ActionError::Invalid(Problem::Cron(e.to_string())))?;
        if self.repeat == 0 || self.repeat > MAX_REPEAT {
            return Err(ActionError::Invalid(Problem::Repeat));
        }
        if self.dates.is_some_and(|d| d.end < d.start) {
            return Err(ActionError::Invalid(Problem::Dates));
        }
        Ok(NewProgramme {
            name: self.name.trim().to_owned(),
            cron,
            playlist: self.playlist,
            campaign: self.campaign,
            dates: self.dates,
            priority: self.priority,
            clash: self.clash,
            repeat: self.repeat,
            repeat_pause: Duration::from_secs(self.repeat_pause),
            chime: self.chime,
            enabled: self.enabled,
            approved,
        })
    }
}

/// Creates a programme (editor). It is approved at once when the station does not require
/// approval or the caller is an approver; an editor's waits.
pub(in crate::panel) fn create_programme(
    state: &PanelState,
    who: &Principal,
    input: &ProgrammeInput,
) -> Result<Programme, ActionError> {
    require(who, Role::Editor)?;
    let approved = approvals(state, who) == crate::store::Approvals::Keep;
    let new = input.check(approved)?;
    let p = state
        .store
        .create_programme(&new)
        .map_err(|e| reference(e, "programme"))?;
    audit(
        state,
        who,
        "programme.create",
        format!("programme {}", p.id),
        format!("{} [{}]", p.name, p.cron),
    );
    Ok(p)
}

/// Replaces a programme's fields (editor). A change to what it airs withdraws its approval
/// unless the caller keeps approvals (see the layer's header); withdrawals are audited.
pub(in crate::panel) fn update_programme(
    state: &PanelState,
    who: &Principal,
    id: ProgrammeId,
    input: &ProgrammeInput,
) -> Result<Programme, ActionError> {
    require(who, Role::Editor)?;
    let new = input.check(false)?;
    let change = state
        .store
        .update_programme(
            &Programme {
                id,
                name: new.name,
                cron: new.cron,
                playlist: new.playlist,
                campaign: new.campaign,
                dates: new.dates,
                priority: new.priority,
                clash: new.clash,
                repeat: new.repeat,
                repeat_pause: new.repeat_pause,
                chime: new.chime,
                enabled: new.enabled,
                approved: false,
            },
            approvals(state, who),
        )
        .map_err(|e| reference(e, "programme"))?;
    let p = change.value;
    audit(
        state,
        who,
        "programme.update",
        format!("programme {id}"),
        format!("{} [{}]", p.name, p.cron),
    );
    audit_withdrawn(state, who, &change.withdrawn, "the programme was changed");
    Ok(p)
}

/// Deletes a programme (editor): hidden and disabled, kept for the log.
pub(in crate::panel) fn delete_programme(
    state: &PanelState,
    who: &Principal,
    id: ProgrammeId,
) -> Result<(), ActionError> {
    require(who, Role::Editor)?;
    state.store.delete_programme(id)?;
    audit(
        state,
        who,
        "programme.delete",
        format!("programme {id}"),
        String::new(),
    );
    Ok(())
}

/// Approves a programme (approver): seals its content as it is now, or — with `seen`, the
/// content the approver was shown — only if it is still that (409 `changed` otherwise).
pub(in crate::panel) fn approve_programme(
    state: &PanelState,
    who: &Principal,
    id: ProgrammeId,
    seen: Option<&str>,
) -> Result<Programme, ActionError> {
    require(who, Role::Approver)?;
    let p = state
        .store
        .approve_programme(id, seen)?
        .ok_or_else(|| ActionError::Changed(format!("programme {id}")))?;
    let content = state.store.approval(id)?.content;
    audit(
        state,
        who,
        "programme.approve",
        format!("programme {id}"),
        format!("{}: {content}", p.name),
    );
    Ok(p)
}

/// Takes a programme's approval back (approver): it waits for an approver again.
pub(in crate::panel) fn unapprove_programme(
    state: &PanelState,
    who: &Principal,
    id: ProgrammeId,
) -> Result<Programme, ActionError> {
    require(who, Role::Approver)?;
    let p = state.store.withdraw_approval(id)?;
    audit(
        state,
        who,
        "programme.unapprove",
        format!("programme {id}"),
        p.name.clone(),
    );
    Ok(p)
}
