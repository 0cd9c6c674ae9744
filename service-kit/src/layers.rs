//! The middleware every route runs through, outermost first:
//! `nosniff` → request id → request span and metrics → panic guard → CORS → timeout → body limit.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderName, HeaderValue, Method, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use tower::{Layer, Service};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowOrigin, Cors, CorsLayer};
use tower_http::set_header::SetResponseHeaderLayer;

use crate::problem;
use crate::settings::MAX_BODY_BYTES;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
/// W3C Trace Context: a browser client may continue its own trace into the services.
const TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");
const TRACESTATE: HeaderName = HeaderName::from_static("tracestate");

#[derive(Debug, Clone)]
pub struct HttpConfig {
    pub cors_origins: Vec<String>,
    /// A request (body included) that takes longer is answered 503.
    pub request_timeout: Duration,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            cors_origins: Vec::new(),
            request_timeout: Duration::from_secs(30),
        }
    }
}

/// The request id of this request, for handlers that want to log or echo it.
#[derive(Debug, Clone)]
pub struct RequestId(pub HeaderValue);

/// Wraps `router` (all routes and the fallback) in the shared middleware.
pub fn apply<S>(router: Router<S>, config: &HttpConfig) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    let timeout = config.request_timeout;
    router
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn(limit_body))
        .layer(middleware::from_fn(move |req: Request, next: Next| {
            enforce_timeout(timeout, req, next)
        }))
        .layer(PreflightOnly(cors(&config.cors_origins)))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(middleware::from_fn(observe))
        .layer(middleware::from_fn(request_id))
        // Every answer, errors included: a browser must never guess a type our header denies.
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
}

/// Echoes a client's `X-Request-Id` of 1–128 visible ASCII characters, else makes one.
async fn request_id(mut req: Request, next: Next) -> Response {
    let id = req
        .headers()
        .get(&REQUEST_ID)
        .filter(|v| is_acceptable_request_id(v.as_bytes()))
        .cloned()
        .unwrap_or_else(|| {
            HeaderValue::from_str(&uuid::Uuid::new_v4().to_string())
                .unwrap_or(HeaderValue::from_static("unknown"))
        });
    req.extensions_mut().insert(RequestId(id.clone()));
    let mut response = next.run(req).await;
    response.headers_mut().insert(REQUEST_ID, id);
    response
}

pub fn is_acceptable_request_id(bytes: &[u8]) -> bool {
    (1..=128).contains(&bytes.len()) && bytes.iter().all(|b| (0x21..=0x7e).contains(b))
}

/// One span per request (request id, method, route, status, latency) and the HTTP metrics.
async fn observe(req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let request_id = req
        .extensions()
        .get::<RequestId>()
        .and_then(|id| id.0.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let trace = crate::trace::request_trace(req.headers());
    // Every field the span will have is given here or left empty: the JSON log format
    // re-parses a span's fields each time one is recorded later (only `user_id` is, by the
    // bearer extractor). The outcome goes on the completion line instead.
    let span = tracing::info_span!(
        "request",
        request_id = %request_id,
        trace_id = trace.trace_id().map(tracing::field::display),
        method = %method,
        route = %route,
        user_id = tracing::field::Empty,
    );
    let context = trace.attach(&span);
    let response = crate::trace::in_request(next.run(req), span.clone(), context).await;
    let status = response.status();
    let elapsed = started.elapsed();
    let _entered = span.enter();
    let (code, latency_ms) = (status.as_u16(), elapsed.as_secs_f64() * 1e3);
    if status.is_server_error() {
        tracing::error!(status = code, latency_ms, "request failed");
    } else if is_probe(&route) {
        // Probes and scrapes come every few seconds from every kubelet and Prometheus: at info
        // they would drown the requests that matter.
        tracing::debug!(status = code, latency_ms, "request completed");
    } else {
        tracing::info!(status = code, latency_ms, "request completed");
    }
    crate::metrics::record_request(method.as_str(), &route, status.as_u16(), elapsed);
    response
}

fn is_probe(route: &str) -> bool {
    matches!(route, "/healthz" | "/readyz" | "/metrics")
}

/// A body announced larger than the limit is refused before a byte of it is read; one that
/// arrives larger without announcing it is cut off by `DefaultBodyLimit` in the extractors.
async fn limit_body(req: Request, next: Next) -> Response {
    let announced = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if announced.is_some_and(|len| len > MAX_BODY_BYTES as u64) {
        return problem::too_large().into_response();
    }
    next.run(req).await
}

async fn enforce_timeout(timeout: Duration, req: Request, next: Next) -> Response {
    match tokio::time::timeout(timeout, next.run(req)).await {
        Ok(response) => response,
        Err(_) => problem::timeout().into_response(),
    }
}

/// Whether `req` is a CORS preflight (Fetch standard): `OPTIONS` with `Origin` and
/// `Access-Control-Request-Method`.
fn is_preflight<B>(req: &Request<B>) -> bool {
    req.method() == Method::OPTIONS
        && req.headers().contains_key(header::ORIGIN)
        && req
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
}

/// The CORS layer, but an `OPTIONS` request that is not a preflight passes it by and gets the
/// route's answer (405 with `Allow`, like any method a route lacks): `CorsLayer` alone would
/// answer every `OPTIONS` with an empty 200 that no operation documents.
#[derive(Clone)]
struct PreflightOnly(CorsLayer);

impl<S: Clone> Layer<S> for PreflightOnly {
    type Service = PreflightOnlyService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        PreflightOnlyService {
            cors: self.0.layer(inner.clone()),
            inner,
        }
    }
}

