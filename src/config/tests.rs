//! Tests of config parsing and validation: the shipped files parse, and every kind of
//! mistake is reported with its file, line and column.

use std::path::Path;
use std::time::Duration;

use super::*;

fn parse(text: &str) -> Result<Config, ConfigError> {
    Config::parse(text, Path::new("loa.toml"))
}

#[test]
fn shipped_example_config_parses_with_documented_defaults() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/loa.example.toml");
    let config = Config::load(&path).unwrap();
    assert_eq!(config.station.time_zone, chrono_tz::Asia::Ho_Chi_Minh);
    assert_eq!(config.audio.target_lufs, -16.0);
    assert_eq!(config.audio.ceiling_dbtp, -1.0);
    assert_eq!(config.audio.output, OutputSpec::Auto);
    assert_eq!(config.schedule.catch_up, Duration::from_secs(15 * 60));
    assert_eq!(config.amp.relay, RelaySpec::None);
    // The example documents every default: an empty file means the same thing.
    let defaults = parse("").unwrap();
    assert_eq!(
        format!("{:?}", defaults.audio),
        format!("{:?}", config.audio)
    );
    assert_eq!(
        format!("{:?}", defaults.schedule),
        format!("{:?}", config.schedule)
    );
    assert_eq!(format!("{:?}", defaults.amp), format!("{:?}", config.amp));
    assert_eq!(defaults.library, config.library);
    assert_eq!(config.library.max_upload_bytes, 200_000_000);
    assert_eq!(defaults.station.time_zone, config.station.time_zone);
    assert_eq!(defaults.station.data_dir, config.station.data_dir);
    assert_eq!(defaults.panel.listen, config.panel.listen);
}

#[test]
fn shipped_local_config_parses() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/loa.toml");
    let config = Config::load(&path).unwrap();
    assert!(config.station.seed_demo);
    assert_eq!(config.station.data_dir, Path::new("./data"));
    assert_eq!(config.panel.listen.ip().to_string(), "127.0.0.1");
}

#[test]
fn mistakes_are_reported_with_line_and_column() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "[station]\ntime_zon = \"Asia/Ho_Chi_Minh\"\n",
            "loa.toml:2:1",
            "unknown field `time_zon`",
        ),
        (
            "[station]\ntime_zone = \"Asia/Hanoi_City\"\n",
            "loa.toml:2:13",
            "unknown time zone",
        ),
        (
            "[audio]\ntarget_lufs = \"loud\"\n",
            "loa.toml:2:15",
            "invalid type",
        ),
        (
            "[audio]\noutput = \"speaker\"\n",
            "loa.toml:2:10",
            "invalid output",
        ),
        (
            "[audio]\nchannels = 6\n",
            "loa.toml:2:12",
            "channels must be 1 or 2",
        ),
        (
            "[audio]\ntarget_lufs = 3.0\n",
            "loa.toml:2:15",
            "target_lufs",
        ),
        (
            "[schedule]\nearliest = \"5h30\"\n",
            "loa.toml:2:12",
            "must look like \"05:30\"",
        ),
        (
            "[schedule]\nearliest = \"22:00\"\nlatest = \"21:00\"\n",
            "loa.toml:3:10",
            "latest must be after earliest",
        ),
        (
            "[schedule]\nquiet_hours = [\"12:00\"]\n",
            "loa.toml:2:16",
            "quiet hours",
        ),
        (
            "[schedule]\ncatch_up_minutes = -5.0\n",
            "loa.toml:2:20",
            "must be between",
        ),
        ("[amp]\nrelay = \"usb\"\n", "loa.toml:2:9", "is not one of"),
        (
            "[amp]\nrelay = \"command\"\non_command = \"x\"\n",
            "loa.toml:2:9",
            "needs off_command",
        ),
        (
            "[panel]\nlisten = \"localhost\"\n",
            "loa.toml:2:10",
            "is not IP:PORT",
        ),
        (
            "[[tokens]]\nname = \"a\"\ntoken = \"short\"\n",
            "loa.toml:3:9",
            "at least 16",
        ),
        ("[unknown]\n", "loa.toml:1:2", "unknown field `unknown`"),
        ("[station\n", "loa.toml:1:9", ""),
    ];
    for (text, location, message) in cases {
        let err = parse(text).expect_err(text).to_string();
        assert!(
            err.starts_with(location),
            "{text:?}: {err:?} should start with {location}"
        );
        assert!(
            err.contains(message),
            "{text:?}: {err:?} should contain {message:?}"
        );
    }
}

#[test]
fn valid_values_become_real_types() {
    let config = parse(
        "[audio]\noutput = \"wav:/tmp/x.wav\"\ngap_seconds = 2.5\n\
         [schedule]\nquiet_hours = [\"22:00-05:00\"]\n\
         [amp]\nrelay = \"gpio\"\ngpio_line = 4\nactive_low = false\n",
    )
    .unwrap();
    assert_eq!(config.audio.output, OutputSpec::Wav("/tmp/x.wav".into()));
    assert_eq!(config.audio.gap, Duration::from_millis(2500));
    let q = config.schedule.rules.quiet_hours[0];
    assert!(q.contains(NaiveTime::from_hms_opt(23, 0, 0).unwrap()));
    assert!(!q.contains(NaiveTime::from_hms_opt(6, 0, 0).unwrap()));
    assert_eq!(
        config.amp.relay,
        RelaySpec::Gpio {
            chip: "/dev/gpiochip0".into(),
            line: 4,
            active_low: false
        }
    );
}

#[test]
fn unreadable_file_names_the_path() {
    let err = Config::load(Path::new("/nonexistent/loa.toml"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("/nonexistent/loa.toml"), "{err}");
}
