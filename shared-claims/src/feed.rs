//! The receiving end of the issuer's revocation feed: Server-Sent Events on the JWKS's origin
//! (the JWKS URL with its last path segment replaced by `revocations`), resumed with
//! `Last-Event-ID` after any gap. Each event is a signed Security Event Token, verified with the
//! keys of the JWKS before it is applied to the [`RevocationSet`].
//!
//! While the issuer is unreachable the set keeps what it holds (verification stays local);
//! `revocation_feed_lag_seconds` says how long since the feed last spoke, and the feed
//! reconnects with backoff, resuming from the last event it applied.

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::Duration;

use reqwest::header::{ACCEPT, HeaderValue};
use tokio::sync::Notify;
use tokio::time::Instant;
use tracing::Instrument;

use crate::jwks::JwksCache;
use crate::revocations::RevocationSet;
use crate::security_event::SecurityEventVerifier;
use crate::trace_context::Outgoing;

/// Where the feed is, and how patiently it is followed.
#[derive(Debug, Clone)]
pub struct FeedConfig {
    /// The feed's URL.
    pub url: String,
    /// How long connecting may take.
    pub connect_timeout: Duration,
    /// Silence (no event, no heartbeat) after which the connection is dropped and made again;
    /// the issuer sends a heartbeat every 5 seconds.
    pub idle_timeout: Duration,
    /// The first wait before reconnecting; it doubles up to `max_backoff`.
    pub min_backoff: Duration,
    /// The longest wait before reconnecting.
    pub max_backoff: Duration,
    /// How long a request may wait, right after start, for the feed's first backlog (so a
    /// replica that starts after a logout refuses that token from its first request).
    pub initial_sync_wait: Duration,
}

impl FeedConfig {
    /// The feed beside a JWKS: `…/.well-known/jwks.json` → `…/.well-known/revocations`.
    pub fn beside_jwks(jwks_url: &str) -> Option<FeedConfig> {
        let url = url::Url::parse(jwks_url).ok()?.join("revocations").ok()?;
        Some(FeedConfig {
            url: url.to_string(),
            connect_timeout: Duration::from_secs(2),
            idle_timeout: Duration::from_secs(20),
            min_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(5),
            initial_sync_wait: Duration::from_secs(3),
        })
    }
}

/// The receiver (see the module documentation).
#[derive(Debug, Clone)]
pub struct RevocationFeed {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    config: FeedConfig,
    client: reqwest::Client,
    set: Arc<RevocationSet>,
    keys: JwksCache,
    verifier: SecurityEventVerifier,
    /// The last event applied (`Last-Event-ID`), 0 before any.
    cursor: AtomicI64,
    /// When the feed last spoke (an event or a heartbeat).
    last_heard: Mutex<Option<Instant>>,
    started: Instant,
    /// The first backlog was received, or the first attempt failed: requests stop waiting.
    concluded: AtomicBool,
    concluded_notify: Notify,
    applied: AtomicU64,
    rejected: AtomicU64,
}

/// What the feed has done, for metrics and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FeedStats {
    /// Events verified and applied.
    pub applied: u64,
    /// Events refused: not signed by the issuer's keys, or not for this audience.
    pub rejected: u64,
}

impl RevocationFeed {
    /// A feed applying to `set` what `config.url` sends, verified with `keys`.
    pub fn new(
        config: FeedConfig,
        set: Arc<RevocationSet>,
        keys: JwksCache,
        verifier: SecurityEventVerifier,
    ) -> Result<Self, reqwest::Error> {
        // Events come from exactly the configured origin: no redirect, no proxy.
        let client = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .build()?;
        Ok(RevocationFeed {
            inner: Arc::new(Inner {
                config,
                client,
                set,
                keys,
                verifier,
                cursor: AtomicI64::new(0),
                last_heard: Mutex::new(None),
                started: Instant::now(),
                concluded: AtomicBool::new(false),
                concluded_notify: Notify::new(),
                applied: AtomicU64::new(0),
                rejected: AtomicU64::new(0),
            }),
        })
    }

    /// The feed's URL.
    pub fn url(&self) -> &str {
        &self.inner.config.url
    }

    /// Events applied and refused so far.
    pub fn stats(&self) -> FeedStats {
        FeedStats {
            applied: self.inner.applied.load(Ordering::Relaxed),
            rejected: self.inner.rejected.load(Ordering::Relaxed),
        }
    }

    /// The last event applied.
    pub fn cursor(&self) -> i64 {
        self.inner.cursor.load(Ordering::Acquire)
    }

    /// How long since the feed last spoke; since start when it never has.
    pub fn lag(&self) -> Duration {
        let heard = *self
            .inner
            .last_heard
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        heard.unwrap_or(self.inner.started).elapsed()
    }

