//! The verifier, the key cache and the verified-token cache behind one call.

use std::sync::{Arc, PoisonError, RwLock};

use crate::claims::AccessClaims;
use crate::feed::{FeedConfig, RevocationFeed};
use crate::jwks::{JwksCache, JwksConfig};
use crate::keys::KeySet;
use crate::revocations::RevocationSet;
use crate::security_event::SecurityEventVerifier;
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
/// JWKS, or held locally by the issuer itself), a cache of tokens verified before, and the
/// revocations the issuer published (followed from its feed, or applied by the issuer itself).
#[derive(Debug, Clone)]
pub struct Authenticator {
    verifier: Arc<AccessTokenVerifier>,
    keys: KeySource,
    verified: TokenCache,
    revocations: Arc<RevocationSet>,
    feed: Option<RevocationFeed>,
}

impl Authenticator {
    /// Verifies with keys fetched from the issuer's JWKS, and refuses what the issuer's
    /// revocation feed (beside the JWKS) says has ended. Call [`Authenticator::start`].
    pub fn new(verifier: VerifierConfig, jwks: JwksConfig) -> Result<Self, BuildError> {
        let feed_config = FeedConfig::beside_jwks(&jwks.url);
        let cache = JwksCache::new(jwks)?;
        let revocations = Arc::new(RevocationSet::new());
        let feed = feed_config
            .map(|config| {
                RevocationFeed::new(
                    config,
                    Arc::clone(&revocations),
                    cache.clone(),
                    SecurityEventVerifier::new(verifier.issuer.clone(), verifier.audience.clone()),
                )
            })
            .transpose()?;
        Ok(Authenticator {
            verifier: Arc::new(AccessTokenVerifier::new(verifier)),
            keys: KeySource::Jwks(cache),
            verified: TokenCache::new(TOKEN_CACHE_ENTRIES),
            revocations,
            feed,
        })
    }

    /// Verifies with keys its owner keeps current, and refuses what its owner applies to
    /// [`Authenticator::revocations`].
    pub fn with_local_keys(verifier: VerifierConfig, keys: LocalKeys) -> Self {
        Authenticator {
            verifier: Arc::new(AccessTokenVerifier::new(verifier)),
            keys: KeySource::Local(keys),
            verified: TokenCache::new(TOKEN_CACHE_ENTRIES),
            revocations: Arc::new(RevocationSet::new()),
            feed: None,
        }
    }

    /// Starts the background work: the key cache's fetching (the first fetch at once) and
    /// following the revocation feed. Nothing to start for local keys.
    pub fn start(&self) -> Vec<tokio::task::JoinHandle<()>> {
        let mut tasks = Vec::new();
        if let KeySource::Jwks(jwks) = &self.keys {
            tasks.push(jwks.spawn_refresher());
        }
        if let Some(feed) = &self.feed {
            tasks.extend(feed.spawn());
        }
        tasks
    }

    /// The revocations this authenticator refuses tokens by.
    pub fn revocations(&self) -> &Arc<RevocationSet> {
        &self.revocations
    }

    /// The revocation feed followed, when keys come from a JWKS.
    pub fn feed(&self) -> Option<&RevocationFeed> {
        self.feed.as_ref()
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
        let claims = self.verify(token).await?;
        if let Some(feed) = &self.feed {
            // Right after start, until the feed's backlog has arrived (bounded): a replica that
            // starts after a logout must refuse that token from its first request.
            feed.initial_sync().await;
        }
        if self.revocations.refuses(&claims) {
            return Err(Rejection::Revoked);
        }
        Ok(claims)
    }

    /// The claims of a token that verifies, from the cache of tokens seen before when it can.
    async fn verify(&self, token: &str) -> Result<Arc<AccessClaims>, Rejection> {
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
