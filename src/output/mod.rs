//! Audio outputs: the small [`Output`] trait and its sinks.
//!
//! A sink receives interleaved `f32` samples at one fixed [`OutputFormat`], blocks so that it
//! never runs ahead of the wall clock by more than a small buffer, drains on request and
//! reports when the first sample of a broadcast reached the device. The sinks are `alsa:DEVICE`
//! (real output through rodio and cpal), `wav:PATH` (a file holding exactly what would reach the
//! amplifier), `null` (discards) and `auto` (ALSA default, else a clearly logged `null`), chosen
//! by an [`OutputSpec`] parsed from the config. The in-memory [`CaptureOutput`] is a public test
//! helper. This module also lists devices (`loa devices`) and renders test tones (`loa tone`).
//! It does not decide what to play, apply gain or run a thread: that is the player's job.

mod alsa;
pub mod capture;
pub mod devices;
mod null;
mod pacer;
pub mod tone;
mod wav;

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::{Duration, Instant};

pub use alsa::AlsaOutput;
pub use capture::{CaptureHandle, CaptureLog, CaptureOutput, CapturedWrite};
pub use devices::{DeviceKind, OutputDevice, Recommendation, list_output_devices, recommend};
pub use null::NullOutput;
pub use tone::Tone;
pub use wav::WavOutput;

/// The longest block the player hands to an output at once, so that a stop is prompt.
pub const MAX_BLOCK: Duration = Duration::from_millis(20);

/// How far ahead of the wall clock the paced sinks (`wav`, `null`, capture) may run.
pub const PACING_LEAD: Duration = Duration::from_millis(50);

/// The sample rate and channel count every sample written to an output is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct OutputFormat {
    /// Frames per second.
    pub sample_rate: u32,
    /// Interleaved channels per frame.
    pub channels: u16,
}

/// A sink receiving interleaved `f32` samples at a fixed format.
///
/// A broadcast is written as `begin`, any number of `write` calls and `drain`. Real-time sinks
/// block in `write` so that they never run more than a small buffer ahead of the wall clock.
pub trait Output: Send {
    /// A stable, human-readable name such as `alsa:default` or `wav:/tmp/out.wav`.
    fn name(&self) -> &str;

    /// The format every written sample must be in.
    fn format(&self) -> OutputFormat;

    /// Marks the start of a broadcast: the next sample written is its first sample.
    fn begin(&mut self);

    /// Writes whole frames of interleaved samples, blocking to stay in real time.
    fn write(&mut self, samples: &[f32]) -> Result<(), OutputError>;

    /// Waits until every written sample has been played.
    fn drain(&mut self) -> Result<(), OutputError>;

    /// Drops audio that was written but has not been played yet (used when a broadcast stops).
    fn discard(&mut self) {}

    /// When the device consumed the first sample written after the last `begin`, if it has.
    fn first_sample_instant(&self) -> Option<Instant>;

    /// Reports a device failure noticed while idle, so that the player can reopen the output.
    fn check(&mut self) -> Result<(), OutputError> {
        Ok(())
    }
}

/// The name `auto` reports when no ALSA device opened and audio goes nowhere; health
/// checks recognise it.
pub const AUTO_FALLBACK_NAME: &str = "null (auto fallback)";

/// Which output to open, as written in the config (`alsa:DEVICE`, `wav:PATH`, `null`, `auto`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OutputSpec {
    /// A real ALSA device through rodio and cpal, named like `default` or
    /// `plughw:CARD=Headphones,DEV=0`.
    Alsa(String),
    /// A WAV file receiving exactly what would reach the amplifier, paced in real time.
    Wav(PathBuf),
    /// Discards everything, paced in real time.
    Null,
    /// The ALSA default device if it opens, else `null` with a warning in the log.
    Auto,
}

