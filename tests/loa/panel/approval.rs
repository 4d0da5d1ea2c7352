//! Broadcasts held for approval: with `approval_required`, an editor's play-now, one-shot
//! and emergency wait (nothing reaches the engine); an approver's approval sends exactly
//! the request to the engine, a rejection sends nothing, an editor cannot approve, and a
//! one-shot whose instant has passed is refused, not aired late. The engine's end of the
//! channel is read directly: it is what the panel asked to air.

use loa::model::Priority;
use serde_json::{Value, json};

use super::{Panel, Session, bearer, error_code};
use crate::support::write_tone;

/// A non-empty playlist written straight into the panel's database; returns its id.
pub(super) fn playlist(p: &Panel) -> i64 {
    let store = loa::store::Store::open(&p.dir.path().join("data/loa.db")).unwrap();
    let wav = p.dir.path().join("khau-hieu.wav");
    write_tone(&wav, 440.0, 1.0, -20.0);
    let media = loa::library::media_dir(&p.dir.path().join("data"));
    let clip =
        loa::library::add_file(&store, &media, &wav, "khau-hieu.wav", chrono::Utc::now()).unwrap();
    store
        .create_playlist("Tổng đài 111 - Luôn lắng nghe và bảo vệ trẻ em", &[clip.id])
        .unwrap()
        .id
        .0
}

