//! The audit log: who did what, when, from where. Never a password or a token in it.

use std::net::IpAddr;

use sea_orm::DatabaseConnection;
use serde_json::Value;
use service_kit::timestamp::Timestamp;

use crate::error::{Error, Result};
use crate::store::audit as store;
use crate::store::entities::audit_event::Model;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    Register,
    LoginSucceeded,
    LoginFailed,
    Refreshed,
    RefreshReuseDetected,
    Logout,
    PasswordChanged,
    PasswordChangeFailed,
    PasswordResetRequested,
    PasswordReset,
    RoleChanged,
    Deactivated,
    Reactivated,
    KeyRotated,
    KeyRevoked,
}

impl Event {
    pub fn as_str(self) -> &'static str {
        match self {
            Event::Register => "register",
            Event::LoginSucceeded => "login_succeeded",
            Event::LoginFailed => "login_failed",
            Event::Refreshed => "refreshed",
            Event::RefreshReuseDetected => "refresh_reuse_detected",
            Event::Logout => "logout",
            Event::PasswordChanged => "password_changed",
            Event::PasswordChangeFailed => "password_change_failed",
            Event::PasswordResetRequested => "password_reset_requested",
            Event::PasswordReset => "password_reset",
            Event::RoleChanged => "role_changed",
            Event::Deactivated => "deactivated",
            Event::Reactivated => "reactivated",
            Event::KeyRotated => "key_rotated",
            Event::KeyRevoked => "key_revoked",
        }
    }
}

#[derive(Debug, Clone)]
pub struct AuditEntry {
    pub id: String,
    pub at: Timestamp,
    pub event: String,
    pub user_id: Option<String>,
    pub ip: Option<String>,
    pub detail: Value,
}

#[derive(Debug, Clone)]
pub struct AuditLog {
    db: DatabaseConnection,
}

impl AuditLog {
    pub fn new(db: DatabaseConnection) -> Self {
        AuditLog { db }
    }

    /// An event as a row, for writing inside the transaction of the action it records.
    pub fn entry(event: Event, user_id: Option<&str>, ip: Option<IpAddr>, detail: Value) -> Model {
        Model {
            id: uuid::Uuid::now_v7().to_string(),
            at: Timestamp::now().micros(),
            event: event.as_str().to_owned(),
            user_id: user_id.map(str::to_owned),
            ip: ip.map(|ip| ip.to_string()),
            detail: detail.to_string(),
        }
    }

    /// Writes an event. A failure to write is logged and counted, never turned into the
    /// request's failure: the action already happened.
    pub async fn record(
        &self,
        event: Event,
        user_id: Option<&str>,
        ip: Option<IpAddr>,
        detail: Value,
    ) {
        let row = Self::entry(event, user_id, ip, detail);
        if let Err(error) = store::insert(&self.db, row).await {
            metrics::counter!("audit_write_failures_total").increment(1);
            tracing::error!(%error, event = event.as_str(), "could not write an audit event");
        }
    }

    /// One page, newest first, and the total.
    pub async fn page(
        &self,
        user_id: Option<&str>,
        offset: u64,
        limit: u64,
    ) -> Result<(Vec<AuditEntry>, u64)> {
        // No id holds a NUL, and PostgreSQL refuses one in a query: a 422, as todo-service has it.
        if user_id.is_some_and(|id| id.contains('\0')) {
            return Err(Error::field("user_id", "must not contain NUL characters"));
        }
        let (rows, total) = store::page(&self.db, user_id, offset, limit).await?;
        let entries = rows
            .into_iter()
            .map(|row| AuditEntry {
                detail: serde_json::from_str(&row.detail).unwrap_or(Value::Null),
                id: row.id,
                at: Timestamp(row.at),
                event: row.event,
                user_id: row.user_id,
                ip: row.ip,
            })
            .collect();
        Ok((entries, total))
    }
}
