//! Decoding of uploaded recordings into interleaved `f32` PCM at the file's native sample rate,
//! through symphonia (MP3, AAC in M4A/MP4 or ADTS, WAV, FLAC, Ogg Vorbis).
//!
//! A file either decodes completely or fails with a [`DecodeError`] that says why: not audio,
//! no audio track, an unsupported codec (named), corrupt or truncated data (with the time at
//! which decoding stopped), or no samples at all. [`Decoder`] streams a file block by block so a
//! long recording need not be held in memory; [`decode_file`] collects the whole file. This module
//! does not measure loudness (see `loudness`), resample (see `resample`) or play anything.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use symphonia::core::codecs::audio::{AudioDecoder, AudioDecoderOptions};
use symphonia::core::errors::Error as SymphoniaError;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, FormatReader, TrackType};
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;

/// Decoded audio: interleaved `f32` samples in the range −1.0..=1.0.
#[derive(Debug, Clone, PartialEq)]
pub struct Pcm {
    /// Frames per second.
    pub sample_rate: u32,
    /// Samples per frame; at least 1.
    pub channels: u16,
    /// Interleaved samples; the length is a multiple of `channels`.
    pub samples: Vec<f32>,
}

/// What a stream is, known once its first block has been decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudioFormat {
    /// Frames per second.
    pub sample_rate: u32,
    /// Samples per frame.
    pub channels: u16,
    /// The codec's short name as symphonia gives it, e.g. `mp3`, `aac`, `pcm_s16le`.
    pub codec: &'static str,
    /// The container's short name as symphonia gives it, e.g. `isomp4`, `wave`, `ogg`.
    pub container: &'static str,
}

/// What a completely decoded stream turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamInfo {
    /// Rate, channels, codec and container.
    pub format: AudioFormat,
    /// Frames decoded, after the encoder's delay and padding were trimmed.
    pub frames: u64,
}

/// Why a file could not be decoded completely.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// The file could not be opened or its size read.
    #[error("cannot open {path}")]
    Open {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// The file has zero bytes, or decodes to zero samples.
    #[error("{path} is empty: it holds no audio samples")]
    Empty { path: PathBuf },
    /// No supported container or stream format was recognised.
    #[error("{path} is not a supported audio file (MP3, M4A/AAC, WAV, FLAC or Ogg Vorbis)")]
    NotAudio {
        path: PathBuf,
        #[source]
        source: SymphoniaError,
    },
    /// The container holds no audio track (for example a video-only MP4).
    #[error("{path} has no audio track")]
    NoAudioTrack { path: PathBuf },
    /// The audio track uses a codec that is not built in.
    #[error("{path} uses the {codec} codec, which is not supported")]
    UnsupportedCodec {
        path: PathBuf,
        codec: String,
        #[source]
        source: Option<SymphoniaError>,
    },
    /// The codec is supported but the stream uses a feature of it that is not.
    #[error("{path} uses an unsupported feature of its format at {:.2} s", .at.as_secs_f64())]
    UnsupportedFeature {
        path: PathBuf,
        at: Duration,
        #[source]
        source: SymphoniaError,
    },
    /// The data is malformed; decoding stopped at `at`.
    #[error("{path} is corrupt at {:.2} s", .at.as_secs_f64())]
    Corrupt {
        path: PathBuf,
        at: Duration,
        #[source]
        source: SymphoniaError,
    },
    /// The file ends before its declared end (`declared`, when the container says); decoding
    /// stopped at `at`.
    #[error("{path} is truncated: its audio stops at {:.2} s", .at.as_secs_f64())]
    Truncated {
        path: PathBuf,
        at: Duration,
        declared: Option<Duration>,
    },
    /// The sample rate or channel count changed in the middle of the stream.
    #[error(
        "{path} changes format at {:.2} s: {from_rate} Hz × {from_channels} became \
         {to_rate} Hz × {to_channels}",
        .at.as_secs_f64()
    )]
    FormatChanged {
        path: PathBuf,
        at: Duration,
        from_rate: u32,
        from_channels: u16,
        to_rate: u32,
        to_channels: u16,
    },
    /// Reading the file failed part way (not a short file: a real I/O error).
    #[error("cannot read {path} at {:.2} s", .at.as_secs_f64())]
    Read {
        path: PathBuf,
        at: Duration,
        #[source]
        source: io::Error,
    },
}

