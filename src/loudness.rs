//! EBU R128 loudness measurement (integrated loudness, loudness range, true peak) through the
//! `ebur128` crate, the [`Gain`] newtype, and the rule that turns a clip's loudness into the gain
//! the player applies.
//!
//! [`analyse_file`] decodes a file once, streaming, and measures it as it goes, so memory stays
//! bounded whatever the clip's length. This module does not apply gain to samples or play
//! anything; it only says how loud a clip is and how much to turn it up or down.

use std::path::{Path, PathBuf};
use std::time::Duration;

use ebur128::{EbuR128, Mode};

use crate::decode::{DecodeError, Decoder, Pcm};

/// A clip's loudness by EBU R128. Every field is finite: silence and clips too short to
/// measure read [`Loudness::SILENCE_LUFS`], and a digital-zero peak reads
/// [`Loudness::PEAK_FLOOR_DBTP`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Loudness {
    /// Integrated (programme) loudness in LUFS, gated as BS.1770-4 says.
    pub integrated_lufs: f64,
    /// Loudness range in LU (EBU Tech 3342); 0 when there is too little audio to tell.
    pub range_lu: f64,
    /// The highest true (inter-sample) peak of any channel, in dBTP.
    pub true_peak_dbtp: f64,
}

/// What `loa` stores about a clip after decoding it once.
#[derive(Debug, Clone, PartialEq)]
pub struct ClipAnalysis {
    /// How long the clip plays.
    pub duration: Duration,
    /// Native sample rate of the file.
    pub sample_rate: u32,
    /// Channel count of the file.
    pub channels: u16,
    /// Codec short name, e.g. `mp3`, `aac`.
    pub codec: &'static str,
    /// Container short name, e.g. `isomp4`, `wave`.
    pub container: &'static str,
    /// EBU R128 figures of the whole clip.
    pub loudness: Loudness,
}

/// A gain as a linear factor, made from decibels. Always finite and within
/// [`Gain::MIN_DB`]..=[`Gain::MAX_DB`]; never NaN.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Gain {
    db: f64,
}

/// A streaming EBU R128 meter fed with interleaved `f32` blocks.
pub struct LoudnessMeter {
    meter: EbuR128,
}

/// Why loudness could not be measured.
#[derive(Debug, thiserror::Error)]
pub enum LoudnessError {
    /// The meter does not accept this layout (no channels, over 64 channels, or a rate
    /// outside 16 Hz..=2.8 MHz).
    #[error("cannot measure loudness of {channels}-channel audio at {sample_rate} Hz")]
    Layout {
        sample_rate: u32,
        channels: u16,
        #[source]
        source: ebur128::Error,
    },
    /// A block's length is not a whole number of frames.
    #[error("a block of {samples} samples is not a whole number of {channels}-channel frames")]
    PartialFrame { samples: usize, channels: u16 },
    /// The meter itself failed.
    #[error("loudness meter failed")]
    Meter(#[source] ebur128::Error),
}

/// Why a file could not be analysed.
#[derive(Debug, thiserror::Error)]
pub enum AnalyseError {
    /// The file does not decode completely.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// The file decodes but its loudness cannot be measured.
    #[error("cannot measure the loudness of {path}")]
    Loudness {
        path: PathBuf,
        #[source]
        source: LoudnessError,
    },
}

/// Measures a decoded clip held in memory.
pub fn measure(pcm: &Pcm) -> Result<Loudness, LoudnessError> {
    let mut meter = LoudnessMeter::new(pcm.sample_rate, pcm.channels)?;
    meter.add(&pcm.samples)?;
    meter.finish()
}

/// Decodes `path` completely, streaming, and measures it on the way: one pass, memory bounded
/// by a decoded block plus the meter's block history (about 80 bytes a second).
pub fn analyse_file(path: &Path) -> Result<ClipAnalysis, AnalyseError> {
    let mut decoder = Decoder::open(path)?;
    let format = decoder.format().clone();
    let loudness_err = |source| AnalyseError::Loudness {
        path: path.to_owned(),
        source,
    };
    let mut meter =
        LoudnessMeter::new(format.sample_rate, format.channels).map_err(loudness_err)?;
    while let Some(block) = decoder.next_block()? {
        meter.add(block).map_err(loudness_err)?;
    }
    let frames = decoder.frames_decoded();
    let rate = u64::from(format.sample_rate);
    Ok(ClipAnalysis {
        duration: Duration::from_secs(frames / rate)
            + Duration::from_nanos((frames % rate) * 1_000_000_000 / rate),
        sample_rate: format.sample_rate,
        channels: format.channels,
        codec: format.codec,
        container: format.container,
        loudness: meter.finish().map_err(loudness_err)?,
    })
}

impl Loudness {
    /// What silence reads: the absolute gate of BS.1770. A clip with no 400 ms block louder
    /// than this (including any clip shorter than 400 ms) has no measurable loudness.
    pub const SILENCE_LUFS: f64 = -70.0;
    /// What a peak of digital zero reads, instead of minus infinity.
    pub const PEAK_FLOOR_DBTP: f64 = -120.0;

