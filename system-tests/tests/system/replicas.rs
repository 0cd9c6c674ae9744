//! Two auth and two todo processes, each pair sharing one database, behave as one system.

use std::time::{Duration, Instant};

use crate::process::{Service, run};
use serde_json::{Value, json};
use service_kit::test_db::TestDb;

use crate::helpers::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_auth_and_two_todo_replicas_behave_as_one_system() {
    let _serial = SERIAL.lock().await;
    let (auth_db, todo_db) = (TestDb::new().await, TestDb::new().await);
    let mut auth_a = Service::spawn("auth-service", "AUTH_LISTEN_ADDR", &auth_env(&auth_db));
    let mut auth_b = Service::spawn("auth-service", "AUTH_LISTEN_ADDR", &auth_env(&auth_db));
    auth_a.wait_ready(START).await;
    auth_b.wait_ready(START).await;
    let mut todo_a = Service::spawn(
        "todo-service",
        "TODO_LISTEN_ADDR",
        &todo_env(&todo_db, auth_a.url("/.well-known/jwks.json")),
    );
    let mut todo_b = Service::spawn(
        "todo-service",
        "TODO_LISTEN_ADDR",
        &todo_env(&todo_db, auth_b.url("/.well-known/jwks.json")),
    );
    todo_a.wait_ready(START).await;
    todo_b.wait_ready(START).await;
    let client = reqwest::Client::new();

    // A token from auth A is accepted by todo B; todo A sees what todo B wrote.
    register(&client, &auth_a.base, "rep@example.com").await;
    let tokens = login(&client, &auth_a.base, "rep@example.com").await;
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    // A session that stays live, signed with the first key (the one above ends at the reuse).
    let keeper = login(&client, &auth_a.base, "rep@example.com").await;
    let kept = keeper["access_token"].as_str().unwrap().to_owned();
    let created = client
        .post(todo_b.url("/api/todos"))
        .bearer_auth(&access)
        .json(&json!({"title": "written at B"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let listed: Value = client
        .get(todo_a.url("/api/todos"))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed["todos"][0]["title"], "written at B");

    // A refresh token from A is rotated at B; reusing it afterwards at A is detected.
    let first = tokens["refresh_token"].as_str().unwrap().to_owned();
    let rotated = refresh(&client, &auth_b.base, &first).await;
    assert_eq!(rotated.status(), 200);
    let rotated: Value = rotated.json().await.unwrap();
    assert_eq!(refresh(&client, &auth_a.base, &first).await.status(), 401);
    let successor = rotated["refresh_token"].as_str().unwrap();
    assert_eq!(
        refresh(&client, &auth_b.base, successor).await.status(),
        401,
        "the reuse revoked the session on every replica"
    );

    // One refresh token sent to A and B at the same moment succeeds exactly once.
    for _ in 0..5 {
        let fresh = login(&client, &auth_b.base, "rep@example.com").await;
        let token = fresh["refresh_token"].as_str().unwrap().to_owned();
        let (a, b) = tokio::join!(
            refresh(&client, &auth_a.base, &token),
            refresh(&client, &auth_b.base, &token)
        );
        let mut statuses = [a.status().as_u16(), b.status().as_u16()];
        statuses.sort();
        assert_eq!(statuses, [200, 401]);
    }

    // `keys rotate` against the shared database: both auth replicas publish the key, both
    // switch to it by themselves, and both todo replicas accept its tokens without a restart.
    let old_kid = kid(&access);
    let (rotated_ok, out) = run("auth-service", &["keys", "rotate"], &auth_env(&auth_db));
    assert!(rotated_ok, "{out}");
    let rotated_at = Instant::now();
    let new_kid = out.split_whitespace().nth(1).unwrap().to_owned();
    for auth in [&auth_a, &auth_b] {
        eventually(
            "both auth replicas publish the new key",
            Duration::from_secs(5),
            || async {
                let jwks = client
                    .get(auth.url("/.well-known/jwks.json"))
                    .send()
                    .await
                    .unwrap()
                    .text()
                    .await
                    .unwrap();
                jwks.contains(&new_kid)
            },
        )
        .await;
    }
    let during = login(&client, &auth_a.base, "rep@example.com").await;
    if rotated_at.elapsed() < Duration::from_secs(5) {
        assert_eq!(
            kid(during["access_token"].as_str().unwrap()),
            old_kid,
            "not signing yet"
        );
    }
    tokio::time::sleep(
        Duration::from_secs(6).saturating_sub(rotated_at.elapsed()) + Duration::from_millis(500),
    )
    .await;
    for auth in [&auth_a, &auth_b] {
        let after = login(&client, &auth.base, "rep@example.com").await;
        let token = after["access_token"].as_str().unwrap();
        assert_eq!(kid(token), new_kid);
        for todo in [&todo_a, &todo_b] {
            let response = client
                .get(todo.url("/api/todos"))
                .bearer_auth(token)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200);
        }
    }
    for todo in [&todo_a, &todo_b] {
        let old = client
            .get(todo.url("/api/todos"))
            .bearer_auth(&kept)
            .send()
            .await
            .unwrap();
        assert_eq!(old.status(), 200, "tokens of the retired key still verify");
        let metrics = client
            .get(todo.url("/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(metrics.contains("jwks_fetches_total"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_auth_replicas_started_together_on_an_empty_database_agree() {
    let _serial = SERIAL.lock().await;
    let db = TestDb::new().await;
    let mut replicas: Vec<Service> = (0..3)
        .map(|_| Service::spawn("auth-service", "AUTH_LISTEN_ADDR", &auth_env(&db)))
        .collect();
    for replica in &mut replicas {
        replica.wait_ready(START).await;
    }
    let states = strings(&db, "SELECT state FROM signing_keys").await;
    assert_eq!(states, ["active"], "one key, active");
    let migrations = strings(&db, "SELECT version FROM seaql_migrations").await;
    let mut unique = migrations.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(
        unique.len(),
        migrations.len(),
        "each migration ran once: {migrations:?}"
    );
    use sea_orm_migration::MigratorTrait;
    assert_eq!(
        migrations.len(),
        auth_service::store::migrations::Migrator::migrations().len(),
        "every migration ran: {migrations:?}"
    );

    // Every replica publishes that one key and signs with it.
    let client = reqwest::Client::new();
    register(&client, &replicas[0].base, "three@example.com").await;
    let mut kids = Vec::new();
    for replica in &replicas {
        let tokens = login(&client, &replica.base, "three@example.com").await;
        kids.push(kid(tokens["access_token"].as_str().unwrap()));
    }
    kids.dedup();
    assert_eq!(kids.len(), 1);
}