/// A file being decoded block by block; see [`Decoder::next_block`].
pub struct Decoder {
    path: PathBuf,
    reader: Box<dyn FormatReader>,
    decoder: Box<dyn AudioDecoder>,
    track_id: u32,
    declared_frames: Option<u64>,
    declared: Option<Duration>,
    format: AudioFormat,
    buf: Vec<f32>,
    /// The first block is decoded by `open` to learn the format; it is handed out first.
    first_pending: bool,
    frames: u64,
    done: bool,
}

/// Decodes the whole file into memory.
pub fn decode_file(path: &Path) -> Result<Pcm, DecodeError> {
    let mut decoder = Decoder::open(path)?;
    let mut samples = Vec::new();
    if let Some(frames) = decoder.declared_frames {
        let channels = usize::from(decoder.format.channels);
        // Trust the header only within reason: a lying header must not allocate gigabytes.
        samples.reserve(usize::try_from(frames).unwrap_or(0).min(1 << 28) * channels);
    }
    while let Some(block) = decoder.next_block()? {
        samples.extend_from_slice(block);
    }
    Ok(Pcm {
        sample_rate: decoder.format.sample_rate,
        channels: decoder.format.channels,
        samples,
    })
}

/// Decodes the whole file, handing each block of interleaved samples to `on_block` with the
/// stream's sample rate and channel count (which never change within a stream), so memory
/// stays bounded by one block.
pub fn decode_streaming(
    path: &Path,
    mut on_block: impl FnMut(&[f32], u32, u16),
) -> Result<StreamInfo, DecodeError> {
    let mut decoder = Decoder::open(path)?;
    let (rate, channels) = (decoder.format.sample_rate, decoder.format.channels);
    while let Some(block) = decoder.next_block()? {
        on_block(block, rate, channels);
    }
    Ok(StreamInfo {
        format: decoder.format.clone(),
        frames: decoder.frames,
    })
}

impl Pcm {
    /// The number of frames (samples per channel).
    pub fn frames(&self) -> usize {
        self.samples.len() / usize::from(self.channels.max(1))
    }

    /// How long the audio plays.
    pub fn duration(&self) -> Duration {
        frames_to_duration(self.frames() as u64, self.sample_rate)
    }
}

impl StreamInfo {
    /// How long the stream plays.
    pub fn duration(&self) -> Duration {
        frames_to_duration(self.frames, self.format.sample_rate)
    }
}

impl std::fmt::Debug for Decoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Decoder")
            .field("path", &self.path)
            .field("format", &self.format)
            .field("frames", &self.frames)
            .finish_non_exhaustive()
    }
}

impl Decoder {
    /// Opens and probes `path`, and decodes its first block so that [`Decoder::format`] is
    /// known. Fails if the file is not audio, has no audio track, uses an unsupported codec,
    /// or its first block is already bad.
    pub fn open(path: &Path) -> Result<Decoder, DecodeError> {
        let open_err = |source| DecodeError::Open {
            path: path.to_owned(),
            source,
        };
        let file = File::open(path).map_err(open_err)?;
        if file.metadata().map_err(open_err)?.len() == 0 {
            return Err(DecodeError::Empty {
                path: path.to_owned(),
            });
        }
        let mss = MediaSourceStream::new(Box::new(file), Default::default());
        let mut hint = Hint::new();
        if let Some(ext) = path.extension().and_then(|e| e.to_str()) {
            hint.with_extension(ext);
        }
        let reader = symphonia::default::get_probe()
            .probe(
                &hint,
                mss,
                FormatOptions::default(),
                MetadataOptions::default(),
            )
            .map_err(|source| probe_error(path, source))?;
        Self::with_reader(path, reader)
    }

    /// The stream's rate, channels, codec and container.
    pub fn format(&self) -> &AudioFormat {
        &self.format
    }

    /// The number of frames the container declares, if it declares one.
    pub fn declared_frames(&self) -> Option<u64> {
        self.declared_frames
    }

    /// Frames handed out so far.
    pub fn frames_decoded(&self) -> u64 {
        self.frames
    }

    /// Decodes the next non-empty block of interleaved samples; `Ok(None)` once the whole
    /// file has been decoded and checked against its declared length.
    pub fn next_block(&mut self) -> Result<Option<&[f32]>, DecodeError> {
        if self.first_pending {
            self.first_pending = false;
        } else if self.done || !self.decode_next()? {
            self.done = true;
            self.check_complete()?;
            return Ok(None);
        }
        self.frames += (self.buf.len() / usize::from(self.format.channels)) as u64;
        Ok(Some(&self.buf))
    }

