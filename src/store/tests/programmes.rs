//! Tests of the programmes table: round trips, references, flags and soft deletion.

use std::time::Duration;

use super::{day, new_clip, new_programme, store_with_programme};
use crate::cron::CronExpr;
use crate::model::{CampaignId, ClashRule, DateRange, PlaylistId, Priority, ProgrammeId};
use crate::store::{Approvals, NewCampaign, Store, StoreError};

#[test]
fn every_field_round_trips() {
    let store = Store::open_in_memory().unwrap();
    let clip = store.insert_clip(&new_clip(1)).unwrap().clip;
    let playlist = store.create_playlist("Sáng", &[clip.id]).unwrap();
    let campaign = store
        .create_campaign(&NewCampaign {
            name: "Tháng hành động vì trẻ em 2026".to_owned(),
            theme: String::new(),
            dates: DateRange {
                start: day("2026-06-01"),
                end: day("2026-06-30"),
            },
        })
        .unwrap();
    let variants = [
        new_programme(playlist.id),
        {
            let mut p = new_programme(playlist.id);
            p.name = "Khẩn cấp".to_owned();
            p.cron = CronExpr::parse("@daily").unwrap();
            p.campaign = Some(campaign.id);
            p.dates = Some(DateRange {
                start: day("2026-06-01"),
                end: day("2026-06-01"),
            });
            p.priority = Priority::Emergency;
            p.clash = ClashRule::CutIn;
            p.repeat = 1;
            p.repeat_pause = Duration::ZERO;
            p.chime = false;
            p.enabled = false;
            p.approved = true;
            p
        },
        {
            let mut p = new_programme(playlist.id);
            p.priority = Priority::Priority;
            p.clash = ClashRule::Queue {
                max_wait: Duration::ZERO,
            };
            p
        },
    ];
    let mut created = Vec::new();
    for new in &variants {
        let p = store.create_programme(new).unwrap();
        assert_eq!(
            (
                &p.name, &p.cron, p.playlist, p.campaign, p.dates, p.priority
            ),
            (
                &new.name,
                &new.cron,
                new.playlist,
                new.campaign,
                new.dates,
                new.priority
            )
        );
        assert_eq!(
            (
                p.clash,
                p.repeat,
                p.repeat_pause,
                p.chime,
                p.enabled,
                p.approved
            ),
            (
                new.clash,
                new.repeat,
                new.repeat_pause,
                new.chime,
                new.enabled,
                new.approved
            )
        );
        assert_eq!(store.programme(p.id).unwrap(), p);
        created.push(p);
    }
    assert_eq!(store.programmes().unwrap(), created);
}

#[test]
fn update_and_flags_change_the_row() {
    let (store, id) = store_with_programme();
    let mut p = store.programme(id).unwrap();
    p.name = "Bản tin chiều".to_owned();
    p.cron = CronExpr::parse("0 17 * * *").unwrap();
    p.repeat = 3;
    assert_eq!(
        store
            .update_programme(&p, Approvals::Withdraw)
            .map(|c| c.value)
            .unwrap(),
        p
    );
    assert_eq!(store.programme(id).unwrap(), p);
    assert!(!store.set_programme_enabled(id, false).unwrap().enabled);
    assert!(store.set_programme_approved(id, true).unwrap().approved);
    let stored = store.programme(id).unwrap();
    assert!(!stored.enabled && stored.approved);
}

