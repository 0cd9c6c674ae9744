//! Revocations on the wire: Security Event Tokens (RFC 8417) with the OpenID CAEP event types,
//! signed by the issuer with its access-token keys and verified by each receiver against the
//! JWKS it already holds — so a forged or altered event is refused like a forged token.
//!
//! - A session ended: `session-revoked`, subject `{"format": "complex", "user": iss_sub,
//!   "session": opaque sid}`.
//! - Every session of a user ended: `session-revoked`, subject `iss_sub` (RFC 9493).
//! - A user's role changed: `token-claims-change`, subject `iss_sub`, `claims: {role}`.
//!
//! Two claims of this product's own say exactly what the receiver must do, whatever the event
//! type: `not_before_us` (tokens of the user issued before this instant are refused) and
//! `until_us` (after which no token the event refuses can be valid, so it can be forgotten).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::claims::Audience;
use crate::keys::KeySet;
use crate::revocations::Revocation;
use crate::verifier::{Rejection, verify_jws};

/// `typ` of a Security Event Token (RFC 8417 §2.3).
pub const SECURITY_EVENT_TYPE: &str = "secevent+jwt";
/// CAEP: the subject's session (or every session of the subject) ended.
pub const SESSION_REVOKED: &str =
    "https://schemas.openid.net/secevent/caep/event-type/session-revoked";
/// CAEP: claims of the subject's tokens changed (here: the role).
pub const TOKEN_CLAIMS_CHANGE: &str =
    "https://schemas.openid.net/secevent/caep/event-type/token-claims-change";

/// A subject identifier (RFC 9493): a user, or a user's session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "format", rename_all = "snake_case")]
pub enum SubjectId {
    /// A user, by issuer and `sub`.
    IssSub {
        /// The issuer.
        iss: String,
        /// The user id.
        sub: String,
    },
    /// One session of a user.
    Complex {
        /// The user.
        user: Box<SubjectId>,
        /// The session.
        session: OpaqueId,
    },
}

/// An opaque identifier (RFC 9493 §3.2.4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpaqueId {
    /// Always `opaque`.
    pub format: String,
    /// The session id (`sid`).
    pub id: String,
}

/// The body of one event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventDetail {
    /// When it happened, seconds since the epoch.
    pub event_timestamp: i64,
    /// `user`, `admin` or `policy`: who caused it.
    pub initiating_entity: String,
    /// Why, for an administrator (`{"en": "logout"}`).
    pub reason_admin: BTreeMap<String, String>,
    /// For `token-claims-change`: the claims as they are now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claims: Option<serde_json::Value>,
}

/// A Security Event Token's claims.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecurityEvent {
    /// The issuer (the same as its access tokens').
    pub iss: String,
    /// The audience of the access tokens it concerns.
    pub aud: Audience,
    /// When the token was signed, seconds since the epoch.
    pub iat: i64,
    /// This event's id.
    pub jti: String,
    /// Whom it concerns.
    pub sub_id: SubjectId,
    /// One event, by type URI.
    pub events: BTreeMap<String, EventDetail>,
    /// The feed's sequence number of the event.
    pub seq: i64,
    /// Tokens of the user issued before this instant (microseconds) are refused; for a session
    /// event, the instant the session ended.
    pub not_before_us: i64,
    /// After this instant (microseconds) no token the event refuses can be valid.
    pub until_us: i64,
}

impl SecurityEvent {
    /// What a receiver must do with this event, if it is one it knows.
    pub fn revocation(&self) -> Option<Revocation> {
        let known = self.events.contains_key(SESSION_REVOKED)
            || self.events.contains_key(TOKEN_CLAIMS_CHANGE);
        if !known {
            return None;
        }
        match &self.sub_id {
            SubjectId::Complex { session, .. } => Some(Revocation::Session {
                sid: session.id.clone(),
                until_us: self.until_us,
            }),
            SubjectId::IssSub { sub, .. } => Some(Revocation::User {
                sub: sub.clone(),
                not_before_us: self.not_before_us,
                until_us: self.until_us,
            }),
        }
    }
}

fn is_security_event_typ(typ: &str) -> bool {
    typ.eq_ignore_ascii_case(SECURITY_EVENT_TYPE)
        || typ.eq_ignore_ascii_case("application/secevent+jwt")
}

/// Verifies Security Event Tokens from `issuer` about `audience`'s tokens: RS256 with a key of
/// the JWKS, `typ` `secevent+jwt`, `iss` and `aud` exact.
#[derive(Debug, Clone)]
pub struct SecurityEventVerifier {
    issuer: String,
    audience: String,
}

impl SecurityEventVerifier {
    /// A verifier of `issuer`'s events about tokens for `audience`.
    pub fn new(issuer: impl Into<String>, audience: impl Into<String>) -> Self {
        SecurityEventVerifier {
            issuer: issuer.into(),
            audience: audience.into(),
        }
    }

    /// The event, if `token` is one of the issuer's, signed by a key in `keys`.
    pub fn verify(&self, token: &str, keys: &KeySet) -> Result<SecurityEvent, Rejection> {
        let (event, _kid) = verify_jws::<SecurityEvent>(token, keys, is_security_event_typ)?;
        if event.iss != self.issuer {
            return Err(Rejection::WrongIssuer);
        }
        if !event.aud.contains(&self.audience) {
            return Err(Rejection::WrongAudience);
        }
        Ok(event)
    }
}
