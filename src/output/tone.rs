//! Test tones for `loa tone`, and the small analysis used to check that a tone came through.
//!
//! [`Tone`] renders a sine at a frequency, a level in dBFS and a duration, identical on every
//! channel, with 10 ms raised-cosine fades so the speakers do not click. [`rms`],
//! [`tone_amplitude`] (Goertzel) and [`zero_crossing_frequency`] measure captured audio in
//! tests. Nothing here touches a device.

use std::f64::consts::PI;
use std::time::Duration;

use super::{OutputError, OutputFormat};

/// How long the fade in and the fade out of a tone last.
pub const TONE_FADE: Duration = Duration::from_millis(10);

/// A sine test tone.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tone {
    /// Frequency in hertz, below half the sample rate.
    pub frequency_hz: f32,
    /// Peak level in dBFS, at most 0.
    pub level_dbfs: f32,
    /// How long it lasts.
    pub duration: Duration,
}

impl Tone {
    /// The peak amplitude (linear) of this tone.
    pub fn amplitude(&self) -> f32 {
        10f32.powf(self.level_dbfs / 20.0)
    }

    /// Renders the tone as interleaved samples at `format`.
    pub fn render(&self, format: OutputFormat) -> Result<Vec<f32>, OutputError> {
        format.validate()?;
        let nyquist = format.sample_rate as f32 / 2.0;
        if !(self.frequency_hz.is_finite()
            && self.frequency_hz > 0.0
            && self.frequency_hz < nyquist)
        {
            return Err(OutputError::InvalidTone(format!(
                "frequency {} Hz must be above 0 and below {nyquist} Hz",
                self.frequency_hz
            )));
        }
        if !(self.level_dbfs.is_finite() && self.level_dbfs <= 0.0) {
            return Err(OutputError::InvalidTone(format!(
                "level {} dBFS must be at most 0 dBFS",
                self.level_dbfs
            )));
        }
        let channels = usize::from(format.channels);
        let frames = format.samples_for(self.duration) / channels;
        let fade = (format.samples_for(TONE_FADE) / channels)
            .min(frames / 2)
            .max(1);
        let amplitude = f64::from(self.amplitude());
        let step = 2.0 * PI * f64::from(self.frequency_hz) / f64::from(format.sample_rate);
        let mut samples = Vec::with_capacity(frames * channels);
        for frame in 0..frames {
            let edge = frame.min(frames - 1 - frame);
            let envelope = if edge < fade {
                0.5 - 0.5 * (PI * edge as f64 / fade as f64).cos()
            } else {
                1.0
            };
            let value = (amplitude * envelope * (step * frame as f64).sin()) as f32;
            samples.extend(std::iter::repeat_n(value, channels));
        }
        Ok(samples)
    }
}

/// One channel of interleaved samples.
pub fn channel(samples: &[f32], channels: u16, index: u16) -> Vec<f32> {
    samples
        .iter()
        .skip(usize::from(index))
        .step_by(usize::from(channels.max(1)))
        .copied()
        .collect()
}

/// The root mean square of `samples` (0 for none).
pub fn rms(samples: &[f32]) -> f32 {
    if samples.is_empty() {
        return 0.0;
    }
    let sum: f64 = samples.iter().map(|&s| f64::from(s) * f64::from(s)).sum();
    (sum / samples.len() as f64).sqrt() as f32
}

/// The amplitude of the `frequency_hz` component of mono `samples` (Goertzel algorithm).
pub fn tone_amplitude(samples: &[f32], sample_rate: u32, frequency_hz: f32) -> f32 {
    if samples.is_empty() {
        return 0.0;
    }
    let omega = 2.0 * PI * f64::from(frequency_hz) / f64::from(sample_rate);
    let coefficient = 2.0 * omega.cos();
    let (mut previous, mut before) = (0.0f64, 0.0f64);
    for &sample in samples {
        let current = f64::from(sample) + coefficient * previous - before;
        before = previous;
        previous = current;
    }
    let power = previous * previous + before * before - coefficient * previous * before;
    (2.0 * power.max(0.0).sqrt() / samples.len() as f64) as f32
}

/// The frequency of mono `samples` estimated from their rising zero crossings.
pub fn zero_crossing_frequency(samples: &[f32], sample_rate: u32) -> f32 {
    let rising: Vec<usize> = samples
        .windows(2)
        .enumerate()
        .filter(|(_, pair)| pair[0] < 0.0 && pair[1] >= 0.0)
        .map(|(index, _)| index)
        .collect();
    match (rising.first(), rising.last()) {
        (Some(&first), Some(&last)) if last > first => {
            (rising.len() - 1) as f32 * sample_rate as f32 / (last - first) as f32
        }
        _ => 0.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MONO_8K: OutputFormat = OutputFormat {
        sample_rate: 8_000,
        channels: 1,
    };

    #[test]
    fn tone_has_the_requested_frequency_level_and_length() {
        let cases = [
            (440.0, -6.0, 500),
            (1_000.0, -20.0, 250),
            (100.0, 0.0, 1_000),
        ];
        for (frequency_hz, level_dbfs, millis) in cases {
            let tone = Tone {
                frequency_hz,
                level_dbfs,
                duration: Duration::from_millis(millis),
            };
            let samples = tone.render(OutputFormat::STEREO_48K).unwrap();
            assert_eq!(samples.len(), 96 * millis as usize, "{tone:?}");
            let left = channel(&samples, 2, 0);
            assert_eq!(left, channel(&samples, 2, 1), "identical channels");
            let peak = left.iter().fold(0f32, |m, s| m.max(s.abs()));
            assert!(
                (peak - tone.amplitude()).abs() < 0.01,
                "{tone:?} peak {peak}"
            );
            let measured = zero_crossing_frequency(&left, 48_000);
            assert!(
                (measured - frequency_hz).abs() < 2.0,
                "{tone:?} measured {measured}"
            );
            let level = tone_amplitude(&left, 48_000, frequency_hz);
            assert!((level - tone.amplitude()).abs() < 0.05 * tone.amplitude());
        }
    }

    #[test]
    fn tone_fades_in_and_out() {
        let tone = Tone {
            frequency_hz: 1_000.0,
            level_dbfs: 0.0,
            duration: Duration::from_millis(100),
        };
        let samples = tone.render(MONO_8K).unwrap();
        assert_eq!(samples[0], 0.0);
        assert!(samples[..8].iter().all(|s| s.abs() < 0.05));
        assert!(samples[samples.len() - 8..].iter().all(|s| s.abs() < 0.05));
    }

    #[test]
    fn tone_rejects_impossible_parameters() {
        let cases = [(0.0, -6.0), (4_000.0, -6.0), (f32::NAN, -6.0), (440.0, 3.0)];
        for (frequency_hz, level_dbfs) in cases {
            let tone = Tone {
                frequency_hz,
                level_dbfs,
                duration: Duration::from_millis(10),
            };
            assert!(tone.render(MONO_8K).is_err(), "{tone:?}");
        }
    }

    #[test]
    fn goertzel_separates_frequencies_and_rms_measures_level() {
        let tone = Tone {
            frequency_hz: 500.0,
            level_dbfs: -6.0,
            duration: Duration::from_secs(1),
        };
        let samples = tone.render(MONO_8K).unwrap();
        assert!(tone_amplitude(&samples, 8_000, 500.0) > 0.45);
        assert!(tone_amplitude(&samples, 8_000, 1_500.0) < 0.01);
        let expected_rms = tone.amplitude() / 2f32.sqrt();
        assert!((rms(&samples) - expected_rms).abs() < 0.01);
        assert_eq!(rms(&[]), 0.0);
    }
}
