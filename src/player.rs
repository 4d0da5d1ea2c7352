//! The player thread: plays prepared broadcasts on the one audio output.
//!
//! [`Player::spawn`] starts a thread that opens the output from an injected factory, reopens it
//! with exponential backoff (1 s doubling to 30 s) when it fails to open or fails mid-write, and
//! plays [`Broadcast`]s sent as [`PlayerCommand`]s: gain, clamping to [-1, 1], gap silence
//! between two consecutive clips (never next to a chime), written in blocks of at most 20 ms so
//! that a stop is prompt. It reports [`PlayerEvent`]s. A new `Play` while playing cuts the
//! current broadcast (it finishes as stopped). While the output is down a `Play` finishes at
//! once as failed. Events of one broadcast come in this order: `ItemStarted { index: 0 }`,
//! `Started` (once the device reported its first sample), further `ItemStarted`, `Finished`;
//! an empty broadcast only finishes. The final drain (the output's buffer, about 0.2 s) is not
//! interruptible: a `Stop` arriving then finds the player idle. The player does not decode,
//! choose what to play or switch the amplifier, and it never panics on device errors.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender, TryRecvError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::output::{Output, OutputError, error_chain};

/// The handle to the player thread. Dropping it shuts the thread down.
pub struct Player {
    commands: Sender<PlayerCommand>,
    thread: Option<JoinHandle<()>>,
}

/// What the player is told to do.
#[derive(Debug)]
pub enum PlayerCommand {
    /// Plays a broadcast, cutting the current one if any.
    Play(Broadcast),
    /// Stops the current broadcast (it finishes as stopped); ignored when idle.
    Stop,
    /// Stops the current broadcast and ends the thread.
    Shutdown,
}

/// What the player reports.
#[derive(Clone, Debug, PartialEq)]
pub enum PlayerEvent {
    /// The first sample of broadcast `id` reached the device at `first_sample_at`.
    Started {
        id: BroadcastId,
        first_sample_at: Instant,
    },
    /// Item `index` of broadcast `id` was handed to the output (it is heard a buffer later).
    ItemStarted { id: BroadcastId, index: usize },
    /// Broadcast `id` ended; `items_played` items were written to their end.
    Finished {
        id: BroadcastId,
        outcome: Outcome,
        items_played: usize,
    },
    /// The output opened, failed or reopened.
    OutputState(OutputState),
}

/// How a broadcast ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Every item was played and the output drained.
    Completed,
    /// A `Stop`, `Shutdown` or newer `Play` cut it.
    Stopped,
    /// The output was unavailable or failed, or an item was malformed.
    Failed(String),
}

/// The state of the output device.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OutputState {
    /// The output opened for the first time.
    Open { name: String },
    /// Opening failed, or the open output failed; a reopen is scheduled.
    Failed { error: String },
    /// The output opened again after a failure.
    Reopened { name: String },
}

/// The identity of a broadcast, chosen by the engine and echoed in events.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BroadcastId(pub u64);

/// One broadcast: items played in order, with `gap` of silence between two consecutive clips.
#[derive(Clone, Debug)]
pub struct Broadcast {
    /// Echoed in every event about this broadcast.
    pub id: BroadcastId,
    /// The chimes and clips in playing order.
    pub items: Vec<PreparedItem>,
    /// Silence between two consecutive clips; none is added before or after a chime.
    pub gap: Duration,
}

/// A decoded chime or clip, ready to play.
#[derive(Clone, Debug)]
pub struct PreparedItem {
    /// For logs and events, e.g. the clip's title.
    pub label: String,
    /// Interleaved samples at the output format.
    pub pcm: Arc<Vec<f32>>,
    /// Linear gain applied before clamping to [-1, 1].
    pub gain: f32,
    /// Whether it is a chime or a clip (gaps go between clips only).
    pub kind: ItemKind,
}

/// What an item is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ItemKind {
    /// The opening or closing chime.
    Chime,
    /// A recorded announcement.
    Clip,
}

/// Timing knobs of the player thread.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PlayerConfig {
    /// The wait before the first reopen attempt.
    pub backoff_initial: Duration,
    /// The longest wait between reopen attempts.
    pub backoff_max: Duration,
    /// How often an idle open output is checked for failure.
    pub idle_check: Duration,
}

