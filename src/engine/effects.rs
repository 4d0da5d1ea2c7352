//! The engine core's effects on the real world: the store (log), the player (audio) and the
//! amplifier (relay). The core decides; this carries out, and remembers what is on air so
//! the log row can be finished with what really happened. A manual broadcast bound to an
//! approved playlist version is refused (logged skipped) when the playlist changed since.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::amp::Amplifier;
use crate::engine::core::{Effects, Job};
use crate::engine::prepare::{ClipCache, GainPolicy, ReadyClip};
use crate::library;
use crate::model::{ClipId, LogId, OccurrenceKey, Outcome, PlayedClip, PlaylistId};
use crate::output::OutputFormat;
use crate::player::{Broadcast, BroadcastId, ItemKind, Player, PreparedItem};
use crate::store::{LogEntryDraft, OccurrenceEnd, OccurrenceStart, Store, StoreError, WaitingId};

/// Audio settings the effects need.
#[derive(Debug, Clone)]
pub struct AudioSettings {
    /// Output format.
    pub format: OutputFormat,
    /// Loudness policy.
    pub policy: GainPolicy,
    /// Silence between clips.
    pub gap: Duration,
    /// Opening and closing chime file.
    pub chime: Option<PathBuf>,
    /// Where clip originals live.
    pub media_dir: PathBuf,
}

/// What is on air, for finishing its log row.
#[derive(Debug, Clone)]
pub struct OnAirRecord {
    /// Its log row.
    pub log: LogId,
    /// Broadcast id given to the player.
    pub broadcast: BroadcastId,
    /// Clips in play order (without chimes).
    pub clips: Vec<PlayedClip>,
    /// Player item index of each clip in `clips`.
    pub clip_items: Vec<usize>,
    /// Player items started so far.
    pub items_started: usize,
    /// When the first sample reached the output.
    pub first_sample: Option<DateTime<Utc>>,
    /// When it was asked to start.
    pub requested_at: DateTime<Utc>,
    /// How long it plays in all (chimes, clips, gaps, pauses), as laid out.
    pub length: Duration,
    /// The playlist's name.
    pub playlist_name: String,
}

/// A broadcast laid out by `build`: the player's items, the clips in play order with the
/// item index of each, how long it plays, and the playlist's name.
struct Built {
    broadcast: Broadcast,
    clips: Vec<PlayedClip>,
    clip_items: Vec<usize>,
    length: Duration,
    playlist_name: String,
}

/// The engine's effects on store, player and amplifier.
pub struct RealEffects {
    /// The database.
    pub store: Store,
    /// The player thread's handle.
    pub player: Player,
    /// The amplifier relay.
    pub amp: Amplifier,
    /// Audio settings.
    pub audio: AudioSettings,
    /// Decoded clips for upcoming broadcasts.
    pub cache: ClipCache,
    /// The decoded chime.
    pub chime: Option<ReadyClip>,
    /// What is on air.
    pub on_air: Option<OnAirRecord>,
    /// The last problem, for the status page.
    pub last_error: Option<String>,
    /// Clips held for prepared broadcasts that have not started: (playlist, instant, clips).
    reserved: Vec<(PlaylistId, DateTime<Utc>, Vec<ClipId>)>,
    next_broadcast: u64,
}

impl RealEffects {
    /// Effects over these parts; the chime is decoded now (a bad chime is logged, not fatal).
    pub fn new(store: Store, player: Player, amp: Amplifier, audio: AudioSettings) -> RealEffects {
        let chime = audio.chime.as_ref().and_then(|path| {
            crate::engine::prepare::ready_file(path, &audio.policy, audio.format)
                .map_err(
                    |e| tracing::warn!(error = %e, "chime unusable; broadcasts play without it"),
                )
                .ok()
        });
        RealEffects {
            store,
            player,
            amp,
            audio,
            cache: ClipCache::default(),
            chime,
            on_air: None,
            last_error: None,
            reserved: Vec::new(),
            next_broadcast: 1,
        }
    }

