//! Tests of opening and migrating the store, fixtures shared by the per-table tests, and
//! the submodules testing programmes, the log and crash safety.

mod approval;
mod crash;
mod library;
mod log;
mod programmes;
mod waiting;

use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::Connection;

use super::*;
use crate::cron::CronExpr;
use crate::model::{ClashRule, ClipLoudness, PlaylistId, Priority, ProgrammeId};

/// A clip to insert whose hash is derived from `i`.
pub(super) fn new_clip(i: u64) -> NewClip {
    NewClip {
        sha256: format!("{i:064x}"),
        title: format!("Bản tin {i}"),
        original_name: format!("ban-tin-{i}.mp3"),
        duration_ms: 61_250,
        sample_rate: 44_100,
        channels: 2,
        loudness: ClipLoudness {
            integrated_lufs: -18.5,
            range_lu: 6.25,
            true_peak_dbtp: -1.5,
        },
        created_at: at("2026-05-20T08:00:00Z"),
    }
}

/// An instant from RFC 3339 text.
pub(super) fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).unwrap().to_utc()
}

/// A local date from `YYYY-MM-DD` text.
pub(super) fn day(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
}

/// A morning programme playing `playlist`, queueing up to five minutes on a clash.
pub(super) fn new_programme(playlist: PlaylistId) -> NewProgramme {
    NewProgramme {
        name: "Bản tin sáng".to_owned(),
        cron: CronExpr::parse("30 5 * * MON-FRI").unwrap(),
        playlist,
        campaign: None,
        dates: None,
        priority: Priority::Normal,
        clash: ClashRule::Queue {
            max_wait: Duration::from_secs(300),
        },
        repeat: 2,
        repeat_pause: Duration::from_secs(30),
        chime: true,
        enabled: true,
        approved: false,
    }
}

/// A store holding one clip, one playlist of it and one programme of that playlist.
pub(super) fn store_with_programme() -> (Store, ProgrammeId) {
    let store = Store::open_in_memory().unwrap();
    let clip = store.insert_clip(&new_clip(1)).unwrap().clip;
    let playlist = store.create_playlist("Sáng", &[clip.id]).unwrap();
    let programme = store.create_programme(&new_programme(playlist.id)).unwrap();
    (store, programme.id)
}

fn pragma_text(store: &Store, name: &str) -> String {
    store
        .lock()
        .pragma_query_value(None, name, |row| row.get::<_, rusqlite::types::Value>(0))
        .map(|v| match v {
            rusqlite::types::Value::Text(t) => t,
            rusqlite::types::Value::Integer(i) => i.to_string(),
            other => format!("{other:?}"),
        })
        .unwrap()
}

fn raw_user_version(path: &Path) -> i64 {
    Connection::open(path)
        .unwrap()
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .unwrap()
}

#[test]
fn open_creates_file_and_directories_and_sets_durable_pragmas() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("var/lib/loa/loa.db");
    let store = Store::open(&path).unwrap();
    assert!(path.is_file());
    assert_eq!(pragma_text(&store, "journal_mode"), "wal");
    assert_eq!(pragma_text(&store, "synchronous"), "2", "2 is FULL");
    assert_eq!(pragma_text(&store, "foreign_keys"), "1");
    assert_eq!(
        pragma_text(&store, "user_version"),
        SCHEMA_VERSION.to_string()
    );
    store.check_integrity().unwrap();
}

