//! Honest answers from the panel: a manual broadcast that cannot air (a normal or priority
//! one outside station hours or in quiet hours at its instant, a missing or empty
//! playlist, a clip whose file is gone) is refused at once with a code naming the rule —
//! from the API, the broadcast page (in Vietnamese, in the page, what was typed kept) and
//! the approval path — and nothing reaches the engine; an emergency may break the rules.
//! Previews and the programme list's next time respect the campaign's dates, and judge a
//! rule at the instant as `/api/schedule` does.

use chrono::{Duration, NaiveDate, TimeZone, Utc};
use serde_json::json;

use super::{Panel, bearer, error_code, send};
use crate::support::write_tone;

const RULES: &str =
    "[schedule]\nearliest = \"05:00\"\nlatest = \"21:30\"\nquiet_hours = [\"11:30-13:30\"]\n";
const TZ: chrono_tz::Tz = chrono_tz::Asia::Ho_Chi_Minh;

/// Tomorrow at `hh:mm` station time, RFC 3339.
fn tomorrow_at(h: u32, m: u32) -> String {
    let day = Utc::now().with_timezone(&TZ).date_naive() + Duration::days(1);
    TZ.from_local_datetime(&day.and_hms_opt(h, m, 0).unwrap())
        .unwrap()
        .to_rfc3339()
}

/// A playlist of one generated clip straight in the panel's database: (playlist, clip file).
fn playlist(p: &Panel, name: &str) -> (i64, std::path::PathBuf) {
    let store = loa::store::Store::open(&p.dir.path().join("data/loa.db")).unwrap();
    let wav = p.dir.path().join(format!("{name}.wav"));
    write_tone(&wav, 440.0, 1.0, -20.0);
    let media = loa::library::media_dir(&p.dir.path().join("data"));
    let clip = loa::library::add_file(&store, &media, &wav, name, Utc::now()).unwrap();
    let id = store.create_playlist(name, &[clip.id]).unwrap().id.0;
    (id, loa::library::clip_path(&media, &clip))
}

/// `POST /api/broadcasts` with `body`.
async fn ask(p: &Panel, auth: &[String], body: serde_json::Value) -> super::Reply {
    p.call("POST", "/api/broadcasts", auth, Some(body)).await
}

