//! Storage: the `todos` table through sea-orm, on PostgreSQL or SQLite, and `todo_counts`,
//! the per-owner counts every write keeps in step.
//!
//! A user's todos are reached only through [`TodoStore::owned_by`], whose every query filters
//! by owner: another user's todo cannot be read, changed or deleted through it, whatever id is
//! asked for. Reading across owners is the admin list and the report, and nothing else.

pub mod counts;
pub mod entity;
pub mod migrations;

use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    ExprTrait, QueryFilter, QueryResult, Select, TransactionTrait, Value,
};
use service_kit::db::statement;
use service_kit::timestamp::Timestamp;

use crate::todos::{
    ListQuery, NewTodo, OwnerTally, Page, Pagination, Report, Todo, TodoId, TodoPage, TodoPatch,
};
use counts::Counts;
use entity::{Column, Entity};
pub use migrations::Migrator;

#[derive(Debug, Clone)]
pub struct TodoStore {
    db: DatabaseConnection,
}

impl TodoStore {
    pub fn new(db: DatabaseConnection) -> TodoStore {
        TodoStore { db }
    }

    pub fn connection(&self) -> &DatabaseConnection {
        &self.db
    }

    /// The todos of one owner, and only theirs.
    pub fn owned_by<'a>(&'a self, owner: &'a str) -> OwnerTodos<'a> {
        OwnerTodos {
            db: &self.db,
            owner,
        }
    }

    /// Every owner's todos (the admin list), optionally filtered by owner and state.
    pub async fn list_all(&self, query: &ListQuery) -> Result<TodoPage, DbErr> {
        match &query.user_id {
            Some(owner) => list_owned(&self.db, owner, query.page, query.completed).await,
            None => {
                let counts = counts::sum(&self.db).await?;
                let total = filtered_total(counts, query.completed);
                let todos = if query.page.is_past(total) {
                    Vec::new()
                } else {
                    page(&self.db, None, query.page, query.completed).await?.0
                };
                Ok(TodoPage {
                    todos,
                    pagination: Pagination::new(query.page, total),
                })
            }
        }
    }

    /// Counts per owner, read from `todo_counts` in one query; the totals are sums over its rows.
    pub async fn report(&self) -> Result<Report, DbErr> {
        let owners = counts::owners(&self.db).await?;
        Ok(Report::from_tallies(
            owners
                .into_iter()
                .map(|(user_id, (todos, completed))| OwnerTally {
                    user_id,
                    todos,
                    completed,
                })
                .collect(),
        ))
    }

    /// Stores `todo` exactly as given, times included (imports and tests).
    pub async fn insert(&self, todo: &Todo) -> Result<(), DbErr> {
        let txn = self.db.begin().await?;
        insert(&txn, todo).await?;
        txn.commit().await
    }
}

/// Inserts a todo and counts it.
async fn insert(db: &impl ConnectionTrait, todo: &Todo) -> Result<(), DbErr> {
    let row = entity::ActiveModel {
        id: Set(todo.id.as_str().to_owned()),
        user_id: Set(todo.user_id.clone()),
        title: Set(todo.title.clone()),
        description: Set(todo.description.clone()),
        completed: Set(todo.completed),
        created_at: Set(todo.created_at.micros()),
        updated_at: Set(todo.updated_at.micros()),
    };
    Entity::insert(row).exec_without_returning(db).await?;
    counts::add(db, &todo.user_id, 1, i64::from(todo.completed)).await
}

/// One owner's todos: every query here is filtered by `owner`.
#[derive(Debug, Clone, Copy)]
pub struct OwnerTodos<'a> {
    db: &'a DatabaseConnection,
    owner: &'a str,
}

