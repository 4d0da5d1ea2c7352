//! The broadcast log for people: filtered rows (JSON, with the stable outcome codes), the
//! same rows as CSV for a spreadsheet (in the panel's language: Vietnamese headers, outcomes
//! and reasons by default, English with the stable codes under `?lang=en`), and the
//! per-campaign report a ward hands in (per clip: times and minutes aired, first and last
//! airing; per day: broadcasts and minutes).

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write;

use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use super::auth::ApiUser;
use super::body::{Path, Query};
use super::i18n::Lang;
use super::words::reason_words;
use super::{ApiError, PanelState};
use crate::model::{Campaign, CampaignId, ClipId, LogEntry, Origin, ProgrammeId};

/// The log routes.
pub(super) fn routes() -> Router<PanelState> {
    Router::new()
        .route("/api/log", get(log))
        .route("/api/log.csv", get(csv))
        .route("/api/campaigns/{id}/report", get(report))
}

/// Filters for the log: a range (default the last 7 days), a campaign, an outcome.
#[derive(Debug, Default, Deserialize)]
pub struct LogFilter {
    /// From this instant (inclusive).
    pub from: Option<DateTime<FixedOffset>>,
    /// To this instant (exclusive).
    pub to: Option<DateTime<FixedOffset>>,
    /// Only this campaign's programmes.
    pub campaign: Option<i64>,
    /// Only this outcome (`played`, `skipped`, …).
    pub outcome: Option<String>,
}

/// One clip's line in a campaign report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClipLine {
    /// The clip.
    pub clip: ClipId,
    /// Its title at airing time.
    pub title: String,
    /// How many times it went on air.
    pub times_aired: u32,
    /// Minutes on air (its duration times the airings).
    pub minutes_aired: f64,
    /// First airing.
    pub first_aired: DateTime<Utc>,
    /// Last airing.
    pub last_aired: DateTime<Utc>,
}

/// One day's line in a campaign report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DayLine {
    /// Local date in the station's zone.
    pub date: NaiveDate,
    /// Broadcasts that went on air.
    pub broadcasts: u32,
    /// Minutes on air.
    pub minutes: f64,
    /// Occurrences skipped, missed or failed.
    pub not_aired: u32,
}

/// The report for one campaign.
#[derive(Debug, Clone, Serialize)]
pub struct CampaignReport {
    /// The campaign.
    pub campaign: Campaign,
    /// Per clip, by first airing.
    pub clips: Vec<ClipLine>,
    /// Per day, in date order.
    pub days: Vec<DayLine>,
}

/// The filtered log rows, by scheduled instant.
pub(super) fn filtered(state: &PanelState, f: &LogFilter) -> Result<Vec<LogEntry>, ApiError> {
    let to = f.to.map_or_else(|| state.clock.now(), |t| t.to_utc());
    let from = f
        .from
        .map_or(to - chrono::Duration::days(7), |t| t.to_utc());
    if to < from {
        return Err(ApiError::bad_request("`to` must not be before `from`"));
    }
    let rows = match f.campaign {
        Some(c) => state
            .store
            .log_for_campaign(CampaignId(c))?
            .into_iter()
            .filter(|r| r.scheduled_at >= from && r.scheduled_at < to)
            .collect(),
        None => state.store.log_between(from, to)?,
    };
    Ok(rows
        .into_iter()
        .filter(|r| f.outcome.as_deref().is_none_or(|o| r.outcome.code() == o))
        .collect())
}

/// `GET /api/log?from=&to=&campaign=&outcome=`.
async fn log(
    State(state): State<PanelState>,
    _: ApiUser,
    Query(f): Query<LogFilter>,
) -> Result<impl IntoResponse, ApiError> {
    Ok(axum::Json(filtered(&state, &f)?))
}

