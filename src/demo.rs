//! The demo station: the June child-protection campaign from the ward plans, as data.
//!
//! Used to seed an empty database when `station.seed_demo` is on (so a newcomer sees a
//! working station at once) and by the tests as realistic input. The content comes from
//! `shared/seeds/000_f56180672949215a.txt` (phường Hải Dương's 2026 plan) and the audio
//! files described in `media/README.md`. This module only describes; `seed` writes it
//! through the store.

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::NaiveDate;

use crate::model::{ClashRule, DateRange, Priority};

/// One demo clip: its title and file under the media directory.
#[derive(Debug, Clone, Copy)]
pub struct DemoClip {
    /// Title as staff would type it.
    pub title: &'static str,
    /// File relative to the media directory.
    pub file: &'static str,
}

/// One demo playlist: a name and indexes into [`CLIPS`].
#[derive(Debug, Clone, Copy)]
pub struct DemoPlaylist {
    /// Name.
    pub name: &'static str,
    /// Clip indexes in play order.
    pub clips: &'static [usize],
}

/// One demo programme.
#[derive(Debug, Clone)]
pub struct DemoProgramme {
    /// Name.
    pub name: &'static str,
    /// Standard cron expression.
    pub cron: &'static str,
    /// Index into [`PLAYLISTS`].
    pub playlist: usize,
    /// Own date bounds, inside the campaign.
    pub dates: Option<DateRange>,
    /// Priority.
    pub priority: Priority,
    /// Clash rule.
    pub clash: ClashRule,
    /// Plays per occurrence.
    pub repeat: u32,
    /// Pause between plays.
    pub repeat_pause: Duration,
    /// Approved by the ward leadership.
    pub approved: bool,
    /// Belongs to the campaign (else it runs all year).
    pub in_campaign: bool,
}

/// The campaign's name.
pub const CAMPAIGN_NAME: &str = "Tháng hành động vì trẻ em năm 2026";
/// The campaign's theme.
pub const CAMPAIGN_THEME: &str = "Trẻ em hạnh phúc, an toàn, vững bước trong kỷ nguyên số";

/// The demo clips.
pub const CLIPS: [DemoClip; 3] = [
    DemoClip {
        title: "Tổng đài 111 - Luôn lắng nghe và bảo vệ trẻ em",
        file: "demo/tong-dai-111.mp3",
    },
    DemoClip {
        title: "Trẻ em hạnh phúc hôm nay - Đất nước phồn vinh ngày mai",
        file: "demo/tre-em-hanh-phuc.m4a",
    },
    DemoClip {
        title: "Bảo vệ trẻ em trên môi trường mạng",
        file: "demo/bao-ve-tre-em-tren-mang.wav",
    },
];

/// The demo playlists.
pub const PLAYLISTS: [DemoPlaylist; 3] = [
    DemoPlaylist {
        name: "Khẩu hiệu Tháng hành động vì trẻ em 2026",
        clips: &[0, 1, 2],
    },
    DemoPlaylist {
        name: "Bản tin buổi chiều - Bảo vệ trẻ em",
        clips: &[2, 1, 0, 0],
    },
    DemoPlaylist {
        name: "Chào mừng Ngày Quốc tế Thiếu nhi 1/6",
        clips: &[1, 0],
    },
];

/// The campaign's dates: 1–30 June 2026.
pub fn campaign_dates() -> DateRange {
    DateRange {
        start: date(2026, 6, 1),
        end: date(2026, 6, 30),
    }
}

/// The demo programmes: morning and afternoon sessions, the Children's Day extra, a
/// Family Day programme still awaiting approval, and a year-round hotline bulletin (so the
/// demo has something to play outside June).
pub fn programmes() -> Vec<DemoProgramme> {
    let queue = ClashRule::Queue {
        max_wait: Duration::from_secs(600),
    };
    let one_day = |m, d| {
        Some(DateRange {
            start: date(2026, m, d),
            end: date(2026, m, d),
        })
    };
    vec![
        DemoProgramme {
            name: "Phát thanh buổi sáng - Tháng hành động vì trẻ em",
            cron: "0 6 * * *",
            playlist: 0,
            dates: None,
            priority: Priority::Normal,
            clash: queue,
            repeat: 2,
            repeat_pause: Duration::from_secs(5),
            approved: true,
            in_campaign: true,
        },
        DemoProgramme {
            name: "Phát thanh buổi chiều - Tháng hành động vì trẻ em",
            cron: "0 17 * * *",
            playlist: 1,
            dates: None,
            priority: Priority::Normal,
            clash: queue,
            repeat: 1,
            repeat_pause: Duration::ZERO,
            approved: true,
            in_campaign: true,
        },
        DemoProgramme {
            name: "Chương trình đặc biệt Ngày Quốc tế Thiếu nhi 1/6",
            cron: "0 9 1 6 *",
            playlist: 2,
            dates: one_day(6, 1),
            priority: Priority::Priority,
            clash: ClashRule::CutIn,
            repeat: 1,
            repeat_pause: Duration::ZERO,
            approved: true,
            in_campaign: true,
        },
        DemoProgramme {
            name: "Hưởng ứng Ngày Gia đình Việt Nam 28/6",
            cron: "30 9 28 6 *",
            playlist: 0,
            dates: one_day(6, 28),
            priority: Priority::Normal,
            clash: queue,
            repeat: 1,
            repeat_pause: Duration::ZERO,
            approved: false,
            in_campaign: true,
        },
        DemoProgramme {
            name: "Phát thanh thường xuyên - Tổng đài 111",
            cron: "30 6,17 * * MON-SAT",
            playlist: 0,
            dates: None,
            priority: Priority::Normal,
            clash: queue,
            repeat: 1,
            repeat_pause: Duration::ZERO,
            approved: true,
            in_campaign: false,
        },
    ]
}

/// The media directory shipped with the program: `media/` beside the config's directory
/// (a checkout's `config/loa.toml`), else `./media`, else the installed location.
pub fn shipped_media_dir(config_path: &Path) -> PathBuf {
    let beside = config_path
        .parent()
        .and_then(Path::parent)
        .map(|p| p.join("media"));
    beside
        .into_iter()
        .chain([PathBuf::from("media")])
        .find(|p| p.join("chime.wav").exists())
        .unwrap_or_else(|| PathBuf::from("/usr/share/loa/media"))
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("demo dates are valid")
}
