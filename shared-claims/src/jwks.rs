//! The JWKS key cache: the verifier's only contact with the issuer, and never on a request's
//! critical path except for a token naming a key it has not seen.
//!
//! - fetched at start, then again when the response's `max-age` runs out (clamped);
//! - refetched when a token names an unknown `kid`, at most once per cool-down, one fetch in
//!   flight however many requests wait;
//! - while the issuer is unreachable the keys it has keep serving, up to `max_stale` after the
//!   last successful fetch; past that it holds no keys until a fetch succeeds.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard};
use std::time::Duration;

use reqwest::header::CACHE_CONTROL;
use tokio::time::Instant;
use tracing::Instrument;

use crate::keys::KeySet;
use crate::trace_context::Outgoing;

/// A JWKS document larger than this is refused rather than read into memory.
const MAX_JWKS_BYTES: usize = 256 * 1024;

/// Where the keys come from and how often they are fetched.
#[derive(Debug, Clone)]
pub struct JwksConfig {
    /// The issuer's JWKS endpoint.
    pub url: String,
    /// Cool-down between fetches triggered by an unknown `kid`; also the retry interval while
    /// the issuer is unreachable.
    pub min_refresh: Duration,
    /// How long after the last successful fetch the keys keep serving while the issuer is
    /// unreachable; past it, none are held.
    pub max_stale: Duration,
    /// Used when the response has no `Cache-Control: max-age`.
    pub default_max_age: Duration,
    /// `max-age` is clamped into these bounds: an issuer saying 0 must not make us poll in a
    /// loop, and one saying a year must not keep a rotated-out key forever.
    pub min_max_age: Duration,
    /// The upper bound of `max-age`.
    pub max_max_age: Duration,
    /// How long connecting to the issuer may take.
    pub connect_timeout: Duration,
    /// How long a whole fetch may take.
    pub request_timeout: Duration,
}

impl JwksConfig {
    /// Defaults for fetching from `url`: 10 s cool-down, one day of stale keys, `max-age` kept
    /// within 1 s and 1 h (300 s when absent).
    pub fn new(url: impl Into<String>) -> Self {
        JwksConfig {
            url: url.into(),
            min_refresh: Duration::from_secs(10),
            max_stale: Duration::from_secs(86_400),
            default_max_age: Duration::from_secs(300),
            min_max_age: Duration::from_secs(1),
            max_max_age: Duration::from_secs(3_600),
            connect_timeout: Duration::from_secs(2),
            request_timeout: Duration::from_secs(5),
        }
    }
}

