//! `/api/v1/me`, tenants, queues and counts; `/healthz`, `/readyz`.

use crate::error::{ApiError, Problem};
use crate::extract::{ApiPath, ApiQuery, Auth};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use logbuch_core::Logbuch;
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
