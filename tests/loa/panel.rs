//! The panel and API in-process on a port-0 listener (the real router, store and a live
//! engine channel): access control (first admin from loopback, sessions, CSRF, Origin,
//! roles, login rate limit, audit), every resource's routes with their error statuses
//! (400/401/403/404/409/413/415/422 with the error body), and the OpenAPI table against
//! the real routes.

use std::net::SocketAddr;
use std::sync::Arc;

use loa::clock::SystemClock;
use loa::config::Config;
use loa::panel::{self, PanelState};
use loa::store::Store;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::{write_config, write_tone};

const TOKEN: &str = "panel-test-token-0123456789";

/// A response: status, headers (lowercase names), body bytes.
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("{e}: {} {}", self.status, self.text()))
    }

    /// The `name=value` part of the session cookie it sets.
    fn session_cookie(&self) -> String {
        self.headers
            .iter()
            .filter(|(k, _)| k == "set-cookie")
            .map(|(_, v)| v.split(';').next().unwrap().to_owned())
            .find(|c| c.starts_with("loa_session="))
            .expect("a session cookie")
    }
}

/// Sends one HTTP/1.1 request with raw extra header lines.
async fn send(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[String],
    body: &[u8],
) -> Reply {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for h in headers {
        req.push_str(h);
        req.push_str("\r\n");
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).await.unwrap();
    s.write_all(body).await.unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.unwrap();
    let split = out.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&out[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap()[9..12].parse().unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_lowercase(), v.trim().to_owned()))
        .collect();
    Reply {
        status,
        headers,
        body: out[split + 4..].to_vec(),
    }
}

/// A panel on a port-0 listener over a fresh data directory.
struct Panel {
    addr: SocketAddr,
    dir: tempfile::TempDir,
    _inbox: loa::engine::EngineInbox,
}

impl Panel {
    async fn start(extra_config: &str) -> Panel {
        let dir = tempfile::tempdir().unwrap();
        let path = write_config(
            dir.path(),
            &format!("{extra_config}[[tokens]]\nname = \"automation\"\ntoken = \"{TOKEN}\"\n"),
        );
        let config = Config::load(&path).unwrap();
        let store = Store::open(&config.station.data_dir.join("loa.db")).unwrap();
        let (engine, inbox) = loa::engine::channel();
        let state = PanelState {
            config: Arc::new(config),
            store,
            engine,
            clock: Arc::new(SystemClock {
                assume_synchronised: true,
            }),
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = panel::router(state).into_make_service_with_connect_info::<SocketAddr>();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Panel {
            addr,
            dir,
            _inbox: inbox,
        }
    }

    async fn call(&self, method: &str, path: &str, auth: &[String], body: Option<Value>) -> Reply {
        let mut headers = auth.to_vec();
        let bytes = match body {
            Some(v) => {
                headers.push("Content-Type: application/json".to_owned());
                serde_json::to_vec(&v).unwrap()
            }
            None => Vec::new(),
        };
        send(self.addr, method, path, &headers, &bytes).await
    }

    /// Creates the first admin through the loopback setup page; returns its session.
    async fn first_admin(&self) -> Session {
        let form = b"name=lan&password=m%E1%BA%ADt+kh%E1%BA%A9u+d%C3%A0i&password2=m%E1%BA%ADt+kh%E1%BA%A9u+d%C3%A0i";
        let r = send(
            self.addr,
            "POST",
            "/setup",
            &["Content-Type: application/x-www-form-urlencoded".to_owned()],
            form,
        )
        .await;
        assert_eq!(r.status, 303, "{}", r.text());
        let cookie = r.session_cookie();
        self.session(cookie).await
    }

    async fn session(&self, cookie: String) -> Session {
        let me = self
            .call("GET", "/api/me", &[format!("Cookie: {cookie}")], None)
            .await;
        assert_eq!(me.status, 200, "{}", me.text());
        Session {
            cookie,
            csrf: me.json()["csrf"].as_str().unwrap().to_owned(),
        }
    }

    async fn login(&self, name: &str, password: &str) -> Reply {
        self.call(
            "POST",
            "/api/login",
            &[],
            Some(json!({"name": name, "password": password})),
        )
        .await
    }
}

struct Session {
    cookie: String,
    csrf: String,
}

impl Session {
    /// Cookie and CSRF header.
    fn auth(&self) -> Vec<String> {
        vec![
            format!("Cookie: {}", self.cookie),
            format!("X-CSRF-Token: {}", self.csrf),
        ]
    }

