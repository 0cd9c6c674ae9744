//! What the auth-service ends, ends everywhere: each session or user whose tokens must stop
//! working is recorded as an event in the transaction of the change that ends it, and every
//! verifier learns it from the feed ([`publisher`]), signed as a Security Event Token.
//!
//! - session events (every token of one session): logout, refresh-token reuse, a password
//!   change (for the user's other sessions);
//! - user events (every token of the user issued before now): logout everywhere, a reset, a
//!   deactivation, a role change.
//!
//! Each event is kept until no token it refuses can still be accepted: the access-token
//! lifetime plus the largest leeway a verifier may use (300 s), then purged.

pub mod publisher;

use std::sync::Arc;

use sea_orm::DatabaseTransaction;
use service_kit::timestamp::Timestamp;
use shared_claims::Role;
use tokio::sync::Notify;

use crate::error::Result;
use crate::store::entities::revocation::RevocationKind;
use crate::store::revocations::{self as store, NewRevocation};

/// The largest leeway a verifier may allow (`TODO_LEEWAY_SECS` is refused above it).
pub const MAX_VERIFIER_LEEWAY_SECS: i64 = 300;

/// Why tokens were ended: the event's `reason`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    Logout,
    LogoutAll,
    RefreshReuse,
    PasswordChanged,
    PasswordReset,
    Deactivated,
    RoleChanged(Role),
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Logout => "logout",
            Reason::LogoutAll => "logout_all",
            Reason::RefreshReuse => "refresh_reuse",
            Reason::PasswordChanged => "password_changed",
            Reason::PasswordReset => "password_reset",
            Reason::Deactivated => "deactivated",
            Reason::RoleChanged(_) => "role_changed",
        }
    }
}

/// Records revocations; the events reach verifiers through the feed.
#[derive(Debug, Clone)]
pub struct RevocationLog {
    /// How long after an event a token it refuses may still be accepted somewhere.
    keep_secs: i64,
    /// Wakes this replica's publisher after a commit.
    committed: Arc<Notify>,
}

impl RevocationLog {
    pub fn new(access_token_ttl_secs: i64) -> Self {
        RevocationLog {
            keep_secs: access_token_ttl_secs.saturating_add(MAX_VERIFIER_LEEWAY_SECS),
            committed: Arc::new(Notify::new()),
        }
    }

    /// What the publisher waits on.
    pub fn committed_signal(&self) -> Arc<Notify> {
        Arc::clone(&self.committed)
    }

    /// Commits `txn` and wakes the publisher, so this replica's subscribers hear at once.
    pub async fn commit(&self, txn: DatabaseTransaction) -> Result<()> {
        txn.commit().await?;
        self.committed.notify_one();
        Ok(())
    }

    /// Every token of these sessions of `user_id`, in `txn`.
    pub async fn sessions_ended(
        &self,
        txn: &DatabaseTransaction,
        user_id: &str,
        sids: &[String],
        reason: Reason,
    ) -> Result<()> {
        let now = Timestamp::now();
        let rows = sids
            .iter()
            .map(|sid| NewRevocation {
                kind: RevocationKind::Session,
                subject: sid.clone(),
                user_id: user_id.to_owned(),
                reason: reason.as_str(),
                role: None,
                not_before: now,
                at: now,
                expires_at: now.plus_secs(self.keep_secs),
            })
            .collect();
        Ok(store::insert(txn, rows).await?)
    }

    /// Every token of `user_id` issued before `now`, in `txn`.
    pub async fn tokens_before(
        &self,
        txn: &DatabaseTransaction,
        user_id: &str,
        now: Timestamp,
        reason: Reason,
    ) -> Result<()> {
        let role = match reason {
            Reason::RoleChanged(role) => Some(role.as_str()),
            _ => None,
        };
        let row = NewRevocation {
            kind: RevocationKind::User,
            subject: user_id.to_owned(),
            user_id: user_id.to_owned(),
            reason: reason.as_str(),
            role,
            not_before: now,
            at: now,
            expires_at: now.plus_secs(self.keep_secs),
        };
        Ok(store::insert(txn, vec![row]).await?)
    }
}
