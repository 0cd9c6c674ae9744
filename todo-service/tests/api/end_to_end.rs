//! Against the real auth-service: register and log in there, then use the token here.

use std::time::Duration;

use secrecy::SecretString;
use serde_json::{Value, json};
use service_kit::test_db::TestDb;
use tokio::sync::oneshot;

const ISSUER: &str = "http://auth.e2e";
const PASSWORD: &str = "correct horse battery staple";

struct Running {
    base: String,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = self.task.await;
    }
}

async fn auth_service(db: &TestDb) -> Running {
    let mut settings = auth_service::Settings::defaults();
    settings.database_url = db.url.clone().into();
    settings.listen_addr = "127.0.0.1:0".parse().unwrap();
    settings.issuer = ISSUER.into();
    settings.key_encryption_key = Some(
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
            .to_owned()
            .into(),
    );
    settings.bootstrap_admin_email = Some("admin@example.com".into());
    settings.bootstrap_admin_password = Some(PASSWORD.to_owned().into());
    let app = auth_service::App::build(settings).await.unwrap();
    let base = format!("http://{}", app.local_addr());
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(app.run_until_stopped(async {
        let _ = stopped.await;
    }));
    Running {
        base,
        stop: Some(stop),
        task,
    }
}

async fn todo_service(db: &TestDb, jwks_url: String) -> Running {
    let mut settings = todo_service::Settings::defaults();
    settings.listen_addr = "127.0.0.1:0".parse().unwrap();
    settings.database_url = SecretString::from(db.url.clone());
    settings.issuer = ISSUER.into();
    settings.jwks_url = Some(jwks_url);
    let app = todo_service::App::build(settings).await.unwrap();
    let base = format!("http://{}", app.local_addr());
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(app.run_until_stopped(async {
        let _ = stopped.await;
    }));
    Running {
        base,
        stop: Some(stop),
        task,
    }
}

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
    let auth = auth_service(&auth_db).await;
    let todo = todo_service(&todo_db, format!("{}/.well-known/jwks.json", auth.base)).await;
    let client = reqwest::Client::new();
    for _ in 0..100 {
        let ready = client
            .get(format!("{}/readyz", todo.base))
            .send()
            .await
            .unwrap();
        if ready.status() == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

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