pub(super) async fn user(p: &Panel, admin: &Session, name: &str, role: &str) -> Session {
    let r = p
        .call(
            "POST",
            "/api/users",
            &admin.auth(),
            Some(json!({"name": name, "role": role, "password": "mật khẩu dài"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    p.session(p.login(name, "mật khẩu dài").await.session_cookie())
        .await
}

pub(super) fn requests(p: &mut Panel) -> Vec<loa::store::WaitingBroadcast> {
    p.new_requests()
}

pub(super) fn requested_by(w: &loa::store::WaitingBroadcast) -> &str {
    match &w.origin {
        loa::model::Origin::Manual { requested_by } => requested_by,
        loa::model::Origin::Scheduled { .. } => panic!("a programme's occurrence: {w:?}"),
    }
}

pub(super) fn actions(audit: &Value) -> Vec<String> {
    audit
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn editors_broadcasts_wait_for_an_approver_and_air_only_when_approved() {
    let mut p = Panel::start("approval_required = true\n").await;
    let admin = p.first_admin().await;
    let editor = user(&p, &admin, "hoa", "editor").await;
    let approver = user(&p, &admin, "tuan", "approver").await;
    let list = playlist(&p);

    // An editor's play-now is held: 202 waiting_for_approval, nothing sent to the engine.
    let r = p
        .call(
            "POST",
            "/api/broadcasts",
            &editor.auth(),
            Some(json!({"playlist": list})),
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.text());
    assert_eq!(r.json()["status"], "waiting_for_approval");
    let play_now = r.json()["pending"]["id"].as_i64().unwrap();
    // An emergency by the editor is held too, but listed first and marked urgent.
    let r = p
        .call(
            "POST",
            "/api/broadcasts",
            &editor.auth(),
            Some(json!({"playlist": list, "priority": "emergency"})),
        )
        .await;
    assert_eq!(r.json()["status"], "waiting_for_approval");
    let emergency = r.json()["pending"]["id"].as_i64().unwrap();
    assert!(requests(&mut p).is_empty(), "nothing aired while waiting");

    let pending = p
        .call("GET", "/api/broadcasts/pending", &editor.auth(), None)
        .await
        .json();
    let ids: Vec<i64> = pending
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [emergency, play_now], "the emergency first");
    assert_eq!(pending[0]["urgent"], true);
    assert_eq!(pending[1]["urgent"], false);
    assert_eq!(pending[1]["requested_by"], "hoa");

    // The page form goes the same way: held, nothing sent.
    let form = format!("csrf={}&priority=normal&playlist={list}", editor.csrf);
    let r = super::send(
        p.addr,
        "POST",
        "/broadcast/play",
        &[
            format!("Cookie: {}", editor.cookie),
            "Content-Type: application/x-www-form-urlencoded".to_owned(),
        ],
        form.as_bytes(),
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.text());
    assert!(r.header("location").unwrap().contains("held=1"));
    assert!(requests(&mut p).is_empty(), "the page form is held too");
    let from_page = p
        .call("GET", "/api/broadcasts/pending", &editor.auth(), None)
        .await
        .json()[2]["id"]
        .as_i64()
        .unwrap();
    let r = p
        .call(
            "POST",
            &format!("/api/broadcasts/pending/{from_page}/reject"),
            &approver.auth(),
            None,
        )
        .await;
    assert_eq!(r.status, 200);

    // The page: approver buttons for approvers, "chờ duyệt" for editors.
    let page = p
        .call("GET", "/broadcast", &editor.cookie_only(), None)
        .await;
    assert!(page.text().contains("chờ duyệt") && page.text().contains("KHẨN"));
    assert!(
        !page.text().contains("/approve\""),
        "no approve button for editors"
    );
    let page = p
        .call("GET", "/broadcast?lang=en", &approver.cookie_only(), None)
        .await;
    assert!(
        page.text()
            .contains(&format!("/broadcast/pending/{play_now}/approve"))
    );
    assert!(page.text().contains("Reject"));

    // An editor cannot approve.
    let r = p
        .call(
            "POST",
            &format!("/api/broadcasts/pending/{play_now}/approve"),
            &editor.auth(),
            None,
        )
        .await;
    assert_eq!((r.status, error_code(&r).as_str()), (403, "forbidden"));
    assert!(requests(&mut p).is_empty());

    // The approver approves the play-now: exactly that request reaches the engine, now.
    let r = p
        .call(
            "POST",
            &format!("/api/broadcasts/pending/{play_now}/approve"),
            &approver.auth(),
            None,
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.text());
    let sent = requests(&mut p);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].playlist.0, list);
    assert_eq!(sent[0].priority, Priority::Normal);
    let since_approval = chrono::Utc::now() - sent[0].scheduled_at;
    assert!(
        since_approval < chrono::Duration::seconds(30),
        "a play-now airs at approval time: {sent:?}"
    );
    assert_eq!(requested_by(&sent[0]), "hoa, approved by tuan");
    // Approved once only.
    let r = p
        .call(
            "POST",
            &format!("/api/broadcasts/pending/{play_now}/approve"),
            &approver.auth(),
            None,
        )
        .await;
    assert_eq!(r.status, 404);
    assert!(requests(&mut p).is_empty());

    // Rejecting the emergency sends nothing and empties the list.
    let r = p
        .call(
            "POST",
            &format!("/api/broadcasts/pending/{emergency}/reject"),
            &approver.auth(),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(requests(&mut p).is_empty(), "a rejected request never airs");
    let pending = p
        .call("GET", "/api/broadcasts/pending", &approver.auth(), None)
        .await
        .json();
    assert_eq!(pending, json!([]));

    // Approvers and tokens air at once.
    for auth in [approver.auth(), bearer()] {
        let r = p
            .call(
                "POST",
                "/api/broadcasts",
                &auth,
                Some(json!({"playlist": list})),
            )
            .await;
        assert_eq!((r.status, r.json()["status"].as_str()), (202, Some("sent")));
    }
    assert_eq!(requests(&mut p).len(), 2);

    let audit = p
        .call("GET", "/api/audit", &admin.auth(), None)
        .await
        .json();
    let a = actions(&audit);
    for want in [
        "broadcast.hold",
        "broadcast.approve",
        "broadcast.reject",
        "broadcast.request",
    ] {
        assert!(a.iter().any(|x| x == want), "{want} in {a:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_one_shot_approved_after_its_instant_is_refused_not_aired_late() {
    let mut p = Panel::start("approval_required = true\n").await;
    let admin = p.first_admin().await;
    let editor = user(&p, &admin, "hoa", "editor").await;
    let approver = user(&p, &admin, "tuan", "approver").await;
    let list = playlist(&p);

    // A past instant is refused at once for a held request.
    let past = (chrono::Utc::now() - chrono::Duration::minutes(5)).to_rfc3339();
    let r = p
        .call(
            "POST",
            "/api/broadcasts",
            &editor.auth(),
            Some(json!({"playlist": list, "at": past})),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.text());

    // A one-shot three seconds ahead, approved after it passed.
    let soon = chrono::Utc::now() + chrono::Duration::seconds(3);
    let r = p
        .call(
            "POST",
            "/api/broadcasts",
            &editor.auth(),
            Some(json!({"playlist": list, "at": soon.to_rfc3339()})),
        )
        .await;
    assert_eq!(r.json()["status"], "waiting_for_approval", "{}", r.text());
    let id = r.json()["pending"]["id"].as_i64().unwrap();
    while chrono::Utc::now() <= soon + chrono::Duration::milliseconds(50) {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let r = p
        .call(
            "POST",
            &format!("/api/broadcasts/pending/{id}/approve"),
            &approver.auth(),
            None,
        )
        .await;
    assert_eq!((r.status, error_code(&r).as_str()), (409, "expired"));
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not aired")
    );
    assert!(requests(&mut p).is_empty(), "not aired late");
    let pending = p
        .call("GET", "/api/broadcasts/pending", &approver.auth(), None)
        .await;
    assert_eq!(
        pending.json(),
        json!([]),
        "an expired request leaves the list"
    );

    // A one-shot still ahead is sent with its instant.
    let later = chrono::Utc::now() + chrono::Duration::hours(2);
    let r = p
        .call(
            "POST",
            "/api/broadcasts",
            &editor.auth(),
            Some(json!({"playlist": list, "at": later.to_rfc3339()})),
        )
        .await;
    let id = r.json()["pending"]["id"].as_i64().unwrap();
    let r = p
        .call(
            "POST",
            &format!("/api/broadcasts/pending/{id}/approve"),
            &approver.auth(),
            None,
        )
        .await;
    assert_eq!(r.status, 202);
    let sent = requests(&mut p);
    assert_eq!(sent.len(), 1);
    assert_eq!(
        sent[0].scheduled_at.timestamp_millis(),
        later.timestamp_millis()
    );
    let audit = p
        .call("GET", "/api/audit", &admin.auth(), None)
        .await
        .json();
    assert!(actions(&audit).iter().any(|a| a == "broadcast.expire"));
}
