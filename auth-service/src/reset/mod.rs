//! Password reset (OWASP Forgot Password cheat sheet): the same 202 for every email, a random
//! 256-bit token stored only as its SHA-256, single use, expiring; a reset ends every session.

pub mod signature;
pub mod webhook;

use std::net::IpAddr;
use std::sync::Arc;

use aws_lc_rs::digest::{SHA256, digest};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sea_orm::{DatabaseConnection, TransactionTrait};
use secrecy::SecretString;
use serde_json::json;
use service_kit::timestamp::Timestamp;
use service_kit::trace::Carried;
use tokio::sync::{Semaphore, mpsc};

use crate::accounts::{Accounts, check_new_password, email};
use crate::audit::{AuditLog, Event};
use crate::error::{Error, Result};
use crate::limits::{LoginLimiter, RateLimits};
use crate::revocations::{Reason, RevocationLog};
use crate::safeguards::Safeguards;
use crate::store::entities::reset_token;
use crate::store::{reset_tokens as store, sessions as session_store, users as user_store};
use webhook::{ResetDelivery, ResetMessage};

/// How many reset requests may wait for the worker; past that, 503 (for every address alike).
const REQUEST_QUEUE: usize = 1_024;
/// Requests the worker handles at once.
const PARALLEL_REQUESTS: usize = 8;

#[derive(Debug, Clone)]
pub struct PasswordResets {
    db: DatabaseConnection,
    accounts: Accounts,
    login_limiter: LoginLimiter,
    rates: Arc<RateLimits>,
    audit: AuditLog,
    revocations: RevocationLog,
    /// Requests handed off the request path, to the worker.
    requests: mpsc::Sender<ResetRequest>,
}

/// A reset asked for: a normalised email and where from.
#[derive(Debug)]
struct ResetRequest {
    email: String,
    ip: Option<IpAddr>,
    /// The request's span and trace: the worker's log lines and the delivery belong to it.
    trace: Carried,
}

/// What the worker needs to issue and deliver tokens.
#[derive(Debug, Clone)]
struct Issuer {
    db: DatabaseConnection,
    accounts: Accounts,
    delivery: ResetDelivery,
    audit: AuditLog,
    ttl_secs: i64,
}

