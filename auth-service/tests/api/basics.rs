//! What every endpoint shares: request ids, problem+json, health, metrics, OpenAPI, limits.

use serde_json::{Value, json};

use service_kit::test_http::Exposition;

use crate::helpers::*;

#[tokio::test]
async fn every_response_carries_a_request_id_echoed_when_acceptable() {
    let app = TestApp::spawn().await;
    let response = app.client.get(app.url("/healthz")).send().await.unwrap();
    let generated = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(uuid::Uuid::parse_str(&generated).is_ok());

    let response = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "trace-123_ABC")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-request-id"], "trace-123_ABC");

    for unacceptable in ["has space".to_owned(), "x".repeat(129)] {
        let response = app
            .client
            .get(app.url("/api/nowhere"))
            .header("x-request-id", &unacceptable)
            .send()
            .await
            .unwrap();
        let id = response.headers()["x-request-id"]
            .to_str()
            .unwrap()
            .to_owned();
        assert_ne!(id, unacceptable);
        assert!(uuid::Uuid::parse_str(&id).is_ok());
        problem(response, 404).await;
    }
}

#[tokio::test]
async fn unknown_routes_are_404_and_wrong_methods_405_as_problems() {
    let app = TestApp::spawn().await;
    problem(app.client.get(app.url("/nope")).send().await.unwrap(), 404).await;
    problem(
        app.client
            .delete(app.url("/api/auth/login"))
            .send()
            .await
            .unwrap(),
        405,
    )
    .await;
}

