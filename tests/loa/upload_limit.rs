//! The upload size limit at the real limit, end to end: the real `loa serve` binary with
//! `[library] max_upload_mb = 1` is sent a 2 MB multipart upload with a bearer token. It
//! answers 413 with the error body naming the limit, leaves no file in the media directory
//! (no `.upload-*` temporary) or the upload directory, keeps answering `/healthz`, and takes
//! a following small upload.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use crate::support::{loa, write_tone};

const TOKEN: &str = "upload-limit-token-0123456789";

/// Kills the daemon when the test ends, pass or fail.
struct Daemon(Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// One HTTP/1.1 request; `None` when the connection fails.
fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &str,
    body: &[u8],
) -> Option<(u16, String)> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(60))).ok()?;
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\
         Authorization: Bearer {TOKEN}\r\n{headers}Content-Length: {}\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).ok()?;
    // The daemon may answer 413 and close before it has read the whole body.
    let _ = s.write_all(body);
    let mut out = Vec::new();
    s.read_to_end(&mut out).ok()?;
    let out = String::from_utf8_lossy(&out).into_owned();
    let status = out.get(9..12)?.parse().ok()?;
    let body = out.split_once("\r\n\r\n").map(|x| x.1.to_owned())?;
    Some((status, body))
}

fn multipart(file_name: &str, content: &[u8]) -> (String, Vec<u8>) {
    let boundary = "loa-limit-boundary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(content);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (
        format!("Content-Type: multipart/form-data; boundary={boundary}\r\n"),
        body,
    )
}

fn entries(dir: &std::path::Path) -> Vec<String> {
    std::fs::read_dir(dir).map_or_else(
        |_| Vec::new(),
        |d| {
            d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        },
    )
}

#[test]
fn the_real_daemon_refuses_an_upload_over_the_limit_and_keeps_serving() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = dir.path().join("loa.toml");
    std::fs::write(
        &config,
        format!(
            "[station]\ndata_dir = \"{}\"\n[library]\nmax_upload_mb = 1\n\
             [audio]\noutput = \"null\"\nchime = \"\"\n[panel]\nlisten = \"127.0.0.1:{port}\"\n\
             [[tokens]]\nname = \"automation\"\ntoken = \"{TOKEN}\"\n",
            dir.path().join("data").display()
        ),
    )
    .unwrap();
    let log = std::fs::File::create(dir.path().join("serve.log")).unwrap();
    let _daemon = Daemon(
        loa()
            .args(["--config", config.to_str().unwrap(), "serve"])
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap(),
    );
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let deadline = Instant::now() + Duration::from_secs(30);
    while http(addr, "GET", "/healthz", "", b"").is_none() {
        assert!(
            Instant::now() < deadline,
            "the daemon did not answer: {}",
            std::fs::read_to_string(dir.path().join("serve.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(20));
    }

    // 2 MB of a would-be WAV: over the 1 MB limit.
    let wav = dir.path().join("big.wav");
    write_tone(&wav, 440.0, 22.0, -20.0);
    let mut big = std::fs::read(&wav).unwrap();
    big.truncate(2 * 1024 * 1024);
    assert_eq!(big.len(), 2 * 1024 * 1024);
    let (ct, body) = multipart("Bản tin dài.wav", &big);
    let (status, reply) = http(addr, "POST", "/api/clips", &ct, &body).expect("an answer");
    assert_eq!(status, 413, "{reply}");
    let reply: serde_json::Value = serde_json::from_str(&reply).unwrap();
    assert_eq!(reply["error"]["code"], "too_large");
    let message = reply["error"]["message"].as_str().unwrap();
    assert!(message.contains("1 MB"), "names the limit: {message}");

    let media = dir.path().join("data/media");
    let uploads = dir.path().join("data/uploads");
    assert_eq!(
        entries(&media),
        Vec::<String>::new(),
        "nothing left in media/"
    );
    assert_eq!(
        entries(&uploads),
        Vec::<String>::new(),
        "no temporary upload left"
    );
    let (status, _) = http(addr, "GET", "/healthz", "", b"").expect("still serving");
    assert!(status == 200 || status == 503, "{status}");

    // A small upload after it works.
    let small = dir.path().join("small.wav");
    write_tone(&small, 440.0, 1.0, -20.0);
    let (ct, body) = multipart("Tổng đài 111.wav", &std::fs::read(&small).unwrap());
    let (status, reply) = http(addr, "POST", "/api/clips", &ct, &body).expect("an answer");
    assert_eq!(status, 201, "{reply}");
    let files = entries(&media);
    assert_eq!(files.len(), 1, "{files:?}");
    assert!(!files[0].starts_with(".upload-"), "{files:?}");
}
