//! Approval binds content, for programmes: with `approval_required`, an editor's change to
//! what an approved programme airs — its playlist's clips, its campaign's dates, its cron
//! or priority — withdraws the approval (audited; the API says `needs_reapproval`, the
//! page "Cần duyệt lại") and the schedule skips it "awaiting approval" — the same store
//! read the engine makes — until an approver, shown the clips, approves again. Approving
//! content that changed since it was shown is 409 `changed`; an approver's own change keeps
//! the approval; a change to anything else (the name) keeps it too. A held broadcast is
//! sent to the engine bound to the playlist version approved, and approving a version
//! other than the playlist's own is 409 `changed`.

use serde_json::{Value, json};

use super::approval::{actions, playlist, requests, user};
use super::{Panel, Session, error_code};
use crate::support::write_tone;

/// A second clip (the editor's) in the panel's library; returns its id.
fn editors_clip(p: &Panel) -> i64 {
    let store = loa::store::Store::open(&p.dir.path().join("data/loa.db")).unwrap();
    let wav = p.dir.path().join("quang-cao.wav");
    write_tone(&wav, 1760.0, 0.5, -20.0);
    let media = loa::library::media_dir(&p.dir.path().join("data"));
    loa::library::add_file(
        &store,
        &media,
        &wav,
        "Quảng cáo của biên tập viên",
        chrono::Utc::now(),
    )
    .unwrap()
    .id
    .0
}

/// The approval view of programme `id`.
async fn approval(p: &Panel, who: &Session, id: i64) -> Value {
    let r = p
        .call("GET", &format!("/api/programmes/{id}"), &who.auth(), None)
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()
}

