//! Authentication against the JWKS only: 401s with the right challenge, the auth host going
//! away, key rotation.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::json;
use shared_claims::now_unix;
use shared_claims::test_util::{access_claims, access_header, hmac_token, unsigned_token};

use crate::helpers::*;

const INVALID_TOKEN: &str = r#"Bearer error="invalid_token""#;

#[tokio::test]
async fn no_token_is_401_with_a_plain_bearer_challenge_on_every_route() {
    let app = TestApp::spawn().await;
    let id = uuid::Uuid::now_v7();
    for (method, path) in [
        (Method::GET, "/api/todos".to_owned()),
        (Method::POST, "/api/todos".to_owned()),
        (Method::GET, format!("/api/todos/{id}")),
        (Method::PATCH, format!("/api/todos/{id}")),
        (Method::PUT, format!("/api/todos/{id}")),
        (Method::DELETE, format!("/api/todos/{id}")),
        (Method::GET, "/api/admin/todos".to_owned()),
        (Method::GET, "/api/admin/reports".to_owned()),
    ] {
        let body = (method == Method::POST || method == Method::PATCH || method == Method::PUT)
            .then(|| json!({"title": "t"}));
        let reply = app.request(method.clone(), &path, None, body).await;
        reply.assert_problem(401);
        assert_eq!(
            reply.header("www-authenticate"),
            Some("Bearer"),
            "{method} {path}"
        );
    }
    // Another scheme is no bearer token either.
    let reply = app
        .client
        .get(format!("{}/api/todos", app.base))
        .header("authorization", "Basic dXNlcjpwYXNz")
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(reply.headers()["www-authenticate"], "Bearer");
}

