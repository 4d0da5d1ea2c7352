//! One judgement of the station rules, at the scheduled instant: a programme at
//! `30 21 * * *` with `latest = "21:30"` is shown "air" by the programme preview and
//! `/api/schedule`, and the engine airs it — it does not judge the real start a few
//! milliseconds later and skip it "after latest broadcast time 21:30".

use std::sync::Arc;
use std::time::Duration;

use chrono::{TimeZone, Utc};
use loa::config::Config;
use loa::model::{ClashRule, Outcome, Priority};
use loa::store::{NewProgramme, Store};

use crate::daemon::{http, start_with_clock};
use crate::support::{OffsetClock, write_config, write_tone};

const TOKEN: &str = "rule-instant-token-0123456789";
const TZ: chrono_tz::Tz = chrono_tz::Asia::Ho_Chi_Minh;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_last_minute_allowed_airs_in_the_preview_the_schedule_and_on_air() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_config(
        dir.path(),
        &format!(
            "[audio]\noutput = \"wav:{}\"\nchime = \"\"\n[schedule]\nwarm_up_seconds = 0.5\n\
             hold_seconds = 0.5\nearliest = \"05:00\"\nlatest = \"21:30\"\n\
             [panel]\nlisten = \"127.0.0.1:0\"\n[[tokens]]\nname = \"automation\"\ntoken = \"{TOKEN}\"\n",
            dir.path().join("air.wav").display()
        ),
    );
    let config = Config::load(&path).unwrap();
    let store = Store::open(&config.station.data_dir.join("loa.db")).unwrap();
    let media = loa::library::media_dir(&config.station.data_dir);
    let file = dir.path().join("ban-tin-toi.wav");
    write_tone(&file, 440.0, 1.0, -18.0);
    let clip = loa::library::add_file(&store, &media, &file, "Bản tin tối", Utc::now()).unwrap();
    let playlist = store.create_playlist("Bản tin tối", &[clip.id]).unwrap().id;
    store
        .create_programme(&NewProgramme {
            name: "Bản tin tối".to_owned(),
            cron: loa::cron::CronExpr::parse("30 21 * * *").unwrap(),
            playlist,
            campaign: None,
            dates: None,
            priority: Priority::Normal,
            clash: ClashRule::Queue {
                max_wait: Duration::from_secs(60),
            },
            repeat: 1,
            repeat_pause: Duration::ZERO,
            chime: false,
            enabled: true,
            approved: true,
        })
        .unwrap();
    let day = Utc::now().with_timezone(&TZ).date_naive();
    let instant = TZ
        .from_local_datetime(&day.and_hms_opt(21, 30, 0).unwrap())
        .unwrap()
        .to_utc();
    let clock = Arc::new(OffsetClock::starting_at(
        instant - chrono::Duration::seconds(4),
        true,
    ));
    let (addr, _engine, stop, task) = start_with_clock(config, clock).await;
    let auth = format!("Authorization: Bearer {TOKEN}\r\n");

    let (code, body) = http(
        addr,
        "GET",
        "/api/programmes/preview?expr=30+21+*+*+*&count=1",
        &auth,
        "",
    )
    .await;
    assert_eq!(code, 200, "{body}");
    let preview: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(preview["times"][0]["verdict"], "air", "{preview}");
    let (_, body) = http(addr, "GET", "/api/schedule", &auth, "").await;
    let schedule: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(schedule[0]["verdict"], "air", "{schedule}");
    assert_eq!(
        schedule[0]["at"].as_str().unwrap(),
        instant.with_timezone(&TZ).to_rfc3339()
    );

    let mut row = None;
    for _ in 0..200 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        row = store
            .log_between(
                instant - chrono::Duration::hours(1),
                instant + chrono::Duration::hours(1),
            )
            .unwrap()
            .into_iter()
            .find(|r| r.ended_at.is_some() || !matches!(r.outcome, Outcome::Failed(_)));
        if row.is_some() {
            break;
        }
    }
    let _ = stop.send(());
    task.await.unwrap();
    let row = row.expect("the 21:30 occurrence was logged");
    assert_eq!(row.scheduled_at, instant);
    assert_eq!(row.outcome, Outcome::Played, "{row:?}");
}
