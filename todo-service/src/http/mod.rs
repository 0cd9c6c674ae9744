//! HTTP: the routes, their state, and the OpenAPI document generated from the handlers.
//!
//! Data flows one way: a handler extracts (principal, id, query or body), asks the domain to
//! validate, calls the store, and maps the result or the one [`ApiError`](error::ApiError).

pub mod admin;
pub mod dto;
pub mod error;
pub mod todos;
pub mod web;

use std::sync::Arc;

use axum::Router;
use axum::extract::FromRef;
use service_kit::health::{HealthDocs, Probes};
use service_kit::layers::HttpConfig;
use shared_claims::Authenticator;
use utoipa::OpenApi;
use utoipa::openapi::OpenApi as OpenApiDocument;
use utoipa_axum::router::OpenApiRouter;

use crate::store::TodoStore;

/// What handlers share: the store, and the authenticator the [`shared_claims::Principal`]
/// extractor verifies tokens with. Handlers take only the part they use.
#[derive(Debug, Clone, FromRef)]
pub struct AppState {
    pub store: TodoStore,
    pub authenticator: Arc<Authenticator>,
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "todo-service",
        description = "Each user's todos. Every `/api` operation takes an RS256 access token \
                       issued by auth-service (`Authorization: Bearer …`); errors are RFC 9457 \
                       `application/problem+json`."
    ),
    tags(
        (name = "todos", description = "Your own todos"),
        (name = "admin", description = "Every user's todos, and reports (admins)"),
        (name = "operations", description = "Liveness, readiness and metrics")
    )
)]
struct ApiDoc;

fn api() -> OpenApiRouter<AppState> {
    let mut doc = ApiDoc::openapi();
    doc.merge(service_kit::health::openapi(HealthDocs {
        ready_when: "Readiness: the database answers and the signing keys are held.",
        not_ready_when: "Not ready: the database is unreachable or no signing keys are held",
        metrics: "Prometheus metrics (HTTP requests, token rejections by reason, JWKS fetches by outcome).",
    }));
    OpenApiRouter::with_openapi(doc)
        .merge(todos::router())
        .merge(admin::router())
}

/// The OpenAPI 3.1 document served at `/openapi.json`.
pub fn openapi() -> OpenApiDocument {
    let (_, spec) = api().split_for_parts();
    service_kit::openapi::with_bearer_scheme(spec)
}

/// Every route, with the shared middleware (request id, span, metrics, CORS, limits, fallbacks).
pub fn router(
    store: TodoStore,
    authenticator: Arc<Authenticator>,
    probes: Probes,
    http: &HttpConfig,
    web: &web::WebConfig,
) -> Router {
    let (api, spec) = api().split_for_parts();
    let spec = service_kit::openapi::with_bearer_scheme(spec);
    let routes = api
        .with_state(AppState {
            store,
            authenticator,
        })
        .merge(service_kit::health::router(probes))
        .merge(service_kit::openapi::router(spec))
        .merge(web::router(web));
    service_kit::layers::apply(routes, http)
}

#[cfg(test)]
mod tests {
    use super::*;
    use service_kit::pagination::{MAX_PAGE, MAX_PER_PAGE};

    #[test]
    fn the_document_is_openapi_3_1_with_every_operation_secured() {
        let spec = serde_json::to_value(openapi()).unwrap();
        assert!(spec["openapi"].as_str().unwrap().starts_with("3.1"));
        assert_eq!(
            spec["components"]["securitySchemes"]["bearer"]["scheme"],
            "bearer"
        );
        for (path, item) in spec["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                if path.starts_with("/api/") {
                    assert_eq!(
                        op["security"][0]["bearer"],
                        serde_json::json!([]),
                        "{method} {path}"
                    );
                    assert!(op["responses"]["401"].is_object(), "{method} {path}");
                    assert!(op["responses"]["503"].is_object(), "{method} {path}");
                }
            }
        }
    }

    #[test]
    fn documented_bounds_are_the_enforced_ones() {
        let spec = serde_json::to_value(openapi()).unwrap();
        let params = spec["paths"]["/api/todos"]["get"]["parameters"]
            .as_array()
            .unwrap();
        let param =
            |name: &str| params.iter().find(|p| p["name"] == name).unwrap()["schema"].clone();
        assert_eq!(param("page")["maximum"], MAX_PAGE);
        assert_eq!(param("per_page")["maximum"], MAX_PER_PAGE);
        assert_eq!(param("completed")["type"], "boolean");
    }
}
