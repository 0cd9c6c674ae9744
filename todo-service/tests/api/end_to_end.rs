//! Against the real auth-service: register and log in there, then use the token here.

use serde_json::{Value, json};
use service_kit::test_db::TestDb;

use crate::stack::{PASSWORD, auth_service, todo_service, wait_ready};

async fn login(client: &reqwest::Client, auth: &str, email: &str) -> Value {
    let response = client
        .post(format!("{auth}/api/auth/login"))
        .json(&json!({"email": email, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

#[tokio::test]
async fn tokens_from_the_real_auth_service_work_here_and_outlive_its_outage() {
    let (auth_db, todo_db) = (TestDb::new().await, TestDb::new().await);
    let mut auth = auth_service(&auth_db, "127.0.0.1:0").await;
    let mut todo = todo_service(&todo_db, auth.url("/.well-known/jwks.json")).await;
    let client = reqwest::Client::new();
    wait_ready(&client, &todo).await;

    let registered = client
        .post(format!("{}/api/auth/register", auth.base))
        .json(&json!({"email": "e2e@example.com", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(registered.status(), 201);
    let tokens = login(&client, &auth.base, "e2e@example.com").await;
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
    let user_id = tokens["user"]["id"].as_str().unwrap().to_owned();

    let created = client
        .post(format!("{}/api/todos", todo.base))
        .bearer_auth(&access)
        .json(&json!({"title": "from a real token"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.unwrap();
    assert_eq!(created["user_id"], user_id.as_str());

    // A refresh token of the same issuer is not an access token.
    let refused = client
        .get(format!("{}/api/todos", todo.base))
        .bearer_auth(&refresh)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    assert_eq!(
        refused.headers()["www-authenticate"],
        r#"Bearer error="invalid_token""#
    );

    // The bootstrap admin's token reaches the admin routes here; the user's does not.
    let admin = login(&client, &auth.base, "admin@example.com").await;
    let report = client
        .get(format!("{}/api/admin/reports", todo.base))
        .bearer_auth(admin["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(report.status(), 200);
    let report: Value = report.json().await.unwrap();
    assert_eq!(report["todos"], 1);
    let forbidden = client
        .get(format!("{}/api/admin/reports", todo.base))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    assert_eq!(forbidden.status(), 403);

    // The auth service goes away; issued tokens keep working and the service stays ready.
    auth.stop().await;
    let listed = client
        .get(format!("{}/api/todos", todo.base))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.status(), 200);
    let listed: Value = listed.json().await.unwrap();
    assert_eq!(listed["pagination"]["total"], 1);
    let ready = client
        .get(format!("{}/readyz", todo.base))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 200);
    todo.stop().await;
}
