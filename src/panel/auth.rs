//! Who is asking, and may they: bearer tokens from the config, session cookies, CSRF
//! tokens, the login rate limit, and the first-admin rule. It decides identity and role;
//! it does not render pages (see `pages`, `login`) or know what a route changes.
//!
//! - A request with `Authorization: Bearer TOKEN` is the token's automation, with the
//!   admin role; a wrong token is 401 at once. Token requests need no CSRF token.
//! - Otherwise the `loa_session` cookie (HttpOnly, SameSite=Strict, Secure behind an
//!   HTTPS proxy) names a session; the database keeps only the secret's SHA-256.
//! - Every state-changing request made with a session must carry the session's CSRF token,
//!   in the `X-CSRF-Token` header or a `csrf` form field; a request whose `Origin` is
//!   another host is refused whatever it carries.
//! - Five failed logins in fifteen minutes from one address, or for one name, block
//!   further tries from it until the oldest failure is fifteen minutes old.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};

use axum::body::Body;
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Duration, Utc};

use super::{ApiError, PanelState, constant_time_eq};
use crate::accounts;
use crate::store::{Role, User};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "loa_session";
/// How long a login lasts.
pub const SESSION_LIFETIME: Duration = Duration::hours(12);
/// Failed logins allowed per window, per address and per name.
const MAX_FAILURES: usize = 5;
/// The rate-limit window.
const FAILURE_WINDOW: Duration = Duration::minutes(15);
/// The largest form body read to find a CSRF field.
const MAX_FORM_BYTES: usize = 256 * 1024;

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub struct Principal {
    /// User name, or the token's name.
    pub name: String,
    /// What they may do.
    pub role: Role,
    /// The session's CSRF token (none for bearer tokens).
    pub csrf: Option<String>,
    /// Whether this is a config-file bearer token.
    pub via_token: bool,
    /// The session secret's hash (for logout).
    pub session: Option<String>,
}

impl Principal {
    /// The name written to the audit trail and the broadcast log.
    pub fn actor(&self) -> String {
        if self.via_token {
            format!("token:{}", self.name)
        } else {
            self.name.clone()
        }
    }

    /// Fails with 403 unless the caller has at least `role`.
    pub fn require(&self, role: Role) -> Result<(), ApiError> {
        if self.role >= role {
            Ok(())
        } else {
            Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                format!(
                    "this needs the {} role; {} has the {} role",
                    role.as_str(),
                    self.name,
                    self.role.as_str()
                ),
            ))
        }
    }
}

/// The client's address, when the server was started with connect info, whether the
/// request came through a proxy, and whether it names the box by a loopback name.
#[derive(Debug, Clone, Copy)]
pub struct Peer {
    /// The TCP peer's address.
    pub addr: Option<SocketAddr>,
    /// Whether the request carries a proxy header (`Forwarded`, `X-Forwarded-For`,
    /// `X-Real-IP`): the TCP peer is then a proxy, not the person.
    pub proxied: bool,
    /// Whether its `Host` is a loopback name (`localhost`, `127.x.x.x`, `[::1]`).
    pub host_is_loopback: bool,
}

impl Peer {
    /// The peer of a request with these headers, from its connection's address.
    pub fn new(addr: Option<SocketAddr>, headers: &HeaderMap) -> Peer {
        let proxied = ["forwarded", "x-forwarded-for", "x-real-ip"]
            .iter()
            .any(|h| headers.contains_key(*h));
        let host_is_loopback = headers
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .is_some_and(loopback_host);
        Peer {
            addr,
            proxied,
            host_is_loopback,
        }
    }

    /// Whether the request comes from the box itself. A reverse proxy on the same box
    /// connects from loopback for every visitor, so a proxied request never counts (its
    /// forwarding headers are not trusted either: anyone can send them). A request that
    /// names the box by another host name never counts either: a page from elsewhere whose
    /// name was pointed at 127.0.0.1 (DNS rebinding) reaches loopback from the box's own
    /// browser, but keeps its own name in `Host`.
    pub fn is_loopback(self) -> bool {
        !self.proxied && self.host_is_loopback && self.addr.is_some_and(|a| a.ip().is_loopback())
    }

    fn key(self) -> String {
        self.addr
            .map_or_else(|| "unknown".to_owned(), |a| format!("ip:{}", a.ip()))
    }
}

/// Counts failed logins per address and per name.
#[derive(Debug, Default)]
pub struct LoginLimiter {
    failures: Mutex<HashMap<String, VecDeque<DateTime<Utc>>>>,
}