#[tokio::test]
async fn tokens_that_do_not_verify_are_401_invalid_token() {
    let app = TestApp::spawn().await;
    let now = now_unix();
    let sub = uuid::Uuid::new_v4().to_string();

    // A refresh token (typ rt+jwt, aud = issuer) used as an access token.
    let mut refresh_header = access_header(&key().kid);
    refresh_header.typ = Some("rt+jwt".into());
    let refresh = key().sign(
        refresh_header,
        &json!({"iss": ISSUER, "sub": sub, "aud": ISSUER, "exp": now + 3600, "iat": now,
                "jti": "r1", "sid": "s1"}),
    );
    // The same token shape with the access audience still is not an access token.
    let mut refresh_header = access_header(&key().kid);
    refresh_header.typ = Some("rt+jwt".into());
    let refresh_api_aud = key().sign(
        refresh_header,
        &access_claims(ISSUER, AUDIENCE, json!({"sub": sub})),
    );
    let expired =
        app.token(json!({"sub": sub, "exp": now - 3600, "iat": now - 7200, "nbf": now - 7200}));
    let not_yet = app.token(json!({"sub": sub, "nbf": now + 3600}));
    let wrong_issuer = key().access_token("https://evil.test", AUDIENCE, json!({"sub": sub}));
    let wrong_audience = key().access_token(ISSUER, "other-api", json!({"sub": sub}));
    let unknown_role = app.token(json!({"sub": sub, "role": "root"}));
    let no_role = app.token(json!({"sub": sub, "role": null}));
    // Signed by a key the JWKS does not hold, under a kid it does hold.
    let forged = other_key().sign(
        access_header(&key().kid),
        &access_claims(ISSUER, AUDIENCE, json!({"sub": sub})),
    );
    // Signed by a key the JWKS does not hold, under its own kid.
    let unknown_key = other_key().access_token(ISSUER, AUDIENCE, json!({"sub": sub}));
    let none = unsigned_token(
        &json!({"alg": "none", "typ": "at+jwt", "kid": key().kid}),
        &access_claims(ISSUER, AUDIENCE, json!({"sub": sub})),
    );
    let hmac = hmac_token(
        &key().kid,
        key().public_pem.as_bytes(),
        &access_claims(ISSUER, AUDIENCE, json!({"sub": sub})),
    );
    let valid = app.token(json!({"sub": sub}));
    let tampered = {
        let mut parts: Vec<String> = valid.split('.').map(str::to_owned).collect();
        parts[1] = parts[1].chars().rev().collect();
        parts.join(".")
    };

    for (name, token) in [
        ("refresh token", refresh.as_str()),
        (
            "refresh token with the API audience",
            refresh_api_aud.as_str(),
        ),
        ("expired", expired.as_str()),
        ("not yet valid", not_yet.as_str()),
        ("wrong issuer", wrong_issuer.as_str()),
        ("wrong audience", wrong_audience.as_str()),
        ("unknown role", unknown_role.as_str()),
        ("no role", no_role.as_str()),
        ("forged signature", forged.as_str()),
        ("unknown key", unknown_key.as_str()),
        ("alg none", none.as_str()),
        ("HMAC with the public key", hmac.as_str()),
        ("tampered payload", tampered.as_str()),
        ("garbage", "not.a.jwt"),
        ("one segment", "abc"),
    ] {
        let reply = app.get("/api/todos", Some(token)).await;
        assert_eq!(
            reply.status,
            StatusCode::UNAUTHORIZED,
            "{name}: {}",
            reply.text
        );
        reply.assert_problem(401);
        assert_eq!(
            reply.header("www-authenticate"),
            Some(INVALID_TOKEN),
            "{name}"
        );
        assert!(!reply.text.contains(token), "{name}: the token is echoed");
    }
    // The valid one passes.
    assert_eq!(
        app.get("/api/todos", Some(&valid)).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn an_expired_token_within_the_leeway_still_works() {
    let app = TestApp::spawn().await;
    let now = now_unix();
    let token = app.token(json!({"exp": now - 5, "iat": now - 900, "nbf": now - 900}));
    assert_eq!(
        app.get("/api/todos", Some(&token)).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn the_auth_host_stopping_changes_nothing_for_issued_tokens() {
    let mut app = TestApp::spawn_with(Options {
        // Refresh often, so that refreshes fail while the host is down.
        jwks_cache_control: Some("public, max-age=1".into()),
        ..Options::default()
    })
    .await;
    let user = app.user();
    let todo = app.create_todo(&user, json!({"title": "before"})).await;

    app.jwks.stop().await;
    tokio::time::sleep(Duration::from_millis(2_500)).await;

    // A token used before, one never seen (verified with the cached key), and readiness.
    let path = format!("/api/todos/{}", todo["id"].as_str().unwrap());
    assert_eq!(
        app.get(&path, Some(&user.token)).await.status,
        StatusCode::OK
    );
    let fresh = app.token(json!({"sub": user.id}));
    let reply = app
        .post("/api/todos", Some(&fresh), json!({"title": "after"}))
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    assert_eq!(app.get("/readyz", None).await.status, StatusCode::OK);
    assert_eq!(app.list(&user, "").await["pagination"]["total"], 2);
}

#[tokio::test]
async fn past_max_stale_the_keys_are_dropped_until_the_host_returns() {
    let mut app = TestApp::spawn_with(Options {
        jwks_cache_control: Some("max-age=1".into()),
        max_stale_secs: 2,
        ..Options::default()
    })
    .await;
    let user = app.user();
    assert_eq!(
        app.get("/api/todos", Some(&user.token)).await.status,
        StatusCode::OK
    );
    let addr = app.jwks.addr();
    app.jwks.stop().await;

    app.wait_readyz(StatusCode::SERVICE_UNAVAILABLE, Duration::from_secs(6))
        .await;
    let not_ready = app.get("/readyz", None).await;
    assert_eq!(
        not_ready.body["detail"], "not ready: no_signing_keys",
        "a reason code, not the cause"
    );
    let reply = app.get("/api/todos", Some(&user.token)).await;
    reply.assert_problem(401);
    assert_eq!(reply.header("www-authenticate"), Some(INVALID_TOKEN));

    // The host comes back on the same address: keys, readiness and tokens return by themselves.
    let server = shared_claims::test_util::JwksServer::start_on(addr, vec![key().jwk()]).await;
    app.wait_readyz(StatusCode::OK, Duration::from_secs(6))
        .await;
    assert_eq!(
        app.get("/api/todos", Some(&user.token)).await.status,
        StatusCode::OK
    );
    drop(server);
}

#[tokio::test]
async fn a_rotated_key_is_picked_up_by_itself() {
    let app = TestApp::spawn().await;
    let user = app.user();
    let old = user.token.clone();
    assert_eq!(
        app.get("/api/todos", Some(&old)).await.status,
        StatusCode::OK
    );

    // The issuer publishes a new key next to the old one and signs with it; past the refresh
    // cool-down (1 s here), a token naming the new kid makes the service fetch the JWKS again.
    app.jwks.set_keys(vec![other_key().jwk(), key().jwk()]);
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let hits = app.jwks.hits();
    let new = app.token_signed_by(other_key(), &user);
    let reply = app.get("/api/todos", Some(&new)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(app.jwks.hits(), hits + 1, "one fetch for the new kid");
    // Both work while both are published; the new kid needs no further fetch.
    assert_eq!(
        app.get("/api/todos", Some(&old)).await.status,
        StatusCode::OK
    );
    let another = app.token_signed_by(other_key(), &app.user());
    assert_eq!(
        app.get("/api/todos", Some(&another)).await.status,
        StatusCode::OK
    );
    assert_eq!(app.jwks.hits(), hits + 1);
}

#[tokio::test]
async fn a_key_retired_from_the_jwks_stops_verifying_after_a_refresh() {
    let app = TestApp::spawn_with(Options {
        jwks_cache_control: Some("max-age=1".into()),
        ..Options::default()
    })
    .await;
    let user = app.user();
    assert_eq!(
        app.get("/api/todos", Some(&user.token)).await.status,
        StatusCode::OK
    );
    app.jwks.set_keys(vec![other_key().jwk()]);
    let new = app.token_signed_by(other_key(), &user);
    let mut retired = false;
    for _ in 0..60 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if app.get("/api/todos", Some(&user.token)).await.status == StatusCode::UNAUTHORIZED {
            retired = true;
            break;
        }
    }
    assert!(retired, "the retired key still verifies");
    assert_eq!(
        app.get("/api/todos", Some(&new)).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_user_id_is_taken_from_sub_whatever_the_email() {
    let app = TestApp::spawn().await;
    let token = app.token(json!({"sub": "user-42", "email": "x@example.com"}));
    let reply = app
        .post("/api/todos", Some(&token), json!({"title": "t"}))
        .await;
    assert_eq!(reply.body["user_id"], "user-42");
}
