//! Signing keys and their states.

use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder,
    TransactionTrait,
};

use service_kit::timestamp::Timestamp;

use super::entities::signing_key::{self, Entity as SigningKeys, KeyState, Model};

pub async fn all(db: &impl ConnectionTrait) -> Result<Vec<Model>, DbErr> {
    SigningKeys::find()
        .order_by_asc(signing_key::Column::CreatedAt)
        .all(db)
        .await
}

pub async fn insert(db: &impl ConnectionTrait, row: Model) -> Result<(), DbErr> {
    SigningKeys::insert(signing_key::ActiveModel::from(row))
        .exec(db)
        .await
        .map(|_| ())
}

/// Makes `next_kid` the active key and retires the current one, in one transaction whose
/// conditional updates let exactly one of several racing replicas do it.
pub async fn promote(
    db: &DatabaseConnection,
    next_kid: &str,
    now: Timestamp,
    retired_delete_after: Timestamp,
) -> Result<bool, DbErr> {
    let txn = db.begin().await?;
    SigningKeys::update_many()
        .col_expr(signing_key::Column::State, Expr::value(KeyState::Retired))
        .col_expr(signing_key::Column::RetiredAt, Expr::value(now))
        .col_expr(
            signing_key::Column::DeleteAfter,
            Expr::value(retired_delete_after),
        )
        .filter(signing_key::Column::State.eq(KeyState::Active))
        .filter(signing_key::Column::Kid.ne(next_kid))
        .exec(&txn)
        .await?;
    let activated = SigningKeys::update_many()
        .col_expr(signing_key::Column::State, Expr::value(KeyState::Active))
        .filter(signing_key::Column::Kid.eq(next_kid))
        .filter(signing_key::Column::State.eq(KeyState::Next))
        .exec(&txn)
        .await?
        .rows_affected
        == 1;
    if activated {
        txn.commit().await?;
    } else {
        txn.rollback().await?;
    }
    Ok(activated)
}

/// Deletes `kid`; if it was the active key, `successor` (a `next` key) becomes active now, in
/// the same transaction. `false` if there was no such key (or no such successor).
pub async fn revoke(
    db: &DatabaseConnection,
    kid: &str,
    successor: Option<&str>,
    now: Timestamp,
) -> Result<bool, DbErr> {
    let txn = db.begin().await?;
    let deleted = SigningKeys::delete_many()
        .filter(signing_key::Column::Kid.eq(kid))
        .exec(&txn)
        .await?
        .rows_affected
        == 1;
    let promoted = match successor {
        Some(next) => {
            SigningKeys::update_many()
                .col_expr(signing_key::Column::State, Expr::value(KeyState::Active))
                .col_expr(signing_key::Column::ActivatesAt, Expr::value(now))
                .filter(signing_key::Column::Kid.eq(next))
                .filter(signing_key::Column::State.eq(KeyState::Next))
                .exec(&txn)
                .await?
                .rows_affected
                == 1
        }
        None => true,
    };
    if deleted && promoted {
        txn.commit().await?;
        Ok(true)
    } else {
        txn.rollback().await?;
        Ok(false)
    }
}

/// Deletes retired keys whose last token has expired.
pub async fn delete_expired(db: &impl ConnectionTrait, now: Timestamp) -> Result<u64, DbErr> {
    Ok(SigningKeys::delete_many()
        .filter(signing_key::Column::State.eq(KeyState::Retired))
        .filter(signing_key::Column::DeleteAfter.lt(now))
        .exec(db)
        .await?
        .rows_affected)
}
