//! `/api/v1/me`, tenants, queues and counts; `/healthz`, `/readyz`.

use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Auth};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use logbuch_core::Logbuch;
use logbuch_core::absence::{AbsenceInput, AbsenceView};
use logbuch_core::saved_views::{NewView, SavedViewView};
use logbuch_core::views::{CountView, MeView, QueueView, TenantView};
use serde::Deserialize;
use utoipa::IntoParams;

type ApiResult<T> = Result<T, ApiError>;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CountQuery {
    /// Only this tenant.
    pub tenant: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/me", tag = "people", responses((status = 200, body = MeView), (status = 401, body = Problem)))]
pub async fn me(State(app): State<Logbuch>, Auth(who): Auth) -> ApiResult<Json<MeView>> {
    Ok(Json(app.me(&who).await?))
}

#[utoipa::path(get, path = "/api/v1/tenants", tag = "federation", responses((status = 200, body = [TenantView])))]
pub async fn tenants(State(app): State<Logbuch>, Auth(who): Auth) -> ApiResult<Json<Vec<TenantView>>> {
    Ok(Json(app.list_tenants(&who).await?))
}

#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/queues", params(("tenant" = String, Path)), tag = "federation",
    responses((status = 200, body = [QueueView]), (status = 404, body = Problem)))]
pub async fn queues(
    State(app): State<Logbuch>,
    Auth(who): Auth,
    ApiPath(tenant): ApiPath<String>,
) -> ApiResult<Json<Vec<QueueView>>> {
    Ok(Json(app.list_queues(&who, &tenant).await?))
}

#[utoipa::path(get, path = "/api/v1/counts", params(CountQuery), tag = "tickets", responses((status = 200, body = [CountView])))]
pub async fn counts(
    State(app): State<Logbuch>,
    Auth(who): Auth,
    ApiQuery(q): ApiQuery<CountQuery>,
) -> ApiResult<Json<Vec<CountView>>> {
    Ok(Json(app.count_tickets(&who, q.tenant.as_deref()).await?))
}

/// The process is alive.
pub async fn healthz() -> &'static str {
    "ok"
}

/// The process can serve: its database answers.
pub async fn readyz(State(app): State<Logbuch>) -> (StatusCode, &'static str) {
    match app.store.ping().await {
        Ok(()) => (StatusCode::OK, "ready"),
        Err(e) => {
            tracing::warn!(error = %e, "database not ready");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
        }
    }
}

#[utoipa::path(get, path = "/api/v1/me/absence", tag = "people",
    responses((status = 200, body = AbsenceView), (status = 404, body = Problem)))]
pub async fn absence(State(app): State<Logbuch>, Auth(who): Auth) -> ApiResult<Json<AbsenceView>> {
    app.my_absence(&who)
        .await?
        .map(Json)
        .ok_or_else(|| logbuch_core::AppError::NotFound("Es ist keine Abwesenheit eingetragen.".into()).into())
}

#[utoipa::path(put, path = "/api/v1/me/absence", request_body = AbsenceInput, tag = "people",
    responses((status = 200, body = AbsenceView), (status = 422, body = Problem)))]
pub async fn set_absence(
    State(app): State<Logbuch>,
    Auth(who): Auth,
    ApiJson(input): ApiJson<AbsenceInput>,
) -> ApiResult<Json<AbsenceView>> {
    Ok(Json(app.set_absence(&who, input).await?))
}

#[utoipa::path(delete, path = "/api/v1/me/absence", tag = "people",
    responses((status = 204), (status = 404, body = Problem)))]
pub async fn clear_absence(State(app): State<Logbuch>, Auth(who): Auth) -> ApiResult<StatusCode> {
    app.clear_absence(&who).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/views", tag = "people",
    responses((status = 200, body = [SavedViewView])))]
pub async fn views(State(app): State<Logbuch>, Auth(who): Auth) -> ApiResult<Json<Vec<SavedViewView>>> {
    Ok(Json(app.saved_views(&who).await?))
}

#[utoipa::path(post, path = "/api/v1/views", request_body = NewView, tag = "people",
    responses((status = 201, body = SavedViewView), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn save_view(
    State(app): State<Logbuch>,
    Auth(who): Auth,
    ApiJson(input): ApiJson<NewView>,
) -> ApiResult<(StatusCode, Json<SavedViewView>)> {
    Ok((StatusCode::CREATED, Json(app.save_view(&who, input).await?)))
}

#[utoipa::path(delete, path = "/api/v1/views/{id}", params(("id" = i64, Path)), tag = "people",
    responses((status = 204), (status = 404, body = Problem)))]
pub async fn delete_view(
    State(app): State<Logbuch>,
    Auth(who): Auth,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<StatusCode> {
    app.delete_view(&who, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
