//! The whole daemon in-process on a port-0 listener with a wav output: a broadcast's
//! captured audio (chime, clips in order, gaps, loudness, ceiling), its log row, and the
//! HTTP API's contract (health, OpenAPI, error bodies, auth), and an editor's broadcast
//! held for approval airing only once an approver approves it. Its station, start and
//! HTTP helpers are shared with `approval_air`.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use loa::clock::SystemClock;
use loa::config::Config;
use loa::daemon::{self, Wiring};
use loa::engine::EngineHandle;
use loa::model::{Outcome, Priority};
use loa::output::{OutputFormat, OutputSpec};
use loa::store::Store;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::{read_wav, sound_runs, tone_frequency, write_config, write_tone};

pub(crate) const TOKEN: &str = "test-token-0123456789";

/// Sends one HTTP/1.1 request and returns (status, body).
pub(crate) async fn http(
    addr: std::net::SocketAddr,
    method: &str,
    path: &str,
    headers: &str,
    body: &str,
) -> (u16, String) {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n{headers}\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    let status = out[9..12].parse().unwrap();
    let body = out
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

/// Asks for a manual broadcast as the panel does: a row among the broadcasts owed, here
/// written through a second connection (another process, for the daemon), which the
/// engine notices within a second.
pub(crate) fn request(
    store: &Store,
    playlist: loa::model::PlaylistId,
    priority: Priority,
    at: Option<chrono::DateTime<chrono::Utc>>,
    who: &str,
) {
    store
        .request_broadcast(
            &loa::store::NewManualBroadcast {
                playlist,
                playlist_version: None,
                priority,
                at,
                requested_by: who.to_owned(),
            },
            chrono::Utc::now(),
        )
        .unwrap();
}

pub(crate) struct Station {
    pub(crate) _dir: tempfile::TempDir,
    pub(crate) config: Config,
    pub(crate) wav: std::path::PathBuf,
    pub(crate) playlist: loa::model::PlaylistId,
}

/// A station with three generated clips (a quiet 440 Hz, a loud 880 Hz, the quiet one
/// again) and a short 1 kHz chime, playing to a wav file.
pub(crate) fn station() -> Station {
    let dir = tempfile::tempdir().unwrap();
    let chime = dir.path().join("chime.wav");
    write_tone(&chime, 1000.0, 0.8, -20.0);
    let wav = dir.path().join("air.wav");
    let config_path = write_config(
        dir.path(),
        &format!(
            "[audio]\noutput = \"wav:{}\"\nchime = \"{}\"\ngap_seconds = 0.5\n\
             [schedule]\nwarm_up_seconds = 0.5\nhold_seconds = 1\nearliest = \"00:00\"\nlatest = \"23:59\"\n\
             require_clock_sync = false\n[panel]\nlisten = \"127.0.0.1:0\"\n\
             [[tokens]]\nname = \"automation\"\ntoken = \"{TOKEN}\"\n",
            wav.display(),
            chime.display()
        ),
    );
    let mut config = Config::load(&config_path).unwrap();
    config.schedule.rules = crate::support::all_day(config.schedule.rules);
    config.library.analyser_exe = Some(env!("CARGO_BIN_EXE_loa").into());
    let store = Store::open(&config.station.data_dir.join("loa.db")).unwrap();
    let media = loa::library::media_dir(&config.station.data_dir);
    let mut ids = Vec::new();
    for (name, freq, level) in [("quiet.wav", 440.0, -32.0), ("loud.wav", 880.0, -8.0)] {
        let p = dir.path().join(name);
        write_tone(&p, freq, 1.5, level);
        ids.push(
            loa::library::add_file(&store, &media, &p, name, chrono::Utc::now())
                .unwrap()
                .id,
        );
    }
    let playlist = store
        .create_playlist(
            "Khẩu hiệu Tháng hành động vì trẻ em 2026",
            &[ids[0], ids[1], ids[0]],
        )
        .unwrap()
        .id;
    Station {
        _dir: dir,
        config,
        wav,
        playlist,
    }
}

/// The running daemon: its address, engine handle, shutdown trigger and task.
pub(crate) type Running = (
    std::net::SocketAddr,
    EngineHandle,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<()>,
);

/// Starts the daemon with a clock that says it is synchronised.
pub(crate) async fn start(config: Config) -> Running {
    start_with_clock(
        config,
        Arc::new(SystemClock {
            assume_synchronised: true,
        }),
    )
    .await
}

/// Starts the daemon with `clock`; returns its address, engine handle, and the shutdown
/// trigger.
pub(crate) async fn start_with_clock(config: Config, clock: Arc<dyn loa::clock::Clock>) -> Running {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let spec = config.audio.output.clone();
    let format = OutputFormat {
        sample_rate: config.audio.sample_rate,
        channels: config.audio.channels,
    };
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
    let wiring = Wiring {
        config,
        listener,
        clock,
        output_factory: move || spec.open(format),
        shipped_media: Path::new(env!("CARGO_MANIFEST_DIR")).join("media"),
    };
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
    let handle = ready_rx.await.unwrap();
    (addr, handle, stop_tx, task)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broadcast_reaches_the_wav_output_normalised_in_order_with_gaps() {
    let s = station();
    assert!(matches!(s.config.audio.output, OutputSpec::Wav(_)));
    let store = Store::open(&s.config.station.data_dir.join("loa.db")).unwrap();
    let (_, _engine, stop, task) = start(s.config.clone()).await;
    request(&store, s.playlist, Priority::Normal, None, "test");
    // Wait for the log row to be finished.
    let mut row = None;
    for _ in 0..300 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let rows = store
            .log_between(
                chrono::Utc::now() - chrono::Duration::hours(1),
                chrono::Utc::now() + chrono::Duration::hours(1),
            )
            .unwrap();
        if let Some(r) = rows.into_iter().find(|r| r.ended_at.is_some()) {
            row = Some(r);
            break;
        }
    }
    let row = row.expect("the broadcast was logged within 30 s");
    let _ = stop.send(());
    task.await.unwrap();

    assert_eq!(row.outcome, Outcome::Played, "{row:?}");
    assert_eq!(row.clips.len(), 3);
    assert_eq!(row.clips[0].title, "quiet.wav");
    assert_eq!(row.clips[1].title, "loud.wav");
    assert!(
        row.clips[0].gain_db > 10.0 && row.clips[1].gain_db < 0.0,
        "{:?}",
        row.clips
    );
    // Play-now waits for the amplifier's warm-up, so the first sample is never early; how
    // late it is on a loaded machine is the latency benchmark's business, not a test's.
    let started = row
        .started_at
        .expect("the first sample's instant is logged");
    assert!(
        started >= row.scheduled_at,
        "first sample before its instant: {row:?}"
    );

    let (samples, ch, rate) = read_wav(&s.wav);
    assert_eq!((ch, rate), (2, 48_000));
    // The player puts the configured gap between clips and none next to a chime, so the
    // air is: chime+clip, gap, clip, gap, clip+chime — three runs of sound.
    let runs = sound_runs(&samples, ch, 4_800);
    assert_eq!(runs.len(), 3, "{runs:?}");
    let sec = |x: f64| (x * 48_000.0).round() as usize;
    let t0 = runs[0].0;
    // (start, length, frequency) of each item, laid out from the first sample.
    let layout = [
        (0.0, 0.8, 1000.0),
        (0.8, 1.5, 440.0),
        (2.8, 1.5, 880.0),
        (4.8, 1.5, 440.0),
        (6.3, 0.8, 1000.0),
    ];
    let total = sec(7.1);
    assert!(
        runs[2].1 - t0 >= total - 2 && runs[2].1 - t0 <= total + 2,
        "length {runs:?}"
    );
    let ceiling = 10f32.powf(-1.0 / 20.0);
    assert!(
        samples.iter().all(|s| s.abs() <= ceiling),
        "a sample exceeds the -1 dBTP ceiling"
    );
    for (i, &(at, len, freq)) in layout.iter().enumerate() {
        // Skip 10 ms at each edge (the generated tones start and end abruptly).
        let a = t0 + sec(at) + 480;
        let b = t0 + sec(at + len) - 480;
        let part = &samples[a * 2..b * 2];
        let f = tone_frequency(part, ch, rate);
        assert!(
            (f - freq).abs() < freq * 0.02,
            "item {i}: {f} Hz, want {freq}"
        );
        if freq != 1000.0 {
            let pcm = loa::decode::Pcm {
                sample_rate: rate,
                channels: ch,
                samples: part.to_vec(),
            };
            let l = loa::loudness::measure(&pcm).unwrap();
            assert!((l.integrated_lufs + 16.0).abs() <= 1.0, "item {i}: {l:?}");
        }
    }
    // The gaps are silent and 0.5 s long (runs are separated exactly there).
    for (w, gap_at) in runs.windows(2).zip([2.3, 4.3]) {
        // ±1 frame: a sine's first sample is zero, so the sound is seen to start one late.
        assert!(
            (w[0].1 - t0).abs_diff(sec(gap_at)) <= 1,
            "gap starts at {gap_at} s: {runs:?}"
        );
        assert!(
            (w[1].0 - w[0].1).abs_diff(sec(0.5)) <= 1,
            "gap of 0.5 s: {runs:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_keeps_its_contract() {
    let s = station();
    let (addr, _engine, stop, task) = start(s.config.clone()).await;

    let (code, body) = http(addr, "GET", "/healthz", "", "").await;
    assert!(code == 200 || code == 503, "{code}");
    assert!(body.contains("\"checks\""), "{body}");

    let (code, body) = http(addr, "GET", "/api/openapi.json", "", "").await;
    assert_eq!(code, 200);
    let doc: serde_json::Value = serde_json::from_str(&body).unwrap();
    let paths = doc["paths"].as_object().unwrap();
    for (method, path) in loa::panel::DOCUMENTED_ROUTES {
        assert!(
            paths.get(*path).and_then(|p| p.get(*method)).is_some(),
            "{method} {path} undocumented"
        );
    }
    let operations: usize = paths.values().map(|p| p.as_object().unwrap().len()).sum();
    assert_eq!(operations, loa::panel::DOCUMENTED_ROUTES.len());
    let auth = format!("Authorization: Bearer {TOKEN}\r\n");

    let (code, body) = http(
        addr,
        "GET",
        "/api/cron/preview?expr=0%2025%20*%20*%20*",
        &auth,
        "",
    )
    .await;
    assert_eq!(code, 400);
    let err: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(err["error"]["code"], "bad_request");
    assert!(
        err["error"]["message"].as_str().unwrap().contains("hour"),
        "{body}"
    );

    let (code, body) = http(
        addr,
        "GET",
        "/api/cron/preview?expr=0%206%20*%20*%20*&count=2",
        &auth,
        "",
    )
    .await;
    assert_eq!(code, 200, "{body}");
    let times: Vec<String> = serde_json::from_str(&body).unwrap();
    assert_eq!(times.len(), 2);
    assert!(times[0].ends_with("T06:00:00+07:00"), "{times:?}");

    let play = format!("{{\"playlist\": {}}}", s.playlist.0);
    let (code, body) = http(addr, "POST", "/api/broadcasts", "", &play).await;
    assert_eq!(code, 401, "{body}");
    assert!(body.contains("\"unauthorized\""), "{body}");
    let (code, _) = http(
        addr,
        "POST",
        "/api/broadcasts",
        "Authorization: Bearer wrong-token-000000\r\n",
        &play,
    )
    .await;
    assert_eq!(code, 401);
    let (code, body) = http(
        addr,
        "POST",
        "/api/broadcasts",
        &auth,
        "{\"playlist\": 999}",
    )
    .await;
    assert_eq!(code, 422, "{body}");
    assert!(body.contains("\"no_playlist\""), "{body}");
    let (code, body) = http(addr, "POST", "/api/broadcasts", &auth, &play).await;
    assert_eq!(code, 202, "{body}");
    let (code, _) = http(addr, "POST", "/api/broadcasts/stop", &auth, "").await;
    assert_eq!(code, 202);

    let (code, _) = http(addr, "GET", "/", "", "").await;
    assert_eq!(code, 303, "the dashboard needs a login");
    let (code, body) = http(addr, "GET", "/setup", "", "").await;
    assert_eq!(code, 200);
    assert!(
        body.contains("lang=\"vi\"") && body.contains("Tạo tài khoản"),
        "Vietnamese by default, first admin from the box itself"
    );
    let (_, body) = http(addr, "GET", "/setup?lang=en", "", "").await;
    assert!(
        body.contains("Create the first administrator"),
        "English switch"
    );

    let _ = stop.send(());
    task.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_accepted_one_shot_survives_a_restart() {
    let s = station();
    let (_, engine, stop, task) = start(s.config.clone()).await;
    let at = chrono::Utc::now() + chrono::Duration::hours(2);
    let store = Store::open(&s.config.station.data_dir.join("loa.db")).unwrap();
    request(
        &store,
        s.playlist,
        Priority::Priority,
        Some(at),
        "Tổ trưởng tổ dân phố",
    );
    let mut waiting = 0;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        waiting = engine.status().one_shots_waiting;
        if waiting == 1 {
            break;
        }
    }
    assert_eq!(waiting, 1);
    let _ = stop.send(());
    task.await.unwrap();

    let (_, engine, stop, task) = start(s.config.clone()).await;
    let mut waiting = 0;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        waiting = engine.status().one_shots_waiting;
        if waiting == 1 {
            break;
        }
    }
    let _ = stop.send(());
    task.await.unwrap();
    assert_eq!(waiting, 1, "the one-shot for {at} was lost in the restart");
}

/// A session for a new user of `role`, made straight in the store: `Cookie` and CSRF lines.
/// `now` is the daemon's clock, by which the session's expiry is judged.
pub(crate) fn session_headers(
    store: &Store,
    name: &str,
    role: loa::store::Role,
    now: chrono::DateTime<chrono::Utc>,
) -> String {
    let user = store.upsert_user(name, role, "unused-hash", now).unwrap();
    let secret = loa::accounts::new_secret();
    let csrf = loa::accounts::new_secret();
    store
        .create_session(
            &loa::accounts::secret_hash(&secret),
            user.id,
            &csrf,
            now,
            now + chrono::Duration::hours(1),
        )
        .unwrap();
    format!("Cookie: loa_session={secret}\r\nX-CSRF-Token: {csrf}\r\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_editors_broadcast_airs_only_after_approval_and_the_log_names_both() {
    let mut s = station();
    s.config.station.approval_required = true;
    let store = Store::open(&s.config.station.data_dir.join("loa.db")).unwrap();
    let editor = session_headers(&store, "hoa", loa::store::Role::Editor, chrono::Utc::now());
    let approver = session_headers(
        &store,
        "tuan",
        loa::store::Role::Approver,
        chrono::Utc::now(),
    );
    let (addr, _engine, stop, task) = start(s.config.clone()).await;
    let logged = || {
        store
            .log_between(
                chrono::Utc::now() - chrono::Duration::hours(1),
                chrono::Utc::now() + chrono::Duration::hours(1),
            )
            .unwrap()
    };

    let body = format!("{{\"playlist\": {}}}", s.playlist.0);
    let (status, reply) = http(addr, "POST", "/api/broadcasts", &editor, &body).await;
    assert_eq!(status, 202, "{reply}");
    let reply: serde_json::Value = serde_json::from_str(&reply).unwrap();
    assert_eq!(reply["status"], "waiting_for_approval");
    let id = reply["pending"]["id"].as_i64().unwrap();
    // Nothing airs while it waits (well past the 0.5 s warm-up it would have needed).
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(logged().is_empty(), "aired before approval");

    let (status, reply) = http(
        addr,
        "POST",
        &format!("/api/broadcasts/pending/{id}/approve"),
        &approver,
        "",
    )
    .await;
    assert_eq!(status, 202, "{reply}");
    let mut row = None;
    for _ in 0..300 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if let Some(r) = logged().into_iter().find(|r| r.ended_at.is_some()) {
            row = Some(r);
            break;
        }
    }
    let row = row.expect("the approved broadcast was logged within 30 s");
    let _ = stop.send(());
    task.await.unwrap();
    assert_eq!(row.outcome, Outcome::Played, "{row:?}");
    assert_eq!(
        row.origin,
        loa::model::Origin::Manual {
            requested_by: "hoa, approved by tuan".to_owned()
        }
    );
}
