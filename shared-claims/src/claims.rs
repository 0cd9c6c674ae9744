//! The claims both services agree on (the contract's "Tokens" section).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// `typ` header of an access token (RFC 9068).
pub const ACCESS_TOKEN_TYPE: &str = "at+jwt";
/// `typ` header of a refresh token: never accepted where an access token is expected.
pub const REFRESH_TOKEN_TYPE: &str = "rt+jwt";

/// The roles of the contract. An admin is also a user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "axum", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Manages their own account and todos.
    User,
    /// A user who also administers users, reads every todo, the reports and the audit log.
    Admin,
}

impl Role {
    /// `user` or `admin`, as tokens and bodies spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Admin => "admin",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A role name this crate does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role (expected `user` or `admin`)")]
pub struct UnknownRole;

impl FromStr for Role {
    type Err = UnknownRole;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "user" => Ok(Role::User),
            "admin" => Ok(Role::Admin),
            _ => Err(UnknownRole),
        }
    }
}

/// `aud` is a string or an array of strings (RFC 7519 §4.1.3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Audience {
    /// A single audience.
    One(String),
    /// Several audiences.
    Many(Vec<String>),
}

impl Audience {
    /// Whether `audience` is (one of) this token's.
    pub fn contains(&self, audience: &str) -> bool {
        match self {
            Audience::One(one) => one == audience,
            Audience::Many(many) => many.iter().any(|a| a == audience),
        }
    }
}

impl From<&str> for Audience {
    fn from(value: &str) -> Self {
        Audience::One(value.to_owned())
    }
}

/// An access token's claims (RFC 9068 plus `role`, `email`, `sid` and `iat_us`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    /// The issuer.
    pub iss: String,
    /// The user id.
    pub sub: String,
    /// The API audience.
    pub aud: Audience,
    /// Expiry, seconds since the epoch.
    pub exp: i64,
    /// Issue time, seconds since the epoch.
    pub iat: i64,
    /// Not before, seconds since the epoch.
    pub nbf: i64,
    /// This token's id.
    pub jti: String,
    /// The user's role when the token was signed.
    pub role: Role,
    /// The user's email when the token was signed.
    pub email: String,
    /// The session (login) this token descends from.
    pub sid: String,
    /// The issue time in microseconds since the epoch (a claim of this product's own): a
    /// revocation of the user takes effect between two tokens issued within the same second.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat_us: Option<i64>,
}

impl AccessClaims {
    /// When the token was issued, in microseconds: `iat_us`, or the start of the `iat` second
    /// for a token without it (so a revocation in that second refuses it: the safe side).
    pub fn issued_at_micros(&self) -> i64 {
        self.iat_us
            .unwrap_or_else(|| self.iat.saturating_mul(1_000_000))
    }
}

/// A refresh token's claims: `aud` is the issuer itself, never the API audience.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefreshClaims {
    /// The issuer.
    pub iss: String,
    /// The user id.
    pub sub: String,
    /// The issuer again: refresh tokens are for it alone.
    pub aud: Audience,
    /// Expiry, seconds since the epoch.
    pub exp: i64,
    /// Issue time, seconds since the epoch.
    pub iat: i64,
    /// This token's id: spent once.
    pub jti: String,
    /// The session it rotates in.
    pub sid: String,
}
