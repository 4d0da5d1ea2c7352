//! A month of the demo campaign on a fake clock: the engine core driven by a simulated
//! player, with an emergency, clashes, rule violations, downtime and clock jumps. Every
//! single occurrence's outcome is asserted.

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Tz;
use loa::cron::CronExpr;
use loa::demo;
use loa::engine::core::{CoreSettings, Effects, EngineCore, Job, ManualRequest, PlayEnd};
use loa::model::{
    Campaign, CampaignId, ClashRule, DateRange, OccurrenceKey, Origin, Outcome, PlaylistId,
    Priority, Programme, ProgrammeId,
};
use loa::schedule::{QuietHours, Station, StationRules};

const TZ: Tz = chrono_tz::Asia::Ho_Chi_Minh;

/// Local time in the station zone on a June 2026 day.
fn at(day: u32, h: u32, m: u32, s: u32) -> DateTime<Utc> {
    TZ.with_ymd_and_hms(2026, 6, day, h, m, s).unwrap().to_utc()
}

/// One line of the simulated broadcast log.
#[derive(Debug, Clone, PartialEq)]
struct Row {
    origin: Origin,
    scheduled: DateTime<Utc>,
    started: Option<DateTime<Utc>>,
    outcome: Outcome,
    rule_broken: Option<String>,
}

/// The simulated world: a ledger standing in for the database, a player that takes the
/// playlist's length, and a relay.
struct World {
    log: Vec<Row>,
    logged: HashSet<OccurrenceKey>,
    playing: Option<(Job, DateTime<Utc>, DateTime<Utc>)>,
    stop_requested: bool,
    relay_on: bool,
    relay_switches: Vec<(DateTime<Utc>, bool)>,
    /// The player thread is lost: it never reports the current broadcast's end.
    player_lost: bool,
}

impl World {
    fn playlist_seconds(playlist: PlaylistId) -> i64 {
        // Chimes (2 s each) plus clips; long enough for clashes to matter.
        match playlist.0 {
            0 => 4 + 21,
            1 => 4 + 28,
            2 => 4 + 16,
            // A long provincial relay, 20 minutes.
            _ => 1200,
        }
    }
}

impl Effects for World {
    fn is_logged(&self, key: &OccurrenceKey) -> bool {
        self.logged.contains(key)
    }

    fn relay(&mut self, on: bool, now: DateTime<Utc>) {
        assert_ne!(
            self.relay_on, on,
            "relay switched to the state it already had at {now}"
        );
        self.relay_on = on;
        self.relay_switches.push((now, on));
    }

    fn start(&mut self, job: &Job, now: DateTime<Utc>) -> Result<Duration, String> {
        assert!(self.playing.is_none(), "two broadcasts at once at {now}");
        assert!(
            self.relay_on,
            "broadcast started with the relay off at {now}"
        );
        if let Some(key) = job.key {
            assert!(self.logged.insert(key), "occurrence {key:?} started twice");
        }
        let secs = World::playlist_seconds(job.playlist) * i64::from(job.repeat)
            + job.repeat_pause.as_secs() as i64 * i64::from(job.repeat - 1);
        self.playing = Some((job.clone(), now, now + chrono::Duration::seconds(secs)));
        self.stop_requested = false;
        Ok(Duration::from_secs(secs as u64))
    }

    fn stop(&mut self) {
        self.stop_requested = true;
    }

    fn log_unplayed(&mut self, job: &Job, outcome: Outcome, _now: DateTime<Utc>) {
        if let Some(key) = job.key {
            assert!(self.logged.insert(key), "occurrence {key:?} logged twice");
        }
        self.log.push(Row {
            origin: job.origin.clone(),
            scheduled: job.scheduled_at,
            started: None,
            outcome,
            rule_broken: job.rule_broken.clone(),
        });
    }

    fn log_finished(&mut self, job: &Job, outcome: Outcome, _now: DateTime<Utc>) {
        let (_, started, _) = self.playing.take().expect("finished while nothing played");
        self.player_lost = false;
        self.log.push(Row {
            origin: job.origin.clone(),
            scheduled: job.scheduled_at,
            started: Some(started),
            outcome,
            rule_broken: job.rule_broken.clone(),
        });
    }
}

