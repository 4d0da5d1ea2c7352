//! Tests of the health checks: disk thresholds and the upload guard, the last scheduled
//! broadcast, the media directory, and a whole report from a daemon's point of view.

use std::path::Path;
use std::time::Duration;

use super::*;
use crate::cron::CronExpr;
use crate::model::{ClashRule, ClipLoudness, Priority, ProgrammeId};
use crate::store::{LogEntryDraft, NewClip, NewProgramme};

const GIB: u64 = 1024 * MIB;

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).unwrap().to_utc()
}

/// A store with one clip "Tổng đài 111", a playlist of it and a programme of that.
fn station() -> (Store, ProgrammeId) {
    let store = Store::open_in_memory().unwrap();
    let clip = store
        .insert_clip(&NewClip {
            sha256: format!("{:064x}", 111),
            title: "Tổng đài 111 - Luôn lắng nghe và bảo vệ trẻ em".to_owned(),
            original_name: "tong-dai-111.mp3".to_owned(),
            duration_ms: 30_000,
            sample_rate: 44_100,
            channels: 1,
            loudness: ClipLoudness {
                integrated_lufs: -18.0,
                range_lu: 4.0,
                true_peak_dbtp: -2.0,
            },
            created_at: at("2026-05-20T08:00:00Z"),
        })
        .unwrap()
        .clip;
    let playlist = store.create_playlist("Bản tin sáng", &[clip.id]).unwrap();
    let programme = store
        .create_programme(&NewProgramme {
            name: "Tháng hành động vì trẻ em".to_owned(),
            cron: CronExpr::parse("30 6 * * *").unwrap(),
            playlist: playlist.id,
            campaign: None,
            dates: None,
            priority: Priority::Normal,
            clash: ClashRule::Queue {
                max_wait: Duration::from_secs(300),
            },
            repeat: 1,
            repeat_pause: Duration::from_secs(0),
            chime: true,
            enabled: true,
            approved: true,
        })
        .unwrap();
    (store, programme.id)
}

fn log(store: &Store, programme: ProgrammeId, when: &str, outcome: Outcome) {
    store
        .record(&LogEntryDraft {
            origin: Origin::Scheduled { programme },
            priority: Priority::Normal,
            scheduled_at: at(when),
            started_at: None,
            ended_at: None,
            clips: Vec::new(),
            outcome,
            rule_broken: None,
            request: None,
        })
        .unwrap();
}

#[test]
fn disk_is_a_problem_below_the_reserve_and_a_warning_below_twice_it() {
    let p = Path::new("/var/lib/loa");
    let space = |free| DiskSpace {
        free_bytes: free,
        total_bytes: 16 * GIB,
    };
    let reserve = 200 * MIB;
    assert_eq!(disk_level(p, space(4 * GIB), reserve).level, Level::Ok);
    assert_eq!(disk_level(p, space(300 * MIB), reserve).level, Level::Warn);
    let low = disk_level(p, space(150 * MIB), reserve);
    assert_eq!(low.level, Level::Problem);
    assert!(low.detail.contains("150 MiB free"), "{}", low.detail);
    assert!(low.detail.contains("uploads are refused"), "{}", low.detail);
}

#[test]
fn an_upload_that_would_eat_into_the_reserve_is_refused_with_the_figures() {
    let p = Path::new("/var/lib/loa");
    let space = DiskSpace {
        free_bytes: 250 * MIB,
        total_bytes: 16 * GIB,
    };
    room_left(p, space, 200 * MIB, 40 * MIB).unwrap();
    let err = room_left(p, space, 200 * MIB, 60 * MIB).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.starts_with("not enough free disk space in /var/lib/loa"),
        "{msg}"
    );
    assert!(
        msg.contains("250 MiB free, 60 MiB needed with 200 MiB kept free"),
        "{msg}"
    );
}

#[test]
fn disk_free_reads_the_real_file_system() {
    let dir = tempfile::tempdir().unwrap();
    let space = disk_free(dir.path()).unwrap();
    assert!(space.total_bytes > 0 && space.free_bytes <= space.total_bytes);
    // Asking for more than the whole disk is always refused.
    assert!(ensure_room(dir.path(), 0, space.total_bytes + 1).is_err());
    assert!(matches!(
        disk_free(&dir.path().join("missing")),
        Err(HealthError::Statvfs { .. })
    ));
    // A data directory not created yet is measured on its parent's file system.
    assert_ne!(
        disk(&dir.path().join("data/not/yet"), 1).level,
        Level::Problem
    );
}

#[test]
fn the_last_scheduled_broadcast_missed_is_a_problem_until_one_plays() {
    let (store, programme) = station();
    let now = at("2026-06-02T00:00:00Z");
    assert_eq!(last_broadcast(&store, now).level, Level::Ok);
    log(&store, programme, "2026-06-01T09:30:00Z", Outcome::Played);
    log(
        &store,
        programme,
        "2026-06-01T10:30:00Z",
        Outcome::Missed("the box was down".to_owned()),
    );
    // A later skip by a station rule does not hide the miss.
    log(
        &store,
        programme,
        "2026-06-01T11:30:00Z",
        Outcome::Skipped("quiet hours".to_owned()),
    );
    let c = last_broadcast(&store, now);
    assert_eq!(c.level, Level::Problem);
    assert!(
        c.detail.contains("missed: the box was down"),
        "{}",
        c.detail
    );
    log(&store, programme, "2026-06-01T12:30:00Z", Outcome::Played);
    assert_eq!(last_broadcast(&store, now).level, Level::Ok);
}

