//! Power-cut safety: the real `loa serve` binary is killed with SIGKILL at random moments
//! while the API is driven (uploads, playlist edits, play-now broadcasts, stops) and a
//! programme fires every two seconds; after each kill the state is checked, and the next
//! start must find it whole.
//!
//! After every kill: the database passes `PRAGMA integrity_check`; every acknowledged
//! playlist edit is stored (an edit in flight at the kill is either wholly there or wholly
//! absent); every acknowledged upload has its row and complete original, and the upload in
//! flight is wholly there or absent ([`uploads`]); no scheduled occurrence is in the log
//! twice. After every start: the first thing written to the relay is "off", and the
//! start-up sweep has removed every upload leftover and orphan original. The default suite runs `LOA_FAULT_ROUNDS` rounds (default 15);
//! `scripts/fault-test.sh` and `.ci/run` run 120. `LOA_FAULT_SEED` replays a run.

use std::collections::HashMap;
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use loa::cron::CronExpr;
use loa::model::{ClashRule, ClipId, Origin, PlaylistId, Priority};
use loa::store::{NewProgramme, Store};

use crate::support::{loa, write_tone};

mod owed;
mod uploads;

use uploads::KnownClips;

const TOKEN: &str = "fault-test-token-0123456789";

/// A small xorshift generator: no dependency, and a printed seed replays a run.
pub(super) struct Rng(pub(super) u64);

impl Rng {
    pub(super) fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    pub(super) fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// One HTTP/1.1 JSON request; `None` when the connection fails (the daemon died).
pub(super) fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: &str,
) -> Option<(u16, String)> {
    request(addr, method, path, "application/json", body.as_bytes())
}

/// One HTTP/1.1 request with the bearer token; `None` when the connection fails.
fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    content_type: &str,
    body: &[u8],
) -> Option<(u16, String)> {
    crate::support::request(addr, TOKEN, method, path, content_type, body)
}

pub(super) fn free_port() -> u16 {
    crate::support::free_port()
}

/// A station with three short clips, a playlist, and a programme every two seconds.
pub(super) struct Station {
    pub(super) dir: tempfile::TempDir,
    pub(super) playlist: PlaylistId,
    clips: Vec<ClipId>,
    /// The station's own clips by SHA-256.
    shas: HashMap<String, ClipId>,
}

impl Station {
    pub(super) fn new() -> Station {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let store = Store::open(&data.join("loa.db")).unwrap();
        let media = loa::library::media_dir(&data);
        let mut clips = Vec::new();
        let mut shas = HashMap::new();
        for (i, title) in [
            "Tổng đài 111",
            "Trẻ em hạnh phúc",
            "Bảo vệ trẻ em trên mạng",
        ]
        .iter()
        .enumerate()
        {
            let wav = dir.path().join(format!("clip-{i}.wav"));
            write_tone(&wav, 440.0 + 110.0 * i as f64, 0.4, -20.0);
            let clip = loa::library::add_file(&store, &media, &wav, title, Utc::now()).unwrap();
            shas.insert(clip.sha256, clip.id);
            clips.push(clip.id);
        }
        let playlist = store
            .create_playlist("Bản tin sáng", &clips[..2])
            .unwrap()
            .id;
        store
            .create_programme(&NewProgramme {
                name: "Tháng hành động vì trẻ em".to_owned(),
                cron: CronExpr::parse("*/2 * * * * *").unwrap(),
                playlist,
                campaign: None,
                dates: None,
                priority: Priority::Normal,
                clash: ClashRule::Queue {
                    max_wait: Duration::from_secs(2),
                },
                repeat: 1,
                repeat_pause: Duration::from_secs(0),
                chime: false,
                enabled: true,
                approved: true,
            })
            .unwrap();
        Station {
            dir,
            playlist,
            clips,
            shas,
        }
    }

    pub(super) fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn relay_file(&self) -> PathBuf {
        self.dir.path().join("relay.log")
    }

