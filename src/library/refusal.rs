//! Why an upload was refused, in words staff can act on, in Vietnamese and English.
//!
//! [`Problem`] is what is wrong with the uploaded file itself (it crosses the process
//! boundary from the analysis worker as JSON, so it carries no paths); [`IngestError`] adds
//! the upload's name and the failures that are the box's fault (I/O, database). Each has a
//! stable [`IngestError::code`] for the API and tests, and the messages say what is wrong
//! and how to fix it. This module decides no policy; it only names outcomes.

use std::io;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::store::StoreError;

/// The command we suggest for converting anything ffmpeg reads into an MP3 loa accepts.
pub const CONVERT_HINT: &str = "ffmpeg -i INPUT -c:a libmp3lame -b:a 128k OUTPUT.mp3";

/// What is wrong with an uploaded file. Serialised as `{"code": "...", ...}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Problem {
    /// No supported container or stream format was recognised.
    NotAudio,
    /// A container that holds no audio track (a video-only MP4, a tag-only file).
    NoAudioTrack,
    /// The audio uses a codec loa cannot decode; `codec` names it for staff.
    UnsupportedCodec {
        /// Human name of the codec or container, e.g. "Opus".
        codec: String,
    },
    /// The file stops before its end (an interrupted upload or recording).
    Truncated {
        /// Where the audio stops, in milliseconds.
        at_ms: u64,
    },
    /// The data is malformed at `at_ms`.
    Corrupt {
        /// Where decoding failed, in milliseconds.
        at_ms: u64,
        /// The decoder's own words (English, technical).
        detail: String,
    },
    /// The decoder crashed on this file (it ran isolated, so nothing else was harmed).
    DecoderCrashed {
        /// Exit status or panic message.
        detail: String,
    },
    /// Decoding did not finish within the time limit.
    Timeout {
        /// The limit, in seconds.
        limit_s: u64,
    },
    /// Zero bytes, or no samples at all.
    Empty,
    /// Decodes to silence: nothing louder than the EBU R128 absolute gate.
    Silent,
    /// Longer than the station allows.
    TooLong {
        /// The configured maximum, in seconds.
        max_s: u64,
    },
    /// Bigger than the upload limit.
    TooLarge {
        /// The configured maximum, in bytes.
        max_bytes: u64,
    },
    /// Not enough free space in the data directory for an upload of the maximum size.
    DiskFull {
        /// Bytes free now.
        free_bytes: u64,
        /// Bytes the upload needs free.
        needed_bytes: u64,
    },
}

