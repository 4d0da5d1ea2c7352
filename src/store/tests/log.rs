//! Tests of the broadcast log: round trips, the never-twice rule and the occurrence protocol.

use super::{at, store_with_programme};
use crate::model::{
    ClipId, LogId, OccurrenceKey, Origin, Outcome, PlayedClip, Priority, ProgrammeId,
};
use crate::store::{
    LogEntryDraft, OccurrenceEnd, OccurrenceStart, PROVISIONAL_OUTCOME_DETAIL, StoreError,
};

fn played(i: i64) -> PlayedClip {
    PlayedClip {
        clip: ClipId(i),
        title: format!("Bản tin {i}"),
        sha256: format!("{i:064x}"),
        gain_db: -3.25,
    }
}

fn scheduled(programme: ProgrammeId, when: &str, outcome: Outcome) -> LogEntryDraft {
    LogEntryDraft {
        origin: Origin::Scheduled { programme },
        priority: Priority::Normal,
        scheduled_at: at(when),
        started_at: None,
        ended_at: None,
        clips: Vec::new(),
        outcome,
        rule_broken: None,
        request: None,
    }
}

#[test]
fn every_outcome_and_origin_round_trips() {
    let (store, programme) = store_with_programme();
    let outcomes = [
        Outcome::Played,
        Outcome::Partial("session limit 10 min".to_owned()),
        Outcome::Interrupted("emergency cut in".to_owned()),
        Outcome::Skipped("quiet hours".to_owned()),
        Outcome::Missed("box was down".to_owned()),
        Outcome::Failed("alsa: device busy".to_owned()),
    ];
    let mut written = Vec::new();
    for (minute, outcome) in outcomes.into_iter().enumerate() {
        let mut draft = scheduled(
            programme,
            &format!("2026-06-01T05:{minute:02}:00Z"),
            outcome,
        );
        draft.started_at = Some(at(&format!("2026-06-01T05:{minute:02}:01.250Z")));
        draft.ended_at = Some(at(&format!("2026-06-01T05:{minute:02}:59.999Z")));
        draft.clips = vec![played(1), played(2), played(1)];
        written.push(draft);
    }
    written.push(LogEntryDraft {
        origin: Origin::Manual {
            requested_by: "chủ tịch phường".to_owned(),
        },
        priority: Priority::Emergency,
        scheduled_at: at("2026-06-01T04:30:00Z"),
        started_at: Some(at("2026-06-01T04:30:02Z")),
        ended_at: None,
        clips: vec![played(3)],
        outcome: Outcome::Played,
        rule_broken: Some("quiet hours".to_owned()),
        request: None,
    });
    let ids: Vec<LogId> = written.iter().map(|d| store.record(d).unwrap()).collect();
    for (id, draft) in ids.iter().zip(&written) {
        let entry = store.log_entry(*id).unwrap();
        assert_eq!(entry.id, *id);
        assert_eq!(
            (&entry.origin, entry.priority, entry.scheduled_at),
            (&draft.origin, draft.priority, draft.scheduled_at)
        );
        assert_eq!(
            (entry.started_at, entry.ended_at),
            (draft.started_at, draft.ended_at)
        );
        assert_eq!(
            (&entry.clips, &entry.outcome),
            (&draft.clips, &draft.outcome)
        );
        assert_eq!(entry.rule_broken, draft.rule_broken);
    }
    let day = store
        .log_between(at("2026-06-01T00:00:00Z"), at("2026-06-02T00:00:00Z"))
        .unwrap();
    let order: Vec<LogId> = day.iter().map(|e| e.id).collect();
    assert_eq!(order[0], ids[6], "sorted by scheduled instant");
    assert_eq!(order[1..], ids[..6]);
    let window = store
        .log_between(at("2026-06-01T05:01:00Z"), at("2026-06-01T05:03:00Z"))
        .unwrap();
    assert_eq!(window.len(), 2, "the end of the window is exclusive");
    assert_eq!(
        store.latest_scheduled(programme).unwrap(),
        Some(at("2026-06-01T05:05:00Z"))
    );
    assert_eq!(store.latest_scheduled(ProgrammeId(99)).unwrap(), None);
}

