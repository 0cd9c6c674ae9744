//! PostgreSQL becomes unreachable (a proxy the test cuts): affected endpoints answer 503
//! problem+json quickly, `/readyz` goes 503, nothing panics, and service resumes by itself when
//! the database returns, with nothing lost or duplicated.

use std::time::{Duration, Instant};

use crate::process::{CuttableProxy, Service};
use serde_json::{Value, json};
use service_kit::test_db::TestDb;

use crate::helpers::*;

/// The test database's URL with its host and port replaced by the proxy's.
fn through(proxy: &CuttableProxy, db: &TestDb) -> String {
    let mut url = url_of(&db.url);
    url.set_host(Some("127.0.0.1")).unwrap();
    url.set_port(Some(proxy.port)).unwrap();
    url.to_string()
}

fn url_of(text: &str) -> reqwest::Url {
    reqwest::Url::parse(text).unwrap()
}

async fn postgres() -> Option<(TestDb, std::net::SocketAddr)> {
    let db = TestDb::new().await;
    if !db.is_postgres() {
        println!("skipped: the database fault tests need TEST_DATABASE_URL (PostgreSQL)");
        return None;
    }
    let url = url_of(&db.url);
    let upstream = format!("{}:{}", url.host_str().unwrap(), url.port().unwrap_or(5432));
    let upstream = tokio::net::lookup_host(upstream)
        .await
        .unwrap()
        .next()
        .unwrap();
    Some((db, upstream))
}

/// Each request is answered 503 problem+json, quickly (the bounded connection-acquire wait).
async fn all_unavailable(client: &reqwest::Client, requests: Vec<reqwest::RequestBuilder>) {
    for request in requests {
        let (status, content_type, took) = status_and_type(client, request).await;
        assert_eq!(status, 503);
        assert_eq!(content_type, "application/problem+json");
        assert!(took < Duration::from_secs(5), "answered after {took:?}");
    }
}

/// Waits until the service's `/readyz` answers `status`.
async fn readiness_becomes(
    client: &reqwest::Client,
    service: &Service,
    status: u16,
    within: Duration,
) {
    eventually(&format!("/readyz answers {status}"), within, || async {
        client
            .get(service.url("/readyz"))
            .send()
            .await
            .unwrap()
            .status()
            == status
    })
    .await;
}

async fn status_and_type(
    client: &reqwest::Client,
    request: reqwest::RequestBuilder,
) -> (u16, String, Duration) {
    let _ = client;
    let started = Instant::now();
    let response = request.send().await.unwrap();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (response.status().as_u16(), content_type, started.elapsed())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_service_answers_503_while_postgres_is_away_and_recovers_by_itself() {
    let _serial = SERIAL.lock().await;
    let Some((db, upstream)) = postgres().await else {
        return;
    };
    let proxy = CuttableProxy::start(upstream).await;
    let mut env = auth_env(&db);
    env.retain(|(k, _)| *k != "AUTH_DATABASE_URL");
    env.push(("AUTH_DATABASE_URL", through(&proxy, &db)));
    env.push(("AUTH_DB_ACQUIRE_TIMEOUT_SECS", "1".into()));
    let mut auth = Service::spawn("auth-service", "AUTH_LISTEN_ADDR", &env);
    auth.wait_ready(START).await;
    let client = reqwest::Client::new();
    register(&client, &auth.base, "before@example.com").await;
    let tokens = login(&client, &auth.base, "before@example.com").await;

    proxy.cut().await;
    all_unavailable(
        &client,
        vec![
            client
                .post(auth.url("/api/auth/register"))
                .json(&json!({"email": "during@example.com", "password": PASSWORD})),
            client
                .post(auth.url("/api/auth/login"))
                .json(&json!({"email": "before@example.com", "password": PASSWORD})),
            client
                .post(auth.url("/api/auth/refresh"))
                .json(&json!({"refresh_token": tokens["refresh_token"]})),
            client
                .get(auth.url("/api/auth/profile"))
                .bearer_auth(tokens["access_token"].as_str().unwrap()),
        ],
    )
    .await;
    readiness_becomes(&client, &auth, 503, Duration::from_secs(10)).await;
    let not_ready: serde_json::Value = client
        .get(auth.url("/readyz"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        not_ready["detail"], "not ready: database_unreachable",
        "a reason code for anonymous callers, never the driver's error text"
    );
    assert_eq!(
        client
            .get(auth.url("/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        client
            .get(auth.url("/.well-known/jwks.json"))
            .send()
            .await
            .unwrap()
            .status(),
        200,
        "verifiers keep getting keys"
    );

    proxy.restore().await;
    readiness_becomes(&client, &auth, 200, Duration::from_secs(20)).await;
    register(&client, &auth.base, "after@example.com").await;
    login(&client, &auth.base, "before@example.com").await;
    login(&client, &auth.base, "after@example.com").await;
    let again = client
        .post(auth.url("/api/auth/register"))
        .json(&json!({"email": "before@example.com", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        again.status(),
        409,
        "the account from before is there, once"
    );
    let users = strings(&db, "SELECT email FROM users ORDER BY email").await;
    assert_eq!(
        users,
        ["after@example.com", "before@example.com"],
        "nothing lost, nothing duplicated"
    );
    assert!(auth.is_running(), "nothing panicked the process away");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn todo_service_answers_503_while_postgres_is_away_and_recovers_by_itself() {
    let _serial = SERIAL.lock().await;
    let Some((todo_db, upstream)) = postgres().await else {
        return;
    };
    let auth_db = TestDb::new().await;
    let mut auth = Service::spawn("auth-service", "AUTH_LISTEN_ADDR", &auth_env(&auth_db));
    auth.wait_ready(START).await;
    let proxy = CuttableProxy::start(upstream).await;
    let mut env = todo_env(&todo_db, auth.url("/.well-known/jwks.json"));
    env.retain(|(k, _)| *k != "TODO_DATABASE_URL");
    env.push(("TODO_DATABASE_URL", through(&proxy, &todo_db)));
    env.push(("TODO_DB_ACQUIRE_TIMEOUT_SECS", "1".into()));
    let mut todo = Service::spawn("todo-service", "TODO_LISTEN_ADDR", &env);
    todo.wait_ready(START).await;
    let client = reqwest::Client::new();
    register(&client, &auth.base, "todo-fault@example.com").await;
    let tokens = login(&client, &auth.base, "todo-fault@example.com").await;
    let token = tokens["access_token"].as_str().unwrap().to_owned();
    let create = |title: &str| {
        client
            .post(todo.url("/api/todos"))
            .bearer_auth(&token)
            .json(&json!({ "title": title }))
    };
    assert_eq!(create("before").send().await.unwrap().status(), 201);

    proxy.cut().await;
    all_unavailable(
        &client,
        vec![
            create("during"),
            client.get(todo.url("/api/todos")).bearer_auth(&token),
        ],
    )
    .await;
    readiness_becomes(&client, &todo, 503, Duration::from_secs(10)).await;

    proxy.restore().await;
    readiness_becomes(&client, &todo, 200, Duration::from_secs(20)).await;
    assert_eq!(create("after").send().await.unwrap().status(), 201);
    let listed: Value = client
        .get(todo.url("/api/todos"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let titles: Vec<&str> = listed["todos"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["title"].as_str().unwrap())
        .collect();
    assert_eq!(
        titles,
        ["after", "before"],
        "nothing lost, nothing duplicated"
    );
    assert!(todo.is_running());
}
