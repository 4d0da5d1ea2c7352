//! Programme and campaign pages: the programme list (each with its next firing as
//! `schedule::Station` computes it, campaign dates applied) and form with the schedule
//! helper (presets, weekday picker, raw cron; `static/app.js` previews the next ten times
//! within the chosen campaign's dates, with the station rules' verdict, through
//! `/api/programmes/preview` and asks for a second press before saving times the rules
//! would skip), and campaigns. The week calendar is `pages_week`.

use std::collections::HashMap;
use std::fmt::Write;
use std::time::Duration;

use axum::extract::State;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use chrono::NaiveDate;

use super::auth::PageUser;
use super::body::Path;
use super::i18n::Lang;
use super::pages::{csrf_field, esc, page};
use super::{ApiError, PanelState, audit};
use crate::cron::CronExpr;
use crate::model::{CampaignId, ClashRule, DateRange, PlaylistId, Priority, ProgrammeId};
use crate::schedule::Station;
use crate::store::{NewCampaign, NewProgramme, Role};

type Params = HashMap<String, String>;

/// The programme, campaign and schedule page routes.
pub(super) fn routes() -> Router<PanelState> {
    Router::new()
        .route("/programmes", get(programmes).post(create_programme))
        .route("/programmes/{id}/delete", post(delete_programme))
        .route("/programmes/{id}/approve", post(approve_programme))
        .route("/campaigns", get(campaigns).post(create_campaign))
}

/// `GET /programmes`.
async fn programmes(
    State(state): State<PanelState>,
    PageUser(user): PageUser,
    lang: Lang,
) -> Result<Html<String>, ApiError> {
    let list = state.store.programmes()?;
    let playlists = state.store.playlists()?;
    let campaigns = state.store.campaigns()?;
    let tz = state.config.station.time_zone;
    let now = state.clock.now();
    let mut body = format!(
        "<h2>{}</h2><div class=\"scroll\"><table class=\"stack\">",
        lang.t("programmes")
    );
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
        let playlist = playlists
            .iter()
            .find(|x| x.id == p.playlist)
            .map_or("", |x| x.name.as_str());
        let approval = if p.approved {
            lang.t("approved")
        } else {
            lang.t("not approved")
        };
        let _ = write!(
            body,
            "<tr><td><strong>{}</strong><br><span class=\"muted\">{} · {}</span></td>\
             <td><code>{}</code><br><span class=\"muted\">→ {}</span></td><td>{}{}</td><td>",
            esc(&p.name),
            esc(playlist),
            lang.priority(p.priority),
            esc(p.cron.as_str()),
            esc(&next),
            approval,
            if p.enabled { "" } else { " · off" },
        );
        if !p.approved && user.role >= Role::Approver {
            let _ = write!(
                body,
                "<form class=\"inline\" method=\"post\" action=\"/programmes/{}/approve\">{}\
                 <button type=\"submit\">{}</button></form> ",
                p.id,
                csrf_field(&user),
                lang.t("approve")
            );
        }
        if user.role >= Role::Editor {
            let _ = write!(
                body,
                "<form class=\"inline\" method=\"post\" action=\"/programmes/{}/delete\" data-confirm=\"{}?\">{}\
                 <button type=\"submit\" class=\"danger\">{}</button></form>",
                p.id,
                lang.t("delete"),
                csrf_field(&user),
                lang.t("delete")
            );
        }
        body.push_str("</td></tr>");
    }
    body.push_str("</table></div>");
    if user.role >= Role::Editor {
        body.push_str(&programme_form(lang, &user, &playlists, &campaigns));
    }
    Ok(page(
        lang,
        Some(&user),
        lang.t("programmes"),
        "/programmes",
        &body,
    ))
}

