//! The `loa` binary as a technician uses it: `cron`, `check`, `next`, `play` to a wav
//! file, exit codes for bad input, and plain log lines for journald.

use crate::support::{read_wav, repo, run, write_config};

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn cron_prints_the_next_times_in_the_station_zone() {
    let o = run(&[
        "cron",
        "0 6,17 * * MON-SAT",
        "--from",
        "2026-06-05T12:00:00+07:00",
        "--count",
        "5",
        "--tz",
        "Asia/Ho_Chi_Minh",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "2026-06-05T17:00:00+07:00\n2026-06-06T06:00:00+07:00\n2026-06-06T17:00:00+07:00\n\
         2026-06-08T06:00:00+07:00\n2026-06-08T17:00:00+07:00\n"
    );
}

#[test]
fn bad_cron_and_bad_zone_exit_2_with_a_reason() {
    let o = run(&["cron", "0 25 * * *", "--count", "1"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("hour field \"25\""), "{}", stderr(&o));
    let o = run(&["cron", "0 6 * * *", "--tz", "Mars/Olympus"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("unknown time zone"), "{}", stderr(&o));
}

#[test]
fn check_reports_a_config_typo_with_its_place_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), "[audio]\noutptu = \"null\"\n");
    let o = run(&["--config", config.to_str().unwrap(), "check"]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains("loa.toml:4:1"), "{err}");
    assert!(err.contains("unknown field `outptu`"), "{err}");
}

#[test]
fn check_passes_on_a_working_setup() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        &format!(
            "[audio]\noutput = \"null\"\nchime = \"{}\"\n",
            repo().join("media/chime.wav").display()
        ),
    );
    let o = run(&["--config", config.to_str().unwrap(), "check"]);
    let out = stdout(&o);
    assert!(out.contains("ok      database"), "{out}");
    assert!(out.contains("ok      output: null"), "{out}");
    assert!(out.contains("ok      chime"), "{out}");
    // The clock line is a real reading of this machine: it may be either.
    assert!(out.contains("clock: "), "{out}");
}

#[test]
fn check_reports_the_kernels_clock_and_whether_sync_is_required() {
    // This machine's kernel decides which branch runs; each asserts what loa must say.
    let synchronised = loa::clock::kernel_clock_synchronised();
    for required in [true, false] {
        let dir = tempfile::tempdir().unwrap();
        let config = write_config(
            dir.path(),
            &format!(
                "[audio]\noutput = \"null\"\nchime = \"{}\"\n[schedule]\nrequire_clock_sync = {required}\n",
                repo().join("media/chime.wav").display()
            ),
        );
        let o = run(&["--config", config.to_str().unwrap(), "check"]);
        let out = stdout(&o);
        let (line, code) = match (synchronised, required) {
            (true, true) => ("ok      clock: synchronised (required)", 0),
            (true, false) => ("ok      clock: synchronised (not required)", 0),
            (false, true) => (
                "PROBLEM  clock: not synchronised, and require_clock_sync = true",
                1,
            ),
            // A warning, which `loa check` reports without failing, as it does the others.
            (false, false) => (
                "warn    clock: not synchronised, and require_clock_sync = false",
                0,
            ),
        };
        assert!(out.contains(line), "{line} in\n{out}");
        assert_eq!(o.status.code(), Some(code), "{out}");
    }
}

#[test]
fn next_lists_the_demo_station_with_vietnamese_names() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), "seed_demo = true\n");
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_loa"))
        .current_dir(repo())
        .args(["--config", config.to_str().unwrap(), "next", "--count", "3"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert_eq!(out.lines().count(), 3, "{out}");
    assert!(out.contains("Phát thanh"), "{out}");
    assert!(out.lines().all(|l| l.contains("+07:00")), "{out}");
}

#[test]
fn play_normalises_a_demo_clip_to_the_target_through_the_wav_output() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        "[schedule]\nwarm_up_seconds = 0.2\nhold_seconds = 1\n",
    );
    let wav = dir.path().join("out.wav");
    let clip = repo().join("media/demo/tre-em-hanh-phuc.m4a");
    let o = run(&[
        "--config",
        config.to_str().unwrap(),
        "play",
        clip.to_str().unwrap(),
        "--output",
        &format!("wav:{}", wav.display()),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let (samples, channels, rate) = read_wav(&wav);
    assert_eq!((channels, rate), (2, 48_000));
    let seconds = samples.len() as f64 / 96_000.0;
    assert!((seconds - 9.17).abs() < 0.1, "{seconds} s");
    let pcm = loa::decode::Pcm {
        sample_rate: rate,
        channels,
        samples,
    };
    // The clip was recorded quietly (-31.4 LUFS, true peak -11.4 dBTP). Lifting it to the
    // -16 LUFS target would push its peaks past the -1 dBTP ceiling, so the ceiling wins:
    // it comes out as loud as it can, with its true peak at the ceiling.
    let l = loa::loudness::measure(&pcm).unwrap();
    assert!(l.true_peak_dbtp <= -1.0 + 0.1, "{l:?}");
    assert!(
        l.true_peak_dbtp >= -1.0 - 0.3,
        "gain bound by the ceiling: {l:?}"
    );
    assert!(
        l.integrated_lufs > -22.0 && l.integrated_lufs <= -15.0,
        "raised from -31.4: {l:?}"
    );
}

#[test]
fn play_refuses_a_file_that_is_not_audio_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), "[audio]\noutput = \"null\"\n");
    let bogus = repo().join("tests/fixtures/text.wav");
    let o = run(&[
        "--config",
        config.to_str().unwrap(),
        "play",
        bogus.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("text.wav"), "{}", stderr(&o));
}