impl LoginLimiter {
    /// How long the caller must wait, if any of `keys` is blocked at `now`.
    fn blocked(&self, keys: &[String], now: DateTime<Utc>) -> Option<Duration> {
        let mut map = self.failures.lock().unwrap_or_else(PoisonError::into_inner);
        keys.iter()
            .filter_map(|k| {
                let q = map.get_mut(k)?;
                while q.front().is_some_and(|t| *t + FAILURE_WINDOW <= now) {
                    q.pop_front();
                }
                if q.len() >= MAX_FAILURES {
                    q.front().map(|t| *t + FAILURE_WINDOW - now)
                } else {
                    None
                }
            })
            .max()
    }

    fn fail(&self, keys: &[String], now: DateTime<Utc>) {
        let mut map = self.failures.lock().unwrap_or_else(PoisonError::into_inner);
        for k in keys {
            map.entry(k.clone()).or_default().push_back(now);
        }
    }

    fn succeed(&self, keys: &[String]) {
        let mut map = self.failures.lock().unwrap_or_else(PoisonError::into_inner);
        for k in keys {
            map.remove(k);
        }
    }
}

/// Why a login did not work.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    /// Too many failures: wait this long.
    #[error("too many failed logins; try again in {} minutes", .0.num_minutes() + 1)]
    Limited(Duration),
    /// Wrong name or password (the same answer for both).
    #[error("wrong user name or password")]
    Wrong,
    /// Something broke.
    #[error("login failed: {0}")]
    Internal(String),
}

impl From<LoginError> for ApiError {
    fn from(e: LoginError) -> ApiError {
        match e {
            LoginError::Limited(_) => {
                ApiError::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", e.to_string())
            }
            LoginError::Wrong => {
                ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", e.to_string())
            }
            LoginError::Internal(m) => {
                tracing::error!(error = %m, "login failed");
                ApiError::internal()
            }
        }
    }
}

/// A fresh session: the cookie to set and the CSRF token.
pub struct NewSession {
    /// The user.
    pub user: User,
    /// `Set-Cookie` value.
    pub cookie: String,
    /// The session's CSRF token.
    pub csrf: String,
}

/// Checks a name and password (rate-limited) and opens a session.
pub async fn login(
    state: &PanelState,
    limiter: &LoginLimiter,
    peer: Peer,
    headers: &HeaderMap,
    name: &str,
    password: &str,
) -> Result<NewSession, LoginError> {
    let now = state.clock.now();
    let keys = [peer.key(), format!("user:{}", name.trim().to_lowercase())];
    if let Some(wait) = limiter.blocked(&keys, now) {
        return Err(LoginError::Limited(wait));
    }
    let found = state
        .store
        .user_with_hash(name)
        .map_err(|e| LoginError::Internal(e.to_string()))?;
    let password = password.to_owned();
    let (user, ok) = tokio::task::spawn_blocking(move || match found {
        Some((user, hash)) => {
            let ok = accounts::verify_password(&password, &hash);
            (Some(user), ok)
        }
        None => {
            // Same work for an unknown name, so timing does not reveal which names exist.
            let _ = accounts::verify_password(&password, DUMMY_HASH);
            (None, false)
        }
    })
    .await
    .map_err(|e| LoginError::Internal(e.to_string()))?;
    let Some(user) = user.filter(|_| ok) else {
        limiter.fail(&keys, now);
        tracing::warn!(name, peer = %keys[0], "failed login");
        return Err(LoginError::Wrong);
    };
    limiter.succeed(&keys);
    start_session(state, headers, user)
}

/// Opens a session for `user` (after a login or the first-admin setup).
pub fn start_session(
    state: &PanelState,
    headers: &HeaderMap,
    user: User,
) -> Result<NewSession, LoginError> {
    let now = state.clock.now();
    let secret = accounts::new_secret();
    let csrf = accounts::new_secret();
    state
        .store
        .create_session(
            &accounts::secret_hash(&secret),
            user.id,
            &csrf,
            now,
            now + SESSION_LIFETIME,
        )
        .map_err(|e| LoginError::Internal(e.to_string()))?;
    let _ = state.store.audit(
        now,
        &user.name,
        "session.login",
        &format!("user {}", user.id),
        "",
    );
    Ok(NewSession {
        cookie: cookie(headers, &secret, SESSION_LIFETIME.num_seconds()),
        user,
        csrf,
    })
}

/// The `Set-Cookie` value for the session secret (empty secret and 0 clears it).
pub fn cookie(headers: &HeaderMap, secret: &str, max_age: i64) -> String {
    let secure = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("https"));
    format!(
        "{SESSION_COOKIE}={secret}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{}",
        if secure { "; Secure" } else { "" }
    )
}