/// `GET /api/log.csv?…`: the same rows as CSV (UTF-8 with BOM, so spreadsheets read the
/// Vietnamese right), in the request's language.
async fn csv(
    State(state): State<PanelState>,
    _: ApiUser,
    lang: Lang,
    Query(f): Query<LogFilter>,
) -> Result<impl IntoResponse, ApiError> {
    let rows = filtered(&state, &f)?;
    let tz = state.config.station.time_zone;
    let names = programme_names(&state, &rows);
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"loa-log.csv\"",
            ),
        ],
        to_csv(&rows, tz, &names, lang),
    ))
}

/// `GET /api/campaigns/{id}/report`.
async fn report(
    State(state): State<PanelState>,
    _: ApiUser,
    Path(id): Path<i64>,
) -> Result<impl IntoResponse, ApiError> {
    Ok(axum::Json(campaign_report(&state, CampaignId(id))?))
}

/// Builds a campaign's report from its log rows.
pub(super) fn campaign_report(
    state: &PanelState,
    id: CampaignId,
) -> Result<CampaignReport, ApiError> {
    let campaign = state.store.campaign(id)?;
    let rows = state.store.log_for_campaign(id)?;
    let durations: HashMap<ClipId, i64> = state
        .store
        .clips()?
        .into_iter()
        .chain(state.store.archived_clips()?)
        .map(|c| (c.id, c.duration_ms))
        .collect();
    Ok(CampaignReport {
        campaign,
        clips: clip_lines(&rows, &durations),
        days: day_lines(&rows, state.config.station.time_zone),
    })
}

/// Whether the row's broadcast reached the air.
fn aired(r: &LogEntry) -> bool {
    matches!(r.outcome.code(), "played" | "partial" | "interrupted") && r.started_at.is_some()
}

/// Per clip lines, ordered by first airing.
pub fn clip_lines(rows: &[LogEntry], durations: &HashMap<ClipId, i64>) -> Vec<ClipLine> {
    let mut lines: Vec<ClipLine> = Vec::new();
    for r in rows.iter().filter(|r| aired(r)) {
        let at = r.started_at.unwrap_or(r.scheduled_at);
        for c in &r.clips {
            let minutes = durations.get(&c.clip).copied().unwrap_or(0) as f64 / 60_000.0;
            match lines.iter_mut().find(|l| l.clip == c.clip) {
                Some(l) => {
                    l.times_aired += 1;
                    l.minutes_aired += minutes;
                    l.first_aired = l.first_aired.min(at);
                    l.last_aired = l.last_aired.max(at);
                }
                None => lines.push(ClipLine {
                    clip: c.clip,
                    title: c.title.clone(),
                    times_aired: 1,
                    minutes_aired: minutes,
                    first_aired: at,
                    last_aired: at,
                }),
            }
        }
    }
    for l in &mut lines {
        l.minutes_aired = (l.minutes_aired * 10.0).round() / 10.0;
    }
    lines.sort_by_key(|l| l.first_aired);
    lines
}

/// Per day lines in the station's zone.
pub fn day_lines(rows: &[LogEntry], tz: Tz) -> Vec<DayLine> {
    let mut days: BTreeMap<NaiveDate, DayLine> = BTreeMap::new();
    for r in rows {
        let date = r.scheduled_at.with_timezone(&tz).date_naive();
        let d = days.entry(date).or_insert(DayLine {
            date,
            broadcasts: 0,
            minutes: 0.0,
            not_aired: 0,
        });
        if aired(r) {
            d.broadcasts += 1;
            if let (Some(s), Some(e)) = (r.started_at, r.ended_at) {
                d.minutes += (e - s).num_milliseconds().max(0) as f64 / 60_000.0;
            }
        } else {
            d.not_aired += 1;
        }
    }
    days.into_values()
        .map(|mut d| {
            d.minutes = (d.minutes * 10.0).round() / 10.0;
            d
        })
        .collect()
}

