//! The users page (administrators only; others get a 403 page): every account with its
//! role, and forms to create a user, change a role, reset a password and remove a user.
//! The forms carry the CSRF token like every other form and call the same functions as
//! the account API (`account_api`), so the rules (no changing one's own role, no removing
//! oneself, the password length) live in one place. A refused change shows the page again
//! with the reason.

use std::collections::HashMap;
use std::fmt::Write;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};

use super::account_api::{change, remove, save_user};
use super::auth::{PageUser, Principal};
use super::body::Path;
use super::i18n::Lang;
use super::pages::{csrf_field, esc, page};
use super::{ApiError, PanelState};
use crate::accounts::MIN_PASSWORD_CHARS;
use crate::store::Role;

type Params = HashMap<String, String>;

const ROLES: [Role; 4] = [Role::Viewer, Role::Editor, Role::Approver, Role::Admin];

/// The users page routes.
pub(super) fn routes() -> Router<PanelState> {
    Router::new()
        .route("/users", get(users).post(create))
        .route("/users/{id}/role", post(set_role))
        .route("/users/{id}/password", post(set_password))
        .route("/users/{id}/delete", post(delete))
}

/// `GET /users` (admin).
async fn users(
    State(state): State<PanelState>,
    PageUser(user): PageUser,
    lang: Lang,
    Query(q): Query<Params>,
) -> Response {
    let note = q
        .contains_key("saved")
        .then(|| ("ok", lang.t("saved").to_owned()));
    render(&state, &user, lang, StatusCode::OK, note)
}

/// `POST /users` (form, admin): creates a user; an existing name is refused here (the API
/// resets it instead), so a typo cannot overwrite someone's password.
async fn create(
    State(state): State<PanelState>,
    PageUser(user): PageUser,
    lang: Lang,
    Form(f): Form<Params>,
) -> Response {
    let get = |k: &str| f.get(k).map_or("", |v| v.trim());
    let name = get("name");
    let result = match state.store.user_with_hash(name) {
        Err(e) => Err(ApiError::from(e)),
        Ok(Some(_)) if user.role >= Role::Admin => Err(ApiError::new(
            StatusCode::CONFLICT,
            "conflict",
            lang.t("user exists").to_owned(),
        )),
        Ok(_) => match parse_role(get("role")) {
            Ok(role) => save_user(&state, &user, name, role, get("password"))
                .await
                .map(drop),
            Err(e) => Err(e),
        },
    };
    done(&state, &user, lang, result)
}

/// `POST /users/{id}/role` (form, admin).
async fn set_role(
    State(state): State<PanelState>,
    PageUser(user): PageUser,
    lang: Lang,
    Path(id): Path<i64>,
    Form(f): Form<Params>,
) -> Response {
    let role = parse_role(f.get("role").map_or("", String::as_str));
    let result = match role {
        Ok(role) => change(&state, &user, id, Some(role), None).await.map(drop),
        Err(e) => Err(e),
    };
    done(&state, &user, lang, result)
}

/// `POST /users/{id}/password` (form, admin).
async fn set_password(
    State(state): State<PanelState>,
    PageUser(user): PageUser,
    lang: Lang,
    Path(id): Path<i64>,
    Form(f): Form<Params>,
) -> Response {
    let password = f.get("password").map_or("", String::as_str);
    let result = change(&state, &user, id, None, Some(password))
        .await
        .map(drop);
    done(&state, &user, lang, result)
}

/// `POST /users/{id}/delete` (form, admin).
async fn delete(
    State(state): State<PanelState>,
    PageUser(user): PageUser,
    lang: Lang,
    Path(id): Path<i64>,
) -> Response {
    let result = remove(&state, &user, id).map(drop);
    done(&state, &user, lang, result)
}

fn parse_role(text: &str) -> Result<Role, ApiError> {
    Role::parse(text).ok_or_else(|| {
        ApiError::unprocessable(format!(
            "role must be viewer, editor, approver or admin, not {text:?}"
        ))
    })
}

/// After a change: back to the list, or the page again with the reason.
fn done(
    state: &PanelState,
    user: &Principal,
    lang: Lang,
    result: Result<(), ApiError>,
) -> Response {
    match result {
        Ok(()) => Redirect::to("/users?saved=1").into_response(),
        Err(e) => {
            let status = e.status;
            render(state, user, lang, status, Some(("alert", e.message)))
        }
    }
}

pub(super) fn role_word(lang: Lang, role: Role) -> &'static str {
    match role {
        Role::Viewer => lang.t("role viewer"),
        Role::Editor => lang.t("role editor"),
        Role::Approver => lang.t("role approver"),
        Role::Admin => lang.t("role admin"),
    }
}

