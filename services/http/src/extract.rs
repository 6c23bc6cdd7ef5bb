//! Extractors: the authenticated principal, and JSON/path/query whose
//! rejections are problem details.

use crate::error::{ApiError, Rejected};
use axum::extract::{FromRequest, FromRequestParts};
use axum::http::header;
use axum::http::request::Parts;
use logbuch_core::{AppError, Logbuch, Principal};

#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(Rejected))]
pub struct ApiJson<T>(pub T);

#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(Rejected))]
pub struct ApiPath<T>(pub T);

#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(Rejected))]
pub struct ApiQuery<T>(pub T);

/// The browser session's cookie (server-side session, see `logbuch_core::sso`).
pub const SESSION_COOKIE: &str = "logbuch_sitzung";
/// Header carrying the session's CSRF token on state-changing requests.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// A cookie's value from the request.
pub fn cookie<'a>(headers: &'a axum::http::HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// Compares secrets in full, whatever matches first.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The caller: `Authorization: Bearer <personal API token>`, or a browser
/// session cookie. With the cookie, every state-changing request must carry
/// the session's CSRF token (`X-CSRF-Token`), or it is refused.
pub struct Auth(pub Principal);

impl FromRequestParts<Logbuch> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &Logbuch) -> Result<Self, Self::Rejection> {
        if let Some(header) = parts.headers.get(header::AUTHORIZATION).and_then(|h| h.to_str().ok()) {
            let token = header
                .strip_prefix("Bearer ")
                .or_else(|| header.strip_prefix("bearer "))
                .ok_or(ApiError(AppError::Unauthenticated))?;
            return Ok(Auth(app.authenticate_token(token).await?));
        }
        let token = cookie(&parts.headers, SESSION_COOKIE).ok_or(ApiError(AppError::Unauthenticated))?;
        let session = app.authenticate_session(token).await?;
        if !parts.method.is_safe() {
            let sent = parts.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok()).unwrap_or("");
            if !same_secret(sent, &session.csrf) {
                return Err(ApiError(AppError::Forbidden(
                    "Die Anfrage trägt kein gültiges CSRF-Token (X-CSRF-Token); bitte die Seite neu laden.".into(),
                )));
            }
        }
        Ok(Auth(session.principal))
    }
}
