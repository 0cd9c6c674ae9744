//! What the account flows (sessions, password resets) share to guard and record what they do.

use std::sync::Arc;

use crate::audit::AuditLog;
use crate::limits::{LoginLimiter, RateLimits};
use crate::revocations::RevocationLog;

/// The failure window, the request rates, the audit log and the revocation log.
#[derive(Debug, Clone)]
pub struct Safeguards {
    pub login_limiter: LoginLimiter,
    pub rates: Arc<RateLimits>,
    pub audit: AuditLog,
    pub revocations: RevocationLog,
}
