//! `/auth/*`: login through the organisation's identity provider, the
//! session's CSRF token, logout.

use crate::error::ApiError;
use crate::extract::{CSRF_HEADER, SESSION_COOKIE, cookie, same_secret};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use logbuch_core::{AppError, Logbuch};
use serde::Deserialize;

/// Binds a login's state to the browser that started it (login CSRF).
const LOGIN_COOKIE: &str = "logbuch_anmeldung";

fn secure(app: &Logbuch) -> &'static str {
    if app.settings.server.public_url.starts_with("https://") { "; Secure" } else { "" }
}

/// The `Set-Cookie` value that opens a browser session.
fn session_cookie(app: &Logbuch, token: &str) -> String {
    let max_age = app.settings.oidc.max_hours * 3600;
    format!("{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{}", secure(app))
}

/// The `Set-Cookie` value that ends a browser session.
pub(crate) fn session_cookie_cleared(app: &Logbuch) -> String {
    format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{}", secure(app))
}

/// 303 to `to`, setting `cookies`; never cached.
pub(crate) fn redirect(to: &str, cookies: &[String]) -> Response {
    let mut headers = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_str(to) {
        headers.insert(header::LOCATION, v);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    for c in cookies {
        if let Ok(v) = HeaderValue::from_str(c) {
            headers.append(header::SET_COOKIE, v);
        }
    }
    (StatusCode::SEE_OTHER, headers).into_response()
}

#[derive(Deserialize)]
pub struct LoginQuery {
    return_to: Option<String>,
}

/// `GET /auth/login`: off to the identity provider.
pub async fn login(State(app): State<Logbuch>, Query(q): Query<LoginQuery>) -> Result<Response, ApiError> {
    let (url, state) = app.begin_login(q.return_to.as_deref()).await?;
    let bind = format!("{LOGIN_COOKIE}={state}; Path=/auth; HttpOnly; SameSite=Lax; Max-Age=600{}", secure(&app));
    Ok(redirect(&url, &[bind]))
}

#[derive(Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// `GET /auth/callback`: back from the provider; opens the session.
pub async fn callback(
    State(app): State<Logbuch>,
    headers: HeaderMap,
    uri: axum::http::Uri,
) -> Result<Response, ApiError> {
    let Query(q) = Query::<CallbackQuery>::try_from_uri(&uri)
        .map_err(|_| ApiError(AppError::validation("query", "Unvollständige Antwort des Anmeldedienstes.")))?;
    if q.error.is_some() {
        return Err(ApiError(AppError::Unauthenticated));
    }
    let (Some(code), Some(state)) = (q.code, q.state) else {
        return Err(ApiError(AppError::validation("code", "Unvollständige Antwort des Anmeldedienstes.")));
    };
    // The state must be the one this browser was sent off with.
    if !cookie(&headers, LOGIN_COOKIE).is_some_and(|c| same_secret(c, &state)) {
        return Err(ApiError(AppError::validation("state", "Diese Anmeldung wurde nicht in diesem Browser begonnen.")));
    }
    let session = app.finish_login(&code, &state).await?;
    Ok(redirect(
        &session.return_to,
        &[
            session_cookie(&app, &session.token),
            format!("{LOGIN_COOKIE}=; Path=/auth; HttpOnly; SameSite=Lax; Max-Age=0{}", secure(&app)),
        ],
    ))
}

/// `GET /auth/link/{token}`: a one-time login link (printed at first start).
pub async fn link(
    State(app): State<Logbuch>,
    axum::extract::Path(token): axum::extract::Path<String>,
) -> Result<Response, ApiError> {
    let session = app.use_login_link(&token).await?;
    Ok(redirect(&session.return_to, &[session_cookie(&app, &session.token)]))
}

/// `GET /auth/session`: who is logged in, and the CSRF token for changes.
pub async fn session(State(app): State<Logbuch>, headers: HeaderMap) -> Result<Response, ApiError> {
    let token = cookie(&headers, SESSION_COOKIE).ok_or(ApiError(AppError::Unauthenticated))?;
    let s = app.authenticate_session(token).await?;
    let body = serde_json::json!({
        "email": s.principal.email,
        "display_name": s.principal.display_name,
        "csrf_token": s.csrf,
    });
    Ok(([(header::CACHE_CONTROL, "no-store")], axum::Json(body)).into_response())
}

/// `POST /auth/logout` (with the CSRF token): ends the session, then the provider's.
pub async fn logout(State(app): State<Logbuch>, headers: HeaderMap) -> Result<Response, ApiError> {
    let token = cookie(&headers, SESSION_COOKIE).ok_or(ApiError(AppError::Unauthenticated))?;
    let s = app.authenticate_session(token).await?;
    let sent = headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok()).unwrap_or("");
    if !same_secret(sent, &s.csrf) {
        return Err(ApiError(AppError::Forbidden("Abmelden braucht das CSRF-Token (X-CSRF-Token).".into())));
    }
    let to = app.logout(token).await?;
    Ok(redirect(&to, &[session_cookie_cleared(&app)]))
}
