//! Signing keys: generated, sealed, stored in the database so every replica signs with the same
//! active key, published before they sign, retired while their tokens live, then deleted.

pub mod crypto;
pub mod generate;
pub mod jws;
pub mod ring;

use std::sync::Arc;
use std::time::Duration;

use sea_orm::DatabaseConnection;
use serde_json::json;
use service_kit::db::{DbFailure, classify};
use service_kit::timestamp::Timestamp;

use crate::audit::{AuditLog, Event};
use crate::error::{Error, Result};
use crate::store::entities::signing_key::KeyState;
use crate::store::entities::signing_key::Model;
use crate::store::keys as store;
use crypto::{KeyBinding, KeyEncryptionKey};
use ring::{KeyRing, PublicKey, SigningKey};

/// Slack past the longest token lifetime before a retired key is deleted (verifiers' leeway).
const RETIRED_SLACK_SECS: i64 = 300;

#[derive(Debug, Clone)]
pub struct KeyPolicy {
    pub rsa_bits: usize,
    pub pre_publish_secs: u64,
    /// How long a retired key stays published: the longest token lifetime.
    pub longest_token_ttl_secs: u64,
    /// Publish a new key when the newest is this old (0: never by schedule).
    pub rotation_interval_secs: u64,
}

#[derive(Debug, Clone)]
pub struct KeyInfo {
    pub kid: String,
    pub state: KeyState,
    pub created_at: Timestamp,
    pub activates_at: Timestamp,
    pub retired_at: Option<Timestamp>,
}

