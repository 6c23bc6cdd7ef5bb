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

/// The caller, from `Authorization: Bearer <personal API token>`.
pub struct Auth(pub Principal);

impl FromRequestParts<Logbuch> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &Logbuch) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|h| h.to_str().ok())
            .ok_or(ApiError(AppError::Unauthenticated))?;
        let token = header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("bearer "))
            .ok_or(ApiError(AppError::Unauthenticated))?;
        Ok(Auth(app.authenticate_token(token).await?))
    }
}
