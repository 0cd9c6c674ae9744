//! Sessions: login opens one; each refresh token is single-use and rotates; a used token
//! presented again revokes its whole session (OAuth 2.0 Security BCP §4.14).

pub mod caller;
pub mod tokens;

use std::net::IpAddr;
use std::sync::Arc;

use sea_orm::{DatabaseConnection, TransactionTrait};
use secrecy::SecretString;
use serde_json::json;
use service_kit::timestamp::Timestamp;
use shared_claims::RefreshTokenVerifier;

use crate::accounts::{Accounts, User, email};
use crate::audit::{AuditLog, Event};
use crate::error::{Error, Result};
use crate::keys::ring::KeyRing;
use crate::limits::login::FailuresOnRecord;
use crate::limits::{LoginLimiter, RateLimits};
use crate::revocations::{Reason, RevocationLog};
use crate::safeguards::Safeguards;
use crate::store::sessions as store;
use crate::store::{reset_tokens as reset_store, users as user_store};
pub use caller::Caller;
use tokens::{SessionTokens, TokenIssuer, TokenPair};

/// What login and refresh answer.
#[derive(Debug)]
pub struct Grant {
    pub tokens: TokenPair,
    pub user: User,
    pub session_id: String,
}

#[derive(Debug, Clone)]
pub struct Sessions {
    db: DatabaseConnection,
    accounts: Accounts,
    issuer: TokenIssuer,
    ring: Arc<KeyRing>,
    refresh_verifier: Arc<RefreshTokenVerifier>,
    login_limiter: LoginLimiter,
    rates: Arc<RateLimits>,
    audit: AuditLog,
    revocations: RevocationLog,
}

impl Sessions {
    pub fn new(
        db: DatabaseConnection,
        accounts: Accounts,
        issuer: TokenIssuer,
        ring: Arc<KeyRing>,
        guards: Safeguards,
    ) -> Self {
        let Safeguards {
            login_limiter,
            rates,
            audit,
            revocations,
        } = guards;
        let refresh_verifier = Arc::new(RefreshTokenVerifier::new(issuer.policy().issuer.clone()));
        Sessions {
            db,
            accounts,
            issuer,
            ring,
            refresh_verifier,
            login_limiter,
            rates,
            audit,
            revocations,
        }
    }

    /// Email and password → tokens. Unknown email and wrong password give the same error after
    /// the same work (a verification against a dummy hash). Past the failure limit every
    /// attempt is 429, whatever the password.
    pub async fn login(
        &self,
        raw_email: &str,
        password: SecretString,
        ip: Option<IpAddr>,
    ) -> Result<Grant> {
        let outcome = self.attempt_login(raw_email, password, ip).await;
        if matches!(outcome, Err(Error::RateLimited { .. })) {
            metrics::counter!("logins_total", "outcome" => "limited").increment(1);
        }
        outcome
    }

    async fn attempt_login(
        &self,
        raw_email: &str,
        password: SecretString,
        ip: Option<IpAddr>,
    ) -> Result<Grant> {
        // What is not an address belongs to no account, but its failures count all the same.
        let (email, may_exist) = match email::normalize(raw_email) {
            Ok(email) => (email, true),
            Err(_) => (email::not_an_address_key(raw_email), false),
        };
        self.login_limiter.ensure_not_limited(&email, ip).await?;
        let record = if may_exist {
            self.accounts.record_by_email(&email).await?
        } else {
            None
        };
        let Some(record) = record else {
            self.accounts.hasher().verify_dummy(password).await?;
            self.login_limiter.failed(&email, ip).await?;
            self.failed_login(None, ip, "unknown_email").await;
            return Err(Error::InvalidCredentials);
        };
        let verification = self
            .accounts
            .hasher()
            .verify(password.clone(), record.password_hash.clone())
            .await?;
        if !verification.matches {
            self.login_limiter.failed(&email, ip).await?;
            self.failed_login(Some(&record.id), ip, "wrong_password")
                .await;
            return Err(Error::InvalidCredentials);
        }
        // Failures other attempts recorded while this one was checked count too.
        let FailuresOnRecord(failures_on_record) =
            self.login_limiter.ensure_not_limited(&email, ip).await?;
        if !record.is_active {
            metrics::counter!("logins_total", "outcome" => "deactivated").increment(1);
            return Err(Error::AccountDisabled);
        }
        if failures_on_record {
            self.login_limiter.clear_account(&email).await?;
        }
        if verification.outdated {
            let accounts = self.accounts.clone();
            let record = record.clone();
            tokio::spawn(async move { accounts.upgrade_hash(&record, password).await });
        }
        let grant = self.open(User::from(&record), ip).await?;
        metrics::counter!("logins_total", "outcome" => "succeeded").increment(1);
        Ok(grant)
    }

