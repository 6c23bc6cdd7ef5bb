//! `/api/v1/tenants/{tenant}/templates…` (tenant admins) and a ticket's canned responses.

use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiPath, Auth};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use logbuch_core::Logbuch;
use logbuch_core::templates::{TemplateInput, TemplateView};

type ApiResult<T> = Result<T, ApiError>;

#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/templates", params(("tenant" = String, Path)), tag = "templates",
    responses((status = 200, body = [TemplateView]), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn list(
    State(app): State<Logbuch>,
    Auth(who): Auth,
    ApiPath(tenant): ApiPath<String>,
) -> ApiResult<Json<Vec<TemplateView>>> {
    Ok(Json(app.list_templates(&who, &tenant).await?))
}

/// Saves a template; a template that does not render is refused with line and reason.
#[utoipa::path(put, path = "/api/v1/tenants/{tenant}/templates/{name}", params(("tenant" = String, Path), ("name" = String, Path)),
    request_body = TemplateInput, tag = "templates",
    responses((status = 200, body = TemplateView), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn save(
    State(app): State<Logbuch>,
    Auth(who): Auth,
    ApiPath((tenant, name)): ApiPath<(String, String)>,
    ApiJson(input): ApiJson<TemplateInput>,
) -> ApiResult<Json<TemplateView>> {
    Ok(Json(app.save_template(&who, &tenant, &name, input).await?))
}

#[utoipa::path(delete, path = "/api/v1/tenants/{tenant}/templates/{name}", params(("tenant" = String, Path), ("name" = String, Path)), tag = "templates",
    responses((status = 204, description = "back to the Bund's or the built-in text"), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn delete(
    State(app): State<Logbuch>,
    Auth(who): Auth,
    ApiPath((tenant, name)): ApiPath<(String, String)>,
) -> ApiResult<StatusCode> {
    app.delete_template(&who, &tenant, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/tickets/{id}/canned", params(("id" = i64, Path)), tag = "templates",
    responses((status = 200, body = [TemplateView]), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn canned(
    State(app): State<Logbuch>,
    Auth(who): Auth,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Vec<TemplateView>>> {
    Ok(Json(app.canned_for_ticket(&who, id).await?))
}
