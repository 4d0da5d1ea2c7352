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

mod http;
mod seed;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use chrono::Datelike;

const CONNECTIONS: u32 = 50;
const THREADS: u32 = 2;
const SECONDS: u64 = 20;
const TOKEN: &str = "bench-token-0123456789abcdef";
pub const ADMIN: &str = "bench";
pub const PASSWORD: &str = "mật khẩu đo tải 2026";
pub const TZ: chrono_tz::Tz = chrono_tz::Asia::Ho_Chi_Minh;

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
    let port = http::free_port();
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
        "== seeding {} clips (real ingest, `loa __analyse` children) and {} programmes",
        seed::CLIPS,
        seed::PROGRAMMES
    );
    let started = Instant::now();
    let today = seed::seed(&data, &exe);
    println!("seeded in {:.1} s", started.elapsed().as_secs_f64());

    let log_path = dir.path().join("stderr.log");
    let mut daemon = http::start(&exe, &config, &repo, &log_path);
    let pid = daemon.id();
    std::thread::sleep(Duration::from_secs(1));
    println!(
        "daemon memory 1 s after start: {}",
        rss(pid).unwrap_or_else(|| "?".to_owned())
    );
    let cookie = http::login(port);
    let monday = today - chrono::Duration::days(i64::from(today.weekday().num_days_from_monday()));
    let from = format!("{monday}T00:00:00%2B07:00");
    let to = format!("{}T00:00:00%2B07:00", monday + chrono::Duration::days(7));
    let targets = [
        ("dashboard", "/".to_owned()),
        ("/healthz", "/healthz".to_owned()),
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
        let (status, raw) = http::get(port, path, &format!("Cookie: {cookie}"));
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
    let (status, _) = http::get(port, "/schedule", &format!("Authorization: Bearer {TOKEN}"));
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
    http::stop(&mut daemon);
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
