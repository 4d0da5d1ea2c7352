//! Journey J07 against the whole daemon (in-process, real HTTP, `wav:` output captured), on
//! a clock set just before the station's quiet hours: play now, an emergency that cuts in
//! (heard in the captured audio), one broadcast at a later time, then — inside quiet
//! hours — requests that cannot air refused with the rule and no log row, an emergency
//! that breaks quiet hours and is logged as such, and stop.
// journey: J07

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use loa::config::Config;
use loa::model::{LogEntry, Outcome};
use loa::store::Store;

use crate::daemon::{http, start_with_clock};
use crate::support::{OffsetClock, read_wav, tone_frequency, write_config, write_tone};

const TOKEN: &str = "journey-token-0123456789";
const TZ: chrono_tz::Tz = chrono_tz::Asia::Ho_Chi_Minh;

/// Today at `h:m:s` station time.
fn today_at(h: u32, m: u32, s: u32) -> DateTime<Utc> {
    let day = Utc::now().with_timezone(&TZ).date_naive();
    TZ.from_local_datetime(&day.and_hms_opt(h, m, s).unwrap())
        .unwrap()
        .to_utc()
}

/// What the captured air sounds like, in 100 ms steps (zero crossings count a step's
/// frequency to within 10 Hz): the tone's frequency rounded to a known one (1000 chime,
/// 440 bulletin, 880 alert), 0 for silence; steps that straddle two sounds are left out. Consecutive equal steps are merged into (sound, seconds).
fn air_timeline(wav: &std::path::Path) -> Vec<(u32, f64)> {
    let (samples, ch, rate) = read_wav(wav);
    let step = (rate / 10) as usize * usize::from(ch);
    let mut out: Vec<(u32, f64)> = Vec::new();
    for part in samples.chunks_exact(step) {
        let sound = if part.iter().all(|s| s.abs() < 1e-3) {
            Some(0)
        } else {
            let f = tone_frequency(part, ch, rate);
            [440.0, 880.0, 1000.0]
                .into_iter()
                .find(|k| (f - k).abs() < k * 0.05)
                .map(|k| k as u32)
        };
        match (sound, out.last_mut()) {
            (Some(s), Some((last, secs))) if *last == s => *secs += 0.1,
            (Some(s), _) => out.push((s, 0.1)),
            (None, _) => {}
        }
    }
    out
}

async fn post(addr: std::net::SocketAddr, path: &str, body: &str) -> (u16, serde_json::Value) {
    let auth = format!("Authorization: Bearer {TOKEN}\r\n");
    let (code, text) = http(addr, "POST", path, &auth, body).await;
    (code, serde_json::from_str(&text).unwrap_or_default())
}

