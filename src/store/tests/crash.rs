//! The crash-safety test: a child process (this test binary, re-executed) writes to a file
//! database and acknowledges each commit on stdout; the parent SIGKILLs it at random
//! moments, reopens the file and checks that it is intact and holds every acknowledged
//! write. This proves atomic, consistent commits across process death; durability across
//! power loss rests on `synchronous=FULL` with WAL, which a kill cannot exercise.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime};

use chrono::{DateTime, TimeDelta, Utc};

use super::{at, new_clip, new_programme};
use crate::model::{ClipId, Origin, Outcome, PlaylistId, Priority, ProgrammeId};
use crate::store::{
    Approvals, LogEntryDraft, OccurrenceEnd, OccurrenceStart, PROVISIONAL_OUTCOME_DETAIL, Store,
    StoreError,
};

/// Set in the child's environment to `ROUND PATH`; its presence makes the test the child.
const CHILD_ENV: &str = "LOA_STORE_CRASH_CHILD";
/// Kill-and-reopen rounds.
const ROUNDS: u64 = 30;
/// Step numbers reserved per round, so that rounds never reuse a clip or an occurrence.
const STEPS_PER_ROUND: u64 = 1_000_000;
/// A child that is never killed stops after this long.
const CHILD_LIFETIME: Duration = Duration::from_secs(30);
/// The meta key the child counts in.
const META_KEY: &str = "crash.step";
/// The one playlist the child rewrites, and its one base clip.
const PLAYLIST: PlaylistId = PlaylistId(1);
const BASE_CLIP: ClipId = ClipId(1);

#[test]
fn acknowledged_writes_survive_sigkill() {
    if let Ok(spec) = std::env::var(CHILD_ENV) {
        let (round, path) = spec.split_once(' ').expect("ROUND PATH");
        run_child(round.parse().expect("round number"), Path::new(path));
    }
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("loa.db");
    let programme = {
        let store = Store::open(&path).unwrap();
        let clip = store.insert_clip(&new_clip(0)).unwrap().clip;
        assert_eq!(clip.id, BASE_CLIP);
        let playlist = store.create_playlist("Crash", &items_for(1)).unwrap();
        assert_eq!(playlist.id, PLAYLIST);
        store
            .create_programme(&new_programme(playlist.id))
            .unwrap()
            .id
    };
    let seed = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    let mut rng = XorShift(seed);
    let mut acked = Acked::default();
    let mut killed_before_first_ack = 0;
    for round in 0..ROUNDS {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .arg(test_name())
            .args(["--exact", "--nocapture", "--test-threads=1"])
            .env(CHILD_ENV, format!("{round} {}", path.display()))
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        // One round in six is killed at once, while the child may still be opening.
        if rng.below(6) == 0 {
            killed_before_first_ack += 1;
            std::thread::sleep(Duration::from_micros(rng.below(20_000)));
        } else {
            let first = rx
                .recv_timeout(Duration::from_secs(20))
                .expect("the child acknowledges a first write");
            acked.note(&first);
            std::thread::sleep(Duration::from_micros(rng.below(120_000)));
        }
        child.kill().unwrap();
        let status = child.wait().unwrap();
        assert!(
            status.code().is_none(),
            "the child was killed, not finished"
        );
        reader.join().unwrap();
        for line in rx.try_iter() {
            acked.note(&line);
        }
        acked.settled += verify(&path, programme, &acked, round);
    }
    let elapsed = started.elapsed();
    eprintln!(
        "crash test: seed {seed}, {ROUNDS} SIGKILL rounds ({killed_before_first_ack} before the \
         first ack), {} acked writes ({} clips, playlist at version {}, {} log rows, {} finishes, \
         {} meta), {} provisional rows settled, all present after reopen, {:.1} s",
        acked.total,
        acked.clips.len(),
        acked.playlist_version,
        acked.logged.len(),
        acked.finished.len(),
        acked.meta_writes,
        acked.settled,
        elapsed.as_secs_f64()
    );
    assert!(acked.total >= ROUNDS, "the children acknowledged writes");
}

/// What the children acknowledged so far.
#[derive(Default)]
struct Acked {
    total: u64,
    clips: BTreeSet<u64>,
    playlist_version: i64,
    /// Occurrences recorded or started, by step.
    logged: BTreeSet<u64>,
    finished: BTreeSet<u64>,
    meta: Option<u64>,
    meta_writes: u64,
    settled: usize,
}

impl Acked {
    fn note(&mut self, line: &str) {
        let Some(ack) = line.strip_prefix("ack ") else {
            return;
        };
        let (kind, n) = ack.split_once(' ').expect("ack KIND N");
        let n: u64 = n.parse().expect("ack number");
        self.total += 1;
        match kind {
            "clip" => _ = self.clips.insert(n),
            "playlist" => self.playlist_version = self.playlist_version.max(n as i64),
            "logged" => _ = self.logged.insert(n),
            "finished" => _ = self.finished.insert(n),
            "meta" => {
                self.meta = Some(n);
                self.meta_writes += 1;
            }
            other => panic!("unknown ack {other:?}"),
        }
    }
}