    async fn failed_login(&self, user_id: Option<&str>, ip: Option<IpAddr>, reason: &str) {
        metrics::counter!("logins_total", "outcome" => "failed").increment(1);
        self.audit
            .record(Event::LoginFailed, user_id, ip, json!({ "reason": reason }))
            .await;
    }

    /// Opens a session for `user` with its first refresh token, and audits the login, in one
    /// transaction.
    async fn open(&self, user: User, ip: Option<IpAddr>) -> Result<Grant> {
        let now = Timestamp::now();
        let session = SessionTokens {
            sid: uuid::Uuid::now_v7().to_string(),
            created_at: now,
            refresh_jti: uuid::Uuid::new_v4().to_string(),
            refresh_expires_at: self.issuer.refresh_expiry(now, now),
        };
        let tokens = self.issuer.issue(&user, &session, now).await?;
        store::open(
            &self.db,
            store::NewSession {
                sid: session.sid.clone(),
                user_id: user.id.clone(),
                refresh_jti: session.refresh_jti,
                created_at: now,
                expires_at: session.refresh_expires_at,
                audit: AuditLog::entry(
                    Event::LoginSucceeded,
                    Some(&user.id),
                    ip,
                    json!({ "sid": session.sid }),
                ),
            },
        )
        .await?;
        Ok(Grant {
            tokens,
            user,
            session_id: session.sid,
        })
    }

    /// Rotates a refresh token. Exactly one of any number of concurrent uses succeeds; any use
    /// of a token already used revokes the session it belongs to.
    pub async fn refresh(&self, token: &str, ip: Option<IpAddr>) -> Result<Grant> {
        self.rates.check_refresh_from(ip)?;
        let now = Timestamp::now();
        let published = self.ring.published().get();
        let claims = self
            .refresh_verifier
            .verify(token, &published, now.unix_secs())
            .map_err(|rejection| {
                tracing::debug!(reason = rejection.reason(), "refresh token refused");
                metrics::counter!("refreshes_total", "outcome" => "invalid").increment(1);
                Error::InvalidRefreshToken
            })?;
        self.rates.check_refresh_for(&claims.sub)?;

        let successor_jti = uuid::Uuid::new_v4().to_string();
        // The idle limit; the rotation cuts it at the session's end, which only it knows.
        let successor_expires_at = self.issuer.refresh_expiry(now, Timestamp(i64::MAX));
        let rotation = store::Rotation {
            jti: claims.jti.clone(),
            sid: claims.sid.clone(),
            user_id: claims.sub.clone(),
            successor_jti: successor_jti.clone(),
            now,
            successor_expires_at,
            session_max_lifetime: self.issuer.session_max_lifetime_micros(),
            audit: AuditLog::entry(
                Event::Refreshed,
                Some(&claims.sub),
                ip,
                json!({"sid": claims.sid}),
            ),
        };
        match store::rotate(&self.db, rotation).await? {
            store::Rotated::Yes(successor) => {
                let user = User::from(&successor.user);
                let session = SessionTokens {
                    sid: claims.sid.clone(),
                    created_at: successor.session_created_at,
                    refresh_jti: successor_jti,
                    refresh_expires_at: successor.expires_at,
                };
                let tokens = self.issuer.issue(&user, &session, now).await?;
                metrics::counter!("refreshes_total", "outcome" => "succeeded").increment(1);
                Ok(Grant {
                    tokens,
                    user,
                    session_id: claims.sid,
                })
            }
            store::Rotated::SessionEnded => {
                metrics::counter!("refreshes_total", "outcome" => "revoked").increment(1);
                Err(Error::InvalidRefreshToken)
            }
            store::Rotated::NotUsable => {
                let txn = self.db.begin().await?;
                let reused =
                    store::revoke_if_reused(&txn, &claims.jti, &claims.sid, &claims.sub, now)
                        .await?;
                if reused {
                    self.revocations
                        .sessions_ended(
                            &txn,
                            &claims.sub,
                            std::slice::from_ref(&claims.sid),
                            Reason::RefreshReuse,
                        )
                        .await?;
                }
                self.revocations.commit(txn).await?;
                if reused {
                    metrics::counter!("refreshes_total", "outcome" => "reuse_detected")
                        .increment(1);
                    tracing::warn!(user_id = %claims.sub, sid = %claims.sid, "refresh token reused: session revoked");
                    self.audit
                        .record(
                            Event::RefreshReuseDetected,
                            Some(&claims.sub),
                            ip,
                            json!({"sid": claims.sid}),
                        )
                        .await;
                } else {
                    metrics::counter!("refreshes_total", "outcome" => "invalid").increment(1);
                }
                Err(Error::InvalidRefreshToken)
            }
        }
    }

