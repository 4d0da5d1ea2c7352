//! The `alsa:DEVICE` output: real sound through rodio's mixer, cpal and ALSA.
//!
//! Written samples go into a small shared queue (about 150 ms); a rodio [`Source`] that the
//! device's audio callback pulls from takes them out, so `write` blocks in step with the
//! device's clock. The source notes the instant the callback pulled the first sample of a
//! broadcast. When the queue runs dry the source plays short runs of silence, and it never
//! ends while the output lives, so the device stays open between broadcasts. Opening waits
//! until the device consumes silence in real time, which proves it runs. Fatal stream
//! errors from cpal and a device that stops consuming audio surface as write errors, so the
//! player can reopen the device. The device is opened at the output format when it accepts it,
//! otherwise at its own default and rodio converts. This file knows nothing about broadcasts.

use std::collections::VecDeque;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use rodio::cpal::traits::{DeviceTrait, HostTrait};
use rodio::cpal::{self, BufferSize, DeviceId, ErrorKind};
use rodio::{DeviceSinkBuilder, MixerDeviceSink, Source};

use super::{Output, OutputError, OutputFormat, check_frames, devices};

/// How much audio the shared queue holds before `write` blocks. Devices take audio in bursts
/// of a period or more; this absorbs them and a briefly preempted writer. A stop discards it.
const QUEUE: Duration = Duration::from_millis(150);
/// How much audio the source takes from the queue at once.
const CHUNK: Duration = Duration::from_micros(2_500);
/// How long the device may consume nothing before a write or drain fails.
const STALL: Duration = Duration::from_secs(2);
/// How often opening samples the device's pace while it settles.
const SETTLE_STEP: Duration = Duration::from_millis(25);
/// How long opening waits at most for the device to settle to real time.
const SETTLE_MAX: Duration = Duration::from_secs(1);
/// The device latency assumed when cpal does not report a fixed buffer size.
const DEFAULT_LATENCY: Duration = Duration::from_millis(100);

/// An open ALSA device fed through rodio.
pub struct AlsaOutput {
    name: String,
    device: String,
    format: OutputFormat,
    shared: Arc<Shared>,
    capacity: usize,
    latency: Duration,
    sink: MixerDeviceSink,
    /// Samples pulled by the device (audio and silence) when last checked, and when.
    progress: (u64, Instant),
}

/// State shared between the writer and the audio callback.
struct Shared {
    ring: Mutex<Ring>,
    moved: Condvar,
    fatal: Mutex<Option<cpal::Error>>,
    closed: AtomicBool,
}

/// The queue of samples not yet pulled by the device.
struct Ring {
    queue: VecDeque<f32>,
    /// Samples pulled by the source since the output opened.
    taken: u64,
    /// The stream position of the current broadcast's first sample, until the source takes it.
    mark: Option<u64>,
    /// When the callback pulled the current broadcast's first sample.
    first_sample: Option<Instant>,
    /// Samples of silence the source played because the queue was empty.
    silence: u64,
}

/// The rodio source the device pulls from.
struct FeedSource {
    shared: Arc<Shared>,
    channels: rodio::ChannelCount,
    sample_rate: rodio::SampleRate,
    chunk: usize,
    local: Vec<f32>,
    position: usize,
    mark_at: Option<usize>,
}

impl AlsaOutput {
    /// Opens the ALSA device `device` (e.g. `default`, `plughw:CARD=Headphones,DEV=0`).
    ///
    /// What alsa-lib says on this thread while opening is logged at debug level instead of
    /// going to stderr, and the gist of it is added to an open error.
    pub fn open(device: &str, format: OutputFormat) -> Result<Self, OutputError> {
        let messages = alsa::Output::local_error_handler().ok();
        let result = Self::open_quietly(device, format);
        let said = messages
            .map(|buffer| buffer.borrow().to_string())
            .unwrap_or_default();
        let said: Vec<&str> = said
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        if !said.is_empty() {
            tracing::debug!(device, alsa_lib = %said.join(" | "), "alsa-lib messages while opening");
        }
        result.map_err(|error| match error {
            OutputError::AlsaOpen { device, source, .. } => OutputError::AlsaOpen {
                device,
                source,
                alsa_lib: gist(&said),
            },
            other => other,
        })
    }