#[derive(Clone)]
struct PreflightOnlyService<S> {
    cors: Cors<S>,
    inner: S,
}

impl<S, B, R> Service<Request<B>> for PreflightOnlyService<S>
where
    S: Service<Request<B>, Response = axum::http::Response<R>> + Clone,
    S::Future: Send + 'static,
    S::Error: 'static,
    R: Default + Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        match self.cors.poll_ready(cx) {
            Poll::Ready(Ok(())) => self.inner.poll_ready(cx),
            other => other,
        }
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        if req.method() == Method::OPTIONS && !is_preflight(&req) {
            Box::pin(self.inner.call(req))
        } else {
            Box::pin(self.cors.call(req))
        }
    }
}

fn cors(origins: &[String]) -> CorsLayer {
    let allowed: Vec<HeaderValue> = origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(allowed))
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
        ])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            REQUEST_ID,
            TRACEPARENT,
            TRACESTATE,
        ])
        // A browser client must read the challenge to tell an expired token from a refusal.
        .expose_headers([
            REQUEST_ID,
            header::LOCATION,
            header::RETRY_AFTER,
            header::WWW_AUTHENTICATE,
        ])
        .max_age(Duration::from_secs(600))
}

fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("a handler panicked");
    problem::internal_error()
}

async fn not_found() -> Response {
    problem::not_found().into_response()
}

async fn method_not_allowed() -> Response {
    problem::method_not_allowed().into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::StatusCode;
    use tower::ServiceExt;

    fn app() -> Router {
        let config = HttpConfig {
            cors_origins: vec!["http://app.example".to_owned()],
            ..HttpConfig::default()
        };
        apply(
            Router::new().route("/x", axum::routing::get(|| async { "x" })),
            &config,
        )
    }

    fn options(headers: &[(&str, &str)]) -> Request {
        let mut req = Request::builder().method(Method::OPTIONS).uri("/x");
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        req.body(Body::empty()).unwrap()
    }

    #[tokio::test]
    async fn an_options_that_is_not_a_preflight_is_405_with_allow() {
        for headers in [&[][..], &[("origin", "http://app.example")][..]] {
            let res = app().oneshot(options(headers)).await.unwrap();
            assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
            assert!(
                res.headers()[header::ALLOW]
                    .to_str()
                    .unwrap()
                    .contains("GET")
            );
            assert_eq!(
                res.headers()[header::CONTENT_TYPE],
                "application/problem+json"
            );
            assert!(res.headers().contains_key(REQUEST_ID));
        }
    }

    #[tokio::test]
    async fn a_preflight_is_answered_by_cors() {
        let res = app()
            .oneshot(options(&[
                ("origin", "http://app.example"),
                ("access-control-request-method", "GET"),
            ]))
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(
            res.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN],
            "http://app.example"
        );
        let res = app()
            .oneshot(options(&[
                ("origin", "http://app.example"),
                ("access-control-request-method", "GET"),
                ("access-control-request-headers", "traceparent,tracestate"),
            ]))
            .await
            .unwrap();
        let allowed = res.headers()[header::ACCESS_CONTROL_ALLOW_HEADERS]
            .to_str()
            .unwrap();
        assert!(allowed.contains("traceparent") && allowed.contains("tracestate"));
        let res = app()
            .oneshot(
                Request::get("/x")
                    .header("origin", "http://app.example")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(
            res.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN],
            "http://app.example"
        );
    }

    #[test]
    fn request_ids_are_visible_ascii_up_to_128() {
        assert!(is_acceptable_request_id(b"abc-123"));
        assert!(is_acceptable_request_id(&[b'x'; 128]));
        assert!(!is_acceptable_request_id(&[b'x'; 129]));
        assert!(!is_acceptable_request_id(b""));
        assert!(!is_acceptable_request_id(b"has space"));
        assert!(!is_acceptable_request_id("é".as_bytes()));
    }
}
