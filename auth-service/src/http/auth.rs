//! Register, login, refresh, logout.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use secrecy::SecretString;
use serde::Deserialize;
use service_kit::Problem;
use service_kit::json::{ApiJson, OptionalApiJson};
use service_kit::openapi::responses::{JsonBodyErrors, ServerErrors, SignedInErrors};
use shared_claims::{Permission, Role};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::client::ClientIp;
use super::dto::{Tokens, UserBody, name_schema};
use super::error::ApiResult;
use super::state::AppState;
use crate::accounts::Accounts;
use crate::accounts::Registration;
use crate::audit::AuditLog;
use crate::limits::RateLimits;
use crate::sessions::Caller;
use crate::sessions::Sessions;
use std::sync::Arc;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register))
        .routes(routes!(login))
        .routes(routes!(refresh))
        .routes(routes!(logout))
        .routes(routes!(logout_all))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RegisterBody {
    #[schema(format = Email, max_length = 254)]
    pub email: String,
    #[schema(min_length = 8, max_length = 128)]
    pub password: String,
    #[schema(schema_with = name_schema)]
    pub first_name: Option<String>,
    #[schema(schema_with = name_schema)]
    pub last_name: Option<String>,
}

/// Creates an account (role `user`).
#[utoipa::path(post, path = "/api/auth/register", tag = "auth", request_body = RegisterBody,
    responses(
        (status = 201, description = "Created", body = UserBody),
        JsonBodyErrors,
        ServerErrors,
        (status = 409, description = "Email already registered", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Rate limited", body = Problem, content_type = "application/problem+json"),
    ))]
async fn register(
    State(rates): State<Arc<RateLimits>>,
    State(accounts): State<Accounts>,
    State(audit): State<AuditLog>,
    ClientIp(ip): ClientIp,
    ApiJson(body): ApiJson<RegisterBody>,
) -> ApiResult<impl IntoResponse> {
    rates.check_register(ip)?;
    let user = accounts
        .register(
            Registration {
                email: body.email,
                password: SecretString::from(body.password),
                first_name: body.first_name,
                last_name: body.last_name,
            },
            Role::User,
        )
        .await?;
    audit
        .record(
            crate::audit::Event::Register,
            Some(&user.id),
            ip,
            serde_json::json!({}),
        )
        .await;
    Ok((StatusCode::CREATED, axum::Json(UserBody::from(user))))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct LoginBody {
    pub email: String,
    pub password: String,
}

/// Exchanges an email and password for an access and a refresh token.
#[utoipa::path(post, path = "/api/auth/login", tag = "auth", request_body = LoginBody,
    responses(
        Tokens,
        JsonBodyErrors,
        ServerErrors,
        (status = 401, description = "Wrong email or password", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Account deactivated", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many failures", body = Problem, content_type = "application/problem+json"),
    ))]
async fn login(
    State(sessions): State<Sessions>,
    ClientIp(ip): ClientIp,
    ApiJson(body): ApiJson<LoginBody>,
) -> ApiResult<Tokens> {
    let grant = sessions
        .login(&body.email, SecretString::from(body.password), ip)
        .await?;
    Ok(Tokens(grant.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RefreshBody {
    pub refresh_token: String,
}

/// Rotates a refresh token: the one sent is spent, a new pair comes back.
#[utoipa::path(post, path = "/api/auth/refresh", tag = "auth", request_body = RefreshBody,
    responses(
        Tokens,
        JsonBodyErrors,
        ServerErrors,
        (status = 401, description = "Invalid, used, revoked or expired", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Rate limited", body = Problem, content_type = "application/problem+json"),
    ))]
async fn refresh(
    State(sessions): State<Sessions>,
    ClientIp(ip): ClientIp,
    ApiJson(body): ApiJson<RefreshBody>,
) -> ApiResult<Tokens> {
    let grant = sessions.refresh(&body.refresh_token, ip).await?;
    Ok(Tokens(grant.into()))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct LogoutBody {
    /// Also end the session of this refresh token (if it is the same user's).
    pub refresh_token: Option<String>,
}

/// Ends the bearer's session: its refresh tokens stop working.
#[utoipa::path(post, path = "/api/auth/logout", tag = "auth", request_body(content = Option<LogoutBody>),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Session ended"),
        JsonBodyErrors,
        SignedInErrors,
        ServerErrors,
    ))]
async fn logout(
    State(sessions): State<Sessions>,
    ClientIp(ip): ClientIp,
    caller: Caller,
    OptionalApiJson(body): OptionalApiJson<LogoutBody>,
) -> ApiResult<StatusCode> {
    caller.require(Permission::ManageOwnAccount)?;
    sessions
        .logout(&caller, body.refresh_token.as_deref(), ip)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Ends every session of the bearer's user.
#[utoipa::path(post, path = "/api/auth/logout-all", tag = "auth", security(("bearer" = [])),
    responses(
        (status = 204, description = "Every session ended"),
        SignedInErrors,
        ServerErrors,
    ))]
async fn logout_all(
    State(sessions): State<Sessions>,
    ClientIp(ip): ClientIp,
    caller: Caller,
) -> ApiResult<StatusCode> {
    caller.require(Permission::ManageOwnAccount)?;
    sessions.logout_all(&caller, ip).await?;
    Ok(StatusCode::NO_CONTENT)
}
