//! The one-shot subcommands behind the `loa` binary: `check`, `cron`, `next`, `play`,
//! `devices`, `tone`, and the entry to `serve`.
//!
//! Each returns `Ok(())` or a [`CliError`] that says whether the input was bad (exit 2) or
//! the run failed (exit 1). Output goes to stdout, diagnostics to stderr. This module wires
//! library pieces together; it holds no scheduling, decoding or device logic of its own.

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::amp::{self, AmpTiming, Amplifier};
use crate::clock::{Clock, SystemClock};
use crate::config::Config;
use crate::cron::CronExpr;
use crate::decode;
use crate::engine::prepare::{self, GainPolicy};
use crate::output::{self, OutputFormat, OutputSpec, Tone};
use crate::schedule::{Station, Verdict};
use crate::store::Store;

/// Why a subcommand failed.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Bad arguments, config or input file (exit code 2).
    #[error("{0}")]
    BadInput(String),
    /// The command could not do its work (exit code 1).
    #[error("{0}")]
    Runtime(String),
}

/// Logs to stderr, for a terminal or for journald: see [`crate::logging`].
pub fn init_logging() {
    crate::logging::init();
}

/// Loads the config or explains why not.
pub fn load_config(path: &Path) -> Result<Config, CliError> {
    Config::load(path).map_err(|e| CliError::BadInput(e.to_string()))
}

/// `loa serve`: runs the daemon until SIGTERM or SIGINT.
pub fn serve(config_path: &Path) -> Result<(), CliError> {
    let config = load_config(config_path)?;
    crate::daemon::serve(config).map_err(|e| CliError::Runtime(e.to_string()))
}

/// `loa check`: every part the daemon needs, each OK or a problem with its fix (the same
/// checks as `/healthz`, see [`crate::health`]), plus the chime.
pub fn check(config_path: &Path) -> Result<(), CliError> {
    use crate::health::{self, Check, Level};
    let config = load_config(config_path)?;
    let data_dir = &config.station.data_dir;
    let db_path = data_dir.join("loa.db");
    let mut checks = vec![Check::ok("config", config_path.display().to_string())];
    // Never create the database here: run as root, that would leave a file the service's
    // user cannot write.
    let store = if db_path.exists() {
        Some(Store::open(&db_path))
    } else {
        checks.push(Check::ok(
            "database",
            format!(
                "{} not created yet (made on first start)",
                db_path.display()
            ),
        ));
        None
    };
    match &store {
        Some(Ok(store)) => checks.push(health::database(store, &db_path)),
        Some(Err(e)) => checks.push(health::database_unopened(&db_path, e)),
        None => {}
    }
    let store = store.and_then(Result::ok);
    checks.push(health::media(store.as_ref(), data_dir));
    let opened = config.audio.output.open(output_format(&config));
    checks.push(health::output(
        opened
            .as_ref()
            .map(|out| out.name().to_owned())
            .map_err(|e| output::error_chain(e)),
    ));
    drop(opened);
    checks.push(health::relay(
        amp::open(&config.amp.relay)
            .map(|r| r.description())
            .map_err(|e| e.to_string()),
    ));
    checks.push(health::clock(
        crate::clock::kernel_clock_synchronised(),
        config.schedule.require_clock_sync,
    ));
    checks.push(health::disk(data_dir, config.station.min_free_bytes));
    if let Some(store) = &store {
        checks.push(health::last_broadcast(store, SystemClock::default().now()));
    }
    if let Some(chime) = &config.audio.chime {
        checks.push(match decode::decode_file(chime) {
            Ok(_) => Check::ok("chime", chime.display().to_string()),
            Err(e) => Check::problem(
                "chime",
                format!("{}: {e}", chime.display()),
                "set [audio] chime to a readable audio file, or \"\" for none",
            ),
        });
    }
    let report = health::Report { checks };
    for c in &report.checks {
        let label = match c.level {
            Level::Ok => "ok    ",
            Level::Warn => "warn  ",
            Level::Problem => "PROBLEM",
        };
        println!("{label}  {}: {}", c.name, c.detail);
        if let Some(fix) = &c.fix {
            println!("         fix: {fix}");
        }
    }
    match report.problems() {
        0 => Ok(()),
        n => Err(CliError::Runtime(format!("{n} problem(s) found"))),
    }
}

