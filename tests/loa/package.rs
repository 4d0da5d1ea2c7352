//! The Debian package and the systemd unit, checked cheaply on every test run: the
//! `[package.metadata.deb]` assets exist and land where the unit and the shipped config
//! expect them, the maintainer scripts are valid shell that make the `loa` user, and
//! `systemd-analyze security` rates the unit at 2.0 or lower.
//!
//! Building the real .deb needs a release build (minutes on two cores), so it is not done
//! here: `scripts/check-deb.sh` builds it and inspects its contents, and `.ci/run` runs that
//! after this suite.

use std::path::Path;
use std::process::Command;

use crate::support::repo;

/// The `[package.metadata.deb]` table.
fn deb_metadata() -> toml::Table {
    let text = std::fs::read_to_string(repo().join("Cargo.toml")).unwrap();
    let manifest: toml::Table = text.parse().unwrap();
    manifest["package"]["metadata"]["deb"]
        .as_table()
        .expect("[package.metadata.deb] in Cargo.toml")
        .clone()
}

/// `(source, dest, mode)` of every asset.
fn assets() -> Vec<(String, String, String)> {
    deb_metadata()["assets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            let a = a.as_array().expect("assets as [source, dest, mode]");
            let s = |i: usize| a[i].as_str().unwrap().to_owned();
            (s(0), s(1), s(2))
        })
        .collect()
}

/// The installed path of an asset (dest ending in `/` keeps the source's file name).
fn installed(source: &str, dest: &str) -> String {
    if dest.ends_with('/') {
        format!("/{dest}{}", source.rsplit('/').next().unwrap())
    } else {
        format!("/{dest}")
    }
}

fn unit() -> String {
    std::fs::read_to_string(repo().join("systemd/loa.service")).unwrap()
}

/// The value of `Key=` in the unit (the first one).
fn unit_value(key: &str) -> String {
    unit()
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{key}=")))
        .unwrap_or_else(|| panic!("{key}= missing in systemd/loa.service"))
        .to_owned()
}

#[test]
fn package_assets_exist_and_match_the_unit_and_the_shipped_config() {
    let assets = assets();
    let mut installed_files = Vec::new();
    for (source, dest, mode) in &assets {
        assert!(
            u32::from_str_radix(mode, 8).is_ok_and(|m| m & 0o002 == 0),
            "{source}: mode {mode} must be octal and not world-writable"
        );
        if source == "target/release/loa" {
            installed_files.push((installed(source, dest), mode.clone()));
            continue;
        }
        if let Some(dir) = source.strip_suffix("/*") {
            let entries: Vec<_> = std::fs::read_dir(repo().join(dir)).unwrap().collect();
            assert!(!entries.is_empty(), "{source} matches nothing");
            for e in entries {
                let name = e.unwrap().file_name().to_string_lossy().into_owned();
                installed_files.push((format!("/{dest}{name}"), mode.clone()));
            }
            continue;
        }
        assert!(repo().join(source).is_file(), "asset {source} missing");
        installed_files.push((installed(source, dest), mode.clone()));
    }
    let mode_of = |path: &str| {
        installed_files
            .iter()
            .find(|(p, _)| p == path)
            .map(|(_, m)| m.as_str())
            .unwrap_or_else(|| panic!("{path} not in the package: {installed_files:?}"))
    };
    // The binary where the unit starts it, executable.
    let exec = unit_value("ExecStart");
    let mut words = exec.split_whitespace();
    let binary = words.next().unwrap();
    assert_eq!(mode_of(binary), "755");
    // The config the unit names is the commented example, not world-readable (tokens).
    let config_path = words
        .skip_while(|w| *w != "--config")
        .nth(1)
        .expect("ExecStart passes --config");
    assert_eq!(config_path, "/etc/loa/loa.toml");
    assert_eq!(mode_of(config_path), "640");
    let (source, _, _) = assets
        .iter()
        .find(|(s, d, _)| installed(s, d) == config_path)
        .unwrap();
    assert_eq!(source, "config/loa.example.toml");
    // The example config runs as installed: its data_dir is the unit's state directory and
    // its chime is shipped.
    let config = loa::config::Config::load(&repo().join(source)).unwrap();
    assert_eq!(
        config.station.data_dir,
        Path::new("/var/lib").join(unit_value("StateDirectory"))
    );
    assert_eq!(
        config.station.data_dir,
        Path::new(&unit_value("WorkingDirectory"))
    );
    let chime = config.audio.chime.expect("the example config has a chime");
    mode_of(chime.to_str().unwrap());
    mode_of("/usr/share/loa/media/demo/tong-dai-111.mp3");
    // The unit's Documentation= points at a file the package installs.
    let doc = unit_value("Documentation");
    mode_of(doc.strip_prefix("file://").unwrap());
    // The unit is installed from systemd/ by cargo-deb, not enabled before the config is
    // edited, and restarted on upgrade.
    let units = deb_metadata()["systemd-units"].as_table().unwrap().clone();
    assert_eq!(units["unit-scripts"].as_str(), Some("systemd/"));
    assert_eq!(units["enable"].as_bool(), Some(false));
    assert_eq!(units["restart-after-upgrade"].as_bool(), Some(true));
}

