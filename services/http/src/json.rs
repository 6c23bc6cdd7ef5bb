//! JSON answers written into one growing buffer (axum's `Json` writes through
//! `BytesMut` piece by piece, which showed in `perf` on the ticket lists).

use crate::error::ApiError;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use logbuch_core::AppError;
use serde::Serialize;

pub struct Json<T>(pub T);

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        let mut body = Vec::with_capacity(8 * 1024);
        match serde_json::to_writer(&mut body, &self.0) {
            Ok(()) => {
                let mut r = body.into_response();
                r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
                r
            }
            Err(e) => ApiError(AppError::Internal(anyhow::anyhow!("JSON: {e}"))).into_response(),
        }
    }
}