    /// Whether the clip has no measurable loudness (silence, or shorter than one 400 ms block).
    pub fn is_silent(&self) -> bool {
        self.integrated_lufs <= Self::SILENCE_LUFS
    }
}

impl Gain {
    /// Unity gain: 0 dB, factor 1.
    pub const UNITY: Gain = Gain { db: 0.0 };
    /// The quietest gain (−120 dB, a factor of one millionth): inaudible, yet finite.
    pub const MIN_DB: f64 = -120.0;
    /// The loudest gain: +40 dB, a factor of 100. No recording worth playing needs more.
    pub const MAX_DB: f64 = 40.0;

    /// A gain of `db` decibels, clamped to [`Gain::MIN_DB`]..=[`Gain::MAX_DB`]. NaN, which only
    /// a bug upstream can produce, gives unity rather than silence or a blast.
    pub fn from_db(db: f64) -> Gain {
        if db.is_nan() {
            return Gain::UNITY;
        }
        Gain {
            db: db.clamp(Self::MIN_DB, Self::MAX_DB),
        }
    }

    /// The factor to multiply samples by.
    pub fn linear(&self) -> f32 {
        10f64.powf(self.db / 20.0) as f32
    }

    /// The gain in decibels.
    pub fn db(&self) -> f64 {
        self.db
    }

    /// The gain that brings a clip to `target_lufs` without its true peak passing
    /// `ceiling_dbtp`, then trimmed by the station's master volume:
    /// `min(target_lufs − integrated, ceiling_dbtp − true_peak) + master_db`.
    ///
    /// A silent clip (see [`Loudness::is_silent`]) is not normalised: its loudness term is 0 dB,
    /// so it gets `min(0, ceiling − peak) + master`, never a huge boost of its noise floor.
    /// The master volume is applied after the ceiling, so a positive master can lift a clip
    /// past the ceiling; the configuration is expected to keep it at or below 0 dB.
    pub fn for_clip(l: &Loudness, target_lufs: f64, ceiling_dbtp: f64, master_db: f64) -> Gain {
        let to_target = if l.is_silent() {
            0.0
        } else {
            target_lufs - l.integrated_lufs
        };
        let to_ceiling = ceiling_dbtp - l.true_peak_dbtp;
        Gain::from_db(to_target.min(to_ceiling) + master_db)
    }
}

impl LoudnessMeter {
    /// A meter for interleaved audio of this rate and channel count. Mono counts as one
    /// channel (no dual-mono +3 dB), as BS.1770 and ffmpeg's `ebur128` filter do.
    pub fn new(sample_rate: u32, channels: u16) -> Result<LoudnessMeter, LoudnessError> {
        let mode = Mode::I | Mode::LRA | Mode::TRUE_PEAK | Mode::SAMPLE_PEAK;
        let meter = EbuR128::new(u32::from(channels), sample_rate, mode).map_err(|source| {
            LoudnessError::Layout {
                sample_rate,
                channels,
                source,
            }
        })?;
        Ok(LoudnessMeter { meter })
    }

    /// Feeds a block of interleaved samples; blocks may have any whole number of frames.
    pub fn add(&mut self, interleaved: &[f32]) -> Result<(), LoudnessError> {
        let channels = self.meter.channels() as usize;
        if !interleaved.len().is_multiple_of(channels) {
            return Err(LoudnessError::PartialFrame {
                samples: interleaved.len(),
                channels: channels as u16,
            });
        }
        self.meter
            .add_frames_f32(interleaved)
            .map_err(LoudnessError::Meter)
    }

    /// The figures for everything fed so far.
    pub fn finish(&self) -> Result<Loudness, LoudnessError> {
        let integrated = self.meter.loudness_global().map_err(LoudnessError::Meter)?;
        let range = self.meter.loudness_range().map_err(LoudnessError::Meter)?;
        let mut peak = 0.0f64;
        for channel in 0..self.meter.channels() {
            peak = peak.max(
                self.meter
                    .true_peak(channel)
                    .map_err(LoudnessError::Meter)?,
            );
        }
        Ok(Loudness {
            integrated_lufs: if integrated.is_finite() {
                integrated.max(Loudness::SILENCE_LUFS)
            } else {
                Loudness::SILENCE_LUFS
            },
            range_lu: if range.is_finite() { range } else { 0.0 },
            true_peak_dbtp: if peak > 0.0 {
                (20.0 * peak.log10()).max(Loudness::PEAK_FLOOR_DBTP)
            } else {
                Loudness::PEAK_FLOOR_DBTP
            },
        })
    }
}

#[cfg(test)]
#[path = "loudness/tests.rs"]
mod tests;
