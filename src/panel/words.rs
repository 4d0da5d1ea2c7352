//! Words for what other modules name in English: the station rules `schedule` gives as a
//! verdict's reason ("quiet hours 21:00-05:00"), the reasons the engine and player write
//! into the broadcast log ("box down or clock wrong (12 min late)"), the health checks of
//! `health` as headlines and fixes, and the state of the clock, for staff in the panel's
//! languages. This is the one place a log reason is put into Vietnamese (the log page, the
//! week calendar, the dashboard and the CSV all ask it); a reason it does not know shows as
//! "lý do khác" with the English text kept as the technician's detail. Most words are in
//! `i18n`'s table and this file only picks them; the clock's states are worded here.

use super::i18n::Lang;
use crate::health::Level;

/// The headline and fix, for staff, of a health check that is not OK (the check's own
/// detail and fix, in English for technicians, are shown beside them).
pub fn check_words(lang: Lang, check: &str, problem: bool) -> (&'static str, &'static str) {
    let t = |k| lang.t(k);
    match check {
        "config" => (t("check config"), t("check config fix")),
        "database" => (t("check database"), t("check database fix")),
        "media" => (t("check media"), t("check media fix")),
        "output" => (t("check output"), t("check output fix")),
        "relay" => (t("check relay"), t("check relay fix")),
        "clock" if problem => (t("check clock"), t("check clock fix")),
        "clock" => (
            pick(
                lang,
                "Đồng hồ chưa đồng bộ (cấu hình không bắt buộc): lịch vẫn phát theo giờ có thể sai",
                "Clock not synchronised (not required by the config): the schedule airs by a \
                 time that may be wrong",
            ),
            t("check clock fix"),
        ),
        "disk" if problem => (t("check disk full"), t("check disk fix")),
        "disk" => (t("check disk"), t("check disk fix")),
        "last_broadcast" => (t("check last_broadcast"), t("check last_broadcast fix")),
        _ => (t("check other"), t("check other fix")),
    }
}

/// The clock card's words for the clock check's level: synchronised, unsynchronised and
/// not required (a warning), unsynchronised and required (the schedule waits).
pub fn clock_words(lang: Lang, level: Level) -> &'static str {
    match level {
        Level::Ok => lang.t("synced"),
        Level::Warn => pick(
            lang,
            "CHƯA đồng bộ — không bắt buộc, lịch vẫn phát",
            "NOT synchronised — not required, the schedule airs",
        ),
        Level::Problem => lang.t("not synced"),
    }
}

fn pick(lang: Lang, vi: &'static str, en: &'static str) -> &'static str {
    match lang {
        Lang::Vi => vi,
        Lang::En => en,
    }
}

/// A station rule as `schedule` names it ("quiet hours 21:00-05:00", …) in this language.
pub fn rule_words(lang: Lang, rule: &str) -> String {
    if lang == Lang::En {
        return rule.to_owned();
    }
    const VI: &[(&str, &str)] = &[
        ("before earliest broadcast time", "trước giờ phát sớm nhất"),
        ("after latest broadcast time", "sau giờ phát muộn nhất"),
        ("quiet hours", "giờ yên tĩnh"),
        ("awaiting approval", "chờ duyệt"),
    ];
    VI.iter()
        .find_map(|(en, vi)| rule.strip_prefix(en).map(|rest| format!("{vi}{rest}")))
        .unwrap_or_else(|| rule.to_owned())
}

/// A log reason for staff: the words, and the technical part (an OS or device error, a
/// path) that is shown apart, for the technician.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reason {
    /// The reason in the page's language.
    pub text: String,
    /// What only a technician can read (English), if any.
    pub technical: Option<String>,
}

