//! The one error type of the use-case layer. The HTTP service turns it into
//! problem details; `Internal` never shows its cause to the client.

use logbuch_domain::ParseError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Not there, or not for this caller's eyes — the two look the same.
    #[error("{0}")]
    NotFound(String),
    #[error("Anmeldung erforderlich: ein gültiges API-Token (Authorization: Bearer …) fehlt.")]
    Unauthenticated,
    /// The caller may see the thing but not do this to it.
    #[error("{0}")]
    Forbidden(String),
    #[error("{field}: {message}")]
    Validation { field: String, message: String },
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    TooLarge(String),
    /// A rate limit: try again later.
    #[error("{0}")]
    TooManyRequests(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn validation(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Validation { field: field.into(), message: message.into() }
    }

    pub fn ticket_not_found(id: i64) -> Self {
        Self::NotFound(format!("Ticket #{id} gibt es nicht, oder Sie haben keinen Zugriff darauf."))
    }
}

impl From<ParseError> for AppError {
    fn from(e: ParseError) -> Self {
        Self::Validation { field: e.field.to_owned(), message: e.message }
    }
}

impl From<logbuch_store::StoreError> for AppError {
    fn from(e: logbuch_store::StoreError) -> Self {
        Self::Internal(anyhow::Error::new(e))
    }
}

impl From<sea_orm::DbErr> for AppError {
    fn from(e: sea_orm::DbErr) -> Self {
        Self::Internal(anyhow::Error::new(e))
    }
}
