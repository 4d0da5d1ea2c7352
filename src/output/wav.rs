//! The `wav:PATH` output: a WAV file holding exactly the samples that would reach the amplifier.
//!
//! Samples are stored as 32-bit IEEE float at the output format, unchanged, and writes are
//! paced in real time like a device. Broadcasts are stored back to back; the idle time between
//! them is not stored. The header is refreshed on every drain and about once a second, so the
//! file stays readable while it grows. Opening truncates an existing file. It does not resample
//! or convert anything.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::pacer::Pacer;
use super::{Output, OutputError, OutputFormat, PACING_LEAD, check_frames};

/// How much audio may be written between two header refreshes.
const FLUSH_EVERY: Duration = Duration::from_secs(1);

/// An output writing a 32-bit float WAV file in real time.
pub struct WavOutput {
    name: String,
    path: PathBuf,
    format: OutputFormat,
    writer: hound::WavWriter<BufWriter<File>>,
    pacer: Pacer,
    unflushed: usize,
    begun: bool,
    first_sample: Option<Instant>,
}

impl WavOutput {
    /// Creates (or truncates) the file at `path`.
    pub fn create(path: &Path, format: OutputFormat) -> Result<Self, OutputError> {
        format.validate()?;
        let spec = hound::WavSpec {
            channels: format.channels,
            sample_rate: format.sample_rate,
            bits_per_sample: 32,
            sample_format: hound::SampleFormat::Float,
        };
        let writer =
            hound::WavWriter::create(path, spec).map_err(|source| OutputError::WavCreate {
                path: path.to_owned(),
                source,
            })?;
        Ok(WavOutput {
            name: format!("wav:{}", path.display()),
            path: path.to_owned(),
            format,
            writer,
            pacer: Pacer::new(format.sample_rate, PACING_LEAD),
            unflushed: 0,
            begun: false,
            first_sample: None,
        })
    }

    /// Rewrites the header so the file is complete as it stands.
    fn flush(&mut self) -> Result<(), OutputError> {
        self.unflushed = 0;
        self.writer.flush().map_err(|source| OutputError::WavWrite {
            path: self.path.clone(),
            source,
        })
    }
}

impl Output for WavOutput {
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
        let written_at = Instant::now();
        for &sample in samples {
            self.writer
                .write_sample(sample)
                .map_err(|source| OutputError::WavWrite {
                    path: self.path.clone(),
                    source,
                })?;
        }
        if self.begun {
            self.begun = false;
            self.first_sample = Some(written_at);
        }
        self.unflushed += samples.len();
        if self.unflushed >= self.format.samples_for(FLUSH_EVERY) {
            self.flush()?;
        }
        self.pacer
            .advance(samples.len() / usize::from(self.format.channels));
        Ok(())
    }

    fn drain(&mut self) -> Result<(), OutputError> {
        self.flush()?;
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
    use super::*;

    fn temp_path(name: &str) -> PathBuf {
        std::env::temp_dir().join(format!("loa-wav-test-{}-{name}", std::process::id()))
    }

    #[test]
    fn wav_holds_exactly_the_written_samples_in_real_time() {
        let format = OutputFormat {
            sample_rate: 16_000,
            channels: 2,
        };
        let path = temp_path("exact.wav");
        let samples: Vec<f32> = (0..format.samples_for(Duration::from_millis(400)))
            .map(|i| ((i % 97) as f32 / 97.0) - 0.5)
            .collect();
        let mut output = WavOutput::create(&path, format).unwrap();
        let started = Instant::now();
        let first = super::super::play_samples(&mut output, &samples).unwrap();
        let elapsed = started.elapsed();
        drop(output);

        assert!(elapsed >= Duration::from_millis(395), "took {elapsed:?}");
        assert!(elapsed < Duration::from_millis(600), "took {elapsed:?}");
        assert!(first.duration_since(started) < Duration::from_millis(10));

        let mut reader = hound::WavReader::open(&path).unwrap();
        let spec = reader.spec();
        assert_eq!((spec.channels, spec.sample_rate), (2, 16_000));
        assert_eq!(spec.sample_format, hound::SampleFormat::Float);
        let read: Vec<f32> = reader.samples::<f32>().map(Result::unwrap).collect();
        assert_eq!(read, samples, "bit-exact round trip");
        let _ = std::fs::remove_file(&path);
    }

    #[test]
    fn wav_header_is_valid_after_drain_while_still_open() {
        let format = OutputFormat {
            sample_rate: 8_000,
            channels: 1,
        };
        let path = temp_path("open.wav");
        let mut output = WavOutput::create(&path, format).unwrap();
        super::super::play_samples(&mut output, &[0.5; 800]).unwrap();
        let reader = hound::WavReader::open(&path).unwrap();
        assert_eq!(reader.len(), 800);
        drop(output);
        let _ = std::fs::remove_file(&path);
    }

    #[test]
    fn wav_create_error_names_the_path() {
        let path = Path::new("/nonexistent-dir-for-loa/out.wav");
        let error = WavOutput::create(path, OutputFormat::STEREO_48K)
            .err()
            .expect("cannot create");
        assert_eq!(
            error.to_string(),
            "cannot create wav file /nonexistent-dir-for-loa/out.wav"
        );
    }
}
