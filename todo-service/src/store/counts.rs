//! `todo_counts`: how many todos each owner has, and how many are completed. Every write to
//! `todos` changes these in the same transaction.

use sea_orm::{ConnectionTrait, DbErr, Value};
use service_kit::db::statement;

/// `(total, completed)`.
pub type Counts = (u64, u64);

fn to_counts(total: i64, completed: i64) -> Counts {
    (
        u64::try_from(total).unwrap_or(0),
        u64::try_from(completed).unwrap_or(0),
    )
}

/// Adds `total` and `completed` (either may be negative) to `owner`'s counts.
pub async fn add(
    db: &impl ConnectionTrait,
    owner: &str,
    total: i64,
    completed: i64,
) -> Result<(), DbErr> {
    let sql = "INSERT INTO todo_counts (user_id, total, completed) VALUES ($1, $2, $3) \
               ON CONFLICT (user_id) DO UPDATE SET \
                 total = todo_counts.total + excluded.total, \
                 completed = todo_counts.completed + excluded.completed";
    let values: Vec<Value> = vec![owner.into(), total.into(), completed.into()];
    db.execute_raw(statement(db.get_database_backend(), sql, values))
        .await
        .map(|_| ())
}

/// One owner's counts (zero when they have never had a todo).
pub async fn of(db: &impl ConnectionTrait, owner: &str) -> Result<Counts, DbErr> {
    let sql = "SELECT total, completed FROM todo_counts WHERE user_id = $1";
    let row = db
        .query_one_raw(statement(
            db.get_database_backend(),
            sql,
            vec![owner.into()],
        ))
        .await?;
    match row {
        Some(row) => Ok(to_counts(
            row.try_get("", "total")?,
            row.try_get("", "completed")?,
        )),
        None => Ok((0, 0)),
    }
}

/// Every owner's counts summed.
pub async fn sum(db: &impl ConnectionTrait) -> Result<Counts, DbErr> {
    // SUM over BIGINT is NUMERIC on PostgreSQL: cast back.
    let sql = "SELECT CAST(COALESCE(SUM(total), 0) AS BIGINT) AS total, \
               CAST(COALESCE(SUM(completed), 0) AS BIGINT) AS completed FROM todo_counts";
    let row = db
        .query_one_raw(statement(db.get_database_backend(), sql, Vec::new()))
        .await?;
    match row {
        Some(row) => Ok(to_counts(
            row.try_get("", "total")?,
            row.try_get("", "completed")?,
        )),
        None => Ok((0, 0)),
    }
}

/// Owners with at least one todo, by todos descending, then owner: the report's rows.
pub async fn owners(db: &impl ConnectionTrait) -> Result<Vec<(String, Counts)>, DbErr> {
    let sql = "SELECT user_id, total, completed FROM todo_counts WHERE total > 0 \
               ORDER BY total DESC, user_id ASC";
    let rows = db
        .query_all_raw(statement(db.get_database_backend(), sql, Vec::new()))
        .await?;
    rows.iter()
        .map(|row| {
            Ok((
                row.try_get::<String>("", "user_id")?,
                to_counts(row.try_get("", "total")?, row.try_get("", "completed")?),
            ))
        })
        .collect()
}
