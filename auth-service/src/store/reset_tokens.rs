//! Password-reset tokens, stored only as their SHA-256.

use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};

use service_kit::timestamp::Timestamp;

use super::entities::reset_token::{self, Entity as ResetTokens};

pub async fn insert(db: &impl ConnectionTrait, row: reset_token::Model) -> Result<(), DbErr> {
    ResetTokens::insert(reset_token::ActiveModel::from(row))
        .exec(db)
        .await
        .map(|_| ())
}

/// The token if it exists, is unused and unexpired.
pub async fn usable(
    db: &impl ConnectionTrait,
    token_hash: &str,
    now: Timestamp,
) -> Result<Option<reset_token::Model>, DbErr> {
    ResetTokens::find()
        .filter(reset_token::Column::TokenHash.eq(token_hash))
        .filter(reset_token::Column::UsedAt.is_null())
        .filter(reset_token::Column::ExpiresAt.gt(now))
        .one(db)
        .await
}

/// Uses the token: `true` for exactly one caller.
pub async fn consume(
    db: &impl ConnectionTrait,
    token_hash: &str,
    now: Timestamp,
) -> Result<bool, DbErr> {
    let result = ResetTokens::update_many()
        .col_expr(reset_token::Column::UsedAt, Expr::value(now))
        .filter(reset_token::Column::TokenHash.eq(token_hash))
        .filter(reset_token::Column::UsedAt.is_null())
        .filter(reset_token::Column::ExpiresAt.gt(now))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Spends every other outstanding token of the user (a reset makes older links useless).
pub async fn consume_all_for_user(
    db: &impl ConnectionTrait,
    user_id: &str,
    now: Timestamp,
) -> Result<(), DbErr> {
    ResetTokens::update_many()
        .col_expr(reset_token::Column::UsedAt, Expr::value(now))
        .filter(reset_token::Column::UserId.eq(user_id))
        .filter(reset_token::Column::UsedAt.is_null())
        .exec(db)
        .await
        .map(|_| ())
}

pub async fn purge_expired(db: &impl ConnectionTrait, cutoff: Timestamp) -> Result<u64, DbErr> {
    Ok(ResetTokens::delete_many()
        .filter(reset_token::Column::ExpiresAt.lt(cutoff))
        .exec(db)
        .await?
        .rows_affected)
}
