//! The configuration file: raw TOML → validated config of real types.
//!
//! Two stages (house style 7): [`RawConfig`] mirrors the file with `deny_unknown_fields`, so
//! a typo fails the start instead of vanishing; [`Config`] holds parsed values (time zone,
//! durations, output spec, relay spec, rules). Every error names the file, line and column.
//! Nothing after this module re-checks a config value. This module does no I/O beyond
//! reading the one file it is given.

use std::fmt;
use std::net::SocketAddr;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::NaiveTime;
use chrono_tz::Tz;
use toml::Spanned;

use raw::{RawAmp, RawAudio, RawConfig, RawLibrary, RawSchedule};

use crate::amp::RelaySpec;
use crate::output::OutputSpec;
use crate::schedule::{QuietHours, StationRules};

/// A validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file it was read from.
    pub path: PathBuf,
    /// Station-wide settings.
    pub station: StationConfig,
    /// Output and loudness.
    pub audio: AudioConfig,
    /// Broadcast timing and rules.
    pub schedule: ScheduleConfig,
    /// Amplifier relay.
    pub amp: AmpConfig,
    /// Web panel.
    pub panel: PanelConfig,
    /// Bearer tokens for automation.
    pub tokens: Vec<ApiToken>,
    /// Upload limits of the clip library.
    pub library: LibraryConfig,
}

/// Upload limits of the clip library.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LibraryConfig {
    /// Largest upload accepted, in bytes.
    pub max_upload_bytes: u64,
    /// Longest clip accepted.
    pub max_clip_duration: Duration,
    /// Time limit for decoding and measuring one upload.
    pub analyse_timeout: Duration,
    /// Bytes that must stay free on the data disk besides an upload of the maximum size.
    pub keep_free_bytes: u64,
    /// The `loa` binary that runs the analysis worker. Not a config-file key: `None` means
    /// this very binary (the daemon or the CLI); an embedder whose process is not `loa`
    /// (the in-process integration tests) sets it.
    pub analyser_exe: Option<PathBuf>,
}

/// Station-wide settings.
#[derive(Debug, Clone)]
pub struct StationConfig {
    /// Shown on the panel.
    pub name: String,
    /// The station's one time zone.
    pub time_zone: Tz,
    /// Database and media live here.
    pub data_dir: PathBuf,
    /// Seed the demo campaign into an empty database on start.
    pub seed_demo: bool,
    /// Programmes and broadcasts by editors need an approver first.
    pub approval_required: bool,
    /// Below this much free space (bytes) on the data directory's file system uploads
    /// are refused and health is degraded; the database and log keep working.
    pub min_free_bytes: u64,
}

/// Output device, format and loudness.
#[derive(Debug, Clone)]
pub struct AudioConfig {
    /// Where audio goes.
    pub output: OutputSpec,
    /// Output sample rate in Hz.
    pub sample_rate: u32,
    /// Output channel count.
    pub channels: u16,
    /// Loudness target in LUFS.
    pub target_lufs: f64,
    /// True-peak ceiling in dBTP.
    pub ceiling_dbtp: f64,
    /// Master volume in dB (≤ 0 lowers everything).
    pub master_volume_db: f64,
    /// Silence between clips.
    pub gap: Duration,
    /// The chime played before and after a broadcast, if any.
    pub chime: Option<PathBuf>,
}

/// Broadcast timing and station rules.
#[derive(Debug, Clone)]
pub struct ScheduleConfig {
    /// How late a missed occurrence may still play after downtime.
    pub catch_up: Duration,
    /// Relay on this long before the first sample.
    pub warm_up: Duration,
    /// Relay off this long after the last sample.
    pub hold: Duration,
    /// Station rules that only emergencies may break.
    pub rules: StationRules,
    /// Scheduled broadcasts wait until the kernel reports the clock synchronised (NTP).
    pub require_clock_sync: bool,
}

/// Amplifier relay settings.
#[derive(Debug, Clone)]
pub struct AmpConfig {
    /// How the relay is driven.
    pub relay: RelaySpec,
    /// The relay is never on longer than this.
    pub max_on: Duration,
}

/// Web panel settings.
#[derive(Debug, Clone)]
pub struct PanelConfig {
    /// Address the panel and API listen on.
    pub listen: SocketAddr,
}

/// A bearer token for automation.
#[derive(Debug, Clone)]
pub struct ApiToken {
    /// Who uses it (appears in the audit log).
    pub name: String,
    /// The secret.
    pub token: String,
}

/// Why a config file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not valid TOML or has unknown keys or wrong types.
    #[error("{location}: {message}")]
    Syntax {
        /// file:line:column.
        location: Location,
        /// What is wrong.
        message: String,
    },
    /// A value is well-formed TOML but not acceptable.
    #[error("{location}: {message}")]
    Invalid {
        /// file:line:column.
        location: Location,
        /// What is wrong.
        message: String,
    },
}

/// A place in a config file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The file.
    pub path: PathBuf,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.path.display(), self.line, self.column)
    }
}

