//! The programmes page: the list (with each programme's approval: approved, waiting, or
//! "cần duyệt lại" when what it airs changed after approval; approvers see the clips it
//! will play before the approve button) and the new-programme form with the schedule
//! helper (presets, weekday picker, raw cron; `static/app.js` previews the next ten times
//! with the station rules' verdict through `/api/programmes/preview` and asks for a second
//! press before saving times the rules would skip). Its forms call `actions`, like the
//! API; a refused form is shown again with the typed values and the reason in the page.

use std::collections::HashMap;
use std::fmt::Write;

use axum::extract::State;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};

use super::actions::{self, ActionError, Problem, ProgrammeInput, default_clash};
use super::auth::{PageUser, Principal};
use super::body::Path;
use super::i18n::Lang;
use super::pages::{clip_list, csrf_field, esc, page};
use super::{ApiError, PanelState};
use crate::model::{Campaign, CampaignId, Playlist, PlaylistId, Priority, ProgrammeId};
use crate::schedule::Station;
use crate::store::{ApprovalState, Role};

type Params = HashMap<String, String>;

/// The programme page routes.
pub(super) fn routes() -> Router<PanelState> {
    Router::new()
        .route("/programmes", get(programmes).post(create_programme))
        .route("/programmes/{id}/delete", post(delete_programme))
        .route("/programmes/{id}/approve", post(approve_programme))
}

/// The new-programme form's values as typed (strings, so a refused form comes back as
/// it was sent).
#[derive(Debug, Clone)]
struct Typed(Params);

impl Typed {
    fn blank() -> Typed {
        let mut p = Params::new();
        p.insert("cron".to_owned(), "0 6,17 * * *".to_owned());
        p.insert("repeat".to_owned(), "1".to_owned());
        p.insert("chime".to_owned(), "on".to_owned());
        Typed(p)
    }

    fn get(&self, k: &str) -> &str {
        self.0.get(k).map_or("", |v| v.trim())
    }

    /// The input the form describes; the numbers it cannot read are refused here with the
    /// same rules the API applies to the JSON.
    fn input(&self) -> Result<ProgrammeInput, ActionError> {
        let playlist = self
            .get("playlist")
            .parse()
            .map_err(|_| ActionError::Invalid(Problem::Choose("playlist")))?;
        let campaign = match self.get("campaign") {
            "" => None,
            c => {
                Some(CampaignId(c.parse().map_err(|_| {
                    ActionError::Invalid(Problem::Choose("campaign"))
                })?))
            }
        };
        let repeat = match self.get("repeat") {
            "" => 1,
            r => r
                .parse()
                .map_err(|_| ActionError::Invalid(Problem::Repeat))?,
        };
        let repeat_pause = match self.get("repeat_pause") {
            "" => 0,
            r => r
                .parse()
                .map_err(|_| ActionError::Invalid(Problem::Choose("pause")))?,
        };
        Ok(ProgrammeInput {
            name: self.get("name").to_owned(),
            cron: self.get("cron").to_owned(),
            playlist: PlaylistId(playlist),
            campaign,
            dates: None,
            priority: match self.get("priority") {
                "priority" => Priority::Priority,
                _ => Priority::Normal,
            },
            clash: default_clash(),
            repeat,
            repeat_pause,
            chime: self.get("chime") == "on",
            enabled: true,
        })
    }
}

/// `GET /programmes`.
async fn programmes(
    State(state): State<PanelState>,
    PageUser(user): PageUser,
    lang: Lang,
) -> Result<Html<String>, ApiError> {
    render(&state, &user, lang, &Typed::blank(), None)
}

