//! The one error type of the handlers, and its problem+json rendering. 5xx bodies say nothing
//! internal; the cause is logged inside the request's span.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use sea_orm::DbErr;
use service_kit::Problem;
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

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::Auth(error) => error.into_response(),
            ApiError::Invalid(Invalid(errors)) => {
                service_kit::problem::validation(errors).into_response()
            }
            ApiError::TodoNotFound => {
                Problem::new(StatusCode::NOT_FOUND, "not-found", "no todo with this id")
                    .into_response()
            }
            ApiError::Database(error) => service_kit::problem::database(&error),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use service_kit::FieldError;

    async fn body(response: Response) -> serde_json::Value {
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[tokio::test]
    async fn violations_become_field_errors() {
        let response =
            ApiError::Invalid(Invalid(vec![FieldError::new("title", "too long")])).into_response();
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body = body(response).await;
        assert_eq!(body["errors"][0]["field"], "title");
        assert_eq!(body["status"], 422);
    }
}
