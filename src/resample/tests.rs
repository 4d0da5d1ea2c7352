//! Tests for `resample`: frequency, length, level and timing survive a rate change; channel
//! mapping; streaming equals whole-clip conversion.

use super::*;

fn tone(rate: u32, channels: u16, seconds: f64, hz: f64, onset: f64) -> Pcm {
    let frames = (seconds * f64::from(rate)).round() as usize;
    let samples = (0..frames)
        .flat_map(|i| {
            let t = i as f64 / f64::from(rate);
            let s = if t < onset {
                0.0
            } else {
                (0.5 * (2.0 * std::f64::consts::PI * hz * t).sin()) as f32
            };
            std::iter::repeat_n(s, usize::from(channels))
        })
        .collect();
    Pcm {
        sample_rate: rate,
        channels,
        samples,
    }
}

/// Upward zero crossings of channel 0 between two times.
fn crossings(pcm: &Pcm, from_s: f64, to_s: f64) -> usize {
    let ch = usize::from(pcm.channels);
    let (a, b) = (
        (from_s * f64::from(pcm.sample_rate)) as usize,
        (to_s * f64::from(pcm.sample_rate)) as usize,
    );
    (a + 1..b)
        .filter(|&i| pcm.samples[(i - 1) * ch] < 0.0 && pcm.samples[i * ch] >= 0.0)
        .count()
}

fn rms(samples: &[f32]) -> f64 {
    (samples.iter().map(|&s| f64::from(s).powi(2)).sum::<f64>() / samples.len() as f64).sqrt()
}

#[test]
fn rate_changes_keep_frequency_length_and_level() {
    // (from rate, to rate, from channels, to channels)
    let cases = [
        (44_100, 48_000, 1, 1),
        (48_000, 44_100, 2, 2),
        (22_050, 48_000, 1, 2),
        (48_000, 16_000, 2, 1),
    ];
    for (from, to, from_ch, to_ch) in cases {
        let what = format!("{from} Hz × {from_ch} → {to} Hz × {to_ch}");
        let input = tone(from, from_ch, 2.0, 1_000.0, 0.0);
        let out = convert(&input, to, to_ch).unwrap();
        assert_eq!((out.sample_rate, out.channels), (to, to_ch), "{what}");
        let want_frames = (input.frames() as u64 * u64::from(to)).div_ceil(u64::from(from));
        assert_eq!(out.frames() as u64, want_frames, "{what}");
        assert_eq!(
            out.samples.len(),
            out.frames() * usize::from(to_ch),
            "{what}"
        );
        // 1 kHz for the middle second: 1000 upward crossings, as in the input.
        assert_eq!(crossings(&input, 0.5, 1.5), 1_000, "{what} (input)");
        let got = crossings(&out, 0.5, 1.5);
        assert!((999..=1_001).contains(&got), "{what}: {got} crossings");
        let mid = |p: &Pcm| {
            let ch = usize::from(p.channels);
            let r = p.sample_rate as usize;
            rms(&p.samples[r / 2 * ch..r * 3 / 2 * ch])
        };
        let (a, b) = (mid(&input), mid(&out));
        assert!((b / a - 1.0).abs() < 0.01, "{what}: rms {a} → {b}");
    }
}

#[test]
fn the_resampler_delay_is_trimmed_so_onsets_stay_in_place() {
    let input = tone(44_100, 1, 2.0, 1_000.0, 1.0);
    let out = convert(&input, 48_000, 1).unwrap();
    let onset = out.samples.iter().position(|s| s.abs() > 0.05).unwrap();
    let at = onset as f64 / 48_000.0;
    assert!((at - 1.0).abs() < 0.002, "onset at {at} s");
}

#[test]
fn streaming_in_odd_blocks_equals_converting_the_whole_clip() {
    let input = tone(44_100, 2, 1.3, 440.0, 0.1);
    let whole = convert(&input, 48_000, 1).unwrap();
    let mut converter = Converter::new(44_100, 2, 48_000, 1).unwrap();
    let mut streamed = Vec::new();
    for block in input.samples.chunks(2 * 777) {
        converter.push(block, &mut streamed).unwrap();
    }
    converter.finish(&mut streamed).unwrap();
    assert_eq!(streamed, whole.samples);
}

#[test]
fn channel_mapping_averages_down_and_duplicates_up() {
    /// What, from channels, to channels, input, expected output.
    type Case = (&'static str, u16, u16, &'static [f32], &'static [f32]);
    let cases: [Case; 5] = [
        (
            "mono to stereo",
            1,
            2,
            &[0.1, -0.2],
            &[0.1, 0.1, -0.2, -0.2],
        ),
        ("stereo to mono", 2, 1, &[0.5, -0.5, 0.2, 0.4], &[0.0, 0.3]),
        ("stereo unchanged", 2, 2, &[0.1, 0.2], &[0.1, 0.2]),
        ("stereo to four", 2, 4, &[0.1, 0.2], &[0.1, 0.2, 0.0, 0.0]),
        ("four to stereo", 4, 2, &[0.1, 0.2, 0.3, 0.4], &[0.1, 0.2]),
    ];
    for (what, from, to, input, want) in cases {
        let mut out = Vec::new();
        remix(input, from, to, &mut out);
        assert_eq!(out.len(), want.len(), "{what}");
        for (g, w) in out.iter().zip(want) {
            assert!((g - w).abs() < 1e-6, "{what}: {out:?} vs {want:?}");
        }
    }
}

#[test]
fn mono_to_stereo_at_the_same_rate_duplicates_every_sample() {
    let input = tone(48_000, 1, 0.1, 1_000.0, 0.0);
    let out = convert(&input, 48_000, 2).unwrap();
    assert_eq!(out.frames(), input.frames());
    for (frame, s) in out.samples.chunks_exact(2).zip(&input.samples) {
        assert_eq!(frame, [*s, *s]);
    }
    assert_eq!(convert(&input, 48_000, 1).unwrap(), input);
}

#[test]
fn empty_input_gives_empty_output() {
    let empty = Pcm {
        sample_rate: 44_100,
        channels: 2,
        samples: Vec::new(),
    };
    assert!(convert(&empty, 48_000, 2).unwrap().samples.is_empty());
}

#[test]
fn bad_layouts_and_partial_frames_are_errors() {
    for (fr, fc, tr, tc) in [
        (0, 1, 48_000, 1),
        (44_100, 0, 48_000, 1),
        (44_100, 1, 48_000, 0),
    ] {
        let err = Converter::new(fr, fc, tr, tc).err().expect("accepted");
        assert!(matches!(err, ResampleError::Layout { .. }), "{err}");
    }
    let mut converter = Converter::new(44_100, 2, 48_000, 2).unwrap();
    let err = converter.push(&[0.0; 5], &mut Vec::new()).unwrap_err();
    assert!(
        matches!(
            err,
            ResampleError::PartialFrame {
                samples: 5,
                channels: 2
            }
        ),
        "{err}"
    );
}
