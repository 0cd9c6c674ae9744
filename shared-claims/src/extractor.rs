//! The axum side: a handler that takes a [`Principal`] only runs for a verified access token.
//!
//! Rejections are the contract's: 401 with `WWW-Authenticate: Bearer` when no token was sent,
//! `Bearer error="invalid_token"` when it does not verify; 403 with
//! `error="insufficient_scope"` when the principal lacks a permission (RFC 6750 §3).

use std::sync::Arc;

use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::authenticator::Authenticator;
use crate::claims::{AccessClaims, Role};
use crate::permissions::Permission;
use crate::problem::Problem;
use crate::verifier::Rejection;

/// The authenticated caller, from a verified access token.
#[derive(Debug, Clone)]
pub struct Principal {
    claims: Arc<AccessClaims>,
}

impl Principal {
    /// Only the extractor makes one, from a token that verified.
    pub(crate) fn new(claims: Arc<AccessClaims>) -> Self {
        Principal { claims }
    }

    /// The user id (`sub`).
    pub fn user_id(&self) -> &str {
        &self.claims.sub
    }

    /// The role the token carries.
    pub fn role(&self) -> Role {
        self.claims.role
    }

    /// The email the token carries.
    pub fn email(&self) -> &str {
        &self.claims.email
    }

    /// The session (`sid`) the token belongs to.
    pub fn session_id(&self) -> &str {
        &self.claims.sid
    }

    /// Every claim of the token.
    pub fn claims(&self) -> &AccessClaims {
        &self.claims
    }

    /// Whether the token's role grants `permission`.
    pub fn can(&self, permission: Permission) -> bool {
        self.claims.role.can(permission)
    }

    /// `Ok` if the principal's role grants `permission`, else the 403 to return.
    pub fn require(&self, permission: Permission) -> Result<(), AuthError> {
        if self.can(permission) {
            Ok(())
        } else {
            Err(AuthError::InsufficientScope(permission))
        }
    }
}

/// Why a request was not let through.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// 401 with the plain `Bearer` challenge.
    #[error("no bearer token was sent")]
    MissingToken,
    /// 401 `invalid_token`, saying why.
    #[error("{0}")]
    InvalidToken(Rejection),
    /// 403 `insufficient_scope`.
    #[error("the token does not grant `{}`", .0.as_str())]
    InsufficientScope(Permission),
}

impl IntoResponse for AuthError {
    fn into_response(self) -> Response {
        let (status, challenge, problem) = match &self {
            AuthError::MissingToken => (
                StatusCode::UNAUTHORIZED,
                "Bearer",
                Problem::new(
                    StatusCode::UNAUTHORIZED,
                    "missing-token",
                    "this endpoint needs an access token: `Authorization: Bearer <token>`",
                ),
            ),
            AuthError::InvalidToken(rejection) => (
                StatusCode::UNAUTHORIZED,
                r#"Bearer error="invalid_token""#,
                Problem::new(
                    StatusCode::UNAUTHORIZED,
                    "invalid-token",
                    rejection.to_string(),
                ),
            ),
            AuthError::InsufficientScope(_) => (
                StatusCode::FORBIDDEN,
                r#"Bearer error="insufficient_scope""#,
                Problem::new(
                    StatusCode::FORBIDDEN,
                    "insufficient-scope",
                    self.to_string(),
                ),
            ),
        };
        let mut response = problem.into_response();
        debug_assert_eq!(response.status(), status);
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static(challenge),
        );
        response
    }
}

/// The token of `Authorization: Bearer <token>` (scheme case-insensitive), if one was sent.
pub(crate) fn bearer_token(headers: &HeaderMap) -> Result<&str, AuthError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Err(AuthError::MissingToken);
    };
    let value = value
        .to_str()
        .map_err(|_| AuthError::InvalidToken(Rejection::Malformed))?;
    let Some((scheme, token)) = value.split_once(' ') else {
        return Err(if value.eq_ignore_ascii_case("bearer") {
            AuthError::InvalidToken(Rejection::Malformed)
        } else {
            AuthError::MissingToken
        });
    };
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(AuthError::MissingToken);
    }
    let token = token.trim();
    if token.is_empty() {
        return Err(AuthError::InvalidToken(Rejection::Malformed));
    }
    Ok(token)
}

impl<S> FromRequestParts<S> for Principal
where
    S: Send + Sync,
    Arc<Authenticator>: FromRef<S>,
{
    type Rejection = AuthError;

    // No span of its own: the user id goes on the request's span (every log line of the
    // request carries it, with the trace id), and a refusal is logged under that span too.
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let authenticator = Arc::<Authenticator>::from_ref(state);
        let token = bearer_token(&parts.headers)?;
        match authenticator.authenticate(token).await {
            Ok(claims) => {
                tracing::Span::current().record("user_id", claims.sub.as_str());
                let principal = Principal::new(claims);
                parts.extensions.insert(principal.clone());
                Ok(principal)
            }
            Err(rejection) => {
                tracing::debug!(reason = rejection.reason(), "token refused");
                Err(AuthError::InvalidToken(rejection))
            }
        }
    }
}
