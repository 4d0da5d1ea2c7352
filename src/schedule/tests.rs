//! Tests of occurrence computation: date bounds, rules, approval, verdict order, and the
//! year-ahead lookups.

use std::time::Duration;

use chrono::{NaiveDate, NaiveTime, TimeZone};

use super::*;
use crate::cron::CronExpr;
use crate::model::{ClashRule, PlaylistId, ProgrammeId};

const TZ: Tz = chrono_tz::Asia::Ho_Chi_Minh;

fn t(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).unwrap()
}

fn local(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    TZ.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap().to_utc()
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn programme(id: i64, cron: &str, priority: Priority) -> Programme {
    Programme {
        id: ProgrammeId(id),
        name: format!("p{id}"),
        cron: CronExpr::parse(cron).unwrap(),
        playlist: PlaylistId(1),
        campaign: None,
        dates: None,
        priority,
        clash: ClashRule::CutIn,
        repeat: 1,
        repeat_pause: Duration::ZERO,
        chime: true,
        enabled: true,
        approved: true,
    }
}

fn rules() -> StationRules {
    StationRules {
        earliest: t(5, 30),
        latest: t(21, 0),
        quiet_hours: vec![QuietHours {
            from: t(11, 30),
            to: t(13, 30),
        }],
        max_session: Duration::from_secs(900),
    }
}

fn campaign() -> Campaign {
    Campaign {
        id: CampaignId(7),
        name: "Tháng hành động vì trẻ em năm 2026".to_owned(),
        theme: "Trẻ em hạnh phúc, an toàn, vững bước trong kỷ nguyên số".to_owned(),
        dates: DateRange {
            start: day(2026, 6, 1),
            end: day(2026, 6, 30),
        },
    }
}

#[test]
fn campaign_bounds_occurrences_inclusively() {
    let mut p = programme(1, "0 6,17 * * *", Priority::Normal);
    p.campaign = Some(CampaignId(7));
    let programmes = [p];
    let campaigns = [campaign()];
    let rules = rules();
    let s = Station {
        programmes: &programmes,
        campaigns: &campaigns,
        rules: &rules,
        tz: TZ,
        approval_required: false,
    };
    let all = s.occurrences(local(2026, 5, 1, 0, 0), local(2026, 7, 31, 0, 0));
    assert_eq!(all.len(), 60);
    assert_eq!(all[0].key.scheduled, local(2026, 6, 1, 6, 0));
    assert_eq!(all[59].key.scheduled, local(2026, 6, 30, 17, 0));
    assert_eq!(s.next_instant(local(2026, 6, 30, 17, 0)), None);
    assert_eq!(
        s.next_instant(local(2026, 1, 1, 0, 0)),
        Some(local(2026, 6, 1, 6, 0))
    );
}

#[test]
fn unknown_campaign_or_empty_intersection_never_fires() {
    let mut a = programme(1, "0 6 * * *", Priority::Normal);
    a.campaign = Some(CampaignId(99));
    let mut b = programme(2, "0 6 * * *", Priority::Normal);
    b.campaign = Some(CampaignId(7));
    b.dates = Some(DateRange {
        start: day(2026, 7, 1),
        end: day(2026, 7, 5),
    });
    let mut c = programme(3, "0 6 * * *", Priority::Normal);
    c.enabled = false;
    let programmes = [a, b, c];
    let campaigns = [campaign()];
    let rules = rules();
    let s = Station {
        programmes: &programmes,
        campaigns: &campaigns,
        rules: &rules,
        tz: TZ,
        approval_required: false,
    };
    assert!(
        s.occurrences(local(2026, 1, 1, 0, 0), local(2026, 12, 31, 0, 0))
            .is_empty()
    );
    assert_eq!(s.next_instant(local(2026, 1, 1, 0, 0)), None);
}

#[test]
fn verdicts_follow_station_rules_and_approval() {
    let cases: &[(&str, Priority, bool, Verdict)] = &[
        ("0 6 * * *", Priority::Normal, true, Verdict::Air),
        (
            "30 4 * * *",
            Priority::Normal,
            true,
            Verdict::Skip("before earliest broadcast time 05:30".into()),
        ),
        (
            "30 21 * * *",
            Priority::Normal,
            true,
            Verdict::Skip("after latest broadcast time 21:00".into()),
        ),
        (
            "0 12 * * *",
            Priority::Priority,
            true,
            Verdict::Skip("quiet hours 11:30-13:30".into()),
        ),
        (
            "0 12 * * *",
            Priority::Emergency,
            true,
            Verdict::AirBreakingRule("quiet hours 11:30-13:30".into()),
        ),
        (
            "30 4 * * *",
            Priority::Emergency,
            true,
            Verdict::AirBreakingRule("before earliest broadcast time 05:30".into()),
        ),
        (
            "0 6 * * *",
            Priority::Normal,
            false,
            Verdict::Skip("awaiting approval".into()),
        ),
        ("30 13 * * *", Priority::Normal, true, Verdict::Air),
        ("0 21 * * *", Priority::Normal, true, Verdict::Air),
    ];
    let rules = rules();
    for (cron, priority, approved, want) in cases {
        let mut p = programme(1, cron, *priority);
        p.approved = *approved;
        let programmes = [p];
        let s = Station {
            programmes: &programmes,
            campaigns: &[],
            rules: &rules,
            tz: TZ,
            approval_required: true,
        };
        let got = s.occurrences(local(2026, 6, 1, 0, 0), local(2026, 6, 2, 0, 0));
        assert_eq!(got.len(), 1, "{cron}");
        assert_eq!(
            &got[0].verdict, want,
            "{cron} {priority:?} approved={approved}"
        );
    }
}

#[test]
fn simultaneous_occurrences_sort_by_priority() {
    let programmes = [
        programme(1, "0 6 * * *", Priority::Normal),
        programme(2, "0 6 * * *", Priority::Emergency),
        programme(3, "0 6 * * *", Priority::Priority),
    ];
    let rules = rules();
    let s = Station {
        programmes: &programmes,
        campaigns: &[],
        rules: &rules,
        tz: TZ,
        approval_required: false,
    };
    let got: Vec<i64> = s
        .occurrences(local(2026, 6, 1, 0, 0), local(2026, 6, 1, 12, 0))
        .iter()
        .map(|p| p.key.programme.0)
        .collect();
    assert_eq!(got, vec![2, 3, 1]);
}

#[test]
fn quiet_hours_wrap_past_midnight() {
    let q = QuietHours {
        from: t(22, 0),
        to: t(5, 0),
    };
    assert!(q.contains(t(23, 59)));
    assert!(q.contains(t(0, 0)));
    assert!(q.contains(t(4, 59)));
    assert!(!q.contains(t(5, 0)));
    assert!(!q.contains(t(21, 59)));
}

#[test]
fn a_year_of_fifty_programmes_is_ordered_and_complete() {
    let programmes: Vec<Programme> = (0..50)
        .map(|i| {
            programme(
                i,
                &format!("{} {} * * *", i % 60, 6 + i % 12),
                Priority::Normal,
            )
        })
        .collect();
    let rules = rules();
    let s = Station {
        programmes: &programmes,
        campaigns: &[],
        rules: &rules,
        tz: TZ,
        approval_required: false,
    };
    let all = s.occurrences(local(2026, 1, 1, 0, 0), local(2027, 1, 1, 0, 0));
    assert_eq!(all.len(), 50 * 365);
    assert!(
        all.windows(2)
            .all(|w| w[0].key.scheduled <= w[1].key.scheduled)
    );
}

#[test]
fn a_day_whose_midnight_falls_in_a_dst_gap_starts_after_the_gap() {
    // Chile moves its clocks from 00:00 to 01:00 on the first Sunday of September.
    let tz: Tz = "America/Santiago".parse().unwrap();
    let start = local_midnight(day(2026, 9, 6), tz);
    assert_eq!(start.with_timezone(&tz).date_naive(), day(2026, 9, 6));
    assert_eq!(start.with_timezone(&tz).time(), t(1, 0));
    // An ordinary day starts at midnight.
    let ordinary = local_midnight(day(2026, 9, 7), tz);
    assert_eq!(ordinary.with_timezone(&tz).time(), t(0, 0));
}

#[test]
fn a_rule_is_judged_at_the_instant_itself_so_latest_is_still_allowed() {
    // `latest = "21:30"` allows a start at 21:30 exactly; the minute after is refused.
    let mut r = rules();
    r.latest = t(21, 30);
    assert_eq!(r.rule_broken(t(21, 30)), None);
    assert_eq!(
        r.rule_broken(NaiveTime::from_hms_opt(21, 30, 1).unwrap()),
        Some(RuleBreak::AfterLatest(t(21, 30)))
    );
    assert_eq!(
        r.rule_broken(t(5, 29)).map(|b| b.code()),
        Some("before_earliest")
    );
    let quiet = r.rule_broken(t(12, 0)).unwrap();
    assert_eq!(quiet.code(), "quiet_hours");
    // The log keeps the same words `violation` always gave.
    assert_eq!(quiet.to_string(), "quiet hours 11:30-13:30");
    assert_eq!(
        r.violation(t(12, 0)).as_deref(),
        Some("quiet hours 11:30-13:30")
    );
    assert_eq!(
        r.violation(t(22, 0)).as_deref(),
        Some("after latest broadcast time 21:30")
    );
    let p = programme(1, "30 21 * * *", Priority::Normal);
    let s = Station {
        programmes: std::slice::from_ref(&p),
        campaigns: &[],
        rules: &r,
        tz: TZ,
        approval_required: false,
    };
    let next = s.upcoming(local(2026, 6, 1, 0, 0), 1);
    assert_eq!(next[0].key.scheduled, local(2026, 6, 1, 21, 30));
    assert_eq!(next[0].verdict, Verdict::Air);
}

#[test]
fn upcoming_respects_campaign_dates_and_counts_across_programmes() {
    let mut p = programme(1, "0 6 * * *", Priority::Normal);
    p.campaign = Some(CampaignId(7));
    let q = programme(2, "0 17 * * *", Priority::Normal);
    let programmes = [p, q];
    let campaigns = [campaign()];
    let rules = rules();
    let s = Station {
        programmes: &programmes,
        campaigns: &campaigns,
        rules: &rules,
        tz: TZ,
        approval_required: false,
    };
    // From 20 May: the campaign's programme waits for 1 June; the other fires daily.
    let next = s.upcoming(local(2026, 5, 20, 0, 0), 3);
    assert_eq!(next.len(), 3);
    assert!(next.iter().all(|o| o.key.programme == ProgrammeId(2)));
    let first_of_campaign = Station {
        programmes: &programmes[..1],
        ..s
    }
    .upcoming(local(2026, 5, 20, 0, 0), 40);
    assert_eq!(first_of_campaign[0].key.scheduled, local(2026, 6, 1, 6, 0));
    // It ends with the campaign's last day.
    assert_eq!(first_of_campaign.len(), 30);
    assert_eq!(
        first_of_campaign.last().unwrap().key.scheduled,
        local(2026, 6, 30, 6, 0)
    );
}