    fn with_reader(path: &Path, reader: Box<dyn FormatReader>) -> Result<Decoder, DecodeError> {
        let container = reader.format_info().short_name;
        let track =
            reader
                .default_track(TrackType::Audio)
                .ok_or_else(|| DecodeError::NoAudioTrack {
                    path: path.to_owned(),
                })?;
        let params = track
            .codec_params
            .as_ref()
            .and_then(|p| p.audio())
            .ok_or_else(|| DecodeError::NoAudioTrack {
                path: path.to_owned(),
            })?;
        let decoder = symphonia::default::get_codecs()
            .make_audio_decoder(params, &AudioDecoderOptions::default())
            .map_err(|source| match source {
                SymphoniaError::Unsupported(_) => DecodeError::UnsupportedCodec {
                    path: path.to_owned(),
                    codec: codec_name(params.codec),
                    source: Some(source),
                },
                other => DecodeError::Corrupt {
                    path: path.to_owned(),
                    at: Duration::ZERO,
                    source: other,
                },
            })?;
        let mut this = Decoder {
            path: path.to_owned(),
            track_id: track.id,
            declared_frames: track.num_frames,
            declared: track
                .num_frames
                .zip(params.sample_rate)
                .map(|(frames, rate)| frames_to_duration(frames, rate)),
            format: AudioFormat {
                sample_rate: 0,
                channels: 0,
                codec: decoder.codec_info().short_name,
                container,
            },
            reader,
            decoder,
            buf: Vec::new(),
            first_pending: false,
            frames: 0,
            done: false,
        };
        if !this.decode_next()? {
            return Err(DecodeError::Empty {
                path: path.to_owned(),
            });
        }
        this.first_pending = true;
        Ok(this)
    }

    /// Reads packets until one decodes to at least one frame, leaving it in `buf`. Returns
    /// `false` at the end of the stream.
    fn decode_next(&mut self) -> Result<bool, DecodeError> {
        loop {
            let packet = match self.reader.next_packet() {
                Ok(Some(packet)) => packet,
                Ok(None) => return Ok(false),
                Err(source) => return Err(self.stream_error(source)),
            };
            if packet.track_id != self.track_id {
                continue;
            }
            let decoded = match self.decoder.decode(&packet) {
                Ok(decoded) => decoded,
                Err(source) => return Err(self.stream_error(source)),
            };
            if decoded.frames() == 0 {
                continue;
            }
            let rate = decoded.spec().rate();
            let channels = u16::try_from(decoded.spec().channels().count()).unwrap_or(u16::MAX);
            if self.format.channels == 0 {
                if rate == 0 || channels == 0 {
                    return Err(DecodeError::UnsupportedCodec {
                        path: self.path.clone(),
                        codec: format!("{} without rate or channels", self.format.codec),
                        source: None,
                    });
                }
                self.format.sample_rate = rate;
                self.format.channels = channels;
            } else if (rate, channels) != (self.format.sample_rate, self.format.channels) {
                return Err(DecodeError::FormatChanged {
                    path: self.path.clone(),
                    at: self.position(),
                    from_rate: self.format.sample_rate,
                    from_channels: self.format.channels,
                    to_rate: rate,
                    to_channels: channels,
                });
            }
            self.buf.resize(decoded.samples_interleaved(), 0.0);
            decoded.copy_to_slice_interleaved(&mut self.buf);
            return Ok(true);
        }
    }

    /// At the end of the stream: compare what was decoded with what the container declared.
    /// A shortfall of more than a twentieth of a second (or of 1 %) means the file was cut.
    fn check_complete(&self) -> Result<(), DecodeError> {
        let Some(declared) = self.declared_frames else {
            return Ok(());
        };
        let slack = (u64::from(self.format.sample_rate) / 20).max(declared / 100);
        if self.frames + slack < declared {
            return Err(DecodeError::Truncated {
                path: self.path.clone(),
                at: self.position(),
                declared: self.declared,
            });
        }
        Ok(())
    }

