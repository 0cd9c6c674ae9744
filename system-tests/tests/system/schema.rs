//! A binary newer than its database's schema (its migration not run yet, as in a rolling
//! release whose init container has not finished) is alive but never ready, until migrated.

use std::time::Duration;

use sea_orm::{ConnectionTrait, Statement};
use service_kit::test_db::TestDb;

use crate::helpers::*;
use crate::process::{Service, run};

/// Forgets the newest migration, as if this binary's last one had not run yet.
async fn unapply_newest_migration(db: &TestDb) {
    let conn = service_kit::db::connect(&service_kit::db::DbConfig::new(db.url.clone()))
        .await
        .unwrap();
    conn.execute_raw(Statement::from_string(
        conn.get_database_backend(),
        "DELETE FROM seaql_migrations WHERE version = (SELECT MAX(version) FROM seaql_migrations)",
    ))
    .await
    .unwrap();
    conn.close().await.unwrap();
}

async fn readiness(client: &reqwest::Client, service: &Service) -> (u16, String) {
    let response = client.get(service.url("/readyz")).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

async fn wait_alive(client: &reqwest::Client, service: &Service) {
    eventually("alive", START, || async {
        client
            .get(service.url("/healthz"))
            .send()
            .await
            .is_ok_and(|r| r.status() == 200)
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_binary_newer_than_its_schema_is_not_ready_until_migrated() {
    let _serial = SERIAL.lock().await;
    let client = reqwest::Client::new();

    // The auth-service.
    let auth_db = TestDb::new().await;
    let mut env = auth_env(&auth_db);
    let (migrated, _) = run("auth-service", &["migrate"], &env);
    assert!(migrated);
    unapply_newest_migration(&auth_db).await;
    env.push(("AUTH_AUTO_MIGRATE", "false".into()));
    let auth = Service::spawn("auth-service", "AUTH_LISTEN_ADDR", &env);
    wait_alive(&client, &auth).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (status, body) = readiness(&client, &auth).await;
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("schema_behind"), "{body}");
    let (migrated, _) = run("auth-service", &["migrate"], &env);
    assert!(migrated);
    eventually("the auth-service is ready once migrated", START, || async {
        readiness(&client, &auth).await.0 == 200
    })
    .await;

    // The todo-service (keys from that auth-service, so only the schema is missing).
    let todo_db = TestDb::new().await;
    let mut env = todo_env(&todo_db, auth.url("/.well-known/jwks.json"));
    let (migrated, _) = run("todo-service", &["migrate"], &env);
    assert!(migrated);
    unapply_newest_migration(&todo_db).await;
    env.push(("TODO_AUTO_MIGRATE", "false".into()));
    let todo = Service::spawn("todo-service", "TODO_LISTEN_ADDR", &env);
    wait_alive(&client, &todo).await;
    eventually("the todo-service holds keys", START, || async {
        !readiness(&client, &todo)
            .await
            .1
            .contains("no_signing_keys")
    })
    .await;
    let (status, body) = readiness(&client, &todo).await;
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("schema_behind"), "{body}");
    let (migrated, _) = run("todo-service", &["migrate"], &env);
    assert!(migrated);
    eventually("the todo-service is ready once migrated", START, || async {
        readiness(&client, &todo).await.0 == 200
    })
    .await;
}
