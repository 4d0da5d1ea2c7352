//! Test helpers: an in-memory capture output and a reader for ALSA `file` plugin captures.
//!
//! [`CaptureOutput`] records every sample written, with when and where each write landed, the
//! broadcast starts and drains; a cloned [`CaptureHandle`] reads the record from the test. It is
//! paced in real time by default (so a stop arrives mid-broadcast as with a device) and can be
//! told to fail after a number of samples. [`read_alsa_capture`] reads the WAV file written by
//! the ALSA `file` plugin of `tests/alsa/asoundrc`, whose header has no valid length because it
//! is written through a pipe. None of this is used by the daemon itself.

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use super::pacer::Pacer;
use super::{Output, OutputError, OutputFormat, PACING_LEAD, check_frames};

/// An output recording everything written to it, for tests.
#[derive(Debug)]
pub struct CaptureOutput {
    name: String,
    format: OutputFormat,
    log: Arc<Mutex<CaptureLog>>,
    pacer: Option<Pacer>,
    fail_after: Option<usize>,
    begun: bool,
    first_sample: Option<Instant>,
}

/// A cloneable view of a [`CaptureOutput`]'s record, kept by the test.
#[derive(Clone, Debug)]
pub struct CaptureHandle(Arc<Mutex<CaptureLog>>);

/// What a [`CaptureOutput`] received.
#[derive(Clone, Debug, Default)]
pub struct CaptureLog {
    /// Every sample written, interleaved, in order.
    pub samples: Vec<f32>,
    /// Every non-empty write, in order.
    pub writes: Vec<CapturedWrite>,
    /// The sample offsets at which `begin` was called.
    pub begins: Vec<usize>,
    /// How many times `drain` was called.
    pub drains: usize,
    /// The sample offsets at which `discard` was called.
    pub discards: Vec<usize>,
}

/// One write received by a [`CaptureOutput`].
#[derive(Clone, Copy, Debug)]
pub struct CapturedWrite {
    /// When the write call arrived.
    pub at: Instant,
    /// The offset of its first sample in [`CaptureLog::samples`].
    pub offset: usize,
    /// How many samples it held.
    pub len: usize,
}

/// Audio read back from a capture file.
#[derive(Clone, Debug, PartialEq)]
pub struct CapturedAudio {
    /// Frames per second in the file.
    pub sample_rate: u32,
    /// Channels in the file.
    pub channels: u16,
    /// Interleaved samples scaled to [-1, 1].
    pub samples: Vec<f32>,
}

impl CaptureOutput {
    /// A paced capture output named `capture` and the handle to read what it records.
    pub fn new(format: OutputFormat) -> (Self, CaptureHandle) {
        let log = Arc::new(Mutex::new(CaptureLog::default()));
        let output = CaptureOutput {
            name: "capture".to_owned(),
            format,
            log: Arc::clone(&log),
            pacer: Some(Pacer::new(format.sample_rate, PACING_LEAD)),
            fail_after: None,
            begun: false,
            first_sample: None,
        };
        (output, CaptureHandle(log))
    }

    /// Records without waiting for the wall clock.
    pub fn unpaced(mut self) -> Self {
        self.pacer = None;
        self
    }

    /// Fails every write that would take the total past `samples` samples.
    pub fn failing_after(mut self, samples: usize) -> Self {
        self.fail_after = Some(samples);
        self
    }

    /// Renames the output (the name appears in player events).
    pub fn named(mut self, name: &str) -> Self {
        self.name = name.to_owned();
        self
    }

    fn log(&self) -> MutexGuard<'_, CaptureLog> {
        self.log
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl CaptureHandle {
    /// A copy of everything recorded so far.
    pub fn snapshot(&self) -> CaptureLog {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// A copy of the samples recorded so far.
    pub fn samples(&self) -> Vec<f32> {
        self.snapshot().samples
    }
}

impl Output for CaptureOutput {
    fn name(&self) -> &str {
        &self.name
    }

    fn format(&self) -> OutputFormat {
        self.format
    }

    fn begin(&mut self) {
        self.begun = true;
        self.first_sample = None;
        let mut log = self.log();
        let offset = log.samples.len();
        log.begins.push(offset);
    }

    fn write(&mut self, samples: &[f32]) -> Result<(), OutputError> {
        check_frames(&self.name, self.format, samples)?;
        if samples.is_empty() {
            return Ok(());
        }
        let at = Instant::now();
        {
            let mut log = self.log();
            let offset = log.samples.len();
            if let Some(limit) = self
                .fail_after
                .filter(|&limit| offset + samples.len() > limit)
            {
                return Err(OutputError::CaptureFailed(format!(
                    "told to fail after {limit} samples"
                )));
            }
            log.samples.extend_from_slice(samples);
            log.writes.push(CapturedWrite {
                at,
                offset,
                len: samples.len(),
            });
        }
        let start = match &mut self.pacer {
            Some(pacer) => pacer.advance(samples.len() / usize::from(self.format.channels)),
            None => at,
        };
        if self.begun {
            self.begun = false;
            self.first_sample = Some(start);
        }
        Ok(())
    }

    fn drain(&mut self) -> Result<(), OutputError> {
        if let Some(pacer) = &mut self.pacer {
            pacer.drain();
        }
        self.log().drains += 1;
        Ok(())
    }

    fn discard(&mut self) {
        if let Some(pacer) = &mut self.pacer {
            pacer.discard();
        }
        let mut log = self.log();
        let offset = log.samples.len();
        log.discards.push(offset);
    }

    fn first_sample_instant(&self) -> Option<Instant> {
        self.first_sample
    }
}

/// Reads a WAV file written by the ALSA `file` plugin (16- or 32-bit integer PCM), taking the
/// data chunk to the end of the file whatever its header says.
pub fn read_alsa_capture(path: &Path) -> std::io::Result<CapturedAudio> {
    let bytes = std::fs::read(path)?;
    parse_wav_lenient(&bytes).map_err(|reason| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("{}: {reason}", path.display()),
        )
    })
}

