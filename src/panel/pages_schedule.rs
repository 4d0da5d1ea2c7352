//! The campaign page: the campaigns with the new-campaign form (through `actions`, like
//! the API; a refused form comes back with the typed values and the reason in the page).
//! The programmes page is `pages_programmes`, the week calendar `pages_week`.

use std::collections::HashMap;
use std::fmt::Write;

use axum::extract::State;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use chrono::NaiveDate;

use super::actions::{self, ActionError, CampaignInput, Problem};
use super::auth::{PageUser, Principal};
use super::i18n::Lang;
use super::pages::{csrf_field, esc, page};
use super::{ApiError, PanelState};
use crate::model::DateRange;
use crate::store::Role;

type Params = HashMap<String, String>;

/// The campaign page routes.
pub(super) fn routes() -> Router<PanelState> {
    Router::new().route("/campaigns", get(campaigns).post(create_campaign))
}

/// `GET /campaigns`.
async fn campaigns(
    State(state): State<PanelState>,
    PageUser(user): PageUser,
    lang: Lang,
) -> Result<Html<String>, ApiError> {
    render_campaigns(&state, &user, lang, &Params::new(), None)
}

/// The campaigns page, with the form filled with `typed` and `error` above it.
fn render_campaigns(
    state: &PanelState,
    user: &Principal,
    lang: Lang,
    typed: &Params,
    error: Option<&ActionError>,
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
        let typed = |k: &str| esc(typed.get(k).map_or("", String::as_str));
        let _ = write!(body, "<h2>{}</h2>", lang.t("new campaign"));
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
            "<form method=\"post\" action=\"/campaigns\">{}\
             <label for=\"c-name\">{}</label><input id=\"c-name\" name=\"name\" value=\"{}\" required>\
             <label for=\"c-theme\">{}</label><input id=\"c-theme\" name=\"theme\" value=\"{}\">\
             <label for=\"c-start\">{}</label><input id=\"c-start\" name=\"start\" type=\"date\" value=\"{}\" required>\
             <label for=\"c-end\">{}</label><input id=\"c-end\" name=\"end\" type=\"date\" value=\"{}\" required>\
             <p><button type=\"submit\">{}</button></p></form>",
            csrf_field(user),
            lang.t("name"),
            typed("name"),
            lang.t("theme"),
            typed("theme"),
            lang.t("start"),
            typed("start"),
            lang.t("end"),
            typed("end"),
            lang.t("create"),
        );
    }
    Ok(page(
        lang,
        Some(user),
        lang.t("campaigns"),
        "/campaigns",
        &body,
    ))
}

/// The campaign a form describes; a date it cannot read is refused like a bad one.
fn campaign_input(f: &Params) -> Result<CampaignInput, ActionError> {
    let date = |k: &'static str| {
        NaiveDate::parse_from_str(f.get(k).map_or("", |v| v.trim()), "%Y-%m-%d")
            .map_err(|_| ActionError::Invalid(Problem::Date(k)))
    };
    Ok(CampaignInput {
        name: f.get("name").cloned().unwrap_or_default(),
        theme: f.get("theme").cloned().unwrap_or_default(),
        dates: DateRange {
            start: date("start")?,
            end: date("end")?,
        },
    })
}

/// `POST /campaigns` (form, editor).
async fn create_campaign(
    State(state): State<PanelState>,
    PageUser(user): PageUser,
    lang: Lang,
    Form(f): Form<Params>,
) -> Result<Response, ApiError> {
    let result = campaign_input(&f).and_then(|c| actions::create_campaign(&state, &user, &c));
    match result {
        Ok(_) => Ok(Redirect::to("/campaigns").into_response()),
        Err(e) => {
            let html = render_campaigns(&state, &user, lang, &f, Some(&e))?;
            Ok((e.status(), html).into_response())
        }
    }
}
