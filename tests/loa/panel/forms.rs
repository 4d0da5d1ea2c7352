//! One action layer: the HTML forms and the JSON API make the same change with the same
//! rules, defaults and status codes. A form the rules refuse comes back as the page with
//! the reason in Vietnamese (no JSON, no English, no cron words) and the typed values, with
//! the API's status.

use serde_json::json;

use super::approval::playlist;
use super::{Panel, Session, send};

async fn form(p: &Panel, who: &Session, path: &str, fields: &str) -> super::Reply {
    send(
        p.addr,
        "POST",
        path,
        &[
            format!("Cookie: {}", who.cookie),
            "Content-Type: application/x-www-form-urlencoded".to_owned(),
        ],
        format!("csrf={}&{fields}", who.csrf).as_bytes(),
    )
    .await
}

fn is_vietnamese_page(r: &super::Reply) -> String {
    let text = r.text();
    assert!(
        r.header("content-type").unwrap().starts_with("text/html"),
        "{}",
        text
    );
    assert!(
        text.contains("lang=\"vi\"") && text.contains("Chưa lưu"),
        "{text}"
    );
    text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_forms_and_the_api_share_rules_defaults_and_codes() {
    let p = Panel::start("").await;
    let admin = p.first_admin().await;
    let list = playlist(&p);

    // Repeats past the limit: 422 from both (the form used to clamp them silently).
    let r = p
        .call(
            "POST",
            "/api/programmes",
            &admin.auth(),
            Some(json!({"name": "Sáng", "cron": "0 6 * * *", "playlist": list, "repeat": 50})),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.text());
    assert!(r.text().contains("repeat must be between 1 and 20"));
    let r = form(
        &p,
        &admin,
        "/programmes",
        &format!("name=B%E1%BA%A3n+tin+s%C3%A1ng&playlist={list}&cron=0+6+*+*+*&repeat=50"),
    )
    .await;
    assert_eq!(r.status, 422);
    let page = is_vietnamese_page(&r);
    assert!(page.contains("Số lần lặp phải từ 1 đến 20"), "{page}");
    assert!(
        page.contains("value=\"Bản tin sáng\"") && page.contains("value=\"50\""),
        "the typed values come back"
    );

    // A playlist that does not exist: 422 from both (the form used to answer 404).
    let r = p
        .call(
            "POST",
            "/api/programmes",
            &admin.auth(),
            Some(json!({"name": "Sáng", "cron": "0 6 * * *", "playlist": 999})),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.text());
    let r = form(
        &p,
        &admin,
        "/programmes",
        "name=x&playlist=999&cron=0+6+*+*+*",
    )
    .await;
    assert_eq!(r.status, 422);
    assert!(is_vietnamese_page(&r).contains("Không có danh sách phát số 999"));

    // A bad time: 422 from both; the page names no cron field.
    let r = form(
        &p,
        &admin,
        "/programmes",
        &format!("name=x&playlist={list}&cron=0+25+*+*+*"),
    )
    .await;
    assert_eq!(r.status, 422);
    let page = is_vietnamese_page(&r);
    assert!(page.contains("Thời gian phát không hợp lệ") && !page.contains("hour field"));

    // Saved from the form and from the API: the same defaults (no forced 5 s pause).
    let r = form(
        &p,
        &admin,
        "/programmes",
        &format!("name=Form&playlist={list}&cron=0+6+*+*+*&chime=on"),
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.text());
    let r = p
        .call(
            "POST",
            "/api/programmes",
            &admin.auth(),
            Some(json!({"name": "Api", "cron": "0 6 * * *", "playlist": list})),
        )
        .await;
    assert_eq!(r.status, 201);
    let all = p
        .call("GET", "/api/programmes", &admin.auth(), None)
        .await
        .json();
    let pick = |name: &str| {
        all.as_array()
            .unwrap()
            .iter()
            .find(|x| x["name"] == name)
            .cloned()
            .unwrap()
    };
    let (f, a) = (pick("Form"), pick("Api"));
    for key in [
        "repeat",
        "repeat_pause",
        "clash",
        "priority",
        "chime",
        "enabled",
        "approved",
    ] {
        assert_eq!(f[key], a[key], "{key}");
    }

    // Campaigns: an end before the start is 422 from both, in the page with what was typed.
    let r = p
        .call(
            "POST",
            "/api/campaigns",
            &admin.auth(),
            Some(json!({"name": "Tết", "dates": {"start": "2026-02-10", "end": "2026-02-01"}})),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.text());
    let r = form(
        &p,
        &admin,
        "/campaigns",
        "name=T%E1%BA%BFt&theme=&start=2026-02-10&end=2026-02-01",
    )
    .await;
    assert_eq!(r.status, 422);
    let page = is_vietnamese_page(&r);
    assert!(page.contains("Ngày kết thúc phải sau ngày bắt đầu"));
    assert!(page.contains("value=\"Tết\"") && page.contains("value=\"2026-02-10\""));

    // Playlists: an empty name is 422 from both.
    let r = p
        .call(
            "POST",
            "/api/playlists",
            &admin.auth(),
            Some(json!({"name": " "})),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.text());
    let r = form(&p, &admin, "/playlists", "name=+").await;
    assert_eq!(r.status, 422);
    assert!(is_vietnamese_page(&r).contains("Hãy đặt tên cho danh sách phát"));

    // English on the switch.
    let r = send(
        p.addr,
        "POST",
        "/campaigns?lang=en",
        &[
            format!("Cookie: {}", admin.cookie),
            "Content-Type: application/x-www-form-urlencoded".to_owned(),
        ],
        format!("csrf={}&name=x&start=2026-02-10&end=", admin.csrf).as_bytes(),
    )
    .await;
    assert_eq!(r.status, 422);
    assert!(
        r.text().contains("end date must be YYYY-MM-DD"),
        "{}",
        r.text()
    );
}
