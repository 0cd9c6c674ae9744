//! The revocation feed, served by every replica: Server-Sent Events at
//! `/.well-known/revocations`, beside the JWKS.
//!
//! A subscriber first receives every event still in force after its cursor (`Last-Event-ID`),
//! then `event: synced`, then the live stream and a heartbeat every few seconds. Each event is a
//! Security Event Token signed with the key that signs access tokens now; the frame is rendered
//! once and shared by every subscriber.
//!
//! Events reach the stream of every replica: on PostgreSQL a `NOTIFY` at the commit wakes each
//! replica's pump at once (a poll every second covers a lost notification); on SQLite a local
//! wake-up, and a poll every 200 ms for other processes on the same file. Events commit in
//! sequence order (`store::revocations::insert`), so a cursor never steps over one.
//!
//! Why SSE rather than a long poll: one request per verifier for as long as it lives, a push
//! within milliseconds, resumption built into the protocol (`Last-Event-ID`), and plain HTTP/1.1
//! that proxies and load balancers pass.

use std::convert::Infallible;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use axum::body::Bytes;
use sea_orm::{DatabaseConnection, DbBackend};
use serde_json::json;
use service_kit::timestamp::Timestamp;
use shared_claims::{
    Audience, EventDetail, OpaqueId, RevocationSet, SECURITY_EVENT_TYPE, SESSION_REVOKED,
    SecurityEvent, SubjectId, TOKEN_CLAIMS_CHANGE,
};
use tokio::sync::{Notify, broadcast};
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::{Stream, StreamExt};

use crate::error::{Error, Result};
use crate::keys::ring::KeyRing;
use crate::store::entities::revocation::{Model, RevocationKind};
use crate::store::revocations::{self as store, NOTIFY_CHANNEL};

/// How often a subscriber hears from the feed when nothing happens.
pub const HEARTBEAT: Duration = Duration::from_secs(5);
/// Events read (and signed) at a time.
const PAGE: u64 = 1_000;
/// Frames a subscriber may fall behind before its stream ends (it reconnects from its cursor).
const CHANNEL: usize = 4_096;
/// How long a rendered event is reused for new subscribers.
const RENDERED_FOR: Duration = Duration::from_secs(60);

#[derive(Debug, Clone)]
enum Frame {
    Event {
        seq: i64,
        bytes: Bytes,
    },
    Heartbeat(Bytes),
    /// The service is stopping: every stream ends, so the drain is not held up.
    Close,
}

/// What the publisher signs events as.
#[derive(Debug, Clone)]
pub struct FeedIdentity {
    pub issuer: String,
    pub audience: String,
}

/// The feed's publisher (see the module documentation).
#[derive(Debug, Clone)]
pub struct Publisher {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    db: DatabaseConnection,
    ring: Arc<KeyRing>,
    identity: FeedIdentity,
    /// The auth-service's own revocation set: its bearer routes refuse what verifiers refuse.
    local: Arc<RevocationSet>,
    frames: broadcast::Sender<Frame>,
    /// The last event pumped into the stream.
    last_seq: AtomicI64,
    /// Woken by a local commit.
    wake: Arc<Notify>,
    rendered: moka::sync::Cache<i64, Bytes>,
}

impl Publisher {
    /// A publisher over `db`, signing with `ring`, applying every event to `local` too;
    /// `wake` is notified after each local commit of an event.
    pub fn new(
        db: DatabaseConnection,
        ring: Arc<KeyRing>,
        identity: FeedIdentity,
        local: Arc<RevocationSet>,
        wake: Arc<Notify>,
    ) -> Self {
        let (frames, _) = broadcast::channel(CHANNEL);
        Publisher {
            inner: Arc::new(Inner {
                db,
                ring,
                identity,
                local,
                frames,
                last_seq: AtomicI64::new(0),
                wake,
                rendered: moka::sync::Cache::builder()
                    .max_capacity(100_000)
                    .time_to_live(RENDERED_FOR)
                    .build(),
            }),
        }
    }

    /// Loads every event in force into the local set, then starts the pump and the heartbeat.
    pub async fn start(&self) -> Result<Vec<tokio::task::JoinHandle<()>>> {
        let inner = &self.inner;
        let mut cursor = 0;
        loop {
            let rows = store::after(&inner.db, cursor, Timestamp::now(), PAGE).await?;
            let Some(last) = rows.last() else { break };
            cursor = last.seq;
            for row in &rows {
                inner.local.apply(&revocation(row));
            }
            if (rows.len() as u64) < PAGE {
                break;
            }
        }
        inner
            .last_seq
            .store(store::last_seq(&inner.db).await?, Ordering::Release);
        let listener = listen(&inner.db).await;
        let weak = Arc::downgrade(&self.inner);
        Ok(vec![
            tokio::spawn(pump(weak.clone(), listener)),
            tokio::spawn(heartbeat(weak)),
        ])
    }