fn programme_form(
    lang: Lang,
    user: &super::auth::Principal,
    playlists: &[crate::model::Playlist],
    campaigns: &[crate::model::Campaign],
) -> String {
    let mut f = format!(
        "<h2>{}</h2><form id=\"programme-form\" method=\"post\" action=\"/programmes\">{}\
         <label for=\"pr-name\">{}</label><input id=\"pr-name\" name=\"name\" required>\
         <label for=\"pr-playlist\">{}</label><select id=\"pr-playlist\" name=\"playlist\" required>",
        lang.t("new programme"),
        csrf_field(user),
        lang.t("name"),
        lang.t("playlist"),
    );
    for p in playlists {
        let _ = write!(f, "<option value=\"{}\">{}</option>", p.id, esc(&p.name));
    }
    let _ = write!(
        f,
        "</select><label for=\"pr-campaign\">{}</label><select id=\"pr-campaign\" name=\"campaign\"><option value=\"\">—</option>",
        lang.t("campaign")
    );
    for c in campaigns {
        let _ = write!(f, "<option value=\"{}\">{}</option>", c.id, esc(&c.name));
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
         <label for=\"cron\">{cron}</label><input id=\"cron\" name=\"cron\" value=\"0 6,17 * * *\" required autocomplete=\"off\">\
         <p id=\"cron-problem\" class=\"skip\" role=\"status\"></p>\
         <p class=\"muted\">{next}:</p><ol id=\"preview\" class=\"preview\" data-air=\"{air}\" \
         data-skip=\"{skip}\" data-breaks=\"{breaks}\"></ol></fieldset>\
         <label for=\"pr-priority\">{priority}</label><select id=\"pr-priority\" name=\"priority\">\
         <option value=\"normal\">{normal}</option><option value=\"priority\">{high}</option></select>\
         <label for=\"pr-repeat\">{repeat}</label><input id=\"pr-repeat\" name=\"repeat\" type=\"number\" min=\"1\" max=\"20\" value=\"1\">\
         <label><input type=\"checkbox\" name=\"chime\" value=\"on\" checked> {chime}</label>\
         <p id=\"rule-warning\" class=\"warn\" role=\"alert\" data-again=\"{again}\" hidden>{warning}</p>\
         <p><button type=\"submit\">{save}</button></p></form>",
        air = lang.t("would air"),
        skip = lang.t("would skip"),
        breaks = lang.t("would break"),
        warning = lang.t("skip warning"),
        again = lang.t("save anyway"),
        times = lang.t("times"),
        cron = lang.t("cron"),
        next = lang.t("next ten"),
        priority = lang.t("priority"),
        normal = lang.t("normal"),
        high = lang.t("priority-high"),
        save = lang.t("save"),
        repeat = lang.t("repeat"),
        chime = lang.t("chime"),
    );
    f
}

/// `POST /programmes` (form, editor).
async fn create_programme(
    State(state): State<PanelState>,
    PageUser(user): PageUser,
    Form(f): Form<Params>,
) -> Result<Response, ApiError> {
    user.require(Role::Editor)?;
    let get = |k: &str| f.get(k).map_or("", |v| v.trim());
    let cron = CronExpr::parse(get("cron"))
        .map_err(|e| ApiError::unprocessable(format!("cron expression: {e}")))?;
    let playlist = get("playlist")
        .parse()
        .map_err(|_| ApiError::unprocessable("choose a playlist"))?;
    let campaign = match get("campaign") {
        "" => None,
        c => Some(CampaignId(
            c.parse()
                .map_err(|_| ApiError::bad_request("bad campaign"))?,
        )),
    };
    let priority = match get("priority") {
        "priority" => Priority::Priority,
        _ => Priority::Normal,
    };
    let repeat: u32 = get("repeat").parse().unwrap_or(1).clamp(1, 20);
    let approved = !state.config.station.approval_required || user.role >= Role::Approver;
    let p = state.store.create_programme(&NewProgramme {
        name: get("name").to_owned(),
        cron,
        playlist: PlaylistId(playlist),
        campaign,
        dates: None,
        priority,
        clash: ClashRule::Queue {
            max_wait: Duration::from_secs(600),
        },
        repeat,
        repeat_pause: Duration::from_secs(5),
        chime: get("chime") == "on",
        enabled: true,
        approved,
    })?;
    audit(
        &state,
        &user,
        "programme.create",
        format!("programme {}", p.id),
        format!("{} [{}]", p.name, p.cron),
    );
    Ok(Redirect::to("/programmes").into_response())
}

