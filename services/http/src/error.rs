//! Errors as RFC 9457 problem details (`application/problem+json`).
//!
//! The only place use-case errors become HTTP. `Internal` is logged with its
//! cause chain inside the request span and shown to the client as a plain
//! "something went wrong" — never with the cause.

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use logbuch_core::AppError;
use serde::Serialize;
use utoipa::ToSchema;

/// A problem, as RFC 9457 describes it, with the offending field where there is one.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    /// What went wrong and what to do, for a person.
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

#[derive(Debug)]
pub struct ApiError(pub AppError);

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        Self(e)
    }
}

pub fn problem(status: StatusCode, kind: &str, title: &str, detail: String, field: Option<String>) -> Response {
    let body = Problem {
        kind: format!("urn:logbuch:problem:{kind}"),
        title: title.to_owned(),
        status: status.as_u16(),
        detail,
        field,
    };
    let mut res = (status, Json(body)).into_response();
    res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
    res
}

/// How an error shows to people: status, problem kind, title, detail and
/// field. `Internal` is logged here, with its cause, and never shown.
pub struct Shown {
    pub status: StatusCode,
    pub kind: &'static str,
    pub title: &'static str,
    pub detail: String,
    pub field: Option<String>,
}

impl From<AppError> for Shown {
    fn from(e: AppError) -> Self {
        let shown = |status, kind, title, detail| Shown { status, kind, title, detail, field: None };
        match e {
            AppError::NotFound(d) => shown(StatusCode::NOT_FOUND, "not-found", "Nicht gefunden", d),
            AppError::Unauthenticated => shown(
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "Anmeldung erforderlich",
                AppError::Unauthenticated.to_string(),
            ),
            AppError::Forbidden(d) => shown(StatusCode::FORBIDDEN, "forbidden", "Nicht erlaubt", d),
            AppError::Validation { field, message } => Shown {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                kind: "validation",
                title: "Ungültige Eingabe",
                detail: format!("{field}: {message}"),
                field: Some(field),
            },
            AppError::Conflict(d) => shown(StatusCode::CONFLICT, "conflict", "Konflikt", d),
            AppError::TooLarge(d) => shown(StatusCode::PAYLOAD_TOO_LARGE, "too-large", "Zu groß", d),
            AppError::TooManyRequests(d) => shown(StatusCode::TOO_MANY_REQUESTS, "too-many", "Zu viele Anfragen", d),
            AppError::Internal(e) => {
                tracing::error!(error = format!("{e:#}"), "request failed");
                shown(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "Interner Fehler",
                    "Etwas ist schiefgegangen. Bitte später erneut versuchen; der Fehler wurde protokolliert.".into(),
                )
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let unauthenticated = matches!(self.0, AppError::Unauthenticated);
        let s = Shown::from(self.0);
        let mut res = problem(s.status, s.kind, s.title, s.detail, s.field);
        if unauthenticated {
            res.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        res
    }
}

/// A request axum could not even parse: keep its status (400, 413, 415, 422), say why in German and English.
fn rejection(status: StatusCode, what: &str, text: String) -> ApiError {
    let e = match status {
        StatusCode::PAYLOAD_TOO_LARGE => AppError::TooLarge(format!("Die Anfrage ist zu groß: {text}")),
        _ => AppError::validation(what, text),
    };
    ApiError(e)
}

pub struct Rejected(pub Response);

impl IntoResponse for Rejected {
    fn into_response(self) -> Response {
        self.0
    }
}

fn rejected(status: StatusCode, what: &str, text: String) -> Rejected {
    let res = match status {
        StatusCode::PAYLOAD_TOO_LARGE | StatusCode::UNPROCESSABLE_ENTITY => {
            rejection(status, what, text).into_response()
        }
        StatusCode::UNSUPPORTED_MEDIA_TYPE => problem(
            status,
            "media-type",
            "Falscher Inhaltstyp",
            format!("{text} (Content-Type: application/json senden)"),
            None,
        ),
        _ => problem(status, "bad-request", "Ungültige Anfrage", format!("{what}: {text}"), Some(what.to_owned())),
    };
    Rejected(res)
}

impl From<JsonRejection> for Rejected {
    fn from(r: JsonRejection) -> Self {
        rejected(r.status(), "body", r.body_text())
    }
}

impl From<PathRejection> for Rejected {
    fn from(r: PathRejection) -> Self {
        let status = if r.status().is_server_error() { StatusCode::BAD_REQUEST } else { r.status() };
        rejected(status, "path", r.body_text())
    }
}

impl From<QueryRejection> for Rejected {
    fn from(r: QueryRejection) -> Self {
        rejected(StatusCode::BAD_REQUEST, "query", r.body_text())
    }
}