    fn cookie_only(&self) -> Vec<String> {
        vec![format!("Cookie: {}", self.cookie)]
    }
}

fn bearer() -> Vec<String> {
    vec![format!("Authorization: Bearer {TOKEN}")]
}

fn error_code(r: &Reply) -> String {
    r.json()["error"]["code"].as_str().unwrap_or("").to_owned()
}

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

/// A multipart body with one file field.
fn multipart(name: &str, content: &[u8]) -> (String, Vec<u8>) {
    let boundary = "loa-test-boundary-7d1e";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nKhẩu hiệu 111\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(content);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (
        format!("Content-Type: multipart/form-data; boundary={boundary}"),
        body,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resources_answer_with_their_statuses_and_error_bodies() {
    let p = Panel::start("").await;
    let auth = bearer();

    // Clips: upload (multipart), refusal reasons, download, rename, delete.
    let wav = p.dir.path().join("tone.wav");
    write_tone(&wav, 440.0, 1.5, -20.0);
    let bytes = std::fs::read(&wav).unwrap();
    let (ct, body) = multipart("../../Tổng đài 111.wav", &bytes);
    let mut h = auth.clone();
    h.push(ct.clone());
    let r = send(p.addr, "POST", "/api/clips", &h, &body).await;
    assert_eq!(r.status, 201, "{}", r.text());
    let clip = r.json();
    assert_eq!(clip["title"], "Khẩu hiệu 111");
    assert_eq!(
        clip["original_name"], "Tổng đài 111.wav",
        "client name kept, never a path"
    );
    assert!((clip["duration_ms"].as_i64().unwrap() - 1500).abs() < 50);
    let id = clip["id"].as_i64().unwrap();
    let uploads = p.dir.path().join("data/uploads");
    assert_eq!(
        std::fs::read_dir(&uploads).unwrap().count(),
        0,
        "temporary files removed"
    );

    let (ct2, junk) = multipart("notes.mp3", b"this is not audio at all, just text");
    let r = send(p.addr, "POST", "/api/clips", &[auth[0].clone(), ct2], &junk).await;
    assert_eq!(
        (r.status, error_code(&r).as_str()),
        (422, "not_audio"),
        "{}",
        r.text()
    );
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("notes.mp3")
    );
    let r = p.call("POST", "/api/clips", &auth, Some(json!({}))).await;
    assert_eq!(
        (r.status, error_code(&r).as_str()),
        (415, "unsupported_media_type")
    );

    let r = p
        .call("GET", &format!("/api/clips/{id}/audio"), &auth, None)
        .await;
    assert_eq!(
        (r.status, r.header("content-type")),
        (200, Some("audio/wav"))
    );
    assert_eq!(r.body, bytes, "the original, unchanged");
    let r = p
        .call(
            "PATCH",
            &format!("/api/clips/{id}"),
            &auth,
            Some(json!({"title": "Tổng đài 111"})),
        )
        .await;
    assert_eq!(r.json()["title"], "Tổng đài 111");
    let r = p
        .call(
            "PATCH",
            &format!("/api/clips/{id}"),
            &auth,
            Some(json!({"title": " "})),
        )
        .await;
    assert_eq!(r.status, 422);
    let r = p.call("GET", "/api/clips/999", &auth, None).await;
    assert_eq!((r.status, error_code(&r).as_str()), (404, "not_found"));
    let r = p.call("GET", "/api/clips/abc", &auth, None).await;
    assert_eq!((r.status, error_code(&r).as_str()), (400, "bad_request"));

    // Playlists: versioned order, stale edits, bad input.
    let r = p
        .call(
            "POST",
            "/api/playlists",
            &auth,
            Some(json!({"name": "Khẩu hiệu", "items": [id, id]})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let pl = r.json()["id"].as_i64().unwrap();
    let order = format!("/api/playlists/{pl}/order");
    let r = p
        .call(
            "PUT",
            &order,
            &auth,
            Some(json!({"version": 1, "items": [id]})),
        )
        .await;
    assert_eq!((r.status, r.json()["version"].as_i64()), (200, Some(2)));
    let r = p
        .call(
            "PUT",
            &order,
            &auth,
            Some(json!({"version": 1, "items": [id, id, id]})),
        )
        .await;
    assert_eq!(
        (r.status, error_code(&r).as_str()),
        (409, "version_conflict")
    );
    assert_eq!(r.json()["current"]["version"], 2);
    assert_eq!(
        r.json()["current"]["items"],
        json!([id]),
        "the current order comes back"
    );
    let r = p
        .call(
            "POST",
            &order,
            &auth,
            Some(json!({"version": 2, "op": "insert", "clip": id, "at": 0})),
        )
        .await;
    assert_eq!(
        (r.status, r.json()["items"].as_array().unwrap().len()),
        (200, 2)
    );
    let r = p
        .call(
            "POST",
            &order,
            &auth,
            Some(json!({"version": 3, "op": "move", "from": 0, "to": 5})),
        )
        .await;
    assert_eq!(r.status, 422);
    let r = p
        .call(
            "POST",
            &order,
            &auth,
            Some(json!({"version": 2, "op": "remove", "at": 0})),
        )
        .await;
    assert_eq!(r.status, 409, "stale single edit");
    let r = p
        .call(
            "PUT",
            &order,
            &auth,
            Some(json!({"version": 3, "items": [4242]})),
        )
        .await;
    assert_eq!(r.status, 422, "unknown clip");
    let r = send(
        p.addr,
        "PUT",
        &order,
        &[auth[0].clone(), "Content-Type: application/json".to_owned()],
        b"{not json",
    )
    .await;
    assert_eq!((r.status, error_code(&r).as_str()), (400, "bad_request"));
    let r = send(p.addr, "PUT", &order, &auth, b"{}").await;
    assert_eq!(r.status, 415, "no content type");
    let r = p
        .call("PUT", &order, &auth, Some(json!({"items": "x"})))
        .await;
    assert_eq!(r.status, 422, "wrong shape");
    let big = vec![b' '; 3 * 1024 * 1024];
    let r = send(
        p.addr,
        "PUT",
        &order,
        &[auth[0].clone(), "Content-Type: application/json".to_owned()],
        &big,
    )
    .await;
    assert_eq!((r.status, error_code(&r).as_str()), (413, "too_large"));
    let r = p
        .call(
            "PATCH",
            &format!("/api/playlists/{pl}"),
            &auth,
            Some(json!({"version": 3, "name": "Khẩu hiệu 2026"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());

    // Campaigns and programmes.
    let r = p
        .call(
            "POST",
            "/api/campaigns",
            &auth,
            Some(
                json!({"name": "Tháng hành động vì trẻ em 2026", "theme": "Trẻ em hạnh phúc",
                        "dates": {"start": "2026-06-01", "end": "2026-06-30"}}),
            ),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let camp = r.json()["id"].as_i64().unwrap();
    let r = p
        .call(
            "POST",
            "/api/campaigns",
            &auth,
            Some(json!({"name": "x", "dates": {"start": "2026-06-30", "end": "2026-06-01"}})),
        )
        .await;
    assert_eq!(r.status, 422, "end before start");
    let prog = json!({"name": "Sáng", "cron": "0 25 * * *", "playlist": pl, "campaign": camp});
    let r = p.call("POST", "/api/programmes", &auth, Some(prog)).await;
    assert_eq!(r.status, 422);
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("hour"),
        "{}",
        r.text()
    );
    let prog =
        json!({"name": "Sáng", "cron": "30 5 * * MON-FRI", "playlist": pl, "campaign": camp});
    let r = p
        .call("POST", "/api/programmes", &auth, Some(prog.clone()))
        .await;
    assert_eq!(
        (r.status, r.json()["approved"].as_bool()),
        (201, Some(true)),
        "{}",
        r.text()
    );
    let pid = r.json()["id"].as_i64().unwrap();
    let mut bad = prog.clone();
    bad["playlist"] = json!(777);
    let r = p
        .call("PUT", &format!("/api/programmes/{pid}"), &auth, Some(bad))
        .await;
    assert_eq!(r.status, 422, "missing playlist is bad input");
    let r = p
        .call("PUT", "/api/programmes/9999", &auth, Some(prog))
        .await;
    assert_eq!(r.status, 404);
    let r = p
        .call("DELETE", &format!("/api/campaigns/{camp}"), &auth, None)
        .await;
    assert_eq!((r.status, error_code(&r).as_str()), (409, "in_use"));
    let r = p
        .call("DELETE", &format!("/api/playlists/{pl}"), &auth, None)
        .await;
    assert_eq!(r.status, 409, "used by a programme");
    let r = p
        .call("GET", &format!("/api/campaigns/{camp}/report"), &auth, None)
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["campaign"]["id"], camp);
    let r = p
        .call("GET", &format!("/api/log.csv?campaign={camp}"), &auth, None)
        .await;
    assert_eq!(r.header("content-type"), Some("text/csv; charset=utf-8"));
    assert!(r.text().contains("scheduled_at,started_at"));
    let r = p.call("GET", "/api/log?from=nonsense", &auth, None).await;
    assert_eq!(r.status, 400);
    let r = p
        .call(
            "POST",
            "/api/broadcasts",
            &auth,
            Some(json!({"playlist": pl})),
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.text());
    let r = p
        .call("DELETE", &format!("/api/clips/{id}"), &auth, None)
        .await;
    assert_eq!(r.status, 204);
    let r = p.call("GET", "/api/clips", &auth, None).await;
    assert_eq!(r.json(), json!([]), "archived clips leave the library");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_documented_route_is_real() {
    let p = Panel::start("").await;
    for (method, path) in panel::DOCUMENTED_ROUTES {
        let path = path.replace("{id}", "999999");
        let r = p.call(&method.to_uppercase(), &path, &bearer(), None).await;
        let fallback =
            r.status == 404 && r.json()["error"]["message"] == "no such page or API route";
        assert!(
            !fallback && r.status != 405,
            "{method} {path}: {}",
            r.status
        );
    }
    let doc = p.call("GET", "/api/openapi.json", &[], None).await.json();
    let ops: usize = doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_object().unwrap().len())
        .sum();
    assert_eq!(ops, panel::DOCUMENTED_ROUTES.len());
    let r = p.call("GET", "/api/nope", &bearer(), None).await;
    assert_eq!(r.status, 404, "the fallback itself");
    let r = p.call("GET", "/static/app.js", &[], None).await;
    assert!(r.status == 200 && r.text().contains("use strict"));
}
