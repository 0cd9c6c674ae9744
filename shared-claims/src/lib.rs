//! What an access token means, agreed once for every service.
//!
//! - [`AccessClaims`], [`RefreshClaims`], [`Role`]: the tokens of the contract.
//! - [`Permission`]: which role may do what, stated once.
//! - [`AccessTokenVerifier`], [`RefreshTokenVerifier`]: token → claims, pure checks (RS256
//!   only, `typ`, `iss`, `aud`, times, `kid`), every refusal a named [`Rejection`].
//! - [`KeySet`]: a JWKS document → the keys a verifier trusts (RFC 7638 `kid`s only).
//! - [`JwksCache`]: the key cache (fetch at start, refetch on unknown `kid` with cool-down and
//!   single-flight, refresh on `max-age`, serve stale while the issuer is down).
//! - [`RevocationSet`], [`RevocationFeed`]: what the issuer ended (sessions, users' older
//!   tokens), followed from its feed of signed Security Event Tokens ([`SecurityEvent`]) and
//!   consulted on every authentication.
//! - [`Authenticator`]: the above and a cache of verified tokens behind one
//!   `authenticate(token)` call; [`Authenticator::sample_gauges`] and [`describe_metrics`] for
//!   the metrics it keeps.
//! - With the `axum` feature: the [`Principal`] extractor, and the 401/403 problem responses of
//!   RFC 6750 and RFC 9457 ([`AuthError`], [`Problem`]).
//!
//! # Protecting a route in another service
//!
//! ```no_run
//! use std::sync::Arc;
//! use axum::{Router, routing::get};
//! use shared_claims::{Authenticator, AuthError, JwksConfig, Permission, Principal, VerifierConfig};
//!
//! async fn report(principal: Principal) -> Result<String, AuthError> {
//!     principal.require(Permission::ViewReports)?;
//!     Ok(format!("hello {}", principal.user_id()))
//! }
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let auth = Authenticator::new(
//!     VerifierConfig::new("http://127.0.0.1:8080", "todo-api", 30),
//!     JwksConfig::new("http://127.0.0.1:8080/.well-known/jwks.json"),
//! )?;
//! auth.start(); // first fetch, then refresh in the background
//! let app: Router = Router::new().route("/report", get(report)).with_state(Arc::new(auth));
//! # let _ = app; Ok(()) }
//! ```

#![warn(missing_docs)]

mod authenticator;
mod claims;
mod feed;
mod jwks;
mod keys;
mod metrics;
mod permissions;
mod revocations;
mod security_event;
mod thumbprint;
mod token_cache;
mod trace_context;
mod verifier;

#[cfg(feature = "axum")]
mod extractor;
#[cfg(feature = "axum")]
mod problem;

/// Test keys, a token minter and a JWKS server, for this crate's tests and services' tests.
#[cfg(feature = "test-util")]
pub mod test_util;

pub use authenticator::{Authenticator, BuildError, LocalKeys};
pub use claims::{
    ACCESS_TOKEN_TYPE, AccessClaims, Audience, REFRESH_TOKEN_TYPE, RefreshClaims, Role, UnknownRole,
};
pub use feed::{FeedConfig, FeedStats, RevocationFeed};
pub use jwks::{JwksCache, JwksConfig, JwksStats};
pub use keys::{KeySet, KeySetError};
pub use metrics::describe_metrics;
pub use permissions::Permission;
pub use revocations::{Revocation, RevocationSet};
pub use security_event::{
    EventDetail, OpaqueId, SECURITY_EVENT_TYPE, SESSION_REVOKED, SecurityEvent,
    SecurityEventVerifier, SubjectId, TOKEN_CLAIMS_CHANGE,
};
pub use thumbprint::rsa_thumbprint;
pub use verifier::{
    AccessTokenVerifier, RefreshTokenVerifier, Rejection, VerifiedAccessToken, VerifierConfig,
    now_unix,
};

#[cfg(feature = "axum")]
pub use extractor::{AuthError, Principal};
#[cfg(feature = "axum")]
pub use problem::{FieldError, PROBLEM_JSON, Problem};