/// Middleware: works out the [`Principal`] and [`Peer`], enforces Origin and CSRF.
pub async fn authenticate(State(state): State<PanelState>, req: Request, next: Next) -> Response {
    let peer = Peer::new(
        req.extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0),
        req.headers(),
    );
    let unsafe_method = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if unsafe_method && !same_origin(req.headers()) {
        return ApiError::new(
            StatusCode::FORBIDDEN,
            "bad_origin",
            "the request comes from another site".to_owned(),
        )
        .into_response();
    }
    let principal = match identify(&state, req.headers()) {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    let mut req = req;
    if unsafe_method {
        if let Some(expected) = principal.as_ref().and_then(|p| p.csrf.clone()) {
            let (ok, rebuilt) = csrf_ok(req, &expected).await;
            req = match rebuilt {
                Some(r) if ok => r,
                Some(_) => return csrf_error().into_response(),
                None => {
                    return ApiError::new(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        "too_large",
                        "the form is too large".to_owned(),
                    )
                    .into_response();
                }
            };
        }
    }
    req.extensions_mut().insert(peer);
    if let Some(p) = principal {
        req.extensions_mut().insert(p);
    }
    next.run(req).await
}

/// Bearer token or session cookie → principal; `None` if neither is present or valid
/// (an invalid bearer token is an error: automation should hear about it).
fn identify(state: &PanelState, headers: &HeaderMap) -> Result<Option<Principal>, ApiError> {
    if let Some(auth) = headers.get(header::AUTHORIZATION) {
        let given = auth
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or_else(ApiError::unauthorized)?;
        let token = state
            .config
            .tokens
            .iter()
            .find(|t| constant_time_eq(t.token.as_bytes(), given.as_bytes()))
            .ok_or_else(ApiError::unauthorized)?;
        return Ok(Some(Principal {
            name: token.name.clone(),
            role: Role::Admin,
            csrf: None,
            via_token: true,
            session: None,
        }));
    }
    let Some(secret) = session_secret(headers) else {
        return Ok(None);
    };
    let hash = accounts::secret_hash(&secret);
    let session = state.store.session(&hash, state.clock.now())?;
    Ok(session.map(|s| Principal {
        name: s.user.name,
        role: s.user.role,
        csrf: Some(s.csrf),
        via_token: false,
        session: Some(hash),
    }))
}

fn session_secret(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == SESSION_COOKIE)
        .map(|(_, v)| v.to_owned())
        .filter(|v| !v.is_empty())
}

/// Whether a `Host` value (with or without port) names the box by loopback.
fn loopback_host(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(v6) => v6.split_once(']').map_or("", |(ip, _)| ip),
        None => host.rsplit_once(':').map_or(host, |(name, _)| name),
    };
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// `Origin`, when sent, must name the host the request was sent to.
fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    let origin_host = origin.split_once("://").map(|(_, h)| h);
    origin_host.is_some() && origin_host == host
}

/// Checks the CSRF token in the header or, for a urlencoded form, its `csrf` field.
/// Returns the (possibly rebuilt) request, or `None` when the form is too large.
async fn csrf_ok(req: Request, expected: &str) -> (bool, Option<Request>) {
    if let Some(given) = req
        .headers()
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
    {
        let ok = constant_time_eq(given.as_bytes(), expected.as_bytes());
        return (ok, Some(req));
    }
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return (false, Some(req));
    }
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_FORM_BYTES).await else {
        return (false, None);
    };
    let ok = bytes
        .split(|b| *b == b'&')
        .filter_map(|kv| kv.strip_prefix(b"csrf="))
        .any(|v| constant_time_eq(v, expected.as_bytes()));
    (ok, Some(Request::from_parts(parts, Body::from(bytes))))
}

fn csrf_error() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "csrf",
        "missing or wrong CSRF token; reload the page and try again".to_owned(),
    )
}

/// Extractor for API handlers: the caller, or 401.
pub struct ApiUser(pub Principal);

impl<S: Send + Sync> FromRequestParts<S> for ApiUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<ApiUser, ApiError> {
        parts
            .extensions
            .get::<Principal>()
            .cloned()
            .map(ApiUser)
            .ok_or_else(ApiError::unauthorized)
    }
}

/// Extractor for pages: the logged-in user, or a redirect to the login page.
pub struct PageUser(pub Principal);

