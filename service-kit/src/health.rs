//! `/healthz` (the process answers), `/readyz` (it can serve), `/metrics`.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;

use crate::Problem;

/// What a service must have to serve: each check returns why it cannot, when it cannot.
pub trait Readiness: Send + Sync + 'static {
    fn check(&self) -> Pin<Box<dyn Future<Output = Result<(), NotReady>> + Send + '_>>;
}

/// Why a service cannot serve: a fixed reason code for anonymous callers of `/readyz`, and the
/// cause, which only the log sees (it may name hosts, users or SQL).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotReady {
    /// A fixed, lower-case code such as `database_unreachable`.
    pub reason: &'static str,
    pub cause: String,
}

impl NotReady {
    pub fn new(reason: &'static str, cause: impl Into<String>) -> Self {
        NotReady {
            reason,
            cause: cause.into(),
        }
    }
}

/// Gauges read from the service's current state when `/metrics` is scraped (pool sizes, the
/// age of the keys held), rather than recorded as events happen.
pub trait Gauges: Send + Sync + 'static {
    /// Sets each gauge to its value now.
    fn sample(&self);
}

/// What the health routes ask of a service.
#[derive(Clone)]
pub struct Probes {
    readiness: Arc<dyn Readiness>,
    gauges: Arc<dyn Gauges>,
}

impl Probes {
    /// The probes of a service whose one state object answers both questions.
    pub fn new<T: Readiness + Gauges>(service: Arc<T>) -> Self {
        Probes {
            readiness: Arc::clone(&service) as Arc<dyn Readiness>,
            gauges: service,
        }
    }
}

/// The health, readiness and metrics routes, with their own state.
pub fn router<S>(probes: Probes) -> Router<S> {
    // Install the recorder now, so that what happens before the first scrape is counted.
    crate::metrics::install();
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .with_state(probes)
}

async fn healthz() -> Response {
    axum::Json(json!({"status": "ok"})).into_response()
}

async fn readyz(State(probes): State<Probes>) -> Response {
    match probes.readiness.check().await {
        Ok(()) => axum::Json(json!({"status": "ready"})).into_response(),
        Err(not_ready) => {
            tracing::warn!(reason = not_ready.reason, cause = %not_ready.cause, "not ready");
            Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "not-ready",
                format!("not ready: {}", not_ready.reason),
            )
            .into_response()
        }
    }
}

async fn metrics(State(probes): State<Probes>) -> Response {
    probes.gauges.sample();
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        crate::metrics::render(),
    )
        .into_response()
}

/// What one service's health routes mean, for its OpenAPI document.
#[derive(Debug, Clone, Copy)]
pub struct HealthDocs {
    /// The summary of `/readyz`: what "ready" means for this service.
    pub ready_when: &'static str,
    /// The description of its 503: what can be missing.
    pub not_ready_when: &'static str,
    /// The summary of `/metrics`: what it counts.
    pub metrics: &'static str,
}

/// `{"status": …}` of the health routes.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
struct HealthStatus {
    /// `ok` (alive) or `ready`.
    status: String,
}

/// The health routes' part of a service's OpenAPI document: these stubs only describe the
/// routes [`router`] serves.
pub fn openapi(docs: HealthDocs) -> utoipa::openapi::OpenApi {
    use utoipa::OpenApi as _;
    let mut spec = HealthApi::openapi();
    for (path, summary) in [("/readyz", docs.ready_when), ("/metrics", docs.metrics)] {
        if let Some(op) = spec.paths.paths.get_mut(path).and_then(|p| p.get.as_mut()) {
            op.summary = Some(summary.to_owned());
            if path == "/readyz"
                && let Some(utoipa::openapi::RefOr::T(not_ready)) =
                    op.responses.responses.get_mut("503")
            {
                not_ready.description = docs.not_ready_when.to_owned();
            }
        }
    }
    spec
}

#[derive(utoipa::OpenApi)]
#[openapi(paths(healthz_doc, readyz_doc, metrics_doc))]
struct HealthApi;

/// Liveness: the process answers.
#[utoipa::path(get, path = "/healthz", tag = "operations", operation_id = "healthz",
    responses(
        (status = 200, description = "Alive", body = HealthStatus),
        crate::openapi::responses::ServerErrors,
    ))]
#[expect(dead_code, reason = "describes the route; `healthz` above serves it")]
async fn healthz_doc() {}

/// Readiness.
#[utoipa::path(get, path = "/readyz", tag = "operations", operation_id = "readyz",
    responses(
        (status = 200, description = "Ready to serve", body = HealthStatus),
        crate::openapi::responses::ServerErrors,
        (status = 503, description = "Not ready", body = Problem, content_type = "application/problem+json"),
    ))]
#[expect(dead_code, reason = "describes the route; `readyz` above serves it")]
async fn readyz_doc() {}

/// Prometheus metrics.
#[utoipa::path(get, path = "/metrics", tag = "operations", operation_id = "metrics",
    responses(
        (status = 200, description = "Prometheus text exposition", body = String, content_type = "text/plain"),
        crate::openapi::responses::ServerErrors,
    ))]
#[expect(dead_code, reason = "describes the route; `metrics` above serves it")]
async fn metrics_doc() {}