impl OwnerTodos<'_> {
    fn scope(&self) -> Select<Entity> {
        Entity::find().filter(Column::UserId.eq(self.owner))
    }

    pub async fn list(&self, page: Page, completed: Option<bool>) -> Result<TodoPage, DbErr> {
        list_owned(self.db, self.owner, page, completed).await
    }

    pub async fn get(&self, id: &TodoId) -> Result<Option<Todo>, DbErr> {
        let row = self
            .scope()
            .filter(Column::Id.eq(id.as_str()))
            .one(self.db)
            .await?;
        Ok(row.map(Todo::from))
    }

    pub async fn create(&self, new: NewTodo) -> Result<Todo, DbErr> {
        let now = Timestamp::now();
        let todo = Todo {
            id: TodoId::generate(),
            user_id: self.owner.to_owned(),
            title: new.title().to_owned(),
            description: new.description().to_owned(),
            completed: new.completed(),
            created_at: now,
            updated_at: now,
        };
        let txn = self.db.begin().await?;
        insert(&txn, &todo).await?;
        txn.commit().await?;
        Ok(todo)
    }

    /// Applies `patch` in one statement; `None` when the owner has no such todo. An empty patch
    /// changes nothing, `updated_at` included.
    pub async fn update(&self, id: &TodoId, patch: &TodoPatch) -> Result<Option<Todo>, DbErr> {
        if patch.is_empty() {
            return self.get(id).await;
        }
        let txn = self.db.begin().await?;
        // A change of state is counted once however many requests race: only the statement
        // that actually flips the row sees it affected.
        if let Some(completed) = patch.completed() {
            let flipped = Entity::update_many()
                .col_expr(Column::Completed, Expr::val(completed))
                .filter(Column::UserId.eq(self.owner))
                .filter(Column::Id.eq(id.as_str()))
                .filter(Column::Completed.ne(completed))
                .exec(&txn)
                .await?
                .rows_affected;
            if flipped == 1 {
                counts::add(&txn, self.owner, 0, if completed { 1 } else { -1 }).await?;
            }
        }
        let mut update = Entity::update_many()
            .filter(Column::UserId.eq(self.owner))
            .filter(Column::Id.eq(id.as_str()));
        if let Some(title) = patch.title() {
            update = update.col_expr(Column::Title, Expr::val(title));
        }
        if let Some(description) = patch.description() {
            update = update.col_expr(Column::Description, Expr::val(description));
        }
        if let Some(completed) = patch.completed() {
            update = update.col_expr(Column::Completed, Expr::val(completed));
        }
        // Strictly later than before, even should the clock step back or two writes share a
        // microsecond.
        let now = Timestamp::now().micros();
        let updated_at = Expr::case(
            Expr::col(Column::UpdatedAt).gte(now),
            Expr::col(Column::UpdatedAt).add(1),
        )
        .finally(now);
        update = update.col_expr(Column::UpdatedAt, updated_at.into());
        let rows = update.exec_with_returning(&txn).await?;
        txn.commit().await?;
        Ok(rows.into_iter().next().map(Todo::from))
    }

    /// Whether the owner had such a todo.
    pub async fn delete(&self, id: &TodoId) -> Result<bool, DbErr> {
        let txn = self.db.begin().await?;
        let Some(todo) = self
            .scope()
            .filter(Column::Id.eq(id.as_str()))
            .one(&txn)
            .await?
        else {
            return Ok(false);
        };
        let deleted = Entity::delete_many()
            .filter(Column::UserId.eq(self.owner))
            .filter(Column::Id.eq(id.as_str()))
            .exec(&txn)
            .await?
            .rows_affected
            == 1;
        if deleted {
            counts::add(&txn, self.owner, -1, -i64::from(todo.completed)).await?;
        }
        txn.commit().await?;
        Ok(deleted)
    }
}

/// The total a list shows, from the owner's counts and the `completed` filter.
fn filtered_total((total, completed): Counts, filter: Option<bool>) -> u64 {
    match filter {
        None => total,
        Some(true) => completed,
        Some(false) => total.saturating_sub(completed),
    }
}

