//! The real auth-service and todo-service together, in this process, each on its own port and
//! database: for the tests that need tokens from the issuer and what it revokes.

use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use secrecy::SecretString;
use serde_json::{Value, json};
use service_kit::test_db::TestDb;
use tokio::sync::oneshot;

pub const ISSUER: &str = "http://auth.stack";
pub const PASSWORD: &str = "correct horse battery staple";
pub const ADMIN: &str = "admin@example.com";

/// A service running in a task of this process.
pub struct Running {
    pub base: String,
    pub addr: std::net::SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Running {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Stops serving and waits until it has.
    pub async fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

fn run<F>(addr: std::net::SocketAddr, serve: impl FnOnce(oneshot::Receiver<()>) -> F) -> Running
where
    F: std::future::Future<Output = ()> + Send + 'static,
{
    let (stop, stopped) = oneshot::channel::<()>();
    Running {
        base: format!("http://{addr}"),
        addr,
        stop: Some(stop),
        task: Some(tokio::spawn(serve(stopped))),
    }
}

/// An auth-service on `db` (with a bootstrap admin), on `addr` (port 0: any).
pub async fn auth_service(db: &TestDb, addr: &str) -> Running {
    let mut settings = auth_service::Settings::defaults();
    settings.database_url = db.url.clone().into();
    settings.listen_addr = addr.parse().unwrap();
    settings.issuer = ISSUER.into();
    settings.key_encryption_key = Some(
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
            .to_owned()
            .into(),
    );
    settings.bootstrap_admin_email = Some(ADMIN.into());
    settings.bootstrap_admin_password = Some(PASSWORD.to_owned().into());
    let app = auth_service::App::build(settings).await.unwrap();
    let addr = app.local_addr();
    run(addr, |stopped| {
        app.run_until_stopped(async {
            let _ = stopped.await;
        })
    })
}

/// A todo-service on `db`, trusting the JWKS at `jwks_url` (and the feed beside it).
pub async fn todo_service(db: &TestDb, jwks_url: String) -> Running {
    let mut settings = todo_service::Settings::defaults();
    settings.listen_addr = "127.0.0.1:0".parse().unwrap();
    settings.database_url = SecretString::from(db.url.clone());
    settings.issuer = ISSUER.into();
    settings.jwks_url = Some(jwks_url);
    let app = todo_service::App::build(settings).await.unwrap();
    let addr = app.local_addr();
    run(addr, |stopped| {
        app.run_until_stopped(async {
            let _ = stopped.await;
        })
    })
}

/// Polls `/readyz` until it answers 200.
pub async fn wait_ready(client: &reqwest::Client, service: &Running) {
    for _ in 0..200 {
        if let Ok(ready) = client.get(service.url("/readyz")).send().await
            && ready.status() == StatusCode::OK
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("{} was not ready", service.base);
}

/// One login: a session.
#[derive(Debug, Clone)]
pub struct Session {
    pub access: String,
    pub refresh: String,
    pub user_id: String,
}

impl From<Value> for Session {
    fn from(body: Value) -> Self {
        Session {
            access: body["access_token"].as_str().unwrap().to_owned(),
            refresh: body["refresh_token"].as_str().unwrap().to_owned(),
            user_id: body["user"]["id"].as_str().unwrap().to_owned(),
        }
    }
}

/// An auth-service and a todo-service trusting it.
pub struct Stack {
    pub client: reqwest::Client,
    pub auth: Running,
    pub todo: Running,
    pub auth_db: Arc<TestDb>,
    pub todo_db: Arc<TestDb>,
}

impl Stack {
    pub async fn start() -> Stack {
        let (auth_db, todo_db) = (Arc::new(TestDb::new().await), Arc::new(TestDb::new().await));
        let auth = auth_service(&auth_db, "127.0.0.1:0").await;
        let todo = todo_service(&todo_db, auth.url("/.well-known/jwks.json")).await;
        let client = reqwest::Client::new();
        wait_ready(&client, &todo).await;
        Stack {
            client,
            auth,
            todo,
            auth_db,
            todo_db,
        }
    }

    pub async fn register(&self, email: &str) {
        let registered = self
            .client
            .post(self.auth.url("/api/auth/register"))
            .json(&json!({"email": email, "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(registered.status(), 201, "register {email}");
    }

    pub async fn login(&self, email: &str) -> Session {
        self.login_with(email, PASSWORD).await
    }

    pub async fn login_with(&self, email: &str, password: &str) -> Session {
        let response = self
            .client
            .post(self.auth.url("/api/auth/login"))
            .json(&json!({"email": email, "password": password}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "login {email}");
        Session::from(response.json::<Value>().await.unwrap())
    }

    /// Registers and logs in.
    pub async fn user(&self, email: &str) -> Session {
        self.register(email).await;
        self.login(email).await
    }

    pub async fn refresh(&self, refresh_token: &str) -> reqwest::Response {
        self.client
            .post(self.auth.url("/api/auth/refresh"))
            .json(&json!({ "refresh_token": refresh_token }))
            .send()
            .await
            .unwrap()
    }

    /// A bearer POST to the auth-service; its status.
    pub async fn auth_post(&self, path: &str, token: &str, body: Value) -> StatusCode {
        self.client
            .post(self.auth.url(path))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap()
            .status()
    }

    /// An admin PATCH of a user; its status.
    pub async fn admin_patch(&self, admin: &Session, user_id: &str, body: Value) -> StatusCode {
        self.client
            .patch(self.auth.url(&format!("/api/admin/users/{user_id}")))
            .bearer_auth(&admin.access)
            .json(&body)
            .send()
            .await
            .unwrap()
            .status()
    }
}

/// `GET /api/todos` at `todo` with `token`: its status and `WWW-Authenticate`.
pub async fn todos_with(
    client: &reqwest::Client,
    todo: &Running,
    token: &str,
) -> (StatusCode, Option<String>) {
    let response = client
        .get(todo.url("/api/todos"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let challenge = response
        .headers()
        .get("www-authenticate")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    (response.status(), challenge)
}

/// Waits until `todo` refuses `token` with 401 `invalid_token`; returns how long that took.
/// The contract's bound (1 s, p99) is measured by the benchmark (`scripts/bench.sh`); this
/// allows a loaded test machine five.
pub async fn refused_soon(client: &reqwest::Client, todo: &Running, token: &str) -> Duration {
    let started = Instant::now();
    loop {
        let (status, challenge) = todos_with(client, todo, token).await;
        if status == StatusCode::UNAUTHORIZED {
            assert_eq!(
                challenge.as_deref(),
                Some(r#"Bearer error="invalid_token""#)
            );
            return started.elapsed();
        }
        assert_eq!(status, StatusCode::OK, "before the refusal the token works");
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{} still accepts the token after {:?}",
            todo.base,
            started.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Asserts `todo` accepts `token`.
pub async fn accepted(client: &reqwest::Client, todo: &Running, token: &str) {
    let (status, challenge) = todos_with(client, todo, token).await;
    assert_eq!(status, StatusCode::OK, "{challenge:?}");
}

/// The claims of a JWT, unverified (for looking, not for trusting).
pub fn claims(token: &str) -> Value {
    use base64::Engine;
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap()
}
