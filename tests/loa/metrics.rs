//! `/metrics` shows the degraded states `/healthz` reports, from the same checks: a daemon
//! in-process with no output device, an unsynchronised clock, a nearly full disk and a
//! missed scheduled broadcast shows each as `loa_health_check{check="…"}` 1 or 2, with the
//! level `/healthz` gives the same check, and a check that recovers goes back to 0.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use loa::clock::FakeClock;
use loa::config::Config;
use loa::cron::CronExpr;
use loa::daemon::{self, Wiring};
use loa::model::{ClashRule, Origin, Outcome, Priority};
use loa::output::OutputError;
use loa::store::{LogEntryDraft, NewProgramme, Store};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::{write_config, write_tone};

async fn get(addr: std::net::SocketAddr, path: &str) -> (u16, String) {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let req = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    let status = out[9..12].parse().unwrap();
    let body = out.split_once("\r\n\r\n").map(|x| x.1.to_owned()).unwrap();
    (status, body)
}

/// `loa_health_check{check="NAME"}` in a Prometheus text body.
fn metric(text: &str, name: &str) -> Option<u8> {
    let prefix = format!("loa_health_check{{check=\"{name}\"}} ");
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .and_then(|v| v.trim().parse().ok())
}

fn level_number(level: &str) -> u8 {
    match level {
        "ok" => 0,
        "warn" => 1,
        "problem" => 2,
        other => panic!("unknown level {other}"),
    }
}

/// A config whose disk reserve leaves the data disk "nearly full": free space is between
/// the reserve and twice it.
fn config(dir: &Path) -> Config {
    std::fs::create_dir_all(dir.join("data")).unwrap();
    let free_mb = loa::health::disk_free(dir).unwrap().free_bytes / 1_000_000;
    let path = write_config(
        dir,
        &format!(
            "min_free_mb = {}\n[audio]\noutput = \"null\"\nchime = \"\"\n\
             [panel]\nlisten = \"127.0.0.1:0\"\n",
            free_mb * 3 / 4
        ),
    );
    Config::load(&path).unwrap()
}

/// A missed scheduled broadcast an hour ago, as the engine logs one after a power cut.
fn log_a_missed_broadcast(store: &Store, dir: &Path) {
    let media = loa::library::media_dir(&dir.join("data"));
    let wav = dir.join("clip.wav");
    write_tone(&wav, 440.0, 0.5, -20.0);
    let clip = loa::library::add_file(store, &media, &wav, "Tổng đài 111", Utc::now()).unwrap();
    let playlist = store.create_playlist("Bản tin sáng", &[clip.id]).unwrap();
    let programme = store
        .create_programme(&NewProgramme {
            name: "Tháng hành động vì trẻ em".to_owned(),
            cron: CronExpr::parse("30 5 * * *").unwrap(),
            playlist: playlist.id,
            campaign: None,
            dates: None,
            priority: Priority::Normal,
            clash: ClashRule::Queue {
                max_wait: Duration::from_secs(60),
            },
            repeat: 1,
            repeat_pause: Duration::ZERO,
            chime: false,
            enabled: false,
            approved: true,
        })
        .unwrap();
    store
        .record(&LogEntryDraft {
            origin: Origin::Scheduled {
                programme: programme.id,
            },
            priority: Priority::Normal,
            scheduled_at: Utc::now() - chrono::Duration::hours(1),
            started_at: None,
            ended_at: None,
            clips: Vec::new(),
            outcome: Outcome::Missed("the box was down".to_owned()),
            rule_broken: None,
            request: None,
        })
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn degraded_states_show_in_metrics_as_healthz_reports_them() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path());
    let store = Store::open(&config.station.data_dir.join("loa.db")).unwrap();
    log_a_missed_broadcast(&store, dir.path());
    // Kept open: its writes are another connection's, which the engine notices.
    let wake_store = store;
    let clock = Arc::new(FakeClock::new(Utc::now()));
    clock.set_synchronised(false);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let wiring = Wiring {
        config,
        listener,
        clock: clock.clone(),
        // No sound card: every open fails, as with an unplugged USB card.
        output_factory: || {
            Err(OutputError::InvalidSpec {
                spec: "alsa:hw:CARD=Device".to_owned(),
                reason: "no such card".to_owned(),
            })
        },
        shipped_media: Path::new(env!("CARGO_MANIFEST_DIR")).join("media"),
    };
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
    let task = tokio::spawn(async move {
        daemon::run(
            wiring,
            async move {
                let _ = stop_rx.await;
            },
            move |h| {
                let _ = ready_tx.send(h.clone());
            },
        )
        .await
        .unwrap();
    });
    let _engine = ready_rx.await.unwrap();

    // The player reports the failed open shortly after the start.
    let deadline = Instant::now() + Duration::from_secs(20);
    let text = loop {
        let (code, text) = get(addr, "/metrics").await;
        assert_eq!(code, 200);
        if metric(&text, "output") == Some(2) || Instant::now() > deadline {
            break text;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    for (check, level) in [
        ("output", 2),
        ("clock", 2),
        ("disk", 1),
        ("last_broadcast", 2),
        ("database", 0),
    ] {
        assert_eq!(metric(&text, check), Some(level), "{check}:\n{text}");
    }
    assert!(text.contains("\nloa_healthy 0\n"), "{text}");
    assert!(text.contains("\nloa_clock_synchronised 0\n"), "{text}");
    assert!(text.contains("\nloa_output_ok 0\n"), "{text}");

    // /healthz says the same, check by check.
    let (code, body) = get(addr, "/healthz").await;
    assert_eq!(code, 503, "{body}");
    let health: serde_json::Value = serde_json::from_str(&body).unwrap();
    let checks = health["checks"].as_object().unwrap();
    assert!(checks.len() >= 8, "{body}");
    for (name, check) in checks {
        let level = level_number(check["level"].as_str().unwrap());
        assert_eq!(metric(&text, name), Some(level), "{name}: {body}\n{text}");
    }

    // A check that recovers goes back to 0. A write to the database from another
    // connection wakes the engine within a second (it follows the store), and it re-reads
    // the clock at once instead of after its nap.
    clock.set_synchronised(true);
    wake_store.set_meta("test.wake", "1").unwrap();
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let (_, text) = get(addr, "/metrics").await;
        if metric(&text, "clock") == Some(0) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the clock check never recovered:\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = stop_tx.send(());
    task.await.unwrap();
}
