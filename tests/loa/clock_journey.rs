//! Journey J22 against the whole daemon (in-process, real HTTP, `wav:` output): the clock
//! is wrong at boot. With `require_clock_sync` (the default) scheduled broadcasts wait —
//! nothing airs, nothing is logged — and `/healthz`, `/metrics` and the dashboard say the
//! clock is not synchronised and that this is required (503, a problem); when NTP steps the
//! clock and it is synchronised, the schedule resumes from the true time, without a burst
//! of the hour it jumped over. Without `require_clock_sync` the same clock is a warning
//! (200, "degraded", not "ok") and the schedule airs.
// journey: J22

use std::sync::Arc;
use std::time::Duration;

use chrono::{TimeZone, Utc};
use loa::config::Config;
use loa::model::{ClashRule, LogEntry, Outcome, Priority};
use loa::store::{NewProgramme, Store};

use crate::daemon::{http, session_headers, start_with_clock};
use crate::support::{OffsetClock, write_config, write_tone};

const TZ: chrono_tz::Tz = chrono_tz::Asia::Ho_Chi_Minh;

/// A station whose one programme fires every five seconds (a one-second clip, no chime),
/// with `extra` in its `[schedule]` section.
fn station(dir: &std::path::Path, extra: &str) -> (Config, Store) {
    let path = write_config(
        dir,
        &format!(
            "[audio]\noutput = \"wav:{}\"\nchime = \"\"\n[schedule]\nwarm_up_seconds = 0.3\n\
             hold_seconds = 0.5\nearliest = \"05:00\"\nlatest = \"21:30\"\n{extra}\
             [panel]\nlisten = \"127.0.0.1:0\"\n",
            dir.join("air.wav").display()
        ),
    );
    let config = Config::load(&path).unwrap();
    let store = Store::open(&config.station.data_dir.join("loa.db")).unwrap();
    let media = loa::library::media_dir(&config.station.data_dir);
    let file = dir.join("gio-sinh-hoat.wav");
    write_tone(&file, 440.0, 1.0, -18.0);
    let clip = loa::library::add_file(&store, &media, &file, "Giờ sinh hoạt", Utc::now()).unwrap();
    let playlist = store.create_playlist("Sinh hoạt", &[clip.id]).unwrap().id;
    store
        .create_programme(&NewProgramme {
            name: "Nhắc giờ".to_owned(),
            cron: loa::cron::CronExpr::parse("*/5 * * * * *").unwrap(),
            playlist,
            campaign: None,
            dates: None,
            priority: Priority::Normal,
            clash: ClashRule::Queue {
                max_wait: Duration::from_secs(60),
            },
            repeat: 1,
            repeat_pause: Duration::ZERO,
            chime: false,
            enabled: true,
            approved: true,
        })
        .unwrap();
    (config, store)
}

/// 09:00:01 today, station time: well inside station hours.
fn nine_oclock() -> chrono::DateTime<Utc> {
    let day = Utc::now().with_timezone(&TZ).date_naive();
    TZ.from_local_datetime(&day.and_hms_opt(9, 0, 1).unwrap())
        .unwrap()
        .to_utc()
}

fn rows(store: &Store) -> Vec<LogEntry> {
    store
        .log_between(
            Utc::now() - chrono::Duration::days(3),
            Utc::now() + chrono::Duration::days(3),
        )
        .unwrap()
}