/// A log row's reason (`Outcome::detail`) in this language. English is the engine's own
/// words; Vietnamese is mapped here from the reasons the engine, player and store write.
pub fn reason_words(lang: Lang, detail: &str) -> Reason {
    let plain = |text: String| Reason {
        text,
        technical: None,
    };
    if lang == Lang::En || detail.is_empty() {
        return plain(detail.to_owned());
    }
    let number_between = |prefix: &str, suffix: &str| {
        detail
            .strip_prefix(prefix)
            .and_then(|r| r.strip_suffix(suffix))
            .filter(|n| n.parse::<i64>().is_ok())
            .map(str::to_owned)
    };
    let technical = |text: &str, rest: &str| Reason {
        text: text.to_owned(),
        technical: Some(rest.to_owned()),
    };
    let rule = rule_words(lang, detail);
    if rule != detail {
        return plain(rule);
    }
    if detail == crate::store::PROVISIONAL_OUTCOME_DETAIL {
        return plain("loa dừng đột ngột trước khi phát xong (mất điện, lỗi hoặc bị tắt)".into());
    }
    if let Some(n) = number_between("box down or clock wrong (", " min late)") {
        return plain(format!(
            "máy tắt hoặc đồng hồ sai vào giờ phát (trễ {n} phút)"
        ));
    }
    if let Some(n) = number_between("air busy: waited ", " min, the queue limit") {
        return plain(format!(
            "đang có lượt phát khác; đã chờ {n} phút, quá thời gian chờ cho phép"
        ));
    }
    if let Some(n) = number_between("session limit of ", " min reached") {
        return plain(format!("đã đến giới hạn {n} phút cho một lượt phát"));
    }
    if let Some(who) = detail.strip_prefix("stopped by ") {
        return plain(format!("{who} đã bấm dừng phát"));
    }
    if let Some(who) = detail.strip_prefix("cancelled by ") {
        return plain(format!("đã huỷ vì {who} bấm dừng phát"));
    }
    if let Some(e) = detail.strip_prefix("output unavailable: ") {
        return technical("không mở được thiết bị âm thanh (card âm thanh)", e);
    }
    if let Some(e) = detail.strip_prefix("output failed: ") {
        return technical("thiết bị âm thanh (card âm thanh) bị lỗi khi đang phát", e);
    }
    if let Some(name) = detail
        .strip_prefix("playlist \"")
        .and_then(|r| r.strip_suffix("\" is empty"))
    {
        return plain(format!("danh sách phát «{name}» không có bản tin nào"));
    }
    if detail.starts_with('/') {
        // The prepare step names the clip's file: "/var/lib/loa/media/…: error".
        return technical("không đọc được tệp âm thanh của bản tin", detail);
    }
    if detail.starts_with("item ") && detail.contains(" is malformed") {
        return technical("âm thanh chuẩn bị để phát bị lỗi", detail);
    }
    const FIXED: &[(&str, &str)] = &[
        ("stopped", "đã dừng phát"),
        (
            "cut in by a normal broadcast",
            "bị ngắt để phát một lượt thường",
        ),
        (
            "cut in by a priority broadcast",
            "bị ngắt để phát một lượt ưu tiên",
        ),
        (
            "cut in by an emergency broadcast",
            "bị ngắt để phát khẩn cấp",
        ),
        (
            "the amplifier relay was cut after its maximum on time",
            "rơ-le âm ly tự ngắt vì đã bật quá thời gian cho phép",
        ),
        (
            "programme changed, disabled or removed before it aired",
            "chương trình đã được sửa, tắt hoặc xoá trước giờ phát",
        ),
        ("loa was stopped", "loa được tắt trong khi đang phát"),
        (
            "superseded by a later occurrence of the same programme",
            "không phát bù: đã có lần phát sau của cùng chương trình",
        ),
        (
            "the player did not report the end of the broadcast",
            "bộ phát không báo kết thúc lượt phát",
        ),
        ("already in the log", "đã có trong nhật ký, không phát lại"),
    ];
    FIXED.iter().find(|(en, _)| *en == detail).map_or_else(
        || technical("lý do khác", detail),
        |(_, vi)| plain((*vi).to_owned()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every reason the engine, player and store write today, as they write it.
    const KNOWN_REASONS: &[&str] = &[
        "quiet hours 11:30-13:30",
        "before earliest broadcast time 05:00",
        "after latest broadcast time 21:00",
        "awaiting approval",
        "cancelled by lan",
        "stopped by lan",
        "stopped",
        "cut in by a normal broadcast",
        "cut in by a priority broadcast",
        "cut in by an emergency broadcast",
        "the amplifier relay was cut after its maximum on time",
        "programme changed, disabled or removed before it aired",
        "loa was stopped",
        "box down or clock wrong (12 min late)",
        "superseded by a later occurrence of the same programme",
        "session limit of 30 min reached",
        "the player did not report the end of the broadcast",
        "air busy: waited 10 min, the queue limit",
        "output unavailable: no such device",
        "output failed: ALSA write: broken pipe",
        "playlist \"Sáng\" is empty",
        "/var/lib/loa/media/ab.mp3: No such file or directory (os error 2)",
        "item 2 \"pause\" is malformed: 3 samples for 2 channels, gain 1",
        "already in the log",
        crate::store::PROVISIONAL_OUTCOME_DETAIL,
    ];

    #[test]
    fn every_known_log_reason_reads_in_vietnamese() {
        for en in KNOWN_REASONS {
            let vi = reason_words(Lang::Vi, en);
            assert_ne!(vi.text, "lý do khác", "{en} is not mapped");
            for word in [
                "the ", " by ", " min", "output", "playlist", "loa was", "box ",
            ] {
                assert!(!vi.text.contains(word), "{en} → {}", vi.text);
            }
            assert_eq!(reason_words(Lang::En, en).text, *en);
        }
        let odd = reason_words(Lang::Vi, "a reason nobody mapped");
        assert_eq!(odd.text, "lý do khác");
        assert_eq!(odd.technical.as_deref(), Some("a reason nobody mapped"));
        assert_eq!(
            reason_words(Lang::Vi, "box down or clock wrong (7 min late)").text,
            "máy tắt hoặc đồng hồ sai vào giờ phát (trễ 7 phút)"
        );
    }

    #[test]
    fn every_rule_schedule_names_is_translated() {
        use crate::schedule::{QuietHours, StationRules};
        use chrono::NaiveTime;
        let hm = |h, m| NaiveTime::from_hms_opt(h, m, 0).unwrap();
        let rules = StationRules {
            earliest: hm(5, 0),
            latest: hm(21, 0),
            quiet_hours: vec![QuietHours {
                from: hm(11, 30),
                to: hm(13, 30),
            }],
            max_session: std::time::Duration::from_secs(1800),
        };
        for t in [hm(4, 30), hm(22, 0), hm(12, 0)] {
            let rule = rules.violation(t).unwrap();
            let vi = rule_words(Lang::Vi, &rule);
            assert!(!vi.contains(&rule[..5]), "{rule} → {vi}");
            assert_eq!(rule_words(Lang::En, &rule), rule);
        }
        assert_eq!(
            rule_words(Lang::Vi, "quiet hours 11:30-13:30"),
            "giờ yên tĩnh 11:30-13:30"
        );
        assert_eq!(rule_words(Lang::Vi, "awaiting approval"), "chờ duyệt");
        // The clock: three states, each its own words; a warning is not the problem's.
        let states = [Level::Ok, Level::Warn, Level::Problem].map(|l| clock_words(Lang::Vi, l));
        assert!(
            states[0] != states[1] && states[1] != states[2],
            "{states:?}"
        );
        assert!(states[1].contains("không bắt buộc"), "{states:?}");
        assert_ne!(
            check_words(Lang::Vi, "clock", false),
            check_words(Lang::Vi, "clock", true)
        );
        for name in [
            "config",
            "database",
            "media",
            "output",
            "relay",
            "clock",
            "disk",
            "last_broadcast",
        ] {
            let (h, f) = check_words(Lang::Vi, name, true);
            assert_ne!(h, Lang::Vi.t("check other"), "{name}");
            assert!(
                !h.starts_with("check ") && !f.starts_with("check "),
                "{name}"
            );
        }
    }
}
