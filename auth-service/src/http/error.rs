//! The one place an error becomes a status code and a problem+json body. 5xx bodies say nothing
//! internal; the cause goes to the log, inside the request's span.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use service_kit::Problem;
use service_kit::db::{DbFailure, classify};
use service_kit::json::validation_problem;

use shared_claims::{AuthError, Rejection};

use crate::error::Error;

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let problem = match self {
            Error::Validation(errors) => validation_problem(errors),
            Error::Input(rejection) => return rejection.into_response(),
            Error::Auth(auth) => return auth.into_response(),
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
            Error::Busy => return unavailable("the server is busy; retry shortly", 1),
            Error::Db(error) => match classify(&error) {
                DbFailure::Unavailable => {
                    tracing::error!(%error, "database unavailable");
                    return unavailable("the database is unavailable; retry shortly", 2);
                }
                DbFailure::UniqueViolation | DbFailure::Other => {
                    tracing::error!(%error, "database error");
                    return service_kit::layers::internal_error();
                }
            },
            Error::Internal(cause) => {
                tracing::error!(%cause, "internal error");
                return service_kit::layers::internal_error();
            }
        };
        problem.into_response()
    }
}

fn unavailable(detail: &str, retry_after_secs: u32) -> Response {
    let mut response =
        Problem::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", detail).into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
    response
}
