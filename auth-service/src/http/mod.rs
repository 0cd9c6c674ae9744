//! HTTP: one file per resource, each with its `router()`; handlers parse, call the domain, map.

pub mod account;
pub mod admin;
pub mod auth;
pub mod caller;
pub mod client;
pub mod dto;
pub mod error;
pub mod password;
pub mod state;
pub mod well_known;

use axum::Router;
use service_kit::health::{HealthDocs, Probes};
use service_kit::layers::HttpConfig;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use state::AppState;

#[derive(OpenApi)]
#[openapi(
    // Referenced by the `Tokens` response, which does not register it itself.
    components(schemas(dto::TokenBody)),
    info(title = "auth-service", description = "Accounts, sessions and RS256 tokens; publishes its signing keys as a JWKS."),
    tags(
        (name = "auth", description = "Register, log in, refresh, log out"),
        (name = "account", description = "The bearer's own account"),
        (name = "password", description = "Forgotten passwords"),
        (name = "admin", description = "User administration and the audit log"),
        (name = "keys", description = "What verifiers read"),
        (name = "operations", description = "Liveness, readiness and metrics"),
    )
)]
struct ApiDoc;

/// The API routes and their OpenAPI description, generated from the handlers.
pub fn api() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let mut doc = ApiDoc::openapi();
    doc.merge(service_kit::health::openapi(HealthDocs {
        ready_when: "Readiness: the database answers.",
        not_ready_when: "Not ready: the database is unreachable or no signing key is active",
        metrics: "Prometheus metrics (HTTP requests, logins, refreshes, password hashing, reset deliveries).",
    }));
    OpenApiRouter::with_openapi(doc)
        .merge(auth::router())
        .merge(account::router())
        .merge(password::router())
        .merge(admin::router())
        .merge(well_known::router())
        .split_for_parts()
}

/// The whole application: API, health, metrics, docs, and the shared middleware.
pub fn router(state: AppState, probes: Probes, http: &HttpConfig) -> Router {
    let (api, spec) = api();
    let spec = service_kit::openapi::with_bearer_scheme(spec);
    let app = api
        .with_state(state)
        .merge(service_kit::health::router(probes))
        .merge(service_kit::openapi::router(spec));
    service_kit::layers::apply(app, http)
}
