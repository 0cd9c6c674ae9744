//! Storage: the `todos` table through sea-orm, on PostgreSQL or SQLite.
//!
//! A user's todos are reached only through [`TodoStore::owned_by`], whose every query filters
//! by owner: another user's todo cannot be read, changed or deleted through it, whatever id is
//! asked for. Reading across owners is the admin list and the report, and nothing else.

pub mod entity;
pub mod migrations;

use sea_orm::sea_query::{Expr, Func};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, ExprTrait, Order,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Select,
};
use service_kit::timestamp::Timestamp;

use crate::todos::{
    ListQuery, NewTodo, OwnerTally, PageRequest, Pagination, Report, Todo, TodoId, TodoPage,
    TodoPatch,
};
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
        let mut select = Entity::find();
        if let Some(owner) = &query.user_id {
            select = select.filter(Column::UserId.eq(owner.as_str()));
        }
        list(&self.db, select, query.page, query.completed).await
    }

    /// Counts per owner, from one `GROUP BY` query; the totals are sums over its rows.
    pub async fn report(&self) -> Result<Report, DbErr> {
        let completed = Func::sum(Expr::case(Column::Completed.eq(true), 1).finally(0));
        let rows: Vec<(String, i64, i64)> = Entity::find()
            .select_only()
            .column(Column::UserId)
            .column_as(Expr::from(Func::count(Expr::col(Column::Id))), "todo_count")
            .column_as(Expr::from(completed), "completed_count")
            .group_by(Column::UserId)
            .order_by(Func::count(Expr::col(Column::Id)), Order::Desc)
            .order_by(Column::UserId, Order::Asc)
            .into_tuple()
            .all(&self.db)
            .await?;
        Ok(Report::from_tallies(
            rows.into_iter()
                .map(|(user_id, todos, completed)| OwnerTally {
                    user_id,
                    todos: u64::try_from(todos).unwrap_or(0),
                    completed: u64::try_from(completed).unwrap_or(0),
                })
                .collect(),
        ))
    }

    /// Stores `todo` exactly as given, times included (imports and tests).
    pub async fn insert(&self, todo: &Todo) -> Result<(), DbErr> {
        insert(&self.db, todo).await
    }
}

async fn insert(db: &DatabaseConnection, todo: &Todo) -> Result<(), DbErr> {
    let row = entity::ActiveModel {
        id: Set(todo.id.clone()),
        user_id: Set(todo.user_id.clone()),
        title: Set(todo.title.clone()),
        description: Set(todo.description.clone()),
        completed: Set(todo.completed),
        created_at: Set(todo.created_at.micros()),
        updated_at: Set(todo.updated_at.micros()),
    };
    Entity::insert(row).exec_without_returning(db).await?;
    Ok(())
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

    pub async fn list(
        &self,
        page: PageRequest,
        completed: Option<bool>,
    ) -> Result<TodoPage, DbErr> {
        list(self.db, self.scope(), page, completed).await
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
            id: TodoId::generate().as_str().to_owned(),
            user_id: self.owner.to_owned(),
            title: new.title().to_owned(),
            description: new.description().to_owned(),
            completed: new.completed(),
            created_at: now,
            updated_at: now,
        };
        insert(self.db, &todo).await?;
        Ok(todo)
    }

    /// Applies `patch` in one statement; `None` when the owner has no such todo. An empty patch
    /// changes nothing, `updated_at` included.
    pub async fn update(&self, id: &TodoId, patch: &TodoPatch) -> Result<Option<Todo>, DbErr> {
        if patch.is_empty() {
            return self.get(id).await;
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
        let rows = update.exec_with_returning(self.db).await?;
        Ok(rows.into_iter().next().map(Todo::from))
    }

    /// Whether the owner had such a todo.
    pub async fn delete(&self, id: &TodoId) -> Result<bool, DbErr> {
        let result = Entity::delete_many()
            .filter(Column::UserId.eq(self.owner))
            .filter(Column::Id.eq(id.as_str()))
            .exec(self.db)
            .await?;
        Ok(result.rows_affected > 0)
    }
}

/// Newest first (ties by id, descending): a count, then one page through the index.
async fn list(
    db: &DatabaseConnection,
    select: Select<Entity>,
    page: PageRequest,
    completed: Option<bool>,
) -> Result<TodoPage, DbErr> {
    let select = match completed {
        Some(completed) => select.filter(Column::Completed.eq(completed)),
        None => select,
    };
    let total = select.clone().count(db).await?;
    let todos = if page.is_past(total) {
        Vec::new()
    } else {
        select
            .order_by_desc(Column::CreatedAt)
            .order_by_desc(Column::Id)
            .offset(page.offset())
            .limit(page.limit())
            .all(db)
            .await?
            .into_iter()
            .map(Todo::from)
            .collect()
    };
    Ok(TodoPage {
        todos,
        pagination: Pagination::new(page, total),
    })
}

impl From<entity::Model> for Todo {
    fn from(row: entity::Model) -> Self {
        Todo {
            id: row.id,
            user_id: row.user_id,
            title: row.title,
            description: row.description,
            completed: row.completed,
            created_at: Timestamp(row.created_at),
            updated_at: Timestamp(row.updated_at),
        }
    }
}