    /// Waits, within the initial-sync bound counted from start, until the first backlog has
    /// arrived or the first attempt has failed. Free once concluded.
    pub async fn initial_sync(&self) {
        let inner = &self.inner;
        if inner.concluded.load(Ordering::Acquire) {
            return;
        }
        let deadline = inner.started + inner.config.initial_sync_wait;
        let notified = inner.concluded_notify.notified();
        if inner.concluded.load(Ordering::Acquire) {
            return;
        }
        let _ = tokio::time::timeout_at(deadline, notified).await;
    }

    /// Follows the feed until the last handle is dropped; also keeps the set purged.
    pub fn spawn(&self) -> Vec<tokio::task::JoinHandle<()>> {
        let weak = Arc::downgrade(&self.inner);
        let follower = tokio::spawn(follow(weak.clone()));
        let upkeep = tokio::spawn(async move {
            let mut ticker = tokio::time::interval(Duration::from_secs(1));
            loop {
                ticker.tick().await;
                let Some(inner) = weak.upgrade() else { return };
                inner.set.purge(now_micros());
            }
        });
        vec![follower, upkeep]
    }
}

impl Inner {
    fn conclude(&self) {
        if !self.concluded.swap(true, Ordering::AcqRel) {
            self.concluded_notify.notify_waiters();
        }
    }

    fn heard(&self) {
        *self
            .last_heard
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(Instant::now());
    }

    /// One SSE message: an event applied, a heartbeat noted; anything else ignored.
    async fn handle(&self, message: &Message) {
        self.heard();
        match message.event.as_str() {
            "revocation" => self.apply(message).await,
            "synced" => self.conclude(),
            _ => {}
        }
    }

    async fn apply(&self, message: &Message) {
        let keys = self.keys.keys();
        let mut verified = keys
            .as_deref()
            .map(|keys| self.verifier.verify(&message.data, keys));
        if matches!(verified, Some(Err(crate::Rejection::UnknownKeyId))) {
            // Signed by a key published since the JWKS was fetched: fetch it (cool-down and
            // single flight as for tokens).
            let kid = crate::verifier::peek_kid(&message.data).unwrap_or_default();
            if self.keys.refresh_for_unknown_kid(&kid).await {
                verified = self
                    .keys
                    .keys()
                    .as_deref()
                    .map(|keys| self.verifier.verify(&message.data, keys));
            }
        }
        match verified.map(|result| result.map(|event| (event.seq, event.revocation()))) {
            Some(Ok((seq, Some(revocation)))) => {
                self.set.apply(&revocation);
                self.cursor.fetch_max(seq, Ordering::AcqRel);
                self.applied.fetch_add(1, Ordering::Relaxed);
                metrics::counter!("revocation_events_total", "outcome" => "applied").increment(1);
            }
            Some(Ok((seq, None))) => {
                self.cursor.fetch_max(seq, Ordering::AcqRel);
                metrics::counter!("revocation_events_total", "outcome" => "unknown_type")
                    .increment(1);
            }
            Some(Err(rejection)) => {
                self.rejected.fetch_add(1, Ordering::Relaxed);
                metrics::counter!("revocation_events_total", "outcome" => "rejected").increment(1);
                tracing::warn!(reason = rejection.reason(), id = %message.id, "revocation event refused: not signed by the issuer's keys, or not for us");
            }
            None => {
                self.rejected.fetch_add(1, Ordering::Relaxed);
                metrics::counter!("revocation_events_total", "outcome" => "rejected").increment(1);
                tracing::warn!(id = %message.id, "revocation event refused: no keys held to verify it");
            }
        }
    }

    /// One connection: the backlog after the cursor, then the live stream, until it ends, errs
    /// or falls silent.
    async fn connect_once(&self) -> Result<(), String> {
        let trace = Outgoing::current_or_new();
        let span = tracing::info_span!("revocation_feed", trace_id = %trace.trace_id);
        self.connect_once_in(trace).instrument(span).await
    }

    async fn connect_once_in(&self, trace: Outgoing) -> Result<(), String> {
        let mut request = self
            .client
            .get(&self.config.url)
            .header(ACCEPT, HeaderValue::from_static("text/event-stream"))
            .header("traceparent", trace.traceparent());
        let cursor = self.cursor.load(Ordering::Acquire);
        if cursor > 0 {
            request = request.header("last-event-id", cursor.to_string());
        }
        let mut response = tokio::time::timeout(self.config.idle_timeout, request.send())
            .await
            .map_err(|_| "the feed did not answer".to_owned())?
            .map_err(|e| e.without_url().to_string())?;
        if !response.status().is_success() {
            return Err(format!("the feed answered {}", response.status()));
        }
        metrics::gauge!("revocation_feed_connected").set(1.0);
        let mut parser = SseParser::default();
        loop {
            let chunk = tokio::time::timeout(self.config.idle_timeout, response.chunk())
                .await
                .map_err(|_| "the feed fell silent".to_owned())?
                .map_err(|e| e.without_url().to_string())?;
            let Some(chunk) = chunk else {
                return Err("the feed closed the stream".into());
            };
            for message in parser.push(&chunk) {
                self.handle(&message).await;
            }
        }
    }
}