/// The names of the programmes the rows come from (deleted ones too).
pub(super) fn programme_names(
    state: &PanelState,
    rows: &[LogEntry],
) -> HashMap<ProgrammeId, String> {
    let mut names = HashMap::new();
    for r in rows {
        if let Origin::Scheduled { programme } = r.origin {
            names.entry(programme).or_insert_with(|| {
                state
                    .store
                    .programme_including_deleted(programme)
                    .map_or_else(|_| format!("#{programme}"), |p| p.name)
            });
        }
    }
    names
}

/// The rows as CSV with a header line. English keeps the stable codes (`scheduled`,
/// `played`, RFC 3339 times) for scripts; Vietnamese is for people: headers, origin,
/// priority, outcome and reason in words, times as `dd/mm/yyyy HH:MM:SS`.
pub fn to_csv(
    rows: &[LogEntry],
    tz: Tz,
    names: &HashMap<ProgrammeId, String>,
    lang: Lang,
) -> String {
    let vi = lang == Lang::Vi;
    let mut out = String::from(if vi {
        "\u{feff}Mã,Giờ dự kiến,Bắt đầu,Kết thúc,Nguồn,Chương trình,Người yêu cầu,Mức ưu tiên,\
         Kết quả,Lý do,Vi phạm quy định,Bản tin\r\n"
    } else {
        "\u{feff}id,scheduled_at,started_at,ended_at,origin,programme,requested_by,priority,\
         outcome,detail,rule_broken,clips\r\n"
    });
    let time = |t: Option<DateTime<Utc>>| {
        t.map(|t| {
            let t = t.with_timezone(&tz);
            if vi {
                t.format("%d/%m/%Y %H:%M:%S").to_string()
            } else {
                t.to_rfc3339()
            }
        })
    };
    for r in rows {
        let (origin, programme, by) = match &r.origin {
            Origin::Scheduled { programme } => (
                if vi { "theo lịch" } else { "scheduled" },
                names.get(programme).cloned().unwrap_or_default(),
                String::new(),
            ),
            Origin::Manual { requested_by } => (
                if vi { "phát thủ công" } else { "manual" },
                String::new(),
                requested_by.clone(),
            ),
        };
        let clips: Vec<&str> = r.clips.iter().map(|c| c.title.as_str()).collect();
        let (outcome, detail, rule) = if vi {
            let reason = reason_words(lang, r.outcome.detail());
            let detail = match reason.technical {
                Some(t) => format!("{} ({t})", reason.text),
                None => reason.text,
            };
            let rule = r.rule_broken.as_deref().map(|b| reason_words(lang, b).text);
            (lang.outcome(r.outcome.code()), detail, rule)
        } else {
            (
                r.outcome.code(),
                r.outcome.detail().to_owned(),
                r.rule_broken.clone(),
            )
        };
        let priority = if vi {
            lang.priority(r.priority).to_owned()
        } else {
            format!("{:?}", r.priority).to_lowercase()
        };
        let fields = [
            r.id.to_string(),
            time(Some(r.scheduled_at)).unwrap_or_default(),
            time(r.started_at).unwrap_or_default(),
            time(r.ended_at).unwrap_or_default(),
            origin.to_owned(),
            programme,
            by,
            priority,
            outcome.to_owned(),
            detail,
            rule.unwrap_or_default(),
            clips.join(" | "),
        ];
        let line: Vec<String> = fields.iter().map(|f| field(f)).collect();
        let _ = write!(out, "{}\r\n", line.join(","));
    }
    out
}

