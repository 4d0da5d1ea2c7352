//! The login, logout and first-administrator pages. The first administrator can be created
//! here only while no user exists and only from the box itself (loopback); otherwise the
//! page says to use `loa passwd NAME`. There is never a default password.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};

use super::PanelState;
use super::auth::{self, Limiter, LoginError, Peer, Principal};
use super::i18n::Lang;
use super::pages::{esc, page};
use crate::accounts;

type Params = HashMap<String, String>;

/// `GET /login`.
pub(super) async fn page_get(
    State(state): State<PanelState>,
    user: Option<Extension<Principal>>,
    headers: HeaderMap,
    Query(q): Query<Params>,
) -> Response {
    if user.is_some() {
        return Redirect::to("/").into_response();
    }
    if state.store.user_count().unwrap_or(1) == 0 {
        return Redirect::to("/setup").into_response();
    }
    let lang = Lang::of(q.get("lang").map(String::as_str), &headers);
    form(lang, None).into_response()
}

fn form(lang: Lang, error: Option<&str>) -> axum::response::Html<String> {
    let error = error.map_or_else(String::new, |e| {
        format!("<p class=\"alert\">{}</p>", esc(e))
    });
    let body = format!(
        "<h2>{login}</h2>{error}<form method=\"post\" action=\"/login\">\
         <label for=\"name\">{user}</label><input id=\"name\" name=\"name\" autocomplete=\"username\" required autofocus>\
         <label for=\"password\">{pw}</label><input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required>\
         <p><button type=\"submit\">{login}</button></p></form>",
        login = lang.t("login"),
        user = lang.t("user"),
        pw = lang.t("password"),
    );
    page(lang, None, lang.t("login"), "", &body)
}

/// `POST /login` (form): sets the session cookie and goes to the dashboard.
pub(super) async fn submit(
    State(state): State<PanelState>,
    Extension(limiter): Extension<Limiter>,
    Extension(peer): Extension<Peer>,
    headers: HeaderMap,
    Form(f): Form<Params>,
) -> Response {
    let lang = Lang::of(None, &headers);
    let name = f.get("name").map_or("", String::as_str);
    let password = f.get("password").map_or("", String::as_str);
    match auth::login(&state, &limiter, peer, &headers, name, password).await {
        Ok(s) => ([(header::SET_COOKIE, s.cookie)], Redirect::to("/")).into_response(),
        Err(LoginError::Limited(_)) => (
            axum::http::StatusCode::TOO_MANY_REQUESTS,
            form(lang, Some(lang.t("rate limited"))),
        )
            .into_response(),
        Err(LoginError::Wrong) => (
            axum::http::StatusCode::UNAUTHORIZED,
            form(lang, Some(lang.t("wrong login"))),
        )
            .into_response(),
        Err(LoginError::Internal(m)) => {
            tracing::error!(error = %m, "login failed");
            super::ApiError::internal().into_response()
        }
    }
}

/// `POST /logout` (form with CSRF field).
pub(super) async fn logout(
    State(state): State<PanelState>,
    user: Option<Extension<Principal>>,
    headers: HeaderMap,
) -> Response {
    if let Some(Extension(p)) = user {
        if let Some(hash) = &p.session {
            let _ = state.store.delete_session(hash);
        }
    }
    (
        [(header::SET_COOKIE, auth::cookie(&headers, "", 0))],
        Redirect::to("/login"),
    )
        .into_response()
}

/// `GET /setup`: the first-administrator form (loopback only, while no user exists).
pub(super) async fn setup_page(
    State(state): State<PanelState>,
    Extension(peer): Extension<Peer>,
    headers: HeaderMap,
    Query(q): Query<Params>,
) -> Response {
    let lang = Lang::of(q.get("lang").map(String::as_str), &headers);
    if state.store.user_count().unwrap_or(1) > 0 {
        return Redirect::to("/login").into_response();
    }
    setup_form(lang, peer, None).into_response()
}

fn setup_form(lang: Lang, peer: Peer, error: Option<&str>) -> axum::response::Html<String> {
    if !peer.is_loopback() {
        let body = format!(
            "<h2>{}</h2><p class=\"alert\">{}</p>",
            lang.t("setup title"),
            lang.t("setup remote")
        );
        return page(lang, None, lang.t("setup title"), "", &body);
    }
    let error = error.map_or_else(String::new, |e| {
        format!("<p class=\"alert\">{}</p>", esc(e))
    });
    let body = format!(
        "<h2>{title}</h2>{error}<form method=\"post\" action=\"/setup\">\
         <label for=\"name\">{user}</label><input id=\"name\" name=\"name\" autocomplete=\"username\" required autofocus>\
         <label for=\"password\">{pw}</label><input id=\"password\" name=\"password\" type=\"password\" minlength=\"{min}\" autocomplete=\"new-password\" required>\
         <label for=\"password2\">{pw2}</label><input id=\"password2\" name=\"password2\" type=\"password\" minlength=\"{min}\" autocomplete=\"new-password\" required>\
         <p><button type=\"submit\">{create}</button></p></form>",
        title = lang.t("setup title"),
        user = lang.t("user"),
        pw = lang.t("password"),
        pw2 = lang.t("password again"),
        create = lang.t("create"),
        min = accounts::MIN_PASSWORD_CHARS,
    );
    page(lang, None, lang.t("setup title"), "", &body)
}

/// `POST /setup`: creates the first administrator and logs them in.
pub(super) async fn setup_submit(
    State(state): State<PanelState>,
    Extension(peer): Extension<Peer>,
    headers: HeaderMap,
    Form(f): Form<Params>,
) -> Response {
    let lang = Lang::of(None, &headers);
    if state.store.user_count().unwrap_or(1) > 0 {
        return Redirect::to("/login").into_response();
    }
    if !peer.is_loopback() {
        return (
            axum::http::StatusCode::FORBIDDEN,
            setup_form(lang, peer, None),
        )
            .into_response();
    }
    let name = f.get("name").cloned().unwrap_or_default();
    let password = f.get("password").cloned().unwrap_or_default();
    if Some(&password) != f.get("password2") {
        return setup_form(lang, peer, Some(lang.t("passwords differ"))).into_response();
    }
    let hashed = tokio::task::spawn_blocking(move || accounts::hash_password(&password)).await;
    let hash = match hashed {
        Ok(Ok(h)) => h,
        Ok(Err(e)) => return setup_form(lang, peer, Some(&e.to_string())).into_response(),
        Err(_) => return super::ApiError::internal().into_response(),
    };
    let user = match state
        .store
        .create_first_user(&name, &hash, state.clock.now())
    {
        Ok(Some(u)) => u,
        Ok(None) => return Redirect::to("/login").into_response(),
        Err(e) => return setup_form(lang, peer, Some(&e.to_string())).into_response(),
    };
    let _ = state.store.audit(
        state.clock.now(),
        &user.name,
        "user.first_admin",
        &format!("user {}", user.id),
        "created from the box itself",
    );
    match auth::start_session(&state, &headers, user) {
        Ok(s) => ([(header::SET_COOKIE, s.cookie)], Redirect::to("/")).into_response(),
        Err(_) => Redirect::to("/login").into_response(),
    }
}
