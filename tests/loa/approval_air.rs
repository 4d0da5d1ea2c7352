//! What airs under approval, on the whole daemon (real HTTP on a port-0 listener, the wav
//! output captured): an editor's broadcast airs only once approved, and only what was
//! approved — an approved one-shot whose playlist an editor changes afterwards is logged
//! skipped ("approval withdrawn") and its new clip never reaches the output; a programme
//! whose campaign an editor widens stops airing (skipped "awaiting approval") until an
//! approver approves it again.

use std::time::Duration;

use chrono::Utc;
use loa::model::{ClipId, LogEntry, Origin, Outcome};
use loa::store::{Role, Store};
use serde_json::{Value, json};

use crate::daemon::{http, session_headers, start, station};
use crate::support::{read_wav, tone_frequency, write_tone};

/// The editor's own clip, a 1760 Hz tone no approved playlist holds.
const EDITORS_HZ: f64 = 1760.0;

fn editors_clip(store: &Store, s: &crate::daemon::Station) -> ClipId {
    let path = s.config.station.data_dir.join("../quang-cao.wav");
    write_tone(&path, EDITORS_HZ, 1.0, -20.0);
    let media = loa::library::media_dir(&s.config.station.data_dir);
    loa::library::add_file(store, &media, &path, "quang-cao.wav", Utc::now())
        .unwrap()
        .id
}

fn log(store: &Store) -> Vec<LogEntry> {
    store
        .log_between(
            Utc::now() - chrono::Duration::hours(1),
            Utc::now() + chrono::Duration::hours(1),
        )
        .unwrap()
}