/// Something that happens to the box at an instant of the simulation's real time.
enum Event {
    Request(ManualRequest),
    Stop,
    /// The box is off from now until the given instant (kill, power cut).
    Down(DateTime<Utc>),
    /// The wall clock is set to this instant (NTP step); real time goes on.
    ClockJump(DateTime<Utc>),
    /// The clock loses (false) or regains (true) synchronisation.
    Sync(bool),
    /// The amplifier's watchdog cuts the relay.
    RelayCut,
    /// The player stops reporting (its thread died).
    LosePlayer,
}

fn station_programmes() -> (Vec<Programme>, Vec<Campaign>) {
    let campaign = Campaign {
        id: CampaignId(1),
        name: demo::CAMPAIGN_NAME.to_owned(),
        theme: demo::CAMPAIGN_THEME.to_owned(),
        dates: demo::campaign_dates(),
    };
    let mut programmes: Vec<Programme> = demo::programmes()
        .into_iter()
        .filter(|d| d.in_campaign)
        .enumerate()
        .map(|(i, d)| Programme {
            id: ProgrammeId(i as i64 + 1),
            name: d.name.to_owned(),
            cron: CronExpr::parse(d.cron).unwrap(),
            playlist: PlaylistId(d.playlist as i64),
            campaign: Some(campaign.id),
            dates: d.dates,
            priority: d.priority,
            clash: d.clash,
            repeat: d.repeat,
            repeat_pause: d.repeat_pause,
            chime: true,
            enabled: true,
            approved: d.approved,
        })
        .collect();
    let day = |d| {
        Some(DateRange {
            start: chrono::NaiveDate::from_ymd_opt(2026, 6, d).unwrap(),
            end: chrono::NaiveDate::from_ymd_opt(2026, 6, d).unwrap(),
        })
    };
    // 5: a 20-minute provincial relay at 06:00 on 5 June, priority, cut-in: clashes with the
    //    morning session (which queues behind it, then gives up after 10 minutes).
    // 6: an early notice at 04:30 on 7–8 June: breaks the earliest-time rule, skipped.
    // 7: a notice at 12:15 on 9 June: inside the noon quiet hours, skipped.
    let extra = [
        (
            5,
            "Tiếp sóng Đài Phát thanh tỉnh",
            "0 6 5 6 *",
            3,
            Priority::Priority,
            ClashRule::CutIn,
            day(5),
        ),
        (
            6,
            "Thông báo sớm",
            "30 4 * * *",
            0,
            Priority::Normal,
            ClashRule::CutIn,
            Some(DateRange {
                start: chrono::NaiveDate::from_ymd_opt(2026, 6, 7).unwrap(),
                end: chrono::NaiveDate::from_ymd_opt(2026, 6, 8).unwrap(),
            }),
        ),
        (
            7,
            "Thông báo buổi trưa",
            "15 12 9 6 *",
            2,
            Priority::Normal,
            ClashRule::CutIn,
            day(9),
        ),
    ];
    for (id, name, cron, playlist, priority, clash, dates) in extra {
        programmes.push(Programme {
            id: ProgrammeId(id),
            name: name.to_owned(),
            cron: CronExpr::parse(cron).unwrap(),
            playlist: PlaylistId(playlist),
            campaign: Some(campaign.id),
            dates,
            priority,
            clash,
            repeat: 1,
            repeat_pause: Duration::ZERO,
            chime: true,
            enabled: true,
            approved: true,
        });
    }
    (programmes, vec![campaign])
}

fn rules() -> StationRules {
    StationRules {
        earliest: chrono::NaiveTime::from_hms_opt(5, 30, 0).unwrap(),
        latest: chrono::NaiveTime::from_hms_opt(21, 0, 0).unwrap(),
        quiet_hours: vec![QuietHours {
            from: chrono::NaiveTime::from_hms_opt(11, 30, 0).unwrap(),
            to: chrono::NaiveTime::from_hms_opt(13, 30, 0).unwrap(),
        }],
        max_session: Duration::from_secs(15 * 60),
    }
}

fn settings() -> CoreSettings {
    CoreSettings {
        catch_up: Duration::from_secs(15 * 60),
        warm_up: Duration::from_secs(3),
        hold: Duration::from_secs(5),
        max_session: Duration::from_secs(15 * 60),
        manual_max_wait: Duration::from_secs(30 * 60),
        prepare_lead: Duration::from_secs(30),
    }
}

fn manual(priority: Priority, playlist: i64, at: Option<DateTime<Utc>>) -> Event {
    Event::Request(ManualRequest {
        playlist: PlaylistId(playlist),
        priority,
        at,
        requested_by: "cán bộ trực".to_owned(),
        approved_playlist_version: None,
    })
}