impl Config {
    /// Reads and validates a config file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Config::parse(&text, path)
    }

    /// Validates config text; `path` is used in error messages.
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| {
            let span = e.span().unwrap_or(0..0);
            ConfigError::Syntax {
                location: locate(text, path, span),
                message: e.message().trim().to_owned(),
            }
        })?;
        Validator { text, path }.validate(raw)
    }
}

/// The default config path: `./config/loa.toml` if present, else `/etc/loa/loa.toml`.
pub fn default_path() -> PathBuf {
    let local = PathBuf::from("config/loa.toml");
    if local.exists() {
        local
    } else {
        PathBuf::from("/etc/loa/loa.toml")
    }
}

/// Turns a byte span into file:line:column.
fn locate(text: &str, path: &Path, span: Range<usize>) -> Location {
    let before = &text[..span.start.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |s| s.chars().count()) + 1;
    Location {
        path: path.to_owned(),
        line,
        column,
    }
}

/// Turns raw values into real types, reporting positions.
struct Validator<'a> {
    text: &'a str,
    path: &'a Path,
}

impl Validator<'_> {
    fn validate(&self, raw: RawConfig) -> Result<Config, ConfigError> {
        let station = StationConfig {
            name: raw.station.name,
            time_zone: self.map(&raw.station.time_zone, |s| {
                s.parse::<Tz>().map_err(|_| {
                    format!(
                        "unknown time zone {s:?} (use an IANA name such as \"Asia/Ho_Chi_Minh\")"
                    )
                })
            })?,
            data_dir: raw.station.data_dir,
            seed_demo: raw.station.seed_demo,
            approval_required: raw.station.approval_required,
            min_free_bytes: self.check(&raw.station.min_free_mb, |&mb| {
                if (1..=1_000_000).contains(&mb) {
                    Ok(())
                } else {
                    Err("min_free_mb must be between 1 and 1000000")
                }
            })? * 1024
                * 1024,
        };
        let audio = self.audio(raw.audio)?;
        let schedule = self.schedule(raw.schedule)?;
        let amp = self.amp(raw.amp)?;
        let panel = PanelConfig {
            listen: self.map(&raw.panel.listen, |s| {
                s.parse::<SocketAddr>().map_err(|_| {
                    format!("listen address {s:?} is not IP:PORT, e.g. \"127.0.0.1:8080\"")
                })
            })?,
        };
        let mut tokens = Vec::new();
        for t in raw.tokens {
            if t.token.get_ref().len() < 16 {
                return Err(self.invalid(t.token.span(), "token must be at least 16 characters"));
            }
            tokens.push(ApiToken {
                name: t.name,
                token: t.token.into_inner(),
            });
        }
        let library = self.library(raw.library)?;
        Ok(Config {
            path: self.path.to_owned(),
            station,
            audio,
            schedule,
            amp,
            panel,
            tokens,
            library,
        })
    }

    fn library(&self, raw: RawLibrary) -> Result<LibraryConfig, ConfigError> {
        let megabytes = |v: &Spanned<f64>, min: f64, max: f64| {
            let mb = *v.get_ref();
            if !(min..=max).contains(&mb) {
                return Err(self.invalid(v.span(), &format!("must be between {min} and {max}")));
            }
            Ok((mb * 1e6) as u64)
        };
        let duration = self.seconds(&raw.max_clip_minutes, 60.0, 24.0 * 60.0)?;
        if duration.is_zero() {
            return Err(self.invalid(raw.max_clip_minutes.span(), "must be more than 0"));
        }
        let timeout = self.seconds(&raw.analyse_timeout_seconds, 1.0, 3600.0)?;
        if timeout < Duration::from_secs(1) {
            return Err(self.invalid(
                raw.analyse_timeout_seconds.span(),
                "must be at least 1 second",
            ));
        }
        Ok(LibraryConfig {
            max_upload_bytes: megabytes(&raw.max_upload_mb, 1.0, 100_000.0)?,
            max_clip_duration: duration,
            analyse_timeout: timeout,
            keep_free_bytes: megabytes(&raw.keep_free_mb, 0.0, 100_000.0)?,
            analyser_exe: None,
        })
    }

    fn audio(&self, raw: RawAudio) -> Result<AudioConfig, ConfigError> {
        Ok(AudioConfig {
            output: self.map(&raw.output, |s| {
                s.parse::<OutputSpec>().map_err(|e| e.to_string())
            })?,
            sample_rate: self.check(&raw.sample_rate, |r| {
                (8_000..=192_000)
                    .contains(r)
                    .then_some(())
                    .ok_or("sample_rate must be 8000–192000 Hz")
            })?,
            channels: self.check(&raw.channels, |c| {
                (1..=2)
                    .contains(c)
                    .then_some(())
                    .ok_or("channels must be 1 or 2")
            })?,
            target_lufs: self.check(&raw.target_lufs, |v| {
                (-40.0..=-5.0)
                    .contains(v)
                    .then_some(())
                    .ok_or("target_lufs must be between -40 and -5")
            })?,
            ceiling_dbtp: self.check(&raw.true_peak_ceiling_dbtp, |v| {
                (-20.0..=0.0)
                    .contains(v)
                    .then_some(())
                    .ok_or("true_peak_ceiling_dbtp must be between -20 and 0")
            })?,
            master_volume_db: self.check(&raw.master_volume_db, |v| {
                (-60.0..=0.0)
                    .contains(v)
                    .then_some(())
                    .ok_or("master_volume_db must be between -60 and 0")
            })?,
            gap: self.seconds(&raw.gap_seconds, 1.0, 60.0)?,
            chime: raw.chime.filter(|p| !p.as_os_str().is_empty()),
        })
    }

    fn schedule(&self, raw: RawSchedule) -> Result<ScheduleConfig, ConfigError> {
        let earliest = self.map(&raw.earliest, |s| parse_clock_time(s))?;
        let latest = self.map(&raw.latest, |s| parse_clock_time(s))?;
        if latest <= earliest {
            return Err(self.invalid(raw.latest.span(), "latest must be after earliest"));
        }
        let mut quiet = Vec::new();
        for q in &raw.quiet_hours {
            quiet.push(self.map(q, |s| {
                let (from, to) = s
                    .split_once('-')
                    .ok_or_else(|| format!("quiet hours {s:?} must look like \"12:00-13:30\""))?;
                Ok(QuietHours {
                    from: parse_clock_time(from.trim())?,
                    to: parse_clock_time(to.trim())?,
                })
            })?);
        }
        Ok(ScheduleConfig {
            catch_up: self.seconds(&raw.catch_up_minutes, 60.0, 24.0 * 60.0)?,
            warm_up: self.seconds(&raw.warm_up_seconds, 1.0, 120.0)?,
            hold: self.seconds(&raw.hold_seconds, 1.0, 600.0)?,
            rules: StationRules {
                earliest,
                latest,
                quiet_hours: quiet,
                max_session: self.seconds(&raw.max_session_minutes, 60.0, 24.0 * 60.0)?,
            },
            require_clock_sync: raw.require_clock_sync,
        })
    }

    fn amp(&self, raw: RawAmp) -> Result<AmpConfig, ConfigError> {
        let timeout = self.seconds(&raw.command_timeout_seconds, 1.0, 120.0)?;
        let relay = match raw.relay.get_ref().as_str() {
            "none" => RelaySpec::None,
            "gpio" => RelaySpec::Gpio {
                chip: raw.gpio_chip,
                line: raw.gpio_line,
                active_low: raw.active_low,
            },
            "command" => {
                let need = |c: Option<Spanned<String>>, key: &str| {
                    c.map(Spanned::into_inner)
                        .filter(|s| !s.trim().is_empty())
                        .ok_or_else(|| {
                            self.invalid(
                                raw.relay.span(),
                                &format!("relay = \"command\" needs {key}"),
                            )
                        })
                };
                RelaySpec::Command {
                    on: need(raw.on_command, "on_command")?,
                    off: need(raw.off_command, "off_command")?,
                    timeout,
                }
            }
            other => {
                return Err(self.invalid(
                    raw.relay.span(),
                    &format!("relay {other:?} is not one of \"none\", \"gpio\", \"command\""),
                ));
            }
        };
        Ok(AmpConfig {
            relay,
            max_on: self.seconds(&raw.max_on_minutes, 60.0, 24.0 * 60.0)?,
        })
    }

    /// Converts a number of units (`unit` seconds each) into a duration, bounded by `max` units.
    fn seconds(&self, value: &Spanned<f64>, unit: f64, max: f64) -> Result<Duration, ConfigError> {
        let v = *value.get_ref();
        if !(0.0..=max).contains(&v) {
            return Err(self.invalid(value.span(), &format!("must be between 0 and {max}")));
        }
        Ok(Duration::from_secs_f64(v * unit))
    }

    fn check<T: Copy>(
        &self,
        value: &Spanned<T>,
        rule: impl Fn(&T) -> Result<(), &'static str>,
    ) -> Result<T, ConfigError> {
        rule(value.get_ref()).map_err(|m| self.invalid(value.span(), m))?;
        Ok(*value.get_ref())
    }

    fn map<T, U>(
        &self,
        value: &Spanned<T>,
        parse: impl Fn(&T) -> Result<U, String>,
    ) -> Result<U, ConfigError> {
        parse(value.get_ref()).map_err(|m| self.invalid(value.span(), &m))
    }

    fn invalid(&self, span: Range<usize>, message: &str) -> ConfigError {
        ConfigError::Invalid {
            location: locate(self.text, self.path, span),
            message: message.to_owned(),
        }
    }
}

/// Parses "HH:MM" into a time of day.
fn parse_clock_time(s: &str) -> Result<NaiveTime, String> {
    NaiveTime::parse_from_str(s, "%H:%M")
        .map_err(|_| format!("time {s:?} must look like \"05:30\""))
}

mod raw;
#[cfg(test)]
mod tests;
