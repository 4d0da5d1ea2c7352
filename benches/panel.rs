//! The web panel under load (issue 4): the dashboard, library and schedule pages and the
//! clip and schedule APIs of a station with 1,000 clips and 200 programmes, each hit by
//! `wrk` with 50 concurrent connections on 127.0.0.1; p50 and p99 latency, requests per
//! second, and the daemon's resident memory.
//!
//! 1. Seeding: a temporary station (config + data dir). 1,000 distinct short WAVs are made
//!    in memory and go through the real ingest pipeline (`library::ingest_stream`, each
//!    decoded and measured by a `loa __analyse` child of the release binary, two at a
//!    time); titles are lines of the ward plans in `/work/shared/seeds/` (or a fixed
//!    Vietnamese list when that folder is missing). Then 4 campaigns (past, two running,
//!    future), 40 playlists and 200 programmes with varied cron expressions, priorities,
//!    approval states and date ranges; the station requires approval, so the schedule
//!    shows all three verdicts. An admin is made with `accounts::set_password` (what
//!    `loa passwd` does).
//! 2. The real `loa serve` runs on a free 127.0.0.1 port. The bench logs in through
//!    `POST /login` and loads every target with the session cookie, as a browser does
//!    (pages also accept a config bearer token; that is checked once, not loaded).
//! 3. Each target: `wrk -t2 -c50 -d20s --latency` with a Lua script that counts non-2xx
//!    answers (wrk itself counts 3xx as success, and a lost session is a 303 to /login).
//!    VmRSS and VmHWM of the daemon are read when idle after seeding and after each run.
//!
//! It measures and prints; any non-2xx answer or socket error fails it (exit 1). It needs
//! `wrk` on PATH (Debian: `apt-get install wrk`). Run with `cargo bench --bench panel`;
//! `LOA_BENCH_SECONDS=N` changes the time per target. Note that on a small machine wrk
//! and the daemon share the cores.

use std::io::{Cursor, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::{Datelike, NaiveDate, Utc};
use loa::cron::CronExpr;
use loa::library::{self, Analyser, IngestLimits};
use loa::model::{CampaignId, ClashRule, ClipId, DateRange, PlaylistId, Priority};
use loa::store::{NewCampaign, NewProgramme, Role, Store};

const CLIPS: usize = 1000;
const PROGRAMMES: usize = 200;
const PLAYLISTS: usize = 40;
const CONNECTIONS: u32 = 50;
const THREADS: u32 = 2;
const SECONDS: u64 = 20;
const TOKEN: &str = "bench-token-0123456789abcdef";
const ADMIN: &str = "bench";
const PASSWORD: &str = "mật khẩu đo tải 2026";
const TZ: chrono_tz::Tz = chrono_tz::Asia::Ho_Chi_Minh;

/// Counts answers outside 2xx per thread and prints one machine-readable line at the end.
const WRK_SCRIPT: &str = r#"
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) bad = 0 end
function response(status, headers, body)
  if status < 200 or status > 299 then bad = bad + 1 end
end
function done(summary, latency, requests)
  local n = 0
  for _, t in ipairs(threads) do n = n + t:get("bad") end
  local e = summary.errors
  io.write(string.format("LOA requests=%d duration_us=%d bytes=%d p50_us=%d p99_us=%d max_us=%d non2xx=%d connect=%d read=%d write=%d timeout=%d\n",
    summary.requests, summary.duration, summary.bytes, latency:percentile(50.0),
    latency:percentile(99.0), latency.max, n, e.connect, e.read, e.write, e.timeout))
end
"#;

