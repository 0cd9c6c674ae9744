//! User administration and the audit log (admins only).

use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};
use service_kit::Problem;
use service_kit::json::{ApiJson, ApiQuery};
use service_kit::openapi::responses::{BearerErrors, JsonBodyErrors, QueryErrors, ServerErrors};
use service_kit::pagination::{PageParams, Pagination};
use service_kit::timestamp::Timestamp;
use shared_claims::{Permission, Role};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::client::ClientIp;
use super::dto::{UserBody, UserList};
use super::error::ApiResult;
use super::state::AppState;
use crate::accounts::admin::Admin;
use crate::accounts::admin::UserChange;
use crate::audit::AuditLog;
use crate::error::Error;
use crate::sessions::Caller;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_users))
        .routes(routes!(get_user, patch_user))
        .routes(routes!(audit))
}

/// Every user, newest first.
#[utoipa::path(get, path = "/api/admin/users", tag = "admin", params(PageParams), security(("bearer" = [])),
    responses(
        (status = 200, description = "Users", body = UserList),
        BearerErrors,
        ServerErrors,
        QueryErrors,
    ))]
async fn list_users(
    State(admin): State<Admin>,
    caller: Caller,
    ApiQuery(page): ApiQuery<PageParams>,
) -> ApiResult<axum::Json<UserList>> {
    caller.require(Permission::ManageUsers)?;
    let page = page.parse().map_err(Error::Validation)?;
    let (users, total) = admin.list(page.offset(), page.limit()).await?;
    Ok(axum::Json(UserList {
        users: users.into_iter().map(UserBody::from).collect(),
        pagination: page.pagination(total),
    }))
}

/// One user.
#[utoipa::path(get, path = "/api/admin/users/{id}", tag = "admin", params(("id" = String, Path)), security(("bearer" = [])),
    responses(
        (status = 200, description = "User", body = UserBody),
        BearerErrors,
        ServerErrors,
        (status = 404, description = "No such user", body = Problem, content_type = "application/problem+json"),
    ))]
async fn get_user(
    State(admin): State<Admin>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<UserBody>> {
    caller.require(Permission::ManageUsers)?;
    Ok(axum::Json(admin.get(&id).await?.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct UserPatch {
    pub role: Option<Role>,
    pub is_active: Option<bool>,
}

/// Changes a user's role or active state. Deactivating ends every session of the user; the
/// last active admin cannot be demoted or deactivated (409).
#[utoipa::path(patch, path = "/api/admin/users/{id}", tag = "admin", params(("id" = String, Path)), request_body = UserPatch, security(("bearer" = [])),
    responses(
        (status = 200, description = "User", body = UserBody),
        JsonBodyErrors,
        BearerErrors,
        ServerErrors,
        (status = 404, description = "No such user", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The last active admin", body = Problem, content_type = "application/problem+json"),
    ))]
async fn patch_user(
    State(admin): State<Admin>,
    ClientIp(ip): ClientIp,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UserPatch>,
) -> ApiResult<axum::Json<UserBody>> {
    caller.require(Permission::ManageUsers)?;
    let change = UserChange {
        role: body.role,
        is_active: body.is_active,
    };
    Ok(axum::Json(
        admin.change(&caller, &id, change, ip).await?.into(),
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditParams {
    /// Only this user's events.
    #[param(pattern = r"^[^\u0000]*$")]
    pub user_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEventBody {
    pub id: String,
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
    pub event: String,
    pub user_id: Option<String>,
    pub ip: Option<String>,
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditList {
    pub events: Vec<AuditEventBody>,
    pub pagination: Pagination,
}

/// The audit log, newest first.
#[utoipa::path(get, path = "/api/admin/audit", tag = "admin", params(AuditParams, PageParams), security(("bearer" = [])),
    responses(
        (status = 200, description = "Events", body = AuditList),
        BearerErrors,
        ServerErrors,
        QueryErrors,
    ))]
async fn audit(
    State(audit): State<AuditLog>,
    caller: Caller,
    ApiQuery(query): ApiQuery<AuditParams>,
    ApiQuery(page): ApiQuery<PageParams>,
) -> ApiResult<axum::Json<AuditList>> {
    caller.require(Permission::ReadAudit)?;
    let page = page.parse().map_err(Error::Validation)?;
    let (events, total) = audit
        .page(query.user_id.as_deref(), page.offset(), page.limit())
        .await?;
    Ok(axum::Json(AuditList {
        events: events
            .into_iter()
            .map(|e| AuditEventBody {
                id: e.id,
                at: e.at,
                event: e.event,
                user_id: e.user_id,
                ip: e.ip,
                detail: e.detail,
            })
            .collect(),
        pagination: page.pagination(total),
    }))
}
