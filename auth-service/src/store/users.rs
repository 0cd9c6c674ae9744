//! Users.

use sea_orm::sea_query::{Expr, LockType};
use sea_orm::{
    ActiveModelTrait, ActiveValue, ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};

use service_kit::timestamp::Timestamp;

use super::entities::user::{self, Entity as Users, Model, StoredRole};

pub async fn insert(db: &impl ConnectionTrait, user: Model) -> Result<(), DbErr> {
    Users::insert(user::ActiveModel::from(user))
        .exec(db)
        .await
        .map(|_| ())
}

pub async fn by_email(db: &impl ConnectionTrait, email: &str) -> Result<Option<Model>, DbErr> {
    Users::find()
        .filter(user::Column::Email.eq(email))
        .one(db)
        .await
}

pub async fn by_id(db: &impl ConnectionTrait, id: &str) -> Result<Option<Model>, DbErr> {
    Users::find_by_id(id.to_owned()).one(db).await
}

/// Changes the names given (`Some(None)` clears one); returns the updated user.
pub async fn update_names(
    db: &impl ConnectionTrait,
    id: &str,
    first_name: Option<Option<String>>,
    last_name: Option<Option<String>>,
    now: Timestamp,
) -> Result<Option<Model>, DbErr> {
    let Some(existing) = by_id(db, id).await? else {
        return Ok(None);
    };
    let mut active: user::ActiveModel = existing.into();
    if let Some(first) = first_name {
        active.first_name = ActiveValue::Set(first);
    }
    if let Some(last) = last_name {
        active.last_name = ActiveValue::Set(last);
    }
    active.updated_at = ActiveValue::Set(now.micros());
    active.update(db).await.map(Some)
}

pub async fn set_password_hash(
    db: &impl ConnectionTrait,
    id: &str,
    hash: &str,
    now: Timestamp,
) -> Result<(), DbErr> {
    Users::update_many()
        .col_expr(user::Column::PasswordHash, Expr::value(hash))
        .col_expr(user::Column::UpdatedAt, Expr::value(now))
        .filter(user::Column::Id.eq(id))
        .exec(db)
        .await
        .map(|_| ())
}

/// Replaces the hash only if it is still `old`: a concurrent password change wins over a
/// parameter upgrade at login.
pub async fn upgrade_password_hash(
    db: &impl ConnectionTrait,
    id: &str,
    old: &str,
    new: &str,
) -> Result<(), DbErr> {
    Users::update_many()
        .col_expr(user::Column::PasswordHash, Expr::value(new))
        .filter(user::Column::Id.eq(id))
        .filter(user::Column::PasswordHash.eq(old))
        .exec(db)
        .await
        .map(|_| ())
}

/// One page, newest first, and the total count.
pub async fn page(
    db: &impl ConnectionTrait,
    offset: u64,
    limit: u64,
) -> Result<(Vec<Model>, u64), DbErr> {
    let total = Users::find().count(db).await?;
    let rows = Users::find()
        .order_by_desc(user::Column::CreatedAt)
        .order_by_desc(user::Column::Id)
        .offset(offset)
        .limit(limit)
        .all(db)
        .await?;
    Ok((rows, total))
}

/// The ids of every active admin, rows locked until the transaction ends on PostgreSQL, so
/// that two admins demoting each other at once cannot leave none (SQLite serialises writers).
pub async fn active_admin_ids_locked(db: &impl ConnectionTrait) -> Result<Vec<String>, DbErr> {
    let mut query = Users::find()
        .select_only()
        .column(user::Column::Id)
        .filter(user::Column::Role.eq(StoredRole::Admin))
        .filter(user::Column::IsActive.eq(true));
    if db.get_database_backend() == DbBackend::Postgres {
        query = query.lock(LockType::Update);
    }
    query.into_tuple::<String>().all(db).await
}

pub async fn set_role_and_active(
    db: &impl ConnectionTrait,
    id: &str,
    role: StoredRole,
    is_active: bool,
    now: Timestamp,
) -> Result<(), DbErr> {
    Users::update_many()
        .col_expr(user::Column::Role, Expr::value(role))
        .col_expr(user::Column::IsActive, Expr::value(is_active))
        .col_expr(user::Column::UpdatedAt, Expr::value(now))
        .filter(user::Column::Id.eq(id))
        .exec(db)
        .await
        .map(|_| ())
}