    fn open_quietly(device: &str, format: OutputFormat) -> Result<Self, OutputError> {
        format.validate()?;
        let cpal_device = find_device(device)?;
        let shared = Arc::new(Shared {
            ring: Mutex::new(Ring {
                queue: VecDeque::new(),
                taken: 0,
                mark: None,
                first_sample: None,
                silence: 0,
            }),
            moved: Condvar::new(),
            fatal: Mutex::new(None),
            closed: AtomicBool::new(false),
        });
        let on_error = {
            let shared = Arc::clone(&shared);
            let device = device.to_owned();
            move |error: cpal::Error| shared.report(&device, error)
        };
        let open_error = |source| OutputError::AlsaOpen {
            device: device.to_owned(),
            source,
            alsa_lib: String::new(),
        };
        let channels = rodio::ChannelCount::new(format.channels).expect("validated channels");
        let sample_rate = rodio::SampleRate::new(format.sample_rate).expect("validated rate");
        let preferred = DeviceSinkBuilder::from_device(cpal_device.clone())
            .map_err(open_error)?
            .with_channels(channels)
            .with_sample_rate(sample_rate)
            .with_error_callback(on_error.clone())
            .open_stream();
        let mut sink = match preferred {
            Ok(sink) => sink,
            Err(error) => {
                tracing::info!(
                    device,
                    %format,
                    error = %super::error_chain(&error),
                    "alsa device refuses the output format, using its own and converting"
                );
                DeviceSinkBuilder::from_device(cpal_device)
                    .map_err(open_error)?
                    .with_error_callback(on_error)
                    .open_sink_or_fallback()
                    .map_err(open_error)?
            }
        };
        sink.log_on_drop(false);
        let config = *sink.config();
        let latency = match config.buffer_size() {
            BufferSize::Fixed(frames) => {
                Duration::from_secs_f64(f64::from(*frames) / f64::from(config.sample_rate().get()))
            }
            BufferSize::Default => DEFAULT_LATENCY,
        };
        tracing::info!(
            device,
            rate = config.sample_rate().get(),
            channels = config.channel_count().get(),
            sample_format = %config.sample_format(),
            latency_ms = latency.as_millis() as u64,
            "alsa output open"
        );
        let chunk = format.samples_for(CHUNK).max(usize::from(format.channels));
        sink.mixer().add(FeedSource {
            shared: Arc::clone(&shared),
            channels,
            sample_rate,
            chunk,
            local: Vec::with_capacity(chunk),
            position: 0,
            mark_at: None,
        });
        let output = AlsaOutput {
            name: format!("alsa:{device}"),
            device: device.to_owned(),
            format,
            shared,
            capacity: format.samples_for(QUEUE).max(chunk),
            latency,
            sink,
            progress: (0, Instant::now()),
        };
        output.settle()?;
        Ok(output)
    }

    /// Waits until the device consumes silence at about real time, so that it is known to run
    /// and every buffer between here and the speaker is full: audio written right after
    /// opening then plays without being swallowed in one burst. A device that pulls nothing
    /// for [`STALL`] fails; one that never slows to real time is used after [`SETTLE_MAX`].
    fn settle(&self) -> Result<(), OutputError> {
        let started = Instant::now();
        let real_time = f64::from(self.format.sample_rate) * f64::from(self.format.channels);
        let window = (self.latency * 2).max(SETTLE_STEP * 4);
        let minimum = self.format.samples_for(self.latency) as u64;
        let mut history: VecDeque<(Instant, u64)> = VecDeque::new();
        loop {
            std::thread::sleep(SETTLE_STEP);
            self.check_fatal()?;
            let now = Instant::now();
            let silence = self.shared.lock().silence;
            history.push_back((now, silence));
            while history.len() > 2 && now - history[1].0 >= window {
                history.pop_front();
            }
            let (since, before) = history[0];
            let span = now - since;
            let rate = (silence - before) as f64 / span.as_secs_f64().max(1e-3);
            if silence >= minimum && span >= window && silence > before && rate <= real_time * 1.5 {
                tracing::debug!(
                    device = %self.device,
                    settled_ms = started.elapsed().as_millis() as u64,
                    "alsa output settled"
                );
                return Ok(());
            }
            if silence == 0 && started.elapsed() >= STALL {
                return Err(OutputError::AlsaStalled {
                    device: self.device.clone(),
                    seconds: STALL.as_secs(),
                });
            }
            if silence > 0 && started.elapsed() >= SETTLE_MAX {
                tracing::warn!(
                    device = %self.device,
                    "alsa device consumes audio faster than real time"
                );
                return Ok(());
            }
        }
    }

