//! Every problem+json answer both services build themselves, in one place: the shape is
//! shared-claims' [`Problem`] (RFC 9457); these are the instances.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sea_orm::DbErr;

use crate::db::{DbFailure, classify};
pub use shared_claims::{FieldError, Problem};

/// Seconds a client is asked to wait after a 503 it can retry.
pub const RETRY_AFTER_SECS: u32 = 1;

/// 422 listing every invalid field.
pub fn validation(errors: Vec<FieldError>) -> Problem {
    Problem::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation",
        "one or more fields are invalid",
    )
    .with_errors(errors)
}

/// 422 for one field.
pub fn field(field: impl Into<String>, message: impl Into<String>) -> Problem {
    validation(vec![FieldError::new(field, message)])
}

/// 400: the body is not JSON at all.
pub fn malformed_json() -> Problem {
    Problem::new(
        StatusCode::BAD_REQUEST,
        "malformed-json",
        "the request body is not valid JSON",
    )
}

/// 400: the body could not be read.
pub fn unreadable_body() -> Problem {
    Problem::new(
        StatusCode::BAD_REQUEST,
        "unreadable-body",
        "the request body could not be read",
    )
}

/// 413: the body exceeds the contract's limit.
pub fn too_large() -> Problem {
    Problem::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload-too-large",
        format!(
            "request bodies are limited to {} bytes",
            crate::settings::MAX_BODY_BYTES
        ),
    )
}

/// 415: the body is not JSON.
pub fn unsupported_media_type() -> Problem {
    Problem::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported-media-type",
        "send the body as JSON with `Content-Type: application/json`",
    )
}

/// 404 for a path no route serves.
pub fn not_found() -> Problem {
    Problem::new(StatusCode::NOT_FOUND, "not-found", "no such resource")
}

/// 405 for a known path with a method it does not support.
pub fn method_not_allowed() -> Problem {
    Problem::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method-not-allowed",
        "this resource does not support that method",
    )
}

/// 503 for a request abandoned at the overall timeout.
pub fn timeout() -> Problem {
    Problem::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "timeout",
        "the request took too long and was abandoned",
    )
}

/// A 500 that says nothing of its cause (which the caller logs).
pub fn internal_error() -> Response {
    Problem::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "the server could not complete the request",
    )
    .into_response()
}

/// A 503 the client may retry after [`RETRY_AFTER_SECS`].
pub fn unavailable(detail: &str) -> Response {
    let mut response =
        Problem::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", detail).into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECS));
    response
}

/// A database error as the client sees it: 503 to retry when the database is unreachable or
/// no connection was free in time, else 500; the error itself goes to the log, never the body.
pub fn database(error: &DbErr) -> Response {
    match classify(error) {
        DbFailure::Unavailable => {
            tracing::warn!(%error, "database unavailable");
            unavailable("the service cannot reach its database; retry shortly")
        }
        DbFailure::UniqueViolation | DbFailure::Other => {
            tracing::error!(%error, "database error");
            internal_error()
        }
    }
}

#[cfg(test)]
mod tests {
    use sea_orm::RuntimeErr;

    use super::*;

    async fn body(response: Response) -> String {
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap_or_default();
        String::from_utf8_lossy(&bytes).into_owned()
    }

    #[tokio::test]
    async fn a_database_error_says_nothing_internal() {
        let error = DbErr::Query(RuntimeErr::Internal(
            "syntax error at or near SELECT secret FROM todos".into(),
        ));
        let response = database(&error);
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(
            response.headers()[header::CONTENT_TYPE],
            "application/problem+json"
        );
        let text = body(response).await;
        assert!(
            !text.contains("SELECT") && !text.contains("secret"),
            "{text}"
        );
    }

    #[tokio::test]
    async fn an_unreachable_database_is_a_503_to_retry() {
        let error = DbErr::ConnectionAcquire(sea_orm::ConnAcquireErr::Timeout);
        let response = database(&error);
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()[header::RETRY_AFTER], "1");
    }
}