    /// Ends every subscriber's stream: the service is stopping.
    pub fn close(&self) {
        let _ = self.inner.frames.send(Frame::Close);
    }

    /// How many subscribers are connected to this replica.
    pub fn subscribers(&self) -> usize {
        self.inner.frames.receiver_count()
    }

    /// A subscriber's stream: the events in force after `after`, `synced`, then live events and
    /// heartbeats, as `text/event-stream` bytes.
    pub async fn subscribe(
        &self,
        after: i64,
    ) -> Result<impl Stream<Item = Result<Bytes, Infallible>> + Send + 'static> {
        // Subscribe before reading the backlog: an event committed meanwhile is in one or the
        // other (or both, and is sent once).
        let live = BroadcastStream::new(self.inner.frames.subscribe());
        let mut head = vec![Bytes::from_static(b"retry: 1000\n\n")];
        let mut cursor = after.max(0);
        loop {
            let rows = store::after(&self.inner.db, cursor, Timestamp::now(), PAGE).await?;
            let Some(last) = rows.last() else { break };
            cursor = last.seq;
            let full = (rows.len() as u64) == PAGE;
            head.extend(self.inner.render(rows).await?.into_iter().map(|(_, b)| b));
            if !full {
                break;
            }
        }
        head.push(Bytes::from(format!("event: synced\ndata: {cursor}\n\n")));
        let live = live
            .take_while(|frame| !matches!(frame, Ok(Frame::Close) | Err(_)))
            .filter_map(move |frame| match frame {
                Ok(Frame::Event { seq, bytes }) if seq > cursor => Some(bytes),
                Ok(Frame::Heartbeat(bytes)) => Some(bytes),
                _ => None,
            });
        metrics::counter!("revocation_feed_subscriptions_total").increment(1);
        Ok(tokio_stream::iter(head).chain(live).map(Ok))
    }
}

impl Inner {
    /// Rows → signed SSE frames, reusing those rendered recently. RSA signing takes about half
    /// a millisecond a frame: off the request workers.
    async fn render(self: &Arc<Self>, rows: Vec<Model>) -> Result<Vec<(i64, Bytes)>> {
        let missing: Vec<Model> = rows
            .iter()
            .filter(|row| !self.rendered.contains_key(&row.seq))
            .cloned()
            .collect();
        if !missing.is_empty() {
            let inner = Arc::clone(self);
            tokio::task::spawn_blocking(move || {
                for row in &missing {
                    let bytes = inner.sign(row)?;
                    inner.rendered.insert(row.seq, bytes);
                }
                Ok::<_, Error>(())
            })
            .await
            .map_err(Error::internal)??;
        }
        rows.iter()
            .map(|row| match self.rendered.get(&row.seq) {
                Some(bytes) => Ok((row.seq, bytes)),
                None => self.sign(row).map(|bytes| (row.seq, bytes)),
            })
            .collect()
    }

    /// One event as an SSE frame carrying its Security Event Token.
    fn sign(&self, row: &Model) -> Result<Bytes> {
        let now = Timestamp::now();
        let signer = self
            .ring
            .signer(now.micros())
            .ok_or_else(|| Error::internal("no signing key is active"))?;
        let event = security_event(row, &self.identity, now);
        let token = signer
            .signer
            .sign(SECURITY_EVENT_TYPE, &signer.kid, &event)
            .map_err(Error::internal)?;
        Ok(Bytes::from(format!(
            "id: {}\nevent: revocation\ndata: {token}\n\n",
            row.seq
        )))
    }

    /// Reads what was committed since the last event pumped, applies it here, streams it.
    async fn pump_once(self: &Arc<Self>) -> Result<()> {
        loop {
            let after = self.last_seq.load(Ordering::Acquire);
            let rows = store::after(&self.db, after, Timestamp::now(), PAGE).await?;
            let Some(last) = rows.last().map(|row| row.seq) else {
                return Ok(());
            };
            for row in &rows {
                self.local.apply(&revocation(row));
            }
            let full = (rows.len() as u64) == PAGE;
            for (seq, bytes) in self.render(rows).await? {
                let _ = self.frames.send(Frame::Event { seq, bytes });
            }
            metrics::counter!("revocation_feed_events_total").increment(1);
            self.last_seq.fetch_max(last, Ordering::AcqRel);
            if !full {
                return Ok(());
            }
        }
    }
}