fn hash_token(token: &str) -> String {
    digest(&SHA256, token.as_bytes())
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl PasswordResets {
    /// Starts the worker that issues and delivers tokens.
    pub fn new(
        db: DatabaseConnection,
        accounts: Accounts,
        delivery: ResetDelivery,
        guards: Safeguards,
        ttl_secs: u64,
    ) -> Self {
        let Safeguards {
            login_limiter,
            rates,
            audit,
            revocations,
        } = guards;
        let (requests, queue) = mpsc::channel(REQUEST_QUEUE);
        let issuer = Issuer {
            db: db.clone(),
            accounts: accounts.clone(),
            delivery,
            audit: audit.clone(),
            ttl_secs: i64::try_from(ttl_secs).unwrap_or(i64::MAX),
        };
        tokio::spawn(issuer.run(queue));
        PasswordResets {
            db,
            accounts,
            login_limiter,
            rates,
            audit,
            revocations,
            requests,
        }
    }

    /// Accepts a reset request. Nothing that depends on whether the account exists happens
    /// before the answer: the lookup, the token and its delivery are the worker's, so a known
    /// and an unknown address cost the request the same (OWASP Forgot Password cheat sheet).
    pub async fn request(&self, raw_email: &str, ip: Option<IpAddr>) -> Result<()> {
        let email = email::normalize(raw_email).map_err(|m| Error::field("email", m))?;
        self.rates.check_forgot(ip, &email)?;
        self.requests
            .try_send(ResetRequest {
                email,
                ip,
                trace: Carried::current(),
            })
            .map_err(|_| {
                metrics::counter!("reset_requests_dropped_total").increment(1);
                Error::Busy
            })
    }

    /// Sets a new password with a token; the token works once and every session ends. An
    /// unusable token is 400; a password the policy refuses is 422 and spends nothing.
    pub async fn reset(
        &self,
        token: &str,
        new_password: SecretString,
        ip: Option<IpAddr>,
    ) -> Result<()> {
        let token_hash = hash_token(token);
        let now = Timestamp::now();
        let row = store::usable(&self.db, &token_hash, now)
            .await?
            .ok_or(Error::InvalidResetToken)?;
        let user = self
            .accounts
            .record(&row.user_id)
            .await?
            .ok_or(Error::InvalidResetToken)?;
        check_new_password("new_password", &new_password, &user.email)?;
        let new_hash = self.accounts.hasher().hash(new_password).await?;

        let txn = self.db.begin().await?;
        if !store::consume(&txn, &token_hash, now).await? {
            txn.rollback().await?;
            return Err(Error::InvalidResetToken);
        }
        user_store::set_password_hash(&txn, &user.id, &new_hash, now).await?;
        store::consume_all_for_user(&txn, &user.id, now).await?;
        let ended =
            session_store::revoke_user_sessions(&txn, &user.id, None, "password_reset", now)
                .await?
                .len();
        self.revocations
            .tokens_before(&txn, &user.id, now, Reason::PasswordReset)
            .await?;
        self.revocations.commit(txn).await?;

        self.login_limiter.clear_account(&user.email).await?;
        self.audit
            .record(
                Event::PasswordReset,
                Some(&user.id),
                ip,
                json!({"sessions_ended": ended}),
            )
            .await;
        Ok(())
    }
}

impl Issuer {
    async fn run(self, mut queue: mpsc::Receiver<ResetRequest>) {
        let parallel = Arc::new(Semaphore::new(PARALLEL_REQUESTS));
        while let Some(request) = queue.recv().await {
            let Ok(permit) = Arc::clone(&parallel).acquire_owned().await else {
                return;
            };
            let issuer = self.clone();
            let trace = request.trace.clone();
            tokio::spawn(trace.run(async move {
                if let Err(error) = issuer.issue(&request).await {
                    metrics::counter!("reset_requests_failed_total").increment(1);
                    tracing::error!(%error, "a password-reset request could not be handled");
                }
                drop(permit);
            }));
        }
    }

    /// Issues and delivers a token if an active account has this email; audits either way.
    async fn issue(&self, request: &ResetRequest) -> Result<()> {
        let ResetRequest { email, ip, .. } = request;
        let ip = *ip;
        let Some(user) = self
            .accounts
            .record_by_email(email)
            .await?
            .filter(|u| u.is_active)
        else {
            self.audit
                .record(
                    Event::PasswordResetRequested,
                    None,
                    ip,
                    json!({"account": false}),
                )
                .await;
            return Ok(());
        };
        let mut bytes = [0u8; 32];
        SystemRandom::new()
            .fill(&mut bytes)
            .map_err(|_| Error::internal("no randomness"))?;
        let token = URL_SAFE_NO_PAD.encode(bytes);
        let now = Timestamp::now();
        let expires_at = now.plus_secs(self.ttl_secs);
        store::insert(
            &self.db,
            reset_token::Model {
                token_hash: hash_token(&token),
                user_id: user.id.clone(),
                created_at: now.micros(),
                expires_at: expires_at.micros(),
                used_at: None,
            },
        )
        .await?;
        self.delivery.send(ResetMessage {
            user_id: user.id.clone(),
            email: user.email.clone(),
            token: SecretString::from(token),
            expires_at,
            trace: Carried::current(),
        });
        self.audit
            .record(
                Event::PasswordResetRequested,
                Some(&user.id),
                ip,
                json!({"account": true}),
            )
            .await;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn tokens_are_stored_as_sha256_hex() {
        assert_eq!(
            super::hash_token("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