    /// Fails with the stream's fatal error, if cpal reported one.
    fn check_fatal(&self) -> Result<(), OutputError> {
        let fatal = self
            .shared
            .fatal
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        match fatal.as_ref() {
            Some(error) => Err(OutputError::AlsaStream {
                device: self.device.clone(),
                source: error.clone(),
            }),
            None => Ok(()),
        }
    }

    /// Waits on the queue until `done` holds, failing if the device stops consuming audio.
    fn wait_until(&self, mut done: impl FnMut(&Ring) -> bool) -> Result<(), OutputError> {
        let mut ring = self.shared.lock();
        let mut progress = (ring.taken, Instant::now());
        while !done(&ring) {
            drop(ring);
            self.check_fatal()?;
            ring = self.shared.lock();
            let (guard, _) = self
                .shared
                .moved
                .wait_timeout(ring, Duration::from_millis(100))
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            ring = guard;
            if ring.taken != progress.0 {
                progress = (ring.taken, Instant::now());
            } else if progress.1.elapsed() >= STALL {
                return Err(OutputError::AlsaStalled {
                    device: self.device.clone(),
                    seconds: STALL.as_secs(),
                });
            }
        }
        Ok(())
    }
}

impl Output for AlsaOutput {
    fn name(&self) -> &str {
        &self.name
    }

    fn format(&self) -> OutputFormat {
        self.format
    }

    fn begin(&mut self) {
        let mut ring = self.shared.lock();
        ring.mark = Some(ring.taken + ring.queue.len() as u64);
        ring.first_sample = None;
    }

    fn write(&mut self, samples: &[f32]) -> Result<(), OutputError> {
        check_frames(&self.name, self.format, samples)?;
        self.check_fatal()?;
        let frame = usize::from(self.format.channels);
        let mut rest = samples;
        while !rest.is_empty() {
            let capacity = self.capacity;
            self.wait_until(|ring| ring.queue.len() + frame <= capacity)?;
            let mut ring = self.shared.lock();
            let room = (capacity - ring.queue.len()) / frame * frame;
            let (now, later) = rest.split_at(room.min(rest.len()));
            ring.queue.extend(now.iter().copied());
            rest = later;
        }
        Ok(())
    }

    fn drain(&mut self) -> Result<(), OutputError> {
        self.wait_until(|ring| ring.queue.is_empty())?;
        std::thread::sleep(self.latency + CHUNK);
        self.check_fatal()
    }

    fn discard(&mut self) {
        let mut ring = self.shared.lock();
        ring.queue.clear();
        ring.mark = None;
        drop(ring);
        self.shared.moved.notify_all();
    }

    fn first_sample_instant(&self) -> Option<Instant> {
        self.shared.lock().first_sample
    }

    fn check(&mut self) -> Result<(), OutputError> {
        self.check_fatal()?;
        let pulled = {
            let ring = self.shared.lock();
            ring.taken + ring.silence
        };
        let now = Instant::now();
        if pulled != self.progress.0 {
            self.progress = (pulled, now);
        } else if now - self.progress.1 >= STALL {
            return Err(OutputError::AlsaStalled {
                device: self.device.clone(),
                seconds: STALL.as_secs(),
            });
        }
        Ok(())
    }
}