/// The verdicts `/api/schedule` gives programme `id` over the next week.
async fn verdicts(p: &Panel, who: &Session, id: i64) -> Vec<(String, String)> {
    let name = approval(p, who, id).await["name"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = p.call("GET", "/api/schedule", &who.auth(), None).await;
    r.json()
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["name"] == name.as_str())
        .map(|i| {
            (
                i["verdict"].as_str().unwrap().to_owned(),
                i["rule"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

async fn assert_withdrawn(p: &Panel, who: &Session, id: i64, why: &str) {
    let a = approval(p, who, id).await;
    assert_eq!(a["approved"], false, "{why}: {a}");
    assert_eq!(a["approval"]["state"], "needs_reapproval", "{why}: {a}");
    let v = verdicts(p, who, id).await;
    assert!(
        !v.is_empty()
            && v.iter()
                .all(|(verdict, rule)| verdict == "skip" && rule == "awaiting approval"),
        "{why}: the editor's change must not air: {v:?}"
    );
}

/// Approves `id` as shown now (the content the API gives); returns the reply's JSON.
async fn approve(p: &Panel, approver: &Session, id: i64) -> Value {
    let content = approval(p, approver, id).await["approval"]["content"].clone();
    let r = p
        .call(
            "POST",
            &format!("/api/programmes/{id}/approval"),
            &approver.auth(),
            Some(json!({"approved": true, "content": content})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["approval"]["state"], "approved");
    r.json()
}

async fn put(p: &Panel, path: &str, who: &Session, body: Value) -> super::Reply {
    p.call("PUT", path, &who.auth(), Some(body)).await
}

struct Ward {
    p: Panel,
    admin: Session,
    editor: Session,
    approver: Session,
    playlist: i64,
}

async fn ward() -> Ward {
    let p = Panel::start("approval_required = true\n").await;
    let admin = p.first_admin().await;
    let editor = user(&p, &admin, "hoa", "editor").await;
    let approver = user(&p, &admin, "tuan", "approver").await;
    let playlist = playlist(&p);
    Ward {
        p,
        admin,
        editor,
        approver,
        playlist,
    }
}

/// The admin's programme at 06:00 every day (approved as the admin creates it).
async fn admins_programme(w: &Ward, extra: Value) -> i64 {
    let mut body = json!({"name": "Bản tin sáng", "cron": "0 6 * * *", "playlist": w.playlist});
    body.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    let r =
        w.p.call("POST", "/api/programmes", &w.admin.auth(), Some(body))
            .await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json()["approval"]["state"], "approved");
    r.json()["id"].as_i64().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_editor_changing_the_playlist_of_an_admins_approved_programme_withdraws_its_approval() {
    let w = ward().await;
    let id = admins_programme(&w, json!({})).await;
    assert!(
        verdicts(&w.p, &w.editor, id)
            .await
            .iter()
            .all(|(v, _)| v == "air")
    );
    let approved_content = approval(&w.p, &w.editor, id).await["approval"]["content"].clone();

    // The editor swaps the clips of the approved programme's playlist for their own.
    let clip = editors_clip(&w.p);
    let r =
        w.p.call(
            "PUT",
            &format!("/api/playlists/{}/order", w.playlist),
            &w.editor.auth(),
            Some(json!({"version": 1, "items": [clip]})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_withdrawn(&w.p, &w.editor, id, "playlist swapped").await;
    let audit =
        w.p.call("GET", "/api/audit", &w.admin.auth(), None)
            .await
            .json();
    let withdrawn = audit
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "programme.approval_withdrawn")
        .unwrap_or_else(|| panic!("the withdrawal is audited: {:?}", actions(&audit)));
    assert_eq!(withdrawn["target"], format!("programme {id}"));
    assert_eq!(withdrawn["actor"], "hoa");

    // The page says it needs approving again, and shows the approver what it would air.
    let page =
        w.p.call("GET", "/programmes", &w.approver.cookie_only(), None)
            .await
            .text();
    assert!(page.contains("Cần duyệt lại"), "{page}");
    assert!(page.contains("Quảng cáo của biên tập viên") && page.contains("0:01"));
    assert!(page.contains(&format!("/programmes/{id}/approve")));

    // Approving what was approved before (stale content) is refused; nothing changes.
    let r =
        w.p.call(
            "POST",
            &format!("/api/programmes/{id}/approval"),
            &w.approver.auth(),
            Some(json!({"approved": true, "content": approved_content})),
        )
        .await;
    assert_eq!((r.status, error_code(&r).as_str()), (409, "changed"));
    assert_withdrawn(&w.p, &w.editor, id, "a stale approval").await;
    // An editor cannot approve it back.
    let r =
        w.p.call(
            "POST",
            &format!("/api/programmes/{id}/approval"),
            &w.editor.auth(),
            Some(json!({"approved": true})),
        )
        .await;
    assert_eq!(r.status, 403);
    // The approver, having seen the new clip, approves it: it airs again.
    approve(&w.p, &w.approver, id).await;
    assert!(
        verdicts(&w.p, &w.editor, id)
            .await
            .iter()
            .all(|(v, _)| v == "air")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_editor_widening_an_approved_campaigns_dates_withdraws_its_programmes_approval() {
    let w = ward().await;
    let today = chrono::Utc::now().date_naive();
    let dates = |days: i64| json!({"start": today.to_string(), "end": (today + chrono::Duration::days(days)).to_string()});
    let r =
        w.p.call(
            "POST",
            "/api/campaigns",
            &w.admin.auth(),
            Some(json!({"name": "Tháng hành động vì trẻ em", "dates": dates(3)})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let campaign = r.json()["id"].as_i64().unwrap();
    let id = admins_programme(&w, json!({"campaign": campaign})).await;

    let path = format!("/api/campaigns/{campaign}");
    let named = |days: i64| json!({"name": "Tháng hành động vì trẻ em", "dates": dates(days)});
    let r = put(&w.p, &path, &w.editor, named(30)).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_withdrawn(&w.p, &w.editor, id, "campaign widened").await;
    let audit =
        w.p.call("GET", "/api/audit", &w.admin.auth(), None)
            .await
            .json();
    assert!(
        actions(&audit)
            .iter()
            .any(|a| a == "programme.approval_withdrawn")
    );

    // Approved again; then the approver's own change of dates keeps the approval (they
    // are who would approve it), and an editor's renaming (not what airs) keeps it too.
    approve(&w.p, &w.approver, id).await;
    assert_eq!(put(&w.p, &path, &w.approver, named(10)).await.status, 200);
    assert_eq!(
        approval(&w.p, &w.editor, id).await["approval"]["state"],
        "approved"
    );
    let r =
        w.p.call(
            "PUT",
            &format!("/api/campaigns/{campaign}"),
            &w.editor.auth(),
            Some(json!({"name": "Tháng hành động", "dates": dates(10)})),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        approval(&w.p, &w.editor, id).await["approval"]["state"],
        "approved"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_editor_changing_the_cron_or_priority_of_an_approved_programme_withdraws_its_approval() {
    let w = ward().await;
    let id = admins_programme(&w, json!({})).await;
    let path = format!("/api/programmes/{id}");
    let base = json!({"name": "Bản tin sáng", "cron": "0 6 * * *", "playlist": w.playlist});
    let with = |k: &str, v: Value| {
        let mut b = base.clone();
        b[k] = v;
        b
    };

    // Renamed by the editor: what airs is the same, the approval stands.
    let r = put(
        &w.p,
        &path,
        &w.editor,
        with("name", json!("Bản tin buổi sáng")),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["approval"]["state"], "approved");

    // A new time by the editor: withdrawn until approved again.
    let r = put(&w.p, &path, &w.editor, with("cron", json!("0 7 * * *"))).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_withdrawn(&w.p, &w.editor, id, "cron changed").await;
    approve(&w.p, &w.approver, id).await;

    // A higher priority by the editor: withdrawn too.
    let r = put(&w.p, &path, &w.editor, with("priority", json!("priority"))).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_withdrawn(&w.p, &w.editor, id, "priority raised").await;

    // The approver's own edit keeps an approval that stands but never grants one.
    let r = put(&w.p, &path, &w.approver, with("cron", json!("0 8 * * *"))).await;
    assert_eq!(r.json()["approval"]["state"], "needs_reapproval");
    approve(&w.p, &w.approver, id).await;
    let r = put(&w.p, &path, &w.approver, with("cron", json!("0 9 * * *"))).await;
    assert_eq!(r.json()["approval"]["state"], "approved");
    // Taking the approval back on purpose: waiting.
    let r =
        w.p.call(
            "POST",
            &format!("/api/programmes/{id}/approval"),
            &w.approver.auth(),
            Some(json!({"approved": false})),
        )
        .await;
    assert_eq!(r.json()["approval"]["state"], "waiting");
    let audit =
        w.p.call("GET", "/api/audit", &w.admin.auth(), None)
            .await
            .json();
    let a = actions(&audit);
    assert_eq!(
        a.iter()
            .filter(|x| *x == "programme.approval_withdrawn")
            .count(),
        2,
        "{a:?}"
    );
    assert!(a.iter().any(|x| x == "programme.unapprove"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broadcast_is_approved_for_the_playlist_version_shown_and_sent_bound_to_it() {
    let mut w = ward().await;
    let r =
        w.p.call(
            "POST",
            "/api/broadcasts",
            &w.editor.auth(),
            Some(json!({"playlist": w.playlist})),
        )
        .await;
    let id = r.json()["pending"]["id"].as_i64().unwrap();
    // The approver's page shows version 1; meanwhile the editor changes the playlist.
    let page =
        w.p.call("GET", "/broadcast", &w.approver.cookie_only(), None)
            .await
            .text();
    assert!(page.contains("name=\"version\" value=\"1\""), "{page}");
    let clip = editors_clip(&w.p);
    let r = put(
        &w.p,
        &format!("/api/playlists/{}/order", w.playlist),
        &w.editor,
        json!({"version": 1, "items": [clip]}),
    )
    .await;
    assert_eq!(r.status, 200);
    let path = format!("/api/broadcasts/pending/{id}/approve");
    let r =
        w.p.call(
            "POST",
            &path,
            &w.approver.auth(),
            Some(json!({"playlist_version": 1})),
        )
        .await;
    assert_eq!((r.status, error_code(&r).as_str()), (409, "changed"));
    assert!(
        requests(&mut w.p).is_empty(),
        "nothing sent for unseen content"
    );
    let r =
        w.p.call(
            "POST",
            &path,
            &w.approver.auth(),
            Some(json!({"playlist_version": 2})),
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.text());
    let sent = requests(&mut w.p);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].playlist_version, Some(2));
}
