//! Hardening: a request carrying proxy headers is never "the box itself" (a reverse proxy
//! on the box connects from loopback for everyone), and every request is bounded in time —
//! a stalled body is answered 408 with the error body, a stalled upload too, and a client
//! that never finishes its headers is disconnected. The time tests run on tokio's paused
//! clock: the runtime jumps to the next timer whenever it would wait, so they test what
//! happens at the limit, not how long it takes.

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{Panel, bearer, send};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proxied_requests_are_not_loopback_for_the_first_admin() {
    let p = Panel::start("").await;
    let form = b"name=lan&password=m%E1%BA%ADt+kh%E1%BA%A9u+d%C3%A0i&password2=m%E1%BA%ADt+kh%E1%BA%A9u+d%C3%A0i";
    for proxy in [
        "X-Forwarded-For: 203.0.113.7",
        "Forwarded: for=203.0.113.7;proto=http",
        "X-Real-IP: 203.0.113.7",
    ] {
        let r = send(p.addr, "GET", "/setup", &[proxy.to_owned()], b"").await;
        assert!(
            r.text().contains("loa passwd") && !r.text().contains("password2"),
            "{proxy}: the remote message, no form"
        );
        let r = send(
            p.addr,
            "POST",
            "/setup",
            &[
                proxy.to_owned(),
                "Content-Type: application/x-www-form-urlencoded".to_owned(),
            ],
            form,
        )
        .await;
        assert_eq!(r.status, 403, "{proxy}");
    }
    let r = send(p.addr, "GET", "/api/users", &bearer(), b"").await;
    assert_eq!(r.json(), serde_json::json!([]), "no user was created");
    // Straight from loopback it still works.
    p.first_admin().await;
}

/// Sends the head of a request and `body_part`, then stalls; returns what the server said.
async fn stall(p: &Panel, head: &str, body_part: &[u8]) -> Vec<u8> {
    let mut s = tokio::net::TcpStream::connect(p.addr).await.unwrap();
    s.write_all(head.as_bytes()).await.unwrap();
    s.write_all(body_part).await.unwrap();
    let mut out = Vec::new();
    // An hour of paused time: without the server's own limits this fails, not hangs.
    tokio::time::timeout(
        std::time::Duration::from_secs(3600),
        s.read_to_end(&mut out),
    )
    .await
    .expect("the server answered or closed the connection")
    .unwrap();
    out
}

fn reply(out: &[u8]) -> (u16, serde_json::Value) {
    let text = String::from_utf8_lossy(out);
    let (head, body) = text.split_once("\r\n\r\n").expect("a response");
    (
        head[9..12].parse().unwrap(),
        serde_json::from_str(body).unwrap(),
    )
}

#[tokio::test(start_paused = true)]
async fn a_stalled_request_body_gets_408() {
    let p = Panel::start("").await;
    let head = format!(
        "POST /api/playlists HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: 100\r\n\r\n",
        p.addr,
        bearer()[0].trim_start_matches("Authorization: Bearer ")
    );
    let out = stall(&p, &head, b"{\"name\": \"B\xe1\xba\xa3n tin").await;
    let (status, body) = reply(&out);
    assert_eq!(status, 408, "{body}");
    assert_eq!(body["error"]["code"], "timeout");
    assert!(body["error"]["message"].as_str().unwrap().contains("30 s"));
    let r = p.call("GET", "/api/playlists", &bearer(), None).await;
    assert_eq!(r.json(), serde_json::json!([]), "nothing was created");
}

#[tokio::test(start_paused = true)]
async fn a_stalled_upload_gets_408_and_leaves_no_file() {
    let p = Panel::start("").await;
    let boundary = "loa-stall";
    let head = format!(
        "POST /api/clips HTTP/1.1\r\nHost: {}\r\n{}\r\n\
         Content-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: 1000000\r\n\r\n",
        p.addr,
        bearer()[0]
    );
    let part = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"ban-tin.mp3\"\r\n\
         Content-Type: audio/mpeg\r\n\r\nID3 some bytes of a bulletin"
    );
    let out = stall(&p, &head, part.as_bytes()).await;
    let (status, body) = reply(&out);
    assert_eq!(status, 408, "{body}");
    assert_eq!(body["error"]["code"], "timeout");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("stalled")
    );
    let uploads = p.dir.path().join("data/uploads");
    let left = std::fs::read_dir(&uploads).map_or(0, |d| d.count());
    assert_eq!(left, 0, "the temporary upload was removed");
    let r = p.call("GET", "/api/clips", &bearer(), None).await;
    assert_eq!(r.status, 200, "the panel still answers: {}", r.text());
    assert!(!r.text().contains("ban-tin"), "no clip was added");
}

#[tokio::test(start_paused = true)]
async fn a_client_that_never_finishes_its_headers_is_disconnected() {
    let p = Panel::start("").await;
    let out = stall(&p, "GET /api/status HTTP/1.1\r\nHost: x\r\nX-Slow: ", b"").await;
    let text = String::from_utf8_lossy(&out);
    assert!(
        !text.contains("200 OK"),
        "the connection was closed without serving: {text}"
    );
}