#[test]
fn check_names_each_problem_with_its_fix_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    // A station whose clip file has gone, on a disk that cannot keep 1 TB free.
    let data = dir.path().join("data");
    let store = loa::store::Store::open(&data.join("loa.db")).unwrap();
    let wav = dir.path().join("tong-dai-111.wav");
    crate::support::write_tone(&wav, 440.0, 0.5, -20.0);
    let media = loa::library::media_dir(&data);
    let clip =
        loa::library::add_file(&store, &media, &wav, "Tổng đài 111", chrono::Utc::now()).unwrap();
    std::fs::remove_file(loa::library::clip_path(&media, &clip)).unwrap();
    drop(store);
    let config = write_config(
        dir.path(),
        "min_free_mb = 1000000\n[audio]\noutput = \"null\"\nchime = \"\"\n",
    );
    let o = run(&["--config", config.to_str().unwrap(), "check"]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let out = stdout(&o);
    assert!(out.contains("ok      database"), "{out}");
    assert!(
        out.contains("PROBLEM  media: 1 clip file(s) missing"),
        "{out}"
    );
    assert!(out.contains("Tổng đài 111"), "{out}");
    assert!(out.contains("PROBLEM  disk"), "{out}");
    assert!(out.contains("uploads are refused"), "{out}");
    assert!(out.contains("fix: delete unused clips"), "{out}");
    assert!(out.contains("ok      last_broadcast"), "{out}");
}

/// Regression: logs reached journald as `[2m2026-…[0m [33m WARN[0m …` because colour
/// codes were written whatever stderr was. Off a terminal they are plain, and under
/// journald (`JOURNAL_STREAM` set) they carry no timestamp of their own and open with their
/// syslog priority (`<4>` for a warning).
#[test]
fn logs_off_a_terminal_have_no_colour_codes_and_no_timestamp_under_journald() {
    let dir = tempfile::tempdir().unwrap();
    // An ALSA configuration with no PCM at all: `auto` falls back to null with a warning.
    let alsa = dir.path().join("asound.conf");
    std::fs::write(&alsa, "").unwrap();
    let config = write_config(
        dir.path(),
        "[audio]\noutput = \"auto\"\nchime = \"\"\n[schedule]\nwarm_up_seconds = 0\nhold_seconds = 0\n",
    );
    for journald in [false, true] {
        let mut cmd = crate::support::loa();
        cmd.args([
            "--config",
            config.to_str().unwrap(),
            "tone",
            "--seconds",
            "0.1",
        ])
        .env("ALSA_CONFIG_PATH", &alsa)
        .env_remove("JOURNAL_STREAM")
        .env_remove("NO_COLOR");
        if journald {
            cmd.env("JOURNAL_STREAM", "8:12345");
        }
        let o = cmd.output().unwrap();
        assert!(o.status.success(), "{}", stderr(&o));
        let err = stderr(&o);
        let warn = err
            .lines()
            .find(|l| l.contains("falling back to null"))
            .unwrap_or_else(|| panic!("no fallback warning logged: {err}"));
        assert!(!warn.contains('\u{1b}'), "colour codes in {warn:?}");
        assert!(warn.contains("WARN"), "{warn}");
        let stamped = warn
            .split_whitespace()
            .next()
            .is_some_and(|w| chrono::DateTime::parse_from_rfc3339(w).is_ok());
        assert_eq!(stamped, !journald, "journald={journald}: {warn:?}");
        // Under journald the line opens with its syslog priority, so that
        // `journalctl -p warning` lists it (journald files a bare stderr line as info).
        assert_eq!(
            warn.starts_with("<4>WARN "),
            journald,
            "journald={journald}: {warn:?}"
        );
    }
}