    /// The caller behind an access token of session `sid` issued at `issued_at`: its session
    /// must be live, its user active, and none of the user's tokens revoked since it was issued.
    /// One lookup; the answer carries the user as stored now.
    pub async fn caller(&self, user_id: &str, sid: &str, issued_at: Timestamp) -> Result<Caller> {
        let row = store::live_user(&self.db, sid, user_id, issued_at)
            .await?
            .ok_or(Error::SessionEnded)?;
        Ok(Caller {
            user: User::from(&row),
            session_id: sid.to_owned(),
        })
    }

    /// Ends the caller's session, and the session of `refresh_token` if it is the same user's.
    pub async fn logout(
        &self,
        caller: &Caller,
        refresh_token: Option<&str>,
        ip: Option<IpAddr>,
    ) -> Result<()> {
        let now = Timestamp::now();
        let user_id = caller.user_id();
        let mut sessions = vec![caller.session_id.clone()];
        if let Some(token) = refresh_token {
            let published = self.ring.published().get();
            if let Ok(claims) = self
                .refresh_verifier
                .verify(token, &published, now.unix_secs())
                && claims.sub == user_id
                && claims.sid != caller.session_id
            {
                sessions.push(claims.sid);
            }
        }
        let txn = self.db.begin().await?;
        let mut ended = Vec::new();
        for sid in sessions {
            if store::revoke_session(&txn, &sid, user_id, "logout", now).await? {
                ended.push(sid);
            }
        }
        self.revocations
            .sessions_ended(&txn, user_id, &ended, Reason::Logout)
            .await?;
        self.revocations.commit(txn).await?;
        self.audit
            .record(
                Event::Logout,
                Some(user_id),
                ip,
                json!({"sid": caller.session_id}),
            )
            .await;
        Ok(())
    }

    /// Ends every session of the caller's user.
    pub async fn logout_all(&self, caller: &Caller, ip: Option<IpAddr>) -> Result<()> {
        let now = Timestamp::now();
        let txn = self.db.begin().await?;
        let ended =
            store::revoke_user_sessions(&txn, caller.user_id(), None, "logout_all", now).await?;
        self.revocations
            .tokens_before(&txn, caller.user_id(), now, Reason::LogoutAll)
            .await?;
        self.revocations.commit(txn).await?;
        let ended = ended.len();
        self.audit
            .record(
                Event::Logout,
                Some(caller.user_id()),
                ip,
                json!({"all": true, "sessions": ended}),
            )
            .await;
        Ok(())
    }

    /// Changes the caller's password after checking the current one; every other session ends
    /// and every outstanding reset token is spent. A wrong current password is a failed login
    /// for the account and the address (the same counters, limits and window), so a stolen
    /// access token cannot guess passwords faster than the login form can.
    pub async fn change_password(
        &self,
        caller: &Caller,
        current: SecretString,
        new: SecretString,
        ip: Option<IpAddr>,
    ) -> Result<()> {
        let email = &caller.user.email;
        self.login_limiter.ensure_not_limited(email, ip).await?;
        let record = self
            .accounts
            .record(caller.user_id())
            .await?
            .ok_or(Error::SessionEnded)?;
        let verification = self
            .accounts
            .hasher()
            .verify(current, record.password_hash.clone())
            .await?;
        if !verification.matches {
            self.login_limiter.failed(email, ip).await?;
            metrics::counter!("password_changes_total", "outcome" => "wrong_password").increment(1);
            self.audit
                .record(
                    Event::PasswordChangeFailed,
                    Some(&record.id),
                    ip,
                    json!({"sid": caller.session_id}),
                )
                .await;
            return Err(Error::field(
                "current_password",
                "is not your current password",
            ));
        }
        // Failures other attempts recorded while this one was checked count too.
        let FailuresOnRecord(failures_on_record) =
            self.login_limiter.ensure_not_limited(email, ip).await?;
        crate::accounts::check_new_password("new_password", &new, &record.email)?;
        let hash = self.accounts.hasher().hash(new).await?;

        let now = Timestamp::now();
        let txn = self.db.begin().await?;
        user_store::set_password_hash(&txn, &record.id, &hash, now).await?;
        reset_store::consume_all_for_user(&txn, &record.id, now).await?;
        let ended = store::revoke_user_sessions(
            &txn,
            &record.id,
            Some(&caller.session_id),
            "password_changed",
            now,
        )
        .await?;
        self.revocations
            .sessions_ended(&txn, &record.id, &ended, Reason::PasswordChanged)
            .await?;
        crate::store::audit::insert(
            &txn,
            AuditLog::entry(
                Event::PasswordChanged,
                Some(&record.id),
                ip,
                json!({"other_sessions_ended": ended.len()}),
            ),
        )
        .await?;
        self.revocations.commit(txn).await?;
        if failures_on_record {
            self.login_limiter.clear_account(email).await?;
        }
        metrics::counter!("password_changes_total", "outcome" => "changed").increment(1);
        Ok(())
    }
}