/// One CSV field: quoted when needed, and defused when a spreadsheet would run it.
fn field(text: &str) -> String {
    let mut t = text.to_owned();
    if t.starts_with(['=', '+', '-', '@']) {
        t.insert(0, '\'');
    }
    if t.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", t.replace('"', "\"\""))
    } else {
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{LogId, Outcome, PlayedClip, Priority};

    fn row(id: i64, start_s: i64, secs: i64, outcome: Outcome, clips: &[(i64, &str)]) -> LogEntry {
        let at = DateTime::from_timestamp(1_780_272_000 + start_s, 0).unwrap();
        LogEntry {
            id: LogId(id),
            origin: Origin::Scheduled {
                programme: ProgrammeId(1),
            },
            priority: Priority::Normal,
            scheduled_at: at,
            started_at: Some(at),
            ended_at: Some(at + chrono::Duration::seconds(secs)),
            clips: clips
                .iter()
                .map(|(c, t)| PlayedClip {
                    clip: ClipId(*c),
                    title: (*t).to_owned(),
                    sha256: String::new(),
                    gain_db: 0.0,
                })
                .collect(),
            outcome,
            rule_broken: None,
        }
    }

    #[test]
    fn report_counts_airings_minutes_and_days() {
        let tz: Tz = "Asia/Ho_Chi_Minh".parse().unwrap();
        let slogan = "Tổng đài 111 - Luôn lắng nghe và bảo vệ trẻ em";
        let rows = vec![
            row(1, 0, 180, Outcome::Played, &[(1, slogan), (2, "Bản tin")]),
            row(2, 3600, 90, Outcome::Played, &[(1, slogan)]),
            row(3, 86_400, 0, Outcome::Skipped("quiet hours".into()), &[]),
        ];
        let durations = HashMap::from([(ClipId(1), 90_000), (ClipId(2), 60_000)]);
        let clips = clip_lines(&rows, &durations);
        assert_eq!(clips.len(), 2);
        assert_eq!((clips[0].times_aired, clips[0].minutes_aired), (2, 3.0));
        assert_eq!(
            clips[0].last_aired - clips[0].first_aired,
            chrono::Duration::hours(1)
        );
        assert_eq!((clips[1].times_aired, clips[1].minutes_aired), (1, 1.0));
        let days = day_lines(&rows, tz);
        assert_eq!(days.len(), 2);
        assert_eq!(
            (days[0].broadcasts, days[0].minutes, days[0].not_aired),
            (2, 4.5, 0)
        );
        assert_eq!((days[1].broadcasts, days[1].not_aired), (0, 1));
    }

    #[test]
    fn csv_quotes_and_defuses_fields() {
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("=1+1"), "'=1+1");
        let tz: Tz = "Asia/Ho_Chi_Minh".parse().unwrap();
        let rows = vec![row(7, 0, 60, Outcome::Played, &[(1, "Khẩu hiệu, 2026")])];
        let names = HashMap::from([(ProgrammeId(1), "Sáng".to_owned())]);
        let text = to_csv(&rows, tz, &names, Lang::En);
        let line = text.lines().nth(1).unwrap();
        assert!(line.starts_with("7,2026-06-01T07:00:00+07:00,"), "{line}");
        assert!(
            line.contains(",Sáng,") && line.ends_with("\"Khẩu hiệu, 2026\""),
            "{line}"
        );
    }

    #[test]
    fn vietnamese_csv_has_words_not_codes() {
        let tz: Tz = "Asia/Ho_Chi_Minh".parse().unwrap();
        let names = HashMap::from([(ProgrammeId(1), "Sáng".to_owned())]);
        let rows = vec![
            row(1, 0, 60, Outcome::Played, &[(1, "Khẩu hiệu")]),
            row(
                2,
                60,
                0,
                Outcome::Skipped("after latest broadcast time 21:00".into()),
                &[],
            ),
        ];
        let text = to_csv(&rows, tz, &names, Lang::Vi);
        let mut lines = text.lines();
        assert!(lines.next().unwrap().contains("Giờ dự kiến,Bắt đầu"));
        let played = lines.next().unwrap();
        assert!(
            played.starts_with("1,01/06/2026 07:00:00,") && played.contains(",theo lịch,Sáng,"),
            "{played}"
        );
        assert!(played.contains(",Bình thường,đã phát,"), "{played}");
        let skipped = lines.next().unwrap();
        assert!(
            skipped.contains(",bỏ qua,sau giờ phát muộn nhất 21:00,"),
            "{skipped}"
        );
        assert!(
            !text.contains("played") && !text.contains("skipped"),
            "{text}"
        );
    }
}
