//! The JSON shapes of the API, as the OpenAPI document publishes them: request bodies, query
//! parameters and responses, and their conversions from and to the domain.

use serde::{Deserialize, Serialize};
use service_kit::pagination::PageParams;
use service_kit::timestamp::Timestamp;
use utoipa::{IntoParams, ToSchema};

use crate::todos::{
    Field, Invalid, ListQuery, OwnerTally, Pagination, Report, Todo, TodoInput, TodoPage,
};

/// A todo.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Todo)]
pub struct TodoView {
    #[schema(format = Uuid)]
    pub id: String,
    /// The owner (the `sub` of their access token).
    pub user_id: String,
    pub title: String,
    pub description: String,
    pub completed: bool,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

impl From<Todo> for TodoView {
    fn from(todo: Todo) -> Self {
        TodoView {
            id: todo.id.into_string(),
            user_id: todo.user_id,
            title: todo.title,
            description: todo.description,
            completed: todo.completed,
            created_at: todo.created_at,
            updated_at: todo.updated_at,
        }
    }
}

/// One page of todos, newest first.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = TodoList)]
pub struct TodoListView {
    pub todos: Vec<TodoView>,
    pub pagination: Pagination,
}

impl From<TodoPage> for TodoListView {
    fn from(page: TodoPage) -> Self {
        TodoListView {
            todos: page.todos.into_iter().map(TodoView::from).collect(),
            pagination: page.pagination,
        }
    }
}

/// One owner's counts.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = UserTally)]
pub struct UserTallyView {
    pub user_id: String,
    pub todos: u64,
    pub completed: u64,
}

/// Counts over every user's todos.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Report)]
pub struct ReportView {
    /// Distinct owners of at least one todo.
    pub users: u64,
    pub todos: u64,
    pub completed: u64,
    /// By `todos` descending, then `user_id` ascending.
    pub per_user: Vec<UserTallyView>,
}

impl From<Report> for ReportView {
    fn from(report: Report) -> Self {
        ReportView {
            users: report.users,
            todos: report.todos,
            completed: report.completed,
            per_user: report
                .per_user
                .into_iter()
                .map(
                    |OwnerTally {
                         user_id,
                         todos,
                         completed,
                     }| UserTallyView {
                        user_id,
                        todos,
                        completed,
                    },
                )
                .collect(),
        }
    }
}

/// A title's schema, from the rule the domain checks it with.
fn title_schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    crate::todos::TITLE.schema(
        false,
        "1–255 characters once leading and trailing whitespace is trimmed (stored trimmed), no \
         NUL. The pattern says exactly that, so whitespace around the 255 is free: Unicode's, and \
         U+001C–U+001F, which most regular-expression engines count as `\\s` too.",
    )
}

/// A whole todo: to create (POST) or to replace one (PUT). Unknown members are ignored.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = TodoFields)]
pub struct TodoBody {
    #[serde(default)]
    #[schema(schema_with = title_schema, required = true)]
    pub title: Field<String>,
    /// At most 10,000 characters; `""` when omitted.
    #[serde(default)]
    #[schema(value_type = String, max_length = 10000, pattern = r"^[^\u0000]*$")]
    pub description: Field<String>,
    /// `false` when omitted.
    #[serde(default)]
    #[schema(value_type = bool)]
    pub completed: Field<bool>,
}

/// Any subset of a todo's fields; `{}` changes nothing. Unknown members are ignored.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = TodoChanges)]
pub struct TodoPatchBody {
    #[serde(default)]
    #[schema(schema_with = title_schema)]
    pub title: Field<String>,
    /// At most 10,000 characters.
    #[serde(default)]
    #[schema(value_type = String, max_length = 10000, pattern = r"^[^\u0000]*$")]
    pub description: Field<String>,
    #[serde(default)]
    #[schema(value_type = bool)]
    pub completed: Field<bool>,
}

impl From<TodoBody> for TodoInput {
    fn from(body: TodoBody) -> Self {
        TodoInput {
            title: body.title,
            description: body.description,
            completed: body.completed,
        }
    }
}

impl From<TodoPatchBody> for TodoInput {
    fn from(body: TodoPatchBody) -> Self {
        TodoInput {
            title: body.title,
            description: body.description,
            completed: body.completed,
        }
    }
}

/// `?completed` of both lists. The value arrives as text and is checked by the domain, so that
/// an invalid one is a 422 naming it.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CompletedFilter {
    /// Only completed (`true`) or open (`false`) todos.
    #[param(value_type = Option<bool>)]
    pub completed: Option<String>,
}

/// `?user_id` of the admin list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OwnerFilter {
    /// Only this user's todos.
    #[param(value_type = Option<String>, pattern = r"^[^\u0000]*$")]
    pub user_id: Option<String>,
}

/// A list request from its parameters: the page, then the filters.
pub fn list_query(
    page: &PageParams,
    completed: &CompletedFilter,
    owner: Option<&OwnerFilter>,
) -> Result<ListQuery, Invalid> {
    ListQuery::parse(
        page.parse(),
        completed.completed.as_deref(),
        owner.and_then(|o| o.user_id.as_deref()),
    )
}
