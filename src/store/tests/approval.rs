//! Approval seals: an approval covers content. Each change to what a programme airs —
//! playlist items or name (the version), campaign dates, cron, priority, own dates, repeat,
//! clash rule — withdraws it, whichever write made it; a change to anything else keeps it;
//! `Approvals::Keep` seals the new content instead; approving against content that changed
//! since it was shown is refused.

use super::{day, new_clip, new_programme};
use crate::cron::CronExpr;
use crate::model::{DateRange, Priority, ProgrammeId};
use crate::store::{ApprovalState, Approvals, NewCampaign, Store};

/// A store with two clips, a playlist of the first, a June campaign, and an approved
/// programme of the playlist in the campaign.
fn approved() -> (Store, ProgrammeId) {
    let store = Store::open_in_memory().unwrap();
    let a = store.insert_clip(&new_clip(1)).unwrap().clip;
    store.insert_clip(&new_clip(2)).unwrap();
    let playlist = store.create_playlist("Sáng", &[a.id]).unwrap();
    let campaign = store
        .create_campaign(&NewCampaign {
            name: "Tháng hành động vì trẻ em".to_owned(),
            theme: String::new(),
            dates: DateRange {
                start: day("2026-06-01"),
                end: day("2026-06-30"),
            },
        })
        .unwrap();
    let mut new = new_programme(playlist.id);
    new.campaign = Some(campaign.id);
    new.approved = true;
    let p = store.create_programme(&new).unwrap();
    assert!(p.approved);
    assert_eq!(store.approval(p.id).unwrap().state, ApprovalState::Approved);
    (store, p.id)
}

fn state(store: &Store, id: ProgrammeId) -> ApprovalState {
    let listed = store.programmes().unwrap()[0].approved;
    let state = store.approval(id).unwrap().state;
    assert_eq!(listed, state == ApprovalState::Approved, "one answer");
    state
}

#[test]
fn every_change_to_what_airs_withdraws_the_approval() {
    type Edit = fn(&Store, ProgrammeId) -> Vec<ProgrammeId>;
    let edits: [(&str, Edit); 8] = [
        ("playlist items", |s, id| {
            let p = s.playlist(s.programme(id).unwrap().playlist).unwrap();
            let other = s.clips().unwrap()[1].id;
            let c = s
                .replace_playlist_items(p.id, p.version, &[other], Approvals::Withdraw)
                .unwrap();
            c.withdrawn.iter().map(|w| w.0).collect()
        }),
        ("playlist name", |s, id| {
            let p = s.playlist(s.programme(id).unwrap().playlist).unwrap();
            let c = s
                .rename_playlist(p.id, p.version, "Chiều", Approvals::Withdraw)
                .unwrap();
            c.withdrawn.iter().map(|w| w.0).collect()
        }),
        ("campaign dates", |s, _| {
            let mut c = s.campaigns().unwrap().remove(0);
            c.dates.end = day("2026-07-31");
            let c = s.update_campaign(&c, Approvals::Withdraw).unwrap();
            c.withdrawn.iter().map(|w| w.0).collect()
        }),
        ("cron", |s, id| {
            let mut p = s.programme(id).unwrap();
            p.cron = CronExpr::parse("0 17 * * *").unwrap();
            let c = s.update_programme(&p, Approvals::Withdraw).unwrap();
            c.withdrawn.iter().map(|w| w.0).collect()
        }),
        ("priority", |s, id| {
            let mut p = s.programme(id).unwrap();
            p.priority = Priority::Emergency;
            let c = s.update_programme(&p, Approvals::Withdraw).unwrap();
            c.withdrawn.iter().map(|w| w.0).collect()
        }),
        ("own dates", |s, id| {
            let mut p = s.programme(id).unwrap();
            p.dates = Some(DateRange {
                start: day("2026-06-01"),
                end: day("2026-06-02"),
            });
            let c = s.update_programme(&p, Approvals::Withdraw).unwrap();
            c.withdrawn.iter().map(|w| w.0).collect()
        }),
        ("repeat", |s, id| {
            let mut p = s.programme(id).unwrap();
            p.repeat = 9;
            let c = s.update_programme(&p, Approvals::Withdraw).unwrap();
            c.withdrawn.iter().map(|w| w.0).collect()
        }),
        ("another playlist", |s, id| {
            let mut p = s.programme(id).unwrap();
            p.playlist = s.create_playlist("Khác", &[]).unwrap().id;
            let c = s.update_programme(&p, Approvals::Withdraw).unwrap();
            c.withdrawn.iter().map(|w| w.0).collect()
        }),
    ];
    for (what, edit) in edits {
        let (store, id) = approved();
        assert_eq!(edit(&store, id), [id], "{what}: the withdrawal is reported");
        assert_eq!(
            state(&store, id),
            ApprovalState::NeedsReapproval,
            "{what}: needs approving again"
        );
        let a = store.approval(id).unwrap();
        assert_ne!(a.approved_content.as_deref(), Some(a.content.as_str()));
        // Approving again covers the new content.
        assert!(
            store
                .approve_programme(id, Some(&a.content))
                .unwrap()
                .unwrap()
                .approved
        );
        assert_eq!(state(&store, id), ApprovalState::Approved, "{what}");
    }
}