#[test]
fn integrity_check_on_disk_finds_a_damaged_index_page() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("loa.db");
    let index_root: i64 = {
        let store = Store::open(&path).unwrap();
        store.check_integrity().unwrap();
        let mut conn = Connection::open(&path).unwrap();
        let tx = conn.transaction().unwrap();
        tx.execute_batch(
            "CREATE TABLE khau_hieu(x TEXT); CREATE INDEX khau_hieu_x ON khau_hieu(x);",
        )
        .unwrap();
        for i in 0..2000 {
            tx.execute(
                "INSERT INTO khau_hieu VALUES (?1)",
                [format!("Nói không với hàng giả {i}")],
            )
            .unwrap();
        }
        tx.commit().unwrap();
        conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
            .unwrap();
        conn.query_row(
            "SELECT rootpage FROM sqlite_master WHERE name = 'khau_hieu_x'",
            [],
            |r| r.get(0),
        )
        .unwrap()
    };
    // Overwrite the index's root page (past its header) with junk, as a bad SD card might.
    let page = 4096;
    let mut bytes = std::fs::read(&path).unwrap();
    let start = usize::try_from(index_root - 1).unwrap() * page + 16;
    bytes[start..start + 512].fill(0xA5);
    std::fs::write(&path, bytes).unwrap();

    let store = Store::open(&path).unwrap();
    let err = store.check_integrity().unwrap_err();
    assert!(
        matches!(err, StoreError::Corrupt(_) | StoreError::Sqlite(_)),
        "{err:?}"
    );
}

#[test]
fn reopening_keeps_data_and_runs_no_migration_twice() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("loa.db");
    let schema = |store: &Store| -> Vec<String> {
        let conn = store.lock();
        let mut stmt = conn
            .prepare("SELECT sql FROM sqlite_schema WHERE sql IS NOT NULL ORDER BY name")
            .unwrap();
        stmt.query_map([], |row| row.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    let first = Store::open(&path).unwrap();
    let clip = first.insert_clip(&new_clip(5)).unwrap().clip;
    let before = schema(&first);
    drop(first);
    for _ in 0..3 {
        let again = Store::open(&path).unwrap();
        assert_eq!(schema(&again), before);
        assert_eq!(again.clips().unwrap(), vec![clip.clone()]);
    }
    assert_eq!(raw_user_version(&path), SCHEMA_VERSION);
}

#[test]
fn non_database_file_is_refused_naming_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("loa.db");
    std::fs::write(&path, "[station]\nname = \"not a database\"\n".repeat(40)).unwrap();
    let err = Store::open(&path).unwrap_err();
    assert!(matches!(err, StoreError::NotADatabase { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        format!("{} is not a database file", path.display())
    );
}

#[test]
fn another_programs_database_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("other.db");
    Connection::open(&path)
        .unwrap()
        .execute_batch("CREATE TABLE songs (title TEXT);")
        .unwrap();
    let err = Store::open(&path).unwrap_err();
    assert!(matches!(err, StoreError::ForeignDatabase { .. }), "{err:?}");
    assert!(err.to_string().contains(&path.display().to_string()));
}

#[test]
fn database_from_a_newer_loa_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("loa.db");
    drop(Store::open(&path).unwrap());
    Connection::open(&path)
        .unwrap()
        .pragma_update(None, "user_version", SCHEMA_VERSION + 1)
        .unwrap();
    let err = Store::open(&path).unwrap_err();
    assert!(
        matches!(err, StoreError::TooNew { found, supported, .. }
            if found == SCHEMA_VERSION + 1 && supported == SCHEMA_VERSION),
        "{err:?}"
    );
    assert!(err.to_string().contains(&path.display().to_string()));
    assert_eq!(
        raw_user_version(&path),
        SCHEMA_VERSION + 1,
        "left untouched"
    );
}

#[test]
fn clones_share_one_database_across_threads() {
    fn assert_shareable<T: Clone + Send + Sync + 'static>() {}
    assert_shareable::<Store>();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("loa.db")).unwrap();
    let threads: Vec<_> = (0..4_u64)
        .map(|t| {
            let store = store.clone();
            std::thread::spawn(move || {
                for i in 0..10 {
                    store.insert_clip(&new_clip(t * 100 + i)).unwrap();
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    assert_eq!(store.clips().unwrap().len(), 40);
}

#[test]
fn errors_render_for_staff() {
    let cases = [
        (
            StoreError::NotFound {
                what: "playlist",
                id: 7,
            },
            "playlist 7 not found",
        ),
        (
            StoreError::Invalid("playlist name must not be empty".to_owned()),
            "playlist name must not be empty",
        ),
    ];
    for (err, text) in cases {
        assert_eq!(err.to_string(), text);
    }
}
