//! Member data (issue 17): legal holds on tickets, a ticket's access log,
//! a requester's data export and erasure. Each a thin handler over its use case.

use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiPath, Auth};
use crate::json::Json;
use axum::extract::State;
use logbuch_core::Logbuch;
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