/// Why an upload did not become a clip.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The file itself is the problem; staff can fix it.
    #[error("{}", problem.message_en(name))]
    Refused {
        /// The upload's name, as staff gave it.
        name: String,
        /// What is wrong.
        problem: Problem,
    },
    /// The box could not read, write or run something.
    #[error("{what} {path}")]
    Io {
        /// What was being done.
        what: &'static str,
        /// The path involved.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// The analysis worker answered something that is not a report.
    #[error("the analysis worker gave no usable answer for {name}: {detail}")]
    Worker {
        /// The upload's name.
        name: String,
        /// What went wrong.
        detail: String,
    },
    /// The database refused the row.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Problem {
    /// The stable code shown by the API and tested: `not_audio`, `unsupported_codec`,
    /// `truncated`, `corrupt`, `timeout`, `empty`, `silent`, `too_long`, `too_large`,
    /// `disk_full`.
    pub fn code(&self) -> &'static str {
        match self {
            Problem::NotAudio | Problem::NoAudioTrack => "not_audio",
            Problem::UnsupportedCodec { .. } => "unsupported_codec",
            Problem::Truncated { .. } => "truncated",
            Problem::Corrupt { .. } | Problem::DecoderCrashed { .. } => "corrupt",
            Problem::Timeout { .. } => "timeout",
            Problem::Empty => "empty",
            Problem::Silent => "silent",
            Problem::TooLong { .. } => "too_long",
            Problem::TooLarge { .. } => "too_large",
            Problem::DiskFull { .. } => "disk_full",
        }
    }

    /// What is wrong and how to fix it, in English.
    pub fn message_en(&self, name: &str) -> String {
        match self {
            Problem::NotAudio => format!(
                "{name} is not an audio file loa can read; upload MP3, M4A/AAC, WAV, FLAC or \
                 Ogg Vorbis, or convert it with `{CONVERT_HINT}`"
            ),
            Problem::NoAudioTrack => format!(
                "{name} has no sound in it (no audio track: a video, or tags only); export \
                 the sound as MP3 or convert it with `{CONVERT_HINT}`"
            ),
            Problem::UnsupportedCodec { codec } => format!(
                "{name} uses the {codec} codec, which loa cannot play; convert it to MP3 with \
                 `{CONVERT_HINT}` and upload the MP3"
            ),
            Problem::Truncated { at_ms } => format!(
                "{name} is cut short: its sound stops at {} (the upload or the recording was \
                 interrupted); send the complete file again",
                clock(*at_ms)
            ),
            Problem::Corrupt { at_ms, detail } => format!(
                "{name} is damaged at {} ({detail}); export or record it again, or repair it \
                 with `{CONVERT_HINT}`",
                clock(*at_ms)
            ),
            Problem::DecoderCrashed { detail } => format!(
                "{name} could not be decoded: the decoder failed on it ({detail}); convert it \
                 with `{CONVERT_HINT}` and upload again"
            ),
            Problem::Timeout { limit_s } => format!(
                "{name} took longer than {limit_s} s to check and was stopped; convert it \
                 with `{CONVERT_HINT}` and upload again"
            ),
            Problem::Empty => format!("{name} is empty: it holds no sound; choose another file"),
            Problem::Silent => format!(
                "{name} is silent: nothing in it can be heard; check the recording and the \
                 microphone"
            ),
            Problem::TooLong { max_s } => format!(
                "{name} is longer than the station's limit of {}; cut it into shorter parts",
                clock(max_s * 1000)
            ),
            Problem::TooLarge { max_bytes } => format!(
                "{name} is bigger than the upload limit of {}; convert it to MP3 with \
                 `{CONVERT_HINT}` to make it smaller",
                megabytes(*max_bytes)
            ),
            Problem::DiskFull {
                free_bytes,
                needed_bytes,
            } => format!(
                "the box's disk is too full to take {name}: {} free, {} needed; archive or \
                 delete old clips, or ask the technician",
                megabytes(*free_bytes),
                megabytes(*needed_bytes)
            ),
        }
    }

    /// What is wrong and how to fix it, in Vietnamese: plain words for ward staff, with no
    /// command line and no decoder detail (the English message keeps both for technicians).
    pub fn message_vi(&self, name: &str) -> String {
        match self {
            Problem::NotAudio => format!(
                "tệp «{name}» không phải tệp âm thanh mà loa đọc được; hãy tải lên tệp MP3, \
                 M4A, WAV hoặc FLAC, hoặc {ASK_TECHNICIAN}"
            ),
            Problem::NoAudioTrack => format!(
                "tệp «{name}» không có tiếng (là video không tiếng hoặc chỉ có thông tin bài); \
                 hãy chọn đúng tệp ghi âm, hoặc {ASK_TECHNICIAN}"
            ),
            Problem::UnsupportedCodec { codec } => format!(
                "tệp «{name}» ghi bằng định dạng {codec} (thường là tin nhắn thoại của Zalo, \
                 Messenger), loa không phát được; hãy ghi âm lại bằng ứng dụng Ghi âm của điện \
                 thoại (tệp M4A), hoặc {ASK_TECHNICIAN}"
            ),
            Problem::Truncated { at_ms } => format!(
                "tệp «{name}» bị cắt cụt: âm thanh dừng ở {} (việc tải lên hoặc ghi âm bị \
                 gián đoạn); hãy gửi lại tệp đầy đủ",
                clock(*at_ms)
            ),
            Problem::Corrupt { at_ms, .. } => format!(
                "tệp «{name}» bị hỏng từ phút {}; hãy xuất hoặc ghi âm lại, hoặc {ASK_TECHNICIAN}",
                clock(*at_ms)
            ),
            Problem::DecoderCrashed { .. } => format!(
                "loa không đọc được tệp «{name}» (tệp có thể bị hỏng); hãy xuất hoặc ghi âm lại, \
                 hoặc {ASK_TECHNICIAN}"
            ),
            Problem::Timeout { limit_s } => format!(
                "kiểm tra tệp «{name}» mất quá {limit_s} giây nên đã bị dừng; {ASK_TECHNICIAN}"
            ),
            Problem::Empty => {
                format!("tệp «{name}» trống: không có âm thanh nào; hãy chọn tệp khác")
            }
            Problem::Silent => format!(
                "tệp «{name}» im lặng: không nghe thấy gì; hãy kiểm tra bản ghi âm và micrô"
            ),
            Problem::TooLong { max_s } => format!(
                "tệp «{name}» dài hơn giới hạn {} của đài; hãy cắt thành các phần ngắn hơn",
                clock(max_s * 1000)
            ),
            Problem::TooLarge { max_bytes } => format!(
                "tệp «{name}» lớn hơn giới hạn tải lên {}; hãy ghi âm ngắn hơn, hoặc \
                 {ASK_TECHNICIAN} để tệp nhỏ hơn",
                megabytes(*max_bytes)
            ),
            Problem::DiskFull {
                free_bytes,
                needed_bytes,
            } => format!(
                "bộ nhớ của máy đã gần đầy, không nhận được tệp «{name}»: còn trống {}, cần {}; \
                 hãy xoá bớt bản tin cũ, hoặc báo kỹ thuật viên",
                megabytes(*free_bytes),
                megabytes(*needed_bytes)
            ),
        }
    }
}

