//! `/api/admin`: every user's todos and the report, for a token granting `todos:all:read` or
//! `reports:read` (an admin's); anyone else gets 403 `insufficient_scope`.

use axum::Json;
use axum::extract::State;
use service_kit::json::{ApiQuery, PageJson};
use service_kit::openapi::responses::{BearerErrors, QueryErrors, ServerErrors};
use service_kit::pagination::PageParams;
use shared_claims::{Permission, Principal};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::dto::{CompletedFilter, OwnerFilter, ReportView, TodoListView, list_query};
use super::error::ApiError;
use crate::store::TodoStore;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_all_todos))
        .routes(routes!(report))
}

/// List every user's todos, newest first.
#[utoipa::path(
    get,
    path = "/api/admin/todos",
    tag = "admin",
    operation_id = "list_all_todos",
    params(OwnerFilter, PageParams, CompletedFilter),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "One page of every user's todos, newest first (ties by id, descending)", body = TodoListView),
        BearerErrors,
        ServerErrors,
        QueryErrors,
    )
)]
async fn list_all_todos(
    State(store): State<TodoStore>,
    principal: Principal,
    ApiQuery(owner): ApiQuery<OwnerFilter>,
    ApiQuery(page): ApiQuery<PageParams>,
    ApiQuery(completed): ApiQuery<CompletedFilter>,
) -> Result<PageJson<TodoListView>, ApiError> {
    principal.require(Permission::ReadAllTodos)?;
    let query = list_query(&page, &completed, Some(&owner))?;
    Ok(PageJson(store.list_all(&query).await?.into()))
}

/// Counts over every user's todos.
#[utoipa::path(
    get,
    path = "/api/admin/reports",
    tag = "admin",
    operation_id = "report",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Totals, and counts per owner by `todos` descending then `user_id`", body = ReportView),
        BearerErrors,
        ServerErrors,
    )
)]
async fn report(
    State(store): State<TodoStore>,
    principal: Principal,
) -> Result<Json<ReportView>, ApiError> {
    principal.require(Permission::ViewReports)?;
    Ok(Json(store.report().await?.into()))
}