impl Drop for AlsaOutput {
    fn drop(&mut self) {
        self.shared.closed.store(true, Ordering::Release);
        tracing::debug!(device = %self.device, config = ?self.sink.config(), "alsa output closed");
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Ring> {
        self.ring
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Handles an error reported by cpal's stream thread.
    fn report(&self, device: &str, error: cpal::Error) {
        let fatal = matches!(
            error.kind(),
            ErrorKind::DeviceNotAvailable
                | ErrorKind::StreamInvalidated
                | ErrorKind::HostUnavailable
                | ErrorKind::PermissionDenied
        );
        if fatal {
            tracing::error!(device, %error, "alsa stream failed");
            let mut slot = self
                .fatal
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            slot.get_or_insert(error);
            drop(slot);
            self.moved.notify_all();
        } else {
            tracing::warn!(device, %error, "alsa stream glitch");
        }
    }
}

impl FeedSource {
    /// Moves the next chunk from the queue into `local`, or a chunk of silence if it is empty.
    fn refill(&mut self) {
        self.local.clear();
        self.position = 0;
        self.mark_at = None;
        let mut ring = self.shared.lock();
        let count = ring.queue.len().min(self.chunk);
        if count == 0 {
            ring.silence += self.chunk as u64;
            drop(ring);
            self.local.resize(self.chunk, 0.0);
            self.shared.moved.notify_all();
            return;
        }
        self.local.extend(ring.queue.drain(..count));
        let chunk_span = ring.taken..ring.taken + count as u64;
        if let Some(mark) = ring.mark.filter(|mark| chunk_span.contains(mark)) {
            self.mark_at = Some((mark - ring.taken) as usize);
            ring.mark = None;
        }
        ring.taken += count as u64;
        drop(ring);
        self.shared.moved.notify_all();
    }
}

impl Iterator for FeedSource {
    type Item = rodio::Sample;

    fn next(&mut self) -> Option<Self::Item> {
        if self.position >= self.local.len() {
            if self.shared.closed.load(Ordering::Acquire) {
                return None;
            }
            self.refill();
        }
        if self.mark_at == Some(self.position) {
            self.mark_at = None;
            self.shared.lock().first_sample = Some(Instant::now());
        }
        let sample = self.local[self.position];
        self.position += 1;
        Some(sample)
    }
}

impl Source for FeedSource {
    fn current_span_len(&self) -> Option<usize> {
        None
    }

    fn channels(&self) -> rodio::ChannelCount {
        self.channels
    }

    fn sample_rate(&self) -> rodio::SampleRate {
        self.sample_rate
    }

    fn total_duration(&self) -> Option<Duration> {
        None
    }
}

/// Finds the cpal device named `name`, or says which devices exist.
fn find_device(name: &str) -> Result<cpal::Device, OutputError> {
    let host = cpal::default_host();
    if name == "default" {
        return host.default_output_device().ok_or_else(|| not_found(name));
    }
    DeviceId::from_str(&format!("alsa:{name}"))
        .ok()
        .and_then(|id| host.device_by_id(&id))
        .filter(|device| device.supports_output())
        .ok_or_else(|| not_found(name))
}

/// The first and last alsa-lib messages (the root cause and the summary), as ` (alsa-lib: …)`.
fn gist(messages: &[&str]) -> String {
    match messages {
        [] => String::new(),
        [only] => format!(" (alsa-lib: {only})"),
        [first, .., last] => format!(" (alsa-lib: {first} … {last})"),
    }
}

/// The error for a device name that matches no output device.
fn not_found(name: &str) -> OutputError {
    let available = match devices::list_output_devices() {
        Ok(list) if !list.is_empty() => list
            .iter()
            .map(|device| device.name.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        Ok(_) => "none".to_owned(),
        Err(error) => format!("unknown ({})", super::error_chain(&error)),
    };
    OutputError::AlsaDeviceNotFound {
        device: name.to_owned(),
        available,
    }
}

#[cfg(test)]
mod tests;
