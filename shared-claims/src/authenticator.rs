//! The verifier, the key cache and the verified-token cache behind one call.

use std::sync::Arc;

use crate::claims::AccessClaims;
use crate::jwks::{JwksCache, JwksConfig};
use crate::token_cache::TokenCache;
use crate::verifier::{Rejection, Verifier, VerifierConfig, now_unix};

/// How many verified tokens are remembered (about 1 KiB each).
pub const DEFAULT_TOKEN_CACHE_ENTRIES: u64 = 10_000;

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("cannot build the JWKS HTTP client: {0}")]
    HttpClient(#[from] reqwest::Error),
}

#[derive(Debug, Clone)]
pub struct Authenticator {
    verifier: Arc<Verifier>,
    jwks: JwksCache,
    verified: TokenCache,
}

impl Authenticator {
    pub fn new(verifier: VerifierConfig, jwks: JwksConfig) -> Result<Self, BuildError> {
        Ok(Authenticator {
            verifier: Arc::new(Verifier::new(verifier)),
            jwks: JwksCache::new(jwks)?,
            verified: TokenCache::new(DEFAULT_TOKEN_CACHE_ENTRIES),
        })
    }

    /// Starts the key cache's background fetching (the first fetch happens at once).
    pub fn start(&self) -> tokio::task::JoinHandle<()> {
        self.jwks.spawn_refresher()
    }

    pub fn jwks(&self) -> &JwksCache {
        &self.jwks
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
        let keys = self.jwks.keys().ok_or(Rejection::NoKeys)?;
        let now = now_unix();
        if let Some(claims) = self.verified.get(token, &keys, now) {
            return Ok(claims);
        }
        let (claims, kid) = match self.verifier.verify_access(token, &keys, now) {
            Err(Rejection::UnknownKeyId) => {
                let kid = crate::verifier::peek_kid(token).unwrap_or_default();
                if !self.jwks.refresh_for_unknown_kid(&kid).await {
                    return Err(Rejection::UnknownKeyId);
                }
                let keys = self.jwks.keys().ok_or(Rejection::NoKeys)?;
                self.verifier.verify_access(token, &keys, now)?
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
