//! Every resource's routes with their success and error statuses and bodies.

use serde_json::json;

use super::{Panel, bearer, error_code, send};
use crate::support::write_tone;

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
    assert!(
        r.text().contains("is used by programme"),
        "names its programmes: {}",
        r.text()
    );
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
        .call(
            "GET",
            &format!("/api/log.csv?campaign={camp}&lang=en"),
            &auth,
            None,
        )
        .await;
    assert_eq!(r.header("content-type"), Some("text/csv; charset=utf-8"));
    assert!(r.text().contains("scheduled_at,started_at"));
    let r = p
        .call("GET", &format!("/api/log.csv?campaign={camp}"), &auth, None)
        .await;
    assert!(
        r.text().contains("Giờ dự kiến,Bắt đầu"),
        "Vietnamese by default"
    );
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
    assert_eq!((r.status, error_code(&r).as_str()), (409, "in_use"));
    assert!(
        r.text().contains("danh sách phát «"),
        "names the playlists that hold it, in Vietnamese: {}",
        r.text()
    );
    let r = p
        .call("GET", &format!("/api/playlists/{pl}"), &auth, None)
        .await;
    let version = r.json()["version"].as_i64().unwrap();
    let r = p
        .call(
            "PUT",
            &order,
            &auth,
            Some(json!({"version": version, "items": []})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let r = p
        .call("DELETE", &format!("/api/clips/{id}"), &auth, None)
        .await;
    assert_eq!(r.status, 204, "out of every playlist, it can go");
    let r = p.call("GET", "/api/clips", &auth, None).await;
    assert_eq!(r.json(), json!([]), "archived clips leave the library");
}