/// Why the player could not be started or reached.
#[derive(Debug, thiserror::Error)]
pub enum PlayerError {
    /// The thread could not be spawned.
    #[error("cannot start the player thread")]
    Spawn(#[source] std::io::Error),
    /// The thread has ended, so commands cannot reach it.
    #[error("the player thread has stopped")]
    Gone,
}

impl Default for PlayerConfig {
    fn default() -> Self {
        PlayerConfig {
            backoff_initial: Duration::from_secs(1),
            backoff_max: Duration::from_secs(30),
            idle_check: Duration::from_secs(5),
        }
    }
}

impl std::fmt::Display for BroadcastId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl Player {
    /// Starts the player thread; events arrive on the returned receiver.
    pub fn spawn<F>(
        factory: F,
        config: PlayerConfig,
    ) -> Result<(Player, Receiver<PlayerEvent>), PlayerError>
    where
        F: FnMut() -> Result<Box<dyn Output>, OutputError> + Send + 'static,
    {
        let (events, receiver) = mpsc::channel();
        let player = Self::spawn_with(factory, config, move |event| {
            let _ = events.send(event);
        })?;
        Ok((player, receiver))
    }

    /// Starts the player thread; every event is passed to `on_event` on that thread.
    pub fn spawn_with<F, E>(
        factory: F,
        config: PlayerConfig,
        on_event: E,
    ) -> Result<Player, PlayerError>
    where
        F: FnMut() -> Result<Box<dyn Output>, OutputError> + Send + 'static,
        E: FnMut(PlayerEvent) + Send + 'static,
    {
        let (commands, receiver) = mpsc::channel();
        let worker = Worker {
            factory: Box::new(factory),
            on_event: Box::new(on_event),
            commands: receiver,
            config,
            output: None,
            down: None,
            ever_open: false,
        };
        let thread = std::thread::Builder::new()
            .name("loa-player".to_owned())
            .spawn(move || worker.run())
            .map_err(PlayerError::Spawn)?;
        Ok(Player {
            commands,
            thread: Some(thread),
        })
    }

    /// Sends a command to the thread.
    pub fn send(&self, command: PlayerCommand) -> Result<(), PlayerError> {
        self.commands.send(command).map_err(|_| PlayerError::Gone)
    }

    /// Plays `broadcast`, cutting the current one if any.
    pub fn play(&self, broadcast: Broadcast) -> Result<(), PlayerError> {
        self.send(PlayerCommand::Play(broadcast))
    }

    /// Stops the current broadcast.
    pub fn stop(&self) -> Result<(), PlayerError> {
        self.send(PlayerCommand::Stop)
    }

    /// Stops playing and waits for the thread to end.
    pub fn shutdown(mut self) {
        self.shut_down();
    }