/// One owner's page, newest first (ties by id, descending). A first page is one query: the
/// owner's counts ride along as scalar subqueries. Deeper pages read the counts first, so a
/// page past the end costs no scan.
async fn list_owned(
    db: &DatabaseConnection,
    owner: &str,
    page_request: Page,
    completed: Option<bool>,
) -> Result<TodoPage, DbErr> {
    let (todos, counts) = if page_request.offset() == 0 {
        match page(db, Some(owner), page_request, completed).await? {
            (todos, Some(counts)) => (todos, counts),
            (todos, None) => (todos, counts::of(db, owner).await?),
        }
    } else {
        let counts = counts::of(db, owner).await?;
        if page_request.is_past(filtered_total(counts, completed)) {
            (Vec::new(), counts)
        } else {
            (
                page(db, Some(owner), page_request, completed).await?.0,
                counts,
            )
        }
    };
    Ok(TodoPage {
        todos,
        pagination: Pagination::new(page_request, filtered_total(counts, completed)),
    })
}

/// One page through the `(user_id, created_at, id)` or `(created_at, id)` index; with an owner,
/// also that owner's counts (when the page has a row to carry them).
async fn page(
    db: &DatabaseConnection,
    owner: Option<&str>,
    page: Page,
    completed: Option<bool>,
) -> Result<(Vec<Todo>, Option<Counts>), DbErr> {
    let mut values: Vec<Value> = Vec::new();
    let mut conditions = Vec::new();
    let mut counts_columns = String::new();
    if let Some(owner) = owner {
        values.push(owner.into());
        conditions.push("user_id = $1".to_owned());
        counts_columns = ", (SELECT total FROM todo_counts WHERE user_id = $1) AS owner_total, \
                          (SELECT completed FROM todo_counts WHERE user_id = $1) AS owner_completed"
            .to_owned();
    }
    if let Some(completed) = completed {
        values.push(completed.into());
        conditions.push(format!("completed = ${}", values.len()));
    }
    let filter = if conditions.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", conditions.join(" AND "))
    };
    values.push(i64::try_from(page.limit()).unwrap_or(i64::MAX).into());
    values.push(i64::try_from(page.offset()).unwrap_or(i64::MAX).into());
    let sql = format!(
        "SELECT {PAGE_COLUMNS}{counts_columns} \
         FROM todos {filter} ORDER BY created_at DESC, id DESC LIMIT ${} OFFSET ${}",
        values.len() - 1,
        values.len()
    );
    let rows = db
        .query_all_raw(statement(db.get_database_backend(), &sql, values))
        .await?;
    let counts = match (owner, rows.first()) {
        (Some(_), Some(row)) => Some(counts_of(row)?),
        _ => None,
    };
    let todos = rows.iter().map(todo_of).collect::<Result<_, _>>()?;
    Ok((todos, counts))
}

/// The columns of a page, in the order [`todo_of`] reads them; the owner's counts follow.
const PAGE_COLUMNS: &str = "id, user_id, title, description, completed, created_at, updated_at";
const OWNER_TOTAL: usize = 7;
const OWNER_COMPLETED: usize = 8;

fn counts_of(row: &QueryResult) -> Result<Counts, DbErr> {
    let total: Option<i64> = row.try_get_by_index(OWNER_TOTAL)?;
    let completed: Option<i64> = row.try_get_by_index(OWNER_COMPLETED)?;
    Ok((
        u64::try_from(total.unwrap_or(0)).unwrap_or(0),
        u64::try_from(completed.unwrap_or(0)).unwrap_or(0),
    ))
}

/// A row of [`PAGE_COLUMNS`], read by position: by name, each of a page's 140 values cost a
/// hashed lookup of its column.
fn todo_of(row: &QueryResult) -> Result<Todo, DbErr> {
    Ok(Todo {
        id: TodoId::from_stored(row.try_get_by_index(0)?),
        user_id: row.try_get_by_index(1)?,
        title: row.try_get_by_index(2)?,
        description: row.try_get_by_index(3)?,
        completed: row.try_get_by_index(4)?,
        created_at: Timestamp(row.try_get_by_index(5)?),
        updated_at: Timestamp(row.try_get_by_index(6)?),
    })
}

impl From<entity::Model> for Todo {
    fn from(row: entity::Model) -> Self {
        Todo {
            id: TodoId::from_stored(row.id),
            user_id: row.user_id,
            title: row.title,
            description: row.description,
            completed: row.completed,
            created_at: Timestamp(row.created_at),
            updated_at: Timestamp(row.updated_at),
        }
    }
}
