//! The action layer: each change staff or automation make to programmes, campaigns and
//! playlists is one function here that checks the caller's role, validates the input,
//! writes it with one store call, and audits it — with every approval the change
//! withdrew. The JSON API (`*_api.rs`) and the HTML forms (`pages_*.rs`) both call these
//! functions, so they share rules, defaults and error codes; the engine learns of the
//! change through the store. Nothing here parses a request body or renders HTML.
//!
//! Approval rule (the one place it is written): with `station.approval_required`, a
//! programme an editor creates waits for an approver, and a change an editor makes to what
//! a programme airs (its playlist, campaign dates, cron, priority, dates, repeats, clash
//! rule) withdraws its approval — by construction, in the store's seal. An approver's or
//! administrator's own change keeps the approvals that stood before it (they are the
//! people who would approve it); it never approves what was already waiting. Without
//! `approval_required` every change keeps approval, so turning the setting on later does
//! not silence the station.

mod campaigns;
mod playlists;
mod programmes;

pub(super) use campaigns::{CampaignInput, create_campaign, delete_campaign, update_campaign};
pub(super) use playlists::{
    Edit, create_playlist, delete_playlist, edit_order, rename_playlist, replace_order,
};
pub(super) use programmes::{
    ProgrammeInput, approve_programme, create_programme, default_clash, delete_programme,
    unapprove_programme, update_programme,
};

use axum::http::StatusCode;

use super::auth::Principal;
use super::i18n::Lang;
use super::{ApiError, PanelState, audit};
use crate::model::ProgrammeId;
use crate::store::{Approvals, Role, StoreError};

/// Why an action was refused.
#[derive(Debug, thiserror::Error)]
pub(super) enum ActionError {
    /// The caller's role is too low (403).
    #[error("this needs the {} role; {who} has the {} role", need.as_str(), has.as_str())]
    Forbidden {
        /// The role the action needs.
        need: Role,
        /// Who asked.
        who: String,
        /// Their role.
        has: Role,
    },
    /// Well-formed input that breaks a rule (422).
    #[error("{0}")]
    Invalid(Problem),
    /// The thing acted on does not exist (404).
    #[error("{what} {id} not found")]
    NotFound {
        /// "programme", "campaign", "playlist".
        what: &'static str,
        /// Its id.
        id: i64,
    },
    /// What an approver was shown changed before the approval arrived (409 `changed`).
    #[error("{0} changed while you looked at it; look at it again before approving")]
    Changed(String),
    /// Another refusal of the store (409 in use or version conflict, or 500).
    #[error(transparent)]
    Store(StoreError),
}

/// A rule the input breaks, with words for staff in both languages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Problem {
    /// An empty name.
    Name(&'static str),
    /// A cron expression that does not parse (the parser's words).
    Cron(String),
    /// Repeats outside 1..=20.
    Repeat,
    /// An end date before the start date.
    Dates,
    /// A date that is not `YYYY-MM-DD` (the field's name).
    Date(&'static str),
    /// A form field that must be a number, or a choice that was not made.
    Choose(&'static str),
    /// A reference to a playlist, campaign or clip that does not exist.
    Missing {
        /// "playlist", "campaign", "clip".
        what: &'static str,
        /// The id given.
        id: i64,
    },
    /// A playlist edit at a position the playlist does not have.
    Position(String),
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Problem::Name(what) => write!(f, "{what} name must not be empty"),
            Problem::Cron(e) => write!(f, "cron expression: {e}"),
            Problem::Repeat => write!(f, "repeat must be between 1 and 20"),
            Problem::Dates => write!(f, "the end date is before the start date"),
            Problem::Date(field) => write!(f, "{field} date must be YYYY-MM-DD"),
            Problem::Choose(what) => write!(f, "choose a {what}"),
            Problem::Missing { what, id } => write!(f, "{what} {id} does not exist"),
            Problem::Position(e) => write!(f, "{e}"),
        }
    }
}

impl Problem {
    /// The problem in Vietnamese, for staff (no cron syntax, no English).
    fn vi(&self) -> String {
        match self {
            Problem::Name(what) => format!("Hãy đặt tên cho {}.", thing_vi(what)),
            Problem::Cron(_) => {
                "Thời gian phát không hợp lệ; hãy chọn lại giờ và ngày trong tuần.".to_owned()
            }
            Problem::Repeat => "Số lần lặp phải từ 1 đến 20.".to_owned(),
            Problem::Dates => "Ngày kết thúc phải sau ngày bắt đầu.".to_owned(),
            Problem::Date(field) => format!(
                "Hãy chọn ngày {}.",
                if *field == "start" {
                    "bắt đầu"
                } else {
                    "kết thúc"
                }
            ),
            Problem::Choose(what) => format!("Hãy chọn {}.", thing_vi(what)),
            Problem::Missing { what, id } => {
                format!("Không có {} số {id}; hãy chọn lại.", thing_vi(what))
            }
            Problem::Position(_) => {
                "Vị trí không có trong danh sách phát; hãy tải lại trang.".to_owned()
            }
        }
    }
}

