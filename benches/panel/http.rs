//! The panel benchmark's daemon and HTTP helpers: start and stop `loa serve`, one raw
//! HTTP/1.1 exchange, the login form.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::{ADMIN, PASSWORD};

pub fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    l.local_addr().expect("address").port()
}

pub fn start(exe: &Path, config: &Path, repo: &Path, log_path: &Path) -> Child {
    let log = std::fs::File::create(log_path).expect("log file created");
    let mut child = Command::new(exe)
        .arg("--config")
        .arg(config)
        .arg("serve")
        .current_dir(repo)
        .env_remove("RUST_LOG")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("loa serve starts");
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(30) {
        if matches!(child.try_wait(), Ok(Some(_))) {
            break;
        }
        if std::fs::read_to_string(log_path)
            .unwrap_or_default()
            .contains("loa is running")
        {
            println!(
                "\nloa serve up after {} ms (pid {})",
                started.elapsed().as_millis(),
                child.id()
            );
            return child;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!(
        "loa serve did not come up; its log:\n{}",
        std::fs::read_to_string(log_path).unwrap_or_default()
    );
}

pub fn stop(child: &mut Child) {
    let pid = rustix::process::Pid::from_child(child);
    let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
    let asked = Instant::now();
    while asked.elapsed() < Duration::from_secs(10) {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    println!("loa serve did not stop within 10 s of SIGTERM; killed");
    let _ = child.kill();
    let _ = child.wait();
}

/// One HTTP/1.1 exchange on a fresh connection; returns the status, the raw response.
fn exchange(port: u16, request: &str) -> (u16, Vec<u8>) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("daemon accepts");
    s.set_read_timeout(Some(Duration::from_secs(30))).ok();
    s.write_all(request.as_bytes()).expect("request sent");
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).expect("response read");
    let head = String::from_utf8_lossy(&raw[..raw.len().min(64)]).into_owned();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (status, raw)
}

pub fn get(port: u16, path: &str, header: &str) -> (u16, Vec<u8>) {
    exchange(
        port,
        &format!(
            "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{header}\r\nConnection: close\r\n\r\n"
        ),
    )
}

/// Logs in through the login form; returns the `Cookie` header value.
pub fn login(port: u16) -> String {
    let body = format!(
        "name={ADMIN}&password={}",
        PASSWORD
            .bytes()
            .map(|b| if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            })
            .collect::<String>()
    );
    let (status, raw) = exchange(
        port,
        &format!(
            "POST /login HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\
             Connection: close\r\n\r\n{body}",
            body.len()
        ),
    );
    let text = String::from_utf8_lossy(&raw);
    let cookie = text
        .lines()
        .take_while(|l| !l.is_empty())
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("set-cookie")
                .then(|| v.trim().split(';').next().unwrap_or("").to_owned())
        })
        .unwrap_or_else(|| panic!("login answered {status} without a session cookie"));
    assert!((300..400).contains(&status), "login answered {status}");
    cookie
}
