//! Traces and logs as an operator reads them: a request continues its caller's W3C trace, every
//! log line of the request carries the trace id, the verifier's JWKS fetch for it carries the
//! trace on; probes and scrapes stay out of the logs at info; spans reach an OTLP collector when
//! one is configured.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use service_kit::test_db::TestDb;

use crate::helpers::*;
use crate::process::{Service, run};
use crate::recorder::{Answer, Recorder};

const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const CALLER_SPAN: &str = "00f067aa0ba902b7";

fn log_dir(test: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("system-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The JSON lines of a log file (anything else, e.g. a panic message, is skipped).
fn json_lines(path: &std::path::Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

fn span_field<'a>(line: &'a Value, field: &str) -> Option<&'a str> {
    line["span"][field].as_str()
}

fn trace_id_of(traceparent: &str) -> &str {
    traceparent.split('-').nth(1).unwrap_or_default()
}

async fn access_token(client: &reqwest::Client, auth: &Service, email: &str) -> String {
    login(client, &auth.base, email).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_continues_its_callers_trace_in_its_log_lines_and_its_jwks_fetch() {
    let _serial = SERIAL.lock().await;
    let dir = log_dir("traces");
    let (auth_log, todo_log) = (dir.join("auth.log"), dir.join("todo.log"));
    let (auth_db, todo_db) = (TestDb::new().await, TestDb::new().await);
    let mut env = auth_env(&auth_db);
    env.extend([("LOG_FORMAT", "json".into()), ("RUST_LOG", "info".into())]);
    let mut auth =
        Service::spawn_logging("auth-service", "AUTH_LISTEN_ADDR", &env, Some(&auth_log));
    auth.wait_ready(START).await;
    let client = reqwest::Client::new();
    let jwks_now = || async {
        client
            .get(auth.url("/.well-known/jwks.json"))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap()
            .to_vec()
    };

    // The verifier's JWKS comes through a recorder, which serves what the test last copied from
    // the issuer and keeps the request headers; a max-age of an hour rules out scheduled fetches.
    let served = Arc::new(Mutex::new(jwks_now().await));
    let jwks = Recorder::start({
        let served = Arc::clone(&served);
        move |request| {
            if request.path != "/.well-known/jwks.json" {
                return Answer::status(404);
            }
            Answer {
                status: 200,
                headers: vec![
                    ("content-type", "application/json".into()),
                    ("cache-control", "max-age=3600".into()),
                ],
                body: served.lock().unwrap().clone(),
            }
        }
    })
    .await;
    let mut todo_env = todo_env(&todo_db, jwks.url("/.well-known/jwks.json"));
    todo_env.extend([
        ("LOG_FORMAT", "json".into()),
        ("RUST_LOG", "info,shared_claims=debug".into()),
    ]);
    let mut todo = Service::spawn_logging(
        "todo-service",
        "TODO_LISTEN_ADDR",
        &todo_env,
        Some(&todo_log),
    );
    todo.wait_ready(START).await;

    // A key the verifier has not seen signs the token: it fetches the JWKS for the request.
    register(&client, &auth.base, "trace@example.com").await;
    let first_kid = kid(&access_token(&client, &auth, "trace@example.com").await);
    let (rotated, output) = run("auth-service", &["keys", "rotate"], &auth_env(&auth_db));
    assert!(rotated, "{output}");
    let started = std::time::Instant::now();
    let token = loop {
        let token = access_token(&client, &auth, "trace@example.com").await;
        if kid(&token) != first_kid {
            break token;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the new key never signed"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    *served.lock().unwrap() = jwks_now().await;

    let traced = client
        .get(todo.url("/api/todos"))
        .bearer_auth(&token)
        .header("traceparent", format!("00-{TRACE_ID}-{CALLER_SPAN}-01"))
        .header("x-request-id", "traced-request")
        .send()
        .await
        .unwrap();
    assert_eq!(traced.status(), 200);
    let untraced = client
        .get(todo.url("/api/todos"))
        .bearer_auth(&token)
        .header("x-request-id", "untraced-request")
        .send()
        .await
        .unwrap();
    assert_eq!(untraced.status(), 200);
    for service in [&auth, &todo] {
        for path in ["/healthz", "/readyz", "/metrics"] {
            client.get(service.url(path)).send().await.unwrap();
        }
    }

    // The JWKS fetch made for the request carries its trace, under the verifier's own span;
    // the fetch at start (no request) began a trace of its own.
    let fetches: Vec<String> = jwks
        .requests()
        .iter()
        .filter(|r| r.path == "/.well-known/jwks.json")
        .map(|r| r.headers.get("traceparent").cloned().unwrap_or_default())
        .collect();
    assert!(fetches.len() >= 2, "{fetches:?}");
    let on_request = fetches.last().unwrap();
    assert_eq!(trace_id_of(on_request), TRACE_ID, "{on_request}");
    assert!(!on_request.contains(CALLER_SPAN), "{on_request}");
    let at_start = &fetches[0];
    assert_eq!(trace_id_of(at_start).len(), 32, "{at_start}");
    assert_ne!(trace_id_of(at_start), TRACE_ID);

    tokio::time::sleep(Duration::from_millis(300)).await;
    auth.terminate();
    todo.terminate();
    auth.wait_exit(Duration::from_secs(20)).await;
    todo.wait_exit(Duration::from_secs(20)).await;
    let todo_lines = json_lines(&todo_log);

    // Every line of the traced request carries the caller's trace id.
    let of_request = |id: &str| -> Vec<&Value> {
        todo_lines
            .iter()
            .filter(|l| span_field(l, "request_id") == Some(id))
            .collect()
    };
    let traced_lines = of_request("traced-request");
    assert!(
        !traced_lines.is_empty(),
        "no log line of the traced request"
    );
    for line in &traced_lines {
        assert_eq!(span_field(line, "trace_id"), Some(TRACE_ID), "{line}");
    }
    assert!(
        traced_lines
            .iter()
            .any(|l| l["message"] == "request completed" && span_field(l, "user_id").is_some()),
        "{traced_lines:?}"
    );
    // So does the JWKS fetch's line, under the fetch's span.
    assert!(
        todo_lines
            .iter()
            .any(|l| l["span"]["name"] == "jwks_fetch"
                && span_field(l, "trace_id") == Some(TRACE_ID)),
        "no line of the JWKS fetch under the request's trace"
    );
    // A request without a trace gets one of its own.
    let untraced_lines = of_request("untraced-request");
    assert!(!untraced_lines.is_empty());
    let own = span_field(untraced_lines[0], "trace_id").unwrap();
    assert!(
        own.len() == 32 && own != TRACE_ID && own != "0".repeat(32),
        "{own}"
    );

    // Probes and scrapes are not logged at info, on either service (a probe that finds the
    // service not ready still says why).
    for line in todo_lines.iter().chain(json_lines(&auth_log).iter()) {
        let route = span_field(line, "route").unwrap_or_default();
        assert!(
            !["/healthz", "/readyz", "/metrics"].contains(&route)
                || line["message"] != "request completed",
            "a probe was logged: {line}"
        );
    }
    let completed = |lines: &[Value]| {
        lines
            .iter()
            .filter(|l| l["message"] == "request completed")
            .count()
    };
    assert!(
        completed(&todo_lines) >= 2,
        "the other requests were logged"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spans_reach_an_otlp_collector_when_one_is_configured() {
    let _serial = SERIAL.lock().await;
    let collector = Recorder::start(|_| Answer {
        status: 200,
        headers: vec![("content-type", "application/x-protobuf".into())],
        body: Vec::new(),
    })
    .await;
    let db = TestDb::new().await;
    let mut env = auth_env(&db);
    env.push(("OTEL_EXPORTER_OTLP_ENDPOINT", collector.base.clone()));
    // Logs quieter than the spans: export does not depend on them.
    env.push(("RUST_LOG", "warn".into()));
    let mut auth = Service::spawn("auth-service", "AUTH_LISTEN_ADDR", &env);
    auth.wait_ready(START).await;
    let answer = reqwest::Client::new()
        .get(auth.url("/.well-known/jwks.json"))
        .header("traceparent", format!("00-{TRACE_ID}-{CALLER_SPAN}-01"))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    // A stop flushes what the batch holds.
    auth.terminate();
    assert!(auth.wait_exit(Duration::from_secs(20)).await.success());

    let trace_bytes: Vec<u8> = (0..16)
        .map(|i| u8::from_str_radix(&TRACE_ID[2 * i..2 * i + 2], 16).unwrap())
        .collect();
    let exports: Vec<_> = collector
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path == "/v1/traces")
        .collect();
    assert!(!exports.is_empty(), "nothing was exported");
    assert_eq!(
        exports[0].headers.get("content-type").map(String::as_str),
        Some("application/x-protobuf")
    );
    assert!(
        exports
            .iter()
            .any(|r| r.body.windows(16).any(|w| w == trace_bytes)),
        "no exported span belongs to the caller's trace"
    );
}