#[tokio::test]
async fn health_readiness_and_the_metrics_operators_expect() {
    let app = TestApp::spawn_with(|s| s.login_max_failures = 1).await;
    let health = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
    app.user("mo@example.com").await;
    problem(app.login("mo@example.com", "wrong password").await, 401).await;
    problem(app.login("mo@example.com", PASSWORD).await, 429).await;

    let text = app.metrics().await;
    let metrics = Exposition::parse(&text);
    metrics.assert_described(&[
        "http_requests_total",
        "http_request_duration_seconds",
        "logins_total",
        "argon2_queue_depth",
        "process_resident_memory_bytes",
        "process_cpu_seconds_total",
        "process_open_fds",
        "build_info",
        "db_pool_connections",
        "db_pool_max_connections",
    ]);
    assert!(text.contains(r#"route="/api/auth/login""#));
    assert!(metrics.value("logins_total", &[("outcome", "limited")]) >= Some(1.0));
    assert_eq!(
        metrics.value("build_info", &[("version", env!("CARGO_PKG_VERSION"))]),
        Some(1.0)
    );
    assert!(metrics.value("process_resident_memory_bytes", &[]) > Some(1e6));
    assert!(metrics.value("process_open_fds", &[]) > Some(0.0));
    assert!(metrics.value("db_pool_max_connections", &[]) >= Some(1.0));
    for state in ["in_use", "idle"] {
        assert!(
            metrics
                .value("db_pool_connections", &[("state", state)])
                .is_some()
        );
    }
}

#[tokio::test]
async fn bodies_over_64_kib_are_413_before_they_are_read() {
    let app = TestApp::spawn().await;
    let big = json!({"email": "a@example.com", "password": "x".repeat(70_000)}).to_string();
    let response = app
        .client
        .post(app.url("/api/auth/register"))
        .header("content-type", "application/json")
        .body(big.clone())
        .send()
        .await
        .unwrap();
    problem(response, 413).await;
    // Without a Content-Length (chunked), the limit still holds, as problem+json.
    let answer = chunked_post(&app, "/api/auth/register", None, big.as_bytes()).await;
    answer.assert_too_large();
    // Logout reads its optional body itself: the same answer there.
    let user = app.user("big@example.com").await;
    let answer = chunked_post(&app, "/api/auth/logout", Some(&user.access), big.as_bytes()).await;
    answer.assert_too_large();
    assert_eq!(
        app.refresh(&user.refresh).await.status(),
        200,
        "nothing changed"
    );
}

/// What a raw connection read back: the status line and headers, lower-cased.
pub struct RawAnswer {
    pub status: u16,
    pub head: String,
}

impl RawAnswer {
    #[track_caller]
    pub fn assert_too_large(&self) {
        assert_eq!(self.status, 413, "{}", self.head);
        assert!(
            self.head.contains("content-type: application/problem+json"),
            "{}",
            self.head
        );
    }
}

/// POSTs `body` with `Transfer-Encoding: chunked` over a raw connection (no `Content-Length`).
pub async fn chunked_post(
    app: &TestApp,
    path: &str,
    bearer: Option<&str>,
    body: &[u8],
) -> RawAnswer {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = app.base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let authorization = bearer
        .map(|token| format!("Authorization: Bearer {token}\r\n"))
        .unwrap_or_default();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n{authorization}Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    for chunk in body.chunks(8_192) {
        let mut frame = format!("{:x}\r\n", chunk.len()).into_bytes();
        frame.extend_from_slice(chunk);
        frame.extend_from_slice(b"\r\n");
        if stream.write_all(&frame).await.is_err() {
            break; // the server may close once it has refused the body
        }
    }
    let _ = stream.write_all(b"0\r\n\r\n").await;
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response).await;
    let text = String::from_utf8_lossy(&response).to_ascii_lowercase();
    let head = text.split("\r\n\r\n").next().unwrap_or("").to_owned();
    let status = head
        .split_whitespace()
        .nth(1)
        .unwrap_or("0")
        .parse()
        .unwrap();
    RawAnswer { status, head }
}

#[tokio::test]
async fn the_openapi_document_is_3_1_and_lists_every_route() {
    let app = TestApp::spawn().await;
    let spec: Value = app
        .client
        .get(app.url("/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(spec["openapi"].as_str().unwrap().starts_with("3.1"));
    let paths = spec["paths"].as_object().unwrap();
    for path in [
        "/api/auth/register",
        "/api/auth/login",
        "/api/auth/refresh",
        "/api/auth/logout",
        "/api/auth/logout-all",
        "/api/auth/profile",
        "/api/auth/password/change",
        "/api/auth/password/forgot",
        "/api/auth/password/reset",
        "/api/admin/users",
        "/api/admin/users/{id}",
        "/api/admin/audit",
        "/.well-known/jwks.json",
        "/.well-known/oauth-authorization-server",
        "/.well-known/openid-configuration",
        "/healthz",
        "/readyz",
        "/metrics",
    ] {
        assert!(paths.contains_key(path), "{path} missing");
    }
    assert_eq!(
        app.client
            .get(app.url("/docs/"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

#[tokio::test]
async fn cors_allows_only_configured_origins() {
    let app = TestApp::spawn_with(|s| s.cors_origins = "https://app.example.com".into()).await;
    let preflight = |origin: &'static str| {
        app.client
            .request(reqwest::Method::OPTIONS, app.url("/api/auth/login"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .send()
    };
    let allowed = preflight("https://app.example.com").await.unwrap();
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://app.example.com"
    );
    let refused = preflight("https://evil.example.com").await.unwrap();
    assert!(
        refused
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
}

/// What a schema-driven fuzzer sends (scripts/fuzz-api.sh): documented 4xx, never a 5xx, on
/// SQLite and on PostgreSQL (which refuses a NUL in text and a key longer than its column).
#[tokio::test]
async fn hostile_names_emails_and_bodies_are_4xx() {
    let app = TestApp::spawn().await;
    let body = problem(
        app.post(
            "/api/auth/register",
            json!({"email": "nul@example.com", "password": PASSWORD, "first_name": "a\u{0}b"}),
        )
        .await,
        422,
    )
    .await;
    assert_eq!(error_fields(&body), ["first_name"]);
    let tokens = app.user("hal@example.com").await;
    let body = problem(
        app.patch(
            "/api/auth/profile",
            &tokens.access,
            json!({"last_name": "x\u{0}"}),
        )
        .await,
        422,
    )
    .await;
    assert_eq!(error_fields(&body), ["last_name"]);
    // Trimmed, 100 characters fit whatever surrounds them.
    let padded = format!("\u{a0} {} \n", "n".repeat(100));
    let response = app
        .patch(
            "/api/auth/profile",
            &tokens.access,
            json!({"first_name": padded}),
        )
        .await;
    assert_eq!(response.status(), 200);
    let user: Value = response.json().await.unwrap();
    assert_eq!(user["first_name"], "n".repeat(100));

    // Not an address: the same 401 as an unknown one, and counted.
    for email in [
        "a\u{0}@example.com".to_owned(),
        format!("{}@example.com", "a".repeat(60_000)),
    ] {
        problem(app.login(&email, PASSWORD).await, 401).await;
    }

    // `null` is no body; an array is not one either. (Refused bodies end nothing; the last
    // call ends the session.)
    let logout = |body: &'static str| {
        app.client
            .post(app.url("/api/auth/logout"))
            .bearer_auth(&tokens.access)
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    problem(logout("[null]").await.unwrap(), 422).await;
    problem(logout("[null").await.unwrap(), 400).await;
    assert_eq!(logout("null").await.unwrap().status(), 204);

    // A plain OPTIONS is a method the route lacks; a CORS preflight is not.
    let response = app
        .client
        .request(reqwest::Method::OPTIONS, app.url("/api/auth/login"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["allow"], "POST");
    problem(response, 405).await;
}

#[tokio::test]
async fn a_management_listener_serves_health_and_metrics_and_nothing_else() {
    let app =
        TestApp::spawn_with(|s| s.management_addr = Some("127.0.0.1:0".parse().unwrap())).await;
    let management = app.management.clone().expect("a management listener");
    for path in ["/healthz", "/readyz", "/metrics"] {
        let here = app
            .client
            .get(format!("{management}{path}"))
            .send()
            .await
            .unwrap();
        assert_eq!(here.status(), 200, "{path} on the management listener");
        let main = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(main.status(), 200, "{path} stays on the main listener");
    }
    for path in [
        "/api/auth/profile",
        "/.well-known/jwks.json",
        "/openapi.json",
    ] {
        let response = app
            .client
            .get(format!("{management}{path}"))
            .send()
            .await
            .unwrap();
        problem(response, 404).await;
    }
}