/// Runs the simulation from `start` to `end` (real time) and returns the world.
fn simulate(
    events: Vec<(DateTime<Utc>, Event)>,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> World {
    let (programmes, campaigns) = station_programmes();
    let rules = rules();
    let station = Station {
        programmes: &programmes,
        campaigns: &campaigns,
        rules: &rules,
        tz: TZ,
        approval_required: true,
    };
    let mut world = World {
        log: Vec::new(),
        logged: HashSet::new(),
        playing: None,
        stop_requested: false,
        relay_on: false,
        relay_switches: Vec::new(),
        player_lost: false,
    };
    let mut events: BTreeMap<DateTime<Utc>, Vec<Event>> =
        events.into_iter().fold(BTreeMap::new(), |mut m, (t, e)| {
            m.entry(t).or_default().push(e);
            m
        });
    // Real time drives the simulation; the wall clock is real time plus an offset.
    let mut real = start;
    let mut offset = chrono::Duration::zero();
    let mut synced = true;
    let mut core = Some(EngineCore::new(settings(), Some(start)));
    let mut persisted = Some(start);
    let mut steps = 0;
    while real < end {
        steps += 1;
        assert!(steps < 100_000, "simulation does not progress at {real}");
        let wall = real + offset;
        for ev in events.remove(&real).unwrap_or_default() {
            match ev {
                Event::Request(req) => {
                    if let Some(c) = core.as_mut() {
                        c.request(req, wall, &station, &mut world);
                    }
                }
                Event::Stop => {
                    if let Some(c) = core.as_mut() {
                        c.stop("cán bộ trực", wall, &mut world);
                    }
                }
                Event::Down(until) => {
                    // A kill: whatever played is cut without a word; on a real box the
                    // provisional log row says so. The relay is off (the amp module's
                    // drop/watchdog guarantee).
                    core = None;
                    if let Some((job, started, _)) = world.playing.take() {
                        world.log.push(Row {
                            origin: job.origin,
                            scheduled: job.scheduled_at,
                            started: Some(started),
                            outcome: Outcome::Failed("interrupted by power loss".to_owned()),
                            rule_broken: job.rule_broken,
                        });
                    }
                    if world.relay_on {
                        world.relay_on = false;
                        world.relay_switches.push((wall, false));
                    }
                    events.entry(until).or_default().push(Event::Sync(synced));
                    real = until;
                }
                Event::ClockJump(to) => offset = to - real,
                Event::RelayCut => {
                    world.relay_on = false;
                    world.relay_switches.push((wall, false));
                    if let Some(c) = core.as_mut() {
                        c.relay_cut(&mut world);
                    }
                }
                Event::LosePlayer => world.player_lost = true,
                Event::Sync(s) => {
                    synced = s;
                    core.get_or_insert_with(|| EngineCore::new(settings(), persisted));
                }
            }
        }
        let wall = real + offset;
        let Some(c) = core.as_mut() else {
            real = events.keys().next().copied().unwrap_or(end);
            continue;
        };
        loop {
            // The simulated player ends on time, or at once when asked to stop.
            if let Some((_, _, ends)) = world.playing.as_ref().filter(|_| !world.player_lost) {
                if world.stop_requested || *ends <= wall {
                    let how = if world.stop_requested {
                        PlayEnd::Stopped
                    } else {
                        PlayEnd::Completed
                    };
                    c.finished(how, wall, &station, &mut world);
                }
            }
            c.tick(wall, synced, &station, &mut world);
            if !(world.playing.is_some() && world.stop_requested && !world.player_lost) {
                break;
            }
        }
        persisted = c.checked_until();
        // Next real instant of interest: the core's wake, the player's end, the next event.
        let mut next = end;
        if let Some(w) = c.next_wake(wall, &station) {
            next = next.min(w - offset);
        }
        if let Some((_, _, ends)) = world.playing.as_ref().filter(|_| !world.player_lost) {
            next = next.min(*ends - offset);
        }
        if let Some((&t, _)) = events.iter().next() {
            next = next.min(t);
        }
        real = next.max(real + chrono::Duration::seconds(1));
    }
    world
}

/// The scenario: a month with every kind of trouble.
fn june_events() -> Vec<(DateTime<Utc>, Event)> {
    vec![
        // 3 June: an emergency during the afternoon session cuts it.
        (at(3, 17, 0, 10), manual(Priority::Emergency, 2, None)),
        // 10 June: a normal play-now after the latest hour is refused; an emergency is not.
        (at(10, 23, 0, 0), manual(Priority::Normal, 0, None)),
        (at(10, 23, 5, 0), manual(Priority::Emergency, 2, None)),
        // 12 June: two hours of downtime over the morning session, then a short one over
        // the afternoon session (caught up, once).
        (at(12, 5, 0, 0), Event::Down(at(12, 7, 0, 0))),
        (at(12, 16, 50, 0), Event::Down(at(12, 17, 10, 0))),
        // 14 June: a 20-minute priority one-shot at 11:15 is cut by the session limit at
        // 11:30; a play-now asked for at 11:25 waits for the air, which frees inside the
        // noon quiet hours: the rule is checked at the real start, so it is skipped.
        (
            at(14, 11, 0, 0),
            manual(Priority::Priority, 3, Some(at(14, 11, 15, 0))),
        ),
        (at(14, 11, 25, 0), manual(Priority::Normal, 0, None)),
        // 15 June: the clock jumps a day forward at 10:00, and back at 10:30.
        (at(15, 10, 0, 0), Event::ClockJump(at(16, 10, 0, 0))),
        (at(15, 10, 30, 0), Event::ClockJump(at(15, 10, 30, 0))),
        // 16 June: the amplifier's watchdog cuts the relay during the afternoon session.
        (at(16, 17, 0, 10), Event::RelayCut),
        // 19 June: the player thread dies during the morning session.
        (at(19, 6, 0, 5), Event::LosePlayer),
        // 18 June: the clock loses synchronisation over the morning session; a manual
        // play-now still airs; the morning session plays late once the clock is back.
        (at(18, 5, 0, 0), Event::Sync(false)),
        (at(18, 5, 40, 0), manual(Priority::Normal, 2, None)),
        (at(18, 6, 5, 0), Event::Sync(true)),
        // 20 June: the operator stops the morning session.
        (at(20, 6, 0, 20), Event::Stop),
        // 22 June: a one-shot for 08:00, asked for at 07:00.
        (
            at(22, 7, 0, 0),
            manual(Priority::Priority, 1, Some(at(22, 8, 0, 0))),
        ),
        // 25 June: the power fails during the morning session; it is not replayed.
        (at(25, 6, 0, 30), Event::Down(at(25, 6, 2, 0))),
    ]
}

fn expected_scheduled() -> BTreeMap<(i64, DateTime<Utc>), (&'static str, &'static str)> {
    let mut want = BTreeMap::new();
    for day in 1..=30 {
        want.insert((1, at(day, 6, 0, 0)), ("played", ""));
        want.insert((2, at(day, 17, 0, 0)), ("played", ""));
    }
    let mut set = |p: i64, t, outcome, detail| {
        want.insert((p, t), (outcome, detail));
    };
    set(3, at(1, 9, 0, 0), "played", "");
    set(
        2,
        at(3, 17, 0, 0),
        "interrupted",
        "cut in by an emergency broadcast",
    );
    set(
        5,
        at(5, 6, 0, 0),
        "partial",
        "session limit of 15 min reached",
    );
    set(
        1,
        at(5, 6, 0, 0),
        "skipped",
        "air busy: waited 10 min, the queue limit",
    );
    set(
        6,
        at(7, 4, 30, 0),
        "skipped",
        "before earliest broadcast time 05:30",
    );
    set(
        6,
        at(8, 4, 30, 0),
        "skipped",
        "before earliest broadcast time 05:30",
    );
    set(7, at(9, 12, 15, 0), "skipped", "quiet hours 11:30-13:30");
    set(
        1,
        at(12, 6, 0, 0),
        "missed",
        "box down or clock wrong (60 min late)",
    );
    set(
        2,
        at(15, 17, 0, 0),
        "missed",
        "box down or clock wrong (1020 min late)",
    );
    set(
        1,
        at(16, 6, 0, 0),
        "missed",
        "box down or clock wrong (240 min late)",
    );
    set(1, at(20, 6, 0, 0), "interrupted", "stopped by cán bộ trực");
    set(
        2,
        at(16, 17, 0, 0),
        "partial",
        "the amplifier relay was cut after its maximum on time",
    );
    set(
        1,
        at(19, 6, 0, 0),
        "failed",
        "the player did not report the end of the broadcast",
    );
    set(1, at(25, 6, 0, 0), "failed", "interrupted by power loss");
    set(4, at(28, 9, 30, 0), "skipped", "awaiting approval");
    want
}

#[test]
fn a_month_of_the_demo_campaign_with_every_kind_of_trouble() {
    let clock = std::time::Instant::now();
    let world = simulate(
        june_events(),
        at(1, 0, 0, 0) - chrono::Duration::hours(12),
        at(30, 23, 59, 0) + chrono::Duration::hours(12),
    );
    let elapsed = clock.elapsed();

    let mut got = BTreeMap::new();
    let mut manual_rows = Vec::new();
    for row in &world.log {
        match &row.origin {
            Origin::Scheduled { programme } => {
                let previous = got.insert(
                    (programme.0, row.scheduled),
                    (row.outcome.code(), row.outcome.detail().to_owned()),
                );
                assert!(previous.is_none(), "occurrence logged twice: {row:?}");
            }
            Origin::Manual { .. } => manual_rows.push(row.clone()),
        }
    }
    let want = expected_scheduled();
    for (key, (outcome, detail)) in &want {
        let got_row = got
            .get(key)
            .unwrap_or_else(|| panic!("no log row for programme {} at {}", key.0, key.1));
        assert_eq!(
            (got_row.0, got_row.1.as_str()),
            (*outcome, *detail),
            "programme {} at {}",
            key.0,
            key.1.with_timezone(&TZ)
        );
    }
    let extra: Vec<_> = got.keys().filter(|k| !want.contains_key(k)).collect();
    assert!(extra.is_empty(), "unexpected occurrences logged: {extra:?}");

    // The late plays: 12 June afternoon at 17:10, 18 June morning at 06:05, each after
    // the relay's 3 s warm-up (the relay was off: box down, clock unsynchronised).
    let started = |p: i64, t| {
        world
            .log
            .iter()
            .find(|r| {
                r.origin
                    == Origin::Scheduled {
                        programme: ProgrammeId(p),
                    }
                    && r.scheduled == t
            })
            .and_then(|r| r.started)
    };
    assert_eq!(started(2, at(12, 17, 0, 0)), Some(at(12, 17, 10, 3)));
    assert_eq!(started(1, at(18, 6, 0, 0)), Some(at(18, 6, 5, 3)));
    // On time when nothing is wrong; the morning session on 5 June never started.
    assert_eq!(started(1, at(2, 6, 0, 0)), Some(at(2, 6, 0, 0)));
    assert_eq!(started(1, at(5, 6, 0, 0)), None);

    // Manual broadcasts: emergency on 3 June, refused normal and airing emergency on 10 June
    // (which says which rule it broke), the play-now while unsynchronised, the one-shot.
    let summary: Vec<(DateTime<Utc>, &str, Option<&str>)> = manual_rows
        .iter()
        .map(|r| (r.scheduled, r.outcome.code(), r.rule_broken.as_deref()))
        .collect();
    assert_eq!(
        summary,
        vec![
            (at(3, 17, 0, 10), "played", None),
            (at(10, 23, 0, 0), "skipped", None),
            (
                at(10, 23, 5, 0),
                "played",
                Some("after latest broadcast time 21:00")
            ),
            (at(14, 11, 15, 0), "partial", None),
            (at(14, 11, 25, 0), "skipped", None),
            (at(18, 5, 40, 0), "played", None),
            (at(22, 8, 0, 0), "played", None),
        ]
    );
    assert_eq!(
        manual_rows[1].outcome.detail(),
        "after latest broadcast time 21:00"
    );
    assert_eq!(
        manual_rows[3].outcome.detail(),
        "session limit of 15 min reached"
    );
    assert_eq!(manual_rows[4].outcome.detail(), "quiet hours 11:30-13:30");

    // The relay: on 3 s before the first broadcast, off at the end, never left on.
    assert!(
        world.relay_switches.contains(&(at(1, 5, 59, 57), true)),
        "warm-up before 06:00 on 1 June"
    );
    assert!(
        world.relay_switches.contains(&(at(1, 6, 1, 0), false)),
        "hold after the 55 s morning session"
    );
    assert!(!world.relay_on, "relay left on at the end");
    assert!(world.playing.is_none());

    assert!(
        elapsed < std::time::Duration::from_secs(2),
        "a month took {elapsed:?}"
    );
}
