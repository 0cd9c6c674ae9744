use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use auth_service::{App, Settings};
use axum::extract::State;
use axum::http::StatusCode;
use reqwest::{Response, header};
use serde_json::{Value, json};
use service_kit::test_db::TestDb;
use service_kit::test_http::Reply;

pub const PASSWORD: &str = "correct horse battery staple";

/// A running auth-service on its own database.
pub struct TestApp {
    pub base: String,
    /// `http://…` of the management listener, when `management_addr` was set.
    pub management: Option<String>,
    pub client: reqwest::Client,
    pub settings: Settings,
    pub db: Arc<TestDb>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

/// Settings for a test: a fresh database, port 0, a fixed key-encryption key.
pub fn settings(db: &TestDb) -> Settings {
    let mut settings = Settings::defaults();
    settings.database_url = db.url.clone().into();
    settings.listen_addr = "127.0.0.1:0".parse().unwrap();
    settings.key_encryption_key = Some(
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
            .to_owned()
            .into(),
    );
    settings.issuer = "http://auth.test".into();
    settings
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        Self::spawn_with(|_| {}).await
    }

    pub async fn spawn_with(configure: impl FnOnce(&mut Settings)) -> TestApp {
        let db = Arc::new(TestDb::new().await);
        let mut settings = settings(&db);
        configure(&mut settings);
        Self::start(settings, db).await
    }

    /// Starts another instance on `settings` (e.g. the same database as a running one).
    pub async fn start(settings: Settings, db: Arc<TestDb>) -> TestApp {
        // Quiet unless asked: TEST_LOG=1 RUST_LOG=debug cargo test ...
        if std::env::var_os("TEST_LOG").is_some() {
            // Kept for the whole test process: the log writer runs until it exits.
            std::mem::forget(service_kit::telemetry::init(
                service_kit::settings::LogFormat::Pretty,
                "auth-service",
            ));
        }
        let app = App::build(settings.clone())
            .await
            .expect("the service starts");
        let base = format!("http://{}", app.local_addr());
        let management = app.management_addr().map(|addr| format!("http://{addr}"));
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(app.run_until_stopped(async {
            let _ = rx.await;
        }));
        TestApp {
            base,
            management,
            client: reqwest::Client::new(),
            settings,
            db,
            shutdown: Some(tx),
            task: Some(task),
        }
    }