    fn shut_down(&mut self) {
        let _ = self.commands.send(PlayerCommand::Shutdown);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Player {
    fn drop(&mut self) {
        self.shut_down();
    }
}

/// The boxed output factory the thread calls to (re)open the output.
type Factory = Box<dyn FnMut() -> Result<Box<dyn Output>, OutputError> + Send>;

/// The player thread's state.
struct Worker {
    factory: Factory,
    on_event: Box<dyn FnMut(PlayerEvent) + Send>,
    commands: Receiver<PlayerCommand>,
    config: PlayerConfig,
    output: Option<Box<dyn Output>>,
    down: Option<Down>,
    ever_open: bool,
}

/// Why the output is down and when to try again.
struct Down {
    error: String,
    backoff: Duration,
    retry_at: Instant,
}

/// What happens after a broadcast ends.
enum Next {
    Idle,
    Play(Broadcast),
    Shutdown,
}

/// One stretch of a broadcast: an item or a gap of silent samples.
enum Segment {
    Item(usize),
    Gap(usize),
}

impl Worker {
    fn run(mut self) {
        self.open();
        loop {
            let wait = match &self.down {
                Some(down) => down.retry_at.saturating_duration_since(Instant::now()),
                None => self.config.idle_check,
            };
            let mut next = match self.commands.recv_timeout(wait) {
                Ok(PlayerCommand::Play(broadcast)) => Next::Play(broadcast),
                Ok(PlayerCommand::Stop) => Next::Idle,
                Ok(PlayerCommand::Shutdown) | Err(RecvTimeoutError::Disconnected) => return,
                Err(RecvTimeoutError::Timeout) => {
                    self.tick();
                    Next::Idle
                }
            };
            while let Next::Play(broadcast) = next {
                next = self.play(broadcast);
            }
            if let Next::Shutdown = next {
                return;
            }
        }
    }

    fn emit(&mut self, event: PlayerEvent) {
        (self.on_event)(event);
    }

    /// Reopens a down output when its retry is due, or checks an open one.
    fn tick(&mut self) {
        if let Some(output) = &mut self.output {
            if let Err(error) = output.check() {
                self.output_failed(&error);
            }
        } else if self
            .down
            .as_ref()
            .is_none_or(|d| d.retry_at <= Instant::now())
        {
            self.open();
        }
    }

    /// Calls the factory, turning an error or a panic into a scheduled retry.
    fn open(&mut self) {
        let result = std::panic::catch_unwind(AssertUnwindSafe(|| (self.factory)()));
        match result {
            Ok(Ok(output)) => {
                let name = output.name().to_owned();
                tracing::info!(output = %name, "audio output open");
                self.output = Some(output);
                self.down = None;
                let state = if self.ever_open {
                    OutputState::Reopened { name }
                } else {
                    OutputState::Open { name }
                };
                self.ever_open = true;
                self.emit(PlayerEvent::OutputState(state));
            }
            Ok(Err(error)) => self.schedule_retry(error_chain(&error)),
            Err(_) => self.schedule_retry("the output factory panicked".to_owned()),
        }
    }

    /// Drops a failed output and schedules its reopen.
    fn output_failed(&mut self, error: &OutputError) {
        self.output = None;
        self.down = None;
        self.schedule_retry(error_chain(error));
    }

    fn schedule_retry(&mut self, error: String) {
        let backoff = next_backoff(self.down.as_ref().map(|d| d.backoff), &self.config);
        tracing::warn!(%error, retry_in_s = backoff.as_secs_f32(), "audio output unavailable");
        self.down = Some(Down {
            error: error.clone(),
            backoff,
            retry_at: Instant::now() + backoff,
        });
        self.emit(PlayerEvent::OutputState(OutputState::Failed { error }));
    }

    /// Plays one broadcast to its end, or until a command cuts it.
    fn play(&mut self, broadcast: Broadcast) -> Next {
        let id = broadcast.id;
        if self.output.is_none() {
            // A broadcast is due: try the device now rather than wait out the backoff (a
            // USB card plugged back in should play at once).
            self.open();
        }
        let Some(mut output) = self.output.take() else {
            let error = self.down.as_ref().map_or("not open", |d| d.error.as_str());
            let outcome = Outcome::Failed(format!("output unavailable: {error}"));
            self.finish(id, outcome, 0);
            return Next::Idle;
        };
        let (next, outcome, items_played) = self.write_broadcast(output.as_mut(), &broadcast);
        match outcome {
            Err(error) => {
                self.output_failed(&error);
                let outcome = Outcome::Failed(format!("output failed: {}", error_chain(&error)));
                self.finish(id, outcome, items_played);
            }
            Ok(outcome) => {
                self.output = Some(output);
                self.finish(id, outcome, items_played);
            }
        }
        next
    }

    /// Writes the broadcast's segments block by block, then drains.
    fn write_broadcast(
        &mut self,
        output: &mut dyn Output,
        broadcast: &Broadcast,
    ) -> (Next, Result<Outcome, OutputError>, usize) {
        let id = broadcast.id;
        let format = output.format();
        let channels = usize::from(format.channels);
        if let Some((index, item)) = broadcast.items.iter().enumerate().find(|(_, item)| {
            item.pcm.len() % channels != 0 || !item.gain.is_finite() || item.gain < 0.0
        }) {
            let reason = format!(
                "item {index} \"{}\" is malformed: {} samples for {channels} channels, gain {}",
                item.label,
                item.pcm.len(),
                item.gain
            );
            return (Next::Idle, Ok(Outcome::Failed(reason)), 0);
        }
        let segments = plan(&broadcast.items, format.samples_for(broadcast.gap));
        let block = format.block_samples();
        let mut buffer = Vec::with_capacity(block);
        let mut started = false;
        let mut items_played = 0;
        output.begin();
        for segment in segments {
            let (samples, gain): (&[f32], f32) = match segment {
                Segment::Item(index) => {
                    self.emit(PlayerEvent::ItemStarted { id, index });
                    let item = &broadcast.items[index];
                    (item.pcm.as_slice(), item.gain)
                }
                Segment::Gap(_) => (&[], 0.0),
            };
            let length = match segment {
                Segment::Item(_) => samples.len(),
                Segment::Gap(length) => length,
            };
            for start in (0..length).step_by(block) {
                let end = (start + block).min(length);
                buffer.clear();
                if samples.is_empty() {
                    buffer.resize(end - start, 0.0);
                } else {
                    buffer.extend(samples[start..end].iter().map(|&s| apply_gain(s, gain)));
                }
                if let Err(error) = output.write(&buffer) {
                    return (Next::Idle, Err(error), items_played);
                }
                if !started && let Some(at) = output.first_sample_instant() {
                    started = true;
                    self.emit(PlayerEvent::Started {
                        id,
                        first_sample_at: at,
                    });
                }
                if let Some(next) = self.interruption() {
                    output.discard();
                    return (next, Ok(Outcome::Stopped), items_played);
                }
            }
            if let Segment::Item(_) = segment {
                items_played += 1;
            }
        }
        if let Err(error) = output.drain() {
            return (Next::Idle, Err(error), items_played);
        }
        if !started && !broadcast.items.iter().all(|item| item.pcm.is_empty()) {
            let at = output.first_sample_instant().unwrap_or_else(|| {
                tracing::warn!(
                    output = output.name(),
                    "output never reported its first sample"
                );
                Instant::now()
            });
            self.emit(PlayerEvent::Started {
                id,
                first_sample_at: at,
            });
        }
        (Next::Idle, Ok(Outcome::Completed), items_played)
    }

    /// Returns what to do instead if a command arrived that cuts the broadcast.
    fn interruption(&mut self) -> Option<Next> {
        match self.commands.try_recv() {
            Ok(PlayerCommand::Play(broadcast)) => Some(Next::Play(broadcast)),
            Ok(PlayerCommand::Stop) => Some(Next::Idle),
            Ok(PlayerCommand::Shutdown) | Err(TryRecvError::Disconnected) => Some(Next::Shutdown),
            Err(TryRecvError::Empty) => None,
        }
    }

    fn finish(&mut self, id: BroadcastId, outcome: Outcome, items_played: usize) {
        self.emit(PlayerEvent::Finished {
            id,
            outcome,
            items_played,
        });
    }
}

/// The next reopen delay: the initial one first, then doubling up to the maximum.
fn next_backoff(previous: Option<Duration>, config: &PlayerConfig) -> Duration {
    match previous {
        None => config.backoff_initial,
        Some(previous) => (previous * 2).min(config.backoff_max),
    }
}

/// The segments of a broadcast: its items, with a gap between two consecutive clips.
fn plan(items: &[PreparedItem], gap_samples: usize) -> Vec<Segment> {
    let mut segments = Vec::with_capacity(items.len() * 2);
    for (index, item) in items.iter().enumerate() {
        let after_clip = index > 0 && items[index - 1].kind == ItemKind::Clip;
        if after_clip && item.kind == ItemKind::Clip && gap_samples > 0 {
            segments.push(Segment::Gap(gap_samples));
        }
        segments.push(Segment::Item(index));
    }
    segments
}

/// Applies a linear gain and keeps the result a finite sample in [-1, 1].
fn apply_gain(sample: f32, gain: f32) -> f32 {
    let value = sample * gain;
    if value.is_nan() {
        0.0
    } else {
        value.clamp(-1.0, 1.0)
    }
}

#[cfg(test)]
#[path = "player/tests.rs"]
mod tests;