impl From<&Model> for KeyInfo {
    fn from(row: &Model) -> Self {
        KeyInfo {
            kid: row.kid.clone(),
            state: row.state,
            created_at: Timestamp(row.created_at),
            activates_at: Timestamp(row.activates_at),
            retired_at: row.retired_at.map(Timestamp),
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
pub enum Revocation {
    Revoked {
        kid: String,
        now_signing: Option<String>,
    },
    UnknownKey,
    /// The active key cannot go before another key can sign: rotate first.
    NoSuccessor,
}

#[derive(Debug)]
pub enum Rotation {
    Published(KeyInfo),
    /// A key is already waiting to take over; rotating again would only add another.
    AlreadyPending(KeyInfo),
}

#[derive(Debug, Clone)]
pub struct SigningKeys {
    db: DatabaseConnection,
    kek: Arc<KeyEncryptionKey>,
    ring: Arc<KeyRing>,
    policy: KeyPolicy,
    audit: AuditLog,
}

impl SigningKeys {
    pub fn new(db: DatabaseConnection, kek: KeyEncryptionKey, policy: KeyPolicy) -> Self {
        SigningKeys {
            audit: AuditLog::new(db.clone()),
            db,
            kek: Arc::new(kek),
            ring: Arc::new(KeyRing::default()),
            policy,
        }
    }

    pub fn ring(&self) -> Arc<KeyRing> {
        Arc::clone(&self.ring)
    }

    /// Start-up: a first key if the database has none, due promotions, then the keys loaded.
    /// A stored key that the key-encryption key cannot open stops the start.
    pub async fn start(&self) -> Result<()> {
        self.ensure_initial_key().await?;
        self.maintain().await?;
        self.reload().await
    }

    /// Creates the first key, active at once (nothing verifies anything yet). Replicas racing
    /// here all try; the partial unique index on the active state lets one insert win.
    async fn ensure_initial_key(&self) -> Result<()> {
        let keys = store::all(&self.db).await?;
        if keys
            .iter()
            .any(|k| k.state == KeyState::Active || k.state == KeyState::Next)
        {
            return Ok(());
        }
        let now = Timestamp::now().micros();
        let row = self.generate_row(KeyState::Active, now, now).await?;
        let kid = row.kid.clone();
        match store::insert(&self.db, row).await {
            Ok(()) => {
                tracing::info!(%kid, "created the first signing key");
                Ok(())
            }
            Err(e) if classify(&e) == DbFailure::UniqueViolation => {
                tracing::info!("another replica created the first signing key");
                Ok(())
            }
            Err(e) => Err(e.into()),
        }
    }

    async fn generate_row(
        &self,
        state: KeyState,
        created_at: i64,
        activates_at: i64,
    ) -> Result<Model> {
        let bits = self.policy.rsa_bits;
        let key = tokio::task::spawn_blocking(move || generate::generate_rsa(bits))
            .await
            .map_err(Error::internal)?
            .map_err(Error::internal)?;
        let binding = KeyBinding {
            kid: &key.kid,
            n: &key.n,
            e: &key.e,
        };
        let sealed = self
            .kek
            .seal(binding, &key.private_pkcs1_der)
            .map_err(Error::internal)?;
        Ok(Model {
            kid: key.kid,
            state,
            bits: i32::try_from(bits).unwrap_or(i32::MAX),
            public_n: key.n,
            public_e: key.e,
            private_key_encrypted: sealed,
            created_at,
            activates_at,
            retired_at: None,
            delete_after: None,
        })
    }

    /// Publishes a new key that signs after the pre-publication window. At most one key waits
    /// to take over: a unique index decides between concurrent rotations, not a prior read.
    pub async fn rotate(&self) -> Result<Rotation> {
        if let Some(pending) = self.pending().await? {
            return Ok(Rotation::AlreadyPending(pending));
        }
        let now = Timestamp::now();
        let pre_publish = i64::try_from(self.policy.pre_publish_secs).unwrap_or(i64::MAX);
        let row = self
            .generate_row(
                KeyState::Next,
                now.micros(),
                now.plus_secs(pre_publish).micros(),
            )
            .await?;
        let info = KeyInfo::from(&row);
        match store::insert(&self.db, row).await {
            Ok(()) => {}
            Err(e) if classify(&e) == DbFailure::UniqueViolation => {
                let pending = self.pending().await?.unwrap_or(info);
                return Ok(Rotation::AlreadyPending(pending));
            }
            Err(e) => return Err(e.into()),
        }
        self.audit
            .record(
                Event::KeyRotated,
                None,
                None,
                json!({"kid": info.kid, "activates_at": info.activates_at}),
            )
            .await;
        Ok(Rotation::Published(info))
    }

    async fn pending(&self) -> Result<Option<KeyInfo>> {
        Ok(store::all(&self.db)
            .await?
            .iter()
            .find(|k| k.state == KeyState::Next)
            .map(KeyInfo::from))
    }

    /// Proves the key-encryption key opens every stored private key, and that each opens to the
    /// key its row publishes; changes nothing. Operator commands run this before anything else,
    /// so a wrong key-encryption key can never seal a key no replica could open.
    pub async fn check_key_encryption_key(&self) -> Result<usize> {
        let keys = store::all(&self.db).await?;
        for key in &keys {
            self.open_signer(key)?;
        }
        Ok(keys.len())
    }

    /// Opens a row's private key and checks it is the key the row publishes.
    fn open_signer(&self, key: &Model) -> Result<jws::RsaSigner> {
        let binding = KeyBinding {
            kid: &key.kid,
            n: &key.public_n,
            e: &key.public_e,
        };
        let der = self
            .kek
            .open(binding, &key.private_key_encrypted)
            .map_err(|e| Error::Internal(e.to_string()))?;
        let signer = jws::RsaSigner::from_pkcs1_der(&der)
            .map_err(|e| Error::Internal(format!("signing key {}: {e}", key.kid)))?;
        let (n, e) = signer.public_jwk_parts();
        if n != key.public_n
            || e != key.public_e
            || shared_claims::rsa_thumbprint(&n, &e) != key.kid
        {
            return Err(Error::Internal(format!(
                "signing key {}: the stored private key does not match the published public key",
                key.kid
            )));
        }
        Ok(signer)
    }

    /// Withdraws `kid` at once: it leaves the JWKS (every replica within its key refresh,
    /// every verifier within the JWKS `max-age`) and tokens it signed stop verifying. The
    /// active key is replaced by the published next key, which signs from now.
    pub async fn revoke(&self, kid: &str) -> Result<Revocation> {
        let keys = store::all(&self.db).await?;
        let Some(key) = keys.iter().find(|k| k.kid == kid) else {
            return Ok(Revocation::UnknownKey);
        };
        let successor = if key.state == KeyState::Active {
            match keys
                .iter()
                .filter(|k| k.state == KeyState::Next)
                .max_by_key(|k| k.created_at)
            {
                Some(next) => Some(next.kid.clone()),
                None => return Ok(Revocation::NoSuccessor),
            }
        } else {
            None
        };
        if !store::revoke(&self.db, kid, successor.as_deref(), Timestamp::now()).await? {
            return Ok(Revocation::UnknownKey);
        }
        self.audit
            .record(
                Event::KeyRevoked,
                None,
                None,
                json!({"kid": kid, "now_signing": successor}),
            )
            .await;
        Ok(Revocation::Revoked {
            kid: kid.to_owned(),
            now_signing: successor,
        })
    }

    /// Promotes a `next` key whose time has come and deletes retired keys whose tokens have all
    /// expired. Safe on every replica at once.
    pub async fn maintain(&self) -> Result<()> {
        self.rotate_when_due().await?;
        let now = Timestamp::now();
        let keys = store::all(&self.db).await?;
        let due = keys
            .iter()
            .filter(|k| k.state == KeyState::Next && k.activates_at <= now.micros())
            .max_by_key(|k| k.activates_at);
        if let Some(next) = due {
            let keep = i64::try_from(self.policy.longest_token_ttl_secs).unwrap_or(i64::MAX);
            let delete_after = now.plus_secs(keep.saturating_add(RETIRED_SLACK_SECS));
            if store::promote(&self.db, &next.kid, now, delete_after).await? {
                tracing::info!(kid = %next.kid, "signing key activated");
            }
        }
        let deleted = store::delete_expired(&self.db, now).await?;
        if deleted > 0 {
            tracing::info!(deleted, "deleted retired signing keys");
        }
        Ok(())
    }

    /// The scheduled rotation (`AUTH_KEY_ROTATION_INTERVAL_SECS`): a next key is published when
    /// the newest key is older than the interval and none waits. Every replica may find it due at
    /// once; the unique index on the waiting key lets one insert win, the others find it pending.
    async fn rotate_when_due(&self) -> Result<()> {
        let interval = i64::try_from(self.policy.rotation_interval_secs).unwrap_or(i64::MAX);
        if interval == 0 {
            return Ok(());
        }
        let keys = store::all(&self.db).await?;
        if keys.iter().any(|k| k.state == KeyState::Next) {
            return Ok(());
        }
        let newest = keys.iter().map(|k| k.created_at).max().unwrap_or(0);
        if Timestamp(newest).plus_secs(interval) > Timestamp::now() {
            return Ok(());
        }
        match self.rotate().await? {
            Rotation::Published(key) => {
                tracing::info!(kid = %key.kid, activates_at = %key.activates_at.to_rfc3339(), "scheduled rotation: a new signing key is published");
            }
            Rotation::AlreadyPending(_) => {}
        }
        Ok(())
    }

    /// Reads every key and replaces the in-memory ring.
    pub async fn reload(&self) -> Result<()> {
        let keys = store::all(&self.db).await?;
        let mut signers = Vec::new();
        let mut published = Vec::new();
        for key in &keys {
            published.push(PublicKey {
                kid: key.kid.clone(),
                n: key.public_n.clone(),
                e: key.public_e.clone(),
            });
            if key.state == KeyState::Active || key.state == KeyState::Next {
                let signer = self.open_signer(key)?;
                signers.push(SigningKey {
                    kid: key.kid.clone(),
                    signer,
                    activates_at: key.activates_at,
                });
            }
        }
        self.ring.replace(signers, &published);
        Ok(())
    }

    pub async fn list(&self) -> Result<Vec<KeyInfo>> {
        Ok(store::all(&self.db)
            .await?
            .iter()
            .map(KeyInfo::from)
            .collect())
    }

    /// Every `every`: promotions, deletions and a reload, so each replica switches keys by
    /// itself. A failure is logged and the keys held keep serving.
    pub fn spawn_maintenance(&self, every: Duration) -> tokio::task::JoinHandle<()> {
        let manager = self.clone();
        tokio::spawn(async move {
            let mut ticker = tokio::time::interval(every);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            ticker.tick().await;
            loop {
                ticker.tick().await;
                let result = async {
                    manager.maintain().await?;
                    manager.reload().await
                }
                .await;
                if let Err(error) = result {
                    metrics::counter!("key_refresh_failures_total").increment(1);
                    tracing::error!(%error, "refreshing signing keys failed; keeping the keys held");
                }
            }
        })
    }
}