/// The page, with the form filled with `typed` and `error` above it.
fn render(
    state: &PanelState,
    user: &Principal,
    lang: Lang,
    typed: &Typed,
    error: Option<&ActionError>,
) -> Result<Html<String>, ApiError> {
    let list = state.store.programmes()?;
    let approvals = state.store.approvals()?;
    let playlists = state.store.playlists()?;
    let campaigns = state.store.campaigns()?;
    let tz = state.config.station.time_zone;
    let now = state.clock.now();
    let mut body = format!(
        "<h2>{}</h2><div class=\"scroll\"><table class=\"stack\">",
        lang.t("programmes")
    );
    if let Some(e) = error {
        let _ = write!(
            body,
            "<p class=\"alert\" role=\"alert\">{}: {}</p>",
            lang.t("not saved"),
            esc(&e.words(lang))
        );
    }
    for p in &list {
        // The next firing as the engine will see it: the campaign's and own dates apply.
        let next = Station {
            programmes: std::slice::from_ref(p),
            campaigns: &campaigns,
            rules: &state.config.schedule.rules,
            tz,
            approval_required: state.config.station.approval_required,
        }
        .next_instant(now)
        .map(|t| t.with_timezone(&tz).format("%d/%m %H:%M").to_string())
        .unwrap_or_default();
        let playlist = playlists.iter().find(|x| x.id == p.playlist);
        let approval = approvals.get(&p.id);
        let state_word = match approval.map(|a| a.state) {
            Some(ApprovalState::Approved) => lang.t("approved").to_owned(),
            Some(ApprovalState::NeedsReapproval) => format!(
                "<strong class=\"warn\" title=\"{}\">{}</strong>",
                lang.t("reapproval why"),
                lang.t("needs reapproval")
            ),
            _ => lang.t("not approved").to_owned(),
        };
        let _ = write!(
            body,
            "<tr data-programme=\"{}\"><td><strong>{}</strong><br><span class=\"muted\">{} · {}</span></td>\
             <td><code>{}</code><br><span class=\"muted\">→ {}</span></td><td>{}{}</td><td>",
            p.id,
            esc(&p.name),
            esc(playlist.map_or("", |x| x.name.as_str())),
            lang.priority(p.priority),
            esc(p.cron.as_str()),
            esc(&next),
            state_word,
            if p.enabled { "" } else { " · off" },
        );
        if let (Some(a), false) = (approval, p.approved) {
            if user.role >= Role::Approver {
                if let Some(pl) = playlist {
                    body.push_str(&clip_list(state, lang, pl));
                }
                let _ = write!(
                    body,
                    "<form class=\"inline\" method=\"post\" action=\"/programmes/{}/approve\">{}\
                     <input type=\"hidden\" name=\"content\" value=\"{}\">\
                     <button type=\"submit\">{}</button></form> ",
                    p.id,
                    csrf_field(user),
                    esc(&a.content),
                    lang.t("approve")
                );
            }
        }
        if user.role >= Role::Editor {
            let _ = write!(
                body,
                "<form class=\"inline\" method=\"post\" action=\"/programmes/{}/delete\" data-confirm=\"{}?\">{}\
                 <button type=\"submit\" class=\"danger\">{}</button></form>",
                p.id,
                lang.t("delete"),
                csrf_field(user),
                lang.t("delete")
            );
        }
        body.push_str("</td></tr>");
    }
    body.push_str("</table></div>");
    if user.role >= Role::Editor {
        body.push_str(&programme_form(lang, user, &playlists, &campaigns, typed));
    }
    Ok(page(
        lang,
        Some(user),
        lang.t("programmes"),
        "/programmes",
        &body,
    ))
}

fn selected(on: bool) -> &'static str {
    if on { " selected" } else { "" }
}

