//! The users page and its API (`PATCH /api/users/{id}`), the programme preview with the
//! station rules' verdicts, and the dashboard's health alerts against `/healthz`.

use serde_json::json;

use super::{Panel, Session, bearer, error_code, send};

const FORM: &str = "Content-Type: application/x-www-form-urlencoded";

/// Posts a urlencoded form with the session's cookie (and its CSRF field unless `csrf` is
/// false).
async fn form(p: &Panel, s: &Session, path: &str, fields: &str, csrf: bool) -> super::Reply {
    let body = if csrf {
        format!("csrf={}&{fields}", s.csrf)
    } else {
        fields.to_owned()
    };
    let mut headers = s.cookie_only();
    headers.push(FORM.to_owned());
    send(p.addr, "POST", path, &headers, body.as_bytes()).await
}

async fn user_id(p: &Panel, name: &str) -> i64 {
    let users = p.call("GET", "/api/users", &bearer(), None).await.json();
    users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["name"] == name)
        .unwrap_or_else(|| panic!("no user {name}: {users}"))["id"]
        .as_i64()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_are_managed_by_admins_only_through_page_and_api() {
    let p = Panel::start("").await;
    let admin = p.first_admin().await;

    // The page: admins see it (and its link), with a create form carrying the CSRF token.
    let r = p.call("GET", "/users", &admin.cookie_only(), None).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.text().contains("href=\"/users\""), "nav link for admins");
    assert!(r.text().contains(&format!("value=\"{}\"", admin.csrf)));

    // Create through the form; an existing name is refused, not overwritten.
    let r = form(
        &p,
        &admin,
        "/users",
        "name=hoa&role=editor&password=b%E1%BA%A3n+tin+s%C3%A1ng",
        true,
    )
    .await;
    assert_eq!(
        (r.status, r.header("location")),
        (303, Some("/users?saved=1"))
    );
    let r = form(
        &p,
        &admin,
        "/users",
        "name=hoa&role=admin&password=12345678",
        true,
    )
    .await;
    assert_eq!(r.status, 409, "{}", r.text());
    assert!(r.text().contains("Tên đăng nhập này đã có"));
    let r = form(
        &p,
        &admin,
        "/users",
        "name=lien&role=editor&password=12345678",
        false,
    )
    .await;
    assert_eq!((r.status, error_code(&r).as_str()), (403, "csrf"));
    let r = form(
        &p,
        &admin,
        "/users",
        "name=lien&role=boss&password=12345678",
        true,
    )
    .await;
    assert_eq!(r.status, 422, "bad role");
    let r = form(
        &p,
        &admin,
        "/users",
        "name=lien&role=editor&password=short",
        true,
    )
    .await;
    assert_eq!(r.status, 422, "weak password");
    assert!(r.text().contains("at least 8"), "{}", r.text());

    // An editor: no link, a 403 page, 403 from the API.
    let login = p.login("hoa", "bản tin sáng").await;
    assert_eq!(login.status, 200);
    let hoa = p.session(login.session_cookie()).await;
    let r = p.call("GET", "/users", &hoa.cookie_only(), None).await;
    assert_eq!(r.status, 403);
    assert!(r.text().contains("chỉ dành cho quản trị viên") && !r.text().contains("u-name"));
    let r = p.call("GET", "/", &hoa.cookie_only(), None).await;
    assert!(
        !r.text().contains("href=\"/users\""),
        "no nav link for editors"
    );
    let hoa_id = user_id(&p, "hoa").await;
    let path = format!("/api/users/{hoa_id}");
    let r = p
        .call("PATCH", &path, &hoa.auth(), Some(json!({"role": "admin"})))
        .await;
    assert_eq!((r.status, error_code(&r).as_str()), (403, "forbidden"));
    let r = form(
        &p,
        &hoa,
        &format!("/users/{hoa_id}/role"),
        "role=admin",
        true,
    )
    .await;
    assert_eq!(r.status, 403);
    let r = p
        .call("PATCH", &path, &[], Some(json!({"role": "admin"})))
        .await;
    assert_eq!(r.status, 401);

    // The API: bad input, unknown user, own role.
    let r = p.call("PATCH", &path, &admin.auth(), Some(json!({}))).await;
    assert_eq!((r.status, error_code(&r).as_str()), (422, "invalid"));
    let r = p
        .call("PATCH", &path, &admin.auth(), Some(json!({"role": "boss"})))
        .await;
    assert_eq!(r.status, 422);
    let r = p
        .call(
            "PATCH",
            &path,
            &admin.auth(),
            Some(json!({"password": "short"})),
        )
        .await;
    assert_eq!(r.status, 422);
    let r = p
        .call(
            "PATCH",
            "/api/users/999999",
            &admin.auth(),
            Some(json!({"role": "viewer"})),
        )
        .await;
    assert_eq!(r.status, 404);
    let lan = user_id(&p, "lan").await;
    let r = p
        .call(
            "PATCH",
            &format!("/api/users/{lan}"),
            &admin.auth(),
            Some(json!({"role": "viewer"})),
        )
        .await;
    assert_eq!(
        (r.status, error_code(&r).as_str()),
        (409, "conflict"),
        "own role"
    );

    // A role change keeps the password and ends the user's sessions.
    let r = p
        .call(
            "PATCH",
            &path,
            &admin.auth(),
            Some(json!({"role": "approver"})),
        )
        .await;
    assert_eq!(
        (r.status, r.json()["role"].as_str()),
        (200, Some("approver"))
    );
    let r = p.call("GET", "/api/me", &hoa.cookie_only(), None).await;
    assert_eq!(r.status, 401, "the old session ended");
    assert_eq!(
        p.login("hoa", "bản tin sáng").await.status,
        200,
        "same password"
    );

    // The page's role, password and remove forms.
    let r = form(
        &p,
        &admin,
        &format!("/users/{hoa_id}/role"),
        "role=viewer",
        true,
    )
    .await;
    assert_eq!(r.status, 303);
    let r = form(
        &p,
        &admin,
        &format!("/users/{hoa_id}/password"),
        "password=short",
        true,
    )
    .await;
    assert_eq!(r.status, 422);
    let r = form(
        &p,
        &admin,
        &format!("/users/{hoa_id}/password"),
        "password=loa+ph%C6%B0%E1%BB%9Dng+3",
        true,
    )
    .await;
    assert_eq!(r.status, 303);
    assert_eq!(
        p.login("hoa", "loa phường 3").await.json()["user"]["role"],
        "viewer"
    );
    let r = form(&p, &admin, &format!("/users/{lan}/delete"), "", true).await;
    assert_eq!(r.status, 409, "not oneself");
    let r = form(&p, &admin, &format!("/users/{hoa_id}/delete"), "", true).await;
    assert_eq!(r.status, 303);
    let r = p.call("GET", "/users", &admin.cookie_only(), None).await;
    assert!(!r.text().contains("data-user=\"hoa\""), "removed");
    let audit = p.call("GET", "/api/audit", &bearer(), None).await.json();
    let actions: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["action"].as_str())
        .collect();
    assert!(
        actions.contains(&"user.role") && actions.contains(&"user.delete"),
        "{actions:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_programme_preview_names_the_rule_that_would_skip_each_time() {
    let p = Panel::start(
        "[schedule]\nearliest = \"05:00\"\nlatest = \"21:30\"\nquiet_hours = [\"11:30-13:30\"]\n",
    )
    .await;
    let url = |q: &str| format!("/api/programmes/preview?{q}");
    let r = p.call("GET", &url("expr=0+12+*+*+*"), &[], None).await;
    assert_eq!(r.status, 401);
    let r = p
        .call("GET", &url("expr=0+25+*+*+*"), &bearer(), None)
        .await;
    assert_eq!((r.status, error_code(&r).as_str()), (422, "invalid"));
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("hour")
    );
    let r = p
        .call("GET", &url("expr=0+12+*+*+*&count=0"), &bearer(), None)
        .await;
    assert_eq!(r.status, 422);
    let r = p.call("GET", &url("count=3"), &bearer(), None).await;
    assert_eq!(r.status, 400, "no expression");
    let r = p
        .call(
            "GET",
            &url("expr=0+12+*+*+*&priority=loud"),
            &bearer(),
            None,
        )
        .await;
    assert_eq!(r.status, 400);

    let r = p
        .call("GET", &url("expr=0+6,12+*+*+*&count=4"), &bearer(), None)
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let body = r.json();
    let times = body["times"].as_array().unwrap();
    assert_eq!((times.len(), body["skipped"].as_u64()), (4, Some(2)));
    for t in times {
        let noon = t["at"].as_str().unwrap().contains("T12:00:00+07:00");
        if noon {
            assert_eq!(t["verdict"], "skip");
            assert_eq!(t["rule"], "quiet hours 11:30-13:30");
            assert_eq!(
                t["reason"], "giờ yên tĩnh 11:30-13:30",
                "Vietnamese by default"
            );
        } else {
            assert_eq!(
                (t["verdict"].as_str(), t["rule"].is_null()),
                (Some("air"), true)
            );
        }
    }
    let r = p
        .call(
            "GET",
            &url("expr=30+4+*+*+*&count=1&lang=en"),
            &bearer(),
            None,
        )
        .await
        .json();
    assert_eq!(
        r["times"][0]["reason"],
        "before earliest broadcast time 05:00"
    );
    let r = p
        .call(
            "GET",
            &url("expr=0+12+*+*+*&count=1&priority=emergency"),
            &bearer(),
            None,
        )
        .await
        .json();
    assert_eq!(
        (r["times"][0]["verdict"].as_str(), r["skipped"].as_u64()),
        (Some("air_breaking_rule"), Some(0))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_shows_what_healthz_reports_with_the_fix() {
    // No engine runs behind this panel: the output is not open and the clock is not
    // synchronised, so /healthz has problems to report.
    let p = Panel::start("").await;
    let admin = p.first_admin().await;
    let health = p.call("GET", "/healthz", &[], None).await;
    assert_eq!(health.status, 503);
    let health = health.json();
    let mut bad: Vec<String> = health["checks"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, c)| c["level"] != "ok")
        .map(|(name, _)| name.clone())
        .collect();
    bad.sort();
    assert!(
        bad.contains(&"output".to_owned()) && bad.contains(&"clock".to_owned()),
        "{bad:?}"
    );
    for lang in ["vi", "en"] {
        let page = p
            .call("GET", &format!("/?lang={lang}"), &admin.cookie_only(), None)
            .await
            .text();
        let mut shown: Vec<String> = page
            .split("data-check=\"")
            .skip(1)
            .map(|s| s.split('"').next().unwrap().to_owned())
            .collect();
        shown.sort();
        assert_eq!(shown, bad, "{lang}: the same checks as /healthz");
        let (headline, fix) = if lang == "vi" {
            ("Không có thiết bị âm thanh", "Cách khắc phục")
        } else {
            ("No output device", "How to fix")
        };
        assert!(page.contains(headline) && page.contains(fix), "{lang}");
        assert!(page.contains("timedatectl set-ntp true"), "the clock's fix");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthz_reports_a_broken_media_directory_once_the_shared_checks_are_stale() {
    // The database and media checks are shared between requests for a moment
    // (STORED_CHECKS_FRESH_FOR); past it, a change on disk must show.
    let p = Panel::start("").await;
    let level = |reply: super::Reply| reply.json()["checks"]["media"]["level"].clone();
    let media = p.dir.path().join("data/media");
    let _ = std::fs::remove_dir_all(&media);
    assert_eq!(level(p.call("GET", "/healthz", &[], None).await), "ok");
    std::fs::write(&media, "không phải thư mục").unwrap();
    tokio::time::sleep(loa::panel::STORED_CHECKS_FRESH_FOR + std::time::Duration::from_millis(50))
        .await;
    let after = p.call("GET", "/healthz", &[], None).await.json();
    assert_eq!(after["checks"]["media"]["level"], "problem", "{after}");
    assert!(
        after["checks"]["media"]["detail"]
            .as_str()
            .is_some_and(|d| d.contains("is not a directory")),
        "{after}"
    );
}
