//! Server-rendered HTML: the page frame (navigation, language switch, CSRF meta tag, the
//! embedded CSS and JS files), the dashboard, and the page routes of the other areas
//! (`pages_library`, `pages_schedule`, `pages_ops`). Vietnamese by default, `?lang=en`
//! switches. No inline script or style: the CSP forbids both.

use std::fmt::Write;

use axum::Router;
use axum::extract::State;
use axum::response::Html;
use chrono::{DateTime, Utc};

use super::PanelState;
use super::api::schedule_items;
use super::auth::{PageUser, Principal};
use super::i18n::Lang;
use super::{pages_library, pages_ops, pages_schedule};

/// The page routes other than the dashboard and login.
pub(super) fn routes() -> Router<PanelState> {
    Router::new()
        .merge(pages_library::routes())
        .merge(pages_schedule::routes())
        .merge(pages_ops::routes())
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
            u.role.as_str(),
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

/// Milliseconds as m:ss.
pub(super) fn mmss(ms: i64) -> String {
    let s = (ms + 500) / 1000;
    format!("{}:{:02}", s / 60, s % 60)
}

/// An instant in the station's zone, `dd/mm HH:MM`.
pub(super) fn local(state: &PanelState, t: DateTime<Utc>) -> String {
    t.with_timezone(&state.config.station.time_zone)
        .format("%d/%m %H:%M")
        .to_string()
}

/// `GET /`: the dashboard.
pub(super) async fn dashboard(
    State(state): State<PanelState>,
    PageUser(user): PageUser,
    lang: Lang,
) -> Html<String> {
    let tz = state.config.station.time_zone;
    let status = state.engine.status();
    let now = state.clock.now();
    let mut body = String::new();
    let on_air = match &status.on_air {
        Some(a) => {
            let name = state
                .store
                .playlist(crate::model::PlaylistId(a.playlist))
                .map_or_else(|_| format!("#{}", a.playlist), |p| p.name);
            format!("{} ({})", esc(&name), local(&state, a.scheduled_at))
        }
        None => lang.t("nothing on air").to_owned(),
    };
    let disk = disk_free_mb(&state.config.station.data_dir).map_or_else(
        || "?".to_owned(),
        |mb| format!("{:.1} GB", mb as f64 / 1024.0),
    );
    let _ = write!(
        body,
        "<section class=\"cards\">\
         <div class=\"card{}\"><h2>{}</h2><p>{on_air}</p></div>\
         <div class=\"card\"><h2>{}</h2><p>{}</p></div>\
         <div class=\"card{}\"><h2>{}</h2><p>{}</p></div>\
         <div class=\"card{}\"><h2>{}</h2><p>{}</p></div>\
         <div class=\"card\"><h2>{}</h2><p>{disk}</p></div></section>",
        if status.on_air.is_some() { " ok" } else { "" },
        lang.t("on air"),
        lang.t("relay"),
        if status.relay_on {
            lang.t("on")
        } else {
            lang.t("off")
        },
        if status.clock_synchronised {
            ""
        } else {
            " alert"
        },
        lang.t("clock"),
        if status.clock_synchronised {
            lang.t("synced")
        } else {
            lang.t("not synced")
        },
        if status.output_ok { "" } else { " alert" },
        lang.t("output"),
        esc(&status.output),
        lang.t("disk"),
    );
    let recent = state
        .store
        .log_between(
            now - chrono::Duration::days(7),
            now + chrono::Duration::seconds(1),
        )
        .unwrap_or_default();
    let mut alerts: Vec<String> = Vec::new();
    if let Some(e) = &status.last_error {
        alerts.push(format!("{}: {}", lang.t("problem"), esc(e)));
    }
    for row in recent.iter().filter(|r| {
        matches!(r.outcome.code(), "missed" | "failed")
            && r.scheduled_at > now - chrono::Duration::days(1)
    }) {
        alerts.push(format!(
            "{} {}: {}",
            local(&state, row.scheduled_at),
            lang.outcome(row.outcome.code()),
            esc(row.outcome.detail())
        ));
    }
    if !alerts.is_empty() {
        let _ = write!(body, "<h2>{}</h2>", lang.t("alerts"));
        for a in alerts {
            let _ = write!(body, "<p class=\"alert\">{a}</p>");
        }
    }
    let end_of_day = now
        .with_timezone(&tz)
        .date_naive()
        .succ_opt()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .and_then(|d| d.and_local_timezone(tz).earliest())
        .map_or(now + chrono::Duration::days(1), |d| d.to_utc());
    let _ = write!(
        body,
        "<h2>{}</h2><div class=\"scroll\"><table>",
        lang.t("today")
    );
    let items = schedule_items(&state, now, end_of_day).unwrap_or_default();
    if items.is_empty() {
        let _ = write!(body, "<tr><td>{}</td></tr>", lang.t("none"));
    }
    for item in items.iter().take(50) {
        let note = match (item.verdict, &item.rule) {
            ("skip", Some(r)) => {
                format!(
                    "<span class=\"skip\">{}: {}</span>",
                    lang.t("skipped"),
                    esc(r)
                )
            }
            ("air_breaking_rule", Some(r)) => {
                format!(
                    "<span class=\"skip\">{}: {}</span>",
                    lang.t("breaks"),
                    esc(r)
                )
            }
            _ => String::new(),
        };
        let at = item.at.get(11..16).unwrap_or(&item.at);
        let _ = write!(
            body,
            "<tr><td>{}</td><td>{}</td><td>{note}</td></tr>",
            esc(at),
            esc(&item.name)
        );
    }
    let _ = write!(
        body,
        "</table></div><h2>{}</h2><div class=\"scroll\"><table>",
        lang.t("recent")
    );
    if recent.is_empty() {
        let _ = write!(body, "<tr><td>{}</td></tr>", lang.t("none"));
    }
    for row in recent.iter().rev().take(20) {
        let _ = write!(
            body,
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            local(&state, row.scheduled_at),
            lang.outcome(row.outcome.code()),
            esc(row.outcome.detail())
        );
    }
    body.push_str("</table></div>");
    page(lang, Some(&user), lang.t("dashboard"), "/", &body)
}

/// Free space on the data directory's file system, in MiB.
pub(super) fn disk_free_mb(dir: &std::path::Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let path = std::ffi::CString::new(dir.as_os_str().as_bytes()).ok()?;
    // SAFETY: statvfs writes into the zeroed struct we own; the path is NUL-terminated.
    let stat = unsafe {
        let mut s: libc::statvfs = std::mem::zeroed();
        if libc::statvfs(path.as_ptr(), &mut s) != 0 {
            return None;
        }
        s
    };
    Some((stat.f_bavail as u64).saturating_mul(stat.f_frsize as u64) / (1024 * 1024))
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
        assert!(disk_free_mb(std::path::Path::new("/")).is_some());
    }
}
