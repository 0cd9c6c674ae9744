//! The bearer's own account: profile and password.

use axum::extract::State;
use axum::http::StatusCode;
use secrecy::SecretString;
use serde::Deserialize;
use service_kit::Problem;
use service_kit::json::ApiJson;
use service_kit::openapi::responses::{JsonBodyErrors, ServerErrors, SignedInErrors};
use shared_claims::Permission;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::client::ClientIp;
use service_kit::field::Field;

use super::dto::{UserBody, name_change_schema};
use super::error::ApiResult;
use super::state::AppState;
use crate::accounts::Accounts;
use crate::sessions::Caller;
use crate::sessions::Sessions;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_profile, patch_profile))
        .routes(routes!(change_password))
}

/// The bearer's profile.
#[utoipa::path(get, path = "/api/auth/profile", tag = "account", security(("bearer" = [])),
    responses(
        (status = 200, description = "Profile", body = UserBody),
        SignedInErrors,
        ServerErrors,
    ))]
async fn get_profile(caller: Caller) -> ApiResult<axum::Json<UserBody>> {
    caller.require(Permission::ManageOwnAccount)?;
    Ok(axum::Json(caller.user.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ProfilePatch {
    #[serde(default)]
    #[schema(schema_with = name_change_schema)]
    pub first_name: Field<String>,
    #[serde(default)]
    #[schema(schema_with = name_change_schema)]
    pub last_name: Field<String>,
}

/// Changes the bearer's names.
#[utoipa::path(patch, path = "/api/auth/profile", tag = "account", security(("bearer" = [])), request_body = ProfilePatch,
    responses(
        (status = 200, description = "Profile", body = UserBody),
        JsonBodyErrors,
        SignedInErrors,
        ServerErrors,
    ))]
async fn patch_profile(
    State(accounts): State<Accounts>,
    caller: Caller,
    ApiJson(body): ApiJson<ProfilePatch>,
) -> ApiResult<axum::Json<UserBody>> {
    caller.require(Permission::ManageOwnAccount)?;
    let user = accounts
        .update_profile(
            caller.user_id(),
            body.first_name.into_change(),
            body.last_name.into_change(),
        )
        .await?;
    Ok(axum::Json(user.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct PasswordChange {
    pub current_password: String,
    #[schema(min_length = 8, max_length = 128)]
    pub new_password: String,
}

/// Changes the bearer's password; the user's other sessions end.
#[utoipa::path(post, path = "/api/auth/password/change", tag = "account", security(("bearer" = [])), request_body = PasswordChange,
    responses(
        (status = 204, description = "Changed"),
        JsonBodyErrors,
        SignedInErrors,
        ServerErrors,
        (status = 422, description = "Wrong current password or a refused new one", body = Problem, content_type = "application/problem+json"),
    ))]
async fn change_password(
    State(sessions): State<Sessions>,
    ClientIp(ip): ClientIp,
    caller: Caller,
    ApiJson(body): ApiJson<PasswordChange>,
) -> ApiResult<StatusCode> {
    caller.require(Permission::ManageOwnAccount)?;
    sessions
        .change_password(
            &caller,
            SecretString::from(body.current_password),
            SecretString::from(body.new_password),
            ip,
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
