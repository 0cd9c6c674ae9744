//! What handlers share.

use std::sync::Arc;

use axum::extract::FromRef;
use shared_claims::Authenticator;

use crate::accounts::Accounts;
use crate::accounts::admin::Admin;
use crate::audit::AuditLog;
use crate::config::Settings;
use crate::keys::ring::KeyRing;
use crate::limits::RateLimits;
use crate::reset::PasswordResets;
use crate::revocations::publisher::Publisher;
use crate::sessions::Sessions;

/// What handlers share; each takes only the parts it needs (`State<Sessions>`, ...).
#[derive(Clone, FromRef)]
pub struct AppState {
    pub settings: Arc<Settings>,
    pub accounts: Accounts,
    pub sessions: Sessions,
    pub resets: PasswordResets,
    pub admin: Admin,
    pub audit: AuditLog,
    pub ring: Arc<KeyRing>,
    pub rates: Arc<RateLimits>,
    /// Verifies this service's own access tokens against its published keys.
    pub authenticator: Arc<Authenticator>,
    /// The discovery document, rendered once.
    pub discovery: Arc<serde_json::Value>,
    /// The revocation feed.
    pub publisher: Publisher,
}