/// Parses a RIFF/WAVE byte buffer, reading the `data` chunk to the end of the buffer.
fn parse_wav_lenient(bytes: &[u8]) -> Result<CapturedAudio, String> {
    if bytes.len() < 12 || &bytes[0..4] != b"RIFF" || &bytes[8..12] != b"WAVE" {
        return Err("not a RIFF/WAVE file".to_owned());
    }
    let u16_at = |at: usize| u16::from_le_bytes([bytes[at], bytes[at + 1]]);
    let u32_at =
        |at: usize| u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]);
    let mut at = 12;
    let mut format: Option<(u16, u16, u32, u16)> = None;
    while at + 8 <= bytes.len() {
        let id = &bytes[at..at + 4];
        let len = u32_at(at + 4) as usize;
        let body = at + 8;
        if id == b"fmt " {
            if body + 16 > bytes.len() {
                return Err("truncated fmt chunk".to_owned());
            }
            format = Some((
                u16_at(body),
                u16_at(body + 2),
                u32_at(body + 4),
                u16_at(body + 14),
            ));
        } else if id == b"data" {
            let (tag, channels, sample_rate, bits) = format.ok_or("data chunk before fmt chunk")?;
            if tag != 1 || !(bits == 16 || bits == 32) {
                return Err(format!("unsupported wav encoding {tag} with {bits} bits"));
            }
            let width = usize::from(bits / 8);
            let data = &bytes[body..];
            let samples = data
                .chunks_exact(width)
                .map(|s| match width {
                    2 => f32::from(i16::from_le_bytes([s[0], s[1]])) / 32_768.0,
                    _ => i32::from_le_bytes([s[0], s[1], s[2], s[3]]) as f32 / 2_147_483_648.0,
                })
                .collect();
            return Ok(CapturedAudio {
                sample_rate,
                channels,
                samples,
            });
        }
        at = body + len + (len & 1);
    }
    Err("no data chunk".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capture_records_samples_writes_begins_and_drains() {
        let format = OutputFormat {
            sample_rate: 8_000,
            channels: 2,
        };
        let (output, handle) = CaptureOutput::new(format);
        let mut output = output.unpaced();
        output.begin();
        output.write(&[0.1, 0.2, 0.3, 0.4]).unwrap();
        output.write(&[]).unwrap();
        output.write(&[0.5, 0.6]).unwrap();
        output.drain().unwrap();
        let log = handle.snapshot();
        assert_eq!(log.samples, vec![0.1, 0.2, 0.3, 0.4, 0.5, 0.6]);
        assert_eq!(log.begins, vec![0]);
        assert_eq!(log.drains, 1);
        let spans: Vec<(usize, usize)> = log.writes.iter().map(|w| (w.offset, w.len)).collect();
        assert_eq!(spans, vec![(0, 4), (4, 2)]);
        assert!(output.first_sample_instant().is_some());
    }

    #[test]
    fn capture_fails_after_the_limit() {
        let (output, handle) = CaptureOutput::new(OutputFormat::STEREO_48K);
        let mut output = output.unpaced().failing_after(4);
        output.write(&[0.0; 4]).unwrap();
        let error = output.write(&[0.0; 2]).unwrap_err();
        assert_eq!(
            error.to_string(),
            "capture output failed: told to fail after 4 samples"
        );
        assert_eq!(handle.samples().len(), 4);
    }

    #[test]
    fn lenient_reader_ignores_a_zero_data_length() {
        let mut bytes = Vec::new();
        bytes.extend_from_slice(b"RIFF\x24\0\0\0WAVEfmt \x10\0\0\0");
        bytes.extend_from_slice(&1u16.to_le_bytes());
        bytes.extend_from_slice(&2u16.to_le_bytes());
        bytes.extend_from_slice(&48_000u32.to_le_bytes());
        bytes.extend_from_slice(&192_000u32.to_le_bytes());
        bytes.extend_from_slice(&4u16.to_le_bytes());
        bytes.extend_from_slice(&16u16.to_le_bytes());
        bytes.extend_from_slice(b"data\0\0\0\0");
        for value in [16_384i16, -16_384, 0, 32_767] {
            bytes.extend_from_slice(&value.to_le_bytes());
        }
        let audio = parse_wav_lenient(&bytes).unwrap();
        assert_eq!((audio.sample_rate, audio.channels), (48_000, 2));
        assert_eq!(audio.samples, vec![0.5, -0.5, 0.0, 32_767.0 / 32_768.0]);
    }

    #[test]
    fn lenient_reader_rejects_non_wav() {
        assert!(parse_wav_lenient(b"not a wav file at all").is_err());
    }
}