/// The row as the set a verifier holds sees it.
fn revocation(row: &Model) -> shared_claims::Revocation {
    match row.kind {
        RevocationKind::Session => shared_claims::Revocation::Session {
            sid: row.subject.clone(),
            until_us: row.expires_at,
        },
        RevocationKind::User => shared_claims::Revocation::User {
            sub: row.subject.clone(),
            not_before_us: row.not_before,
            until_us: row.expires_at,
        },
    }
}

/// The row as a Security Event Token's claims (CAEP event types; see shared-claims).
fn security_event(row: &Model, identity: &FeedIdentity, now: Timestamp) -> SecurityEvent {
    let user = SubjectId::IssSub {
        iss: identity.issuer.clone(),
        sub: row.user_id.clone(),
    };
    let sub_id = match row.kind {
        RevocationKind::Session => SubjectId::Complex {
            user: Box::new(user),
            session: OpaqueId {
                format: "opaque".into(),
                id: row.subject.clone(),
            },
        },
        RevocationKind::User => user,
    };
    let initiating_entity = match row.reason.as_str() {
        "deactivated" | "role_changed" => "admin",
        "refresh_reuse" => "policy",
        _ => "user",
    };
    let (event_type, claims) = match &row.role {
        Some(role) => (TOKEN_CLAIMS_CHANGE, Some(json!({ "role": role }))),
        None => (SESSION_REVOKED, None),
    };
    let detail = EventDetail {
        event_timestamp: Timestamp(row.at).unix_secs(),
        initiating_entity: initiating_entity.into(),
        reason_admin: [("en".to_owned(), row.reason.clone())].into(),
        claims,
    };
    SecurityEvent {
        iss: identity.issuer.clone(),
        aud: Audience::One(identity.audience.clone()),
        iat: now.unix_secs(),
        jti: format!("revocation-{}", row.seq),
        sub_id,
        events: [(event_type.to_owned(), detail)].into(),
        seq: row.seq,
        not_before_us: row.not_before,
        until_us: row.expires_at,
    }
}

/// A PostgreSQL listener on the feed's channel; `None` on SQLite or when it cannot be made
/// (the pump then polls).
async fn listen(db: &DatabaseConnection) -> Option<sqlx::postgres::PgListener> {
    if db.get_database_backend() != DbBackend::Postgres {
        return None;
    }
    let mut listener =
        match sqlx::postgres::PgListener::connect_with(db.get_postgres_connection_pool()).await {
            Ok(listener) => listener,
            Err(error) => {
                tracing::warn!(%error, "cannot listen for revocations; polling instead");
                return None;
            }
        };
    match listener.listen(NOTIFY_CHANNEL).await {
        Ok(()) => Some(listener),
        Err(error) => {
            tracing::warn!(%error, "cannot listen for revocations; polling instead");
            None
        }
    }
}

async fn pump(weak: Weak<Inner>, mut listener: Option<sqlx::postgres::PgListener>) {
    let postgres = weak
        .upgrade()
        .is_some_and(|inner| inner.db.get_database_backend() == DbBackend::Postgres);
    let poll = if postgres {
        Duration::from_secs(1)
    } else {
        Duration::from_millis(200)
    };
    loop {
        let Some(inner) = weak.upgrade() else { return };
        let wake = Arc::clone(&inner.wake);
        drop(inner);
        let notified = async {
            match listener.as_mut() {
                Some(listener) => listener.recv().await.map(|_| ()),
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            () = wake.notified() => {}
            () = tokio::time::sleep(poll) => {}
            received = notified => {
                if let Err(error) = received {
                    // sqlx reconnects by itself on the next recv; poll meanwhile.
                    tracing::warn!(%error, "revocation notifications interrupted");
                    tokio::time::sleep(poll).await;
                }
            }
        }
        let Some(inner) = weak.upgrade() else { return };
        if let Err(error) = inner.pump_once().await {
            metrics::counter!("revocation_feed_failures_total").increment(1);
            tracing::warn!(%error, "reading revocations failed; retrying");
        }
    }
}

async fn heartbeat(weak: Weak<Inner>) {
    let mut ticker = tokio::time::interval(HEARTBEAT);
    loop {
        ticker.tick().await;
        let Some(inner) = weak.upgrade() else { return };
        let seq = inner.last_seq.load(Ordering::Acquire);
        let _ = inner.frames.send(Frame::Heartbeat(Bytes::from(format!(
            "event: heartbeat\ndata: {seq}\n\n"
        ))));
        metrics::gauge!("revocation_feed_subscribers").set(inner.frames.receiver_count() as f64);
    }
}
