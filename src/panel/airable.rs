//! Whether a manual broadcast can air, asked before it is sent to the engine or held for
//! an approver, so that nothing is answered "sent" and then dropped: the playlist exists,
//! has clips, every clip's file is in the media directory, and — unless it is an
//! emergency — the station rules allow a start at the requested instant.
//!
//! The rules are judged by [`crate::schedule::StationRules::rule_broken`], the same function
//! the engine and the schedule's verdicts use; this file applies no rule of its own. An
//! emergency may break them: it airs and the engine logs the rule it broke. A refusal has a
//! stable code, an English message for the API and Vietnamese or English words for the
//! broadcast page.

use axum::http::StatusCode;
use chrono::{DateTime, Utc};

use super::i18n::Lang;
use super::words::rule_words;
use super::{ApiError, PanelState};
use crate::model::{PlaylistId, Priority};
use crate::schedule::RuleBreak;
use crate::store::StoreError;

/// Why a manual broadcast cannot air.
#[derive(Debug, thiserror::Error)]
pub(super) enum Unairable {
    /// The playlist does not exist (or was deleted).
    #[error("there is no playlist {0}")]
    NoPlaylist(PlaylistId),
    /// The playlist has no clips: nothing to play.
    #[error("playlist \"{0}\" is empty: there is nothing to play")]
    EmptyPlaylist(String),
    /// Clips whose original file is missing from the media directory.
    #[error(
        "{} clip file(s) of playlist \"{playlist}\" are missing from the media directory: {}; \
         upload them again or restore the media directory",
        missing.len(),
        missing.join(", ")
    )]
    MissingFiles {
        /// The playlist's name.
        playlist: String,
        /// The titles of the clips without a file.
        missing: Vec<String>,
    },
    /// A normal or priority broadcast would start where a station rule forbids it.
    #[error(
        "a {} broadcast cannot start at {local}: {rule}; only an emergency may break the \
         station rules",
        priority_name(*priority)
    )]
    Rule {
        /// The requested priority.
        priority: Priority,
        /// The requested instant in the station's zone, `dd/mm HH:MM`.
        local: String,
        /// The rule it would break.
        rule: RuleBreak,
    },
}

/// A request refused: because it cannot air (the page shows why in its language), or for
/// any other reason the API states (no role, the engine stopping, the database).
#[derive(Debug)]
pub(super) enum Refused {
    /// It cannot air.
    Cannot(Unairable),
    /// Any other error.
    Other(ApiError),
}

impl Unairable {
    /// The stable error code: `no_playlist`, `empty_playlist`, `clip_file_missing`, or the
    /// rule's (`before_earliest`, `after_latest`, `quiet_hours`).
    pub(super) fn code(&self) -> &'static str {
        match self {
            Unairable::NoPlaylist(_) => "no_playlist",
            Unairable::EmptyPlaylist(_) => "empty_playlist",
            Unairable::MissingFiles { .. } => "clip_file_missing",
            Unairable::Rule { rule, .. } => rule.code(),
        }
    }

    /// The reason for staff, in the page's language.
    pub(super) fn words(&self, lang: Lang) -> String {
        if lang == Lang::En {
            return self.to_string();
        }
        match self {
            Unairable::NoPlaylist(id) => {
                format!("Không có danh sách phát số {id} (có thể đã bị xoá).")
            }
            Unairable::EmptyPlaylist(name) => {
                format!("Danh sách phát \"{name}\" chưa có bản tin nào: không có gì để phát.")
            }
            Unairable::MissingFiles { playlist, missing } => format!(
                "Thiếu tệp âm thanh của {} bản tin trong danh sách \"{playlist}\": {}. Hãy tải \
                 lên lại các bản tin này.",
                missing.len(),
                missing.join(", ")
            ),
            Unairable::Rule { local, rule, .. } => format!(
                "Không thể phát lúc {local}: {}. Chỉ phát khẩn cấp mới được phát ngoài quy \
                 định của đài.",
                rule_words(lang, &rule.to_string())
            ),
        }
    }
}

/// Whether playlist `playlist` at `priority` can air at `at`; `None` when the instant is
/// not known yet (a play-now held for approval airs when it is approved, and is judged
/// again then), in which case only the content is checked.
pub(super) fn check(
    state: &PanelState,
    playlist: PlaylistId,
    priority: Priority,
    at: Option<DateTime<Utc>>,
) -> Result<(), Refused> {
    let list = match state.store.playlist(playlist) {
        Ok(list) => list,
        Err(StoreError::NotFound { .. }) => {
            return Err(Refused::Cannot(Unairable::NoPlaylist(playlist)));
        }
        Err(e) => return Err(Refused::Other(e.into())),
    };
    if list.items.is_empty() {
        return Err(Refused::Cannot(Unairable::EmptyPlaylist(list.name)));
    }
    let media = crate::library::media_dir(&state.config.station.data_dir);
    let mut missing: Vec<String> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for id in list.items.iter().filter(|id| seen.insert(**id)) {
        match state.store.clip(*id) {
            Ok(clip) if crate::library::clip_path(&media, &clip).is_file() => {}
            Ok(clip) => missing.push(clip.title),
            Err(StoreError::NotFound { .. }) => missing.push(format!("#{id}")),
            Err(e) => return Err(Refused::Other(e.into())),
        }
    }
    if !missing.is_empty() {
        return Err(Refused::Cannot(Unairable::MissingFiles {
            playlist: list.name,
            missing,
        }));
    }
    let tz = state.config.station.time_zone;
    if let Some(at) = at.filter(|_| priority != Priority::Emergency) {
        let local = at.with_timezone(&tz);
        if let Some(rule) = state.config.schedule.rules.rule_broken(local.time()) {
            return Err(Refused::Cannot(Unairable::Rule {
                priority,
                local: local.format("%d/%m %H:%M").to_string(),
                rule,
            }));
        }
    }
    Ok(())
}

fn priority_name(p: Priority) -> &'static str {
    match p {
        Priority::Normal => "normal",
        Priority::Priority => "priority",
        Priority::Emergency => "emergency",
    }
}

impl From<Unairable> for ApiError {
    fn from(u: Unairable) -> ApiError {
        let status = match u {
            Unairable::NoPlaylist(_) | Unairable::EmptyPlaylist(_) => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            Unairable::MissingFiles { .. } | Unairable::Rule { .. } => StatusCode::CONFLICT,
        };
        ApiError::new(status, u.code(), u.to_string())
    }
}

impl From<Refused> for ApiError {
    fn from(r: Refused) -> ApiError {
        match r {
            Refused::Cannot(u) => u.into(),
            Refused::Other(e) => e,
        }
    }
}

impl From<ApiError> for Refused {
    fn from(e: ApiError) -> Refused {
        Refused::Other(e)
    }
}

impl From<StoreError> for Refused {
    fn from(e: StoreError) -> Refused {
        Refused::Other(e.into())
    }
}
