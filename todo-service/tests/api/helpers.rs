//! Spawns the real service on port 0 against a fresh database (SQLite, or PostgreSQL when
//! `TEST_DATABASE_URL` is set) and a JWKS server the test controls; typed client helpers.

use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::Duration;

use reqwest::header::CONTENT_TYPE;
use reqwest::{Method, StatusCode};
use secrecy::SecretString;
use serde_json::{Value, json};
use service_kit::db::DbConfig;
use service_kit::settings::LogFormat;
use service_kit::test_db::TestDb;
pub use service_kit::test_http::Reply;
use service_kit::timestamp::Timestamp;
use shared_claims::test_util::{JwksServer, TestKey, access_claims, access_header};
use todo_service::store::TodoStore;
use todo_service::todos::{Todo, TodoId};
use todo_service::{App, Settings};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub const ISSUER: &str = "https://auth.test";
pub const AUDIENCE: &str = "todo-api";

/// RSA keys are slow to generate: every test of the binary shares these.
pub fn key() -> &'static TestKey {
    static KEY: OnceLock<TestKey> = OnceLock::new();
    KEY.get_or_init(TestKey::generate)
}

pub fn other_key() -> &'static TestKey {
    static KEY: OnceLock<TestKey> = OnceLock::new();
    KEY.get_or_init(TestKey::generate)
}

/// Logs only when asked: `TEST_LOG=1 cargo test`.
fn init_logs() {
    if std::env::var_os("TEST_LOG").is_some() {
        // Kept for the whole test process: the log writer runs until it exits.
        std::mem::forget(service_kit::telemetry::init(
            LogFormat::Pretty,
            "todo-service",
        ));
    }
}

/// A caller: a user id and an access token for it.
#[derive(Debug, Clone)]
pub struct User {
    pub id: String,
    pub token: String,
}

/// How to start the app; [`TestApp::spawn`] uses the defaults.
#[derive(Debug, Clone)]
pub struct Options {
    pub min_refresh_secs: u64,
    pub max_stale_secs: u64,
    /// The JWKS server's `Cache-Control`.
    pub jwks_cache_control: Option<String>,
    /// The JWKS server's delay per answer.
    pub jwks_delay: Duration,
    pub cors_origins: Vec<String>,
    /// Wait for `/readyz` before returning.
    pub wait_ready: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            min_refresh_secs: 1,
            max_stale_secs: 86_400,
            jwks_cache_control: None,
            jwks_delay: Duration::ZERO,
            cors_origins: Vec::new(),
            wait_ready: true,
        }
    }
}

