//! The domain vocabulary shared by the store, the scheduler, the engine and the panel:
//! ids, clips, playlists, campaigns, programmes, occurrences and their outcomes.
//!
//! These are plain data types with no I/O. They are built from validated input (config,
//! API, database rows) and nothing that receives them re-checks their invariants.

use std::fmt;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::cron::CronExpr;

/// Defines an integer id newtype backed by an SQLite rowid.
macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }
    };
}

id_type!(
    /// A clip's id; the clip is also identified across boxes by its SHA-256.
    ClipId
);
id_type!(
    /// A playlist's id.
    PlaylistId
);
id_type!(
    /// A campaign's id.
    CampaignId
);
id_type!(
    /// A programme's id; with a scheduled instant it identifies an occurrence.
    ProgrammeId
);
id_type!(
    /// A broadcast log row's id.
    LogId
);

/// Broadcast priority. Ordered: `Normal < Priority < Emergency`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Priority {
    /// Plays by the station's schedule.
    Normal,
    /// Goes before normal broadcasts.
    Priority,
    /// Plays immediately and may break station rules (logged).
    Emergency,
}

/// What a programme does when another broadcast is on air at its instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "rule")]
pub enum ClashRule {
    /// Waits for the air to be free, at most `max_wait`; after that it is skipped.
    Queue {
        /// Longest wait before the occurrence is skipped.
        #[serde(with = "secs")]
        max_wait: Duration,
    },
    /// Interrupts a lower-priority broadcast (which is logged as interrupted).
    CutIn,
}

/// An inclusive range of local dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DateRange {
    /// First day, inclusive.
    pub start: NaiveDate,
    /// Last day, inclusive.
    pub end: NaiveDate,
}

/// EBU R128 measurements of a clip, taken once at ingest.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ClipLoudness {
    /// Integrated loudness in LUFS.
    pub integrated_lufs: f64,
    /// Loudness range in LU.
    pub range_lu: f64,
    /// True peak in dBTP.
    pub true_peak_dbtp: f64,
}

/// One uploaded recording; the original file is stored unchanged under its SHA-256.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Clip {
    /// Local id.
    pub id: ClipId,
    /// Hex SHA-256 of the original file; names the file in the media store.
    pub sha256: String,
    /// Title shown to staff.
    pub title: String,
    /// File name as uploaded.
    pub original_name: String,
    /// Decoded duration in milliseconds.
    pub duration_ms: i64,
    /// Native sample rate.
    pub sample_rate: u32,
    /// Native channel count.
    pub channels: u16,
    /// Loudness measured at ingest.
    pub loudness: ClipLoudness,
    /// When the clip was added.
    pub created_at: DateTime<Utc>,
}

/// An ordered list of clips; a clip may appear more than once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Playlist {
    /// Local id.
    pub id: PlaylistId,
    /// Name shown to staff.
    pub name: String,
    /// Bumped on every change; a write naming an older version is a conflict.
    pub version: i64,
    /// Clip ids in play order.
    pub items: Vec<ClipId>,
}

/// A named date range that programmes belong to; reports are per campaign.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Campaign {
    /// Local id.
    pub id: CampaignId,
    /// Name, e.g. "Tháng hành động vì trẻ em 2026".
    pub name: String,
    /// Theme line from the plan.
    pub theme: String,
    /// Dates the campaign runs, inclusive.
    pub dates: DateRange,
}

/// A schedule entry: when, what, and how it behaves.
#[derive(Debug, Clone, PartialEq)]
pub struct Programme {
    /// Local id.
    pub id: ProgrammeId,
    /// Name shown to staff.
    pub name: String,
    /// When it fires, in the station's time zone.
    pub cron: CronExpr,
    /// What it plays.
    pub playlist: PlaylistId,
    /// The campaign it belongs to; its dates bound the programme.
    pub campaign: Option<CampaignId>,
    /// The programme's own date bounds, in addition to the campaign's.
    pub dates: Option<DateRange>,
    /// Priority against other broadcasts.
    pub priority: Priority,
    /// Behaviour when the air is busy.
    pub clash: ClashRule,
    /// How many times the playlist is played per occurrence (at least 1).
    pub repeat: u32,
    /// Pause between repeats.
    pub repeat_pause: Duration,
    /// Whether the opening and closing chime play.
    pub chime: bool,
    /// Disabled programmes never fire.
    pub enabled: bool,
    /// Unapproved programmes never fire when the station requires approval.
    pub approved: bool,
}

