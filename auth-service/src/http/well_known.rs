//! What verifiers read: the JWKS and the discovery document (RFC 8414).

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use service_kit::json::ApiQuery;
use service_kit::openapi::responses::{QueryErrors, ServerErrors};
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::ApiResult;
use super::state::AppState;
use crate::config::Settings;
use crate::error::Error;
use crate::keys::ring::KeyRing;
use crate::revocations::publisher::Publisher;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(jwks))
        .routes(routes!(revocations))
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

/// The discovery document, built once at start: only what is real. There is no OAuth token
/// endpoint a standard client could use (login takes JSON, not a form grant) and no ID token,
/// so neither is advertised; `revocation_feed_uri` (this product's own) is where verifiers
/// follow what ends.
pub fn discovery_document(settings: &Settings) -> Value {
    let base = settings.issuer_base();
    json!({
        "issuer": settings.issuer,
        "jwks_uri": format!("{base}/.well-known/jwks.json"),
        "revocation_feed_uri": format!("{base}/.well-known/revocations"),
        "response_types_supported": [],
    })
}

/// `?after=` of the feed: the cursor, when a client cannot send `Last-Event-ID`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FeedParams {
    /// Only events after this sequence number [0: every event still in force].
    #[param(value_type = Option<i64>, minimum = 0)]
    pub after: Option<String>,
}

/// The revocation feed (Server-Sent Events): every event still in force after the cursor
/// (`Last-Event-ID`, or `?after=`), then `event: synced`, then live events and a heartbeat every
/// 5 seconds. Each `revocation` event's `data` is a Security Event Token (RFC 8417, CAEP
/// `session-revoked` or `token-claims-change`) signed with the keys of the JWKS.
#[utoipa::path(get, path = "/.well-known/revocations", tag = "keys",
    params(
        FeedParams,
        ("Last-Event-ID" = Option<i64>, Header, description = "Resume after this event"),
    ),
    responses(
        (status = 200, description = "An endless `text/event-stream`", body = String, content_type = "text/event-stream"),
        QueryErrors,
        ServerErrors,
    ))]
async fn revocations(
    State(publisher): State<Publisher>,
    headers: HeaderMap,
    ApiQuery(params): ApiQuery<FeedParams>,
) -> ApiResult<Response> {
    let from_header = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<i64>().ok());
    let from_query = match params.after.as_deref() {
        None => None,
        Some(raw) => Some(
            raw.parse::<i64>()
                .ok()
                .filter(|n| *n >= 0)
                .ok_or_else(|| Error::field("after", "after must be a sequence number from 0"))?,
        ),
    };
    // An unreadable Last-Event-ID costs a full backlog, never a missed event.
    let after = from_header.or(from_query).unwrap_or(0);
    let stream = publisher.subscribe(after).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/event-stream"),
            (header::CACHE_CONTROL, "no-store"),
            (HeaderName::from_static("x-accel-buffering"), "no"),
        ],
        Body::from_stream(stream),
    )
        .into_response())
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
