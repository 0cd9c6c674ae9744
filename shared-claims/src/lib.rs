//! What an access token means, agreed once for every service.
//!
//! - [`claims`]: the access- and refresh-token claims of the contract, and [`Role`].
//! - [`permissions`]: which role may do what, stated once.
//! - [`verifier`]: token → claims, pure checks (RS256 only, `typ`, `iss`, `aud`, times, `kid`).
//! - [`keys`]: a JWKS document → the set of keys a verifier trusts.
//! - [`jwks`]: the key cache (fetch at start, refetch on unknown `kid` with cool-down and
//!   single-flight, refresh on `max-age`, serve stale while the issuer is down).
//! - [`token_cache`]: tokens verified before, so a repeat costs a hash lookup, not an RSA check.
//! - [`authenticator`]: the three above behind one `authenticate(token)` call.
//! - `axum` (feature `axum`): the extractor giving handlers a [`Principal`], and the 401/403
//!   problem responses of RFC 6750 and RFC 9457.
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
//!     VerifierConfig::access("http://127.0.0.1:8080", "todo-api", 30),
//!     JwksConfig::new("http://127.0.0.1:8080/.well-known/jwks.json"),
//! )?;
//! auth.start(); // first fetch, then refresh in the background
//! let app: Router = Router::new().route("/report", get(report)).with_state(Arc::new(auth));
//! # let _ = app; Ok(()) }
//! ```

pub mod authenticator;
pub mod claims;
pub mod jwks;
pub mod keys;
pub mod permissions;
pub mod thumbprint;
pub mod token_cache;
pub mod verifier;

#[cfg(feature = "axum")]
pub mod extractor;
#[cfg(feature = "axum")]
pub mod problem;

#[cfg(feature = "test-util")]
pub mod test_util;

pub use authenticator::{Authenticator, BuildError, LocalKeys};
pub use claims::{
    ACCESS_TOKEN_TYPE, AccessClaims, Audience, REFRESH_TOKEN_TYPE, RefreshClaims, Role, UnknownRole,
};
pub use jwks::{JwksCache, JwksConfig, JwksStats};
pub use keys::{KeySet, VerifyingKey};
pub use permissions::Permission;
pub use verifier::{Rejection, TokenKind, Verifier, VerifierConfig};

#[cfg(feature = "axum")]
pub use extractor::{AuthError, Principal};
#[cfg(feature = "axum")]
pub use problem::{FieldError, Problem};
