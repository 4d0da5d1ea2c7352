//! Conversion of interleaved `f32` audio to another sample rate and channel count, as the
//! output device needs it: channel down-mix (average) or up-mix (duplicate) and synchronous
//! FFT resampling through `rubato`.
//!
//! [`Converter`] works block by block, so a decoded stream can be converted as it is played;
//! [`convert`] does a whole clip held in memory. Channel mapping is deliberately simple: to
//! mono averages every channel, from mono copies it to every channel, and between two
//! multichannel layouts the first channels are kept (left/right first, as WAV and AAC order
//! them) and missing ones are silent; no surround down-mix matrix. This module does not decode,
//! apply gain or play anything.

use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Indexing, Resampler};

use crate::decode::Pcm;

/// Why audio could not be converted.
#[derive(Debug, thiserror::Error)]
pub enum ResampleError {
    /// A rate or channel count is zero.
    #[error("cannot convert {from_rate} Hz × {from_channels} to {to_rate} Hz × {to_channels}")]
    Layout {
        from_rate: u32,
        from_channels: u16,
        to_rate: u32,
        to_channels: u16,
    },
    /// A block's length is not a whole number of frames.
    #[error("a block of {samples} samples is not a whole number of {channels}-channel frames")]
    PartialFrame { samples: usize, channels: u16 },
    /// rubato refused the rate pair.
    #[error("cannot resample from {from_rate} Hz to {to_rate} Hz")]
    Construction {
        from_rate: u32,
        to_rate: u32,
        #[source]
        source: rubato::ResamplerConstructionError,
    },
    /// rubato failed while resampling.
    #[error("resampling failed")]
    Process(#[source] rubato::ResampleError),
}

/// A streaming converter: feed blocks with [`Converter::push`], then call
/// [`Converter::finish`] once for the tail. The output has exactly
/// `ceil(input_frames × to_rate / from_rate)` frames, aligned with the input (the
/// resampler's delay is trimmed).
pub struct Converter {
    from_channels: u16,
    to_channels: u16,
    /// The channel count resampled: the smaller of the two, since down-mixing happens
    /// before resampling and up-mixing after.
    mid_channels: u16,
    resampler: Option<Fft<f32>>,
    ratio: (u64, u64),
    /// Down-mixed input waiting for a whole resampler chunk.
    pending: Vec<f32>,
    scratch: Vec<f32>,
    to_trim: usize,
    frames_in: u64,
    frames_out: u64,
}

/// Converts a whole clip to `to_rate` and `to_channels`; a clip already in that layout is
/// copied unchanged.
pub fn convert(pcm: &Pcm, to_rate: u32, to_channels: u16) -> Result<Pcm, ResampleError> {
    let mut converter = Converter::new(pcm.sample_rate, pcm.channels, to_rate, to_channels)?;
    let expected = pcm.frames() as u64 * u64::from(to_rate) / u64::from(pcm.sample_rate.max(1));
    let mut samples = Vec::with_capacity((expected as usize + 1) * usize::from(to_channels));
    converter.push(&pcm.samples, &mut samples)?;
    converter.finish(&mut samples)?;
    Ok(Pcm {
        sample_rate: to_rate,
        channels: to_channels,
        samples,
    })
}

/// Maps interleaved samples from `from` channels to `to` channels, appending to `out`: to mono
/// averages, from mono duplicates, otherwise channels are kept by position and missing ones
/// are silent. `input` must hold whole frames.
pub fn remix(input: &[f32], from: u16, to: u16, out: &mut Vec<f32>) {
    let (from, to) = (usize::from(from), usize::from(to));
    out.reserve(input.len() / from * to);
    if from == to {
        out.extend_from_slice(input);
    } else if to == 1 {
        let scale = 1.0 / from as f32;
        out.extend(
            input
                .chunks_exact(from)
                .map(|f| f.iter().sum::<f32>() * scale),
        );
    } else if from == 1 {
        for &s in input {
            out.extend(std::iter::repeat_n(s, to));
        }
    } else {
        for frame in input.chunks_exact(from) {
            out.extend((0..to).map(|c| frame.get(c).copied().unwrap_or(0.0)));
        }
    }
}

impl Converter {
    /// Frames per resampler chunk: about 21 ms at 48 kHz, a fair trade between FFT efficiency
    /// and latency.
    const CHUNK: usize = 1024;

