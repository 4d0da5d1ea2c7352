//! The OpenAPI document for `/api/` (served at `/api/openapi.json`). It is built from one
//! table of routes, and a router test checks that every path listed here is a real route
//! and every API route is listed.

use axum::Json;
use serde_json::{Map, Value, json};

/// One documented operation: method, path, summary, the role it needs ("" for none),
/// request body kind, and extra error statuses it can answer.
struct Op {
    method: &'static str,
    path: &'static str,
    summary: &'static str,
    role: &'static str,
    body: Body,
    errors: &'static [u16],
}

/// What an operation takes as its body.
#[derive(Clone, Copy)]
enum Body {
    None,
    Json(&'static str),
    Multipart,
}

use Body::{Json as J, Multipart, None as N};

const OPS: &[Op] = &[
    op(
        "get",
        "/api/status",
        "Engine status: on air, relay, clock, output",
        "viewer",
        N,
        &[],
    ),
    op(
        "get",
        "/api/schedule",
        "Occurrences in a range (query from, to) with verdicts: air, air_breaking_rule, skip and the rule",
        "viewer",
        N,
        &[400],
    ),
    op(
        "get",
        "/api/cron/preview",
        "Next firings (query expr, count) of a standard cron expression; a bad one names the field",
        "viewer",
        N,
        &[400],
    ),
    op(
        "post",
        "/api/broadcasts",
        "Play a playlist now or at an instant; 202 with status sent, or waiting_for_approval (editor, station requires approval). \
         Refused at once when it cannot air: 422 no_playlist or empty_playlist; 409 clip_file_missing, or the station rule a \
         normal or priority broadcast would break at its instant (before_earliest, after_latest, quiet_hours; an emergency may \
         break them and the log says which)",
        "editor",
        J("{playlist: id, priority?: normal|priority|emergency, at?: date-time}"),
        &[409, 422],
    ),
    op(
        "post",
        "/api/broadcasts/stop",
        "Stop what is on air",
        "editor",
        N,
        &[],
    ),
    // Broadcasts held for approval (pending_api).
    op(
        "get",
        "/api/broadcasts/pending",
        "Broadcasts an editor asked for that wait for an approver (approval_required); emergencies first, marked urgent",
        "viewer",
        N,
        &[],
    ),
    op(
        "post",
        "/api/broadcasts/pending/{id}/approve",
        "Approve a waiting broadcast: it airs now (play now) or at its instant, only if its playlist is still the version approved; one whose instant has passed is 409 expired, a playlist changed since the version shown is 409 changed",
        "approver",
        J("{playlist_version?} (optional body)"),
        &[404, 409, 422],
    ),
    op(
        "post",
        "/api/broadcasts/pending/{id}/reject",
        "Reject a waiting broadcast: it never airs",
        "approver",
        N,
        &[404],
    ),
    op(
        "post",
        "/api/login",
        "Log in; sets the session cookie, returns {user, csrf}",
        "",
        J("{name, password}"),
        &[429],
    ),
    op("post", "/api/logout", "End the session", "viewer", N, &[]),
    op(
        "get",
        "/api/me",
        "The caller: name, role, CSRF token",
        "viewer",
        N,
        &[],
    ),
    op("get", "/api/users", "Panel users", "admin", N, &[]),
    op(
        "post",
        "/api/users",
        "Create a user or reset their password and role",
        "admin",
        J("{name, role: viewer|editor|approver|admin, password}"),
        &[422],
    ),
    op(
        "delete",
        "/api/users/{id}",
        "Delete a user",
        "admin",
        N,
        &[404, 409],
    ),
    op(
        "get",
        "/api/audit",
        "The audit trail, newest first (query limit)",
        "admin",
        N,
        &[],
    ),
    op("get", "/api/clips", "The clip library", "viewer", N, &[]),
    op(
        "post",
        "/api/clips",
        "Upload one audio file (multipart fields: title?, file); it must decode completely",
        "editor",
        Multipart,
        &[413, 415, 422],
    ),
    op("get", "/api/clips/{id}", "One clip", "viewer", N, &[404]),
    op(
        "patch",
        "/api/clips/{id}",
        "Rename a clip",
        "editor",
        J("{title}"),
        &[404, 422],
    ),
    op(
        "delete",
        "/api/clips/{id}",
        "Remove a clip from the library (the log keeps naming it); 409 in_use names the playlists that hold it",
        "editor",
        N,
        &[404, 409],
    ),
    op(
        "get",
        "/api/clips/{id}/audio",
        "The original file, unchanged",
        "viewer",
        N,
        &[404],
    ),
    op(
        "get",
        "/api/playlists",
        "Playlists with their items and versions",
        "viewer",
        N,
        &[],
    ),
    op(
        "post",
        "/api/playlists",
        "Create a playlist",
        "editor",
        J("{name, items?: [clip id]}"),
        &[422],
    ),
    op(
        "get",
        "/api/playlists/{id}",
        "One playlist",
        "viewer",
        N,
        &[404],
    ),
    op(
        "patch",
        "/api/playlists/{id}",
        "Rename a playlist (versioned)",
        "editor",
        J("{version, name}"),
        &[404, 409, 422],
    ),
    op(
        "delete",
        "/api/playlists/{id}",
        "Delete a playlist no programme uses",
        "editor",
        N,
        &[404, 409],
    ),
    op(
        "put",
        "/api/playlists/{id}/order",
        "Replace the order (versioned); 409 carries the current playlist as `current`",
        "editor",
        J("{version, items: [clip id]}"),
        &[404, 409, 422],
    ),
    op(
        "post",
        "/api/playlists/{id}/order",
        "One edit (versioned): {op: insert, clip, at?} | {op: move, from, to} | {op: remove, at}",
        "editor",
        J("{version, op, ...}"),
        &[404, 409, 422],
    ),
    op("get", "/api/campaigns", "Campaigns", "viewer", N, &[]),
    op(
        "post",
        "/api/campaigns",
        "Create a campaign",
        "editor",
        J("{name, theme?, dates: {start, end}}"),
        &[422],
    ),
    op(
        "get",
        "/api/campaigns/{id}",
        "One campaign",
        "viewer",
        N,
        &[404],
    ),
    op(
        "put",
        "/api/campaigns/{id}",
        "Replace a campaign (an editor's new dates withdraw its programmes' approval)",
        "editor",
        J("{name, theme?, dates: {start, end}}"),
        &[404, 422],
    ),
    op(
        "delete",
        "/api/campaigns/{id}",
        "Delete a campaign without programmes",
        "editor",
        N,
        &[404, 409],
    ),
    op(
        "get",
        "/api/campaigns/{id}/report",
        "Per clip: times and minutes aired, first and last airing; per day totals",
        "viewer",
        N,
        &[404],
    ),
    op("get", "/api/programmes", "Programmes", "viewer", N, &[]),
    op(
        "post",
        "/api/programmes",
        "Create a programme (an editor's waits for approval when the station requires it)",
        "editor",
        J("Programme"),
        &[422],
    ),
    op(
        "get",
        "/api/programmes/{id}",
        "One programme, with approval {state: approved|waiting|needs_reapproval, content}",
        "viewer",
        N,
        &[404],
    ),
    op(
        "put",
        "/api/programmes/{id}",
        "Replace a programme (an editor's change to what it airs withdraws its approval)",
        "editor",
        J("Programme"),
        &[404, 422],
    ),
    op(
        "delete",
        "/api/programmes/{id}",
        "Delete a programme (kept for the log)",
        "editor",
        N,
        &[404],
    ),
    op(
        "post",
        "/api/programmes/{id}/approval",
        "Approve a programme (its content as shown: 409 changed if it differs) or withdraw the approval",
        "approver",
        J("{approved: bool, content?}"),
        &[404, 409],
    ),
    op(
        "get",
        "/api/log",
        "Broadcast log rows (query from, to, campaign, outcome)",
        "viewer",
        N,
        &[400],
    ),
    op(
        "get",
        "/api/log.csv",
        "The same rows as CSV, in the panel's language (?lang=en: English headers and the stable codes)",
        "viewer",
        N,
        &[400],
    ), // ---- Users page and programme form additions. ----
    op(
        "patch",
        "/api/users/{id}",
        "Change a user's role, reset their password, or both (ends their sessions; not your own role)",
        "admin",
        J("{role?: viewer|editor|approver|admin, password?}"),
        &[404, 409, 422],
    ),
    op(
        "get",
        "/api/programmes/preview",
        "Next firings (query expr, count 1-100, priority) of a programme being written, each with \
         the station rules' verdict: {times: [{at, verdict: air|air_breaking_rule|skip, rule, \
         reason}], skipped}",
        "viewer",
        N,
        &[400, 422],
    ),
];

#[allow(clippy::too_many_arguments)]
const fn op(
    method: &'static str,
    path: &'static str,
    summary: &'static str,
    role: &'static str,
    body: Body,
    errors: &'static [u16],
) -> Op {
    Op {
        method,
        path,
        summary,
        role,
        body,
        errors,
    }
}

/// The API paths and methods documented here, for the router test.
pub const DOCUMENTED: &[(&str, &str)] = &{
    let mut out = [("", ""); OPS.len()];
    let mut i = 0;
    while i < OPS.len() {
        out[i] = (OPS[i].method, OPS[i].path);
        i += 1;
    }
    out
};

/// `GET /api/openapi.json`.
pub(super) async fn document() -> Json<Value> {
    Json(spec())
}

/// The document itself.
pub fn spec() -> Value {
    let error = json!({"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}});
    let mut paths = Map::new();
    for o in OPS {
        let mut responses = Map::new();
        let ok = success(o.method, o.path);
        responses.insert(ok.to_owned(), json!({"description": "success"}));
        // Every request is bounded in time (`timeout`): 408.
        let mut errors: Vec<u16> = o.errors.to_vec();
        errors.push(408);
        if !o.role.is_empty() {
            errors.extend([401, 403]);
        }
        if !matches!(o.body, Body::None) {
            errors.extend([400, 415]);
        }
        errors.sort_unstable();
        errors.dedup();
        for code in errors {
            responses.insert(
                code.to_string(),
                json!({"description": reason(code), "content": error["content"]}),
            );
        }
        let mut operation = json!({"summary": o.summary, "responses": responses});
        if !o.role.is_empty() {
            operation["security"] = json!([{"bearer": []}, {"session": []}]);
            operation["x-role"] = json!(o.role);
        }
        if o.path.contains("{id}") {
            operation["parameters"] = json!([{"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}}]);
        }
        match o.body {
            Body::None => {}
            Body::Json(shape) => {
                operation["requestBody"] = json!({"required": true, "description": shape,
                    "content": {"application/json": {"schema": {"type": "object"}}}});
            }
            Body::Multipart => {
                operation["requestBody"] = json!({"required": true, "content": {"multipart/form-data":
                    {"schema": {"type": "object", "properties": {"title": {"type": "string"},
                     "file": {"type": "string", "format": "binary"}}, "required": ["file"]}}}});
            }
        }
        let entry = paths
            .entry(o.path.to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
        entry[o.method] = operation;
    }
    json!({
        "openapi": "3.0.3",
        "info": {"title": "loa API", "version": env!("CARGO_PKG_VERSION"),
                 "description": "Broadcast controller for ward loudspeaker systems. Times are RFC 3339 with offset. \
                  Errors are {\"error\": {\"code\", \"message\"}}. Authenticate with a bearer token from the config \
                  file, or a session cookie plus the X-CSRF-Token header on changes. Roles: viewer < editor < approver < admin."},
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"},
                                "session": {"type": "apiKey", "in": "cookie", "name": "loa_session"}},
            "schemas": {"Error": {"type": "object", "properties": {"error": {"type": "object",
                "properties": {"code": {"type": "string"}, "message": {"type": "string"}}}}}}
        },
        "paths": paths,
    })
}

/// The success status of an operation.
fn success(method: &str, path: &str) -> &'static str {
    match (method, path) {
        ("delete", _) | ("post", "/api/logout") => "204",
        ("post", "/api/broadcasts" | "/api/broadcasts/stop") => "202",
        ("post", p) if p.ends_with("/approve") && p.starts_with("/api/broadcasts/") => "202",
        (
            "post",
            "/api/clips" | "/api/playlists" | "/api/campaigns" | "/api/programmes" | "/api/users",
        ) => "201",
        _ => "200",
    }
}

fn reason(code: u16) -> &'static str {
    match code {
        400 => "malformed request",
        401 => "not logged in, or wrong token",
        403 => "role too low, or missing CSRF token",
        404 => "no such row",
        408 => "the request took too long (30 s; an upload: 60 s without data)",
        409 => "stale version, still in use, or (approval) the instant has passed",
        413 => "too large",
        415 => "wrong content type",
        422 => "input breaks a rule",
        429 => "too many failed logins",
        _ => "error",
    }
}
