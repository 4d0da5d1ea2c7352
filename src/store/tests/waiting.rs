//! Tests of the broadcasts owed (`waiting_broadcasts`): a row leaves only with its log
//! row, holding is idempotent and refused once logged, and the store generation moves on
//! changes to what airs (including another process's) but not on the engine's bookkeeping.

use super::{at, new_clip, store_with_programme};
use crate::model::{OccurrenceKey, Origin, Outcome, PlaylistId, Priority};
use crate::store::{LogEntryDraft, NewManualBroadcast, OccurrenceStart, Store, StoreError};

fn play_now(playlist: PlaylistId) -> NewManualBroadcast {
    NewManualBroadcast {
        playlist,
        playlist_version: Some(3),
        priority: Priority::Emergency,
        at: None,
        requested_by: "chủ tịch phường".to_owned(),
    }
}

#[test]
fn a_request_waits_until_its_log_row_is_written_and_is_logged_once() {
    let (store, _) = store_with_programme();
    let now = at("2026-06-01T05:00:00.250Z");
    let asked = store
        .request_broadcast(&play_now(PlaylistId(1)), now)
        .unwrap();
    assert_eq!(asked.scheduled_at, now, "play-now is due when asked");
    assert_eq!(asked.playlist_version, Some(3));
    assert_eq!(store.waiting_broadcasts().unwrap(), vec![asked.clone()]);
    let claim = OccurrenceStart {
        origin: asked.origin.clone(),
        priority: asked.priority,
        scheduled_at: asked.scheduled_at,
        started_at: now,
        rule_broken: None,
        request: Some(asked.id),
    };
    store.start_occurrence(&claim).unwrap();
    assert!(store.waiting_broadcasts().unwrap().is_empty());
    assert!(
        store.start_occurrence(&claim).is_err(),
        "one request, one log row"
    );
}

#[test]
fn a_one_shot_keeps_its_instant_and_leaves_with_a_skipped_row() {
    let (store, _) = store_with_programme();
    let later = at("2026-06-01T09:30:00Z");
    let mut new = play_now(PlaylistId(1));
    new.at = Some(later);
    let asked = store
        .request_broadcast(&new, at("2026-06-01T05:00:00Z"))
        .unwrap();
    assert_eq!(asked.scheduled_at, later);
    store
        .record(&LogEntryDraft {
            origin: asked.origin.clone(),
            priority: asked.priority,
            scheduled_at: asked.scheduled_at,
            started_at: None,
            ended_at: None,
            clips: Vec::new(),
            outcome: Outcome::Missed("box down".to_owned()),
            rule_broken: None,
            request: Some(asked.id),
        })
        .unwrap();
    assert!(store.waiting_broadcasts().unwrap().is_empty());
}

#[test]
fn holding_an_occurrence_is_idempotent_refused_once_logged_and_settled_by_its_claim() {
    let (store, programme) = store_with_programme();
    let key = OccurrenceKey {
        programme,
        scheduled: at("2026-06-01T06:00:00Z"),
    };
    let now = at("2026-06-01T06:00:00.020Z");
    let first = store
        .hold_occurrence(key, PlaylistId(1), Priority::Normal, now)
        .unwrap();
    let again = store
        .hold_occurrence(key, PlaylistId(1), Priority::Normal, now)
        .unwrap();
    assert_eq!(first, again);
    let rows = store.waiting_broadcasts().unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].origin, Origin::Scheduled { programme });
    // The claim settles it by its key, even without naming the row.
    store
        .start_occurrence(&OccurrenceStart {
            origin: Origin::Scheduled { programme },
            priority: Priority::Normal,
            scheduled_at: key.scheduled,
            started_at: now,
            rule_broken: None,
            request: None,
        })
        .unwrap();
    assert!(store.waiting_broadcasts().unwrap().is_empty());
    assert!(matches!(
        store.hold_occurrence(key, PlaylistId(1), Priority::Normal, now),
        Err(StoreError::AlreadyLogged { .. })
    ));
}

#[test]
fn the_generation_moves_on_changes_to_what_airs_not_on_bookkeeping() {
    let (store, _) = store_with_programme();
    let changes = store.changes();
    let seen = *changes.borrow();
    store.set_meta("engine.checked_until", "x").unwrap();
    store
        .audit(at("2026-06-01T06:00:00Z"), "lan", "x", "y", "")
        .unwrap();
    assert_eq!(
        *changes.borrow(),
        seen,
        "bookkeeping does not wake the engine"
    );
    let clip = store.insert_clip(&new_clip(2)).unwrap().clip;
    store.create_playlist("Chiều", &[clip.id]).unwrap();
    assert!(*changes.borrow() >= seen + 2, "content writes move it");
    let before = *changes.borrow();
    store
        .request_broadcast(&play_now(PlaylistId(1)), at("2026-06-01T06:00:00Z"))
        .unwrap();
    assert_eq!(*changes.borrow(), before + 1, "a request moves it");
}

#[test]
fn another_processs_commit_is_noticed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("loa.db");
    let daemon = Store::open(&path).unwrap();
    let other = Store::open(&path).unwrap();
    let changes = daemon.changes();
    let seen = *changes.borrow();
    assert!(
        !daemon.notice_other_writers().unwrap(),
        "nothing written yet"
    );
    daemon.set_meta("own", "write").unwrap();
    assert!(
        !daemon.notice_other_writers().unwrap(),
        "its own commits are not another writer's"
    );
    other.insert_clip(&new_clip(9)).unwrap();
    assert!(daemon.notice_other_writers().unwrap());
    assert_eq!(*changes.borrow(), seen + 1);
    assert!(!daemon.notice_other_writers().unwrap(), "noticed once");
}
