//! The verifier, the key cache and the verified-token cache behind one call.

use std::sync::{Arc, PoisonError, RwLock};

use crate::claims::AccessClaims;
use crate::jwks::{JwksCache, JwksConfig};
use crate::keys::KeySet;
use crate::token_cache::TokenCache;
use crate::verifier::{
    AccessTokenVerifier, Rejection, VerifiedAccessToken, VerifierConfig, now_unix,
};

/// How many verified tokens are remembered (about 1 KiB each).
const TOKEN_CACHE_ENTRIES: u64 = 10_000;

/// Why an [`Authenticator`] could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The HTTP client for the JWKS could not be set up (TLS roots, for instance).
    #[error("cannot build the JWKS HTTP client: {0}")]
    HttpClient(#[from] reqwest::Error),
}

/// Keys held in memory and replaced by their owner: the issuer verifying its own tokens.
#[derive(Debug, Clone, Default)]
pub struct LocalKeys(Arc<RwLock<Arc<KeySet>>>);

impl LocalKeys {
    /// Replaces the keys every clone sees.
    pub fn set(&self, keys: KeySet) {
        *self.0.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(keys);
    }

    /// The keys now.
    pub fn get(&self) -> Arc<KeySet> {
        Arc::clone(&self.0.read().unwrap_or_else(PoisonError::into_inner))
    }
}

#[derive(Debug, Clone)]
enum KeySource {
    /// Fetched from the issuer's JWKS endpoint and cached.
    Jwks(JwksCache),
    Local(LocalKeys),
}

/// Access token → claims for every request: the verifier, the keys (fetched from the issuer's
/// JWKS, or held locally by the issuer itself) and a cache of tokens verified before.
#[derive(Debug, Clone)]
pub struct Authenticator {
    verifier: Arc<AccessTokenVerifier>,
    keys: KeySource,
    verified: TokenCache,
}

impl Authenticator {
    /// Verifies with keys fetched from the issuer's JWKS (call [`Authenticator::start`]).
    pub fn new(verifier: VerifierConfig, jwks: JwksConfig) -> Result<Self, BuildError> {
        Ok(Authenticator {
            verifier: Arc::new(AccessTokenVerifier::new(verifier)),
            keys: KeySource::Jwks(JwksCache::new(jwks)?),
            verified: TokenCache::new(TOKEN_CACHE_ENTRIES),
        })
    }

    /// Verifies with keys its owner keeps current.
    pub fn with_local_keys(verifier: VerifierConfig, keys: LocalKeys) -> Self {
        Authenticator {
            verifier: Arc::new(AccessTokenVerifier::new(verifier)),
            keys: KeySource::Local(keys),
            verified: TokenCache::new(TOKEN_CACHE_ENTRIES),
        }
    }

    /// Starts the key cache's background fetching (the first fetch happens at once); nothing
    /// to start for local keys.
    pub fn start(&self) -> Option<tokio::task::JoinHandle<()>> {
        match &self.keys {
            KeySource::Jwks(jwks) => Some(jwks.spawn_refresher()),
            KeySource::Local(_) => None,
        }
    }

    /// The JWKS cache, when keys come from one.
    pub fn jwks(&self) -> Option<&JwksCache> {
        match &self.keys {
            KeySource::Jwks(jwks) => Some(jwks),
            KeySource::Local(_) => None,
        }
    }

    /// Readiness: a token could be verified now.
    pub fn holds_keys(&self) -> bool {
        self.current_keys().is_some_and(|k| !k.is_empty())
    }

    fn current_keys(&self) -> Option<Arc<KeySet>> {
        match &self.keys {
            KeySource::Jwks(jwks) => jwks.keys(),
            KeySource::Local(local) => Some(local.get()),
        }
    }

    /// Access token → claims, or why not. Counts each rejection by reason.
    pub async fn authenticate(&self, token: &str) -> Result<Arc<AccessClaims>, Rejection> {
        let result = self.authenticate_uncounted(token).await;
        if let Err(rejection) = &result {
            metrics::counter!("token_rejections_total", "reason" => rejection.reason())
                .increment(1);
        }
        result
    }

    async fn authenticate_uncounted(&self, token: &str) -> Result<Arc<AccessClaims>, Rejection> {
        let keys = self.current_keys().ok_or(Rejection::NoKeys)?;
        let now = now_unix();
        if let Some(claims) = self.verified.get(token, &keys, now) {
            return Ok(claims);
        }
        let VerifiedAccessToken { claims, kid } = match self.verifier.verify(token, &keys, now) {
            Err(Rejection::UnknownKeyId) => {
                let KeySource::Jwks(jwks) = &self.keys else {
                    return Err(Rejection::UnknownKeyId);
                };
                let kid = crate::verifier::peek_kid(token).unwrap_or_default();
                if !jwks.refresh_for_unknown_kid(&kid).await {
                    return Err(Rejection::UnknownKeyId);
                }
                let keys = jwks.keys().ok_or(Rejection::NoKeys)?;
                self.verifier.verify(token, &keys, now)?
            }
            other => other?,
        };
        let claims = Arc::new(claims);
        self.verified.insert(
            token,
            Arc::clone(&claims),
            &kid,
            self.verifier.config().leeway_secs,
            now,
        );
        Ok(claims)
    }
}
