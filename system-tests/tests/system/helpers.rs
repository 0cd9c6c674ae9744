use std::time::Duration;

use crate::process::TEST_KEK;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};
use service_kit::test_db::TestDb;

pub const ISSUER: &str = "http://auth.replicas.test";
pub const PASSWORD: &str = "correct horse battery staple";
pub const START: Duration = Duration::from_secs(60);

/// One system test at a time: each runs several processes and must not starve another's.
pub static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

pub fn auth_env(db: &TestDb) -> Vec<(&'static str, String)> {
    vec![
        ("AUTH_DATABASE_URL", db.url.clone()),
        ("AUTH_KEY_ENCRYPTION_KEY", TEST_KEK.into()),
        ("AUTH_ISSUER", ISSUER.into()),
        ("AUTH_SIGNING_KEY_PRE_PUBLISH_SECS", "6".into()),
        ("AUTH_KEY_REFRESH_SECS", "1".into()),
    ]
}

pub fn todo_env(db: &TestDb, jwks_url: String) -> Vec<(&'static str, String)> {
    vec![
        ("TODO_DATABASE_URL", db.url.clone()),
        ("TODO_ISSUER", ISSUER.into()),
        ("TODO_JWKS_URL", jwks_url),
        ("TODO_JWKS_MIN_REFRESH_SECS", "1".into()),
    ]
}

pub async fn register(client: &reqwest::Client, base: &str, email: &str) {
    let response = client
        .post(format!("{base}/api/auth/register"))
        .json(&json!({"email": email, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
}

pub async fn login(client: &reqwest::Client, base: &str, email: &str) -> Value {
    let response = client
        .post(format!("{base}/api/auth/login"))
        .json(&json!({"email": email, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

pub async fn refresh(client: &reqwest::Client, base: &str, token: &str) -> reqwest::Response {
    client
        .post(format!("{base}/api/auth/refresh"))
        .json(&json!({ "refresh_token": token }))
        .send()
        .await
        .unwrap()
}

pub fn kid(token: &str) -> String {
    use base64::Engine;
    let header = token.split('.').next().unwrap();
    let header: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(header)
            .unwrap(),
    )
    .unwrap();
    header["kid"].as_str().unwrap().to_owned()
}

/// The first column of every row of `sql`, as strings.
pub async fn strings(db: &TestDb, sql: &str) -> Vec<String> {
    let conn = service_kit::db::connect(&service_kit::db::DbConfig::new(db.url.clone()))
        .await
        .unwrap();
    let rows = conn
        .query_all_raw(Statement::from_string(conn.get_database_backend(), sql))
        .await
        .unwrap();
    conn.close().await.unwrap();
    rows.iter()
        .map(|row| row.try_get_by_index::<String>(0).unwrap())
        .collect()
}

pub async fn eventually<F, Fut>(what: &str, within: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = std::time::Instant::now();
    while started.elapsed() < within {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting until {what}");
}