/// Why an output could not be parsed, opened or written.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    /// The config string names no known output.
    #[error("invalid output \"{spec}\": {reason}")]
    InvalidSpec {
        /// The string as written.
        spec: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The output format cannot be played.
    #[error("invalid output format {sample_rate} Hz, {channels} channels: {reason}")]
    InvalidFormat {
        /// The requested sample rate.
        sample_rate: u32,
        /// The requested channel count.
        channels: u16,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A write did not contain whole frames.
    #[error(
        "write of {samples} samples to {output} is not a whole number of {channels}-channel frames"
    )]
    PartialFrame {
        /// The output written to.
        output: String,
        /// The number of samples in the write.
        samples: usize,
        /// The channel count of the output.
        channels: u16,
    },
    /// No ALSA device has this name.
    #[error("alsa device \"{device}\" not found; available: {available}")]
    AlsaDeviceNotFound {
        /// The requested device name.
        device: String,
        /// The output devices that exist, comma-separated.
        available: String,
    },
    /// The ALSA host could not be queried.
    #[error("cannot list alsa devices")]
    AlsaList(#[source] rodio::cpal::Error),
    /// The ALSA device exists but could not be opened.
    #[error("cannot open alsa device \"{device}\"{alsa_lib}")]
    AlsaOpen {
        /// The device name.
        device: String,
        /// What rodio reported.
        #[source]
        source: rodio::DeviceSinkError,
        /// What alsa-lib printed while opening, as ` (alsa-lib: …)`, or empty.
        alsa_lib: String,
    },
    /// The open ALSA stream reported a fatal error.
    #[error("alsa device \"{device}\" failed")]
    AlsaStream {
        /// The device name.
        device: String,
        /// What cpal reported.
        #[source]
        source: rodio::cpal::Error,
    },
    /// The ALSA device stopped consuming audio.
    #[error("alsa device \"{device}\" stalled: no audio consumed for {seconds} s")]
    AlsaStalled {
        /// The device name.
        device: String,
        /// How long nothing was consumed.
        seconds: u64,
    },
    /// The WAV file could not be created.
    #[error("cannot create wav file {}", path.display())]
    WavCreate {
        /// The file path.
        path: PathBuf,
        /// What hound reported.
        #[source]
        source: hound::Error,
    },
    /// The WAV file could not be written.
    #[error("cannot write wav file {}", path.display())]
    WavWrite {
        /// The file path.
        path: PathBuf,
        /// What hound reported.
        #[source]
        source: hound::Error,
    },
    /// A test tone's parameters cannot be rendered.
    #[error("invalid tone: {0}")]
    InvalidTone(String),
    /// A capture output was told to fail (tests only).
    #[error("capture output failed: {0}")]
    CaptureFailed(String),
}

impl OutputFormat {
    /// The usual format: 48 kHz stereo.
    pub const STEREO_48K: OutputFormat = OutputFormat {
        sample_rate: 48_000,
        channels: 2,
    };

    /// Checks that the format can be played (8–192 kHz, 1–8 channels).
    pub fn validate(&self) -> Result<(), OutputError> {
        let reason = if !(8_000..=192_000).contains(&self.sample_rate) {
            "sample rate must be between 8000 and 192000 Hz"
        } else if !(1..=8).contains(&self.channels) {
            "channel count must be between 1 and 8"
        } else {
            return Ok(());
        };
        Err(OutputError::InvalidFormat {
            sample_rate: self.sample_rate,
            channels: self.channels,
            reason,
        })
    }

    /// The number of interleaved samples in whole frames lasting about `duration` (rounded down).
    pub fn samples_for(&self, duration: Duration) -> usize {
        let frames = (duration.as_nanos() * u128::from(self.sample_rate) / 1_000_000_000) as usize;
        frames * usize::from(self.channels)
    }

    /// How long `samples` interleaved samples play.
    pub fn duration_of(&self, samples: usize) -> Duration {
        let frames = (samples / usize::from(self.channels.max(1))) as u128;
        let nanos = frames * 1_000_000_000 / u128::from(self.sample_rate.max(1));
        Duration::from_nanos(nanos as u64)
    }

    /// The number of interleaved samples in one block of at most [`MAX_BLOCK`].
    pub fn block_samples(&self) -> usize {
        self.samples_for(MAX_BLOCK).max(usize::from(self.channels))
    }
}

