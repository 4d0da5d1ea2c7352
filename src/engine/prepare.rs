//! Turning a playlist into audio ready for the player: decode each clip once, convert it to
//! the output format, and compute its gain from the loudness measured at ingest.
//!
//! This is the one place where gain is decided (target loudness, true-peak ceiling, master
//! volume), used by the engine for broadcasts and by `loa play`. It does not play anything.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

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

/// Decoded clips kept for the next broadcasts, keyed by clip id. Clips are decoded on a
/// background thread ahead of their broadcast ([`ClipCache::prepare_in_background`]), so
/// the engine loop never waits on a decoder unless a broadcast comes unannounced.
#[derive(Debug, Clone, Default)]
pub struct ClipCache {
    shared: Arc<(Mutex<HashMap<ClipId, Slot>>, Condvar)>,
}

#[derive(Debug, Clone)]
enum Slot {
    Pending,
    Ready(ReadyClip),
    Failed(String),
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
    /// Decodes the clips not yet held, on a background thread.
    pub fn prepare_in_background(
        &self,
        clips: Vec<(ClipId, PathBuf)>,
        policy: GainPolicy,
        format: OutputFormat,
    ) {
        let todo: Vec<(ClipId, PathBuf)> = {
            let mut map = self.lock();
            clips
                .into_iter()
                .filter(|(id, _)| {
                    let fresh = !matches!(map.get(id), Some(Slot::Pending | Slot::Ready(_)));
                    if fresh {
                        map.insert(*id, Slot::Pending);
                    }
                    fresh
                })
                .collect()
        };
        if todo.is_empty() {
            return;
        }
        let shared = self.shared.clone();
        let spawned = std::thread::Builder::new()
            .name("loa-prepare".to_owned())
            .spawn(move || {
                for (id, path) in todo {
                    let slot = match ready_file(&path, &policy, format) {
                        Ok(r) => Slot::Ready(r),
                        Err(e) => Slot::Failed(e),
                    };
                    let (map, ready) = &*shared;
                    map.lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .insert(id, slot);
                    ready.notify_all();
                }
            });
        if let Err(e) = spawned {
            tracing::error!(error = %e, "cannot start a decoding thread; clips decode when they air");
            self.lock().retain(|_, s| !matches!(s, Slot::Pending));
        }
    }

    /// The ready clip: waits for a background decode in progress, or decodes it now.
    pub fn get_or_ready(
        &self,
        id: ClipId,
        path: &Path,
        policy: &GainPolicy,
        format: OutputFormat,
    ) -> Result<ReadyClip, String> {
        let (_, ready) = &*self.shared;
        let mut map = self.lock();
        loop {
            match map.get(&id) {
                Some(Slot::Ready(c)) => return Ok(c.clone()),
                Some(Slot::Failed(e)) => {
                    let e = e.clone();
                    map.remove(&id);
                    return Err(e);
                }
                Some(Slot::Pending) => {
                    map = ready.wait(map).unwrap_or_else(PoisonError::into_inner);
                }
                None => break,
            }
        }
        drop(map);
        let clip = ready_file(path, policy, format)?;
        self.lock().insert(id, Slot::Ready(clip.clone()));
        Ok(clip)
    }

    /// Keeps only the given clips (those of upcoming broadcasts) and decodes in progress.
    pub fn retain(&self, keep: &[ClipId]) {
        self.lock()
            .retain(|id, s| matches!(s, Slot::Pending) || keep.contains(id));
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<ClipId, Slot>> {
        self.shared.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