/// A kind of thing in Vietnamese.
fn thing_vi(what: &str) -> &'static str {
    match what {
        "programme" => "chương trình",
        "campaign" => "chiến dịch",
        "playlist" => "danh sách phát",
        "clip" => "bản tin",
        _ => "mục này",
    }
}

impl ActionError {
    /// The HTTP status the error is answered with, by the API and the forms alike.
    pub(super) fn status(&self) -> StatusCode {
        match self {
            ActionError::Forbidden { .. } => StatusCode::FORBIDDEN,
            ActionError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ActionError::NotFound { .. } => StatusCode::NOT_FOUND,
            ActionError::Changed(_) => StatusCode::CONFLICT,
            ActionError::Store(StoreError::NotFound { .. }) => StatusCode::NOT_FOUND,
            ActionError::Store(StoreError::InUse { .. } | StoreError::VersionConflict { .. }) => {
                StatusCode::CONFLICT
            }
            ActionError::Store(StoreError::Invalid(_)) => StatusCode::UNPROCESSABLE_ENTITY,
            ActionError::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The error for staff in `lang`: English is the API's message; Vietnamese says the
    /// same without code words.
    pub(super) fn words(&self, lang: Lang) -> String {
        if lang == Lang::En {
            return self.to_string();
        }
        match self {
            ActionError::Forbidden { .. } => {
                "Tài khoản của bạn không có quyền làm việc này.".to_owned()
            }
            ActionError::Invalid(p) => p.vi(),
            ActionError::NotFound { what, id } => {
                format!("Không tìm thấy {} số {id}.", thing_vi(what))
            }
            ActionError::Changed(_) => {
                "Nội dung đã thay đổi trong lúc bạn xem; hãy xem lại trước khi duyệt.".to_owned()
            }
            ActionError::Store(StoreError::InUse { what, users, .. }) => format!(
                "Không xoá được {}: đang được dùng bởi {}.",
                thing_vi(what),
                users.join(", ")
            ),
            ActionError::Store(StoreError::VersionConflict { .. }) => {
                "Danh sách phát vừa được người khác sửa; hãy tải lại trang.".to_owned()
            }
            ActionError::Store(StoreError::Invalid(_)) => {
                "Dữ liệu không hợp lệ; hãy kiểm tra lại.".to_owned()
            }
            ActionError::Store(_) => "Lỗi hệ thống; hãy báo kỹ thuật viên.".to_owned(),
        }
    }
}

impl From<StoreError> for ActionError {
    /// The thing acted on missing is 404; anything else the store refuses keeps its kind.
    fn from(e: StoreError) -> ActionError {
        match e {
            StoreError::NotFound { what, id } => ActionError::NotFound { what, id },
            other => ActionError::Store(other),
        }
    }
}

impl From<ActionError> for ApiError {
    fn from(e: ActionError) -> ApiError {
        match e {
            ActionError::Forbidden { .. } => {
                ApiError::new(StatusCode::FORBIDDEN, "forbidden", e.to_string())
            }
            ActionError::Invalid(p) => ApiError::unprocessable(p.to_string()),
            ActionError::NotFound { .. } => ApiError::not_found(e.to_string()),
            ActionError::Changed(_) => {
                ApiError::new(StatusCode::CONFLICT, "changed", e.to_string())
            }
            ActionError::Store(s) => s.into(),
        }
    }
}

/// A reference to a playlist, campaign or clip that does not exist is bad input (422),
/// not a missing target.
fn reference(e: StoreError, target: &'static str) -> ActionError {
    match e {
        StoreError::NotFound { what, id } if what != target => {
            ActionError::Invalid(Problem::Missing { what, id })
        }
        other => other.into(),
    }
}

/// Fails unless `who` has at least `role`.
fn require(who: &Principal, role: Role) -> Result<(), ActionError> {
    if who.role >= role {
        Ok(())
    } else {
        Err(ActionError::Forbidden {
            need: role,
            who: who.name.clone(),
            has: who.role,
        })
    }
}

/// Whether `who`'s changes keep the approvals that stand (see the module header).
fn approvals(state: &PanelState, who: &Principal) -> Approvals {
    if !state.config.station.approval_required || who.role >= Role::Approver {
        Approvals::Keep
    } else {
        Approvals::Withdraw
    }
}

/// Audits each approval a change withdrew: the programme now needs approving again.
fn audit_withdrawn(
    state: &PanelState,
    who: &Principal,
    withdrawn: &[(ProgrammeId, String)],
    cause: &str,
) {
    for (id, name) in withdrawn {
        audit(
            state,
            who,
            "programme.approval_withdrawn",
            format!("programme {id}"),
            format!("{name}: {cause}; it needs approving again"),
        );
    }
}