fn main() {
    if Command::new("wrk").arg("--version").output().is_err() {
        eprintln!(
            "the panel benchmark needs the load tool wrk on PATH; install it with \
             `apt-get install wrk` (Debian/Ubuntu) and run `cargo bench --bench panel` again"
        );
        std::process::exit(2);
    }
    let seconds = std::env::var("LOA_BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(SECONDS);
    let exe = PathBuf::from(env!("CARGO_BIN_EXE_loa"));
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().expect("temporary folder");
    let data = dir.path().join("data");
    let port = free_port();
    let config = dir.path().join("loa.toml");
    std::fs::write(
        &config,
        format!(
            "[station]\ndata_dir = \"{}\"\napproval_required = true\n\
             [audio]\noutput = \"null\"\nchime = \"{}\"\n\
             [schedule]\nrequire_clock_sync = false\n\
             [amp]\nrelay = \"none\"\n[panel]\nlisten = \"127.0.0.1:{port}\"\n\
             [[tokens]]\nname = \"bench\"\ntoken = \"{TOKEN}\"\n",
            data.display(),
            repo.join("media/chime.wav").display()
        ),
    )
    .expect("config written");

    println!(
        "== seeding {CLIPS} clips (real ingest, `loa __analyse` children) and {PROGRAMMES} programmes"
    );
    let started = Instant::now();
    let today = seed(&data, &exe);
    println!("seeded in {:.1} s", started.elapsed().as_secs_f64());

    let log_path = dir.path().join("stderr.log");
    let mut daemon = start(&exe, &config, &repo, &log_path);
    let pid = daemon.id();
    std::thread::sleep(Duration::from_secs(1));
    println!(
        "daemon memory 1 s after start: {}",
        rss(pid).unwrap_or_else(|| "?".to_owned())
    );
    let cookie = login(port);
    let monday = today - chrono::Duration::days(i64::from(today.weekday().num_days_from_monday()));
    let from = format!("{monday}T00:00:00%2B07:00");
    let to = format!("{}T00:00:00%2B07:00", monday + chrono::Duration::days(7));
    let targets = [
        ("dashboard", "/".to_owned()),
        ("library", "/library".to_owned()),
        ("schedule (week)", "/schedule".to_owned()),
        ("GET /api/clips", "/api/clips".to_owned()),
        (
            "GET /api/schedule (week)",
            format!("/api/schedule?from={from}&to={to}"),
        ),
    ];
    // One request each first: it must be a 200, and says how big the answer is.
    for (name, path) in &targets {
        let (status, raw) = get(port, path, &format!("Cookie: {cookie}"));
        assert_eq!(
            status, 200,
            "{name}: {path} answered {status} before the load"
        );
        let text = String::from_utf8_lossy(&raw);
        let count = |needle: &str| text.matches(needle).count();
        let what = match *name {
            "GET /api/clips" => format!("{} clips", count("\"sha256\"")),
            "GET /api/schedule (week)" => format!(
                "{} occurrences: {} air, {} skipped, {} air breaking a rule",
                count("\"verdict\""),
                count("\"verdict\":\"air\""),
                count("\"verdict\":\"skip\""),
                count("\"air_breaking_rule\"")
            ),
            _ => String::new(),
        };
        println!("  {name:<26} {:>5.0} kB  {what}", raw.len() as f64 / 1000.0);
    }
    let (status, _) = get(port, "/schedule", &format!("Authorization: Bearer {TOKEN}"));
    println!("  pages with the config bearer token instead of a session: {status}");

    std::thread::sleep(Duration::from_secs(2));
    println!(
        "\ndaemon memory idle, after the login and one request each: {}",
        rss(pid).unwrap_or_else(|| "?".to_owned())
    );
    let script = dir.path().join("count.lua");
    std::fs::write(&script, WRK_SCRIPT).expect("wrk script written");
    println!(
        "\n== wrk -t{THREADS} -c{CONNECTIONS} -d{seconds}s per target, session cookie\n\
         {:<26} {:>9} {:>9} {:>9} {:>9} {:>7}  daemon memory after",
        "target", "req/s", "p50", "p99", "max", "non-2xx"
    );
    let only: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let mut failures = Vec::new();
    for (name, path) in &targets {
        if !only.is_empty() && !only.iter().any(|o| name.contains(o.as_str())) {
            continue;
        }
        let url = format!("http://127.0.0.1:{port}{path}");
        let (daemon_before, wrk_before) = (cpu_ms(pid), children_cpu_ms());
        let r = wrk(&url, &cookie, &script, seconds);
        let per_request = |ms: f64| ms / r.requests.max(1) as f64;
        let cpu = format!(
            "CPU per request: daemon {:.2} ms, wrk {:.2} ms",
            per_request(cpu_ms(pid) - daemon_before),
            per_request(children_cpu_ms() - wrk_before)
        );
        let errors = r.connect + r.read + r.write + r.timeout;
        println!(
            "{name:<26} {:>9.1} {:>9} {:>9} {:>9} {:>7}  {}",
            r.requests as f64 / (r.duration_us as f64 / 1e6),
            ms(r.p50_us),
            ms(r.p99_us),
            ms(r.max_us),
            r.non2xx,
            rss(pid).unwrap_or_else(|| "?".to_owned())
        );
        println!("{:<26} {cpu}", "");
        if r.non2xx > 0 || errors > 0 {
            failures.push(format!(
                "{name}: {} non-2xx answers, socket errors connect {} read {} write {} timeout {}",
                r.non2xx, r.connect, r.read, r.write, r.timeout
            ));
        }
    }
    let alive = matches!(daemon.try_wait(), Ok(None));
    stop(&mut daemon);
    let log = std::fs::read_to_string(&log_path).unwrap_or_default();
    let warnings: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("WARN") || l.contains("ERROR"))
        .collect();
    println!("daemon log: {} warnings or errors", warnings.len());
    for w in warnings.iter().take(5) {
        println!("  {w}");
    }
    if !alive {
        failures.push("loa serve exited during the load".to_owned());
    }
    if !failures.is_empty() {
        eprintln!("\nPANEL BENCHMARK FAILED:");
        for f in &failures {
            eprintln!("  {f}");
        }
        std::process::exit(1);
    }
}

