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
use crate::sessions::Sessions;

/// Cloned for every request by axum's `State`: one reference count, not one per part.
#[derive(Clone)]
pub struct AppState(Arc<Parts>);

impl AppState {
    pub fn new(parts: Parts) -> Self {
        AppState(Arc::new(parts))
    }
}

impl std::ops::Deref for AppState {
    type Target = Parts;

    fn deref(&self) -> &Parts {
        &self.0
    }
}

pub struct Parts {
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
}

impl FromRef<AppState> for Arc<Authenticator> {
    fn from_ref(state: &AppState) -> Self {
        Arc::clone(&state.authenticator)
    }
}