    /// Writes the config for a daemon on `port`.
    fn config(&self, port: u16) -> PathBuf {
        let path = self.dir.path().join("loa.toml");
        let relay = self.relay_file();
        std::fs::write(
            &path,
            format!(
                "[station]\ndata_dir = \"{}\"\n\
                 [audio]\noutput = \"null\"\nchime = \"\"\ngap_seconds = 0.1\n\
                 [schedule]\nearliest = \"00:00\"\nlatest = \"23:59\"\ncatch_up_minutes = 0.05\n\
                 warm_up_seconds = 0.1\nhold_seconds = 0.1\nrequire_clock_sync = false\n\
                 [amp]\nrelay = \"command\"\non_command = \"echo on >> {r}\"\n\
                 off_command = \"echo off >> {r}\"\n\
                 [panel]\nlisten = \"127.0.0.1:{port}\"\n\
                 [[tokens]]\nname = \"fault-test\"\ntoken = \"{TOKEN}\"\n",
                self.data().display(),
                r = relay.display(),
            ),
        )
        .unwrap();
        path
    }

    /// Starts `loa serve` and waits until its panel answers; checks the relay went off first.
    pub(super) fn start(&self, round: usize) -> (Child, SocketAddr) {
        let port = free_port();
        let config = self.config(port);
        append(&self.relay_file(), &format!("start {round}\n"));
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.path().join("serve.log"))
            .unwrap();
        let child = loa()
            .args(["--config", config.to_str().unwrap(), "serve"])
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        let deadline = Instant::now() + Duration::from_secs(30);
        while http(addr, "GET", "/healthz", "").is_none() {
            assert!(
                Instant::now() < deadline,
                "round {round}: the daemon did not answer within 30 s: {}",
                self.serve_log_tail()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        let relay = std::fs::read_to_string(self.relay_file()).unwrap();
        let after_start = relay
            .rsplit_once(&format!("start {round}\n"))
            .map(|x| x.1)
            .unwrap();
        assert_eq!(
            after_start.lines().next(),
            Some("off"),
            "round {round}: the relay must be switched off first on start: {after_start:?}"
        );
        (child, addr)
    }

    /// The start-up sweep left no upload leftover (checked before anything is driven).
    fn check_swept(&self, round: usize) {
        let store = Store::open(&self.data().join("loa.db")).unwrap();
        uploads::check_swept(&store, &self.data(), round);
    }

    pub(super) fn serve_log_tail(&self) -> String {
        let log = std::fs::read_to_string(self.dir.path().join("serve.log")).unwrap_or_default();
        log.lines().rev().take(20).collect::<Vec<_>>().join("\n")
    }
}

fn append(path: &Path, text: &str) {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
}

/// The playlist as the test knows it: acknowledged, and the edit in flight if any.
#[derive(Debug, Clone)]
struct Known {
    version: i64,
    items: Vec<ClipId>,
    in_flight: Option<Vec<ClipId>>,
}

/// What the daemon was made to do in one round.
#[derive(Debug, Default)]
struct Tally {
    acked_uploads: u64,
    duplicate_uploads: u64,
    acked_edits: u64,
    conflicts: u64,
    broadcasts: u64,
}

/// Drives the API until the daemon dies; returns when a request fails.
fn drive(
    addr: SocketAddr,
    station: &Station,
    known: &mut Known,
    clips: &mut KnownClips,
    rng: &mut Rng,
    tally: &mut Tally,
) {
    loop {
        std::thread::sleep(Duration::from_millis(rng.below(40)));
        match rng.below(24) {
            20..=23 => {
                // An upload: mostly new content, sometimes a re-upload of an earlier file.
                let reupload = (rng.below(4) == 0).then(|| rng.next());
                let file = clips.next_file(station.dir.path(), reupload);
                let (content_type, body) = uploads::multipart(&file, rng.next());
                if !clips.acked.contains_key(&file.sha256) {
                    clips.in_flight = Some(file.sha256.clone());
                }
                let Some((code, body)) = request(addr, "POST", "/api/clips", &content_type, &body)
                else {
                    return;
                };
                tally.acked_uploads += 1;
                if uploads::acknowledged(clips, &file, code, &body) {
                    tally.duplicate_uploads += 1;
                }
            }
            0..=11 => {
                let pool = clips.ids(&station.clips);
                let n = 1 + rng.below(5) as usize;
                let items: Vec<ClipId> = (0..n)
                    .map(|_| pool[rng.below(pool.len() as u64) as usize])
                    .collect();
                let body = serde_json::json!({
                    "version": known.version,
                    "items": items.iter().map(|c| c.0).collect::<Vec<_>>(),
                })
                .to_string();
                known.in_flight = Some(items.clone());
                let path = format!("/api/playlists/{}/order", station.playlist);
                let Some((code, body)) = http(addr, "PUT", &path, &body) else {
                    return;
                };
                assert_eq!(code, 200, "{body}");
                let stored: serde_json::Value = serde_json::from_str(&body).unwrap();
                assert_eq!(stored["version"], known.version + 1, "{body}");
                known.version += 1;
                known.items = items;
                known.in_flight = None;
                tally.acked_edits += 1;
            }
            12..=13 => {
                // A stale edit: refused with the current order, and nothing changes.
                let body =
                    serde_json::json!({"version": known.version - 1, "items": []}).to_string();
                let path = format!("/api/playlists/{}/order", station.playlist);
                let Some((code, body)) = http(addr, "PUT", &path, &body) else {
                    return;
                };
                assert_eq!(code, 409, "{body}");
                let v: serde_json::Value = serde_json::from_str(&body).unwrap();
                assert_eq!(v["error"]["code"], "version_conflict", "{body}");
                assert_eq!(v["current"]["version"], known.version, "{body}");
                tally.conflicts += 1;
            }
            14..=17 => {
                let body = format!("{{\"playlist\": {}}}", station.playlist);
                let Some((code, body)) = http(addr, "POST", "/api/broadcasts", &body) else {
                    return;
                };
                assert_eq!(code, 202, "{body}");
                tally.broadcasts += 1;
            }
            18 => std::thread::sleep(Duration::from_millis(300)),
            _ => {
                if http(addr, "POST", "/api/broadcasts/stop", "").is_none() {
                    return;
                }
            }
        }
    }
}

/// The checks after a kill, with the daemon dead. Updates `known` to what is stored.
fn check_after_kill(station: &Station, known: &mut Known, clips: &mut KnownClips, round: usize) {
    let store = Store::open(&station.data().join("loa.db")).unwrap();
    store
        .check_integrity()
        .unwrap_or_else(|e| panic!("round {round}: integrity_check failed: {e}"));
    let stored = store.playlist(station.playlist).unwrap();
    let acked = stored.version == known.version && stored.items == known.items;
    let in_flight_committed =
        stored.version == known.version + 1 && known.in_flight.as_ref() == Some(&stored.items);
    assert!(
        acked || in_flight_committed,
        "round {round}: lost or torn playlist edit: stored {stored:?}, known {known:?}"
    );
    known.version = stored.version;
    known.items = stored.items;
    known.in_flight = None;
    // Every acknowledged upload is there, whole; the one in flight is there or absent.
    uploads::check_after_kill(&store, &station.data(), &station.shas, clips, round);
    // No scheduled occurrence is logged twice.
    let mut seen: HashMap<(i64, DateTime<Utc>), u32> = HashMap::new();
    let log = store
        .log_between(DateTime::UNIX_EPOCH, Utc::now() + chrono::Duration::days(1))
        .unwrap();
    for e in &log {
        if let Origin::Scheduled { programme } = e.origin {
            *seen.entry((programme.0, e.scheduled_at)).or_default() += 1;
        }
    }
    let twice: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "round {round}: logged twice: {twice:?}");
}

