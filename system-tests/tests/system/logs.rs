//! With every log level on, no password, token, reset token or key reaches the logs.

use std::time::Duration;

use crate::process::{Service, TEST_KEK};
use serde_json::{Value, json};
use service_kit::test_db::TestDb;

use crate::helpers::*;
use crate::recorder::{Answer, Recorder};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_password_token_or_key_reaches_the_logs() {
    let _serial = SERIAL.lock().await;
    let dir = tempfile_dir();
    let (auth_log, todo_log) = (dir.join("auth.log"), dir.join("todo.log"));
    let hook = Recorder::start(|_| Answer::status(204)).await;
    let (auth_db, todo_db) = (TestDb::new().await, TestDb::new().await);
    let mut env = auth_env(&auth_db);
    env.push(("AUTH_RESET_WEBHOOK_URL", hook.url("/hook")));
    env.push(("RUST_LOG", "trace".into()));
    env.push(("LOG_FORMAT", "json".into()));
    let mut auth =
        Service::spawn_logging("auth-service", "AUTH_LISTEN_ADDR", &env, Some(&auth_log));
    auth.wait_ready(START).await;
    let mut todo_env = todo_env(&todo_db, auth.url("/.well-known/jwks.json"));
    todo_env.push(("RUST_LOG", "trace".into()));
    let mut todo = Service::spawn_logging(
        "todo-service",
        "TODO_LISTEN_ADDR",
        &todo_env,
        Some(&todo_log),
    );
    todo.wait_ready(START).await;
    let client = reqwest::Client::new();

    let new_password = "an entirely new passphrase";
    let final_password = "the very last passphrase";
    register(&client, &auth.base, "quiet@example.com").await;
    let wrong = "a wrong guess of a password";
    client
        .post(auth.url("/api/auth/login"))
        .json(&json!({"email": "quiet@example.com", "password": wrong}))
        .send()
        .await
        .unwrap();
    let tokens = login(&client, &auth.base, "quiet@example.com").await;
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    let refreshed: Value = refresh(
        &client,
        &auth.base,
        tokens["refresh_token"].as_str().unwrap(),
    )
    .await
    .json()
    .await
    .unwrap();
    refresh(
        &client,
        &auth.base,
        tokens["refresh_token"].as_str().unwrap(),
    )
    .await; // a reuse
    for base in [&auth.base, &todo.base] {
        let path = if *base == auth.base {
            "/api/auth/profile"
        } else {
            "/api/todos"
        };
        client
            .get(format!("{base}{path}"))
            .bearer_auth(&access)
            .send()
            .await
            .unwrap();
        client
            .get(format!("{base}{path}"))
            .bearer_auth("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.")
            .send()
            .await
            .unwrap();
    }
    client
        .post(todo.url("/api/todos"))
        .bearer_auth(&access)
        .json(&json!({"title": "a todo"}))
        .send()
        .await
        .unwrap();
    client
        .post(auth.url("/api/auth/password/change"))
        .bearer_auth(&access)
        .json(&json!({"current_password": PASSWORD, "new_password": new_password}))
        .send()
        .await
        .unwrap();
    client
        .post(auth.url("/api/auth/password/forgot"))
        .json(&json!({"email": "quiet@example.com"}))
        .send()
        .await
        .unwrap();
    eventually("the reset delivery", Duration::from_secs(10), || async {
        !hook.requests().is_empty()
    })
    .await;
    let delivery: Value = serde_json::from_slice(&hook.requests()[0].body).unwrap();
    let reset_token = delivery["token"].as_str().unwrap().to_owned();
    let reset = client
        .post(auth.url("/api/auth/password/reset"))
        .json(&json!({"token": reset_token, "new_password": final_password}))
        .send()
        .await
        .unwrap();
    assert_eq!(reset.status(), 204);

    tokio::time::sleep(Duration::from_millis(300)).await;
    auth.terminate();
    todo.terminate();
    auth.wait_exit(Duration::from_secs(20)).await;
    todo.wait_exit(Duration::from_secs(20)).await;
    let logs = format!(
        "{}\n{}",
        std::fs::read_to_string(&auth_log).unwrap(),
        std::fs::read_to_string(&todo_log).unwrap()
    );
    assert!(logs.lines().count() > 20, "the services did log");
    let secrets = [
        ("a password", PASSWORD),
        ("a wrong password", wrong),
        ("a new password", new_password),
        ("a reset password", final_password),
        ("the access token", access.as_str()),
        ("a refresh token", tokens["refresh_token"].as_str().unwrap()),
        (
            "a rotated refresh token",
            refreshed["refresh_token"].as_str().unwrap(),
        ),
        ("the reset token", reset_token.as_str()),
        ("the key-encryption key", TEST_KEK),
        ("something that looks like a JWT", "eyJ"),
    ];
    for (what, secret) in secrets {
        assert!(!logs.contains(secret), "{what} reached the logs");
    }
}

fn tempfile_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("system-logs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
