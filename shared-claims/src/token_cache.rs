//! Tokens verified before: a repeat costs a hash lookup instead of an RSA verification.
//!
//! Keyed by the whole token, so a hit means these exact bytes were verified. Each entry expires
//! with its token (plus the leeway); a hit whose key has left the JWKS is dropped and verified
//! again, so removing a key from the JWKS revokes its cached tokens too.

use std::sync::Arc;
use std::time::{Duration, Instant};

use moka::Expiry;
use moka::sync::Cache;

use crate::claims::AccessClaims;
use crate::keys::KeySet;

#[derive(Debug, Clone)]
pub struct VerifiedToken {
    pub claims: Arc<AccessClaims>,
    pub kid: Arc<str>,
    /// When the entry stops being valid, seconds since the epoch (`exp` + leeway).
    valid_until: i64,
    /// The same instant on the monotonic clock, for moka's expiry.
    expires_at: Instant,
}

struct UntilTokenExpiry;

impl Expiry<Arc<str>, VerifiedToken> for UntilTokenExpiry {
    fn expire_after_create(
        &self,
        _key: &Arc<str>,
        value: &VerifiedToken,
        created_at: Instant,
    ) -> Option<Duration> {
        Some(value.expires_at.saturating_duration_since(created_at))
    }
}

#[derive(Clone)]
pub struct TokenCache {
    entries: Cache<Arc<str>, VerifiedToken>,
}

impl std::fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenCache")
            .field("entries", &self.entries.entry_count())
            .finish()
    }
}

impl TokenCache {
    pub fn new(max_entries: u64) -> Self {
        TokenCache {
            entries: Cache::builder()
                .max_capacity(max_entries)
                .expire_after(UntilTokenExpiry)
                .build(),
        }
    }

    /// The claims of `token` if it was verified before, is still within its lifetime at `now`,
    /// and its key is still in `keys`.
    pub fn get(&self, token: &str, keys: &KeySet, now: i64) -> Option<Arc<AccessClaims>> {
        let hit = self.entries.get(token)?;
        if now > hit.valid_until || !keys.contains(&hit.kid) {
            self.entries.invalidate(token);
            return None;
        }
        Some(hit.claims)
    }

    pub fn insert(
        &self,
        token: &str,
        claims: Arc<AccessClaims>,
        kid: &str,
        leeway_secs: i64,
        now: i64,
    ) {
        let valid_until = claims.exp.saturating_add(leeway_secs);
        let remaining = u64::try_from(valid_until.saturating_sub(now)).unwrap_or(0);
        if remaining == 0 {
            return;
        }
        let entry = VerifiedToken {
            claims,
            kid: Arc::from(kid),
            valid_until,
            expires_at: Instant::now() + Duration::from_secs(remaining),
        };
        self.entries.insert(Arc::from(token), entry);
    }
}