/// How many broadcasts the panel accepted for the engine since the last call.
fn sent(p: &mut Panel) -> usize {
    p.new_requests().len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broadcast_that_cannot_air_is_refused_at_once_naming_the_rule() {
    let mut p = Panel::start(RULES).await;
    let (list, clip_file) = playlist(&p, "Tổng đài 111");
    for (priority, at, status, code, words) in [
        (
            "normal",
            tomorrow_at(22, 0),
            409,
            "after_latest",
            "after latest broadcast time 21:30",
        ),
        (
            "normal",
            tomorrow_at(4, 30),
            409,
            "before_earliest",
            "before earliest broadcast time 05:00",
        ),
        (
            "priority",
            tomorrow_at(12, 0),
            409,
            "quiet_hours",
            "quiet hours 11:30-13:30",
        ),
    ] {
        let r = ask(
            &p,
            &bearer(),
            json!({"playlist": list, "priority": priority, "at": at}),
        )
        .await;
        assert_eq!(
            (r.status, error_code(&r).as_str()),
            (status, code),
            "{}",
            r.text()
        );
        let message = r.json()["error"]["message"].as_str().unwrap().to_owned();
        assert!(message.contains(words), "{message}");
        assert!(message.contains("only an emergency"), "{message}");
    }
    assert_eq!(sent(&mut p), 0, "nothing refused reaches the engine");
    // The last minute allowed is allowed: the rule is judged at the instant asked for.
    let r = ask(
        &p,
        &bearer(),
        json!({"playlist": list, "at": tomorrow_at(21, 30)}),
    )
    .await;
    assert_eq!(r.status, 202, "{}", r.text());
    // An emergency may break the rules (the engine logs which).
    let r = ask(
        &p,
        &bearer(),
        json!({"playlist": list, "priority": "emergency", "at": tomorrow_at(12, 0)}),
    )
    .await;
    assert_eq!((r.status, r.json()["status"].as_str()), (202, Some("sent")));
    assert_eq!(sent(&mut p), 2);

    // Nothing to play: no such playlist, an empty one, a clip whose file is gone.
    let r = ask(&p, &bearer(), json!({"playlist": 999})).await;
    assert_eq!((r.status, error_code(&r).as_str()), (422, "no_playlist"));
    let empty = p
        .call(
            "POST",
            "/api/playlists",
            &bearer(),
            Some(json!({"name": "Trống"})),
        )
        .await;
    assert_eq!(empty.status, 201, "{}", empty.text());
    let r = ask(
        &p,
        &bearer(),
        json!({"playlist": empty.json()["id"], "priority": "emergency"}),
    )
    .await;
    assert_eq!((r.status, error_code(&r).as_str()), (422, "empty_playlist"));
    std::fs::remove_file(&clip_file).unwrap();
    let r = ask(
        &p,
        &bearer(),
        json!({"playlist": list, "priority": "emergency"}),
    )
    .await;
    assert_eq!(
        (r.status, error_code(&r).as_str()),
        (409, "clip_file_missing")
    );
    assert!(r.text().contains("Tổng đài 111"), "{}", r.text());
    assert_eq!(sent(&mut p), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_broadcast_page_says_why_in_vietnamese_and_keeps_what_was_typed() {
    let mut p = Panel::start(RULES).await;
    let admin = p.first_admin().await;
    let (list, _) = playlist(&p, "Khẩu hiệu");
    let at = &tomorrow_at(22, 15)[..16];
    let form = |priority: &str, at: &str| {
        format!(
            "csrf={}&priority={priority}&playlist={list}&at={}",
            admin.csrf,
            at.replace(':', "%3A")
        )
    };
    let post = |body: String, lang: &'static str| {
        let cookie = admin.cookie.clone();
        let addr = p.addr;
        async move {
            send(
                addr,
                "POST",
                &format!("/broadcast/play{lang}"),
                &[
                    format!("Cookie: {cookie}"),
                    "Content-Type: application/x-www-form-urlencoded".to_owned(),
                ],
                body.as_bytes(),
            )
            .await
        }
    };
    let r = post(form("normal", at), "").await;
    assert_eq!(r.status, 200, "{}", r.text());
    let page = r.text();
    assert!(page.contains("role=\"alert\""), "{page}");
    assert!(
        page.contains("Không phát được") && page.contains("sau giờ phát muộn nhất 21:30"),
        "{page}"
    );
    assert!(!page.contains("{\"error\""), "no raw JSON: {page}");
    assert!(
        page.contains(&format!("value=\"{at}\"")),
        "the time is kept"
    );
    assert!(
        page.contains(&format!("value=\"{list}\" selected")),
        "the playlist is kept"
    );
    let r = post(form("normal", at), "?lang=en").await;
    assert!(
        r.text().contains("after latest broadcast time 21:30"),
        "{}",
        r.text()
    );
    // A time that is fine is accepted and said so.
    let r = post(form("normal", &tomorrow_at(9, 0)[..16]), "").await;
    assert_eq!(r.status, 303, "{}", r.text());
    assert_eq!(r.header("location"), Some("/broadcast?sent_at=1"));
    // A time gone by, or not a time: said in the page too.
    let r = post(form("normal", "2020-01-01T09:00"), "").await;
    assert!(r.text().contains("Giờ phát này đã qua"), "{}", r.text());
    let r = post(form("normal", "mai lúc 9 giờ"), "").await;
    assert!(r.text().contains("Giờ phát không hợp lệ"), "{}", r.text());
    assert_eq!(sent(&mut p), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_held_request_that_could_never_air_is_refused_before_it_is_held() {
    let mut p = Panel::start(&format!("approval_required = true\n{RULES}")).await;
    let admin = p.first_admin().await;
    let r = p
        .call(
            "POST",
            "/api/users",
            &admin.auth(),
            Some(json!({"name": "hoa", "role": "editor", "password": "mật khẩu dài"})),
        )
        .await;
    assert_eq!(r.status, 201);
    let editor = p
        .session(p.login("hoa", "mật khẩu dài").await.session_cookie())
        .await;
    let (list, clip_file) = playlist(&p, "Bản tin");
    let r = ask(
        &p,
        &editor.auth(),
        json!({"playlist": list, "at": tomorrow_at(22, 0)}),
    )
    .await;
    assert_eq!((r.status, error_code(&r).as_str()), (409, "after_latest"));
    let pending = p
        .call("GET", "/api/broadcasts/pending", &admin.auth(), None)
        .await;
    assert_eq!(pending.json(), json!([]), "not held");
    // One that can air is held; when its clip's file is gone by approval time, the approval
    // is refused and the request keeps waiting.
    let r = ask(
        &p,
        &editor.auth(),
        json!({"playlist": list, "at": tomorrow_at(9, 0)}),
    )
    .await;
    assert_eq!(r.json()["status"], "waiting_for_approval", "{}", r.text());
    let id = r.json()["pending"]["id"].as_i64().unwrap();
    std::fs::remove_file(&clip_file).unwrap();
    let r = p
        .call(
            "POST",
            &format!("/api/broadcasts/pending/{id}/approve"),
            &admin.auth(),
            None,
        )
        .await;
    assert_eq!(
        (r.status, error_code(&r).as_str()),
        (409, "clip_file_missing")
    );
    let pending = p
        .call("GET", "/api/broadcasts/pending", &admin.auth(), None)
        .await
        .json();
    assert_eq!(pending[0]["id"], id, "still waiting: {pending}");
    // The page's approve button says it in the page.
    let r = send(
        p.addr,
        "POST",
        &format!("/broadcast/pending/{id}/approve"),
        &[
            format!("Cookie: {}", admin.cookie),
            "Content-Type: application/x-www-form-urlencoded".to_owned(),
        ],
        format!("csrf={}", admin.csrf).as_bytes(),
    )
    .await;
    assert_eq!(r.status, 200);
    assert!(r.text().contains("Thiếu tệp âm thanh"), "{}", r.text());
    assert_eq!(sent(&mut p), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn previews_and_next_times_respect_campaign_dates_and_judge_at_the_instant() {
    let p = Panel::start(RULES).await;
    let today = Utc::now().with_timezone(&TZ).date_naive();
    let (start, end) = (today + Duration::days(10), today + Duration::days(12));
    let campaign = |dates: (NaiveDate, NaiveDate)| json!({"name": "Tháng hành động vì trẻ em", "dates": {"start": dates.0, "end": dates.1}});
    let ahead = p
        .call(
            "POST",
            "/api/campaigns",
            &bearer(),
            Some(campaign((start, end))),
        )
        .await
        .json()["id"]
        .as_i64()
        .unwrap();
    let over = p
        .call(
            "POST",
            "/api/campaigns",
            &bearer(),
            Some(campaign((
                today - Duration::days(30),
                today - Duration::days(1),
            ))),
        )
        .await
        .json()["id"]
        .as_i64()
        .unwrap();
    let preview = |q: String| {
        let p = &p;
        async move {
            p.call(
                "GET",
                &format!("/api/programmes/preview?{q}"),
                &bearer(),
                None,
            )
            .await
        }
    };
    let r = preview(format!("expr=0+6+*+*+*&count=10&campaign={ahead}")).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let times: Vec<String> = r.json()["times"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["at"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(times.len(), 3, "only the campaign's three days: {times:?}");
    assert!(times[0].starts_with(&format!("{start}T06:00")), "{times:?}");
    assert!(times[2].starts_with(&format!("{end}T06:00")), "{times:?}");
    let r = preview(format!("expr=0+6+*+*+*&campaign={over}")).await;
    assert_eq!(
        r.json()["times"],
        json!([]),
        "a campaign that is over never fires"
    );
    let r = preview("expr=0+6+*+*+*&campaign=".to_owned()).await;
    assert_eq!(
        r.json()["times"].as_array().unwrap().len(),
        10,
        "no campaign"
    );
    let r = preview("expr=0+6+*+*+*&campaign=999".to_owned()).await;
    assert_eq!(r.status, 422);

    // 21:30 with `latest = "21:30"` airs, in the preview and in the schedule alike.
    let r = preview("expr=30+21+*+*+*&count=2".to_owned()).await;
    assert_eq!(r.json()["skipped"], 0, "{}", r.text());
    let (pl, _) = playlist(&p, "Khẩu hiệu");
    for (name, cron, campaign) in [
        ("Bản tin tối", "30 21 * * *", None),
        ("Bản tin chiến dịch", "0 6 * * *", Some(ahead)),
    ] {
        let r = p
            .call(
                "POST",
                "/api/programmes",
                &bearer(),
                Some(json!({"name": name, "cron": cron, "playlist": pl, "campaign": campaign})),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.text());
    }
    let schedule = p.call("GET", "/api/schedule", &bearer(), None).await.json();
    let evening: Vec<_> = schedule
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["name"] == "Bản tin tối")
        .collect();
    assert!(!evening.is_empty());
    assert!(evening.iter().all(|o| o["verdict"] == "air"), "{schedule}");

    // The programme list's next time is the campaign's first day, not tomorrow.
    let admin = p.first_admin().await;
    let page = p
        .call("GET", "/programmes", &admin.cookie_only(), None)
        .await
        .text();
    let row = page
        .split("<tr>")
        .find(|r| r.contains("Bản tin chiến dịch"))
        .unwrap();
    assert!(
        row.contains(&format!("→ {} 06:00", start.format("%d/%m"))),
        "{row}"
    );
}
