//! What every service does: health, readiness, metrics, request ids, the OpenAPI document,
//! CORS, fallbacks, graceful shutdown.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::json;

use service_kit::test_http::Exposition;

use crate::helpers::*;

#[tokio::test]
async fn healthz_and_readyz_answer_200_when_keys_are_held() {
    let app = TestApp::spawn().await;
    let reply = app.get("/healthz", None).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body, json!({"status": "ok"}));
    let reply = app.get("/readyz", None).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body, json!({"status": "ready"}));
}

#[tokio::test]
async fn not_ready_until_the_first_jwks_fetch_succeeds() {
    let app = TestApp::spawn_with(Options {
        jwks_delay: Duration::from_millis(1_500),
        wait_ready: false,
        ..Options::default()
    })
    .await;
    // Alive at once, ready only once keys are held.
    assert_eq!(app.get("/healthz", None).await.status, StatusCode::OK);
    let reply = app.get("/readyz", None).await;
    reply.assert_problem(503);
    assert!(reply.body["detail"].as_str().unwrap().contains("keys"));
    // Meanwhile a token cannot be verified.
    let user = app.user();
    app.get("/api/todos", Some(&user.token))
        .await
        .assert_problem(401);
    app.wait_readyz(StatusCode::OK, Duration::from_secs(5))
        .await;
    assert_eq!(
        app.get("/api/todos", Some(&user.token)).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn metrics_count_token_rejections_by_reason_and_jwks_fetches() {
    let app = TestApp::spawn().await;
    let now = shared_claims::now_unix();
    let expired = app.token(json!({"exp": now - 3600, "nbf": now - 7200, "iat": now - 7200}));
    app.get("/api/todos", Some(&expired))
        .await
        .assert_problem(401);
    app.get("/api/todos", Some("garbage"))
        .await
        .assert_problem(401);
    let user = app.user();
    app.get("/api/todos", Some(&user.token)).await;

    let reply = app.get("/metrics", None).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(
        reply
            .header("content-type")
            .unwrap()
            .starts_with("text/plain")
    );
    let text = &reply.text;
    assert!(text.contains("token_rejections_total{reason="), "{text}");
    assert!(
        text.contains(r#"jwks_fetches_total{outcome="ok"}"#),
        "{text}"
    );
    assert!(text.contains("http_requests_total{"), "{text}");
    assert!(text.contains(r#"route="/api/todos""#), "{text}");
    assert!(!text.contains(&user.token), "a token in the metrics");
}

#[tokio::test]
async fn the_metrics_operators_expect_are_there_and_described() {
    let app = TestApp::spawn().await;
    let user = app.user();
    app.get("/api/todos", Some(&user.token)).await;
    app.get("/api/todos", Some("garbage")).await;
    let metrics = Exposition::parse(&app.get("/metrics", None).await.text);
    metrics.assert_described(&[
        "http_requests_total",
        "http_request_duration_seconds",
        "token_rejections_total",
        "jwks_fetches_total",
        "jwks_age_seconds",
        "jwks_max_stale_seconds",
        "revocation_feed_lag_seconds",
        "revocation_set_entries",
        "process_resident_memory_bytes",
        "process_cpu_seconds_total",
        "process_open_fds",
        "build_info",
        "db_pool_connections",
        "db_pool_max_connections",
    ]);
    assert_eq!(
        metrics.value("build_info", &[("version", env!("CARGO_PKG_VERSION"))]),
        Some(1.0)
    );
    let age = metrics.value("jwks_age_seconds", &[]).unwrap();
    let max_stale = metrics.value("jwks_max_stale_seconds", &[]).unwrap();
    assert!(
        (0.0..max_stale).contains(&age),
        "age {age}, max-stale {max_stale}"
    );
    assert!(metrics.value("db_pool_max_connections", &[]) >= Some(1.0));
}

#[tokio::test]
async fn request_ids_are_echoed_or_generated() {
    let app = TestApp::spawn().await;
    let user = app.user();
    let echoed = app
        .client
        .get(format!("{}/api/todos", app.base))
        .bearer_auth(&user.token)
        .header("x-request-id", "trace-me-123")
        .send()
        .await
        .unwrap();
    assert_eq!(echoed.headers()["x-request-id"], "trace-me-123");

    // Generated when absent, invalid, or too long; on errors too.
    for sent in [None, Some("has space"), Some(&*"x".repeat(129))] {
        let mut request = app.client.get(format!("{}/api/todos", app.base));
        if let Some(sent) = sent {
            request = request.header("x-request-id", sent);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        let id = response.headers()["x-request-id"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            !id.is_empty() && Some(id.as_str()) != sent,
            "{sent:?} → {id}"
        );
    }
    let a = app.get("/healthz", None).await;
    let b = app.get("/healthz", None).await;
    assert_ne!(a.header("x-request-id"), b.header("x-request-id"));
}

#[tokio::test]
async fn the_openapi_document_is_3_1_and_lists_every_route() {
    let app = TestApp::spawn().await;
    let reply = app.get("/openapi.json", None).await;
    assert_eq!(reply.status, StatusCode::OK);
    let spec = &reply.body;
    assert!(
        spec["openapi"].as_str().unwrap().starts_with("3.1."),
        "{}",
        spec["openapi"]
    );
    for (path, methods) in [
        ("/api/todos", &["get", "post"][..]),
        ("/api/todos/{id}", &["get", "patch", "put", "delete"][..]),
        ("/api/admin/todos", &["get"][..]),
        ("/api/admin/reports", &["get"][..]),
        ("/healthz", &["get"][..]),
        ("/readyz", &["get"][..]),
        ("/metrics", &["get"][..]),
    ] {
        for method in methods {
            let op = &spec["paths"][path][method];
            assert!(op.is_object(), "{method} {path} is not documented");
            if path.starts_with("/api/") {
                assert_eq!(op["security"], json!([{"bearer": []}]), "{method} {path}");
                // Every role may use its own todos: only the admin routes can answer 403.
                let admin = path.starts_with("/api/admin/");
                for status in ["401", "403", "500", "503"] {
                    if status == "403" && !admin {
                        assert!(
                            op["responses"]["403"].is_null(),
                            "{method} {path} lists 403"
                        );
                        continue;
                    }
                    assert_eq!(
                        op["responses"][status]["content"]["application/problem+json"]["schema"]["$ref"],
                        "#/components/schemas/Problem",
                        "{method} {path} {status}"
                    );
                }
            }
        }
    }
    let with_body = [
        ("/api/todos", "post"),
        ("/api/todos/{id}", "patch"),
        ("/api/todos/{id}", "put"),
    ];
    for (path, method) in with_body {
        for status in ["400", "413", "415", "422"] {
            assert!(
                spec["paths"][path][method]["responses"][status].is_object(),
                "{method} {path} {status}"
            );
        }
    }
    for method in ["get", "patch", "put", "delete"] {
        let op = &spec["paths"]["/api/todos/{id}"][method];
        assert!(op["responses"]["404"].is_object());
        assert_eq!(op["parameters"][0]["schema"]["type"], "string");
    }
    assert!(
        spec["paths"]["/api/todos"]["post"]["responses"]["201"]["headers"]["Location"].is_object()
    );
    assert_eq!(
        spec["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );

    let docs = app
        .client
        .get(format!("{}/docs/", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(docs.status(), StatusCode::OK);
    assert!(
        docs.text()
            .await
            .unwrap()
            .to_lowercase()
            .contains("swagger")
    );
}

#[tokio::test]
async fn unknown_routes_are_404_and_wrong_methods_405_as_problems() {
    let app = TestApp::spawn().await;
    let user = app.user();
    app.get("/api/nothing", Some(&user.token))
        .await
        .assert_problem(404);
    app.get("/api/todos/", Some(&user.token))
        .await
        .assert_problem(404);
    let reply = app
        .request(Method::DELETE, "/api/todos", Some(&user.token), None)
        .await;
    reply.assert_problem(405);
    let reply = app
        .request(
            Method::POST,
            &format!("/api/todos/{}", uuid::Uuid::now_v7()),
            Some(&user.token),
            Some(json!({})),
        )
        .await;
    reply.assert_problem(405);
    app.request(Method::POST, "/api/admin/reports", Some(&user.token), None)
        .await
        .assert_problem(405);
}

#[tokio::test]
async fn every_answer_forbids_content_type_sniffing() {
    let app = TestApp::spawn().await;
    let user = app.user();
    let answers = [
        app.get("/healthz", None).await,
        app.get("/metrics", None).await,
        app.get("/api/todos", None).await,
        app.get("/api/todos", Some(&user.token)).await,
        app.get("/api/nothing", Some(&user.token)).await,
        app.post("/api/todos", Some(&user.token), json!({"title": ""}))
            .await,
    ];
    for reply in answers {
        assert_eq!(
            reply.header("x-content-type-options"),
            Some("nosniff"),
            "{}",
            reply.status
        );
    }
}

#[tokio::test]
async fn cors_allows_only_the_configured_origins() {
    let app = TestApp::spawn_with(Options {
        cors_origins: vec!["https://app.example".into()],
        ..Options::default()
    })
    .await;
    let preflight = |origin: &'static str| {
        app.client
            .request(Method::OPTIONS, format!("{}/api/todos", app.base))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization,content-type",
            )
            .send()
    };
    let allowed = preflight("https://app.example").await.unwrap();
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://app.example"
    );
    let refused = preflight("https://evil.example").await.unwrap();
    assert!(
        refused
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );

    let user = app.user();
    let response = app
        .client
        .get(format!("{}/api/todos", app.base))
        .bearer_auth(&user.token)
        .header("origin", "https://app.example")
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.headers()["access-control-allow-origin"],
        "https://app.example"
    );
}

#[tokio::test]
async fn shutdown_lets_an_in_flight_request_finish_then_stops() {
    let mut app = TestApp::spawn().await;
    // A slow request: a token naming a new key makes the service fetch the JWKS, which the
    // test's server answers slowly.
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    app.jwks.set_keys(vec![key().jwk(), other_key().jwk()]);
    app.jwks.set_delay(Duration::from_millis(1_500));
    let user = app.user();
    let token = app.token_signed_by(other_key(), &user);
    let client = app.client.clone();
    let url = format!("{}/api/todos", app.base);
    let in_flight = tokio::spawn(async move { client.get(url).bearer_auth(token).send().await });
    tokio::time::sleep(Duration::from_millis(400)).await;

    app.stop();
    let response = in_flight
        .await
        .unwrap()
        .expect("the in-flight request is answered");
    assert_eq!(response.status(), StatusCode::OK);
    let task = app.task.take().unwrap();
    tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .expect("run_until_stopped returns after the drain")
        .unwrap();
    // No longer listening.
    assert!(
        reqwest::Client::new()
            .get(format!("{}/healthz", app.base))
            .send()
            .await
            .is_err()
    );
}

/// The configuration reference documents every setting the binary accepts, subcommands' included.
#[test]
fn every_setting_in_help_is_in_the_configuration_reference() {
    service_kit::test_cli::assert_settings_documented(
        env!("CARGO_BIN_EXE_todo-service").as_ref(),
        include_str!("../../../docs/CONFIGURATION.md"),
        "TODO_JWKS_URL",
    );
}