/// Reopens the database as the engine would, checks every acknowledged write and returns
/// how many provisional rows it settled.
fn verify(path: &Path, programme: ProgrammeId, acked: &Acked, round: u64) -> usize {
    let store = Store::open(path).unwrap();
    store.check_integrity().unwrap();
    let clips: BTreeSet<String> = store
        .clips()
        .unwrap()
        .into_iter()
        .map(|c| c.sha256)
        .collect();
    for n in &acked.clips {
        assert!(
            clips.contains(&new_clip(*n).sha256),
            "round {round}: clip {n} lost"
        );
    }
    let playlist = store.playlist(PLAYLIST).unwrap();
    assert!(
        playlist.version >= acked.playlist_version,
        "round {round}: playlist version {} < acked {}",
        playlist.version,
        acked.playlist_version
    );
    assert_eq!(playlist.items, items_for(playlist.version), "round {round}");
    let settled = store.settle_unfinished().unwrap();
    for entry in &settled {
        assert_eq!(
            entry.outcome,
            Outcome::Failed(PROVISIONAL_OUTCOME_DETAIL.to_owned())
        );
    }
    let log: BTreeMap<DateTime<Utc>, _> = store
        .log_between(instant(0), instant(ROUNDS * STEPS_PER_ROUND))
        .unwrap()
        .into_iter()
        .map(|e| (e.scheduled_at, e))
        .collect();
    for n in &acked.logged {
        assert!(
            log.contains_key(&instant(*n)),
            "round {round}: occurrence {n} lost"
        );
    }
    for n in &acked.finished {
        assert_eq!(
            log[&instant(*n)].outcome,
            Outcome::Played,
            "round {round}: {n}"
        );
    }
    if let Some(&last) = acked.logged.last() {
        let again = store.record(&draft(programme, last));
        assert!(matches!(again, Err(StoreError::AlreadyLogged { .. })));
    }
    if let Some(n) = acked.meta {
        let stored: u64 = store.meta(META_KEY).unwrap().unwrap().parse().unwrap();
        assert!(stored >= n, "round {round}: meta {stored} < acked {n}");
    }
    settled.len()
}

/// The child: writes in a loop, acknowledging each commit, until it is killed.
fn run_child(round: u64, path: &Path) -> ! {
    let store = Store::open(path).expect("the child opens the store");
    let programme = store.programmes().unwrap()[0].id;
    let mut version = store.playlist(PLAYLIST).unwrap().version;
    let mut out = std::io::stdout().lock();
    let mut ack = |kind: &str, n: u64| {
        writeln!(out, "ack {kind} {n}").unwrap();
        out.flush().unwrap();
    };
    let deadline = Instant::now() + CHILD_LIFETIME;
    for step in 1..STEPS_PER_ROUND {
        if Instant::now() > deadline {
            break;
        }
        let n = round * STEPS_PER_ROUND + step;
        store.insert_clip(&new_clip(n)).unwrap();
        ack("clip", n);
        version = store
            .replace_playlist_items(
                PLAYLIST,
                version,
                &items_for(version + 1),
                Approvals::Withdraw,
            )
            .map(|c| c.value)
            .unwrap()
            .version;
        ack("playlist", version as u64);
        if n.is_multiple_of(2) {
            store.record(&draft(programme, n)).unwrap();
            ack("logged", n);
        } else {
            let id = store
                .start_occurrence(&OccurrenceStart {
                    origin: Origin::Scheduled { programme },
                    priority: Priority::Normal,
                    scheduled_at: instant(n),
                    started_at: instant(n),
                    rule_broken: None,
                    request: None,
                })
                .unwrap();
            ack("logged", n);
            let end = OccurrenceEnd {
                started_at: Some(instant(n)),
                ended_at: Some(instant(n) + TimeDelta::seconds(30)),
                clips: Vec::new(),
                outcome: Outcome::Played,
            };
            store.finish_occurrence(id, &end).unwrap();
            ack("finished", n);
        }
        store.set_meta(META_KEY, &n.to_string()).unwrap();
        ack("meta", n);
    }
    std::process::exit(0);
}

/// This test's name as libtest filters it (without the crate name).
fn test_name() -> String {
    let module = module_path!().split_once("::").map_or("", |(_, rest)| rest);
    format!("{module}::acknowledged_writes_survive_sigkill")
}

/// The playlist's items at `version`: the base clip, 1 to 7 times.
fn items_for(version: i64) -> Vec<ClipId> {
    vec![BASE_CLIP; (version % 7 + 1) as usize]
}

/// The scheduled instant of step `n`: one minute per step from 2026-01-01.
fn instant(n: u64) -> DateTime<Utc> {
    let minutes = i64::try_from(n).unwrap();
    at("2026-01-01T00:00:00Z") + TimeDelta::minutes(minutes)
}

/// A missed occurrence of step `n`.
fn draft(programme: ProgrammeId, n: u64) -> LogEntryDraft {
    LogEntryDraft {
        origin: Origin::Scheduled { programme },
        priority: Priority::Normal,
        scheduled_at: instant(n),
        started_at: None,
        ended_at: None,
        clips: Vec::new(),
        outcome: Outcome::Missed("crash test".to_owned()),
        rule_broken: None,
        request: None,
    }
}

/// A tiny xorshift generator; its seed is printed with the summary.
struct XorShift(u64);

impl XorShift {
    fn below(&mut self, bound: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % bound
    }
}
