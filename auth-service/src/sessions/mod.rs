//! Sessions: login opens one; each refresh token is single-use and rotates; a used token
//! presented again revokes its whole session (OAuth 2.0 Security BCP §4.14).

pub mod tokens;

use std::net::IpAddr;
use std::sync::Arc;

use sea_orm::DatabaseConnection;
use secrecy::SecretString;
use serde_json::json;
use service_kit::timestamp::Timestamp;
use shared_claims::{Principal, Verifier, VerifierConfig};

use crate::accounts::{Accounts, User, email};
use crate::audit::{AuditLog, Event};
use crate::error::{Error, Result};
use crate::keys::ring::KeyRing;
use crate::limits::{LoginLimiter, RateLimits};
use crate::store::sessions as store;
use tokens::{TokenIssuer, TokenPair};

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
    refresh_verifier: Arc<Verifier>,
    login_limiter: LoginLimiter,
    rates: Arc<RateLimits>,
    audit: AuditLog,
}

impl Sessions {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        db: DatabaseConnection,
        accounts: Accounts,
        issuer: TokenIssuer,
        ring: Arc<KeyRing>,
        login_limiter: LoginLimiter,
        rates: Arc<RateLimits>,
        audit: AuditLog,
    ) -> Self {
        let refresh_verifier = Arc::new(Verifier::new(VerifierConfig::refresh(
            issuer.policy().issuer.clone(),
        )));
        Sessions {
            db,
            accounts,
            issuer,
            ring,
            refresh_verifier,
            login_limiter,
            rates,
            audit,
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
        // What is not an address belongs to no account, but its failures count all the same.
        let (email, may_exist) = match email::normalize(raw_email) {
            Ok(email) => (email, true),
            Err(_) => (email::not_an_address_key(raw_email), false),
        };
        self.login_limiter.check(&email, ip).await?;
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
        let failures_on_record = self.login_limiter.check(&email, ip).await?;
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
        let sid = uuid::Uuid::now_v7().to_string();
        let refresh_jti = uuid::Uuid::new_v4().to_string();
        let tokens = self.issuer.issue(&user, &sid, &refresh_jti, now).await?;
        store::open(
            &self.db,
            store::NewSession {
                sid: sid.clone(),
                user_id: user.id.clone(),
                refresh_jti,
                created_at: now.micros(),
                expires_at: Timestamp::from_unix_secs(tokens.refresh_expires_at).micros(),
                audit: AuditLog::entry(
                    Event::LoginSucceeded,
                    Some(&user.id),
                    ip,
                    json!({ "sid": sid }),
                ),
            },
        )
        .await?;
        Ok(Grant {
            tokens,
            user,
            session_id: sid,
        })
    }

    /// Rotates a refresh token. Exactly one of any number of concurrent uses succeeds; any use
    /// of a token already used revokes the session it belongs to.
    pub async fn refresh(&self, token: &str, ip: Option<IpAddr>) -> Result<Grant> {
        self.rates.refresh_from(ip)?;
        let now = Timestamp::now();
        let published = self.ring.published().get();
        let claims = self
            .refresh_verifier
            .verify_refresh(token, &published, now.unix_secs())
            .map_err(|rejection| {
                tracing::debug!(reason = rejection.reason(), "refresh token refused");
                metrics::counter!("refreshes_total", "outcome" => "invalid").increment(1);
                Error::InvalidRefreshToken
            })?;
        self.rates.refresh_for(&claims.sub)?;

        let successor_jti = uuid::Uuid::new_v4().to_string();
        let successor_expires_at = Timestamp::from_unix_secs(self.issuer.refresh_expiry(now));
        let rotation = store::Rotation {
            jti: claims.jti.clone(),
            sid: claims.sid.clone(),
            user_id: claims.sub.clone(),
            successor_jti: successor_jti.clone(),
            now: now.micros(),
            successor_expires_at: successor_expires_at.micros(),
            audit: AuditLog::entry(
                Event::Refreshed,
                Some(&claims.sub),
                ip,
                json!({"sid": claims.sid}),
            ),
        };
        match store::rotate(&self.db, rotation).await? {
            store::Rotated::Yes(row) => {
                let user = User::from(&row);
                let tokens = self
                    .issuer
                    .issue(&user, &claims.sid, &successor_jti, now)
                    .await?;
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
                let reused = store::revoke_if_reused(
                    &self.db,
                    &claims.jti,
                    &claims.sid,
                    &claims.sub,
                    now.micros(),
                )
                .await?;
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

    /// Ends the bearer's session, and the session of `refresh_token` if it is the same user's.
    pub async fn logout(
        &self,
        principal: &Principal,
        refresh_token: Option<&str>,
        ip: Option<IpAddr>,
    ) -> Result<()> {
        let now = Timestamp::now();
        let user_id = principal.user_id();
        store::revoke_session(
            &self.db,
            principal.session_id(),
            user_id,
            "logout",
            now.micros(),
        )
        .await?;
        if let Some(token) = refresh_token {
            let published = self.ring.published().get();
            if let Ok(claims) =
                self.refresh_verifier
                    .verify_refresh(token, &published, now.unix_secs())
                && claims.sub == user_id
            {
                store::revoke_session(&self.db, &claims.sid, user_id, "logout", now.micros())
                    .await?;
            }
        }
        self.audit
            .record(
                Event::Logout,
                Some(user_id),
                ip,
                json!({"sid": principal.session_id()}),
            )
            .await;
        Ok(())
    }

    /// Ends every session of the user.
    pub async fn logout_all(&self, principal: &Principal, ip: Option<IpAddr>) -> Result<()> {
        let ended = self
            .end_all(principal.user_id(), None, "logout_all")
            .await?;
        self.audit
            .record(
                Event::Logout,
                Some(principal.user_id()),
                ip,
                json!({"all": true, "sessions": ended}),
            )
            .await;
        Ok(())
    }

    /// Changes the bearer's password after checking the current one; every other session ends.
    pub async fn change_password(
        &self,
        principal: &Principal,
        current: SecretString,
        new: SecretString,
        ip: Option<IpAddr>,
    ) -> Result<()> {
        let record = self
            .accounts
            .record(principal.user_id())
            .await?
            .ok_or(Error::NotFound)?;
        let verification = self
            .accounts
            .hasher()
            .verify(current, record.password_hash.clone())
            .await?;
        if !verification.matches {
            return Err(Error::field(
                "current_password",
                "is not your current password",
            ));
        }
        crate::accounts::check_new_password("new_password", &new, &record.email)?;
        self.accounts.set_password(&record.id, new).await?;
        let ended = self
            .end_all(&record.id, Some(principal.session_id()), "password_changed")
            .await?;
        self.audit
            .record(
                Event::PasswordChanged,
                Some(&record.id),
                ip,
                json!({"other_sessions_ended": ended}),
            )
            .await;
        Ok(())
    }

    /// Ends every session of `user_id` but `except`; returns how many ended.
    pub async fn end_all(&self, user_id: &str, except: Option<&str>, reason: &str) -> Result<u64> {
        Ok(store::revoke_user_sessions(
            &self.db,
            user_id,
            except,
            reason,
            Timestamp::now().micros(),
        )
        .await?)
    }
}