#[test]
fn sigkill_at_random_moments_loses_no_acknowledged_write_and_plays_nothing_twice() {
    let rounds: usize = std::env::var("LOA_FAULT_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(15);
    let seed: u64 = std::env::var("LOA_FAULT_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            u64::from(
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .subsec_nanos(),
            ) | 1
        });
    println!("fault test: {rounds} rounds, LOA_FAULT_SEED={seed}");
    let mut rng = Rng(seed);
    let station = Station::new();
    let mut known = Known {
        version: 1,
        items: station.clips[..2].to_vec(),
        in_flight: None,
    };
    let mut tally = Tally::default();
    let mut clips = KnownClips::default();
    let mut kills = 0;
    for round in 0..rounds {
        let (mut child, addr) = station.start(round);
        station.check_swept(round);
        let pid = rustix::process::Pid::from_raw(child.id() as i32).unwrap();
        let delay = Duration::from_millis(50 + rng.below(2500));
        let killer = std::thread::spawn(move || {
            std::thread::sleep(delay);
            rustix::process::kill_process(pid, rustix::process::Signal::KILL)
        });
        drive(addr, &station, &mut known, &mut clips, &mut rng, &mut tally);
        killer.join().unwrap().unwrap();
        let status = child.wait().unwrap();
        assert_eq!(
            std::os::unix::process::ExitStatusExt::signal(&status),
            Some(9),
            "round {round}: the daemon exited by itself: {}",
            station.serve_log_tail()
        );
        kills += 1;
        // A relay command the daemon had started may still be finishing.
        std::thread::sleep(Duration::from_millis(30));
        check_after_kill(&station, &mut known, &mut clips, round);
    }
    // A last clean start finds it all whole, settles the broadcasts cut by kills, and a
    // clean stop leaves the relay off.
    let (mut child, _addr) = station.start(rounds);
    station.check_swept(rounds);
    std::thread::sleep(Duration::from_millis(300));
    let pid = rustix::process::Pid::from_raw(child.id() as i32).unwrap();
    rustix::process::kill_process(pid, rustix::process::Signal::TERM).unwrap();
    let status = child.wait().unwrap();
    assert!(
        status.success(),
        "a clean stop exits 0, not {status}: {}",
        station.serve_log_tail()
    );
    check_after_kill(&station, &mut known, &mut clips, rounds);
    station.check_swept(rounds);
    let relay = std::fs::read_to_string(station.relay_file()).unwrap();
    assert_eq!(
        relay.lines().last(),
        Some("off"),
        "relay left on after a clean stop"
    );
    let store = Store::open(&station.data().join("loa.db")).unwrap();
    let log = store
        .log_between(DateTime::UNIX_EPOCH, Utc::now() + chrono::Duration::days(1))
        .unwrap();
    let mut outcomes: HashMap<String, u32> = HashMap::new();
    for e in &log {
        let origin = match e.origin {
            Origin::Scheduled { .. } => "scheduled",
            Origin::Manual { .. } => "manual",
        };
        *outcomes
            .entry(format!("{origin} {}", e.outcome.code()))
            .or_default() += 1;
    }
    println!(
        "fault test: {kills} kills, 0 failures; {} acknowledged uploads ({} of them \
         re-uploads of known content, {} clips in the library), uploads in flight at a kill: \
         {} stored whole, {} absent; {} leftovers found after kills, all swept at the next \
         start; {} acknowledged playlist edits, {} conflicts answered 409, {} play-now \
         requests; playlist at version {}; log outcomes {outcomes:?}; relay switched on {} \
         times",
        tally.acked_uploads,
        tally.duplicate_uploads,
        store.clips().unwrap().len(),
        clips.in_flight_kept,
        clips.in_flight_absent,
        clips.leftovers,
        tally.acked_edits,
        tally.conflicts,
        tally.broadcasts,
        known.version,
        relay.lines().filter(|l| *l == "on").count()
    );
    assert!(tally.acked_edits > 0, "the test drove no edits");
    assert!(tally.acked_uploads > 0, "the test drove no uploads");
}