#[test]
fn a_scheduled_occurrence_is_never_logged_twice() {
    let (store, programme) = store_with_programme();
    let when = "2026-06-01T05:30:00Z";
    let first = store
        .record(&scheduled(programme, when, Outcome::Played))
        .unwrap();
    let key = OccurrenceKey {
        programme,
        scheduled: at(when),
    };
    assert_eq!(store.is_logged(key).unwrap(), Some(first));
    let again = store.record(&scheduled(programme, when, Outcome::Missed("x".to_owned())));
    assert!(
        matches!(again, Err(StoreError::AlreadyLogged { key: k, existing }) if k == key && existing == first)
    );
    let start = OccurrenceStart {
        origin: Origin::Scheduled { programme },
        priority: Priority::Normal,
        scheduled_at: at(when),
        started_at: at(when),
        rule_broken: None,
        request: None,
    };
    assert!(matches!(
        store.start_occurrence(&start),
        Err(StoreError::AlreadyLogged { .. })
    ));
    // The unique index is the backstop even for SQL that skips the check.
    let raw = store.lock().execute(
        "INSERT INTO broadcast_log (origin, programme, priority, scheduled_at, outcome)
         VALUES ('scheduled', ?1, 'normal', ?2, 'played')",
        [programme.0, at(when).timestamp_millis()],
    );
    assert!(raw.is_err());
    // Manual broadcasts at the same instant are all kept.
    for _ in 0..2 {
        let mut manual = scheduled(programme, when, Outcome::Played);
        manual.origin = Origin::Manual {
            requested_by: "cli".to_owned(),
        };
        store.record(&manual).unwrap();
    }
    let next = OccurrenceKey {
        programme,
        scheduled: at("2026-06-02T05:30:00Z"),
    };
    assert_eq!(store.is_logged(next).unwrap(), None);
}

#[test]
fn unknown_programme_cannot_be_logged() {
    let (store, _) = store_with_programme();
    let draft = scheduled(ProgrammeId(42), "2026-06-01T05:30:00Z", Outcome::Played);
    assert!(matches!(
        store.record(&draft),
        Err(StoreError::NotFound {
            what: "programme",
            id: 42
        })
    ));
}

#[test]
fn started_occurrence_is_claimed_then_finished_once() {
    let (store, programme) = store_with_programme();
    let when = at("2026-06-01T05:30:00Z");
    let start = OccurrenceStart {
        origin: Origin::Scheduled { programme },
        priority: Priority::Priority,
        scheduled_at: when,
        started_at: at("2026-06-01T05:29:58Z"),
        rule_broken: None,
        request: None,
    };
    let id = store.start_occurrence(&start).unwrap();
    let provisional = store.log_entry(id).unwrap();
    assert_eq!(
        provisional.outcome,
        Outcome::Failed(PROVISIONAL_OUTCOME_DETAIL.to_owned())
    );
    assert_eq!(provisional.started_at, Some(start.started_at));
    assert_eq!(provisional.ended_at, None);
    let key = OccurrenceKey {
        programme,
        scheduled: when,
    };
    assert_eq!(
        store.is_logged(key).unwrap(),
        Some(id),
        "claimed before it plays"
    );
    store.record_progress(id, &[played(1)]).unwrap();
    assert_eq!(store.log_entry(id).unwrap().clips, vec![played(1)]);
    let end = OccurrenceEnd {
        started_at: Some(at("2026-06-01T05:30:00Z")),
        ended_at: Some(at("2026-06-01T05:32:10Z")),
        clips: vec![played(1), played(2)],
        outcome: Outcome::Played,
    };
    let finished = store.finish_occurrence(id, &end).unwrap();
    assert_eq!(
        (
            finished.started_at,
            finished.ended_at,
            &finished.clips,
            &finished.outcome
        ),
        (end.started_at, end.ended_at, &end.clips, &end.outcome)
    );
    assert_eq!(finished.priority, Priority::Priority);
    assert!(matches!(
        store.finish_occurrence(id, &end),
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        store.record_progress(id, &[]),
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        store.finish_occurrence(LogId(999), &end),
        Err(StoreError::NotFound {
            what: "log entry",
            id: 999
        })
    ));
    assert!(store.settle_unfinished().unwrap().is_empty());
}