fn role_options(lang: Lang, selected: Role) -> String {
    ROLES
        .iter()
        .map(|r| {
            format!(
                "<option value=\"{}\"{}>{}</option>",
                r.as_str(),
                if *r == selected { " selected" } else { "" },
                role_word(lang, *r)
            )
        })
        .collect()
}

/// The page, or the 403 page for non-admins.
fn render(
    state: &PanelState,
    user: &Principal,
    lang: Lang,
    status: StatusCode,
    note: Option<(&str, String)>,
) -> Response {
    if user.role < Role::Admin {
        let body = format!(
            "<h2>{}</h2><p class=\"alert\">{}</p>",
            lang.t("forbidden"),
            lang.t("admins only")
        );
        let html = page(lang, Some(user), lang.t("forbidden"), "", &body);
        return (StatusCode::FORBIDDEN, html).into_response();
    }
    let list = match state.store.users() {
        Ok(l) => l,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let mut body = format!("<h2>{}</h2>", lang.t("users"));
    if let Some((class, text)) = note {
        let _ = write!(
            body,
            "<p class=\"{class}\" role=\"status\" id=\"users-note\">{}</p>",
            esc(&text)
        );
    }
    let csrf = csrf_field(user);
    let tz = state.config.station.time_zone;
    body.push_str("<div class=\"user-list\">");
    for u in &list {
        let me = !user.via_token && u.name.eq_ignore_ascii_case(&user.name);
        let _ = write!(
            body,
            "<article class=\"card user\" data-user=\"{name}\"><h3>{name}{you}</h3>\
             <p class=\"muted\">{role} · {created} {date}</p>",
            name = esc(&u.name),
            you = if me {
                format!(" <span class=\"muted\">({})</span>", lang.t("you"))
            } else {
                String::new()
            },
            role = role_word(lang, u.role),
            created = lang.t("created"),
            date = u.created_at.with_timezone(&tz).format("%d/%m/%Y"),
        );
        if !me {
            let _ = write!(
                body,
                "<form class=\"row\" method=\"post\" action=\"/users/{id}/role\">{csrf}\
                 <label for=\"role-{id}\">{change}</label><span class=\"pair\">\
                 <select id=\"role-{id}\" name=\"role\">{options}</select>\
                 <button type=\"submit\" class=\"secondary\">{change}</button></span></form>",
                id = u.id,
                change = lang.t("change role"),
                options = role_options(lang, u.role),
            );
        }
        let _ = write!(
            body,
            "<form class=\"row\" method=\"post\" action=\"/users/{id}/password\">{csrf}\
             <label for=\"pw-{id}\">{reset}</label><span class=\"pair\">\
             <input id=\"pw-{id}\" name=\"password\" type=\"password\" minlength=\"{min}\" \
             autocomplete=\"new-password\" required placeholder=\"{new}\">\
             <button type=\"submit\" class=\"secondary\">{reset}</button></span></form>",
            id = u.id,
            reset = lang.t("reset password"),
            new = lang.t("new password"),
            min = MIN_PASSWORD_CHARS,
        );
        if !me {
            let _ = write!(
                body,
                "<form class=\"row\" method=\"post\" action=\"/users/{id}/delete\" \
                 data-confirm=\"{remove} {name}?\">{csrf}\
                 <button type=\"submit\" class=\"danger\">{remove}</button></form>",
                id = u.id,
                remove = lang.t("remove user"),
                name = esc(&u.name),
            );
        }
        body.push_str("</article>");
    }
    let _ = write!(
        body,
        "</div><h2>{new_user}</h2><form id=\"new-user\" method=\"post\" action=\"/users\">{csrf}\
         <label for=\"u-name\">{user_word}</label>\
         <input id=\"u-name\" name=\"name\" autocomplete=\"off\" required>\
         <label for=\"u-role\">{role_word}</label><select id=\"u-role\" name=\"role\">{options}</select>\
         <label for=\"u-password\">{password}</label>\
         <input id=\"u-password\" name=\"password\" type=\"password\" minlength=\"{min}\" \
         autocomplete=\"new-password\" required>\
         <p><button type=\"submit\">{create}</button></p></form>",
        new_user = lang.t("new user"),
        user_word = lang.t("user"),
        role_word = lang.t("role"),
        options = role_options(lang, Role::Editor),
        password = lang.t("password"),
        min = MIN_PASSWORD_CHARS,
        create = lang.t("create"),
    );
    (
        status,
        page(lang, Some(user), lang.t("users"), "/users", &body),
    )
        .into_response()
}
