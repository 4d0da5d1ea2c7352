//! Turning a playlist into audio ready for the player: decode each clip once, convert it to
//! the output format, and compute its gain from the loudness measured at ingest.
//!
//! This is the one place where gain is decided (target loudness, true-peak ceiling, master
//! volume), used by the engine for broadcasts and by `loa play`. It does not play anything.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use crate::decode;
use crate::loudness::{self, Gain, Loudness};
use crate::model::ClipId;
use crate::output::OutputFormat;
use crate::resample;

/// Loudness settings from the config.
#[derive(Debug, Clone, Copy)]
pub struct GainPolicy {
    /// Target integrated loudness, LUFS.
    pub target_lufs: f64,
    /// True-peak ceiling, dBTP.
    pub ceiling_dbtp: f64,
    /// Master volume, dB.
    pub master_db: f64,
}

/// One decoded clip at the output format, with its gain.
#[derive(Debug, Clone)]
pub struct ReadyClip {
    /// Interleaved samples at the output format, before gain.
    pub pcm: Arc<Vec<f32>>,
    /// The gain to apply.
    pub gain: Gain,
}

/// Decoded clips kept for the next broadcasts, keyed by clip id.
#[derive(Debug, Default)]
pub struct ClipCache {
    clips: HashMap<ClipId, ReadyClip>,
}

impl GainPolicy {
    /// The gain for audio with these measurements.
    pub fn gain_for_measured(&self, l: &Loudness) -> Gain {
        Gain::for_clip(l, self.target_lufs, self.ceiling_dbtp, self.master_db)
    }
}

/// Decodes a file, converts it to `format`, and measures the converted audio: the gain is
/// computed from what will really reach the output (a mono clip played on two channels
/// measures 3 LU louder than the same clip alone; measuring after conversion accounts for
/// that and for any resampling).
pub fn ready_file(
    path: &Path,
    policy: &GainPolicy,
    format: OutputFormat,
) -> Result<ReadyClip, String> {
    let pcm = decode::decode_file(path).map_err(|e| e.to_string())?;
    let converted = resample::convert(&pcm, format.sample_rate, format.channels)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let measured = loudness::measure(&converted).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(ReadyClip {
        pcm: Arc::new(converted.samples),
        gain: policy.gain_for_measured(&measured),
    })
}

impl ClipCache {
    /// The ready clip, decoding it first if needed.
    pub fn get_or_ready(
        &mut self,
        id: ClipId,
        path: &Path,
        policy: &GainPolicy,
        format: OutputFormat,
    ) -> Result<ReadyClip, String> {
        if let Some(c) = self.clips.get(&id) {
            return Ok(c.clone());
        }
        let ready = ready_file(path, policy, format)?;
        self.clips.insert(id, ready.clone());
        Ok(ready)
    }

    /// Keeps only the given clips (those of upcoming broadcasts), freeing the rest.
    pub fn retain(&mut self, keep: &[ClipId]) {
        self.clips.retain(|id, _| keep.contains(id));
    }

    /// How many clips are held.
    pub fn len(&self) -> usize {
        self.clips.len()
    }

    /// Whether no clip is held.
    pub fn is_empty(&self) -> bool {
        self.clips.is_empty()
    }
}
