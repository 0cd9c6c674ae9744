//! The one place an error becomes a status code and a problem+json body. 5xx bodies say nothing
//! internal; the cause goes to the log, inside the request's span.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use service_kit::Problem;
use service_kit::json::InputRejection;
use service_kit::problem;
use shared_claims::{AuthError, Rejection};

use crate::error::Error;

/// What a handler answers instead of its result: a request it could not read, a token that
/// does not authenticate, or what the domain refused.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A body or query that could not be read (400, 413, 415 or 422).
    #[error("unreadable input")]
    Input(InputRejection),
    /// No token, or one that does not verify (401).
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// The domain's answer.
    #[error(transparent)]
    Domain(#[from] Error),
}

impl From<InputRejection> for ApiError {
    fn from(rejection: InputRejection) -> Self {
        ApiError::Input(rejection)
    }
}

/// A handler's result.
pub type ApiResult<T> = Result<T, ApiError>;

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::Input(rejection) => rejection.into_response(),
            ApiError::Auth(auth) => auth.into_response(),
            ApiError::Domain(error) => domain_response(error),
        }
    }
}

fn domain_response(error: Error) -> Response {
    let problem = match error {
        Error::Validation(errors) => problem::validation(errors),
        Error::EmailTaken => Problem::new(
            StatusCode::CONFLICT,
            "email-taken",
            "an account with this email address already exists",
        ),
        Error::InvalidCredentials => Problem::new(
            StatusCode::UNAUTHORIZED,
            "invalid-credentials",
            "the email address or the password is wrong",
        ),
        Error::AccountDisabled => Problem::new(
            StatusCode::FORBIDDEN,
            "account-disabled",
            "this account has been deactivated",
        ),
        Error::RateLimited { retry_after_secs } => {
            let mut response = Problem::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate-limited",
                format!("too many attempts; retry after {retry_after_secs} seconds"),
            )
            .into_response();
            response.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from(retry_after_secs.max(1)),
            );
            return response;
        }
        Error::InvalidRefreshToken => {
            let mut response = Problem::new(
                StatusCode::UNAUTHORIZED,
                "invalid-refresh-token",
                "the refresh token is invalid, expired, revoked or already used",
            )
            .into_response();
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(r#"Bearer error="invalid_token""#),
            );
            return response;
        }
        Error::InvalidResetToken => Problem::new(
            StatusCode::BAD_REQUEST,
            "invalid-reset-token",
            "the reset token is invalid, expired or already used",
        ),
        Error::NotFound => Problem::new(StatusCode::NOT_FOUND, "not-found", "no such resource"),
        Error::LastAdmin => Problem::new(
            StatusCode::CONFLICT,
            "last-admin",
            "the last active admin cannot be demoted or deactivated",
        ),
        Error::SessionEnded => {
            return AuthError::InvalidToken(Rejection::Revoked).into_response();
        }
        Error::Forbidden(permission) => {
            return AuthError::InsufficientScope(permission).into_response();
        }
        Error::Busy => return problem::unavailable("the server is busy; retry shortly"),
        Error::Db(error) => return problem::database(&error),
        Error::Internal(cause) => {
            tracing::error!(%cause, "internal error");
            return problem::internal_error();
        }
    };
    problem.into_response()
}
