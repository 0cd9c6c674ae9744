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

/// The health, readiness and metrics routes, with their own state.
pub fn router<S>(readiness: Arc<dyn Readiness>) -> Router<S> {
    // Install the recorder now, so that what happens before the first scrape is counted.
    let _ = crate::metrics::handle();
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .with_state(readiness)
}

async fn healthz() -> Response {
    axum::Json(json!({"status": "ok"})).into_response()
}

async fn readyz(State(readiness): State<Arc<dyn Readiness>>) -> Response {
    match readiness.check().await {
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

async fn metrics() -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        crate::metrics::render(),
    )
        .into_response()
}