/// The follower: connect, read until the stream ends, wait, reconnect from the cursor.
async fn follow(weak: Weak<Inner>) {
    let mut backoff = None::<Duration>;
    loop {
        let Some(inner) = weak.upgrade() else { return };
        // Events are verified with the JWKS: wait until it is held.
        if !inner.keys.holds_keys() {
            drop(inner);
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        }
        let heard_before = *inner
            .last_heard
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let error = inner.connect_once().await.err().unwrap_or_default();
        metrics::gauge!("revocation_feed_connected").set(0.0);
        // A first attempt that failed must not hold requests back.
        inner.conclude();
        let heard_after = *inner
            .last_heard
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if heard_after != heard_before {
            // That connection worked for a while: start over from the shortest wait.
            backoff = None;
        }
        let wait = next_backoff(backoff, &inner.config);
        backoff = Some(wait);
        tracing::warn!(url = %inner.config.url, %error, retry_in_ms = wait.as_millis() as u64, "revocation feed interrupted; serving with the revocations held");
        drop(inner);
        tokio::time::sleep(wait).await;
    }
}

/// Exponential backoff with up to a quarter of jitter, so a fleet of verifiers does not
/// reconnect in step after an issuer restart.
fn next_backoff(previous: Option<Duration>, config: &FeedConfig) -> Duration {
    let base = previous
        .map(|d| d.saturating_mul(2))
        .unwrap_or(config.min_backoff)
        .min(config.max_backoff);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let jitter = base.mul_f64(f64::from(nanos % 1_000) / 4_000.0);
    base + jitter
}

fn now_micros() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// One Server-Sent Events message.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct Message {
    id: String,
    event: String,
    data: String,
}

/// Reads the `text/event-stream` format (WHATWG HTML §9.2) from chunks as they arrive.
#[derive(Debug, Default)]
struct SseParser {
    buffer: Vec<u8>,
    current: Message,
}

/// The longest line kept: an event is a signed token of a few KiB; anything longer is junk.
const MAX_LINE: usize = 64 * 1024;

impl SseParser {
    fn push(&mut self, chunk: &[u8]) -> Vec<Message> {
        self.buffer.extend_from_slice(chunk);
        let mut messages = Vec::new();
        while let Some(end) = self.buffer.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = self.buffer.drain(..=end).collect();
            let line = String::from_utf8_lossy(&line);
            let line = line.trim_end_matches(['\n', '\r']);
            if line.is_empty() {
                let message = std::mem::take(&mut self.current);
                if !message.data.is_empty() || !message.event.is_empty() {
                    messages.push(message);
                }
                continue;
            }
            if line.starts_with(':') {
                continue;
            }
            let (field, value) = line.split_once(':').unwrap_or((line, ""));
            let value = value.strip_prefix(' ').unwrap_or(value);
            match field {
                "id" => self.current.id = value.to_owned(),
                "event" => self.current.event = value.to_owned(),
                "data" => {
                    if !self.current.data.is_empty() {
                        self.current.data.push('\n');
                    }
                    self.current.data.push_str(value);
                }
                _ => {}
            }
        }
        if self.buffer.len() > MAX_LINE {
            self.buffer.clear();
            self.current = Message::default();
        }
        messages
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_feed_is_beside_the_jwks() {
        let config = FeedConfig::beside_jwks("http://auth:8080/.well-known/jwks.json").unwrap();
        assert_eq!(config.url, "http://auth:8080/.well-known/revocations");
        let config =
            FeedConfig::beside_jwks("https://example.com/auth/.well-known/jwks.json").unwrap();
        assert_eq!(
            config.url,
            "https://example.com/auth/.well-known/revocations"
        );
    }

    #[test]
    fn messages_are_read_across_chunk_boundaries() {
        let mut parser = SseParser::default();
        assert!(
            parser
                .push(b"retry: 1000\n\nid: 7\nevent: revoc")
                .is_empty()
        );
        let messages =
            parser.push(b"ation\ndata: a.b.c\n\n: comment\nevent: heartbeat\r\ndata: 7\r\n\r\n");
        assert_eq!(
            messages,
            vec![
                Message {
                    id: "7".into(),
                    event: "revocation".into(),
                    data: "a.b.c".into()
                },
                Message {
                    id: String::new(),
                    event: "heartbeat".into(),
                    data: "7".into()
                },
            ]
        );
    }

    #[test]
    fn backoff_grows_to_its_bound_with_some_jitter() {
        let config = FeedConfig::beside_jwks("http://a/.well-known/jwks.json").unwrap();
        let first = next_backoff(None, &config);
        assert!(first >= config.min_backoff && first <= config.min_backoff.mul_f64(1.25));
        let mut wait = first;
        for _ in 0..20 {
            wait = next_backoff(Some(wait), &config);
        }
        assert!(wait >= config.max_backoff && wait <= config.max_backoff.mul_f64(1.25));
    }
}
