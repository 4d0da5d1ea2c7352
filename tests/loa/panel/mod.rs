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

use crate::support::write_config;

mod access;
mod admin;
mod approval;
mod approval_content;
mod forms;
mod hardening;
mod refusals;
mod resources;

const TOKEN: &str = "panel-test-token-0123456789";

/// A response: status, headers (lowercase names), body bytes.
pub(super) struct Reply {
    pub(super) status: u16,
    pub(super) headers: Vec<(String, String)>,
    pub(super) body: Vec<u8>,
}

impl Reply {
    pub(super) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub(super) fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub(super) fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("{e}: {} {}", self.status, self.text()))
    }

    /// The `name=value` part of the session cookie it sets.
    pub(super) fn session_cookie(&self) -> String {
        self.headers
            .iter()
            .filter(|(k, _)| k == "set-cookie")
            .map(|(_, v)| v.split(';').next().unwrap().to_owned())
            .find(|c| c.starts_with("loa_session="))
            .expect("a session cookie")
    }
}

/// Sends one HTTP/1.1 request with raw extra header lines.
pub(super) async fn send(
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
pub(super) struct Panel {
    pub(super) addr: SocketAddr,
    pub(super) dir: tempfile::TempDir,
    /// The engine's end, held so the panel's stop commands have somewhere to go; nothing
    /// runs an engine here.
    _inbox: loa::engine::EngineInbox,
    /// The store the panel writes to: broadcasts it accepted wait there for the engine
    /// (which nothing runs here).
    pub(super) store: Store,
    /// The last broadcast request [`Panel::new_requests`] returned.
    seen_request: i64,
}

impl Panel {
    pub(super) async fn start(extra_config: &str) -> Panel {
        let dir = tempfile::tempdir().unwrap();
        let path = write_config(
            dir.path(),
            &format!("{extra_config}[[tokens]]\nname = \"automation\"\ntoken = \"{TOKEN}\"\n"),
        );
        let mut config = Config::load(&path).unwrap();
        if !extra_config.contains("[schedule]") {
            // Broadcasts asked for at any hour of the test run may air: manual requests are
            // judged by the station rules at once.
            config.schedule.rules = crate::support::all_day(config.schedule.rules);
        }
        // This test process is not `loa`: uploads are analysed by the real binary.
        config.library.analyser_exe = Some(env!("CARGO_BIN_EXE_loa").into());
        let store = Store::open(&config.station.data_dir.join("loa.db")).unwrap();
        let (engine, inbox) = loa::engine::channel();
        let state = PanelState {
            config: Arc::new(config),
            store: store.clone(),
            engine,
            clock: Arc::new(SystemClock {
                assume_synchronised: true,
            }),
            health: Default::default(),
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(panel::serve(
            listener,
            panel::router(state),
            std::future::pending(),
        ));
        Panel {
            addr,
            dir,
            _inbox: inbox,
            store,
            seen_request: 0,
        }
    }

    /// The manual broadcasts the panel accepted for the engine since the last call.
    pub(super) fn new_requests(&mut self) -> Vec<loa::store::WaitingBroadcast> {
        let mut rows: Vec<_> = self
            .store
            .waiting_broadcasts()
            .unwrap()
            .into_iter()
            .filter(|w| w.id.0 > self.seen_request)
            .collect();
        rows.sort_by_key(|w| w.id);
        if let Some(last) = rows.last() {
            self.seen_request = last.id.0;
        }
        rows
    }

    pub(super) async fn call(
        &self,
        method: &str,
        path: &str,
        auth: &[String],
        body: Option<Value>,
    ) -> Reply {
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
    pub(super) async fn first_admin(&self) -> Session {
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

    pub(super) async fn session(&self, cookie: String) -> Session {
        let me = self
            .call("GET", "/api/me", &[format!("Cookie: {cookie}")], None)
            .await;
        assert_eq!(me.status, 200, "{}", me.text());
        Session {
            cookie,
            csrf: me.json()["csrf"].as_str().unwrap().to_owned(),
        }
    }

    pub(super) async fn login(&self, name: &str, password: &str) -> Reply {
        self.call(
            "POST",
            "/api/login",
            &[],
            Some(json!({"name": name, "password": password})),
        )
        .await
    }
}

pub(super) struct Session {
    pub(super) cookie: String,
    pub(super) csrf: String,
}

impl Session {
    /// Cookie and CSRF header.
    pub(super) fn auth(&self) -> Vec<String> {
        vec![
            format!("Cookie: {}", self.cookie),
            format!("X-CSRF-Token: {}", self.csrf),
        ]
    }

    pub(super) fn cookie_only(&self) -> Vec<String> {
        vec![format!("Cookie: {}", self.cookie)]
    }
}

pub(super) fn bearer() -> Vec<String> {
    vec![format!("Authorization: Bearer {TOKEN}")]
}

pub(super) fn error_code(r: &Reply) -> String {
    r.json()["error"]["code"].as_str().unwrap_or("").to_owned()
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