#[test]
fn changes_to_anything_else_keep_the_approval() {
    let (store, id) = approved();
    let mut p = store.programme(id).unwrap();
    p.name = "Bản tin sáng sớm".to_owned();
    p.chime = false;
    p.enabled = false;
    p.repeat_pause = std::time::Duration::from_secs(3);
    let c = store.update_programme(&p, Approvals::Withdraw).unwrap();
    assert!(c.withdrawn.is_empty() && c.value.approved, "{c:?}");
    let mut campaign = store.campaigns().unwrap().remove(0);
    campaign.name = "Tháng hành động".to_owned();
    let c = store
        .update_campaign(&campaign, Approvals::Withdraw)
        .unwrap();
    assert!(c.withdrawn.is_empty());
    // Another playlist's change is not this programme's business.
    let other = store.create_playlist("Khác", &[]).unwrap();
    let clip = store.clips().unwrap()[1].id;
    store
        .replace_playlist_items(other.id, other.version, &[clip], Approvals::Withdraw)
        .unwrap();
    assert_eq!(state(&store, id), ApprovalState::Approved);
}

#[test]
fn keep_seals_the_new_content_but_never_approves_what_was_waiting() {
    let (store, id) = approved();
    let p = store
        .playlist(store.programme(id).unwrap().playlist)
        .unwrap();
    let clip = store.clips().unwrap()[1].id;
    let c = store
        .replace_playlist_items(p.id, p.version, &[clip], Approvals::Keep)
        .unwrap();
    assert!(c.withdrawn.is_empty());
    assert_eq!(state(&store, id), ApprovalState::Approved);
    // Withdrawn by an editor, then changed by an approver: still waiting.
    let p = store
        .rename_playlist(p.id, c.value.version, "Chiều", Approvals::Withdraw)
        .unwrap()
        .value;
    store
        .rename_playlist(p.id, p.version, "Tối", Approvals::Keep)
        .unwrap();
    assert_eq!(state(&store, id), ApprovalState::NeedsReapproval);
}

#[test]
fn approving_content_that_changed_since_it_was_shown_is_refused() {
    let (store, id) = approved();
    store.withdraw_approval(id).unwrap();
    assert_eq!(state(&store, id), ApprovalState::Waiting);
    let shown = store.approval(id).unwrap().content;
    let mut p = store.programme(id).unwrap();
    p.cron = CronExpr::parse("0 18 * * *").unwrap();
    store.update_programme(&p, Approvals::Withdraw).unwrap();
    assert_eq!(store.approve_programme(id, Some(&shown)).unwrap(), None);
    assert_eq!(state(&store, id), ApprovalState::Waiting);
    assert!(store.approve_programme(id, None).unwrap().unwrap().approved);
}

#[test]
fn deleting_a_clip_from_its_playlists_withdraws_the_approval() {
    let (store, id) = approved();
    let clip = store.clips().unwrap()[0].id;
    store.delete_clip(clip, true).unwrap();
    assert_eq!(state(&store, id), ApprovalState::NeedsReapproval);
}