/// The Vietnamese way to a file loa reads: the technician converts it (the English
/// message names the command).
const ASK_TECHNICIAN: &str = "nhờ kỹ thuật viên chuyển sang MP3 rồi tải lên lại";

impl IngestError {
    /// The stable code: the problem's code, or `internal` for the box's own failures.
    pub fn code(&self) -> &'static str {
        match self {
            IngestError::Refused { problem, .. } => problem.code(),
            IngestError::Io { .. } | IngestError::Worker { .. } | IngestError::Store(_) => {
                "internal"
            }
        }
    }

    /// Whether the file was refused (staff's to fix) rather than the box failing.
    pub fn is_refusal(&self) -> bool {
        matches!(self, IngestError::Refused { .. })
    }

    /// The problem with the file, if it was refused.
    pub fn problem(&self) -> Option<&Problem> {
        match self {
            IngestError::Refused { problem, .. } => Some(problem),
            _ => None,
        }
    }

    /// The message for staff, in English.
    pub fn message_en(&self) -> String {
        match self {
            IngestError::Refused { name, problem } => problem.message_en(name),
            other => format!(
                "the box could not store the file ({}); try again, and tell the technician \
                 if it keeps failing",
                error_chain(other)
            ),
        }
    }

    /// The message for staff, in Vietnamese.
    pub fn message_vi(&self) -> String {
        match self {
            IngestError::Refused { name, problem } => problem.message_vi(name),
            other => format!(
                "máy không lưu được tệp ({}); hãy thử lại, nếu vẫn lỗi hãy báo kỹ thuật viên",
                error_chain(other)
            ),
        }
    }

    pub(super) fn refused(name: &str, problem: Problem) -> IngestError {
        IngestError::Refused {
            name: name.to_owned(),
            problem,
        }
    }
}

/// The error and its sources, joined with ": ".
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// Milliseconds as `m:ss` (or `h:mm:ss`).
fn clock(ms: u64) -> String {
    let s = ms / 1000;
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}

fn megabytes(bytes: u64) -> String {
    format!("{} MB", bytes.div_ceil(1_000_000))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn every_problem() -> Vec<Problem> {
        vec![
            Problem::NotAudio,
            Problem::NoAudioTrack,
            Problem::UnsupportedCodec {
                codec: "Opus".to_owned(),
            },
            Problem::Truncated { at_ms: 61_500 },
            Problem::Corrupt {
                at_ms: 1_000,
                detail: "bad frame".to_owned(),
            },
            Problem::DecoderCrashed {
                detail: "signal 11".to_owned(),
            },
            Problem::Timeout { limit_s: 300 },
            Problem::Empty,
            Problem::Silent,
            Problem::TooLong { max_s: 3600 },
            Problem::TooLarge {
                max_bytes: 200_000_000,
            },
            Problem::DiskFull {
                free_bytes: 1,
                needed_bytes: 2,
            },
        ]
    }

    #[test]
    fn every_problem_names_the_file_in_both_languages_and_round_trips_as_json() {
        for p in every_problem() {
            let en = p.message_en("bản tin.mp3");
            let vi = p.message_vi("bản tin.mp3");
            assert!(en.contains("bản tin.mp3"), "{en}");
            assert!(vi.contains("bản tin.mp3"), "{vi}");
            assert_ne!(en, vi);
            assert!(
                !vi.contains("ffmpeg") && !vi.contains('`') && !vi.contains("bad frame"),
                "no command or decoder words for staff: {vi}"
            );
            assert!(!en.ends_with('.') && !vi.ends_with('.'), "{en} / {vi}");
            let json = serde_json::to_string(&p).unwrap();
            assert_eq!(serde_json::from_str::<Problem>(&json).unwrap(), p);
        }
    }

    #[test]
    fn codes_are_the_documented_ones() {
        let codes: Vec<_> = every_problem().iter().map(Problem::code).collect();
        assert_eq!(
            codes,
            [
                "not_audio",
                "not_audio",
                "unsupported_codec",
                "truncated",
                "corrupt",
                "corrupt",
                "timeout",
                "empty",
                "silent",
                "too_long",
                "too_large",
                "disk_full"
            ]
        );
    }

    #[test]
    fn unsupported_codec_says_how_to_convert() {
        let p = Problem::UnsupportedCodec {
            codec: "Opus".to_owned(),
        };
        assert!(p.message_en("a.opus").contains("Opus"));
        assert!(p.message_en("a.opus").contains(CONVERT_HINT));
        assert!(p.message_vi("a.opus").contains("chuyển sang MP3"));
        assert!(p.message_vi("a.opus").contains("Opus"));
        assert_eq!(clock(61_500), "1:01");
        assert_eq!(clock(3_723_000), "1:02:03");
    }
}