async fn first_played(store: &Store) -> Vec<LogEntry> {
    for _ in 0..300 {
        let r = rows(store);
        if r.iter().any(|e| e.outcome == Outcome::Played) {
            return r;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("nothing played within 30 s: {:?}", rows(store));
}

/// `/healthz`: (status code, the clock check, the overall status).
async fn health(addr: std::net::SocketAddr) -> (u16, serde_json::Value, String) {
    let (code, body) = http(addr, "GET", "/healthz", "", "").await;
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    (
        code,
        v["checks"]["clock"].clone(),
        v["status"].as_str().unwrap().to_owned(),
    )
}

async fn metrics(addr: std::net::SocketAddr) -> String {
    http(addr, "GET", "/metrics", "", "").await.1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn j22_scheduled_broadcasts_wait_for_the_clock_and_health_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let (config, store) = station(dir.path(), "");
    assert!(config.schedule.require_clock_sync, "the default");
    // Booted with a stale time an hour behind, not synchronised.
    let clock = Arc::new(OffsetClock::starting_at(nine_oclock(), false));
    let viewer = session_headers(
        &store,
        "tuan",
        loa::store::Role::Viewer,
        loa::clock::Clock::now(&*clock),
    );
    let (addr, engine, stop, task) = start_with_clock(config, clock.clone()).await;
    // Two occurrences fall due meanwhile (09:00:05 and 09:00:10).
    tokio::time::sleep(Duration::from_secs(11)).await;
    assert!(
        rows(&store).is_empty(),
        "nothing aired or logged: {:?}",
        rows(&store)
    );
    assert!(!engine.status().relay_on, "the relay stays off");
    let (code, check, status) = health(addr).await;
    assert_eq!(
        (code, check["level"].as_str()),
        (503, Some("problem")),
        "{check}"
    );
    assert_eq!(status, "degraded");
    let detail = check["detail"].as_str().unwrap();
    assert!(
        detail.contains("not synchronised") && detail.contains("require_clock_sync = true"),
        "{detail}"
    );
    let text = metrics(addr).await;
    for line in [
        "\nloa_clock_synchronised 0\n",
        "\nloa_clock_sync_required 1\n",
        "\nloa_health_check{check=\"clock\"} 2\n",
    ] {
        assert!(text.contains(line), "{line} in\n{text}");
    }
    let (_, page) = http(addr, "GET", "/", &viewer, "").await;
    assert!(page.contains("CHƯA đồng bộ — lịch phát đang chờ"), "{page}");

    // NTP steps the clock an hour forward and it is synchronised: the schedule resumes
    // from the true time; the hour jumped over is not played in a burst.
    clock.jump(chrono::Duration::hours(1));
    clock.set_synchronised(true);
    let synced_at = loa::clock::Clock::now(&*clock);
    let logged = first_played(&store).await;
    let (code, check, _) = health(addr).await;
    let text = metrics(addr).await;
    let _ = stop.send(());
    task.await.unwrap();
    assert!(
        logged.iter().all(|e| e.scheduled_at >= synced_at),
        "nothing from before the sync: {logged:?}"
    );
    assert!(logged.len() <= 3, "no burst: {logged:?}");
    assert_eq!(check["level"], "ok", "{check}");
    assert_eq!(check["detail"], "synchronised (required)");
    assert_ne!(code, 503, "{check}");
    assert!(text.contains("\nloa_clock_synchronised 1\n"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn j22_an_unsynchronised_clock_not_required_is_a_warning_and_the_schedule_airs() {
    let dir = tempfile::tempdir().unwrap();
    let (config, store) = station(dir.path(), "require_clock_sync = false\n");
    let clock = Arc::new(OffsetClock::starting_at(nine_oclock(), false));
    let viewer = session_headers(
        &store,
        "tuan",
        loa::store::Role::Viewer,
        loa::clock::Clock::now(&*clock),
    );
    let (addr, _engine, stop, task) = start_with_clock(config, clock.clone()).await;
    let (code, check, status) = health(addr).await;
    assert_eq!(check["level"], "warn", "{check}");
    assert!(
        check["detail"]
            .as_str()
            .unwrap()
            .contains("require_clock_sync = false"),
        "{check}"
    );
    assert_eq!(
        (code, status.as_str()),
        (200, "degraded"),
        "a warning, not ok"
    );
    let text = metrics(addr).await;
    for line in [
        "\nloa_clock_synchronised 0\n",
        "\nloa_clock_sync_required 0\n",
        "\nloa_health_check{check=\"clock\"} 1\n",
    ] {
        assert!(text.contains(line), "{line} in\n{text}");
    }
    let (_, page) = http(addr, "GET", "/", &viewer, "").await;
    assert!(
        page.contains("CHƯA đồng bộ — không bắt buộc, lịch vẫn phát"),
        "{page}"
    );
    assert!(
        page.contains("data-check=\"clock\""),
        "the warning's alert: {page}"
    );
    let logged = first_played(&store).await;
    let _ = stop.send(());
    task.await.unwrap();
    assert!(
        logged.iter().any(|e| e.outcome == Outcome::Played),
        "{logged:?}"
    );
}
