//! What verifiers read: the JWKS and the discovery document (RFC 8414).

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use service_kit::openapi::responses::ServerErrors;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::state::AppState;
use crate::config::Settings;
use crate::keys::ring::KeyRing;
use std::sync::Arc;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(jwks))
        .routes(routes!(oauth_metadata))
        .routes(routes!(openid_configuration))
}

/// How long verifiers may cache the JWKS: short enough that a new key, published by every
/// replica within `AUTH_KEY_REFRESH_SECS` of its creation, is fetched by every verifier before
/// it signs (`AUTH_SIGNING_KEY_PRE_PUBLISH_SECS` after its creation).
pub fn jwks_max_age_secs(settings: &Settings) -> u64 {
    let window = settings
        .signing_key_pre_publish_secs
        .saturating_sub(settings.key_refresh_secs);
    (window / 2).min(300)
}

/// The discovery document, built once at start.
pub fn discovery_document(settings: &Settings) -> Value {
    let base = settings.issuer_base();
    json!({
        "issuer": settings.issuer,
        "jwks_uri": format!("{base}/.well-known/jwks.json"),
        "token_endpoint": format!("{base}/api/auth/login"),
        "grant_types_supported": ["password", "refresh_token"],
        "response_types_supported": [],
        "token_endpoint_auth_methods_supported": ["none"],
        "access_token_signing_alg_values_supported": ["RS256"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "subject_types_supported": ["public"],
        "service_documentation": format!("{base}/docs"),
    })
}

/// Every key that may have signed a still-valid token, and the next key before it signs.
#[utoipa::path(get, path = "/.well-known/jwks.json", tag = "keys",
    responses(
        (status = 200, description = "JWK Set", content_type = "application/json",
        body = Object, example = json!({"keys": [{"kty": "RSA", "use": "sig", "alg": "RS256", "kid": "…", "n": "…", "e": "AQAB"}]})),
        ServerErrors,
    ))]
async fn jwks(State(settings): State<Arc<Settings>>, State(ring): State<Arc<KeyRing>>) -> Response {
    let max_age = jwks_max_age_secs(&settings);
    (
        [
            (header::CONTENT_TYPE, "application/json".to_owned()),
            (header::CACHE_CONTROL, format!("public, max-age={max_age}")),
        ],
        ring.jwks().to_string(),
    )
        .into_response()
}

/// Authorization server metadata (RFC 8414).
#[utoipa::path(get, path = "/.well-known/oauth-authorization-server", tag = "keys",
    responses(
        (status = 200, description = "Metadata", body = Object, content_type = "application/json"),
        ServerErrors,
    ))]
async fn oauth_metadata(State(discovery): State<Arc<serde_json::Value>>) -> Response {
    metadata(&discovery)
}

/// The same document under the OpenID Connect name.
#[utoipa::path(get, path = "/.well-known/openid-configuration", tag = "keys",
    responses(
        (status = 200, description = "Metadata", body = Object, content_type = "application/json"),
        ServerErrors,
    ))]
async fn openid_configuration(State(discovery): State<Arc<serde_json::Value>>) -> Response {
    metadata(&discovery)
}

fn metadata(discovery: &serde_json::Value) -> Response {
    (
        [(header::CACHE_CONTROL, "public, max-age=3600")],
        axum::Json(discovery),
    )
        .into_response()
}