// ---------------------------------------------------------------- seeding

/// Seeds the station in `data`; returns today's local date.
fn seed(data: &Path, exe: &Path) -> NaiveDate {
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

// ---------------------------------------------------------------- daemon and HTTP

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    l.local_addr().expect("address").port()
}

fn start(exe: &Path, config: &Path, repo: &Path, log_path: &Path) -> Child {
    let log = std::fs::File::create(log_path).expect("log file created");
    let mut child = Command::new(exe)
        .arg("--config")
        .arg(config)
        .arg("serve")
        .current_dir(repo)
        .env_remove("RUST_LOG")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("loa serve starts");
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(30) {
        if matches!(child.try_wait(), Ok(Some(_))) {
            break;
        }
        if std::fs::read_to_string(log_path)
            .unwrap_or_default()
            .contains("loa is running")
        {
            println!(
                "\nloa serve up after {} ms (pid {})",
                started.elapsed().as_millis(),
                child.id()
            );
            return child;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!(
        "loa serve did not come up; its log:\n{}",
        std::fs::read_to_string(log_path).unwrap_or_default()
    );
}

fn stop(child: &mut Child) {
    let pid = rustix::process::Pid::from_child(child);
    let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
    let asked = Instant::now();
    while asked.elapsed() < Duration::from_secs(10) {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    println!("loa serve did not stop within 10 s of SIGTERM; killed");
    let _ = child.kill();
    let _ = child.wait();
}

/// One HTTP/1.1 exchange on a fresh connection; returns the status, the raw response.
fn exchange(port: u16, request: &str) -> (u16, Vec<u8>) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("daemon accepts");
    s.set_read_timeout(Some(Duration::from_secs(30))).ok();
    s.write_all(request.as_bytes()).expect("request sent");
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).expect("response read");
    let head = String::from_utf8_lossy(&raw[..raw.len().min(64)]).into_owned();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (status, raw)
}

fn get(port: u16, path: &str, header: &str) -> (u16, Vec<u8>) {
    exchange(
        port,
        &format!(
            "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{header}\r\nConnection: close\r\n\r\n"
        ),
    )
}

/// Logs in through the login form; returns the `Cookie` header value.
fn login(port: u16) -> String {
    let body = format!(
        "name={ADMIN}&password={}",
        PASSWORD
            .bytes()
            .map(|b| if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            })
            .collect::<String>()
    );
    let (status, raw) = exchange(
        port,
        &format!(
            "POST /login HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\
             Connection: close\r\n\r\n{body}",
            body.len()
        ),
    );
    let text = String::from_utf8_lossy(&raw);
    let cookie = text
        .lines()
        .take_while(|l| !l.is_empty())
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("set-cookie")
                .then(|| v.trim().split(';').next().unwrap_or("").to_owned())
        })
        .unwrap_or_else(|| panic!("login answered {status} without a session cookie"));
    assert!((300..400).contains(&status), "login answered {status}");
    cookie
}