/// `POST /programmes/{id}/delete` (form, editor).
async fn delete_programme(
    State(state): State<PanelState>,
    PageUser(user): PageUser,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    user.require(Role::Editor)?;
    state.store.delete_programme(ProgrammeId(id))?;
    audit(
        &state,
        &user,
        "programme.delete",
        format!("programme {id}"),
        String::new(),
    );
    Ok(Redirect::to("/programmes").into_response())
}

/// `POST /programmes/{id}/approve` (form, approver).
async fn approve_programme(
    State(state): State<PanelState>,
    PageUser(user): PageUser,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    user.require(Role::Approver)?;
    let p = state.store.set_programme_approved(ProgrammeId(id), true)?;
    audit(
        &state,
        &user,
        "programme.approve",
        format!("programme {id}"),
        p.name,
    );
    Ok(Redirect::to("/programmes").into_response())
}

/// `GET /campaigns`.
async fn campaigns(
    State(state): State<PanelState>,
    PageUser(user): PageUser,
    lang: Lang,
) -> Result<Html<String>, ApiError> {
    let list = state.store.campaigns()?;
    let mut body = format!(
        "<h2>{}</h2><div class=\"scroll\"><table>",
        lang.t("campaigns")
    );
    for c in &list {
        let _ = write!(
            body,
            "<tr><td><strong>{}</strong><br><span class=\"muted\">{}</span></td><td>{} – {}</td>\
             <td><a href=\"/report/{}\">{}</a></td></tr>",
            esc(&c.name),
            esc(&c.theme),
            c.dates.start.format("%d/%m/%Y"),
            c.dates.end.format("%d/%m/%Y"),
            c.id,
            lang.t("report"),
        );
    }
    body.push_str("</table></div>");
    if user.role >= Role::Editor {
        let _ = write!(
            body,
            "<h2>{}</h2><form method=\"post\" action=\"/campaigns\">{}\
             <label for=\"c-name\">{}</label><input id=\"c-name\" name=\"name\" required>\
             <label for=\"c-theme\">{}</label><input id=\"c-theme\" name=\"theme\">\
             <label for=\"c-start\">{}</label><input id=\"c-start\" name=\"start\" type=\"date\" required>\
             <label for=\"c-end\">{}</label><input id=\"c-end\" name=\"end\" type=\"date\" required>\
             <p><button type=\"submit\">{}</button></p></form>",
            lang.t("new campaign"),
            csrf_field(&user),
            lang.t("name"),
            lang.t("theme"),
            lang.t("start"),
            lang.t("end"),
            lang.t("create"),
        );
    }
    Ok(page(
        lang,
        Some(&user),
        lang.t("campaigns"),
        "/campaigns",
        &body,
    ))
}

/// `POST /campaigns` (form, editor).
async fn create_campaign(
    State(state): State<PanelState>,
    PageUser(user): PageUser,
    Form(f): Form<Params>,
) -> Result<Response, ApiError> {
    user.require(Role::Editor)?;
    let date = |k: &str| {
        NaiveDate::parse_from_str(f.get(k).map_or("", String::as_str), "%Y-%m-%d")
            .map_err(|_| ApiError::unprocessable(format!("{k} date must be YYYY-MM-DD")))
    };
    let c = state.store.create_campaign(&NewCampaign {
        name: f.get("name").cloned().unwrap_or_default(),
        theme: f.get("theme").cloned().unwrap_or_default(),
        dates: DateRange {
            start: date("start")?,
            end: date("end")?,
        },
    })?;
    audit(
        &state,
        &user,
        "campaign.create",
        format!("campaign {}", c.id),
        c.name,
    );
    Ok(Redirect::to("/campaigns").into_response())
}