pub struct TestApp {
    pub addr: SocketAddr,
    pub base: String,
    pub client: reqwest::Client,
    pub jwks: JwksServer,
    pub db: TestDb,
    shutdown: Option<oneshot::Sender<()>>,
    pub task: Option<JoinHandle<()>>,
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        Self::spawn_with(Options::default()).await
    }

    pub async fn spawn_with(options: Options) -> TestApp {
        init_logs();
        let db = TestDb::new().await;
        let jwks = JwksServer::start(vec![key().jwk()]).await;
        if let Some(cache_control) = &options.jwks_cache_control {
            jwks.set_cache_control(cache_control);
        }
        jwks.set_delay(options.jwks_delay);

        let mut settings = Settings::defaults();
        settings.listen_addr = "127.0.0.1:0".parse().unwrap();
        settings.database_url = SecretString::from(db.url.clone());
        settings.db_max_connections = 4;
        settings.issuer = ISSUER.to_owned();
        settings.audience = AUDIENCE.to_owned();
        settings.jwks_url = Some(jwks.url());
        settings.jwks_min_refresh_secs = options.min_refresh_secs;
        settings.jwks_max_stale_secs = options.max_stale_secs;
        settings.cors_origins.0 = options.cors_origins.clone();

        let app = App::build(settings).await.expect("the app builds");
        let addr = app.local_addr();
        assert_eq!(app.port(), addr.port());
        let (shutdown, stop) = oneshot::channel::<()>();
        let task = tokio::spawn(app.run_until_stopped(async move {
            let _ = stop.await;
        }));
        let app = TestApp {
            addr,
            base: format!("http://{addr}"),
            client: reqwest::Client::new(),
            jwks,
            db,
            shutdown: Some(shutdown),
            task: Some(task),
        };
        if options.wait_ready {
            app.wait_ready().await;
        }
        app
    }

    /// Polls `/readyz` until it answers 200 (5 s at most).
    pub async fn wait_ready(&self) {
        for _ in 0..250 {
            if self.get("/readyz", None).await.status == StatusCode::OK {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("the app did not become ready");
    }

    /// Polls until `/readyz` answers `status`, up to `within`.
    pub async fn wait_readyz(&self, status: StatusCode, within: Duration) {
        let started = std::time::Instant::now();
        while started.elapsed() < within {
            if self.get("/readyz", None).await.status == status {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("/readyz did not answer {status} within {within:?}");
    }

    /// Asks the app to stop (as SIGTERM would).
    pub fn stop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }

    // Tokens and users.

    /// An access token from the test's key with `overrides` over valid claims.
    pub fn token(&self, overrides: Value) -> String {
        key().access_token(ISSUER, AUDIENCE, overrides)
    }

    pub fn user(&self) -> User {
        self.with_role("user")
    }

    pub fn admin(&self) -> User {
        self.with_role("admin")
    }

    fn with_role(&self, role: &str) -> User {
        let id = uuid::Uuid::new_v4().to_string();
        let token = self.token(json!({"sub": id, "role": role}));
        User { id, token }
    }

    /// A token of `user` signed by `key` (e.g. a rotated key).
    pub fn token_signed_by(&self, key: &TestKey, user: &User) -> String {
        key.sign(
            access_header(&key.kid),
            &access_claims(ISSUER, AUDIENCE, json!({"sub": user.id, "role": "user"})),
        )
    }

    // Requests.

    pub async fn request(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        Reply::read(request.send().await.expect("request sent")).await
    }

    /// A request with a raw body and content type (or none).
    pub async fn raw(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        content_type: Option<&str>,
        body: impl Into<reqwest::Body>,
    ) -> Reply {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.base))
            .body(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(content_type) = content_type {
            request = request.header(CONTENT_TYPE, content_type);
        }
        Reply::read(request.send().await.expect("request sent")).await
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Reply {
        self.request(Method::GET, path, token, None).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Reply {
        self.request(Method::POST, path, token, Some(body)).await
    }

    pub async fn patch(&self, path: &str, token: Option<&str>, body: Value) -> Reply {
        self.request(Method::PATCH, path, token, Some(body)).await
    }

    pub async fn put(&self, path: &str, token: Option<&str>, body: Value) -> Reply {
        self.request(Method::PUT, path, token, Some(body)).await
    }

    pub async fn delete(&self, path: &str, token: Option<&str>) -> Reply {
        self.request(Method::DELETE, path, token, None).await
    }

    // Typed helpers.

    /// Creates a todo for `user` and returns it (asserting 201).
    pub async fn create_todo(&self, user: &User, body: Value) -> Value {
        let reply = self.post("/api/todos", Some(&user.token), body).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
        reply.body
    }

    /// Creates `n` todos titled `{prefix} {i}` (i from 0), oldest first.
    pub async fn create_todos(&self, user: &User, prefix: &str, n: usize) -> Vec<Value> {
        let mut created = Vec::with_capacity(n);
        for i in 0..n {
            created.push(
                self.create_todo(user, json!({"title": format!("{prefix} {i}")}))
                    .await,
            );
        }
        created
    }

    /// `GET /api/todos{query}` for `user`, asserting 200.
    pub async fn list(&self, user: &User, query: &str) -> Value {
        let reply = self
            .get(&format!("/api/todos{query}"), Some(&user.token))
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        reply.body
    }

    /// A store on the test's database, for seeding rows with chosen times.
    pub async fn store(&self) -> TodoStore {
        let db = service_kit::db::connect(&DbConfig::new(self.db.url.clone()))
            .await
            .expect("connect to the test database");
        TodoStore::new(db)
    }

    /// Inserts `n` todos for `user_id`, all created at `created_at` (µs), ids generated.
    pub async fn seed(
        &self,
        user_id: &str,
        n: usize,
        created_at: i64,
        completed: bool,
    ) -> Vec<String> {
        let store = self.store().await;
        let mut ids = Vec::with_capacity(n);
        for i in 0..n {
            let todo = Todo {
                id: TodoId::generate(),
                user_id: user_id.to_owned(),
                title: format!("seeded {i}"),
                description: String::new(),
                completed,
                created_at: Timestamp(created_at),
                updated_at: Timestamp(created_at),
            };
            store.insert(&todo).await.expect("seed a todo");
            ids.push(todo.id.into_string());
        }
        store.connection().clone().close().await.expect("close");
        ids
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The ids of a list response's todos, in order.
pub fn ids(list: &Value) -> Vec<String> {
    list["todos"]
        .as_array()
        .expect("a todos array")
        .iter()
        .map(|t| t["id"].as_str().expect("an id").to_owned())
        .collect()
}

/// An RFC 3339 time of a response, parsed (their text does not sort: the fraction varies in
/// length).
pub fn instant(value: &Value) -> time::OffsetDateTime {
    let text = value.as_str().expect("a time string");
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .expect("RFC 3339")
}

/// The titles of a list response's todos, in order.
pub fn titles(list: &Value) -> Vec<String> {
    list["todos"]
        .as_array()
        .expect("a todos array")
        .iter()
        .map(|t| t["title"].as_str().expect("a title").to_owned())
        .collect()
}
