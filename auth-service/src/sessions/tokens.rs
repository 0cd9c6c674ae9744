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
}

/// A freshly signed access and refresh token.
#[derive(Debug)]
pub struct TokenPair {
    pub access_token: String,
    pub refresh_token: String,
    pub refresh_jti: String,
    /// Seconds since the epoch.
    pub refresh_expires_at: i64,
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

    /// When a refresh token issued at `at` expires (seconds since the epoch).
    pub fn refresh_expiry(&self, at: Timestamp) -> i64 {
        at.unix_secs() + self.policy.refresh_ttl_secs
    }

    /// Signs both tokens for `user` in session `sid` at `at`. RSA signing takes about a
    /// millisecond per token, so it runs on the blocking pool, off the request workers.
    pub async fn issue(
        &self,
        user: &User,
        sid: &str,
        refresh_jti: &str,
        at: Timestamp,
    ) -> Result<TokenPair> {
        let signer = self
            .ring
            .signer(at.micros())
            .ok_or_else(|| Error::internal("no signing key is active"))?;
        let now = at.unix_secs();
        let policy = Arc::clone(&self.policy);
        let refresh_jti = refresh_jti.to_owned();
        let access = AccessClaims {
            iss: policy.issuer.clone(),
            sub: user.id.clone(),
            aud: Audience::One(policy.audience.clone()),
            exp: now + policy.access_ttl_secs,
            iat: now,
            nbf: now,
            jti: uuid::Uuid::new_v4().to_string(),
            role: user.role,
            email: user.email.clone(),
            sid: sid.to_owned(),
        };
        let refresh = RefreshClaims {
            iss: policy.issuer.clone(),
            sub: user.id.clone(),
            aud: Audience::One(policy.issuer.clone()),
            exp: now + policy.refresh_ttl_secs,
            iat: now,
            jti: refresh_jti.clone(),
            sid: sid.to_owned(),
        };
        let refresh_expires_at = refresh.exp;
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
            refresh_jti,
            refresh_expires_at,
            expires_in: policy.access_ttl_secs,
        })
    }
}
