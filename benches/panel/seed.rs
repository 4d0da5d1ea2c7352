//! Seeding the panel benchmark's station: 1,000 clips through the real ingest pipeline
//! (`library::ingest_stream` with `loa __analyse` children), 4 campaigns, 40 playlists,
//! 200 programmes and an admin. Titles come from the ward plans in `/work/shared/seeds/`.

use std::io::Cursor;
use std::path::Path;
use std::time::{Duration, Instant};

use chrono::{NaiveDate, Utc};
use loa::cron::CronExpr;
use loa::library::{self, Analyser, IngestLimits};
use loa::model::{CampaignId, ClashRule, ClipId, DateRange, PlaylistId, Priority};
use loa::store::{NewCampaign, NewProgramme, Role, Store};

use super::{ADMIN, PASSWORD, TZ};

pub const CLIPS: usize = 1000;
pub const PROGRAMMES: usize = 200;
const PLAYLISTS: usize = 40;

/// Seeds the station in `data`; returns today's local date.
pub fn seed(data: &Path, exe: &Path) -> NaiveDate {
    let store = Store::open(&data.join("loa.db")).expect("database opens");
    let media = library::media_dir(data);
    let limits = IngestLimits::with_analyser(Analyser::Child {
        exe: exe.to_owned(),
        timeout: Duration::from_secs(60),
    });
    let titles = titles();
    let t = Instant::now();
    let mut ids: Vec<(usize, ClipId)> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..2)
            .map(|w| {
                let (store, media, limits, titles) = (&store, &media, &limits, &titles);
                s.spawn(move || {
                    (w..CLIPS)
                        .step_by(2)
                        .map(|i| {
                            let wav = clip_wav(i);
                            let title = &titles[i % titles.len()];
                            let clip = library::ingest_stream(
                                Cursor::new(wav),
                                &format!("ban-tin-{:04}.wav", i + 1),
                                Some(&format!("{title} ({})", i + 1)),
                                limits,
                                store,
                                media,
                                Utc::now(),
                            )
                            .unwrap_or_else(|e| panic!("clip {i} refused: {}", e.message_en()));
                            (i, clip.id)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|h| h.join().expect("ingest worker"))
            .collect()
    });
    ids.sort();
    let ids: Vec<ClipId> = ids.into_iter().map(|(_, id)| id).collect();
    assert_eq!(store.clips().expect("clips").len(), CLIPS, "distinct clips");
    println!(
        "  {CLIPS} clips ingested in {:.1} s ({:.1} ms each, 2 at a time)",
        t.elapsed().as_secs_f64(),
        t.elapsed().as_secs_f64() * 1000.0 / CLIPS as f64
    );

    let playlists: Vec<PlaylistId> = (0..PLAYLISTS)
        .map(|k| {
            let items: Vec<ClipId> = (0..5 + k % 20).map(|j| ids[(k * 25 + j) % CLIPS]).collect();
            let name = format!("Danh sách {}: {}", k + 1, titles[(k * 7) % titles.len()]);
            store.create_playlist(&name, &items).expect("playlist").id
        })
        .collect();

    let today = Utc::now().with_timezone(&TZ).date_naive();
    let days = |n: i64| today + chrono::Duration::days(n);
    let campaign = |name: &str, theme: &str, start, end| {
        store
            .create_campaign(&NewCampaign {
                name: name.to_owned(),
                theme: theme.to_owned(),
                dates: DateRange { start, end },
            })
            .expect("campaign")
            .id
    };
    let date = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).expect("valid date");
    let past = campaign(
        "Tháng hành động vì trẻ em 2026",
        "Trẻ em hạnh phúc, an toàn, vững bước trong kỷ nguyên số",
        date(2026, 6, 1),
        date(2026, 6, 30),
    );
    let long = campaign(
        "Phòng, chống đuối nước trẻ em",
        "Tổng đài 111 - Luôn lắng nghe và bảo vệ trẻ em",
        days(-30),
        days(60),
    );
    let short = campaign(
        "Phòng, chống thiên tai mùa mưa bão",
        "Chủ động ứng phó, bảo vệ người dân",
        days(-10),
        days(20),
    );
    let future = campaign("Đón Tết an toàn", "", days(60), days(90));

    for i in 0..PROGRAMMES {
        let m = (i * 7) % 60;
        let cron = cron_text(i, m);
        let campaign: Option<CampaignId> = match i % 10 {
            0..=3 => None,
            4..=6 => Some(long),
            7 | 8 => Some(short),
            _ if i % 20 == 9 => Some(past),
            _ => Some(future),
        };
        let priority = if i % 25 == 0 {
            Priority::Emergency
        } else if i % 7 == 0 {
            Priority::Priority
        } else {
            Priority::Normal
        };
        store
            .create_programme(&NewProgramme {
                name: format!(
                    "Chương trình {}: {}",
                    i + 1,
                    titles[(i * 13) % titles.len()]
                ),
                cron: CronExpr::parse(&cron).unwrap_or_else(|e| panic!("{cron}: {e}")),
                playlist: playlists[i % PLAYLISTS],
                campaign,
                dates: (i % 13 == 0).then(|| DateRange {
                    start: days(-3),
                    end: days(3),
                }),
                priority,
                clash: if priority == Priority::Normal {
                    ClashRule::Queue {
                        max_wait: Duration::from_secs(600),
                    }
                } else {
                    ClashRule::CutIn
                },
                repeat: 1 + (i % 3) as u32,
                repeat_pause: Duration::from_secs(5),
                chime: i % 4 != 0,
                enabled: i % 31 != 30,
                approved: i % 11 != 0,
            })
            .expect("programme");
    }
    loa::accounts::set_password(&store, ADMIN, Role::Admin, PASSWORD, Utc::now())
        .expect("admin created");
    today
}

/// A spread of real-world schedules: sessions at dawn and dusk, weekdays, weekends,
/// twice a month, one month a year, a leading seconds field, a macro, a few that the
/// station rules skip (before 05:00, after 21:30, midnight) and a few dense ones.
fn cron_text(i: usize, m: usize) -> String {
    match i % 16 {
        0 => format!("{m} 6,17 * * *"),
        1 => format!("{m} 6 * * MON-FRI"),
        2 => format!("{m} 4 * * *"),
        3 => format!("{m} 11 * * 1-5"),
        4 => format!("{m} 17 * * SAT,SUN"),
        5 => "0 6 1,15 * *".to_owned(),
        6 => "30 5 * * *".to_owned(),
        7 => format!("{m} 7 * * 1"),
        8 => "@daily".to_owned(),
        9 => "0 */2 * * *".to_owned(),
        10 => format!("{m} 17 * * 1-6"),
        11 => "0 6 * 6 *".to_owned(),
        12 => "0 6,11,17 * * MON-FRI".to_owned(),
        13 => format!("0 {m} 22 * * *"),
        14 => format!("{m} 5-7 * * 0"),
        _ => "*/20 6-7 * * *".to_owned(),
    }
}

/// A distinct mono 16 kHz WAV of 1–3 s: a tone whose pitch and length depend on `i`.
fn clip_wav(i: usize) -> Vec<u8> {
    let rate = 16_000;
    let frames = rate as usize * (10 + i % 21) / 10;
    let hz = 150.0 + i as f64 * 0.7;
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut out = Cursor::new(Vec::with_capacity(frames * 2 + 44));
    let mut w = hound::WavWriter::new(&mut out, spec).expect("wav header");
    for n in 0..frames {
        let t = n as f64 / f64::from(rate);
        let v = 0.2 * (2.0 * std::f64::consts::PI * hz * t).sin() * (0.6 + 0.4 * (3.0 * t).sin());
        w.write_sample((v * 32767.0) as i16).expect("sample");
    }
    w.finalize().expect("wav finalised");
    out.into_inner()
}

/// Titles from the ward plans: lines of 20–200 characters, cut at about 70.
fn titles() -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir("/work/shared/seeds")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| std::fs::read_to_string(e.path()).ok())
        .flat_map(|text| {
            text.lines()
                .map(|l| l.trim().trim_start_matches(['-', '+', '*', ' ']).to_owned())
                .filter(|l| (20..=200).contains(&l.chars().count()))
                .map(|l| cut(&l, 70))
                .collect::<Vec<_>>()
        })
        .collect();
    out.sort();
    out.dedup();
    if out.is_empty() {
        out = [
            "Tổng đài 111 - Luôn lắng nghe và bảo vệ trẻ em",
            "Tháng hành động vì trẻ em",
            "Phòng, chống đuối nước trẻ em",
            "Trẻ em hạnh phúc, an toàn, vững bước trong kỷ nguyên số",
        ]
        .map(str::to_owned)
        .to_vec();
    }
    out
}

fn cut(line: &str, max: usize) -> String {
    if line.chars().count() <= max {
        return line.to_owned();
    }
    let head: String = line.chars().take(max).collect();
    match head.rfind(' ') {
        Some(i) => format!("{}…", &head[..i]),
        None => head,
    }
}
