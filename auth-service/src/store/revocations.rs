//! The revocation feed's events: written in the transaction of what they record, read in
//! sequence order by every replica's feed, purged once no token they refuse can be valid.

use sea_orm::{
    ActiveValue, ColumnTrait, ConnectionTrait, DatabaseTransaction, DbBackend, DbErr, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect,
};
use service_kit::timestamp::Timestamp;

use super::entities::revocation::{self, Entity as Revocations, Model, RevocationKind};
use super::statement;

/// The PostgreSQL channel every replica's feed listens on.
pub const NOTIFY_CHANNEL: &str = "revocations";

/// A revocation to record.
#[derive(Debug, Clone)]
pub struct NewRevocation {
    pub kind: RevocationKind,
    pub subject: String,
    pub user_id: String,
    pub reason: &'static str,
    /// After a role change, the role now held.
    pub role: Option<&'static str>,
    pub not_before: Timestamp,
    pub at: Timestamp,
    pub expires_at: Timestamp,
}

/// Records `rows` inside `txn`, which commits them with what they record.
///
/// On PostgreSQL a transaction-scoped advisory lock is taken first and held until the commit,
/// so events commit in the order of their sequence numbers: a reader that has seen event N has
/// seen every event before it, and a feed cursor can never step over one that commits late. A
/// `NOTIFY` wakes every replica's feed at the commit. (SQLite has one writer at a time.)
pub async fn insert(txn: &DatabaseTransaction, rows: Vec<NewRevocation>) -> Result<(), DbErr> {
    if rows.is_empty() {
        return Ok(());
    }
    let postgres = txn.get_database_backend() == DbBackend::Postgres;
    if postgres {
        let key = service_kit::db::advisory_key("auth-service revocations");
        txn.execute_raw(statement(
            DbBackend::Postgres,
            "SELECT pg_advisory_xact_lock($1)",
            vec![key.into()],
        ))
        .await?;
    }
    let models = rows.into_iter().map(|row| revocation::ActiveModel {
        seq: ActiveValue::NotSet,
        kind: ActiveValue::Set(row.kind),
        subject: ActiveValue::Set(row.subject),
        user_id: ActiveValue::Set(row.user_id),
        reason: ActiveValue::Set(row.reason.to_owned()),
        role: ActiveValue::Set(row.role.map(str::to_owned)),
        not_before: ActiveValue::Set(row.not_before.micros()),
        at: ActiveValue::Set(row.at.micros()),
        expires_at: ActiveValue::Set(row.expires_at.micros()),
    });
    Revocations::insert_many(models).exec(txn).await?;
    if postgres {
        txn.execute_raw(statement(
            DbBackend::Postgres,
            "SELECT pg_notify($1, '')",
            vec![NOTIFY_CHANNEL.into()],
        ))
        .await?;
    }
    Ok(())
}

/// Events after `seq` that still refuse something at `now`, in order, at most `limit`.
pub async fn after(
    db: &impl ConnectionTrait,
    seq: i64,
    now: Timestamp,
    limit: u64,
) -> Result<Vec<Model>, DbErr> {
    Revocations::find()
        .filter(revocation::Column::Seq.gt(seq))
        .filter(revocation::Column::ExpiresAt.gt(now))
        .order_by_asc(revocation::Column::Seq)
        .limit(limit)
        .all(db)
        .await
}

/// The sequence number of the last event ever recorded (0 before any).
pub async fn last_seq(db: &impl ConnectionTrait) -> Result<i64, DbErr> {
    let row = db
        .query_one_raw(statement(
            db.get_database_backend(),
            "SELECT COALESCE(MAX(seq), 0) AS last FROM revocations",
            Vec::new(),
        ))
        .await?;
    row.map_or(Ok(0), |row| row.try_get::<i64>("", "last"))
}

/// Forgets events no token can outlive any more.
pub async fn purge(db: &impl ConnectionTrait, now: Timestamp) -> Result<u64, DbErr> {
    Ok(Revocations::delete_many()
        .filter(revocation::Column::ExpiresAt.lte(now))
        .exec(db)
        .await?
        .rows_affected)
}