#[test]
fn occurrence_cut_by_a_crash_stays_failed_and_is_settled_at_startup() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("loa.db");
    let (id, key) = {
        let store = crate::store::Store::open(&path).unwrap();
        let clip = store.insert_clip(&super::new_clip(1)).unwrap().clip;
        let playlist = store.create_playlist("Sáng", &[clip.id]).unwrap();
        let programme = store
            .create_programme(&super::new_programme(playlist.id))
            .unwrap()
            .id;
        let when = at("2026-06-01T05:30:00Z");
        let start = OccurrenceStart {
            origin: Origin::Scheduled { programme },
            priority: Priority::Normal,
            scheduled_at: when,
            started_at: when,
            rule_broken: None,
            request: None,
        };
        let id = store.start_occurrence(&start).unwrap();
        store.record_progress(id, &[played(1)]).unwrap();
        // The process "dies" here: the store is dropped without finishing the row.
        (
            id,
            OccurrenceKey {
                programme,
                scheduled: when,
            },
        )
    };
    let store = crate::store::Store::open(&path).unwrap();
    assert_eq!(store.is_logged(key).unwrap(), Some(id));
    let settled = store.settle_unfinished().unwrap();
    assert_eq!(settled.len(), 1);
    assert_eq!(settled[0].id, id);
    assert_eq!(settled[0].clips, vec![played(1)]);
    assert_eq!(
        settled[0].outcome,
        Outcome::Failed(PROVISIONAL_OUTCOME_DETAIL.to_owned())
    );
    assert!(store.settle_unfinished().unwrap().is_empty());
    let late_finish = OccurrenceEnd {
        started_at: None,
        ended_at: None,
        clips: Vec::new(),
        outcome: Outcome::Played,
    };
    assert!(matches!(
        store.finish_occurrence(id, &late_finish),
        Err(StoreError::Invalid(_))
    ));
    assert_eq!(store.log_entry(id).unwrap().outcome, settled[0].outcome);
}

#[test]
fn campaign_report_holds_only_its_programmes_rows() {
    let (store, outside) = store_with_programme();
    let playlist = store.programme(outside).unwrap().playlist;
    let campaign = store
        .create_campaign(&crate::store::NewCampaign {
            name: "Tháng hành động vì trẻ em 2026".to_owned(),
            theme: String::new(),
            dates: crate::model::DateRange {
                start: super::day("2026-06-01"),
                end: super::day("2026-06-30"),
            },
        })
        .unwrap();
    let mut inside = super::new_programme(playlist);
    inside.campaign = Some(campaign.id);
    let inside = store.create_programme(&inside).unwrap().id;
    let late = store
        .record(&scheduled(inside, "2026-06-02T05:30:00Z", Outcome::Played))
        .unwrap();
    store
        .record(&scheduled(outside, "2026-06-01T05:30:00Z", Outcome::Played))
        .unwrap();
    let early = store
        .record(&scheduled(inside, "2026-06-01T05:30:00Z", Outcome::Played))
        .unwrap();
    store.delete_programme(inside).unwrap();
    let report: Vec<LogId> = store
        .log_for_campaign(campaign.id)
        .unwrap()
        .iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(
        report,
        vec![early, late],
        "kept after the programme is deleted"
    );
    assert!(matches!(
        store.log_for_campaign(crate::model::CampaignId(99)),
        Err(StoreError::NotFound {
            what: "campaign",
            id: 99
        })
    ));
}