    /// Decodes the playlist's clips (cached) and lays out the broadcast. A playlist that
    /// is no longer the version an approver approved is refused (skipped), not played.
    fn build(&mut self, job: &Job) -> Result<Built, Outcome> {
        let failed = |e: &dyn std::fmt::Display| Outcome::Failed(e.to_string());
        let playlist = self.store.playlist(job.playlist).map_err(|e| failed(&e))?;
        if job.playlist_version.is_some_and(|v| v != playlist.version) {
            return Err(Outcome::Skipped(format!(
                "approval withdrawn: playlist \"{}\" changed after it was approved",
                playlist.name
            )));
        }
        if playlist.items.is_empty() {
            return Err(Outcome::Failed(format!(
                "playlist \"{}\" is empty",
                playlist.name
            )));
        }
        let mut clips = Vec::new();
        let mut ready = Vec::new();
        for id in &playlist.items {
            let clip = self.store.clip(*id).map_err(|e| failed(&e))?;
            let path = library::clip_path(&self.audio.media_dir, &clip);
            let r = self
                .cache
                .get_or_ready(clip.id, &path, &self.audio.policy, self.audio.format)
                .map_err(|e| failed(&e))?;
            clips.push(PlayedClip {
                clip: clip.id,
                title: clip.title.clone(),
                sha256: clip.sha256.clone(),
                gain_db: r.gain.db(),
            });
            ready.push((clip.title, r));
        }
        let mut items = Vec::new();
        let mut played = Vec::new();
        let mut clip_items = Vec::new();
        let chime = job.chime.then(|| self.chime.clone()).flatten();
        if let Some(c) = &chime {
            items.push(item("chime", c, ItemKind::Chime));
        }
        let second = Arc::new(vec![
            0.0;
            self.audio.format.samples_for(Duration::from_secs(1))
        ]);
        for round in 0..job.repeat.max(1) {
            if round > 0 {
                // The pause between repeats: one shared second of silence per item, so a
                // long pause costs no memory. Silence items sit like chimes (no gap).
                let mut left = job.repeat_pause;
                while !left.is_zero() {
                    let part = left.min(Duration::from_secs(1));
                    let samples = self.audio.format.samples_for(part);
                    let pcm = if samples == second.len() {
                        second.clone()
                    } else {
                        Arc::new(vec![0.0; samples])
                    };
                    items.push(PreparedItem {
                        label: "pause".to_owned(),
                        pcm,
                        gain: 0.0,
                        kind: ItemKind::Chime,
                    });
                    left -= part;
                }
            }
            for ((title, r), pc) in ready.iter().zip(&clips) {
                clip_items.push(items.len());
                items.push(item(title, r, ItemKind::Clip));
                played.push(pc.clone());
            }
        }
        if let Some(c) = &chime {
            items.push(item("chime", c, ItemKind::Chime));
        }
        let id = self.next_broadcast;
        self.next_broadcast += 1;
        let samples: usize = items.iter().map(|i| i.pcm.len()).sum();
        let gaps = clip_items.len().saturating_sub(1) as u32;
        let length = self.audio.format.duration_of(samples) + self.audio.gap * gaps;
        Ok(Built {
            broadcast: Broadcast {
                id: BroadcastId(id),
                items,
                gap: self.audio.gap,
            },
            clips: played,
            clip_items,
            length,
            playlist_name: playlist.name,
        })
    }

    fn note_error(&mut self, what: &str, e: impl std::fmt::Display) {
        let message = format!("{what}: {e}");
        tracing::error!("{message}");
        self.last_error = Some(message);
    }
}

impl OnAirRecord {
    /// How many clips went on air (were handed to the output).
    pub fn clips_aired(&self) -> usize {
        self.clip_items
            .iter()
            .filter(|&&i| i < self.items_started)
            .count()
    }

    /// The title of the clip on air now (the last one handed to the output), if any.
    pub fn current_clip(&self) -> Option<&str> {
        self.clips_aired()
            .checked_sub(1)
            .and_then(|i| self.clips.get(i))
            .map(|c| c.title.as_str())
    }
}

fn item(label: &str, r: &ReadyClip, kind: ItemKind) -> PreparedItem {
    PreparedItem {
        label: label.to_owned(),
        pcm: r.pcm.clone(),
        gain: r.gain.linear(),
        kind,
    }
}

impl Effects for RealEffects {
    fn is_logged(&self, key: &OccurrenceKey) -> bool {
        match self.store.is_logged(*key) {
            Ok(found) => found.is_some(),
            Err(e) => {
                // Without the log we cannot know; not playing is the safe side.
                tracing::error!(error = %e, "cannot read the broadcast log; holding the occurrence back");
                true
            }
        }
    }

    fn relay(&mut self, on: bool, _now: DateTime<Utc>) {
        let result = if on {
            self.amp.switch_on("broadcast")
        } else {
            self.amp.switch_off("air free")
        };
        if let Err(e) = result {
            self.note_error(
                if on {
                    "relay on failed"
                } else {
                    "relay off failed"
                },
                e,
            );
        }
    }

