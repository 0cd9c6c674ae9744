//! `/api/todos`: a user's own todos. Every handler asks for `todos:own` and reaches the store
//! only through `owned_by(principal)`, so another user's todo is a 404 like a missing one.

use std::convert::Infallible;

use axum::Json;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use service_kit::Problem;
use service_kit::json::{ApiJson, ApiQuery, PageJson};
use service_kit::openapi::responses::{JsonBodyErrors, QueryErrors, ServerErrors, SignedInErrors};
use service_kit::pagination::PageParams;
use shared_claims::{Permission, Principal};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::dto::{CompletedFilter, TodoBody, TodoListView, TodoPatchBody, TodoView, list_query};
use super::error::ApiError;
use crate::store::TodoStore;
use crate::todos::{NewTodo, TodoId, TodoPatch};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_todos, create_todo))
        .routes(routes!(get_todo, update_todo, replace_todo, delete_todo))
}

/// The `{id}` of a todo route; `None` when it cannot name any todo (answered 404 like an
/// unknown id, never 400).
#[derive(Debug)]
pub struct TodoIdParam(pub Option<TodoId>);

impl<S: Send + Sync> FromRequestParts<S> for TodoIdParam {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let raw = Path::<String>::from_request_parts(parts, state).await.ok();
        Ok(TodoIdParam(raw.and_then(|Path(raw)| TodoId::parse(&raw))))
    }
}

/// The answer for an id the caller has no todo under: another user's todo is the same 404.
#[derive(utoipa::IntoResponses)]
#[expect(
    dead_code,
    reason = "only describes a response in the OpenAPI document; never built"
)]
enum NoSuchTodo {
    #[response(
        status = 404,
        description = "You have no todo with this id (it may be another user's)",
        content_type = "application/problem+json"
    )]
    NotFound(Problem),
}

/// The caller's user id, once their token is known to grant `todos:own`.
fn owner(principal: &Principal) -> Result<&str, ApiError> {
    principal.require(Permission::ManageOwnTodos)?;
    Ok(principal.user_id())
}

/// List your todos, newest first.
#[utoipa::path(
    get,
    path = "/api/todos",
    tag = "todos",
    operation_id = "list_todos",
    params(PageParams, CompletedFilter),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "One page of your todos, newest first (ties by id, descending)", body = TodoListView),
        SignedInErrors,
        ServerErrors,
        QueryErrors,
    )
)]
async fn list_todos(
    State(store): State<TodoStore>,
    principal: Principal,
    ApiQuery(page): ApiQuery<PageParams>,
    ApiQuery(completed): ApiQuery<CompletedFilter>,
) -> Result<PageJson<TodoListView>, ApiError> {
    let owner = owner(&principal)?;
    let query = list_query(&page, &completed, None)?;
    let page = store
        .owned_by(owner)
        .list(query.page, query.completed)
        .await?;
    Ok(PageJson(page.into()))
}

/// Create a todo.
#[utoipa::path(
    post,
    path = "/api/todos",
    tag = "todos",
    operation_id = "create_todo",
    request_body(content = TodoBody, content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = TodoView,
            headers(("Location" = String, description = "`/api/todos/{id}` of the new todo"))),
        JsonBodyErrors,
        SignedInErrors,
        ServerErrors,
    )
)]
async fn create_todo(
    State(store): State<TodoStore>,
    principal: Principal,
    ApiJson(body): ApiJson<TodoBody>,
) -> Result<Response, ApiError> {
    let owner = owner(&principal)?;
    let new = NewTodo::validate(body.into())?;
    let todo = store.owned_by(owner).create(new).await?;
    let location = format!("/api/todos/{}", todo.id);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(TodoView::from(todo)),
    )
        .into_response())
}

/// Get one of your todos.
#[utoipa::path(
    get,
    path = "/api/todos/{id}",
    tag = "todos",
    operation_id = "get_todo",
    params(("id" = String, Path, description = "The todo's id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The todo", body = TodoView),
        SignedInErrors,
        ServerErrors,
        NoSuchTodo,
    )
)]
async fn get_todo(
    State(store): State<TodoStore>,
    principal: Principal,
    TodoIdParam(id): TodoIdParam,
) -> Result<Json<TodoView>, ApiError> {
    let owner = owner(&principal)?;
    let id = id.ok_or(ApiError::TodoNotFound)?;
    let todo = store
        .owned_by(owner)
        .get(&id)
        .await?
        .ok_or(ApiError::TodoNotFound)?;
    Ok(Json(todo.into()))
}

/// Change some fields of one of your todos.
#[utoipa::path(
    patch,
    path = "/api/todos/{id}",
    tag = "todos",
    operation_id = "update_todo",
    params(("id" = String, Path, description = "The todo's id")),
    request_body(content = TodoPatchBody, content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The changed todo", body = TodoView),
        JsonBodyErrors,
        SignedInErrors,
        ServerErrors,
        NoSuchTodo,
    )
)]
async fn update_todo(
    State(store): State<TodoStore>,
    principal: Principal,
    TodoIdParam(id): TodoIdParam,
    ApiJson(body): ApiJson<TodoPatchBody>,
) -> Result<Json<TodoView>, ApiError> {
    let owner = owner(&principal)?;
    let patch = TodoPatch::validate(body.into())?;
    let id = id.ok_or(ApiError::TodoNotFound)?;
    let todo = store
        .owned_by(owner)
        .update(&id, &patch)
        .await?
        .ok_or(ApiError::TodoNotFound)?;
    Ok(Json(todo.into()))
}

/// Replace one of your todos (an omitted description becomes `""`, an omitted `completed`
/// `false`).
#[utoipa::path(
    put,
    path = "/api/todos/{id}",
    tag = "todos",
    operation_id = "replace_todo",
    params(("id" = String, Path, description = "The todo's id")),
    request_body(content = TodoBody, content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The replaced todo", body = TodoView),
        JsonBodyErrors,
        SignedInErrors,
        ServerErrors,
        NoSuchTodo,
    )
)]
async fn replace_todo(
    State(store): State<TodoStore>,
    principal: Principal,
    TodoIdParam(id): TodoIdParam,
    ApiJson(body): ApiJson<TodoBody>,
) -> Result<Json<TodoView>, ApiError> {
    let owner = owner(&principal)?;
    let replacement = TodoPatch::from(NewTodo::validate(body.into())?);
    let id = id.ok_or(ApiError::TodoNotFound)?;
    let todo = store
        .owned_by(owner)
        .update(&id, &replacement)
        .await?
        .ok_or(ApiError::TodoNotFound)?;
    Ok(Json(todo.into()))
}

/// Delete one of your todos.
#[utoipa::path(
    delete,
    path = "/api/todos/{id}",
    tag = "todos",
    operation_id = "delete_todo",
    params(("id" = String, Path, description = "The todo's id")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        SignedInErrors,
        ServerErrors,
        NoSuchTodo,
    )
)]
async fn delete_todo(
    State(store): State<TodoStore>,
    principal: Principal,
    TodoIdParam(id): TodoIdParam,
) -> Result<StatusCode, ApiError> {
    let owner = owner(&principal)?;
    let id = id.ok_or(ApiError::TodoNotFound)?;
    if store.owned_by(owner).delete(&id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::TodoNotFound)
    }
}
