//! The OpenAPI document for `/api/` (served at `/api/openapi.json`). A router test checks
//! that every path listed here is a real route and every API route is listed.

use axum::Json;
use serde_json::{Value, json};

/// The API paths and methods documented here, for the router test.
pub const DOCUMENTED: &[(&str, &str)] = &[
    ("get", "/api/status"),
    ("get", "/api/schedule"),
    ("get", "/api/log"),
    ("get", "/api/cron/preview"),
    ("post", "/api/broadcasts"),
    ("post", "/api/broadcasts/stop"),
    ("put", "/api/playlists/{id}/items"),
];

/// `GET /api/openapi.json`.
pub(super) async fn document() -> Json<Value> {
    Json(spec())
}

/// The document itself.
pub fn spec() -> Value {
    let error = json!({"$ref": "#/components/schemas/Error"});
    let range = json!([
        {"name": "from", "in": "query", "schema": {"type": "string", "format": "date-time"}},
        {"name": "to", "in": "query", "schema": {"type": "string", "format": "date-time"}}
    ]);
    json!({
        "openapi": "3.0.3",
        "info": {"title": "loa API", "version": env!("CARGO_PKG_VERSION"),
                 "description": "Broadcast controller for ward loudspeaker systems. Times are RFC 3339 with offset."},
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {"Error": {"type": "object", "properties": {"error": {"type": "object",
                "properties": {"code": {"type": "string"}, "message": {"type": "string"}}}}}}
        },
        "paths": {
            "/api/status": {"get": {"summary": "Engine status: on air, relay, clock, output",
                "responses": {"200": {"description": "status"}}}},
            "/api/schedule": {"get": {"summary": "Occurrences in a range with verdicts (air / skip and the rule)",
                "parameters": range, "responses": {"200": {"description": "occurrences"},
                "400": {"description": "bad range", "content": {"application/json": {"schema": error}}}}}},
            "/api/log": {"get": {"summary": "Broadcast log rows in a range", "parameters": range,
                "responses": {"200": {"description": "log rows"}}}},
            "/api/cron/preview": {"get": {"summary": "Next firings of a standard cron expression",
                "parameters": [{"name": "expr", "in": "query", "required": true, "schema": {"type": "string"}},
                               {"name": "count", "in": "query", "schema": {"type": "integer"}}],
                "responses": {"200": {"description": "instants"},
                "400": {"description": "bad expression", "content": {"application/json": {"schema": error}}}}}},
            "/api/broadcasts": {"post": {"summary": "Play a playlist now or at an instant",
                "security": [{"bearer": []}],
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object",
                    "required": ["playlist"], "properties": {"playlist": {"type": "integer"},
                    "priority": {"type": "string", "enum": ["normal", "priority", "emergency"]},
                    "at": {"type": "string", "format": "date-time"}}}}}},
                "responses": {"202": {"description": "accepted"},
                "401": {"description": "no or wrong token", "content": {"application/json": {"schema": error}}},
                "404": {"description": "no such playlist", "content": {"application/json": {"schema": error}}}}}},
            "/api/broadcasts/stop": {"post": {"summary": "Stop what is on air", "security": [{"bearer": []}],
                "responses": {"202": {"description": "accepted"},
                "401": {"description": "no or wrong token", "content": {"application/json": {"schema": error}}}}}},
            "/api/playlists/{id}/items": {"put": {"summary": "Replace a playlist's order, based on its version",
                "security": [{"bearer": []}],
                "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}}],
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object",
                    "required": ["version", "items"], "properties": {"version": {"type": "integer"},
                    "items": {"type": "array", "items": {"type": "integer"}}}}}}},
                "responses": {"200": {"description": "the playlist at its new version"},
                "400": {"description": "bad body", "content": {"application/json": {"schema": error}}},
                "401": {"description": "no or wrong token", "content": {"application/json": {"schema": error}}},
                "404": {"description": "no such playlist or clip", "content": {"application/json": {"schema": error}}},
                "409": {"description": "stale version; `current` holds the stored playlist",
                    "content": {"application/json": {"schema": error}}}}}}
        }
    })
}