/// Identifies one firing of a programme: the programme and its scheduled instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct OccurrenceKey {
    /// The programme that fired.
    pub programme: ProgrammeId,
    /// The instant it was scheduled for.
    pub scheduled: DateTime<Utc>,
}

/// Where a broadcast came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Origin {
    /// A programme's scheduled firing.
    Scheduled {
        /// The programme.
        programme: ProgrammeId,
    },
    /// Play now, a one-shot at an instant, or an emergency, asked for by a person or tool.
    Manual {
        /// Who or what asked for it (user name, token name, `cli`).
        requested_by: String,
    },
}

/// How an occurrence ended. Every occurrence ends in the log with one of these.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "outcome", content = "detail")]
pub enum Outcome {
    /// Everything played.
    Played,
    /// Some clips played, then the session limit or an error ended it.
    Partial(String),
    /// A higher-priority broadcast or a stop command cut it.
    Interrupted(String),
    /// Not played because of a rule (named here).
    Skipped(String),
    /// Not played because the box was down or the clock was wrong.
    Missed(String),
    /// Could not play (the error).
    Failed(String),
}

impl Outcome {
    /// The stable lowercase code stored in the log and shown in reports.
    pub fn code(&self) -> &'static str {
        match self {
            Outcome::Played => "played",
            Outcome::Partial(_) => "partial",
            Outcome::Interrupted(_) => "interrupted",
            Outcome::Skipped(_) => "skipped",
            Outcome::Missed(_) => "missed",
            Outcome::Failed(_) => "failed",
        }
    }

    /// The detail text (rule, reason or error); empty for `Played`.
    pub fn detail(&self) -> &str {
        match self {
            Outcome::Played => "",
            Outcome::Partial(s)
            | Outcome::Interrupted(s)
            | Outcome::Skipped(s)
            | Outcome::Missed(s)
            | Outcome::Failed(s) => s,
        }
    }

    /// Rebuilds an outcome from its stored code and detail.
    pub fn from_parts(code: &str, detail: &str) -> Option<Outcome> {
        let detail = detail.to_owned();
        Some(match code {
            "played" => Outcome::Played,
            "partial" => Outcome::Partial(detail),
            "interrupted" => Outcome::Interrupted(detail),
            "skipped" => Outcome::Skipped(detail),
            "missed" => Outcome::Missed(detail),
            "failed" => Outcome::Failed(detail),
            _ => return None,
        })
    }
}

/// One clip as it went on air, kept in the log even if the clip is later deleted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlayedClip {
    /// The clip's local id at the time.
    pub clip: ClipId,
    /// Its title at the time.
    pub title: String,
    /// Its content hash.
    pub sha256: String,
    /// Gain applied, in dB.
    pub gain_db: f64,
}

/// One row of the broadcast log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogEntry {
    /// Row id (assigned by the store).
    pub id: LogId,
    /// Scheduled programme or manual request.
    pub origin: Origin,
    /// Priority it ran with.
    pub priority: Priority,
    /// The instant it was due.
    pub scheduled_at: DateTime<Utc>,
    /// When its first sample reached the output.
    pub started_at: Option<DateTime<Utc>>,
    /// When its last sample reached the output.
    pub ended_at: Option<DateTime<Utc>>,
    /// Clips that went on air, in order.
    pub clips: Vec<PlayedClip>,
    /// How it ended.
    pub outcome: Outcome,
    /// A station rule this broadcast was allowed to break (emergencies only).
    pub rule_broken: Option<String>,
}

/// Serde helper storing a `Duration` as whole seconds.
pub mod secs {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    /// Serializes a duration as whole seconds.
    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_secs())
    }

    /// Deserializes whole seconds into a duration.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        Ok(Duration::from_secs(u64::deserialize(d)?))
    }
}