/// `loa cron EXPR`: the next `count` firings, one RFC 3339 time per line.
pub fn cron(
    config_path: &Path,
    expr: &str,
    from: Option<&str>,
    count: usize,
    tz: Option<&str>,
) -> Result<(), CliError> {
    let cron = CronExpr::parse(expr)
        .map_err(|e| CliError::BadInput(format!("cron expression {expr:?}: {e}")))?;
    let tz: Tz = match tz {
        Some(name) => name
            .parse()
            .map_err(|_| CliError::BadInput(format!("unknown time zone {name:?}")))?,
        None => {
            Config::load(config_path).map_or(chrono_tz::Asia::Ho_Chi_Minh, |c| c.station.time_zone)
        }
    };
    let from = match from {
        Some(t) => DateTime::parse_from_rfc3339(t)
            .map_err(|e| CliError::BadInput(format!("--from {t:?} is not an RFC 3339 time: {e}")))?
            .to_utc(),
        None => Utc::now(),
    };
    for t in cron.iter_after(from, tz).take(count) {
        println!("{}", t.with_timezone(&tz).to_rfc3339());
    }
    Ok(())
}

/// `loa next`: what will play next, and what will be skipped and why.
pub fn next(config_path: &Path, count: usize) -> Result<(), CliError> {
    let config = load_config(config_path)?;
    let store = open_store(&config)?;
    let programmes = store.programmes().map_err(runtime)?;
    let campaigns = store.campaigns().map_err(runtime)?;
    let station = Station {
        programmes: &programmes,
        campaigns: &campaigns,
        rules: &config.schedule.rules,
        tz: config.station.time_zone,
        approval_required: config.station.approval_required,
    };
    let upcoming = station.upcoming(SystemClock::default().now(), count);
    for planned in &upcoming {
        let name = programmes
            .iter()
            .find(|p| p.id == planned.key.programme)
            .map_or("?", |p| p.name.as_str());
        let verdict = match &planned.verdict {
            Verdict::Air => String::new(),
            Verdict::AirBreakingRule(rule) => format!("  [airs, breaking: {rule}]"),
            Verdict::Skip(rule) => format!("  [skipped: {rule}]"),
        };
        println!(
            "{}  {name}{verdict}",
            planned
                .key
                .scheduled
                .with_timezone(&config.station.time_zone)
                .to_rfc3339()
        );
    }
    if upcoming.is_empty() {
        println!("nothing scheduled");
    }
    Ok(())
}

/// `loa play FILE…`: decodes each file, normalises its loudness and plays it now.
pub fn play(config_path: &Path, files: &[PathBuf], output: Option<&str>) -> Result<(), CliError> {
    let config = load_config(config_path)?;
    let format = output_format(&config);
    let policy = GainPolicy {
        target_lufs: config.audio.target_lufs,
        ceiling_dbtp: config.audio.ceiling_dbtp,
        master_db: config.audio.master_volume_db,
    };
    let mut samples = Vec::new();
    for file in files {
        let ready = prepare::ready_file(file, &policy, format).map_err(CliError::BadInput)?;
        eprintln!(
            "playing {} (gain {:+.1} dB)",
            file.display(),
            ready.gain.db()
        );
        let gain = ready.gain.linear();
        samples.extend(ready.pcm.iter().map(|s| (s * gain).clamp(-1.0, 1.0)));
    }
    play_with_relay(&config, output, format, &samples, "loa play")
}

