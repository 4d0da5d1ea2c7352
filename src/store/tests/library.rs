//! Tests of the library operations on clips and playlists: search and sort, rename,
//! delete with the in-use rule and force, single-item playlist edits, playlist deletion
//! and total duration.

use std::time::Duration;

use super::{at, new_clip, new_programme};
use crate::model::{ClipId, PlaylistId};
use crate::store::{ClipSort, Store, StoreError};

fn store_with_clips(n: u64) -> (Store, Vec<ClipId>) {
    let store = Store::open_in_memory().unwrap();
    let ids = (0..n)
        .map(|i| {
            let mut c = new_clip(i);
            c.duration_ms = 1000 * (i as i64 + 1);
            c.created_at = at("2026-05-20T08:00:00Z") + chrono::Duration::minutes(i as i64);
            store.insert_clip(&c).unwrap().clip.id
        })
        .collect();
    (store, ids)
}

#[test]
fn search_matches_vietnamese_case_insensitively_and_sorts() {
    let (store, c) = store_with_clips(3);
    store.rename_clip(c[0], "Khẩu hiệu Tổng đài 111").unwrap();
    store.rename_clip(c[1], "bản tin sáng").unwrap();
    store.rename_clip(c[2], "Ảnh hưởng bão").unwrap();
    let ids = |v: Vec<crate::model::Clip>| v.into_iter().map(|c| c.id).collect::<Vec<_>>();
    assert_eq!(
        ids(store
            .search_clips("TỔNG ĐÀI", ClipSort::Newest, false)
            .unwrap()),
        [c[0]]
    );
    assert_eq!(
        ids(store
            .search_clips("ban-tin-1", ClipSort::Newest, false)
            .unwrap()),
        [c[1]],
        "the original file name is searched too"
    );
    assert_eq!(
        ids(store.search_clips("", ClipSort::Newest, false).unwrap()),
        [c[2], c[1], c[0]]
    );
    assert_eq!(
        ids(store.search_clips("", ClipSort::Oldest, false).unwrap()),
        [c[0], c[1], c[2]]
    );
    assert_eq!(
        ids(store.search_clips("", ClipSort::Longest, false).unwrap()),
        [c[2], c[1], c[0]]
    );
    assert_eq!(
        ids(store.search_clips("", ClipSort::Title, false).unwrap())[0],
        c[1],
        "lowercase b sorts before K"
    );
    store.set_clip_archived(c[0], true).unwrap();
    assert_eq!(
        ids(store.search_clips("", ClipSort::Oldest, true).unwrap()),
        [c[0]]
    );
    assert!(matches!(
        store.rename_clip(c[1], "  "),
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        store.rename_clip(ClipId(99), "x"),
        Err(StoreError::NotFound { .. })
    ));
}

#[test]
fn delete_is_refused_while_used_and_force_takes_the_clip_out_everywhere() {
    let (store, c) = store_with_clips(2);
    let p = store.create_playlist("Sáng", &[c[0], c[1], c[0]]).unwrap();
    store.create_programme(&new_programme(p.id)).unwrap();
    let users = store.clip_users(c[0]).unwrap();
    assert_eq!(users, ["playlist \"Sáng\"", "programme \"Bản tin sáng\""]);
    match store.delete_clip(c[0], false) {
        Err(e @ StoreError::InUse { .. }) => {
            assert!(e.to_string().contains("playlist \"Sáng\""), "{e}")
        }
        other => panic!("expected InUse, got {other:?}"),
    }
    assert_eq!(
        store.playlist(p.id).unwrap(),
        p,
        "a refused delete changes nothing"
    );
    let deleted = store.delete_clip(c[0], true).unwrap();
    assert_eq!(deleted.id, c[0]);
    let after = store.playlist(p.id).unwrap();
    assert_eq!(after.items, [c[1]]);
    assert_eq!(after.version, p.version + 1);
    assert!(matches!(store.clip(c[0]), Err(StoreError::NotFound { .. })));
    // An unused clip goes without force; the id is never reused.
    store.delete_clip(c[1], true).unwrap();
    let next = store.insert_clip(&new_clip(9)).unwrap().clip;
    assert!(next.id > c[1]);
}

#[test]
fn single_item_edits_check_the_version_and_the_position() {
    let (store, c) = store_with_clips(3);
    let p = store.create_playlist("Sáng", &[c[0], c[1]]).unwrap();
    let p = store.insert_playlist_item(p.id, 1, 1, c[2]).unwrap();
    assert_eq!((p.items.clone(), p.version), (vec![c[0], c[2], c[1]], 2));
    let p = store.insert_playlist_item(p.id, 2, 3, c[0]).unwrap();
    assert_eq!(p.items, [c[0], c[2], c[1], c[0]], "the same clip twice");
    let p = store.move_playlist_item(p.id, 3, 0, 2).unwrap();
    assert_eq!(p.items, [c[2], c[1], c[0], c[0]]);
    let p = store.remove_playlist_item(p.id, 4, 1).unwrap();
    assert_eq!((p.items.clone(), p.version), (vec![c[2], c[0], c[0]], 5));
    // Stale versions conflict; bad positions and unknown clips are refused; nothing changes.
    assert!(matches!(
        store.remove_playlist_item(p.id, 4, 0),
        Err(StoreError::VersionConflict { .. })
    ));
    assert!(matches!(
        store.move_playlist_item(p.id, 5, 0, 3),
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        store.insert_playlist_item(p.id, 5, 4, c[0]),
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        store.insert_playlist_item(p.id, 5, 0, ClipId(99)),
        Err(StoreError::NotFound { .. })
    ));
    assert_eq!(store.playlist(p.id).unwrap(), p);
}

#[test]
fn total_duration_counts_repeats() {
    let (store, c) = store_with_clips(2);
    let p = store.create_playlist("Sáng", &[c[0], c[1], c[0]]).unwrap();
    assert_eq!(
        store.playlist_duration(p.id).unwrap(),
        Duration::from_millis(1000 + 2000 + 1000)
    );
    let empty = store.create_playlist("Trống", &[]).unwrap();
    assert_eq!(store.playlist_duration(empty.id).unwrap(), Duration::ZERO);
    assert!(matches!(
        store.playlist_duration(PlaylistId(99)),
        Err(StoreError::NotFound { .. })
    ));
}

#[test]
fn a_playlist_used_by_a_programme_is_not_deleted() {
    let (store, c) = store_with_clips(1);
    let used = store.create_playlist("Sáng", &[c[0]]).unwrap();
    let free = store.create_playlist("Chiều", &[c[0]]).unwrap();
    let programme = store.create_programme(&new_programme(used.id)).unwrap();
    assert!(matches!(
        store.delete_playlist(used.id),
        Err(StoreError::InUse {
            what: "playlist",
            ..
        })
    ));
    store.delete_programme(programme.id).unwrap();
    match store.delete_playlist(used.id) {
        Err(e @ StoreError::InUse { .. }) => assert!(e.to_string().contains("deleted"), "{e}"),
        other => panic!("{other:?}"),
    }
    store.delete_playlist(free.id).unwrap();
    assert!(matches!(
        store.playlist(free.id),
        Err(StoreError::NotFound { .. })
    ));
    assert_eq!(store.clip_users(c[0]).unwrap(), ["playlist \"Sáng\""]);
}