#[test]
fn the_scheduled_broadcast_on_air_is_not_a_failure() {
    let (store, programme) = station();
    let now = at("2026-06-02T06:00:10Z");
    store
        .start_occurrence(&crate::store::OccurrenceStart {
            origin: Origin::Scheduled { programme },
            priority: Priority::Normal,
            scheduled_at: at("2026-06-02T06:00:00Z"),
            started_at: at("2026-06-02T06:00:00Z"),
            rule_broken: None,
            request: None,
        })
        .unwrap();
    // Its claimed row says "failed" until it ends; only the engine knows it is on air.
    assert_eq!(last_broadcast(&store, now).level, Level::Problem);
    let on_air = Some(at("2026-06-02T06:00:00Z"));
    assert_eq!(last_broadcast_besides(&store, now, on_air).level, Level::Ok);
}

#[test]
fn media_reports_clip_files_that_are_gone() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = station();
    assert_eq!(
        media(Some(&store), dir.path()).level,
        Level::Ok,
        "not created yet"
    );
    std::fs::create_dir_all(dir.path().join("media")).unwrap();
    let c = media(Some(&store), dir.path());
    assert_eq!(c.level, Level::Problem);
    assert!(c.detail.contains("Tổng đài 111"), "{}", c.detail);
    let clip = &store.clips().unwrap()[0];
    std::fs::write(
        crate::library::clip_path(&dir.path().join("media"), clip),
        b"x",
    )
    .unwrap();
    assert_eq!(media(Some(&store), dir.path()).level, Level::Ok);
}

#[test]
fn a_daemon_report_is_degraded_by_a_missing_output_and_an_unsynchronised_clock() {
    let dir = tempfile::tempdir().unwrap();
    let config = crate::config::Config::parse(
        &format!(
            "[station]\ndata_dir = \"{}\"\nmin_free_mb = 1\n[amp]\nrelay = \"none\"\n",
            dir.path().display()
        ),
        &dir.path().join("loa.toml"),
    )
    .unwrap();
    let (store, _) = station();
    std::fs::create_dir_all(dir.path().join("media")).unwrap();
    let clip = &store.clips().unwrap()[0];
    std::fs::write(
        crate::library::clip_path(&dir.path().join("media"), clip),
        b"x",
    )
    .unwrap();
    let mut status = EngineStatus {
        output: "null".to_owned(),
        output_ok: true,
        clock_synchronised: true,
        ..EngineStatus::default()
    };
    let now = at("2026-06-02T00:00:00Z");
    let report = daemon_report(&config, &store, &status, now);
    assert_eq!(report.level(), Level::Ok, "{report:?}");
    assert_eq!(report.checks.len(), 8);
    status.output_ok = false;
    status.output = "alsa:hw:CARD=Device: no such device".to_owned();
    status.clock_synchronised = false;
    let report = daemon_report(&config, &store, &status, now);
    assert_eq!(report.problems(), 2, "{report:?}");
    assert_eq!(report.get("output").unwrap().level, Level::Problem);
    assert!(
        report
            .get("clock")
            .unwrap()
            .fix
            .as_deref()
            .unwrap()
            .contains("timedatectl")
    );
}

#[test]
fn audio_going_nowhere_behind_auto_is_a_warning_not_ok() {
    let fallback = output(Ok(crate::output::AUTO_FALLBACK_NAME.to_owned()));
    assert_eq!(fallback.level, Level::Warn, "{fallback:?}");
    assert!(fallback.detail.contains("nothing is heard"), "{fallback:?}");
    assert_eq!(output(Ok("alsa:default".to_owned())).level, Level::Ok);
    assert_eq!(
        output(Err("no such device".to_owned())).level,
        Level::Problem
    );
}

#[test]
fn the_clock_check_tells_the_kernels_truth_and_whether_it_is_required() {
    let cases = [
        (true, true, Level::Ok, "synchronised (required)"),
        (true, false, Level::Ok, "synchronised (not required)"),
        (false, true, Level::Problem, "require_clock_sync = true"),
        (false, false, Level::Warn, "require_clock_sync = false"),
    ];
    for (synchronised, required, level, words) in cases {
        let c = clock(synchronised, required);
        assert_eq!(c.level, level, "{synchronised} {required}: {c:?}");
        assert!(c.detail.contains(words), "{c:?}");
        assert_eq!(
            c.detail.starts_with("not synchronised"),
            !synchronised,
            "{c:?}"
        );
        assert_eq!(c.fix.is_some(), !synchronised, "{c:?}");
    }
}

#[test]
fn an_unsynchronised_clock_that_is_not_required_is_a_warning_in_the_daemon_report() {
    let dir = tempfile::tempdir().unwrap();
    let config = crate::config::Config::parse(
        &format!(
            "[station]\ndata_dir = \"{}\"\nmin_free_mb = 1\n[schedule]\nrequire_clock_sync = false\n",
            dir.path().display()
        ),
        &dir.path().join("loa.toml"),
    )
    .unwrap();
    let (store, _) = station();
    let status = EngineStatus {
        output: "null".to_owned(),
        output_ok: true,
        clock_synchronised: false,
        ..EngineStatus::default()
    };
    let report = daemon_report(&config, &store, &status, at("2026-06-02T00:00:00Z"));
    assert_eq!(
        report.get("clock").unwrap().level,
        Level::Warn,
        "{report:?}"
    );
    assert_eq!(report.problems(), 0, "{report:?}");
}