/// `loa devices`: output devices with stable names and a recommendation.
pub fn devices() -> Result<(), CliError> {
    let devices = output::list_output_devices().map_err(runtime)?;
    if devices.is_empty() {
        println!("no ALSA output devices found");
    }
    for d in &devices {
        println!(
            "{:<40} {:?}  {}",
            d.name,
            d.kind,
            d.description.replace('\n', " ")
        );
    }
    let advice = output::recommend(&devices);
    match advice.device {
        Some(device) => println!(
            "\nrecommended: output = \"alsa:{device}\"  ({})",
            advice.reason
        ),
        None => println!("\nno recommendation: {}", advice.reason),
    }
    Ok(())
}

/// `loa tone`: relay on, a test tone at the configured volume, relay off.
pub fn tone(
    config_path: &Path,
    seconds: f64,
    frequency: f64,
    output: Option<&str>,
) -> Result<(), CliError> {
    let config = load_config(config_path)?;
    if !(0.1..=600.0).contains(&seconds) || !(20.0..=20_000.0).contains(&frequency) {
        return Err(CliError::BadInput(
            "--seconds must be 0.1–600 and --frequency 20–20000 Hz".to_owned(),
        ));
    }
    let format = output_format(&config);
    let tone = Tone {
        frequency_hz: frequency as f32,
        // A sine at -20 dBFS reads about -23 LUFS: lift it to the target, never above
        // the true-peak ceiling, then apply the master volume.
        level_dbfs: ((config.audio.target_lufs + 3.0).min(config.audio.ceiling_dbtp)
            + config.audio.master_volume_db) as f32,
        duration: Duration::from_secs_f64(seconds),
    };
    let samples = tone.render(format).map_err(runtime)?;
    play_with_relay(&config, output, format, &samples, "loa tone")
}

/// Plays samples through the chosen output with the relay on around them.
fn play_with_relay(
    config: &Config,
    output: Option<&str>,
    format: OutputFormat,
    samples: &[f32],
    reason: &str,
) -> Result<(), CliError> {
    let spec: OutputSpec = match output {
        Some(s) => s
            .parse()
            .map_err(|e: output::OutputError| CliError::BadInput(e.to_string()))?,
        None => config.audio.output.clone(),
    };
    let mut out = spec
        .open(format)
        .map_err(|e| CliError::Runtime(output::error_chain(&e)))?;
    let relay = amp::open(&config.amp.relay).map_err(runtime)?;
    let amplifier =
        Amplifier::new(relay, AmpTiming::new(config.amp.max_on), |_| {}).map_err(runtime)?;
    amplifier.switch_on(reason).map_err(runtime)?;
    std::thread::sleep(config.schedule.warm_up);
    let played = output::play_samples(out.as_mut(), samples);
    std::thread::sleep(config.schedule.hold.min(Duration::from_secs(1)));
    let off = amplifier.switch_off(reason);
    played.map_err(|e| CliError::Runtime(output::error_chain(&e)))?;
    off.map_err(runtime)?;
    eprintln!(
        "done: {:.1} s through {}",
        samples.len() as f64 / f64::from(format.sample_rate) / f64::from(format.channels),
        out.name()
    );
    Ok(())
}

/// The output format from the config.
pub fn output_format(config: &Config) -> OutputFormat {
    OutputFormat {
        sample_rate: config.audio.sample_rate,
        channels: config.audio.channels,
    }
}

/// Opens the database, seeding the demo station first when the config asks for it.
fn open_store(config: &Config) -> Result<Store, CliError> {
    let store = Store::open(&config.station.data_dir.join("loa.db")).map_err(runtime)?;
    if config.station.seed_demo {
        let media = crate::library::media_dir(&config.station.data_dir);
        let shipped = crate::demo::shipped_media_dir(&config.path);
        crate::seed::seed_if_empty(&store, &media, &shipped, Utc::now()).map_err(runtime)?;
    }
    Ok(store)
}

fn runtime(e: impl std::fmt::Display) -> CliError {
    CliError::Runtime(e.to_string())
}
