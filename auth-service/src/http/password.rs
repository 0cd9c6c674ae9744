//! Forgotten passwords: request a reset token, then use it.

use axum::extract::State;
use axum::http::StatusCode;
use secrecy::SecretString;
use serde::Deserialize;
use service_kit::Problem;
use service_kit::json::ApiJson;
use service_kit::openapi::responses::{JsonBodyErrors, ServerErrors};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::client::ClientIp;
use super::error::ApiResult;
use super::state::AppState;
use crate::reset::PasswordResets;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(forgot))
        .routes(routes!(reset))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ForgotBody {
    #[schema(format = Email)]
    pub email: String,
}

/// Sends a reset token to the account's email, if there is such an account. Always 202.
#[utoipa::path(post, path = "/api/auth/password/forgot", tag = "password", request_body = ForgotBody,
    responses(
        (status = 202, description = "Accepted, whether or not the account exists"),
        JsonBodyErrors,
        ServerErrors,
        (status = 422, description = "Not an email address", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Rate limited", body = Problem, content_type = "application/problem+json"),
    ))]
async fn forgot(
    State(resets): State<PasswordResets>,
    ClientIp(ip): ClientIp,
    ApiJson(body): ApiJson<ForgotBody>,
) -> ApiResult<StatusCode> {
    resets.request(&body.email, ip).await?;
    Ok(StatusCode::ACCEPTED)
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ResetBody {
    pub token: String,
    #[schema(min_length = 8, max_length = 128)]
    pub new_password: String,
}

/// Sets a new password with a reset token; the token works once and every session ends.
#[utoipa::path(post, path = "/api/auth/password/reset", tag = "password", request_body = ResetBody,
    responses(
        (status = 204, description = "Password set"),
        JsonBodyErrors,
        ServerErrors,
        (status = 400, description = "Malformed JSON, or an unknown, used or expired token", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A refused password", body = Problem, content_type = "application/problem+json"),
    ))]
async fn reset(
    State(resets): State<PasswordResets>,
    ClientIp(ip): ClientIp,
    ApiJson(body): ApiJson<ResetBody>,
) -> ApiResult<StatusCode> {
    resets
        .reset(&body.token, SecretString::from(body.new_password), ip)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
