//! Campaign actions: create, update (new dates withdraw the approval of the campaign's
//! programmes when an editor makes them), delete (refused while programmes belong to it).

use super::{ActionError, Problem, approvals, audit_withdrawn, require};
use crate::model::{Campaign, CampaignId, DateRange};
use crate::panel::auth::Principal;
use crate::panel::{PanelState, audit};
use crate::store::{NewCampaign, Role};

/// A campaign as staff give it, unchecked.
#[derive(Debug, Clone)]
pub(in crate::panel) struct CampaignInput {
    /// Its name.
    pub name: String,
    /// The theme line (may be empty).
    pub theme: String,
    /// The days it runs, inclusive.
    pub dates: DateRange,
}

impl CampaignInput {
    fn check(&self) -> Result<(), ActionError> {
        if self.name.trim().is_empty() {
            return Err(ActionError::Invalid(Problem::Name("campaign")));
        }
        if self.dates.end < self.dates.start {
            return Err(ActionError::Invalid(Problem::Dates));
        }
        Ok(())
    }
}

/// Creates a campaign (editor).
pub(in crate::panel) fn create_campaign(
    state: &PanelState,
    who: &Principal,
    input: &CampaignInput,
) -> Result<Campaign, ActionError> {
    require(who, Role::Editor)?;
    input.check()?;
    let c = state.store.create_campaign(&NewCampaign {
        name: input.name.clone(),
        theme: input.theme.clone(),
        dates: input.dates,
    })?;
    audit(
        state,
        who,
        "campaign.create",
        format!("campaign {}", c.id),
        c.name.clone(),
    );
    Ok(c)
}

/// Replaces a campaign's name, theme and dates (editor).
pub(in crate::panel) fn update_campaign(
    state: &PanelState,
    who: &Principal,
    id: CampaignId,
    input: &CampaignInput,
) -> Result<Campaign, ActionError> {
    require(who, Role::Editor)?;
    input.check()?;
    let change = state.store.update_campaign(
        &Campaign {
            id,
            name: input.name.clone(),
            theme: input.theme.clone(),
            dates: input.dates,
        },
        approvals(state, who),
    )?;
    let c = change.value;
    audit(
        state,
        who,
        "campaign.update",
        format!("campaign {id}"),
        format!(
            "{}: {} – {}",
            c.name,
            c.dates.start.format("%Y-%m-%d"),
            c.dates.end.format("%Y-%m-%d")
        ),
    );
    audit_withdrawn(
        state,
        who,
        &change.withdrawn,
        &format!("the dates of campaign {id} were changed"),
    );
    Ok(c)
}

/// Deletes a campaign no programme belongs to (editor).
pub(in crate::panel) fn delete_campaign(
    state: &PanelState,
    who: &Principal,
    id: CampaignId,
) -> Result<(), ActionError> {
    require(who, Role::Editor)?;
    state.store.delete_campaign(id)?;
    audit(
        state,
        who,
        "campaign.delete",
        format!("campaign {id}"),
        String::new(),
    );
    Ok(())
}