/// What the cache has done, for metrics and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct JwksStats {
    /// Fetches attempted.
    pub fetches: u64,
    /// Of which failed.
    pub failures: u64,
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum FetchError {
    #[error("request failed: {0}")]
    Request(#[from] reqwest::Error),
    #[error("issuer answered {0}")]
    Status(reqwest::StatusCode),
    #[error("the document exceeds {MAX_JWKS_BYTES} bytes")]
    TooLarge,
    #[error(transparent)]
    Document(#[from] crate::keys::KeySetError),
    #[error("the document holds no usable key")]
    NoUsableKey,
}

#[derive(Debug)]
struct Snapshot {
    keys: Arc<KeySet>,
    fetched_at: Instant,
    fresh_until: Instant,
}

#[derive(Debug)]
struct Inner {
    config: JwksConfig,
    client: reqwest::Client,
    snapshot: RwLock<Option<Snapshot>>,
    /// Held for the whole of a fetch: the single flight.
    fetch_lock: tokio::sync::Mutex<Option<Instant>>,
    fetches: AtomicU64,
    failures: AtomicU64,
    /// When the cache was made: the age of the keys until a first fetch succeeds.
    created: Instant,
}

/// The issuer's keys, fetched and kept current (see the module documentation).
#[derive(Debug, Clone)]
pub struct JwksCache {
    inner: Arc<Inner>,
}

impl JwksCache {
    /// A cache that fetches as `config` says, once started.
    pub fn new(config: JwksConfig) -> Result<Self, reqwest::Error> {
        // Keys come from exactly the configured URL: no redirect may move that trust elsewhere,
        // and no proxy taken from the environment sits in the middle.
        let client = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .timeout(config.request_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .build()?;
        Ok(JwksCache {
            inner: Arc::new(Inner {
                config,
                client,
                snapshot: RwLock::new(None),
                fetch_lock: tokio::sync::Mutex::new(None),
                fetches: AtomicU64::new(0),
                failures: AtomicU64::new(0),
                created: Instant::now(),
            }),
        })
    }

    /// How it fetches.
    pub fn config(&self) -> &JwksConfig {
        &self.inner.config
    }

    /// The keys to verify with, unless none were fetched yet or the last success is older than
    /// `max_stale`.
    pub fn keys(&self) -> Option<Arc<KeySet>> {
        let guard = self.snapshot();
        let snapshot = guard.as_ref()?;
        (snapshot.fetched_at.elapsed() <= self.inner.config.max_stale)
            .then(|| Arc::clone(&snapshot.keys))
    }

    /// The keys held and when they were fetched (a poisoned lock still holds a whole snapshot:
    /// writers only ever replace it).
    fn snapshot(&self) -> RwLockReadGuard<'_, Option<Snapshot>> {
        self.inner
            .snapshot
            .read()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Time since the last successful fetch (since the cache was made, before the first): the
    /// keys are dropped when it passes `max_stale`.
    pub fn age(&self) -> Duration {
        let guard = self.snapshot();
        guard
            .as_ref()
            .map_or(self.inner.created, |s| s.fetched_at)
            .elapsed()
    }

    /// Readiness: the cache holds keys a token could be verified with.
    pub fn holds_keys(&self) -> bool {
        self.keys().is_some_and(|k| !k.is_empty())
    }

    /// Fetches so far.
    pub fn stats(&self) -> JwksStats {
        JwksStats {
            fetches: self.inner.fetches.load(Ordering::Relaxed),
            failures: self.inner.failures.load(Ordering::Relaxed),
        }
    }

    /// A token named a key we do not hold. Fetches again unless a fetch ran within the cool-down;
    /// callers arriving while a fetch is in flight wait for it instead of starting their own.
    /// Returns whether the key is now known.
    pub async fn refresh_for_unknown_kid(&self, kid: &str) -> bool {
        let known = |cache: &JwksCache| cache.keys().is_some_and(|k| k.contains(kid));
        let mut last_attempt = self.inner.fetch_lock.lock().await;
        if known(self) {
            return true;
        }
        if last_attempt.is_some_and(|at| at.elapsed() < self.inner.config.min_refresh) {
            return false;
        }
        *last_attempt = Some(Instant::now());
        let _ = self.fetch_and_store().await;
        drop(last_attempt);
        known(self)
    }

    /// Fetches now, whatever the cool-down (start-up and the background refresh).
    async fn refresh(&self) -> Result<(), FetchError> {
        let mut last_attempt = self.inner.fetch_lock.lock().await;
        *last_attempt = Some(Instant::now());
        self.fetch_and_store().await
    }

    /// Starts the background task: one fetch now, then one each time `max-age` runs out, and
    /// every `min_refresh` while the issuer fails. Ends when the last handle is dropped.
    pub fn spawn_refresher(&self) -> tokio::task::JoinHandle<()> {
        let weak = Arc::downgrade(&self.inner);
        tokio::spawn(async move {
            loop {
                let Some(inner) = weak.upgrade() else { return };
                let cache = JwksCache { inner };
                let wait = match cache.refresh().await {
                    Ok(()) => cache.until_stale_by_max_age(),
                    Err(_) => cache.inner.config.min_refresh,
                };
                drop(cache);
                tokio::time::sleep(wait.max(Duration::from_millis(100))).await;
            }
        })
    }

    fn until_stale_by_max_age(&self) -> Duration {
        let guard = self.snapshot();
        guard
            .as_ref()
            .map(|s| s.fresh_until.saturating_duration_since(Instant::now()))
            .unwrap_or(self.inner.config.min_refresh)
    }

    async fn fetch_and_store(&self) -> Result<(), FetchError> {
        let trace = Outgoing::current_or_new();
        let span = tracing::info_span!("jwks_fetch", trace_id = %trace.trace_id);
        self.fetch_and_store_in(trace).instrument(span).await
    }

    async fn fetch_and_store_in(&self, trace: Outgoing) -> Result<(), FetchError> {
        let config = &self.inner.config;
        match self.fetch(trace).await {
            Ok((keys, max_age)) => {
                let max_age = max_age
                    .unwrap_or(config.default_max_age)
                    .clamp(config.min_max_age, config.max_max_age);
                let now = Instant::now();
                let count = keys.len();
                *self
                    .inner
                    .snapshot
                    .write()
                    .unwrap_or_else(PoisonError::into_inner) = Some(Snapshot {
                    keys: Arc::new(keys),
                    fetched_at: now,
                    fresh_until: now + max_age,
                });
                self.inner.fetches.fetch_add(1, Ordering::Relaxed);
                metrics::counter!("jwks_fetches_total", "outcome" => "ok").increment(1);
                tracing::debug!(
                    keys = count,
                    max_age_secs = max_age.as_secs(),
                    "fetched JWKS"
                );
                Ok(())
            }
            Err(error) => {
                self.inner.fetches.fetch_add(1, Ordering::Relaxed);
                self.inner.failures.fetch_add(1, Ordering::Relaxed);
                metrics::counter!("jwks_fetches_total", "outcome" => "error").increment(1);
                tracing::warn!(url = %config.url, %error, "JWKS fetch failed; serving the keys held");
                Err(error)
            }
        }
    }

    async fn fetch(&self, trace: Outgoing) -> Result<(KeySet, Option<Duration>), FetchError> {
        let mut response = self
            .inner
            .client
            .get(&self.inner.config.url)
            .header("traceparent", trace.traceparent())
            .send()
            .await?;
        if !response.status().is_success() {
            return Err(FetchError::Status(response.status()));
        }
        let max_age = response
            .headers()
            .get_all(CACHE_CONTROL)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(parse_max_age);
        if response
            .content_length()
            .is_some_and(|len| len > MAX_JWKS_BYTES as u64)
        {
            return Err(FetchError::TooLarge);
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await? {
            if body.len() + chunk.len() > MAX_JWKS_BYTES {
                return Err(FetchError::TooLarge);
            }
            body.extend_from_slice(&chunk);
        }
        let keys = KeySet::from_jwks_json(&body)?;
        if keys.is_empty() {
            return Err(FetchError::NoUsableKey);
        }
        Ok((keys, max_age))
    }
}

/// `max-age=N` from one `Cache-Control` value; `no-store`/`no-cache` count as zero.
fn parse_max_age(value: &str) -> Option<Duration> {
    value.split(',').map(str::trim).find_map(|directive| {
        let lower = directive.to_ascii_lowercase();
        if lower == "no-store" || lower == "no-cache" {
            return Some(Duration::ZERO);
        }
        let seconds = lower.strip_prefix("max-age=")?.trim_matches('"');
        seconds.parse::<u64>().ok().map(Duration::from_secs)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_age_is_read_from_cache_control() {
        assert_eq!(
            parse_max_age("public, max-age=300"),
            Some(Duration::from_secs(300))
        );
        assert_eq!(parse_max_age("MAX-AGE=5"), Some(Duration::from_secs(5)));
        assert_eq!(parse_max_age("no-store"), Some(Duration::ZERO));
        assert_eq!(parse_max_age("public"), None);
        assert_eq!(parse_max_age("max-age=soon"), None);
    }
}