/// Waits up to `secs` for a finished log row that `want` picks.
async fn wait_for(store: &Store, secs: u64, want: impl Fn(&LogEntry) -> bool) -> LogEntry {
    for _ in 0..secs * 10 {
        if let Some(r) = log(store)
            .into_iter()
            .find(|r| (r.ended_at.is_some() || r.started_at.is_none()) && want(r))
        {
            return r;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no such log row within {secs} s: {:#?}", log(store));
}

/// The tone frequencies heard on the output, one per 0.2 s of sound (±5 Hz).
fn heard(wav: &std::path::Path) -> Vec<f64> {
    let (samples, ch, rate) = read_wav(wav);
    let frames = rate as usize / 5;
    samples
        .chunks(frames * usize::from(ch))
        .filter(|w| w.iter().filter(|s| s.abs() > 1e-3).count() * 10 > w.len() * 9)
        .map(|w| tone_frequency(w, ch, rate))
        .collect()
}

fn has(freqs: &[f64], hz: f64) -> bool {
    freqs.iter().any(|f| (f - hz).abs() < hz * 0.03)
}

async fn call(
    addr: std::net::SocketAddr,
    who: &str,
    method: &str,
    path: &str,
    body: Value,
) -> (u16, Value) {
    let text = if body.is_null() {
        String::new()
    } else {
        body.to_string()
    };
    let (status, reply) = http(addr, method, path, who, &text).await;
    (
        status,
        serde_json::from_str(&reply).unwrap_or(Value::String(reply)),
    )
}

/// An editor asks for `playlist`, at `at` if given; returns the held request's id.
async fn held(
    addr: std::net::SocketAddr,
    editor: &str,
    playlist: i64,
    at: Option<chrono::DateTime<Utc>>,
) -> i64 {
    let mut body = json!({"playlist": playlist});
    if let Some(at) = at {
        body["at"] = json!(at.to_rfc3339());
    }
    let (status, reply) = call(addr, editor, "POST", "/api/broadcasts", body).await;
    assert_eq!(status, 202, "{reply}");
    assert_eq!(reply["status"], "waiting_for_approval");
    reply["pending"]["id"].as_i64().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_editor_changing_the_playlist_of_an_approved_one_shot_does_not_get_it_aired() {
    let mut s = station();
    s.config.station.approval_required = true;
    let store = Store::open(&s.config.station.data_dir.join("loa.db")).unwrap();
    let editors = editors_clip(&store, &s);
    let editor = session_headers(&store, "hoa", Role::Editor, chrono::Utc::now());
    let approver = session_headers(&store, "tuan", Role::Approver, chrono::Utc::now());
    let (addr, _engine, stop, task) = start(s.config.clone()).await;
    let list = s.playlist.0;

    let id = held(
        addr,
        &editor,
        list,
        Some(Utc::now() + chrono::Duration::seconds(4)),
    )
    .await;
    let path = format!("/api/broadcasts/pending/{id}/approve");
    let (status, reply) = call(
        addr,
        &approver,
        "POST",
        &path,
        json!({"playlist_version": 1}),
    )
    .await;
    assert_eq!(status, 202, "{reply}");
    // After approval, the editor swaps the playlist's clips for their own.
    let path = format!("/api/playlists/{list}/order");
    let body = json!({"version": 1, "items": [editors.0]});
    let (status, reply) = call(addr, &editor, "PUT", &path, body).await;
    assert_eq!(status, 200, "{reply}");

    let row = wait_for(&store, 20, |r| matches!(r.origin, Origin::Manual { .. })).await;
    let _ = stop.send(());
    task.await.unwrap();
    match &row.outcome {
        Outcome::Skipped(reason) => assert!(reason.contains("approval withdrawn"), "{reason}"),
        other => panic!("the changed one-shot must not air: {other:?}"),
    }
    assert!(row.clips.is_empty());
    assert!(
        !has(&heard(&s.wav), EDITORS_HZ),
        "the editor's clip reached the output"
    );
}

// journey: J08
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn j08_an_editors_request_airs_only_after_approval_and_exactly_what_was_approved() {
    let mut s = station();
    s.config.station.approval_required = true;
    let store = Store::open(&s.config.station.data_dir.join("loa.db")).unwrap();
    let editors = editors_clip(&store, &s);
    let editor = session_headers(&store, "hoa", Role::Editor, chrono::Utc::now());
    let approver = session_headers(&store, "tuan", Role::Approver, chrono::Utc::now());
    let admin = session_headers(&store, "lan", Role::Admin, chrono::Utc::now());
    let (addr, _engine, stop, task) = start(s.config.clone()).await;
    let list = s.playlist.0;

    // 1. An editor's play-now waits; nothing airs until an approver, shown the clips,
    //    approves it; then exactly that plays.
    let id = held(addr, &editor, list, None).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(log(&store).is_empty(), "aired before approval");
    let (_, page) = http(addr, "GET", "/broadcast", &approver, "").await;
    assert!(
        page.contains("quiet.wav")
            && page.contains("loud.wav")
            && page.contains("name=\"version\" value=\"1\""),
        "the approver sees the clips: {page}"
    );
    let path = format!("/api/broadcasts/pending/{id}/approve");
    let (status, reply) = call(
        addr,
        &approver,
        "POST",
        &path,
        json!({"playlist_version": 1}),
    )
    .await;
    assert_eq!(status, 202, "{reply}");
    let played = wait_for(&store, 30, |r| r.outcome == Outcome::Played).await;
    let titles: Vec<&str> = played.clips.iter().map(|c| c.title.as_str()).collect();
    assert_eq!(titles, ["quiet.wav", "loud.wav", "quiet.wav"]);

    // 2. An approved one-shot, then the editor puts their clip in its playlist: it does
    //    not air ("approval withdrawn").
    let id = held(
        addr,
        &editor,
        list,
        Some(Utc::now() + chrono::Duration::seconds(4)),
    )
    .await;
    let path = format!("/api/broadcasts/pending/{id}/approve");
    assert_eq!(
        call(
            addr,
            &approver,
            "POST",
            &path,
            json!({"playlist_version": 1})
        )
        .await
        .0,
        202
    );
    let path = format!("/api/playlists/{list}/order");
    let (status, _) = call(
        addr,
        &editor,
        "PUT",
        &path,
        json!({"version": 1, "items": [editors.0]}),
    )
    .await;
    assert_eq!(status, 200);
    let skipped = wait_for(&store, 20, |r| matches!(&r.outcome, Outcome::Skipped(_))).await;
    assert!(
        skipped.outcome.detail().contains("approval withdrawn"),
        "{skipped:?}"
    );

    // 3. The admin's programme in a campaign airs; the editor widens the campaign: it is
    //    skipped "awaiting approval" until the approver approves it again.
    let quiet = played.clips[0].clip.0;
    let (_, bulletin) = call(
        addr,
        &admin,
        "POST",
        "/api/playlists",
        json!({"name": "Tổng đài 111", "items": [quiet]}),
    )
    .await;
    let today = Utc::now()
        .with_timezone(&s.config.station.time_zone)
        .date_naive();
    let dates = |days| json!({"start": today.to_string(), "end": (today + chrono::Duration::days(days)).to_string()});
    let (_, campaign) = call(
        addr,
        &admin,
        "POST",
        "/api/campaigns",
        json!({"name": "Tháng hành động vì trẻ em", "dates": dates(1)}),
    )
    .await;
    let body = json!({"name": "Bản tin 111", "cron": "*/3 * * * * *", "playlist": bulletin["id"], "campaign": campaign["id"], "chime": false});
    let (status, programme) = call(addr, &admin, "POST", "/api/programmes", body).await;
    assert_eq!(status, 201, "{programme}");
    assert_eq!(programme["approval"]["state"], "approved");
    let pid = programme["id"].as_i64().unwrap();
    let ours = move |r: &LogEntry| matches!(r.origin, Origin::Scheduled { programme } if programme.0 == pid);
    // The engine follows the store: nobody tells it of the new programme.
    wait_for(&store, 15, |r| ours(r) && r.outcome == Outcome::Played).await;

    let path = format!("/api/campaigns/{}", campaign["id"]);
    let body = json!({"name": "Tháng hành động vì trẻ em", "dates": dates(30)});
    assert_eq!(call(addr, &editor, "PUT", &path, body).await.0, 200);
    let path = format!("/api/programmes/{pid}");
    let (_, now) = call(addr, &editor, "GET", &path, Value::Null).await;
    assert_eq!(now["approval"]["state"], "needs_reapproval", "{now}");
    let (_, page) = http(addr, "GET", "/programmes", &approver, "").await;
    assert!(page.contains("Cần duyệt lại"), "{page}");
    let first_skip = wait_for(&store, 15, |r| {
        ours(r) && r.outcome == Outcome::Skipped("awaiting approval".to_owned())
    })
    .await;

    let path = format!("/api/programmes/{pid}/approval");
    let body = json!({"approved": true, "content": now["approval"]["content"]});
    let (status, reply) = call(addr, &approver, "POST", &path, body).await;
    assert_eq!(status, 200, "{reply}");
    let approved_at = Utc::now();
    wait_for(&store, 15, |r| {
        ours(r) && r.outcome == Outcome::Played && r.scheduled_at > approved_at
    })
    .await;
    let (_, audit) = call(addr, &admin, "GET", "/api/audit", Value::Null).await;
    let actions: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for want in [
        "broadcast.hold",
        "broadcast.approve",
        "programme.approval_withdrawn",
        "programme.approve",
    ] {
        assert!(actions.contains(&want), "{want} in {actions:?}");
    }
    let _ = stop.send(());
    task.await.unwrap();

    // Between the withdrawal and the new approval the programme never aired.
    for r in log(&store).iter().filter(|r| ours(r)) {
        if r.scheduled_at >= first_skip.scheduled_at && r.scheduled_at <= approved_at {
            assert_eq!(
                r.outcome,
                Outcome::Skipped("awaiting approval".to_owned()),
                "{r:?}"
            );
        }
    }
    // The air held the approved clips and never the editor's.
    let freqs = heard(&s.wav);
    assert!(
        has(&freqs, 440.0) && has(&freqs, 880.0),
        "the approved content aired: {freqs:?}"
    );
    assert!(
        !has(&freqs, EDITORS_HZ),
        "the editor's clip reached the output"
    );
}