impl fmt::Display for OutputFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} Hz, {} ch", self.sample_rate, self.channels)
    }
}

impl FromStr for OutputSpec {
    type Err = OutputError;

    fn from_str(spec: &str) -> Result<Self, Self::Err> {
        let invalid = |reason: &str| OutputError::InvalidSpec {
            spec: spec.to_owned(),
            reason: reason.to_owned(),
        };
        match spec.trim() {
            "null" => Ok(OutputSpec::Null),
            "auto" => Ok(OutputSpec::Auto),
            trimmed => match trimmed.split_once(':') {
                Some(("alsa", "")) => Err(invalid("alsa needs a device, e.g. alsa:default")),
                Some(("alsa", device)) => Ok(OutputSpec::Alsa(device.to_owned())),
                Some(("wav", "")) => Err(invalid("wav needs a path, e.g. wav:/tmp/loa.wav")),
                Some(("wav", path)) => Ok(OutputSpec::Wav(PathBuf::from(path))),
                _ => Err(invalid("expected alsa:DEVICE, wav:PATH, null or auto")),
            },
        }
    }
}

impl fmt::Display for OutputSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OutputSpec::Alsa(device) => write!(f, "alsa:{device}"),
            OutputSpec::Wav(path) => write!(f, "wav:{}", path.display()),
            OutputSpec::Null => f.write_str("null"),
            OutputSpec::Auto => f.write_str("auto"),
        }
    }
}

impl OutputSpec {
    /// Opens this output at `format`. Call it on the thread that will write to the output.
    pub fn open(&self, format: OutputFormat) -> Result<Box<dyn Output>, OutputError> {
        format.validate()?;
        match self {
            OutputSpec::Alsa(device) => Ok(Box::new(AlsaOutput::open(device, format)?)),
            OutputSpec::Wav(path) => Ok(Box::new(WavOutput::create(path, format)?)),
            OutputSpec::Null => Ok(Box::new(NullOutput::new(format))),
            OutputSpec::Auto => match AlsaOutput::open("default", format) {
                Ok(output) => Ok(Box::new(output)),
                Err(error) => {
                    tracing::warn!(
                        error = %error_chain(&error),
                        "output auto: alsa default device unavailable, falling back to null; \
                         nothing will be heard"
                    );
                    Ok(Box::new(NullOutput::named(format, AUTO_FALLBACK_NAME)))
                }
            },
        }
    }

    /// A factory closure opening this output at `format` each time it is called, for the player.
    pub fn factory(
        self,
        format: OutputFormat,
    ) -> impl FnMut() -> Result<Box<dyn Output>, OutputError> + Send + 'static {
        move || self.open(format)
    }
}

/// Writes `samples` as one broadcast (`begin`, blocks of at most [`MAX_BLOCK`], `drain`) and
/// returns when its first sample reached the device. `loa tone` uses this.
pub fn play_samples(output: &mut dyn Output, samples: &[f32]) -> Result<Instant, OutputError> {
    let block = output.format().block_samples();
    output.begin();
    for chunk in samples.chunks(block) {
        output.write(chunk)?;
    }
    output.drain()?;
    Ok(output.first_sample_instant().unwrap_or_else(Instant::now))
}

/// Renders an error with its chain of sources, joined by ": ", for logs and events.
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(inner) = source {
        let inner_text = inner.to_string();
        if !text.ends_with(&inner_text) {
            text.push_str(": ");
            text.push_str(&inner_text);
        }
        source = inner.source();
    }
    text
}

/// Checks that `samples` holds whole frames for `format`.
fn check_frames(name: &str, format: OutputFormat, samples: &[f32]) -> Result<(), OutputError> {
    if samples
        .len()
        .is_multiple_of(usize::from(format.channels.max(1)))
    {
        Ok(())
    } else {
        Err(OutputError::PartialFrame {
            output: name.to_owned(),
            samples: samples.len(),
            channels: format.channels,
        })
    }
}

#[cfg(test)]
mod tests;
