//! Access control: first admin from loopback, sessions, CSRF, Origin, roles, approval,
//! the login rate limit, the audit trail and logout.

use serde_json::json;

use super::{Panel, error_code, send};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_needs_a_session_or_token_and_the_right_role() {
    let p = Panel::start("approval_required = true\n").await;

    let r = p.call("GET", "/api/clips", &[], None).await;
    assert_eq!((r.status, error_code(&r).as_str()), (401, "unauthorized"));
    let r = p.call("GET", "/", &[], None).await;
    assert_eq!((r.status, r.header("location")), (303, Some("/login")));
    let r = p.call("GET", "/login", &[], None).await;
    assert_eq!(
        (r.status, r.header("location")),
        (303, Some("/setup")),
        "no user yet"
    );
    let r = p.call("GET", "/setup", &[], None).await;
    assert!(
        r.text().contains("lang=\"vi\"") && r.text().contains("Tạo tài khoản quản trị đầu tiên")
    );
    assert!(
        r.header("content-security-policy")
            .unwrap()
            .contains("script-src 'self'"),
        "CSP without inline script"
    );
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"));

    let admin = p.first_admin().await;
    let again = send(
        p.addr,
        "POST",
        "/setup",
        &["Content-Type: application/x-www-form-urlencoded".to_owned()],
        b"name=mallory&password=12345678&password2=12345678",
    )
    .await;
    assert_eq!(
        again.header("location"),
        Some("/login"),
        "only one first admin"
    );
    assert!(p.login("mallory", "12345678").await.status == 401);

    let r = p.call("GET", "/", &admin.cookie_only(), None).await;
    assert_eq!(r.status, 200);
    assert!(
        r.text().contains(&format!("content=\"{}\"", admin.csrf)),
        "csrf meta tag"
    );
    assert!(r.text().contains("Đang phát"), "Vietnamese by default");
    let r = p.call("GET", "/?lang=en", &admin.cookie_only(), None).await;
    assert!(r.text().contains("On air"), "English switch");
    assert!(r.header("set-cookie").unwrap().starts_with("loa_lang=en"));

    // CSRF and Origin.
    let body = json!({"name": "Bản tin sáng"});
    let r = p
        .call(
            "POST",
            "/api/playlists",
            &admin.cookie_only(),
            Some(body.clone()),
        )
        .await;
    assert_eq!((r.status, error_code(&r).as_str()), (403, "csrf"));
    let mut wrong = admin.cookie_only();
    wrong.push("X-CSRF-Token: 00".to_owned());
    let r = p
        .call("POST", "/api/playlists", &wrong, Some(body.clone()))
        .await;
    assert_eq!(r.status, 403);
    let mut evil = admin.auth();
    evil.push("Origin: http://evil.example".to_owned());
    let r = p
        .call("POST", "/api/playlists", &evil, Some(body.clone()))
        .await;
    assert_eq!((r.status, error_code(&r).as_str()), (403, "bad_origin"));
    let r = p
        .call("POST", "/api/playlists", &admin.auth(), Some(body.clone()))
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let form = format!("csrf={}&name=Form+playlist", admin.csrf);
    let r = send(
        p.addr,
        "POST",
        "/playlists",
        &[
            admin.cookie_only()[0].clone(),
            "Content-Type: application/x-www-form-urlencoded".to_owned(),
        ],
        form.as_bytes(),
    )
    .await;
    assert_eq!(r.status, 303, "form with csrf field: {}", r.text());

    // Users and roles.
    for (name, role) in [("hoa", "editor"), ("minh", "viewer"), ("tuan", "approver")] {
        let r = p
            .call(
                "POST",
                "/api/users",
                &admin.auth(),
                Some(json!({"name": name, "role": role, "password": "mật khẩu dài"})),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.text());
    }
    let r = p
        .call(
            "POST",
            "/api/users",
            &admin.auth(),
            Some(json!({"name": "x", "role": "viewer", "password": "short"})),
        )
        .await;
    assert_eq!(r.status, 422);
    let viewer = p.login("minh", "mật khẩu dài").await;
    assert_eq!(viewer.status, 200, "{}", viewer.text());
    let c = viewer.header("set-cookie").unwrap();
    assert!(
        c.contains("HttpOnly") && c.contains("SameSite=Strict") && !c.contains("Secure"),
        "{c}"
    );
    let viewer = p.session(viewer.session_cookie()).await;
    let r = p
        .call("POST", "/api/playlists", &viewer.auth(), Some(body.clone()))
        .await;
    assert_eq!((r.status, error_code(&r).as_str()), (403, "forbidden"));
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("editor")
    );
    let r = p.call("GET", "/api/users", &viewer.auth(), None).await;
    assert_eq!(r.status, 403);
    let r = p.call("GET", "/api/playlists", &viewer.auth(), None).await;
    assert_eq!(r.status, 200, "viewers read");

    // Approval: an editor's programme waits for an approver.
    let editor = p.login("hoa", "mật khẩu dài").await;
    let editor = p.session(editor.session_cookie()).await;
    let playlist = p
        .call("GET", "/api/playlists", &editor.auth(), None)
        .await
        .json()[0]["id"]
        .clone();
    let prog = json!({"name": "Sáng", "cron": "0 6 * * *", "playlist": playlist});
    let r = p
        .call("POST", "/api/programmes", &editor.auth(), Some(prog))
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json()["approved"], false);
    let id = r.json()["id"].as_i64().unwrap();
    let r = p
        .call(
            "POST",
            &format!("/api/programmes/{id}/approval"),
            &editor.auth(),
            Some(json!({"approved": true})),
        )
        .await;
    assert_eq!(r.status, 403, "editors do not approve");
    let approver = p
        .session(p.login("tuan", "mật khẩu dài").await.session_cookie())
        .await;
    let r = p
        .call(
            "POST",
            &format!("/api/programmes/{id}/approval"),
            &approver.auth(),
            Some(json!({"approved": true})),
        )
        .await;
    assert_eq!(
        (r.status, r.json()["approved"].as_bool()),
        (200, Some(true))
    );

    // Secure cookie behind an HTTPS proxy.
    let r = p
        .call(
            "POST",
            "/api/login",
            &["X-Forwarded-Proto: https".to_owned()],
            Some(json!({"name": "tuan", "password": "mật khẩu dài"})),
        )
        .await;
    assert!(r.header("set-cookie").unwrap().contains("; Secure"));

    // Rate limit: five failures block even the right password.
    for _ in 0..5 {
        assert_eq!(p.login("hoa", "wrong password").await.status, 401);
    }
    let r = p.login("hoa", "mật khẩu dài").await;
    assert_eq!((r.status, error_code(&r).as_str()), (429, "rate_limited"));
    let r = p.login("tuan", "mật khẩu dài").await;
    assert_eq!(
        r.status, 429,
        "the address is blocked too, whatever the name"
    );

    // Audit trail, then logout ends the session.
    let r = p.call("GET", "/api/audit", &admin.auth(), None).await;
    let actions: Vec<String> = r
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            format!(
                "{} {}",
                a["actor"].as_str().unwrap(),
                a["action"].as_str().unwrap()
            )
        })
        .collect();
    for want in [
        "lan playlist.create",
        "lan user.save",
        "hoa programme.create",
        "tuan programme.approve",
        "lan user.first_admin",
    ] {
        assert!(actions.iter().any(|a| a == want), "{want} in {actions:?}");
    }
    let r = p.call("POST", "/api/logout", &viewer.auth(), None).await;
    assert_eq!(r.status, 204);
    let r = p.call("GET", "/api/playlists", &viewer.auth(), None).await;
    assert_eq!(r.status, 401);
    let r = p
        .call(
            "GET",
            "/api/me",
            &["Authorization: Bearer nope-nope-nope-nope".to_owned()],
            None,
        )
        .await;
    assert_eq!(r.status, 401, "a wrong token is refused outright");
}
