//! Sessions and their single-use refresh tokens.

use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, DbErr, EntityTrait,
    FromQueryResult, QueryFilter, TransactionTrait, Value,
};

use service_kit::timestamp::Timestamp;

use super::entities::user;
use super::statement;

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
    now: Timestamp,
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

/// The user of session `sid` if the session is live (not revoked), the user active, and no
/// revocation of the user's tokens came after `issued_at` (a role change, say): one lookup by
/// primary key joined to another, and an indexed probe.
pub async fn live_user(
    db: &impl ConnectionTrait,
    sid: &str,
    user_id: &str,
    issued_at: Timestamp,
) -> Result<Option<user::Model>, DbErr> {
    let sql = "SELECT u.* FROM sessions s JOIN users u ON u.id = s.user_id \
               WHERE s.id = $1 AND s.user_id = $2 AND s.revoked_at IS NULL AND u.is_active \
               AND NOT EXISTS (SELECT 1 FROM revocations r \
                 WHERE r.user_id = u.id AND r.kind = 'user' AND r.not_before > $3)";
    user::Entity::find()
        .from_raw_sql(statement(
            db.get_database_backend(),
            sql,
            vec![sid.into(), user_id.into(), issued_at.into()],
        ))
        .one(db)
        .await
}

/// Revokes one session of `user_id`; returns whether it was live.
pub async fn revoke_session(
    db: &impl ConnectionTrait,
    id: &str,
    user_id: &str,
    reason: &str,
    now: Timestamp,
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

/// Revokes every live session of `user_id` but `except`; returns their ids.
pub async fn revoke_user_sessions(
    db: &impl ConnectionTrait,
    user_id: &str,
    except: Option<&str>,
    reason: &str,
    now: Timestamp,
) -> Result<Vec<String>, DbErr> {
    let mut values: Vec<Value> = vec![now.into(), reason.into(), user_id.into()];
    let sql = match except {
        Some(keep) => {
            values.push(keep.into());
            "UPDATE sessions SET revoked_at = $1, revoked_reason = $2 \
             WHERE user_id = $3 AND revoked_at IS NULL AND id <> $4 RETURNING id"
        }
        None => {
            "UPDATE sessions SET revoked_at = $1, revoked_reason = $2 \
             WHERE user_id = $3 AND revoked_at IS NULL RETURNING id"
        }
    };
    let rows = db
        .query_all_raw(statement(db.get_database_backend(), sql, values))
        .await?;
    rows.iter()
        .map(|row| row.try_get::<String>("", "id"))
        .collect()
}

/// Deletes refresh tokens that expired before `cutoff`, then the sessions left without a
/// token that could still be used: a session lives as long as its newest refresh token, so a
/// refresh needs not touch its session row.
pub async fn purge_expired(db: &impl ConnectionTrait, cutoff: Timestamp) -> Result<u64, DbErr> {
    let tokens = RefreshTokens::delete_many()
        .filter(refresh_token::Column::ExpiresAt.lt(cutoff))
        .exec(db)
        .await?
        .rows_affected;
    let sql = "DELETE FROM sessions WHERE expires_at < $1 AND NOT EXISTS \
               (SELECT 1 FROM refresh_tokens t WHERE t.session_id = sessions.id)";
    let sessions = db
        .execute_raw(statement(
            db.get_database_backend(),
            sql,
            vec![cutoff.into()],
        ))
        .await?
        .rows_affected();
    Ok(tokens + sessions)
}

/// What opening a session writes, in one atomic step.
#[derive(Debug)]
pub struct NewSession {
    pub sid: String,
    pub user_id: String,
    pub refresh_jti: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub audit: super::entities::audit_event::Model,
}

/// Writes the session, its first refresh token and the audit row: one statement on PostgreSQL
/// (data-modifying CTEs), one transaction on SQLite.
pub async fn open(db: &DatabaseConnection, new: NewSession) -> Result<(), DbErr> {
    if db.get_database_backend() == DbBackend::Postgres {
        let sql = "WITH s AS (\
                     INSERT INTO sessions (id, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)\
                   ), t AS (\
                     INSERT INTO refresh_tokens (jti, session_id, user_id, issued_at, expires_at) \
                     VALUES ($5, $1, $2, $3, $4)\
                   ) \
                   INSERT INTO audit_events (id, at, event, user_id, ip, detail) \
                   VALUES ($6, $7, $8, $2, $9, $10)";
        let values: Vec<Value> = vec![
            new.sid.into(),
            new.user_id.into(),
            new.created_at.into(),
            new.expires_at.into(),
            new.refresh_jti.into(),
            new.audit.id.into(),
            new.audit.at.into(),
            new.audit.event.into(),
            new.audit.ip.into(),
            new.audit.detail.into(),
        ];
        return db
            .execute_raw(statement(DbBackend::Postgres, sql, values))
            .await
            .map(|_| ());
    }
    let txn = db.begin().await?;
    insert_session(
        &txn,
        session::Model {
            id: new.sid.clone(),
            user_id: new.user_id.clone(),
            created_at: new.created_at.micros(),
            expires_at: new.expires_at.micros(),
            revoked_at: None,
            revoked_reason: None,
        },
    )
    .await?;
    insert_refresh_token(
        &txn,
        refresh_token::Model {
            jti: new.refresh_jti,
            session_id: new.sid,
            user_id: new.user_id,
            issued_at: new.created_at.micros(),
            expires_at: new.expires_at.micros(),
            used_at: None,
        },
    )
    .await?;
    super::audit::insert(&txn, new.audit).await?;
    txn.commit().await
}

/// A refresh: spend `jti`, issue `successor_jti` in the same session.
#[derive(Debug)]
pub struct Rotation {
    pub jti: String,
    pub sid: String,
    pub user_id: String,
    pub successor_jti: String,
    pub now: Timestamp,
    /// The successor's idle limit; it is cut at the session's absolute end.
    pub successor_expires_at: Timestamp,
    /// The session's absolute lifetime, in microseconds from its creation.
    pub session_max_lifetime: i64,
    pub audit: super::entities::audit_event::Model,
}

/// A successful rotation: the user to sign for and the successor's times.
#[derive(Debug)]
pub struct Successor {
    pub user: user::Model,
    pub session_created_at: Timestamp,
    pub expires_at: Timestamp,
}

#[derive(Debug)]
pub enum Rotated {
    /// Spent, successor stored, audited.
    Yes(Successor),
    /// Spent, but its session is revoked or past its absolute end, or its user deactivated:
    /// nothing issued.
    SessionEnded,
    /// No unused, unexpired token has that jti (used before, unknown or expired).
    NotUsable,
}

/// Spends the token and stores its successor atomically: exactly one of any number of
/// concurrent rotations of one token succeeds, the spending being a conditional update the
/// database evaluates under the row's lock. The session's absolute end is part of the same
/// condition, and cuts the successor's expiry, so no race can step past it. One statement on
/// PostgreSQL, one transaction on SQLite.
pub async fn rotate(db: &DatabaseConnection, r: Rotation) -> Result<Rotated, DbErr> {
    if db.get_database_backend() == DbBackend::Postgres {
        let sql = "WITH used AS (\
                     UPDATE refresh_tokens SET used_at = $2 \
                     WHERE jti = $1 AND used_at IS NULL AND expires_at > $2 \
                     RETURNING session_id, user_id\
                   ), live AS (\
                     SELECT u.*, s.created_at AS session_created_at, \
                       LEAST($6, s.created_at + $11) AS successor_expires_at \
                     FROM used \
                     JOIN sessions s ON s.id = used.session_id AND s.id = $3 \
                       AND s.user_id = used.user_id AND s.revoked_at IS NULL \
                       AND s.created_at + $11 > $2 \
                     JOIN users u ON u.id = used.user_id AND u.id = $4 AND u.is_active\
                   ), successor AS (\
                     INSERT INTO refresh_tokens (jti, session_id, user_id, issued_at, expires_at) \
                     SELECT $5, $3, id, $2, successor_expires_at FROM live\
                   ), audited AS (\
                     INSERT INTO audit_events (id, at, event, user_id, ip, detail) \
                     SELECT $7, $2, $8, id, $9, $10 FROM live\
                   ) \
                   SELECT (SELECT COUNT(*) FROM used) AS spent, live.* \
                   FROM (SELECT 1) AS one LEFT JOIN live ON true";
        let values: Vec<Value> = vec![
            r.jti.into(),
            r.now.into(),
            r.sid.into(),
            r.user_id.into(),
            r.successor_jti.into(),
            r.successor_expires_at.into(),
            r.audit.id.into(),
            r.audit.event.into(),
            r.audit.ip.into(),
            r.audit.detail.into(),
            r.session_max_lifetime.into(),
        ];
        let row = db
            .query_one_raw(statement(DbBackend::Postgres, sql, values))
            .await?
            .ok_or_else(|| DbErr::RecordNotFound("rotation".into()))?;
        let spent: i64 = row.try_get("", "spent")?;
        if spent == 0 {
            return Ok(Rotated::NotUsable);
        }
        let id: Option<String> = row.try_get("", "id")?;
        if id.is_none() {
            return Ok(Rotated::SessionEnded);
        }
        return Ok(Rotated::Yes(Successor {
            user: user::Model::from_query_result(&row, "")?,
            session_created_at: Timestamp(row.try_get("", "session_created_at")?),
            expires_at: Timestamp(row.try_get("", "successor_expires_at")?),
        }));
    }

    let txn = db.begin().await?;
    if !mark_refresh_token_used(&txn, &r.jti, r.now).await? {
        txn.rollback().await?;
        return Ok(Rotated::NotUsable);
    }
    let session = session(&txn, &r.sid).await?.filter(|s| {
        s.revoked_at.is_none()
            && s.user_id == r.user_id
            && s.created_at.saturating_add(r.session_max_lifetime) > r.now.micros()
    });
    let user = super::users::by_id(&txn, &r.user_id).await?;
    let (Some(session), Some(user)) = (session, user.filter(|u| u.is_active)) else {
        txn.commit().await?;
        return Ok(Rotated::SessionEnded);
    };
    let expires_at = r.successor_expires_at.min(Timestamp(
        session.created_at.saturating_add(r.session_max_lifetime),
    ));
    insert_refresh_token(
        &txn,
        refresh_token::Model {
            jti: r.successor_jti,
            session_id: r.sid.clone(),
            user_id: r.user_id,
            issued_at: r.now.micros(),
            expires_at: expires_at.micros(),
            used_at: None,
        },
    )
    .await?;
    super::audit::insert(&txn, r.audit).await?;
    txn.commit().await?;
    Ok(Rotated::Yes(Successor {
        user,
        session_created_at: Timestamp(session.created_at),
        expires_at,
    }))
}

/// A token that could not be spent: if it was spent before (a reuse), its session is revoked.
/// Returns whether that happened.
pub async fn revoke_if_reused(
    db: &impl ConnectionTrait,
    jti: &str,
    sid: &str,
    user_id: &str,
    now: Timestamp,
) -> Result<bool, DbErr> {
    let known = refresh_token(db, jti).await?;
    let reused = known.is_some_and(|t| t.used_at.is_some() && t.session_id == sid);
    if reused {
        revoke_session(db, sid, user_id, "refresh_reuse", now).await?;
    }
    Ok(reused)
}