    /// Maps an error from reading or decoding a packet to what it means for the file.
    fn stream_error(&self, source: SymphoniaError) -> DecodeError {
        let path = self.path.clone();
        let at = self.position();
        match source {
            SymphoniaError::IoError(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                DecodeError::Truncated {
                    path,
                    at,
                    declared: self.declared,
                }
            }
            SymphoniaError::IoError(e) => DecodeError::Read {
                path,
                at,
                source: e,
            },
            SymphoniaError::Unsupported(_) | SymphoniaError::ResetRequired => {
                DecodeError::UnsupportedFeature { path, at, source }
            }
            source if cut_short(&source) => DecodeError::Truncated {
                path,
                at,
                declared: self.declared,
            },
            source => DecodeError::Corrupt { path, at, source },
        }
    }

    fn position(&self) -> Duration {
        frames_to_duration(self.frames, self.format.sample_rate)
    }
}

/// Maps a failed probe: no reader recognised the data, or one did but its header is bad.
fn probe_error(path: &Path, source: SymphoniaError) -> DecodeError {
    let path = path.to_owned();
    match source {
        SymphoniaError::IoError(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
            DecodeError::Truncated {
                path,
                at: Duration::ZERO,
                declared: None,
            }
        }
        SymphoniaError::IoError(e) => DecodeError::Read {
            path,
            at: Duration::ZERO,
            source: e,
        },
        source if cut_short(&source) => DecodeError::Truncated {
            path,
            at: Duration::ZERO,
            declared: None,
        },
        SymphoniaError::Unsupported(_) => DecodeError::NotAudio { path, source },
        source => DecodeError::Corrupt {
            path,
            at: Duration::ZERO,
            source,
        },
    }
}

/// Whether a reader's error is its way of saying that the file ends too early. The MP4 reader
/// reports an upload cut before the index (`moov`, written last by most phone recorders) as a
/// missing atom, and one cut inside the sample data (`mdat`) as a failed atom read. These
/// messages belong to the pinned symphonia version; the fixture tests notice if they change.
fn cut_short(source: &SymphoniaError) -> bool {
    const CUT_SHORT: [&str; 2] = ["isomp4: missing moov atom", "isomp4: no atom pending read"];
    match source {
        SymphoniaError::Unsupported(msg) | SymphoniaError::DecodeError(msg) => {
            CUT_SHORT.contains(msg)
        }
        _ => false,
    }
}

/// A readable name for a codec that has no decoder here, for the staff-facing message.
fn codec_name(id: symphonia::core::codecs::audio::AudioCodecId) -> String {
    use symphonia::core::codecs::audio::well_known as wk;
    let known = [
        (wk::CODEC_ID_OPUS, "Opus"),
        (wk::CODEC_ID_SPEEX, "Speex"),
        (wk::CODEC_ID_MP1, "MPEG-1 Layer I"),
        (wk::CODEC_ID_MP2, "MPEG-1 Layer II"),
        (wk::CODEC_ID_AC3, "AC-3"),
        (wk::CODEC_ID_EAC3, "E-AC-3"),
        (wk::CODEC_ID_WMA, "WMA"),
        (wk::CODEC_ID_ALAC, "ALAC (Apple Lossless)"),
        (wk::CODEC_ID_WAVPACK, "WavPack"),
        (wk::CODEC_ID_MONKEYS_AUDIO, "Monkey's Audio"),
        (wk::CODEC_ID_ADPCM_G722, "G.722 ADPCM"),
        (wk::CODEC_ID_ADPCM_G726, "G.726 ADPCM"),
        (wk::CODEC_ID_ADPCM_G726LE, "G.726 ADPCM"),
        (wk::CODEC_ID_ADPCM_MS, "Microsoft ADPCM"),
        (wk::CODEC_ID_ADPCM_IMA_WAV, "IMA ADPCM"),
        (wk::CODEC_ID_ADPCM_IMA_QT, "IMA ADPCM"),
    ];
    match known.iter().find(|(k, _)| *k == id) {
        Some((_, name)) => (*name).to_owned(),
        None => format!("unknown ({id})"),
    }
}

fn frames_to_duration(frames: u64, rate: u32) -> Duration {
    if rate == 0 {
        return Duration::ZERO;
    }
    let rate = u64::from(rate);
    Duration::from_secs(frames / rate)
        + Duration::from_nanos((frames % rate) * 1_000_000_000 / rate)
}

#[cfg(test)]
#[path = "decode/tests.rs"]
mod tests;
