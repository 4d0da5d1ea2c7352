//! Library and playlist pages: the clip table with multi-file upload (progress and
//! refusal reason per file, done by `static/app.js` through `POST /api/clips`), a preview
//! player, and rename / delete per clip (through `PATCH` / `DELETE /api/clips/{id}`); the
//! playlist list, and one playlist's editor (drag by the grip with mouse or touch, plus
//! accessible up/down buttons, saved through the versioned order API). The new-playlist
//! form goes through `actions`, like the API.

use std::collections::HashMap;
use std::fmt::Write;

use axum::extract::State;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};

use super::actions::{self, ActionError};
use super::auth::{PageUser, Principal};
use super::body::Path;
use super::i18n::Lang;
use super::pages::{csrf_field, esc, mmss, page};
use super::{ApiError, PanelState};
use crate::model::{Clip, ClipId, PlaylistId};
use crate::store::Role;

/// The library and playlist page routes.
pub(super) fn routes() -> Router<PanelState> {
    Router::new()
        .route("/library", get(library))
        .route("/playlists", get(playlists).post(create_playlist))
        .route("/playlists/{id}", get(playlist))
}

/// `GET /library`.
async fn library(
    State(state): State<PanelState>,
    PageUser(user): PageUser,
    lang: Lang,
) -> Result<Html<String>, ApiError> {
    let mut clips = state.store.clips()?;
    clips.reverse();
    let mut body = String::new();
    if user.role >= Role::Editor {
        let _ = write!(
            body,
            "<h2>{}</h2><div id=\"drop\" class=\"drop\" role=\"button\" tabindex=\"0\">{}</div>\
             <input id=\"files\" type=\"file\" multiple accept=\"audio/*,.mp3,.m4a,.aac,.wav,.flac,.ogg,.opus,.webm\" hidden>\
             <ul id=\"uploads\" class=\"uploads\"></ul>",
            lang.t("upload"),
            lang.t("drop here"),
        );
    }
    let editor = user.role >= Role::Editor;
    let _ = write!(
        body,
        "<h2>{} (<span id=\"clip-count\">{}</span>)</h2><p id=\"clip-note\" role=\"status\" hidden></p>\
         <table id=\"clips\" data-editor=\"{editor}\"><tbody>",
        lang.t("library"),
        clips.len(),
    );
    for c in &clips {
        let _ = write!(
            body,
            "<tr data-clip=\"{id}\"><td><strong class=\"title\">{}</strong><br><span class=\"muted\">{} · {}{}</span>\
             <br><audio controls preload=\"none\" src=\"/api/clips/{id}/audio\" aria-label=\"{}\"></audio>",
            esc(&c.title),
            mmss(c.duration_ms),
            // Loudness is for the technician (gain is automatic): the English page shows it.
            if lang == Lang::En {
                format!("{:.1} LUFS · ", c.loudness.integrated_lufs)
            } else {
                String::new()
            },
            esc(&c.original_name),
            lang.t("preview"),
            id = c.id,
        );
        if editor {
            let _ = write!(
                body,
                "<div class=\"row-actions\"><button type=\"button\" class=\"secondary\" data-action=\"rename\">{}</button> \
                 <button type=\"button\" class=\"secondary\" data-action=\"delete\">{}</button></div>",
                lang.t("rename"),
                lang.t("delete"),
            );
        }
        body.push_str("</td></tr>");
    }
    body.push_str("</tbody></table>");
    Ok(page(
        lang,
        Some(&user),
        lang.t("library"),
        "/library",
        &body,
    ))
}

/// `GET /playlists`.
async fn playlists(
    State(state): State<PanelState>,
    PageUser(user): PageUser,
    lang: Lang,
) -> Result<Html<String>, ApiError> {
    render_playlists(&state, &user, lang, "", None)
}

