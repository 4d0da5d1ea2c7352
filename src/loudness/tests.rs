//! Tests for `loudness`: reference tones against figures from `ffmpeg -af ebur128=peak=true`,
//! fixtures through the streaming analysis, and the gain rule.

use super::*;

const RATE: u32 = 48_000;

/// `seconds` of a 1 kHz sine, peak amplitude `amplitude(t)`, copied to `channels` channels.
fn sine(seconds: f64, channels: u16, amplitude: impl Fn(f64) -> f64) -> Pcm {
    let frames = (seconds * f64::from(RATE)) as usize;
    let samples = (0..frames)
        .flat_map(|i| {
            let t = i as f64 / f64::from(RATE);
            let s = (amplitude(t) * (2.0 * std::f64::consts::PI * 1000.0 * t).sin()) as f32;
            std::iter::repeat_n(s, usize::from(channels))
        })
        .collect();
    Pcm {
        sample_rate: RATE,
        channels,
        samples,
    }
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn assert_near(got: f64, want: f64, tolerance: f64, what: &str) {
    assert!(
        (got - want).abs() <= tolerance,
        "{what}: {got}, want {want} ± {tolerance}"
    );
}

#[test]
fn sine_at_minus_20_dbfs_mono_reads_minus_23_lufs() {
    // `ffmpeg -f lavfi -i "aevalsrc=0.1*sin(2*PI*1000*t):s=48000:d=10" -af ebur128=peak=true`
    // reports I: -23.0 LUFS, LRA: 0.0 LU, Peak: -20.0 dBFS.
    let l = measure(&sine(10.0, 1, |_| 0.1)).unwrap();
    assert_near(l.integrated_lufs, -23.0, 0.3, "integrated");
    assert_near(l.range_lu, 0.0, 0.5, "range");
    assert_near(l.true_peak_dbtp, -20.0, 0.2, "true peak");
    assert!(!l.is_silent());
}

#[test]
fn the_same_sine_on_two_channels_reads_3_lu_louder() {
    // ffmpeg, same tone on both channels ("…|…" in aevalsrc): I: -20.0 LUFS, Peak: -20.0 dBFS.
    let l = measure(&sine(10.0, 2, |_| 0.1)).unwrap();
    assert_near(l.integrated_lufs, -20.0, 0.3, "integrated");
    assert_near(l.true_peak_dbtp, -20.0, 0.2, "true peak");
}

#[test]
fn a_step_of_10_db_gives_a_loudness_range_of_10_lu() {
    // ffmpeg, 5 s at -20 dBFS then 5 s at -30 dBFS: I: -25.6 LUFS, LRA: 10.0 LU.
    let l = measure(&sine(10.0, 1, |t| if t < 5.0 { 0.1 } else { 0.031_622_8 })).unwrap();
    assert_near(l.integrated_lufs, -25.6, 0.3, "integrated");
    assert_near(l.range_lu, 10.0, 0.5, "range");
}

#[test]
fn feeding_odd_sized_blocks_gives_the_same_figures_as_one_block() {
    let pcm = sine(4.0, 2, |t| 0.05 + 0.05 * t / 4.0);
    let whole = measure(&pcm).unwrap();
    let mut meter = LoudnessMeter::new(RATE, 2).unwrap();
    for block in pcm.samples.chunks(2 * 1_153) {
        meter.add(block).unwrap();
    }
    assert_eq!(meter.finish().unwrap(), whole);
}

#[test]
fn silence_and_too_short_clips_read_finite_floor_values() {
    let cases = [
        ("digital silence", sine(3.0, 1, |_| 0.0)),
        (
            "300 ms tone, shorter than one gating block",
            sine(0.3, 1, |_| 0.5),
        ),
        ("no samples at all", sine(0.0, 2, |_| 0.5)),
    ];
    for (what, pcm) in cases {
        let l = measure(&pcm).unwrap();
        assert!(l.is_silent(), "{what}: {l:?}");
        assert_eq!(l.integrated_lufs, Loudness::SILENCE_LUFS, "{what}");
        assert_eq!(l.range_lu, 0.0, "{what}");
        assert!(l.true_peak_dbtp.is_finite(), "{what}: {l:?}");
    }
    let l = measure(&sine(3.0, 1, |_| 0.0)).unwrap();
    assert_eq!(l.true_peak_dbtp, Loudness::PEAK_FLOOR_DBTP);
}

#[test]
fn a_partial_frame_or_an_impossible_layout_is_an_error() {
    let mut meter = LoudnessMeter::new(RATE, 2).unwrap();
    let err = meter.add(&[0.0; 3]).unwrap_err();
    assert!(
        matches!(
            err,
            LoudnessError::PartialFrame {
                samples: 3,
                channels: 2
            }
        ),
        "{err}"
    );
    for (rate, channels) in [(48_000, 0), (8, 1)] {
        let err = LoudnessMeter::new(rate, channels)
            .err()
            .expect("layout accepted");
        assert!(matches!(err, LoudnessError::Layout { .. }), "{err}");
    }
}

#[test]
fn analyse_file_matches_ffmpeg_on_fixtures() {
    // ffmpeg -i FILE -af ebur128=peak=true -f null -  (I, Peak).
    let cases = [
        ("speech-44k-stereo.mp3", 44_100, 2, -20.7, -3.5),
        ("speech-22k-mono-s16.wav", 22_050, 1, -21.9, -1.5),
        ("speech-48k-stereo.m4a", 48_000, 2, -20.2, -3.0),
    ];
    for (name, rate, channels, lufs, peak) in cases {
        let a = analyse_file(&fixture(name)).unwrap();
        assert_eq!((a.sample_rate, a.channels), (rate, channels), "{name}");
        assert_near(a.loudness.integrated_lufs, lufs, 0.3, name);
        assert_near(a.loudness.true_peak_dbtp, peak, 0.5, name);
        let pcm = crate::decode::decode_file(&fixture(name)).unwrap();
        assert_eq!(a.duration, pcm.duration(), "{name}");
        assert_eq!(a.loudness, measure(&pcm).unwrap(), "{name}");
    }
}

#[test]
fn analyse_file_passes_decode_errors_through() {
    let err = analyse_file(&fixture("truncated.mp3")).unwrap_err();
    assert!(
        matches!(err, AnalyseError::Decode(DecodeError::Truncated { .. })),
        "{err:?}"
    );
    assert!(err.to_string().contains("truncated.mp3"), "{err}");
}

fn loudness(integrated_lufs: f64, true_peak_dbtp: f64) -> Loudness {
    Loudness {
        integrated_lufs,
        range_lu: 0.0,
        true_peak_dbtp,
    }
}

#[test]
fn gain_rule_takes_the_smaller_of_target_and_ceiling_then_master() {
    let silent = loudness(Loudness::SILENCE_LUFS, Loudness::PEAK_FLOOR_DBTP);
    // (what, loudness, target, ceiling, master, expected dB)
    let cases = [
        (
            "quiet clip lifted to target",
            loudness(-30.0, -10.0),
            -23.0,
            -1.0,
            0.0,
            7.0,
        ),
        (
            "ceiling bound",
            loudness(-30.0, -3.0),
            -23.0,
            -1.0,
            0.0,
            2.0,
        ),
        (
            "loud clip turned down",
            loudness(-16.0, -0.5),
            -23.0,
            -1.0,
            0.0,
            -7.0,
        ),
        (
            "peak already over ceiling",
            loudness(-23.0, 0.5),
            -23.0,
            -1.0,
            0.0,
            -1.5,
        ),
        (
            "master trims after the rule",
            loudness(-30.0, -10.0),
            -23.0,
            -1.0,
            -6.0,
            1.0,
        ),
        ("silence is not normalised", silent, -23.0, -1.0, 0.0, 0.0),
        ("silence still gets master", silent, -23.0, -1.0, -3.0, -3.0),
        (
            "huge boost is capped",
            loudness(-69.0, -60.0),
            -23.0,
            -1.0,
            0.0,
            Gain::MAX_DB,
        ),
        (
            "nan target ignores the target",
            loudness(-30.0, -10.0),
            f64::NAN,
            -1.0,
            0.0,
            9.0,
        ),
    ];
    for (what, l, target, ceiling, master, want) in cases {
        let gain = Gain::for_clip(&l, target, ceiling, master);
        assert_near(gain.db(), want, 1e-9, what);
    }
}

#[test]
fn gain_from_db_is_finite_clamped_and_converts_to_linear() {
    let cases = [
        (0.0, 0.0, 1.0),
        (20.0, 20.0, 10.0),
        (-6.020_6, -6.020_6, 0.5),
        (f64::NAN, 0.0, 1.0),
        (f64::INFINITY, Gain::MAX_DB, 100.0),
        (f64::NEG_INFINITY, Gain::MIN_DB, 1e-6),
        (1e300, Gain::MAX_DB, 100.0),
    ];
    for (db, want_db, want_linear) in cases {
        let gain = Gain::from_db(db);
        assert_eq!(gain.db(), want_db, "{db} dB");
        let linear = gain.linear();
        assert!(linear.is_finite() && linear > 0.0, "{db} dB → {linear}");
        assert!(
            (linear / want_linear - 1.0).abs() < 1e-4,
            "{db} dB → {linear}, want {want_linear}"
        );
    }
    assert_eq!(Gain::UNITY, Gain::from_db(0.0));
    assert!(Gain::from_db(-3.0) < Gain::from_db(3.0));
}
