//! Changes made while the daemon runs reach the air without a restart (journey: J06): the
//! real `loa serve` with a `wav:` output, driven over HTTP. A programme created airs at its
//! next firing; its playlist edited, the new clip airs; disabled, then deleted, it never
//! airs again — checked on the log and on the captured audio, tone by tone.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use loa::model::{Origin, Outcome};
use loa::store::Store;
use serde_json::{Value, json};

use crate::support::{free_port, loa, read_wav, request, tone_frequency, write_tone};

const TOKEN: &str = "on-air-token-0123456789";
/// Each clip is this long; a broadcast is one clip, no chime, so the captured audio is a
/// row of clips back to back.
const CLIP_SECONDS: f64 = 0.5;

struct Daemon {
    child: Child,
    addr: SocketAddr,
    wav: PathBuf,
    db: PathBuf,
}

impl Daemon {
    fn start(dir: &Path) -> Daemon {
        let port = free_port();
        let wav = dir.join("air.wav");
        let config = dir.join("loa.toml");
        std::fs::write(
            &config,
            format!(
                "[station]\ndata_dir = \"{}\"\n\
                 [audio]\noutput = \"wav:{}\"\nchime = \"\"\n\
                 [schedule]\nearliest = \"00:00\"\nlatest = \"23:59\"\nrequire_clock_sync = false\n\
                 warm_up_seconds = 0.1\nhold_seconds = 0.1\n\
                 [panel]\nlisten = \"127.0.0.1:{port}\"\n\
                 [[tokens]]\nname = \"automation\"\ntoken = \"{TOKEN}\"\n",
                dir.join("data").display(),
                wav.display(),
            ),
        )
        .unwrap();
        let child = loa()
            .args(["--config", config.to_str().unwrap(), "serve"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        let deadline = Instant::now() + Duration::from_secs(30);
        while call(addr, "GET", "/healthz", None).is_none() {
            assert!(Instant::now() < deadline, "loa serve did not answer");
            std::thread::sleep(Duration::from_millis(50));
        }
        Daemon {
            child,
            addr,
            wav,
            db: dir.join("data").join("loa.db"),
        }
    }

    fn api(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let (code, text) = call(self.addr, method, path, body).expect("the daemon answers");
        (code, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// Uploads a tone and returns its clip id.
    fn upload(&self, dir: &Path, name: &str, frequency: f64) -> i64 {
        let file = dir.join(name);
        write_tone(&file, frequency, CLIP_SECONDS, -20.0);
        let boundary = "loa-on-air-boundary";
        let mut body = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\
             Content-Type: audio/wav\r\n\r\n"
        )
        .into_bytes();
        body.extend(std::fs::read(&file).unwrap());
        body.extend(format!("\r\n--{boundary}--\r\n").into_bytes());
        let (code, text) = request(
            self.addr,
            TOKEN,
            "POST",
            "/api/clips",
            &format!("multipart/form-data; boundary={boundary}"),
            &body,
        )
        .unwrap();
        assert_eq!(code, 201, "{text}");
        serde_json::from_str::<Value>(&text).unwrap()["id"]
            .as_i64()
            .unwrap()
    }

    /// The programme's played log rows.
    fn played(&self, programme: i64) -> Vec<loa::model::LogEntry> {
        let store = Store::open(&self.db).unwrap();
        store
            .log_between(DateTime::UNIX_EPOCH, Utc::now() + chrono::Duration::days(1))
            .unwrap()
            .into_iter()
            .filter(|r| {
                r.origin
                    == Origin::Scheduled {
                        programme: loa::model::ProgrammeId(programme),
                    }
            })
            .filter(|r| r.outcome == Outcome::Played)
            .collect()
    }

    /// Waits (at most 15 s) until the programme has more than `n` played rows.
    fn wait_played_more_than(&self, programme: i64, n: usize) -> Vec<loa::model::LogEntry> {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let rows = self.played(programme);
            if rows.len() > n {
                return rows;
            }
            assert!(
                Instant::now() < deadline,
                "programme {programme} did not air within 15 s (played {n} times before)"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The frequency of each clip-long stretch of the captured audio, in order.
    fn aired_tones(&self) -> Vec<u32> {
        let (samples, channels, rate) = read_wav(&self.wav);
        let per_clip = (CLIP_SECONDS * f64::from(rate)) as usize * usize::from(channels);
        samples
            .chunks(per_clip)
            .filter(|c| c.len() == per_clip)
            .map(|c| (tone_frequency(c, channels, rate) / 10.0).round() as u32 * 10)
            .collect()
    }
}

fn call(addr: SocketAddr, method: &str, path: &str, body: Option<Value>) -> Option<(u16, String)> {
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    request(
        addr,
        TOKEN,
        method,
        path,
        "application/json",
        body.as_bytes(),
    )
}

#[test]
fn programme_changes_take_effect_on_the_air_without_a_restart() {
    // journey: J06
    let dir = tempfile::tempdir().unwrap();
    let mut d = Daemon::start(dir.path());
    let a = d.upload(dir.path(), "tong-dai-111.wav", 440.0);
    let b = d.upload(dir.path(), "tre-em-hanh-phuc.wav", 880.0);
    let (code, list) = d.api(
        "POST",
        "/api/playlists",
        Some(json!({"name": "Khẩu hiệu tháng 6", "items": [a]})),
    );
    assert_eq!(code, 201, "{list}");
    let playlist = list["id"].as_i64().unwrap();

    // Created while running: it airs at its next firing (every 3 seconds).
    let body = json!({"name": "Tháng hành động vì trẻ em", "cron": "*/3 * * * * *",
        "playlist": playlist, "chime": false});
    let (code, created) = d.api("POST", "/api/programmes", Some(body.clone()));
    assert_eq!(code, 201, "{created}");
    let programme = created["id"].as_i64().unwrap();
    let first = d.wait_played_more_than(programme, 0);
    assert_eq!(first[0].clips[0].title, "tong-dai-111", "{first:?}");

    // The playlist edited: the new clip airs from the next firing on.
    let (_, current) = d.api("GET", &format!("/api/playlists/{playlist}"), None);
    let (code, edited) = d.api(
        "PUT",
        &format!("/api/playlists/{playlist}/order"),
        Some(json!({"version": current["version"], "items": [b]})),
    );
    assert_eq!(code, 200, "{edited}");
    let edited_at = Utc::now();
    let mut rows = d.wait_played_more_than(programme, 0);
    while !rows
        .iter()
        .any(|r| r.started_at.is_some_and(|t| t > edited_at))
    {
        rows = d.wait_played_more_than(programme, rows.len());
    }
    let after_edit: Vec<_> = rows
        .iter()
        .filter(|r| r.started_at.is_some_and(|t| t > edited_at))
        .collect();
    assert!(
        after_edit
            .iter()
            .all(|r| r.clips[0].title == "tre-em-hanh-phuc"),
        "after the edit only the new clip airs: {after_edit:?}"
    );

    // Disabled: it stops airing.
    let mut changed = created.clone();
    changed["enabled"] = json!(false);
    let (code, disabled) = d.api(
        "PUT",
        &format!("/api/programmes/{programme}"),
        Some(changed),
    );
    assert_eq!(code, 200, "{disabled}");
    let disabled_at = Utc::now();
    std::thread::sleep(Duration::from_secs(7));
    let late: Vec<_> = d
        .played(programme)
        .into_iter()
        .filter(|r| r.scheduled_at > disabled_at)
        .collect();
    assert!(late.is_empty(), "a disabled programme aired: {late:?}");

    // Enabled again it airs; deleted it never airs again.
    let (code, _) = d.api(
        "PUT",
        &format!("/api/programmes/{programme}"),
        Some(created),
    );
    assert_eq!(code, 200);
    let before = d.played(programme).len();
    d.wait_played_more_than(programme, before);
    let (code, _) = d.api("DELETE", &format!("/api/programmes/{programme}"), None);
    assert_eq!(code, 204);
    let deleted_at = Utc::now();
    std::thread::sleep(Duration::from_secs(7));
    let rows = d.played(programme);
    assert!(
        rows.iter().all(|r| r.scheduled_at <= deleted_at),
        "a deleted programme aired: {rows:?}"
    );

    // The captured audio is exactly what the log says aired, in order: the first clip's
    // tone, then the second's, one clip per broadcast.
    let tones = d.aired_tones();
    let logged: Vec<u32> = rows
        .iter()
        .map(|r| if r.clips[0].clip.0 == a { 440 } else { 880 })
        .collect();
    let pid = rustix::process::Pid::from_raw(d.child.id() as i32).unwrap();
    rustix::process::kill_process(pid, rustix::process::Signal::TERM).unwrap();
    d.child.wait().unwrap();
    assert_eq!(tones, logged, "captured tones against the log");
    assert!(logged.contains(&440) && logged.contains(&880), "{logged:?}");
}