    /// Stops serving (draining in-flight requests) and waits until it has.
    pub async fn stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn post(&self, path: &str, body: Value) -> Response {
        self.client
            .post(self.url(path))
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    pub async fn post_auth(&self, path: &str, token: &str, body: Value) -> Response {
        self.client
            .post(self.url(path))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    pub async fn get(&self, path: &str, token: &str) -> Response {
        self.client
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    pub async fn patch(&self, path: &str, token: &str, body: Value) -> Response {
        self.client
            .patch(self.url(path))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    pub async fn register(&self, email: &str) -> Value {
        let response = self
            .post(
                "/api/auth/register",
                json!({"email": email, "password": PASSWORD}),
            )
            .await;
        assert_eq!(response.status(), 201, "register {email}");
        response.json().await.unwrap()
    }

    pub async fn login(&self, email: &str, password: &str) -> Response {
        self.post(
            "/api/auth/login",
            json!({"email": email, "password": password}),
        )
        .await
    }

    /// Registers and logs in; returns the login answer.
    pub async fn user(&self, email: &str) -> Tokens {
        self.register(email).await;
        self.tokens(email, PASSWORD).await
    }

    pub async fn tokens(&self, email: &str, password: &str) -> Tokens {
        let response = self.login(email, password).await;
        let status = response.status();
        let body: Value = response.json().await.unwrap();
        assert_eq!(status, 200, "login {email}: {body}");
        Tokens::from(body)
    }

    pub async fn refresh(&self, refresh_token: &str) -> Response {
        self.post(
            "/api/auth/refresh",
            json!({ "refresh_token": refresh_token }),
        )
        .await
    }

    /// An admin, made with the domain API on the same database (a second instance with
    /// bootstrap settings would be overkill).
    pub async fn admin(&self, email: &str) -> Tokens {
        let db = service_kit::db::connect(&service_kit::db::DbConfig::new(self.db.url.clone()))
            .await
            .unwrap();
        let hasher = auth_service::app::password_hasher(&self.settings).unwrap();
        auth_service::accounts::Accounts::new(db.clone(), hasher)
            .ensure_admin(email, PASSWORD.to_owned().into())
            .await
            .unwrap();
        db.close().await.unwrap();
        self.tokens(email, PASSWORD).await
    }

    pub async fn metrics(&self) -> String {
        self.client
            .get(self.url("/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    /// The audit events of the log, newest first, as an admin sees them.
    pub async fn audit_events(&self, admin: &Tokens, user_id: Option<&str>) -> Vec<Value> {
        let path = match user_id {
            Some(id) => format!("/api/admin/audit?per_page=100&user_id={id}"),
            None => "/api/admin/audit?per_page=100".to_owned(),
        };
        let body: Value = self.get(&path, &admin.access).await.json().await.unwrap();
        body["events"].as_array().unwrap().clone()
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

#[derive(Debug, Clone)]
pub struct Tokens {
    pub access: String,
    pub refresh: String,
    pub user_id: String,
    pub body: Value,
}

impl From<Value> for Tokens {
    fn from(body: Value) -> Self {
        Tokens {
            access: body["access_token"].as_str().unwrap().to_owned(),
            refresh: body["refresh_token"].as_str().unwrap().to_owned(),
            user_id: body["user"]["id"].as_str().unwrap().to_owned(),
            body,
        }
    }
}

/// Asserts a problem+json answer with `status`, and returns its body.
#[track_caller]
pub fn problem(response: Response, status: u16) -> impl std::future::Future<Output = Value> {
    let caller = std::panic::Location::caller();
    async move {
        let reply = Reply::read(response).await;
        if reply.status.as_u16() != status {
            panic!(
                "{caller}: expected {status}, got {}: {}",
                reply.status, reply.text
            );
        }
        reply.assert_problem(status);
        reply.body
    }
}

/// The fields a 422 names.
pub fn error_fields(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| e["field"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
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

pub fn header(token: &str) -> Value {
    use base64::Engine;
    let header = token.split('.').next().unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(header)
            .unwrap(),
    )
    .unwrap()
}

/// A webhook receiver the test controls: records every attempt (headers and raw body) and the
/// JSON body of each one it accepts; answers 204, or whatever status the test sets.
#[derive(Clone)]
pub struct Webhook {
    pub addr: SocketAddr,
    received: Arc<Mutex<Vec<Value>>>,
    answer: Arc<Mutex<StatusCode>>,
    attempts: Arc<Mutex<Vec<(header::HeaderMap, axum::body::Bytes)>>>,
    redirects: Arc<Mutex<usize>>,
}

impl Webhook {
    pub async fn start() -> Webhook {
        let webhook = Webhook {
            addr: "127.0.0.1:0".parse().unwrap(),
            received: Arc::default(),
            answer: Arc::new(Mutex::new(StatusCode::NO_CONTENT)),
            attempts: Arc::default(),
            redirects: Arc::default(),
        };
        let listener = tokio::net::TcpListener::bind(webhook.addr).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let router = axum::Router::new()
            .route("/hook", axum::routing::post(receive))
            .route("/moved", axum::routing::post(redirect))
            .with_state(webhook.clone());
        tokio::spawn(async move { axum::serve(listener, router).await });
        Webhook { addr, ..webhook }
    }

    pub fn url(&self) -> String {
        format!("http://{}/hook", self.addr)
    }

    /// A URL on the receiver that answers 307 to the hook.
    pub fn redirecting_url(&self) -> String {
        format!("http://{}/moved", self.addr)
    }

    pub fn redirects(&self) -> usize {
        *self.redirects.lock().unwrap()
    }

    /// Answers 500 (`true`) or 204 from now on.
    pub fn fail(&self, failing: bool) {
        self.answer_with(if failing {
            StatusCode::INTERNAL_SERVER_ERROR
        } else {
            StatusCode::NO_CONTENT
        });
    }

    pub fn answer_with(&self, status: StatusCode) {
        *self.answer.lock().unwrap() = status;
    }

    pub fn received(&self) -> Vec<Value> {
        self.received.lock().unwrap().clone()
    }

    pub fn attempts(&self) -> usize {
        self.attempts.lock().unwrap().len()
    }

    /// The headers and raw body of every attempt so far.
    pub fn attempt_log(&self) -> Vec<(header::HeaderMap, axum::body::Bytes)> {
        self.attempts.lock().unwrap().clone()
    }

    /// Waits for the `n`th delivery and returns it.
    pub async fn wait_for(&self, n: usize) -> Value {
        for _ in 0..200 {
            if let Some(body) = self.received().get(n - 1) {
                return body.clone();
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("no webhook delivery #{n}");
    }
}

async fn redirect(
    State(webhook): State<Webhook>,
) -> (StatusCode, [(header::HeaderName, &'static str); 1]) {
    *webhook.redirects.lock().unwrap() += 1;
    (
        StatusCode::TEMPORARY_REDIRECT,
        [(header::LOCATION, "/hook")],
    )
}

async fn receive(
    State(webhook): State<Webhook>,
    headers: header::HeaderMap,
    body: axum::body::Bytes,
) -> StatusCode {
    webhook
        .attempts
        .lock()
        .unwrap()
        .push((headers, body.clone()));
    let answer = *webhook.answer.lock().unwrap();
    if answer.is_success() {
        let json: Value = serde_json::from_slice(&body).expect("a JSON delivery");
        webhook.received.lock().unwrap().push(json);
    }
    answer
}

pub async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..200 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting until {what}");
}
