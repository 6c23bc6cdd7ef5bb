//! Member data (issue 17): legal holds on tickets, a ticket's access log,
//! a requester's data export and erasure. Each a thin handler over its use case.

use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiPath, Auth};
use crate::json::Json;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use logbuch_core::Logbuch;
use logbuch_core::pgp::KeyView;
use logbuch_core::requester_data::{AccessEntry, Erasure, RequesterOverview};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

type ApiResult<T> = Result<T, ApiError>;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Hold {
    /// Why the ticket must be kept (a court case, an audit); on the history.
    pub reason: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HoldState {
    /// Whether the ticket is held now.
    pub held: bool,
    /// Whether this request changed that.
    pub changed: bool,
}

#[utoipa::path(put, path = "/api/v1/tickets/{id}/hold", params(("id" = i64, Path)), request_body = Hold, tag = "member data",
    responses((status = 200, body = HoldState), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn set_hold(
    State(app): State<Logbuch>,
    Auth(who): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<Hold>,
) -> ApiResult<Json<HoldState>> {
    let changed = app.set_legal_hold(&who, id, Some(&input.reason)).await?;
    Ok(Json(HoldState { held: true, changed }))
}

#[utoipa::path(delete, path = "/api/v1/tickets/{id}/hold", params(("id" = i64, Path)), tag = "member data",
    responses((status = 200, body = HoldState), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn lift_hold(
    State(app): State<Logbuch>,
    Auth(who): Auth,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<HoldState>> {
    let changed = app.set_legal_hold(&who, id, None).await?;
    Ok(Json(HoldState { held: false, changed }))
}

#[utoipa::path(get, path = "/api/v1/tickets/{id}/access", params(("id" = i64, Path)), tag = "member data",
    responses((status = 200, body = [AccessEntry]), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn access_log(
    State(app): State<Logbuch>,
    Auth(who): Auth,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Vec<AccessEntry>>> {
    Ok(Json(app.ticket_access_log(&who, id).await?))
}

#[utoipa::path(get, path = "/api/v1/requesters/{address}", params(("address" = String, Path)), tag = "member data",
    responses((status = 200, body = RequesterOverview), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn requester(
    State(app): State<Logbuch>,
    Auth(who): Auth,
    ApiPath(address): ApiPath<String>,
) -> ApiResult<Json<RequesterOverview>> {
    Ok(Json(app.requester_overview(&who, &address).await?))
}

#[utoipa::path(get, path = "/api/v1/requesters/{address}/export", params(("address" = String, Path)), tag = "member data",
    responses((status = 200, description = "ZIP: auskunft.json, the raw mails and files", content_type = "application/zip"),
        (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn export(
    State(app): State<Logbuch>,
    Auth(who): Auth,
    ApiPath(address): ApiPath<String>,
) -> ApiResult<Response> {
    let zip = app.export_requester(&who, &address).await?;
    Ok(zip_response(zip))
}

/// A download of an export.
pub(crate) fn zip_response(zip: Vec<u8>) -> Response {
    let headers = [
        (header::CONTENT_TYPE, HeaderValue::from_static("application/zip")),
        (header::CONTENT_DISPOSITION, HeaderValue::from_static("attachment; filename=\"datenauskunft.zip\"")),
        (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
    ];
    (headers, zip).into_response()
}

#[utoipa::path(post, path = "/api/v1/requesters/{address}/erase", params(("address" = String, Path)), tag = "member data",
    responses((status = 200, body = Erasure), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn erase(
    State(app): State<Logbuch>,
    Auth(who): Auth,
    ApiPath(address): ApiPath<String>,
) -> ApiResult<Json<Erasure>> {
    Ok(Json(app.erase_requester(&who, &address).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewKey {
    /// The public OpenPGP key, ASCII-armored (`-----BEGIN PGP PUBLIC KEY BLOCK-----`).
    pub key: String,
}

#[utoipa::path(put, path = "/api/v1/keys/{address}", params(("address" = String, Path)), request_body = NewKey, tag = "member data",
    responses((status = 200, body = KeyView), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn set_key(
    State(app): State<Logbuch>,
    Auth(who): Auth,
    ApiPath(address): ApiPath<String>,
    ApiJson(input): ApiJson<NewKey>,
) -> ApiResult<Json<KeyView>> {
    Ok(Json(app.set_public_key(&who, &address, &input.key).await?))
}

#[utoipa::path(get, path = "/api/v1/keys/{address}", params(("address" = String, Path)), tag = "member data",
    responses((status = 200, body = KeyView), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get_key(
    State(app): State<Logbuch>,
    Auth(who): Auth,
    ApiPath(address): ApiPath<String>,
) -> ApiResult<Json<KeyView>> {
    Ok(Json(app.public_key_of(&who, &address).await?))
}

#[utoipa::path(delete, path = "/api/v1/keys/{address}", params(("address" = String, Path)), tag = "member data",
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn delete_key(
    State(app): State<Logbuch>,
    Auth(who): Auth,
    ApiPath(address): ApiPath<String>,
) -> ApiResult<axum::http::StatusCode> {
    if app.remove_public_key(&who, &address).await? {
        Ok(axum::http::StatusCode::NO_CONTENT)
    } else {
        Err(logbuch_core::AppError::NotFound(format!("Für {address} ist kein Schlüssel hinterlegt.")).into())
    }
}

/// `GET /pgp/{address}`: the public key of the queue receiving mail at
/// that address, for members who want to write encrypted (no login).
pub async fn queue_key(
    State(app): State<Logbuch>,
    axum::extract::Path(address): axum::extract::Path<String>,
) -> ApiResult<Response> {
    let armored = app.queue_public_key(address.trim_end_matches(".asc")).await?;
    let headers = [(header::CONTENT_TYPE, HeaderValue::from_static("application/pgp-keys"))];
    Ok((headers, armored).into_response())
}
