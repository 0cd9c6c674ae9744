//! The axum extractor: the contract's 401/403 with RFC 6750 challenges.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use serde_json::{Value, json};
use shared_claims::test_util::JwksServer;
use shared_claims::{AuthError, Authenticator, JwksConfig, Permission, Principal, VerifierConfig};

use crate::helpers::*;

async fn whoami(principal: Principal) -> String {
    principal.user_id().to_owned()
}

async fn reports(principal: Principal) -> Result<&'static str, AuthError> {
    principal.require(Permission::ViewReports)?;
    Ok("reports")
}

struct App {
    base: String,
    client: reqwest::Client,
    _jwks: JwksServer,
}

async fn app() -> App {
    let jwks = JwksServer::start(vec![key().jwk()]).await;
    let auth = Arc::new(
        Authenticator::new(
            VerifierConfig::new(ISSUER, AUDIENCE, LEEWAY),
            JwksConfig::new(jwks.url()),
        )
        .unwrap(),
    );
    auth.start();
    for _ in 0..100 {
        if auth.jwks().unwrap().holds_keys() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let router = Router::new()
        .route("/whoami", get(whoami))
        .route("/reports", get(reports))
        .with_state(auth);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    App {
        base,
        client: reqwest::Client::new(),
        _jwks: jwks,
    }
}

async fn get_with(app: &App, path: &str, authorization: Option<&str>) -> reqwest::Response {
    let mut request = app.client.get(format!("{}{path}", app.base));
    if let Some(value) = authorization {
        request = request.header("authorization", value);
    }
    request.send().await.unwrap()
}

fn challenge(response: &reqwest::Response) -> String {
    response.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_owned()
}

async fn problem(response: reqwest::Response) -> Value {
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    response.json().await.unwrap()
}

#[tokio::test]
async fn no_token_gets_401_with_a_plain_bearer_challenge() {
    let app = app().await;
    for authorization in [None, Some("Basic dXNlcjpwYXNz")] {
        let response = get_with(&app, "/whoami", authorization).await;
        assert_eq!(response.status(), 401);
        assert_eq!(challenge(&response), "Bearer");
        let body = problem(response).await;
        assert_eq!(body["status"], 401);
        assert!(
            body["type"].is_string() && body["title"].is_string() && body["detail"].is_string()
        );
    }
}

#[tokio::test]
async fn an_invalid_token_gets_401_invalid_token() {
    let app = app().await;
    let expired = token(json!({"exp": now() - 3600}));
    for authorization in ["Bearer nonsense", "Bearer ", &format!("Bearer {expired}")] {
        let response = get_with(&app, "/whoami", Some(authorization)).await;
        assert_eq!(response.status(), 401, "{authorization}");
        assert_eq!(challenge(&response), r#"Bearer error="invalid_token""#);
        assert_eq!(problem(response).await["status"], 401);
    }
}

#[tokio::test]
async fn a_valid_token_reaches_the_handler_with_its_principal() {
    let app = app().await;
    let token = token(json!({"sub": "user-42"}));
    for scheme in ["Bearer", "bearer"] {
        let response = get_with(&app, "/whoami", Some(&format!("{scheme} {token}"))).await;
        assert_eq!(response.status(), 200);
        assert_eq!(response.text().await.unwrap(), "user-42");
    }
}

#[tokio::test]
async fn a_missing_permission_gets_403_insufficient_scope() {
    let app = app().await;
    let user = token(json!({"role": "user"}));
    let response = get_with(&app, "/reports", Some(&format!("Bearer {user}"))).await;
    assert_eq!(response.status(), 403);
    assert_eq!(challenge(&response), r#"Bearer error="insufficient_scope""#);
    assert_eq!(problem(response).await["status"], 403);

    let admin = token(json!({"role": "admin"}));
    let response = get_with(&app, "/reports", Some(&format!("Bearer {admin}"))).await;
    assert_eq!(response.status(), 200);
}
