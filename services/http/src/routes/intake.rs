//! `/api/v1/intake…`: the mail intake's state and quarantine, for admins.

use crate::error::{ApiError, Problem};
use crate::extract::{ApiPath, Auth};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use logbuch_core::Logbuch;
use logbuch_core::intake::{IntakeStatus, QuarantinedMail};

type ApiResult<T> = Result<T, ApiError>;

#[utoipa::path(get, path = "/api/v1/intake/status", tag = "intake",
    responses((status = 200, body = IntakeStatus), (status = 403, body = Problem)))]
pub async fn status(State(app): State<Logbuch>, Auth(who): Auth) -> ApiResult<Json<IntakeStatus>> {
    Ok(Json(app.intake_status(&who).await?))
}

#[utoipa::path(get, path = "/api/v1/intake/quarantine", tag = "intake",
    responses((status = 200, body = [QuarantinedMail]), (status = 403, body = Problem)))]
pub async fn quarantine(State(app): State<Logbuch>, Auth(who): Auth) -> ApiResult<Json<Vec<QuarantinedMail>>> {
    Ok(Json(app.list_quarantine(&who).await?))
}

/// The raw mail, as received (`message/rfc822`, always downloaded).
#[utoipa::path(get, path = "/api/v1/intake/quarantine/{id}/raw", params(("id" = i64, Path)), tag = "intake",
    responses((status = 200, description = "the raw mail"), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn raw(State(app): State<Logbuch>, Auth(who): Auth, ApiPath(id): ApiPath<i64>) -> ApiResult<Response> {
    let bytes = app.quarantined_raw(&who, id).await?;
    let mut res = bytes.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("message/rfc822"));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"quarantaene-{id}.eml\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    Ok(res)
}

#[utoipa::path(post, path = "/api/v1/intake/quarantine/{id}/retry", params(("id" = i64, Path)), tag = "intake",
    responses((status = 202, description = "queued again"), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn retry(State(app): State<Logbuch>, Auth(who): Auth, ApiPath(id): ApiPath<i64>) -> ApiResult<StatusCode> {
    app.retry_quarantined(&who, id).await?;
    Ok(StatusCode::ACCEPTED)
}

#[utoipa::path(get, path = "/api/v1/outbox/status", tag = "intake",
    responses((status = 200, body = logbuch_core::outgoing::OutboxStatus), (status = 403, body = Problem)))]
pub async fn outbox_status(
    State(app): State<Logbuch>,
    Auth(who): Auth,
) -> ApiResult<Json<logbuch_core::outgoing::OutboxStatus>> {
    Ok(Json(app.outbox_status(&who).await?))
}

/// Sends a failed or uncertain mail again, with its original Message-ID.
#[utoipa::path(post, path = "/api/v1/outbox/{id}/resend", params(("id" = i64, Path)), tag = "intake",
    responses((status = 202, description = "queued again"), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn outbox_resend(
    State(app): State<Logbuch>,
    Auth(who): Auth,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<StatusCode> {
    app.resend_outbox(&who, id).await?;
    Ok(StatusCode::ACCEPTED)
}