#[test]
fn bad_programmes_are_rejected() {
    let (store, id) = store_with_programme();
    let base = store.programme(id).unwrap();
    let mut zero_repeat = base.clone();
    zero_repeat.repeat = 0;
    let mut reversed = base.clone();
    reversed.dates = Some(DateRange {
        start: day("2026-06-02"),
        end: day("2026-06-01"),
    });
    let mut unnamed = base.clone();
    unnamed.name = " ".to_owned();
    for bad in [zero_repeat, reversed, unnamed] {
        assert!(matches!(
            store
                .update_programme(&bad, Approvals::Withdraw)
                .map(|c| c.value),
            Err(StoreError::Invalid(_))
        ));
    }
    let mut no_playlist = base.clone();
    no_playlist.playlist = PlaylistId(77);
    assert!(matches!(
        store
            .update_programme(&no_playlist, Approvals::Withdraw)
            .map(|c| c.value),
        Err(StoreError::NotFound {
            what: "playlist",
            id: 77
        })
    ));
    let mut no_campaign = base.clone();
    no_campaign.campaign = Some(CampaignId(78));
    assert!(matches!(
        store
            .update_programme(&no_campaign, Approvals::Withdraw)
            .map(|c| c.value),
        Err(StoreError::NotFound {
            what: "campaign",
            id: 78
        })
    ));
    let mut ghost = base.clone();
    ghost.id = ProgrammeId(79);
    assert!(matches!(
        store
            .update_programme(&ghost, Approvals::Withdraw)
            .map(|c| c.value),
        Err(StoreError::NotFound {
            what: "programme",
            id: 79
        })
    ));
    assert_eq!(store.programme(id).unwrap(), base, "nothing changed");
}

#[test]
fn delete_hides_but_keeps_the_programme_and_its_id() {
    let (store, id) = store_with_programme();
    let p = store.programme(id).unwrap();
    store.delete_programme(id).unwrap();
    assert!(store.programmes().unwrap().is_empty());
    for result in [
        store.programme(id),
        store.set_programme_enabled(id, true),
        store
            .update_programme(&p, Approvals::Withdraw)
            .map(|c| c.value),
    ] {
        assert!(matches!(
            result,
            Err(StoreError::NotFound {
                what: "programme",
                ..
            })
        ));
    }
    assert!(matches!(
        store.delete_programme(id),
        Err(StoreError::NotFound {
            what: "programme",
            ..
        })
    ));
    let kept = store.programme_including_deleted(id).unwrap();
    assert_eq!((kept.name, kept.enabled), (p.name.clone(), false));
    let mut again = super::new_programme(p.playlist);
    again.name = p.name;
    let new = store.create_programme(&again).unwrap();
    assert!(new.id > id, "ids are never reused");
}

#[test]
fn a_changed_cron_is_read_back_through_the_parse_cache() {
    let (store, id) = store_with_programme();
    let before = store.programmes().unwrap();
    assert_eq!(before[0].cron.as_str(), "30 5 * * MON-FRI");
    let mut p = store.programme(id).unwrap();
    p.cron = CronExpr::parse("0 17 * * *").unwrap();
    store
        .update_programme(&p, Approvals::Withdraw)
        .map(|c| c.value)
        .unwrap();
    let after = store.programmes().unwrap();
    assert_eq!(after[0].cron, CronExpr::parse("0 17 * * *").unwrap());
    let from = super::at("2026-06-01T00:00:00Z");
    let tz = chrono_tz::Asia::Ho_Chi_Minh;
    assert_eq!(
        after[0].cron.iter_after(from, tz).next(),
        Some(super::at("2026-06-01T10:00:00Z")),
        "17:00 in Hanoi, not the old 05:30"
    );
}

#[test]
fn the_parse_cache_stays_bounded_and_correct() {
    let cache = crate::store::programmes::CronCache::default();
    let mut n = 0;
    'fill: for d in 1..=28 {
        for h in 0..24 {
            for m in 0..60 {
                let text = format!("{m} {h} {d} * *");
                assert_eq!(cache.parse(&text).unwrap().as_str(), text);
                assert!(cache.len() <= crate::store::programmes::CronCache::MAX);
                n += 1;
                if n > crate::store::programmes::CronCache::MAX + 10 {
                    break 'fill;
                }
            }
        }
    }
    assert!(cache.len() < 20, "emptied once full, then refilled");
    assert!(cache.parse("61 * * * *").is_err(), "errors are not cached");
}
