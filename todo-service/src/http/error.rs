//! The one error type of the handlers, and its problem+json rendering. 5xx bodies say nothing
//! internal; the cause is logged inside the request's span.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sea_orm::DbErr;
use service_kit::db::{DbFailure, classify};
use service_kit::json::validation_problem;
use service_kit::{FieldError, Problem};
use shared_claims::AuthError;

use crate::todos::Invalid;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No token, a token that does not verify, or one without the permission (401/403).
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// Fields or query parameters that break a rule (422).
    #[error(transparent)]
    Invalid(#[from] Invalid),
    /// No such todo for this user: it does not exist, belongs to someone else, or the id is
    /// malformed (404, whichever).
    #[error("no such todo")]
    TodoNotFound,
    /// 503 when the database is unreachable or busy, 500 otherwise.
    #[error("database error: {0}")]
    Database(#[from] DbErr),
}

/// Seconds a client is asked to wait after a 503.
const RETRY_AFTER_SECS: &str = "1";

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::Auth(error) => error.into_response(),
            ApiError::Invalid(Invalid(violations)) => validation_problem(
                violations
                    .into_iter()
                    .map(|v| FieldError::new(v.field, v.message))
                    .collect(),
            )
            .into_response(),
            ApiError::TodoNotFound => {
                Problem::new(StatusCode::NOT_FOUND, "not-found", "no todo with this id")
                    .into_response()
            }
            ApiError::Database(error) => match classify(&error) {
                DbFailure::Unavailable => {
                    tracing::warn!(%error, "database unavailable");
                    let mut response = Problem::new(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "unavailable",
                        "the service cannot reach its database; retry shortly",
                    )
                    .into_response();
                    response.headers_mut().insert(
                        header::RETRY_AFTER,
                        HeaderValue::from_static(RETRY_AFTER_SECS),
                    );
                    response
                }
                DbFailure::UniqueViolation | DbFailure::Other => {
                    tracing::error!(%error, "database error");
                    service_kit::layers::internal_error()
                }
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use sea_orm::RuntimeErr;

    use super::*;
    use crate::todos::Violation;

    async fn body(response: Response) -> serde_json::Value {
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[tokio::test]
    async fn a_database_error_says_nothing_internal() {
        let error = DbErr::Query(RuntimeErr::Internal(
            "syntax error at or near SELECT secret FROM todos".into(),
        ));
        let response = ApiError::Database(error).into_response();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(
            response.headers()[header::CONTENT_TYPE],
            "application/problem+json"
        );
        let text = body(response).await.to_string();
        assert!(
            !text.contains("SELECT") && !text.contains("secret"),
            "{text}"
        );
    }

    #[tokio::test]
    async fn an_unreachable_database_is_a_503_to_retry() {
        let error = DbErr::ConnectionAcquire(sea_orm::ConnAcquireErr::Timeout);
        let response = ApiError::Database(error).into_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()[header::RETRY_AFTER], "1");
    }

    #[tokio::test]
    async fn violations_become_field_errors() {
        let response =
            ApiError::Invalid(Invalid(vec![Violation::new("title", "too long")])).into_response();
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body = body(response).await;
        assert_eq!(body["errors"][0]["field"], "title");
        assert_eq!(body["status"], 422);
    }
}