/// The playlists page, with `name` typed in the new-playlist form and `error` above it.
fn render_playlists(
    state: &PanelState,
    user: &Principal,
    lang: Lang,
    name: &str,
    error: Option<&ActionError>,
) -> Result<Html<String>, ApiError> {
    let lists = state.store.playlists()?;
    let durations = clip_durations(&state.store.clips()?);
    let mut body = format!(
        "<h2>{}</h2><div class=\"scroll\"><table>",
        lang.t("playlists")
    );
    for p in &lists {
        let total: i64 = p
            .items
            .iter()
            .map(|c| durations.get(c).copied().unwrap_or(0))
            .sum();
        let _ = write!(
            body,
            "<tr><td><a href=\"/playlists/{}\">{}</a></td><td>{} {}</td><td>{}</td></tr>",
            p.id,
            esc(&p.name),
            p.items.len(),
            lang.t("items"),
            mmss(total)
        );
    }
    body.push_str("</table></div>");
    if user.role >= Role::Editor {
        let _ = write!(body, "<h2>{}</h2>", lang.t("new playlist"));
        if let Some(e) = error {
            let _ = write!(
                body,
                "<p class=\"alert\" role=\"alert\">{}: {}</p>",
                lang.t("not saved"),
                esc(&e.words(lang))
            );
        }
        let _ = write!(
            body,
            "<form method=\"post\" action=\"/playlists\">{csrf}\
             <label for=\"pname\">{label}</label><input id=\"pname\" name=\"name\" value=\"{value}\" required>\
             <p><button type=\"submit\">{create}</button></p></form>",
            csrf = csrf_field(user),
            label = lang.t("name"),
            value = esc(name),
            create = lang.t("create"),
        );
    }
    Ok(page(
        lang,
        Some(user),
        lang.t("playlists"),
        "/playlists",
        &body,
    ))
}

fn clip_durations(clips: &[Clip]) -> HashMap<ClipId, i64> {
    clips.iter().map(|c| (c.id, c.duration_ms)).collect()
}

/// `POST /playlists` (form, editor): creates an empty playlist and opens it; a refused
/// name comes back in the page with the reason.
async fn create_playlist(
    State(state): State<PanelState>,
    PageUser(user): PageUser,
    lang: Lang,
    Form(f): Form<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let name = f.get("name").map_or("", String::as_str);
    match actions::create_playlist(&state, &user, name, &[]) {
        Ok(p) => Ok(Redirect::to(&format!("/playlists/{}", p.id)).into_response()),
        Err(e) => {
            let html = render_playlists(&state, &user, lang, name, Some(&e))?;
            Ok((e.status(), html).into_response())
        }
    }
}

/// `GET /playlists/{id}`: the order editor.
async fn playlist(
    State(state): State<PanelState>,
    PageUser(user): PageUser,
    lang: Lang,
    Path(id): Path<i64>,
) -> Result<Html<String>, ApiError> {
    let p = state.store.playlist(PlaylistId(id))?;
    let clips = state.store.clips()?;
    let mut titles: HashMap<ClipId, String> =
        clips.iter().map(|c| (c.id, c.title.clone())).collect();
    for item in &p.items {
        if !titles.contains_key(item) {
            if let Ok(c) = state.store.clip(*item) {
                titles.insert(c.id, c.title);
            }
        }
    }
    let editor = user.role >= Role::Editor;
    let mut body = format!(
        "<h2>{}</h2><p class=\"muted\">{}</p>\
         <p id=\"stale\" class=\"alert\" role=\"alert\" hidden>{}</p><p id=\"saved\" class=\"muted\" aria-live=\"polite\"></p>\
         <ol id=\"order\" class=\"order\" data-playlist=\"{}\" data-version=\"{}\">",
        esc(&p.name),
        if editor { lang.t("drag hint") } else { "" },
        lang.t("stale"),
        p.id,
        p.version,
    );
    for item in &p.items {
        let title = titles.get(item).map_or("?", String::as_str);
        let _ = write!(body, "<li data-clip=\"{item}\">",);
        if editor {
            body.push_str("<span class=\"grip\" aria-hidden=\"true\">⠿</span>");
        }
        let _ = write!(body, "<span class=\"t\">{}</span>", esc(title));
        if editor {
            let _ = write!(
                body,
                "<button type=\"button\" class=\"secondary\" data-action=\"up\" aria-label=\"{up}\">↑</button>\
                 <button type=\"button\" class=\"secondary\" data-action=\"down\" aria-label=\"{down}\">↓</button>\
                 <button type=\"button\" class=\"secondary\" data-action=\"remove\" aria-label=\"{rm}\">✕</button>",
                up = lang.t("move up"),
                down = lang.t("move down"),
                rm = lang.t("remove"),
            );
        }
        body.push_str("</li>");
    }
    body.push_str("</ol>");
    let _ = write!(
        body,
        "<p id=\"empty-note\" class=\"muted\"{}>{}</p>",
        if p.items.is_empty() { "" } else { " hidden" },
        lang.t("empty")
    );
    if editor {
        let _ = write!(
            body,
            "<form id=\"add-form\"><label for=\"add-clip\">{}</label><select id=\"add-clip\">",
            lang.t("add clip")
        );
        for c in &clips {
            let _ = write!(
                body,
                "<option value=\"{}\">{}</option>",
                c.id,
                esc(&c.title)
            );
        }
        let _ = write!(
            body,
            "</select> <button type=\"submit\">{}</button></form>",
            lang.t("add")
        );
    }
    Ok(page(lang, Some(&user), &p.name, "/playlists", &body))
}
