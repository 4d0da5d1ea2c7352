//! The config file exactly as written: serde structs with `deny_unknown_fields` and the
//! documented defaults, plus byte spans for values that are validated later. Nothing here
//! checks a value; `config.rs` turns these into real types.

use std::path::PathBuf;

use serde::Deserialize;
use toml::Spanned;

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub(super) struct RawConfig {
    pub(super) station: RawStation,
    pub(super) audio: RawAudio,
    pub(super) schedule: RawSchedule,
    pub(super) amp: RawAmp,
    pub(super) panel: RawPanel,
    pub(super) tokens: Vec<RawToken>,
    pub(super) library: RawLibrary,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct RawLibrary {
    pub(super) max_upload_mb: Spanned<f64>,
    pub(super) max_clip_minutes: Spanned<f64>,
    pub(super) analyse_timeout_seconds: Spanned<f64>,
    pub(super) keep_free_mb: Spanned<f64>,
}

impl Default for RawLibrary {
    fn default() -> Self {
        RawLibrary {
            max_upload_mb: unspanned(200.0),
            max_clip_minutes: unspanned(60.0),
            analyse_timeout_seconds: unspanned(300.0),
            keep_free_mb: unspanned(50.0),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct RawStation {
    pub(super) name: String,
    pub(super) time_zone: Spanned<String>,
    pub(super) data_dir: PathBuf,
    pub(super) seed_demo: bool,
    pub(super) approval_required: bool,
    pub(super) min_free_mb: Spanned<u64>,
}

impl Default for RawStation {
    fn default() -> Self {
        RawStation {
            name: "Đài truyền thanh".to_owned(),
            time_zone: Spanned::new(0..0, "Asia/Ho_Chi_Minh".to_owned()),
            data_dir: PathBuf::from("/var/lib/loa"),
            seed_demo: false,
            approval_required: false,
            min_free_mb: unspanned(200),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct RawAudio {
    pub(super) output: Spanned<String>,
    pub(super) sample_rate: Spanned<u32>,
    pub(super) channels: Spanned<u16>,
    pub(super) target_lufs: Spanned<f64>,
    pub(super) true_peak_ceiling_dbtp: Spanned<f64>,
    pub(super) master_volume_db: Spanned<f64>,
    pub(super) gap_seconds: Spanned<f64>,
    pub(super) chime: Option<PathBuf>,
}

impl Default for RawAudio {
    fn default() -> Self {
        RawAudio {
            output: unspanned("auto".to_owned()),
            sample_rate: unspanned(48_000),
            channels: unspanned(2),
            target_lufs: unspanned(-16.0),
            true_peak_ceiling_dbtp: unspanned(-1.0),
            master_volume_db: unspanned(0.0),
            gap_seconds: unspanned(1.5),
            chime: Some(PathBuf::from("/usr/share/loa/media/chime.wav")),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct RawSchedule {
    pub(super) catch_up_minutes: Spanned<f64>,
    pub(super) warm_up_seconds: Spanned<f64>,
    pub(super) hold_seconds: Spanned<f64>,
    pub(super) earliest: Spanned<String>,
    pub(super) latest: Spanned<String>,
    pub(super) quiet_hours: Vec<Spanned<String>>,
    pub(super) max_session_minutes: Spanned<f64>,
    pub(super) require_clock_sync: bool,
}

impl Default for RawSchedule {
    fn default() -> Self {
        RawSchedule {
            catch_up_minutes: unspanned(15.0),
            warm_up_seconds: unspanned(3.0),
            hold_seconds: unspanned(5.0),
            earliest: unspanned("05:00".to_owned()),
            latest: unspanned("21:30".to_owned()),
            quiet_hours: Vec::new(),
            max_session_minutes: unspanned(30.0),
            require_clock_sync: true,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct RawAmp {
    pub(super) relay: Spanned<String>,
    pub(super) gpio_chip: PathBuf,
    pub(super) gpio_line: u32,
    pub(super) active_low: bool,
    pub(super) on_command: Option<Spanned<String>>,
    pub(super) off_command: Option<Spanned<String>>,
    pub(super) command_timeout_seconds: Spanned<f64>,
    pub(super) max_on_minutes: Spanned<f64>,
}

impl Default for RawAmp {
    fn default() -> Self {
        RawAmp {
            relay: unspanned("none".to_owned()),
            gpio_chip: PathBuf::from("/dev/gpiochip0"),
            gpio_line: 17,
            active_low: true,
            on_command: None,
            off_command: None,
            command_timeout_seconds: unspanned(5.0),
            max_on_minutes: unspanned(60.0),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct RawPanel {
    pub(super) listen: Spanned<String>,
}

impl Default for RawPanel {
    fn default() -> Self {
        RawPanel {
            listen: unspanned("127.0.0.1:8080".to_owned()),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawToken {
    pub(super) name: String,
    pub(super) token: Spanned<String>,
}

pub(super) fn unspanned<T>(value: T) -> Spanned<T> {
    Spanned::new(0..0, value)
}