struct WrkResult {
    requests: u64,
    duration_us: u64,
    p50_us: u64,
    p99_us: u64,
    max_us: u64,
    non2xx: u64,
    connect: u64,
    read: u64,
    write: u64,
    timeout: u64,
}

fn wrk(url: &str, cookie: &str, script: &Path, seconds: u64) -> WrkResult {
    let out = Command::new("wrk")
        .args(["-t", &THREADS.to_string(), "-c", &CONNECTIONS.to_string()])
        .args([
            "-d",
            &format!("{seconds}s"),
            "--timeout",
            "10s",
            "--latency",
        ])
        .arg("-s")
        .arg(script)
        .args(["-H", &format!("Cookie: {cookie}")])
        .arg(url)
        .output()
        .expect("wrk runs");
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find(|l| l.starts_with("LOA "))
        .unwrap_or_else(|| {
            panic!(
                "wrk printed no summary:\n{text}\n{}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
    let field = |k: &str| -> u64 {
        line.split_whitespace()
            .find_map(|kv| kv.strip_prefix(k)?.strip_prefix('='))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no {k} in {line}"))
    };
    WrkResult {
        requests: field("requests"),
        duration_us: field("duration_us"),
        p50_us: field("p50_us"),
        p99_us: field("p99_us"),
        max_us: field("max_us"),
        non2xx: field("non2xx"),
        connect: field("connect"),
        read: field("read"),
        write: field("write"),
        timeout: field("timeout"),
    }
}

fn ms(us: u64) -> String {
    format!("{:.1} ms", us as f64 / 1000.0)
}

/// User + system CPU time of process `pid` so far, in milliseconds.
fn cpu_ms(pid: u32) -> f64 {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which may hold spaces) start at the state, field 3;
    // utime and stime are fields 14 and 15, in clock ticks.
    let rest = text.rsplit_once(')').map_or("", |(_, r)| r);
    let ticks: f64 = rest
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|v| v.parse::<f64>().ok())
        .sum();
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    ticks * 1000.0 / hz
}

/// User + system CPU time of the waited-for children (the wrk runs), in milliseconds.
fn children_cpu_ms() -> f64 {
    // SAFETY: an all-zero rusage is a valid value of this plain C struct.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: the pointer is valid for the call.
    unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) };
    let ms = |t: libc::timeval| t.tv_sec as f64 * 1000.0 + t.tv_usec as f64 / 1000.0;
    ms(usage.ru_utime) + ms(usage.ru_stime)
}

/// The daemon's VmRSS and VmHWM, in MiB.
fn rss(pid: u32) -> Option<String> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |key: &str| -> Option<f64> {
        text.lines()
            .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))
            .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
            .map(|kb| kb / 1024.0)
    };
    Some(format!(
        "VmRSS {:.1} MiB, VmHWM {:.1} MiB",
        field("VmRSS")?,
        field("VmHWM")?
    ))
}