impl<S: Send + Sync> FromRequestParts<S> for PageUser {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<PageUser, Response> {
        parts
            .extensions
            .get::<Principal>()
            .cloned()
            .map(PageUser)
            .ok_or_else(|| Redirect::to("/login").into_response())
    }
}

/// Shared limiter handed to the login handlers.
pub type Limiter = Arc<LoginLimiter>;

/// An Argon2id hash of a random password, verified against for unknown names.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$2bhqzhI2DgsKMvNlzSIgwQMg/ZAcQ/Oki4CU87c4IXc";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_with_proxy_headers_is_never_loopback() {
        let local: SocketAddr = "127.0.0.1:40000".parse().unwrap();
        let mut host = HeaderMap::new();
        host.insert(header::HOST, "127.0.0.1:8080".parse().unwrap());
        assert!(Peer::new(Some(local), &host).is_loopback());
        for h in ["forwarded", "x-forwarded-for", "x-real-ip"] {
            let mut headers = host.clone();
            headers.insert(h, "127.0.0.1".parse().unwrap());
            assert!(!Peer::new(Some(local), &headers).is_loopback(), "{h}");
        }
        let remote: SocketAddr = "192.0.2.4:40000".parse().unwrap();
        assert!(!Peer::new(Some(remote), &host).is_loopback());
        assert!(!Peer::new(None, &host).is_loopback());
    }

    #[test]
    fn only_a_loopback_host_name_is_the_box_itself() {
        let local: SocketAddr = "127.0.0.1:40000".parse().unwrap();
        for (host, expected) in [
            ("127.0.0.1:8080", true),
            ("localhost:8080", true),
            ("LOCALHOST", true),
            ("127.0.1.1", true),
            ("[::1]:8080", true),
            ("evil.example:8080", false),
            ("192.0.2.2:8080", false),
            ("localhost.evil.example", false),
            ("[fd00::2]:8080", false),
        ] {
            let mut h = HeaderMap::new();
            h.insert(header::HOST, host.parse().unwrap());
            assert_eq!(Peer::new(Some(local), &h).is_loopback(), expected, "{host}");
        }
        assert!(
            !Peer::new(Some(local), &HeaderMap::new()).is_loopback(),
            "no Host"
        );
    }

    #[test]
    fn five_failures_block_for_the_window() {
        let l = LoginLimiter::default();
        let t0 = DateTime::from_timestamp(1_780_000_000, 0).unwrap();
        let keys = ["ip:10.0.0.9".to_owned(), "user:lan".to_owned()];
        for i in 0..MAX_FAILURES as i64 {
            assert!(l.blocked(&keys, t0 + Duration::seconds(i)).is_none());
            l.fail(&keys, t0 + Duration::seconds(i));
        }
        let wait = l.blocked(&keys, t0 + Duration::seconds(10)).unwrap();
        assert_eq!(wait, FAILURE_WINDOW - Duration::seconds(10));
        assert!(
            l.blocked(&["user:lan".to_owned()], t0 + Duration::seconds(10))
                .is_some()
        );
        assert!(
            l.blocked(&keys, t0 + FAILURE_WINDOW + Duration::seconds(1))
                .is_none()
        );
        l.succeed(&keys);
        assert!(l.blocked(&keys, t0 + Duration::seconds(11)).is_none());
    }

    #[test]
    fn cookies_are_strict_and_secure_only_behind_https() {
        let mut h = HeaderMap::new();
        let c = cookie(&h, "abc", 60);
        assert!(
            c.contains("HttpOnly") && c.contains("SameSite=Strict"),
            "{c}"
        );
        assert!(!c.contains("Secure"));
        h.insert("x-forwarded-proto", "https".parse().unwrap());
        assert!(cookie(&h, "abc", 60).ends_with("; Secure"));
    }

    #[test]
    fn the_dummy_hash_is_a_real_argon2_hash() {
        use argon2::password_hash::PasswordHash;
        let parsed = PasswordHash::new(DUMMY_HASH).unwrap();
        assert_eq!(parsed.algorithm.as_str(), "argon2id");
        assert!(!accounts::verify_password("anything", DUMMY_HASH));
    }

    #[test]
    fn origin_must_match_host() {
        let mut h = HeaderMap::new();
        assert!(same_origin(&h), "no Origin: a non-browser client");
        h.insert(header::HOST, "10.0.0.5:8080".parse().unwrap());
        h.insert(header::ORIGIN, "http://10.0.0.5:8080".parse().unwrap());
        assert!(same_origin(&h));
        h.insert(header::ORIGIN, "http://evil.example".parse().unwrap());
        assert!(!same_origin(&h));
    }
}
