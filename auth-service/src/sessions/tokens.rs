//! Minting the contract's tokens: RS256 with the ring's current key, `typ` per RFC 9068.

use std::sync::Arc;

use shared_claims::{ACCESS_TOKEN_TYPE, AccessClaims, Audience, REFRESH_TOKEN_TYPE, RefreshClaims};

use service_kit::timestamp::Timestamp;

use crate::accounts::User;
use crate::error::{Error, Result};
use crate::keys::ring::KeyRing;

#[derive(Debug, Clone)]
pub struct TokenPolicy {
    pub issuer: String,
    pub audience: String,
    pub access_ttl_secs: i64,
    pub refresh_ttl_secs: i64,
    /// A session's absolute lifetime: no token of it outlives its login by more.
    pub session_max_lifetime_secs: i64,
}

/// The session a pair of tokens is signed for.
#[derive(Debug, Clone)]
pub struct SessionTokens {
    pub sid: String,
    /// The login that opened the session: its absolute end is counted from here.
    pub created_at: Timestamp,
    pub refresh_jti: String,
    /// As stored with the refresh token: the earlier of its idle limit and the session's end.
    pub refresh_expires_at: Timestamp,
}

/// A freshly signed access and refresh token.
#[derive(Debug)]
pub struct TokenPair {
    pub access_token: String,
    pub refresh_token: String,
    /// Seconds until the access token expires.
    pub expires_in: i64,
}

#[derive(Debug, Clone)]
pub struct TokenIssuer {
    ring: Arc<KeyRing>,
    policy: Arc<TokenPolicy>,
}

impl TokenIssuer {
    pub fn new(ring: Arc<KeyRing>, policy: TokenPolicy) -> Self {
        TokenIssuer {
            ring,
            policy: Arc::new(policy),
        }
    }

    pub fn policy(&self) -> &TokenPolicy {
        &self.policy
    }

    /// The absolute end of a session opened at `created_at`.
    pub fn session_end(&self, created_at: Timestamp) -> Timestamp {
        created_at.plus_secs(self.policy.session_max_lifetime_secs)
    }

    /// When a refresh token issued at `at` in a session opened at `created_at` expires: its idle
    /// limit, cut at the session's end.
    pub fn refresh_expiry(&self, at: Timestamp, created_at: Timestamp) -> Timestamp {
        at.plus_secs(self.policy.refresh_ttl_secs)
            .min(self.session_end(created_at))
    }

    /// The session's absolute lifetime in microseconds, for the rotation statement.
    pub fn session_max_lifetime_micros(&self) -> i64 {
        self.policy
            .session_max_lifetime_secs
            .saturating_mul(1_000_000)
    }

    /// Signs both tokens for `user` in `session` at `at`; neither outlives the session. RSA
    /// signing takes about a millisecond per token, so it runs on the blocking pool, off the
    /// request workers.
    pub async fn issue(
        &self,
        user: &User,
        session: &SessionTokens,
        at: Timestamp,
    ) -> Result<TokenPair> {
        let signer = self
            .ring
            .signer(at.micros())
            .ok_or_else(|| Error::internal("no signing key is active"))?;
        let now = at.unix_secs();
        let policy = Arc::clone(&self.policy);
        let session_end = self.session_end(session.created_at).unix_secs();
        let access = AccessClaims {
            iss: policy.issuer.clone(),
            sub: user.id.clone(),
            aud: Audience::One(policy.audience.clone()),
            exp: (now + policy.access_ttl_secs).min(session_end),
            iat: now,
            nbf: now,
            jti: uuid::Uuid::new_v4().to_string(),
            role: user.role,
            email: user.email.clone(),
            sid: session.sid.clone(),
            iat_us: Some(at.micros()),
        };
        let refresh = RefreshClaims {
            iss: policy.issuer.clone(),
            sub: user.id.clone(),
            aud: Audience::One(policy.issuer.clone()),
            // The stored expiry, in whole seconds rounded down: never later than the row's.
            exp: session.refresh_expires_at.unix_secs(),
            iat: now,
            jti: session.refresh_jti.clone(),
            sid: session.sid.clone(),
        };
        let expires_in = access.exp - now;
        let (access_token, refresh_token) = tokio::task::spawn_blocking(move || {
            let access = signer
                .signer
                .sign(ACCESS_TOKEN_TYPE, &signer.kid, &access)?;
            let refresh = signer
                .signer
                .sign(REFRESH_TOKEN_TYPE, &signer.kid, &refresh)?;
            Ok::<_, crate::keys::jws::JwsError>((access, refresh))
        })
        .await
        .map_err(Error::internal)?
        .map_err(Error::internal)?;
        Ok(TokenPair {
            access_token,
            refresh_token,
            expires_in,
        })
    }
}
