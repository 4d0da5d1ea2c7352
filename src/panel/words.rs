//! Words for what other modules name in English: the station rules `schedule` gives as a
//! verdict's reason ("quiet hours 21:00-05:00"), the health checks of `health` as
//! headlines and fixes, and the state of the clock, for staff in the panel's languages.
//! Most words are in `i18n`'s table and this file only picks them; the clock's states are
//! worded here, beside the choice between them.

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

#[cfg(test)]
mod tests {
    use super::*;

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
