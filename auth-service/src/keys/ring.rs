//! The keys this replica holds in memory: the signing keys (active and next) with the instant
//! each starts signing, the rendered JWKS, and the published keys for verifying its own tokens.

use std::sync::{Arc, PoisonError, RwLock};

use jsonwebtoken::DecodingKey;
use serde_json::json;
use shared_claims::{KeySet, LocalKeys};

pub struct SigningKey {
    pub kid: String,
    pub signer: super::jws::RsaSigner,
    /// Microseconds since the epoch.
    pub activates_at: i64,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .field("activates_at", &self.activates_at)
            .finish()
    }
}

/// A published key's public half.
#[derive(Debug, Clone)]
pub struct PublicKey {
    pub kid: String,
    pub n: String,
    pub e: String,
}

#[derive(Debug, Default)]
struct RingState {
    /// Sorted by `activates_at`.
    signers: Vec<Arc<SigningKey>>,
    jwks: Arc<str>,
}

#[derive(Debug, Default)]
pub struct KeyRing {
    state: RwLock<Arc<RingState>>,
    published: LocalKeys,
}

impl KeyRing {
    pub fn replace(&self, mut signers: Vec<SigningKey>, published: &[PublicKey]) {
        signers.sort_by_key(|k| k.activates_at);
        let keys: Vec<_> = published
            .iter()
            .map(|k| json!({"kty": "RSA", "use": "sig", "alg": "RS256", "kid": k.kid, "n": k.n, "e": k.e}))
            .collect();
        let jwks = json!({ "keys": keys }).to_string();
        let decoding = published.iter().filter_map(|k| {
            DecodingKey::from_rsa_components(&k.n, &k.e)
                .ok()
                .map(|d| (k.kid.clone(), d))
        });
        self.published.set(KeySet::from_keys(decoding));
        *self.state.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(RingState {
            signers: signers.into_iter().map(Arc::new).collect(),
            jwks: Arc::from(jwks),
        });
    }

    fn state(&self) -> Arc<RingState> {
        Arc::clone(&self.state.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// The key that signs at `now` (microseconds): the latest whose activation has come. A
    /// `next` key takes over at its instant on every replica, before any database promotion.
    pub fn signer(&self, now: i64) -> Option<Arc<SigningKey>> {
        self.state()
            .signers
            .iter()
            .rev()
            .find(|k| k.activates_at <= now)
            .cloned()
    }

    /// The JWKS document, rendered once per reload.
    pub fn jwks(&self) -> Arc<str> {
        Arc::clone(&self.state().jwks)
    }

    /// Every published key, for verifying tokens this service issued.
    pub fn published(&self) -> LocalKeys {
        self.published.clone()
    }

    pub fn holds_signer(&self, now: i64) -> bool {
        self.signer(now).is_some()
    }
}
