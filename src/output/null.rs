//! The `null` output: discards every sample, paced in real time.
//!
//! It behaves like a device that plays silence to nobody: writes take as long as the audio
//! lasts, so schedules and logs look the same as with a real amplifier. It is also what `auto`
//! falls back to when no ALSA device opens. It keeps nothing it is given.

use std::time::Instant;

use super::pacer::Pacer;
use super::{Output, OutputError, OutputFormat, PACING_LEAD, check_frames};

/// An output that discards samples in real time.
#[derive(Debug)]
pub struct NullOutput {
    name: String,
    format: OutputFormat,
    pacer: Pacer,
    begun: bool,
    first_sample: Option<Instant>,
}

impl NullOutput {
    /// A null output named `null`.
    pub fn new(format: OutputFormat) -> Self {
        Self::named(format, "null")
    }

    /// A null output with a custom name, such as `null (auto fallback)`.
    pub fn named(format: OutputFormat, name: &str) -> Self {
        NullOutput {
            name: name.to_owned(),
            format,
            pacer: Pacer::new(format.sample_rate, PACING_LEAD),
            begun: false,
            first_sample: None,
        }
    }
}

impl Output for NullOutput {
    fn name(&self) -> &str {
        &self.name
    }

    fn format(&self) -> OutputFormat {
        self.format
    }

    fn begin(&mut self) {
        self.begun = true;
        self.first_sample = None;
    }

    fn write(&mut self, samples: &[f32]) -> Result<(), OutputError> {
        check_frames(&self.name, self.format, samples)?;
        if samples.is_empty() {
            return Ok(());
        }
        let start = self
            .pacer
            .advance(samples.len() / usize::from(self.format.channels));
        if self.begun {
            self.begun = false;
            self.first_sample = Some(start);
        }
        Ok(())
    }

    fn drain(&mut self) -> Result<(), OutputError> {
        self.pacer.drain();
        Ok(())
    }

    fn discard(&mut self) {
        self.pacer.discard();
    }

    fn first_sample_instant(&self) -> Option<Instant> {
        self.first_sample
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn null_is_paced_in_real_time() {
        let format = OutputFormat {
            sample_rate: 8_000,
            channels: 2,
        };
        let mut output = NullOutput::new(format);
        let block = vec![0.25; format.block_samples()];
        let started = Instant::now();
        output.begin();
        for _ in 0..25 {
            output.write(&block).unwrap();
        }
        output.drain().unwrap();
        let elapsed = started.elapsed();
        assert!(elapsed >= Duration::from_millis(495), "took {elapsed:?}");
        assert!(elapsed < Duration::from_millis(700), "took {elapsed:?}");
        let first = output.first_sample_instant().expect("first sample time");
        assert!(first.duration_since(started) < Duration::from_millis(10));
    }

    #[test]
    fn null_rejects_partial_frames() {
        let mut output = NullOutput::new(OutputFormat::STEREO_48K);
        let error = output.write(&[0.0; 3]).unwrap_err();
        assert!(matches!(
            error,
            OutputError::PartialFrame { samples: 3, .. }
        ));
    }
}
