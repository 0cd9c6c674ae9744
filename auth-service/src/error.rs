//! The one error type of the service. It says what went wrong in domain terms; `http::error`
//! is the one place that turns it into a status and a problem+json body.

use sea_orm::DbErr;
use service_kit::FieldError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Fields that break a rule (422).
    #[error("invalid fields: {}", describe(.0))]
    Validation(Vec<FieldError>),
    #[error("the email address is already registered")]
    EmailTaken,
    /// Unknown email or wrong password: one answer for both.
    #[error("invalid email or password")]
    InvalidCredentials,
    #[error("the account is deactivated")]
    AccountDisabled,
    #[error("too many attempts")]
    RateLimited { retry_after_secs: u64 },
    #[error("the refresh token is invalid, expired, revoked or already used")]
    InvalidRefreshToken,
    #[error("the reset token is invalid, expired or already used")]
    InvalidResetToken,
    #[error("not found")]
    NotFound,
    #[error("the last active admin cannot be demoted or deactivated")]
    LastAdmin,
    /// The access token's session has ended, or its user was deactivated.
    #[error("the session has ended")]
    SessionEnded,
    /// The caller's current role does not grant this.
    #[error("the caller's role does not grant `{}`", .0.as_str())]
    Forbidden(shared_claims::Permission),
    /// Too many password hashes queued: shed load rather than grow memory.
    #[error("the server is busy")]
    Busy,
    #[error("database: {0}")]
    Db(#[from] DbErr),
    #[error("internal: {0}")]
    Internal(String),
}

fn describe(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(|e| format!("{} {}", e.field, e.message))
        .collect::<Vec<_>>()
        .join("; ")
}

impl Error {
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        Error::Validation(vec![FieldError::new(field, message)])
    }

    pub fn internal(what: impl std::fmt::Display) -> Self {
        Error::Internal(what.to_string())
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
