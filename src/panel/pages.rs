//! Server-rendered HTML: the page frame (navigation, language switch, CSRF meta tag, the
//! embedded CSS and JS files) and the page routes of the areas (`pages_dashboard`,
//! `pages_library`, `pages_programmes`, `pages_schedule`, `pages_week`, `pages_ops`, `pages_users`). Vietnamese by default, `?lang=en`
//! switches. No inline script or style: the CSP forbids both.

use std::fmt::Write;

use axum::Router;
use axum::response::Html;
use chrono::{DateTime, Utc};

use super::PanelState;
use super::auth::Principal;
use super::i18n::Lang;
use super::{
    pages_library, pages_ops, pages_programmes, pages_schedule, pages_users, pages_week, words,
};
use crate::model::Playlist;

/// The page routes other than the dashboard and login.
pub(super) fn routes() -> Router<PanelState> {
    Router::new()
        .merge(pages_library::routes())
        .merge(pages_programmes::routes())
        .merge(pages_schedule::routes())
        .merge(pages_week::routes())
        .merge(pages_ops::routes())
        .merge(pages_users::routes())
}

/// The navigation: (path, word key).
const NAV: &[(&str, &str)] = &[
    ("/", "dashboard"),
    ("/library", "library"),
    ("/playlists", "playlists"),
    ("/programmes", "programmes"),
    ("/campaigns", "campaigns"),
    ("/schedule", "schedule"),
    ("/broadcast", "broadcast"),
    ("/log", "log"),
];

/// A whole page: `here` is the current navigation path ("" for none).
pub(super) fn page(
    lang: Lang,
    user: Option<&Principal>,
    title: &str,
    here: &str,
    body: &str,
) -> Html<String> {
    let mut out = String::with_capacity(body.len() + 2048);
    let csrf = user.and_then(|u| u.csrf.as_deref()).unwrap_or("");
    let _ = write!(
        out,
        "<!doctype html><html lang=\"{code}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"csrf\" content=\"{csrf}\"><title>{title} — loa</title>\
         <link rel=\"stylesheet\" href=\"/static/app.css\">\
         <script src=\"/static/app.js\" defer></script></head><body>\
         <header><h1>loa · {title}</h1><span><a href=\"?lang={other}\">{switch}</a>",
        code = lang.code(),
        title = esc(title),
        other = lang.t("switch code"),
        switch = lang.t("switch"),
    );
    if let Some(u) = user {
        let _ = write!(
            out,
            " · {} ({}) <form class=\"inline\" method=\"post\" action=\"/logout\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
             <button type=\"submit\" class=\"secondary\">{}</button></form>",
            esc(&u.name),
            pages_users::role_word(lang, u.role),
            lang.t("logout")
        );
    }
    out.push_str("</span></header>");
    if user.is_some() {
        out.push_str("<nav>");
        for (path, key) in NAV {
            let class = if *path == here {
                " class=\"here\" aria-current=\"page\""
            } else {
                ""
            };
            let _ = write!(out, "<a href=\"{path}\"{class}>{}</a>", lang.t(key));
        }
        if user.is_some_and(|u| u.role >= crate::store::Role::Admin) {
            let class = if here == "/users" {
                " class=\"here\" aria-current=\"page\""
            } else {
                ""
            };
            let _ = write!(out, "<a href=\"/users\"{class}>{}</a>", lang.t("users"));
        }
        out.push_str("</nav>");
    }
    let _ = write!(out, "<main>{body}</main></body></html>");
    Html(out)
}

/// The hidden CSRF field for a form.
pub(super) fn csrf_field(user: &Principal) -> String {
    format!(
        "<input type=\"hidden\" name=\"csrf\" value=\"{}\">",
        user.csrf.as_deref().unwrap_or("")
    )
}

/// Escapes text for HTML content and attribute values.
pub(super) fn esc(s: &str) -> String {
    // Copies the runs between special characters whole: the week and library pages escape
    // 100-200 kB of names, and pushing them char by char was a tenth of their time.
    let mut out = String::with_capacity(s.len() + 16);
    let mut rest = s;
    while let Some(i) = rest
        .bytes()
        .position(|b| matches!(b, b'&' | b'<' | b'>' | b'"' | b'\''))
    {
        out.push_str(&rest[..i]);
        out.push_str(match rest.as_bytes()[i] {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            _ => "&#39;",
        });
        rest = &rest[i + 1..];
    }
    out.push_str(rest);
    out
}

/// A log row's outcome and reason for a page: the outcome word, the reason in the page's
/// language (`words::reason_words`), and any technical part folded away for the
/// technician.
pub(super) fn outcome_html(lang: Lang, row: &crate::model::LogEntry) -> String {
    let mut out = format!(
        "<span class=\"outcome {}\">{}</span>",
        row.outcome.code(),
        lang.outcome(row.outcome.code())
    );
    let reason = words::reason_words(lang, row.outcome.detail());
    if !reason.text.is_empty() {
        let _ = write!(out, ": <span class=\"reason\">{}</span>", esc(&reason.text));
    }
    if let Some(t) = reason.technical {
        let _ = write!(
            out,
            "<details class=\"tech\"><summary>{}</summary><code>{}</code></details>",
            lang.t("technical detail"),
            esc(&t)
        );
    }
    if let Some(rule) = &row.rule_broken {
        let _ = write!(
            out,
            "<br><span class=\"muted\">{}: {}</span>",
            lang.t("breaks"),
            esc(&words::reason_words(lang, rule).text)
        );
    }
    out
}

/// Milliseconds as m:ss.
pub(super) fn mmss(ms: i64) -> String {
    let s = (ms + 500) / 1000;
    format!("{}:{:02}", s / 60, s % 60)
}

/// What a playlist plays, for an approver to see before approving: each clip's title and
/// length, and the total (a clip that cannot be read shows "?").
pub(super) fn clip_list(state: &PanelState, lang: Lang, playlist: &Playlist) -> String {
    let mut out = format!(
        "<details class=\"clips\" open><summary>{} ({})</summary><ol>",
        lang.t("what airs"),
        playlist.items.len()
    );
    let mut total = 0;
    for id in &playlist.items {
        match state.store.clip(*id) {
            Ok(c) => {
                total += c.duration_ms;
                let _ = write!(
                    out,
                    "<li>{} <span class=\"muted\">{}</span></li>",
                    esc(&c.title),
                    mmss(c.duration_ms)
                );
            }
            Err(_) => out.push_str("<li>?</li>"),
        }
    }
    let _ = write!(
        out,
        "</ol><p class=\"muted\">{} {}</p></details>",
        lang.t("total"),
        mmss(total)
    );
    out
}

/// An instant in the station's zone, `dd/mm HH:MM`.
pub(super) fn local(state: &PanelState, t: DateTime<Utc>) -> String {
    t.with_timezone(&state.config.station.time_zone)
        .format("%d/%m %H:%M")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_covers_attribute_quotes() {
        assert_eq!(
            esc("<a href='x'>\"&"),
            "&lt;a href=&#39;x&#39;&gt;&quot;&amp;"
        );
        assert_eq!(esc("Trẻ em & gia đình"), "Trẻ em &amp; gia đình");
        assert_eq!(mmss(61_400), "1:01");
    }
}