/// Waits until `done` holds for the log (up to 40 s).
async fn wait_log(store: &Store, done: impl Fn(&[LogEntry]) -> bool) -> Vec<LogEntry> {
    for _ in 0..400 {
        let rows = store
            .log_between(
                Utc::now() - chrono::Duration::days(3),
                Utc::now() + chrono::Duration::days(3),
            )
            .unwrap();
        if done(&rows) {
            return rows;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the log never got there");
}

fn finished(rows: &[LogEntry], n: usize) -> bool {
    rows.len() == n && rows.iter().all(|r| r.ended_at.is_some())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn j07_play_now_emergency_cut_in_one_shot_refusals_and_stop() {
    let dir = tempfile::tempdir().unwrap();
    let (chime, wav) = (dir.path().join("chime.wav"), dir.path().join("air.wav"));
    write_tone(&chime, 1000.0, 0.6, -20.0);
    let config = write_config(
        dir.path(),
        &format!(
            "[audio]\noutput = \"wav:{}\"\nchime = \"{}\"\ngap_seconds = 0.3\n\
             [schedule]\nwarm_up_seconds = 0.5\nhold_seconds = 1\nearliest = \"05:00\"\n\
             latest = \"21:30\"\nquiet_hours = [\"12:00-13:30\"]\n\
             [panel]\nlisten = \"127.0.0.1:0\"\n[[tokens]]\nname = \"automation\"\ntoken = \"{TOKEN}\"\n",
            wav.display(),
            chime.display()
        ),
    );
    let config = Config::load(&config).unwrap();
    let store = Store::open(&config.station.data_dir.join("loa.db")).unwrap();
    let media = loa::library::media_dir(&config.station.data_dir);
    let playlist = |name: &str, freq: f64, secs: f64| {
        let file = dir.path().join(format!("{name}.wav"));
        write_tone(&file, freq, secs, -18.0);
        let clip = loa::library::add_file(&store, &media, &file, name, Utc::now()).unwrap();
        store.create_playlist(name, &[clip.id]).unwrap().id.0
    };
    let bulletin = playlist("Bản tin Tháng hành động vì trẻ em", 440.0, 6.0);
    let alert = playlist("Cảnh báo bão số 3", 880.0, 1.5);
    let empty = store.create_playlist("Chưa có bản tin", &[]).unwrap().id.0;

    // A minute and a half before quiet hours, the clock synchronised.
    let clock = Arc::new(OffsetClock::starting_at(today_at(11, 58, 30), true));
    let (addr, engine, stop, task) = start_with_clock(config, clock.clone()).await;

    // Play now: sent, and it goes on air.
    let (code, body) = post(
        addr,
        "/api/broadcasts",
        &format!("{{\"playlist\": {bulletin}}}"),
    )
    .await;
    assert_eq!(
        (code, body["status"].as_str()),
        (202, Some("sent")),
        "{body}"
    );
    for _ in 0..100 {
        if engine.status().on_air.is_some_and(|a| a.clip == 1) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(engine.status().on_air.is_some(), "the bulletin went on air");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    // An emergency cuts in.
    let asked_at = clock_now(&clock);
    let (code, body) = post(
        addr,
        "/api/broadcasts",
        &format!("{{\"playlist\": {alert}, \"priority\": \"emergency\"}}"),
    )
    .await;
    assert_eq!(
        (code, body["status"].as_str()),
        (202, Some("sent")),
        "{body}"
    );
    let rows = wait_log(&store, |r| finished(r, 2)).await;
    assert!(
        matches!(rows[0].outcome, Outcome::Interrupted(_)),
        "{:?}",
        rows[0]
    );
    assert_eq!(rows[1].outcome, Outcome::Played, "{:?}", rows[1]);
    assert_eq!(
        rows[1].rule_broken, None,
        "before quiet hours it breaks nothing"
    );
    let emergency_started = rows[1].started_at.unwrap();

    // One broadcast at a later time: it airs at its instant, not before.
    let at = clock_now(&clock) + chrono::Duration::seconds(4);
    let (code, body) = post(
        addr,
        "/api/broadcasts",
        &format!("{{\"playlist\": {alert}, \"at\": \"{}\"}}", at.to_rfc3339()),
    )
    .await;
    assert_eq!(
        (code, body["status"].as_str()),
        (202, Some("sent")),
        "{body}"
    );
    let rows = wait_log(&store, |r| finished(r, 3)).await;
    assert_eq!(rows[2].outcome, Outcome::Played, "{:?}", rows[2]);
    assert_eq!(
        rows[2].scheduled_at.timestamp_millis(),
        at.timestamp_millis()
    );
    assert!(rows[2].started_at.unwrap() >= at, "{:?}", rows[2]);

    // Into quiet hours. What cannot air is refused with the rule, and leaves no row.
    clock.jump(today_at(12, 0, 30) - clock_now(&clock));
    let refusals = [
        (format!("{{\"playlist\": {bulletin}}}"), 409, "quiet_hours"),
        (
            format!(
                "{{\"playlist\": {bulletin}, \"priority\": \"priority\", \"at\": \"{}\"}}",
                today_at(22, 0, 0).to_rfc3339()
            ),
            409,
            "after_latest",
        ),
        (
            format!("{{\"playlist\": {empty}, \"priority\": \"emergency\"}}"),
            422,
            "empty_playlist",
        ),
    ];
    for (request, status, code) in refusals {
        let (got, body) = post(addr, "/api/broadcasts", &request).await;
        assert_eq!(
            (got, body["error"]["code"].as_str()),
            (status, Some(code)),
            "{body}"
        );
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        wait_log(&store, |r| finished(r, 3)).await.len(),
        3,
        "no row for a refusal"
    );

    // An emergency breaks quiet hours, and the log says so; stop cuts it off.
    let (code, body) = post(
        addr,
        "/api/broadcasts",
        &format!("{{\"playlist\": {bulletin}, \"priority\": \"emergency\"}}"),
    )
    .await;
    assert_eq!(
        (code, body["status"].as_str()),
        (202, Some("sent")),
        "{body}"
    );
    for _ in 0..100 {
        if engine.status().on_air.is_some_and(|a| a.clip == 1) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let (code, _) = post(addr, "/api/broadcasts/stop", "").await;
    assert_eq!(code, 202);
    let rows = wait_log(&store, |r| finished(r, 4)).await;
    let _ = stop.send(());
    task.await.unwrap();
    assert_eq!(
        rows[3].rule_broken.as_deref(),
        Some("quiet hours 12:00-13:30"),
        "{:?}",
        rows[3]
    );
    assert_eq!(
        rows[3].outcome,
        Outcome::Interrupted("stopped by token:automation".to_owned())
    );

    // The air, as the amplifier got it.
    let air = air_timeline(&wav);
    let sounds: Vec<(u32, f64)> = air.iter().copied().filter(|(s, _)| *s != 0).collect();
    let kinds: Vec<u32> = sounds.iter().map(|(s, _)| *s).collect();
    assert_eq!(
        kinds,
        [1000, 440, 880, 1000, 880, 1000, 440],
        "chime + bulletin cut by the alert (no chime); the one-shot with chimes; the \
         emergency bulletin, stopped: {air:?}"
    );
    let (bulletin_heard, alert_heard, stopped_heard) = (sounds[1].1, sounds[2].1, sounds[6].1);
    assert!(
        (1.2..4.5).contains(&bulletin_heard),
        "the bulletin was cut after about 1.5 s of its 6: {air:?}"
    );
    assert!(
        (1.3..1.7).contains(&alert_heard),
        "the whole alert: {air:?}"
    );
    assert!(stopped_heard < 4.0, "stopped well before its end: {air:?}");
    // The cut is immediate (the wav keeps no idle time, so this is read from the log):
    // within the relay's warm-up and the clips' decoding, which in a debug build on a
    // loaded 2-core machine take up to about a second.
    let cut = emergency_started - asked_at;
    assert!(
        cut < chrono::Duration::milliseconds(2000),
        "the emergency started {cut} after it was asked for"
    );
}

fn clock_now(clock: &OffsetClock) -> DateTime<Utc> {
    loa::clock::Clock::now(clock)
}