    fn start(&mut self, job: &Job, now: DateTime<Utc>) -> Result<Duration, Outcome> {
        self.reserved
            .retain(|(p, at, _)| !(*p == job.playlist && *at == job.scheduled_at) && *at > now);
        let Built {
            broadcast,
            clips,
            clip_items,
            length,
            playlist_name,
        } = self.build(job)?;
        if !self.amp.is_on() {
            // The core thinks the relay is on; the watchdog or a failed switch may have
            // left it off. Try again rather than play into a dead amplifier.
            if let Err(e) = self.amp.switch_on("broadcast") {
                self.note_error("relay on failed", e);
            }
        }
        let log = self
            .store
            .start_occurrence(&OccurrenceStart {
                origin: job.origin.clone(),
                priority: job.priority,
                scheduled_at: job.scheduled_at,
                started_at: now,
                rule_broken: job.rule_broken.clone(),
                request: job.request,
            })
            .map_err(|e| match e {
                StoreError::AlreadyLogged { .. } => {
                    Outcome::Failed("already in the log".to_owned())
                }
                other => Outcome::Failed(other.to_string()),
            })?;
        self.on_air = Some(OnAirRecord {
            log,
            broadcast: broadcast.id,
            clips,
            clip_items,
            items_started: 0,
            first_sample: None,
            requested_at: now,
            length,
            playlist_name,
        });
        self.player
            .play(broadcast)
            .map_err(|e| Outcome::Failed(e.to_string()))?;
        tracing::info!(scheduled = %job.scheduled_at, playlist = %job.playlist, "broadcast starting");
        Ok(length)
    }

    fn stop(&mut self) {
        if let Err(e) = self.player.stop() {
            self.note_error("cannot reach the player", e);
        }
    }

    fn log_unplayed(&mut self, job: &Job, outcome: Outcome, _now: DateTime<Utc>) {
        tracing::info!(scheduled = %job.scheduled_at, outcome = outcome.code(), detail = outcome.detail(), "broadcast not played");
        let draft = LogEntryDraft {
            origin: job.origin.clone(),
            priority: job.priority,
            scheduled_at: job.scheduled_at,
            started_at: None,
            ended_at: None,
            clips: Vec::new(),
            outcome,
            rule_broken: job.rule_broken.clone(),
            request: job.request,
        };
        if let Err(e) = self.store.record(&draft) {
            self.note_error("cannot write the broadcast log", e);
        }
    }

    fn log_finished(&mut self, job: &Job, outcome: Outcome, now: DateTime<Utc>) {
        let Some(air) = self.on_air.take() else {
            return;
        };
        tracing::info!(scheduled = %job.scheduled_at, outcome = outcome.code(), detail = outcome.detail(), "broadcast ended");
        let aired = air
            .clip_items
            .iter()
            .filter(|&&i| i < air.items_started)
            .count();
        let end = OccurrenceEnd {
            started_at: air.first_sample.or(Some(air.requested_at)),
            ended_at: Some(now),
            clips: air.clips[..aired].to_vec(),
            outcome,
        };
        if let Err(e) = self.store.finish_occurrence(air.log, &end) {
            self.note_error("cannot finish the broadcast log row", e);
        }
        let keep: Vec<ClipId> = self
            .reserved
            .iter()
            .flat_map(|(_, _, c)| c.iter().copied())
            .collect();
        self.cache.retain(&keep);
    }

    fn hold(&mut self, job: &Job, now: DateTime<Utc>) -> Option<WaitingId> {
        let key = job.key?;
        match self
            .store
            .hold_occurrence(key, job.playlist, job.priority, now)
        {
            Ok(id) => Some(id),
            Err(e) => {
                self.note_error("cannot record a broadcast waiting for the air", e);
                None
            }
        }
    }

    fn prepare(&mut self, job: &Job) {
        let Ok(playlist) = self.store.playlist(job.playlist) else {
            return;
        };
        self.reserved
            .push((job.playlist, job.scheduled_at, playlist.items.clone()));
        let clips = playlist
            .items
            .iter()
            .filter_map(|id| self.store.clip(*id).ok())
            .map(|clip| (clip.id, library::clip_path(&self.audio.media_dir, &clip)))
            .collect();
        self.cache
            .prepare_in_background(clips, self.audio.policy, self.audio.format);
    }
}