#[test]
fn maintainer_scripts_are_valid_shell_and_make_the_loa_user() {
    let dir = deb_metadata()["maintainer-scripts"]
        .as_str()
        .unwrap()
        .to_owned();
    for name in ["postinst", "prerm", "postrm"] {
        let path = repo().join(&dir).join(name);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("#!/bin/sh\n"), "{name}: needs #!/bin/sh");
        assert!(text.contains("set -e"), "{name}: needs set -e");
        assert!(
            text.contains("#DEBHELPER#"),
            "{name}: the systemd snippets go at #DEBHELPER#"
        );
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o111, 0o111, "{name}: must be executable");
        let syntax = Command::new("sh").arg("-n").arg(&path).output().unwrap();
        assert!(
            syntax.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&syntax.stderr)
        );
    }
    let postinst = std::fs::read_to_string(repo().join(&dir).join("postinst")).unwrap();
    for needed in [
        "useradd --system",
        "--groups audio,gpio loa",
        "groupadd --system gpio",
        "install -d -o loa -g loa -m 0750 /var/lib/loa",
        "chown root:loa /etc/loa /etc/loa/loa.toml",
    ] {
        assert!(postinst.contains(needed), "postinst lacks {needed:?}");
    }
    // The unit's user and groups are the ones postinst makes.
    assert_eq!(unit_value("User"), "loa");
    assert_eq!(unit_value("SupplementaryGroups"), "audio gpio");
}

#[test]
fn the_unit_is_notify_with_a_watchdog_and_ordered_after_sound_and_time_sync() {
    assert_eq!(unit_value("Type"), "notify");
    let watchdog: u64 = unit_value("WatchdogSec").parse().unwrap();
    // The engine naps at most a minute and the daemon pings every third of the period
    // while the loop turns: the period must leave room for two naps.
    assert!(watchdog >= 150, "WatchdogSec={watchdog}");
    let after = unit_value("After");
    for target in ["sound.target", "time-sync.target"] {
        assert!(after.contains(target), "After= lacks {target}");
    }
    // A broadcast box never gives up restarting (systemd's default start limit would
    // leave it failed after 5 quick starts).
    assert_eq!(unit_value("Restart"), "always");
    assert_eq!(unit_value("StartLimitIntervalSec"), "0");
    let restart_sec: u64 = unit_value("RestartSec").parse().unwrap();
    assert!(
        (1..=30).contains(&restart_sec),
        "RestartSec={restart_sec}: a crash before a session must be back in time"
    );
}

/// The exposure figure of `systemd-analyze security --offline=true`. There is no skip:
/// the tool comes with Debian's `systemd` package, which `scripts/install-deps.sh` installs.
#[test]
fn the_unit_is_hardened_to_an_exposure_of_2_or_lower() {
    let unit = repo().join("systemd/loa.service");
    let out = Command::new("systemd-analyze")
        .args(["security", "--offline=true", "--no-pager"])
        .arg(&unit)
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run systemd-analyze ({e}): install Debian's systemd package (scripts/install-deps.sh)")
        });
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find(|l| l.contains("Overall exposure level"))
        .unwrap_or_else(|| {
            panic!(
                "no exposure figure from systemd-analyze: {}{text}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
    let figure: f64 = line
        .split(':')
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("cannot read the figure in {line:?}"));
    println!("systemd-analyze security exposure of loa.service: {figure}");
    assert!(figure <= 2.0, "exposure {figure} > 2.0:\n{text}");
}

/// Regression: `ProtectClock=yes` or a filter without adjtimex kills the daemon with SIGSYS
/// at its first clock-sync check, so no scheduled broadcast would ever air.
#[test]
fn the_unit_lets_the_daemon_ask_whether_the_clock_is_synchronised() {
    let unit = unit();
    assert!(
        !unit.lines().any(|l| l.trim() == "ProtectClock=yes"),
        "ProtectClock filters adjtimex"
    );
    let last_filter = unit
        .lines()
        .rfind(|l| l.starts_with("SystemCallFilter="))
        .expect("a system call filter");
    assert!(
        last_filter.contains("adjtimex"),
        "adjtimex must be allowed last: {last_filter}"
    );
    assert!(
        unit.lines()
            .any(|l| l.trim() == "SystemCallErrorNumber=EPERM")
    );
}