    /// A converter from one layout to another.
    pub fn new(
        from_rate: u32,
        from_channels: u16,
        to_rate: u32,
        to_channels: u16,
    ) -> Result<Converter, ResampleError> {
        if from_rate == 0 || to_rate == 0 || from_channels == 0 || to_channels == 0 {
            return Err(ResampleError::Layout {
                from_rate,
                from_channels,
                to_rate,
                to_channels,
            });
        }
        let mid_channels = from_channels.min(to_channels);
        let resampler = if from_rate == to_rate {
            None
        } else {
            let fft = Fft::<f32>::new(
                from_rate as usize,
                to_rate as usize,
                Self::CHUNK,
                usize::from(mid_channels),
                FixedSync::Input,
            )
            .map_err(|source| ResampleError::Construction {
                from_rate,
                to_rate,
                source,
            })?;
            Some(fft)
        };
        let to_trim = resampler.as_ref().map_or(0, |r| r.output_delay());
        Ok(Converter {
            from_channels,
            to_channels,
            mid_channels,
            resampler,
            ratio: (u64::from(to_rate), u64::from(from_rate)),
            pending: Vec::new(),
            scratch: Vec::new(),
            to_trim,
            frames_in: 0,
            frames_out: 0,
        })
    }

    /// Converts a block of interleaved input, appending whatever output is ready to `out`.
    /// The resampler holds back up to one chunk; [`Converter::finish`] flushes it.
    pub fn push(&mut self, input: &[f32], out: &mut Vec<f32>) -> Result<(), ResampleError> {
        if !input.len().is_multiple_of(usize::from(self.from_channels)) {
            return Err(ResampleError::PartialFrame {
                samples: input.len(),
                channels: self.from_channels,
            });
        }
        self.frames_in += (input.len() / usize::from(self.from_channels)) as u64;
        if self.resampler.is_none() {
            remix(input, self.from_channels, self.to_channels, out);
            self.frames_out = self.frames_in;
            return Ok(());
        }
        remix(
            input,
            self.from_channels,
            self.mid_channels,
            &mut self.pending,
        );
        let mid = usize::from(self.mid_channels);
        let mut consumed = 0;
        while self.pending.len() - consumed >= Self::CHUNK * mid {
            let used = self.run_chunk(consumed, None, out)?;
            consumed += used * mid;
        }
        self.pending.drain(..consumed);
        Ok(())
    }

    /// Flushes the held-back input and the resampler's delay, so the total output matches
    /// the total input in duration.
    pub fn finish(mut self, out: &mut Vec<f32>) -> Result<(), ResampleError> {
        if self.resampler.is_none() {
            return Ok(());
        }
        let expected = (self.frames_in * self.ratio.0).div_ceil(self.ratio.1);
        let mid = usize::from(self.mid_channels);
        let left = self.pending.len() / mid;
        if left > 0 {
            self.run_chunk(0, Some(left), out)?;
        }
        // Silence pushes the last real samples through the filter's delay.
        self.pending.clear();
        while self.frames_out < expected {
            self.run_chunk(0, Some(0), out)?;
        }
        let extra = (self.frames_out - expected) as usize;
        out.truncate(out.len() - extra * usize::from(self.to_channels));
        Ok(())
    }

    /// Resamples one chunk starting at sample `offset` of `pending` (`partial` frames of it if
    /// given, padded with silence), trims the start-up delay, up-mixes into `out`, and returns
    /// the frames consumed.
    fn run_chunk(
        &mut self,
        offset: usize,
        partial: Option<usize>,
        out: &mut Vec<f32>,
    ) -> Result<usize, ResampleError> {
        let Some(resampler) = self.resampler.as_mut() else {
            return Ok(0);
        };
        let mid = usize::from(self.mid_channels);
        let need = resampler.input_frames_next();
        // rubato reads a full chunk even for a partial one, so give it a full-sized buffer.
        if self.pending.len() < offset + need * mid {
            self.pending.resize(offset + need * mid, 0.0);
        }
        let out_frames = resampler.output_frames_max();
        self.scratch.resize(out_frames * mid, 0.0);
        let input = InterleavedSlice::new(&self.pending[offset..], mid, need)
            .expect("pending holds a whole chunk");
        let mut output = InterleavedSlice::new_mut(&mut self.scratch, mid, out_frames)
            .expect("scratch holds the largest output chunk");
        let indexing = Indexing {
            partial_len: partial,
            ..Indexing::default()
        };
        let (used, produced) = resampler
            .process_into_buffer(&input, &mut output, Some(&indexing))
            .map_err(ResampleError::Process)?;
        let skip = self.to_trim.min(produced);
        self.to_trim -= skip;
        let kept = &self.scratch[skip * mid..produced * mid];
        remix(kept, self.mid_channels, self.to_channels, out);
        self.frames_out += (produced - skip) as u64;
        Ok(used)
    }
}

#[cfg(test)]
#[path = "resample/tests.rs"]
mod tests;