fn programme_form(
    lang: Lang,
    user: &Principal,
    playlists: &[Playlist],
    campaigns: &[Campaign],
    typed: &Typed,
) -> String {
    let mut f = format!(
        "<h2>{}</h2><form id=\"programme-form\" method=\"post\" action=\"/programmes\">{}\
         <label for=\"pr-name\">{}</label><input id=\"pr-name\" name=\"name\" value=\"{}\" required>\
         <label for=\"pr-playlist\">{}</label><select id=\"pr-playlist\" name=\"playlist\" required>",
        lang.t("new programme"),
        csrf_field(user),
        lang.t("name"),
        esc(typed.get("name")),
        lang.t("playlist"),
    );
    for p in playlists {
        let _ = write!(
            f,
            "<option value=\"{}\"{}>{}</option>",
            p.id,
            selected(typed.get("playlist") == p.id.to_string()),
            esc(&p.name)
        );
    }
    let _ = write!(
        f,
        "</select><label for=\"pr-campaign\">{}</label><select id=\"pr-campaign\" name=\"campaign\"><option value=\"\">—</option>",
        lang.t("campaign")
    );
    for c in campaigns {
        let _ = write!(
            f,
            "<option value=\"{}\"{}>{}</option>",
            c.id,
            selected(typed.get("campaign") == c.id.to_string()),
            esc(&c.name)
        );
    }
    let _ = write!(
        f,
        "</select><fieldset><legend>{when}</legend>\
         <label for=\"preset\">{presets}</label><select id=\"preset\"><option value=\"\">—</option>\
         <option value=\"06:00, 17:00|*\">{daily}</option>\
         <option value=\"06:30|1,2,3,4,5\">{weekdays_p}</option>\
         <option value=\"05:30|*\">{morning}</option></select>\
         <label>{weekdays}</label><div class=\"weekdays\">",
        when = lang.t("when"),
        presets = lang.t("presets"),
        daily = lang.t("preset daily"),
        weekdays_p = lang.t("preset weekdays"),
        morning = lang.t("preset morning"),
        weekdays = lang.t("weekdays"),
    );
    for d in [1, 2, 3, 4, 5, 6, 0] {
        let key = ["day0", "day1", "day2", "day3", "day4", "day5", "day6"][d];
        let _ = write!(
            f,
            "<label><input type=\"checkbox\" value=\"{d}\" checked> {}</label>",
            lang.t(key)
        );
    }
    let _ = write!(
        f,
        "</div><label for=\"times\">{times}</label><input id=\"times\" value=\"06:00, 17:00\" inputmode=\"numeric\">\
         <label for=\"cron\">{cron}</label><input id=\"cron\" name=\"cron\" value=\"{cron_value}\" required autocomplete=\"off\">\
         <p id=\"cron-problem\" class=\"skip\" role=\"status\"></p>\
         <p class=\"muted\">{next}:</p><ol id=\"preview\" class=\"preview\" data-air=\"{air}\" \
         data-skip=\"{skip}\" data-breaks=\"{breaks}\"></ol></fieldset>\
         <label for=\"pr-priority\">{priority}</label><select id=\"pr-priority\" name=\"priority\">\
         <option value=\"normal\">{normal}</option><option value=\"priority\"{high_selected}>{high}</option></select>\
         <label for=\"pr-repeat\">{repeat}</label><input id=\"pr-repeat\" name=\"repeat\" type=\"number\" min=\"1\" max=\"20\" value=\"{repeat_value}\">\
         <label><input type=\"checkbox\" name=\"chime\" value=\"on\"{chime_checked}> {chime}</label>\
         <p id=\"rule-warning\" class=\"warn\" role=\"alert\" data-again=\"{again}\" hidden>{warning}</p>\
         <p><button type=\"submit\">{save}</button></p></form>",
        air = lang.t("would air"),
        skip = lang.t("would skip"),
        breaks = lang.t("would break"),
        warning = lang.t("skip warning"),
        again = lang.t("save anyway"),
        times = lang.t("times"),
        cron = lang.t("cron"),
        cron_value = esc(typed.get("cron")),
        next = lang.t("next ten"),
        priority = lang.t("priority"),
        normal = lang.t("normal"),
        high = lang.t("priority-high"),
        high_selected = selected(typed.get("priority") == "priority"),
        save = lang.t("save"),
        repeat = lang.t("repeat"),
        repeat_value = esc(typed.get("repeat")),
        chime = lang.t("chime"),
        chime_checked = if typed.get("chime") == "on" {
            " checked"
        } else {
            ""
        },
    );
    f
}

/// Answers a form: back to the list when it worked; the page again, with the reason and
/// the typed values and the error's status, when it did not.
fn answer<T>(
    state: &PanelState,
    user: &Principal,
    lang: Lang,
    typed: &Typed,
    result: Result<T, ActionError>,
) -> Result<Response, ApiError> {
    match result {
        Ok(_) => Ok(Redirect::to("/programmes").into_response()),
        Err(e) => {
            let html = render(state, user, lang, typed, Some(&e))?;
            Ok((e.status(), html).into_response())
        }
    }
}

/// `POST /programmes` (form, editor).
async fn create_programme(
    State(state): State<PanelState>,
    PageUser(user): PageUser,
    lang: Lang,
    Form(f): Form<Params>,
) -> Result<Response, ApiError> {
    let typed = Typed(f);
    let result = typed
        .input()
        .and_then(|input| actions::create_programme(&state, &user, &input));
    answer(&state, &user, lang, &typed, result)
}

/// `POST /programmes/{id}/delete` (form, editor).
async fn delete_programme(
    State(state): State<PanelState>,
    PageUser(user): PageUser,
    lang: Lang,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    let result = actions::delete_programme(&state, &user, ProgrammeId(id));
    answer(&state, &user, lang, &Typed::blank(), result)
}

/// `POST /programmes/{id}/approve` (form, approver): approves the content the page showed.
async fn approve_programme(
    State(state): State<PanelState>,
    PageUser(user): PageUser,
    lang: Lang,
    Path(id): Path<i64>,
    Form(f): Form<Params>,
) -> Result<Response, ApiError> {
    let seen = f.get("content").map(String::as_str);
    let result = actions::approve_programme(&state, &user, ProgrammeId(id), seen);
    answer(&state, &user, lang, &Typed::blank(), result)
}
