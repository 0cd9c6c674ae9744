//! User administration: list, get, change role or active state. The last active admin can be
//! neither demoted nor deactivated; deactivation ends every session.

use std::net::IpAddr;

use sea_orm::{DatabaseConnection, TransactionTrait};
use serde_json::json;
use service_kit::timestamp::Timestamp;
use shared_claims::Role;

use super::User;
use crate::audit::{AuditLog, Event};
use crate::error::{Error, Result};
use crate::revocations::{Reason, RevocationLog};
use crate::sessions::Caller;
use crate::store::{reset_tokens as reset_store, sessions as session_store, users as store};

/// Whether `id` has the shape of a user id (a hyphenated lower-case UUID, as accounts are
/// created with): anything else names no user, and is a 404 without a database round trip (nor
/// a query PostgreSQL would refuse, such as one with a NUL).
pub fn is_user_id(id: &str) -> bool {
    uuid::Uuid::try_parse(id).is_ok_and(|uuid| uuid.hyphenated().to_string() == id)
}

#[derive(Debug, Clone, Copy, Default)]
pub struct UserChange {
    pub role: Option<Role>,
    pub is_active: Option<bool>,
}

#[derive(Debug, Clone)]
pub struct Admin {
    db: DatabaseConnection,
    audit: AuditLog,
    revocations: RevocationLog,
}

impl Admin {
    pub fn new(db: DatabaseConnection, audit: AuditLog, revocations: RevocationLog) -> Self {
        Admin {
            db,
            audit,
            revocations,
        }
    }

    pub async fn list(&self, offset: u64, limit: u64) -> Result<(Vec<User>, u64)> {
        let (rows, total) = store::page(&self.db, offset, limit).await?;
        Ok((rows.iter().map(User::from).collect(), total))
    }

    pub async fn get(&self, id: &str) -> Result<User> {
        if !is_user_id(id) {
            return Err(Error::NotFound);
        }
        store::by_id(&self.db, id)
            .await?
            .map(|row| User::from(&row))
            .ok_or(Error::NotFound)
    }

    pub async fn change(
        &self,
        actor: &Caller,
        id: &str,
        change: UserChange,
        ip: Option<IpAddr>,
    ) -> Result<User> {
        if !is_user_id(id) {
            return Err(Error::NotFound);
        }
        let now = Timestamp::now();
        let txn = self.db.begin().await?;
        let Some(before) = store::by_id(&txn, id).await?.map(|row| User::from(&row)) else {
            return Err(Error::NotFound);
        };
        let role = change.role.unwrap_or(before.role);
        let is_active = change.is_active.unwrap_or(before.is_active);
        let was_active_admin = before.is_active && before.role == Role::Admin;
        let stays_active_admin = is_active && role == Role::Admin;
        if was_active_admin && !stays_active_admin {
            let admins = store::active_admin_ids_locked(&txn).await?;
            if !admins.iter().any(|admin| admin != id) {
                txn.rollback().await?;
                return Err(Error::LastAdmin);
            }
        }
        store::set_role_and_active(&txn, id, role.into(), is_active, now).await?;
        if before.is_active && !is_active {
            session_store::revoke_user_sessions(&txn, id, None, "deactivated", now).await?;
            reset_store::consume_all_for_user(&txn, id, now).await?;
            self.revocations
                .tokens_before(&txn, id, now, Reason::Deactivated)
                .await?;
        } else if before.role != role {
            // Tokens carry the role: those signed before the change must not keep it.
            self.revocations
                .tokens_before(&txn, id, now, Reason::RoleChanged(role))
                .await?;
        }
        let after = store::by_id(&txn, id)
            .await?
            .map(|row| User::from(&row))
            .ok_or(Error::NotFound)?;
        self.revocations.commit(txn).await?;

        let by = actor.user_id();
        if before.role != role {
            self.audit
                .record(
                    Event::RoleChanged,
                    Some(id),
                    ip,
                    json!({"from": before.role, "to": role, "by": by}),
                )
                .await;
        }
        if before.is_active != is_active {
            let event = if is_active {
                Event::Reactivated
            } else {
                Event::Deactivated
            };
            self.audit
                .record(event, Some(id), ip, json!({ "by": by }))
                .await;
        }
        Ok(after)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_canonical_uuid_can_name_a_user() {
        let id = uuid::Uuid::now_v7().to_string();
        assert!(is_user_id(&id));
        assert!(!is_user_id(&id.to_uppercase()));
        assert!(!is_user_id(&id.replace('-', "")));
        assert!(!is_user_id("a\0b"));
        assert!(!is_user_id(""));
        assert!(!is_user_id(&"u".repeat(5000)));
    }
}
