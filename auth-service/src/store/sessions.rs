//! Sessions and their single-use refresh tokens.

use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};

use super::entities::refresh_token::{self, Entity as RefreshTokens};
use super::entities::session::{self, Entity as Sessions};

pub async fn insert_session(db: &impl ConnectionTrait, row: session::Model) -> Result<(), DbErr> {
    Sessions::insert(session::ActiveModel::from(row))
        .exec(db)
        .await
        .map(|_| ())
}

pub async fn insert_refresh_token(
    db: &impl ConnectionTrait,
    row: refresh_token::Model,
) -> Result<(), DbErr> {
    RefreshTokens::insert(refresh_token::ActiveModel::from(row))
        .exec(db)
        .await
        .map(|_| ())
}

/// Marks an unused, unexpired refresh token used. `true` for exactly one caller however many
/// race: the condition is evaluated by the database under the row's lock.
pub async fn mark_refresh_token_used(
    db: &impl ConnectionTrait,
    jti: &str,
    now: i64,
) -> Result<bool, DbErr> {
    let result = RefreshTokens::update_many()
        .col_expr(refresh_token::Column::UsedAt, Expr::value(now))
        .filter(refresh_token::Column::Jti.eq(jti))
        .filter(refresh_token::Column::UsedAt.is_null())
        .filter(refresh_token::Column::ExpiresAt.gt(now))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

pub async fn refresh_token(
    db: &impl ConnectionTrait,
    jti: &str,
) -> Result<Option<refresh_token::Model>, DbErr> {
    RefreshTokens::find_by_id(jti.to_owned()).one(db).await
}

pub async fn session(db: &impl ConnectionTrait, id: &str) -> Result<Option<session::Model>, DbErr> {
    Sessions::find_by_id(id.to_owned()).one(db).await
}

pub async fn extend_session(
    db: &impl ConnectionTrait,
    id: &str,
    expires_at: i64,
) -> Result<(), DbErr> {
    Sessions::update_many()
        .col_expr(session::Column::ExpiresAt, Expr::value(expires_at))
        .filter(session::Column::Id.eq(id))
        .exec(db)
        .await
        .map(|_| ())
}

/// Revokes one session of `user_id`; returns whether it was live.
pub async fn revoke_session(
    db: &impl ConnectionTrait,
    id: &str,
    user_id: &str,
    reason: &str,
    now: i64,
) -> Result<bool, DbErr> {
    let result = Sessions::update_many()
        .col_expr(session::Column::RevokedAt, Expr::value(now))
        .col_expr(session::Column::RevokedReason, Expr::value(reason))
        .filter(session::Column::Id.eq(id))
        .filter(session::Column::UserId.eq(user_id))
        .filter(session::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected > 0)
}

/// Revokes every live session of `user_id` but `except`; returns how many.
pub async fn revoke_user_sessions(
    db: &impl ConnectionTrait,
    user_id: &str,
    except: Option<&str>,
    reason: &str,
    now: i64,
) -> Result<u64, DbErr> {
    let mut update = Sessions::update_many()
        .col_expr(session::Column::RevokedAt, Expr::value(now))
        .col_expr(session::Column::RevokedReason, Expr::value(reason))
        .filter(session::Column::UserId.eq(user_id))
        .filter(session::Column::RevokedAt.is_null());
    if let Some(keep) = except {
        update = update.filter(session::Column::Id.ne(keep));
    }
    Ok(update.exec(db).await?.rows_affected)
}

/// Deletes sessions and refresh tokens that expired before `cutoff`.
pub async fn purge_expired(db: &impl ConnectionTrait, cutoff: i64) -> Result<u64, DbErr> {
    let tokens = RefreshTokens::delete_many()
        .filter(refresh_token::Column::ExpiresAt.lt(cutoff))
        .exec(db)
        .await?
        .rows_affected;
    let sessions = Sessions::delete_many()
        .filter(session::Column::ExpiresAt.lt(cutoff))
        .exec(db)
        .await?
        .rows_affected;
    Ok(tokens + sessions)
}
