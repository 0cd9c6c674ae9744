//! Login-failure counters shared by every replica: one row per account or address, a fixed
//! window that starts at its first failure. A failure is recorded with one conditional upsert,
//! so N replicas racing on one account can never record more than the limit: the database
//! decides, under the row's lock, whether the count is still below it.

use sea_orm::{ConnectionTrait, DbErr, Value};

use service_kit::timestamp::Timestamp;

use super::statement;

/// Counts a failure for `key` if fewer than `max` were counted in the window (a window older
/// than `window` starts over). `Ok(None)` when the limit is reached.
pub async fn record(
    db: &impl ConnectionTrait,
    key: &str,
    max: u32,
    window_micros: i64,
    now: Timestamp,
) -> Result<Option<i64>, DbErr> {
    let sql = "INSERT INTO login_failures (bucket, window_start, count) VALUES ($1, $2, 1) \
         ON CONFLICT (bucket) DO UPDATE SET \
           count = CASE WHEN login_failures.window_start <= $3 THEN 1 ELSE login_failures.count + 1 END, \
           window_start = CASE WHEN login_failures.window_start <= $3 THEN $2 ELSE login_failures.window_start END \
         WHERE login_failures.window_start <= $3 OR login_failures.count < $4 \
         RETURNING window_start";
    let values: Vec<Value> = vec![
        key.into(),
        now.into(),
        Timestamp(now.micros().saturating_sub(window_micros)).into(),
        i32::try_from(max).unwrap_or(i32::MAX).into(),
    ];
    let row = db
        .query_one_raw(statement(db.get_database_backend(), sql, values))
        .await?;
    row.map(|r| r.try_get::<i64>("", "window_start"))
        .transpose()
}

/// The failures counted for `key` and when its window started.
pub async fn count(db: &impl ConnectionTrait, key: &str) -> Result<Option<(i64, i64)>, DbErr> {
    let sql = "SELECT count, window_start FROM login_failures WHERE bucket = $1";
    let row = db
        .query_one_raw(statement(db.get_database_backend(), sql, vec![key.into()]))
        .await?;
    row.map(|r| {
        Ok((
            i64::from(r.try_get::<i32>("", "count")?),
            r.try_get::<i64>("", "window_start")?,
        ))
    })
    .transpose()
}

/// The counts and window starts of `keys` (one query), for the keys that have a row.
pub async fn counts(
    db: &impl ConnectionTrait,
    keys: &[String],
) -> Result<Vec<(String, i64, i64)>, DbErr> {
    let placeholders: Vec<String> = (1..=keys.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT bucket, count, window_start FROM login_failures WHERE bucket IN ({})",
        placeholders.join(", ")
    );
    let values = keys.iter().map(|k| k.as_str().into()).collect();
    let rows = db
        .query_all_raw(statement(db.get_database_backend(), &sql, values))
        .await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get::<String>("", "bucket")?,
                i64::from(r.try_get::<i32>("", "count")?),
                r.try_get::<i64>("", "window_start")?,
            ))
        })
        .collect()
}

/// Forgets every failure of `key` (a successful login clears the account's count).
pub async fn clear(db: &impl ConnectionTrait, key: &str) -> Result<(), DbErr> {
    let sql = "DELETE FROM login_failures WHERE bucket = $1";
    db.execute_raw(statement(db.get_database_backend(), sql, vec![key.into()]))
        .await
        .map(|_| ())
}

/// Drops counters whose window ended before `cutoff`.
pub async fn purge(db: &impl ConnectionTrait, cutoff: Timestamp) -> Result<u64, DbErr> {
    let sql = "DELETE FROM login_failures WHERE window_start < $1";
    Ok(db
        .execute_raw(statement(
            db.get_database_backend(),
            sql,
            vec![cutoff.into()],
        ))
        .await?
        .rows_affected())
}
