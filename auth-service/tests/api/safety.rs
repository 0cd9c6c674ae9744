//! Account safety: what an outside review proved missing, each rule pinned by a test that
//! failed before it held. (The contract's "Account safety and revocation", at the auth-service.)

use std::time::Duration;

use reqwest::Response;
use serde_json::{Value, json};

use crate::helpers::*;

const NEW_PASSWORD: &str = "a brand new passphrase";

async fn change_password(app: &TestApp, token: &str, current: &str, new: &str) -> Response {
    app.post_auth(
        "/api/auth/password/change",
        token,
        json!({"current_password": current, "new_password": new}),
    )
    .await
}

fn retry_after(response: &Response) -> u64 {
    response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

/// 401 with the RFC 6750 `invalid_token` challenge.
async fn assert_invalid_token(response: Response, what: &str) {
    assert_eq!(response.status(), 401, "{what}");
    assert_eq!(
        response.headers()["www-authenticate"],
        r#"Bearer error="invalid_token""#,
        "{what}"
    );
    problem(response, 401).await;
}

/// Every bearer route of the auth-service refuses `token`, and changes nothing.
async fn assert_dead(app: &TestApp, token: &str) {
    assert_invalid_token(app.get("/api/auth/profile", token).await, "GET profile").await;
    assert_invalid_token(
        app.patch("/api/auth/profile", token, json!({"first_name": "Mallory"}))
            .await,
        "PATCH profile",
    )
    .await;
    assert_invalid_token(
        change_password(app, token, PASSWORD, "the attacker's passphrase").await,
        "password change",
    )
    .await;
    assert_invalid_token(
        app.post_auth("/api/auth/logout", token, json!({})).await,
        "logout",
    )
    .await;
    assert_invalid_token(
        app.post_auth("/api/auth/logout-all", token, json!({}))
            .await,
        "logout-all",
    )
    .await;
    assert_invalid_token(app.get("/api/admin/users", token).await, "admin users").await;
}

async fn assert_alive(app: &TestApp, token: &str) {
    assert_eq!(app.get("/api/auth/profile", token).await.status(), 200);
}

// --- 1. password change is no password oracle -------------------------------------------------

#[tokio::test]
async fn wrong_current_passwords_count_as_failed_logins_and_are_audited() {
    let app = TestApp::spawn_with(|s| {
        s.login_max_failures = 3;
        s.login_failure_window_secs = 60;
    })
    .await;
    let root = app.admin("root@example.com").await;
    let user = app.user("ivy@example.com").await;
    for _ in 0..3 {
        let wrong = change_password(&app, &user.access, "not my password", NEW_PASSWORD).await;
        assert_eq!(
            error_fields(&problem(wrong, 422).await),
            ["current_password"]
        );
    }
    // Past the limit: 429 even with the right password, at the change and at the login form.
    let limited = change_password(&app, &user.access, PASSWORD, NEW_PASSWORD).await;
    let wait = retry_after(&limited);
    assert!((1..=60).contains(&wait), "Retry-After {wait}");
    problem(limited, 429).await;
    problem(app.login("ivy@example.com", PASSWORD).await, 429).await;
    // Nothing changed: the old password is still the password.
    let events = app.audit_events(&root, Some(&user.user_id)).await;
    let failed = events
        .iter()
        .filter(|e| e["event"] == "password_change_failed")
        .count();
    assert_eq!(failed, 3, "{events:?}");
    assert!(!events.iter().any(|e| e["event"] == "password_changed"));
}

#[tokio::test]
async fn password_change_failures_and_login_failures_share_the_address_bucket() {
    let app = TestApp::spawn_with(|s| {
        s.login_max_failures = 100;
        s.login_max_failures_per_addr = 3;
    })
    .await;
    let victim = app.user("jon@example.com").await;
    app.register("kat@example.com").await;
    problem(app.login("kat@example.com", "wrong password").await, 401).await;
    problem(app.login("kat@example.com", "wrong password").await, 401).await;
    let wrong = change_password(&app, &victim.access, "not my password", NEW_PASSWORD).await;
    problem(wrong, 422).await;
    // The address has used its three failures, whichever route spent them.
    problem(
        change_password(&app, &victim.access, PASSWORD, NEW_PASSWORD).await,
        429,
    )
    .await;
    problem(app.login("kat@example.com", PASSWORD).await, 429).await;
}

#[tokio::test]
async fn a_successful_change_clears_the_accounts_count() {
    let app = TestApp::spawn_with(|s| s.login_max_failures = 3).await;
    let user = app.user("lou@example.com").await;
    for _ in 0..2 {
        let wrong = change_password(&app, &user.access, "not my password", NEW_PASSWORD).await;
        problem(wrong, 422).await;
    }
    let changed = change_password(&app, &user.access, PASSWORD, NEW_PASSWORD).await;
    assert_eq!(changed.status(), 204);
    // Two failures before, two now: under the limit only because the change cleared the count.
    for _ in 0..2 {
        problem(app.login("lou@example.com", "wrong password").await, 401).await;
    }
    assert_eq!(
        app.login("lou@example.com", NEW_PASSWORD).await.status(),
        200
    );
}

// --- 2. the auth-service honours no dead session ------------------------------------------------

#[tokio::test]
async fn after_logout_the_access_token_is_refused_on_every_bearer_route() {
    let app = TestApp::spawn().await;
    let user = app.user("max@example.com").await;
    let other = app.tokens("max@example.com", PASSWORD).await;
    let response = app
        .post_auth("/api/auth/logout", &user.access, json!({}))
        .await;
    assert_eq!(response.status(), 204);
    assert_dead(&app, &user.access).await;
    assert_alive(&app, &other.access).await;
    // Nothing the dead token tried took effect.
    let profile: Value = app
        .get("/api/auth/profile", &other.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(profile["first_name"], Value::Null);
    assert_eq!(app.login("max@example.com", PASSWORD).await.status(), 200);
}

#[tokio::test]
async fn after_logout_all_every_access_token_of_the_user_is_refused() {
    let app = TestApp::spawn().await;
    let first = app.user("ned@example.com").await;
    let second = app.tokens("ned@example.com", PASSWORD).await;
    let bystander = app.user("ola@example.com").await;
    let response = app
        .post_auth("/api/auth/logout-all", &first.access, json!({}))
        .await;
    assert_eq!(response.status(), 204);
    assert_dead(&app, &first.access).await;
    assert_dead(&app, &second.access).await;
    assert_alive(&app, &bystander.access).await;
}

#[tokio::test]
async fn after_a_password_change_the_other_sessions_tokens_are_refused() {
    let app = TestApp::spawn().await;
    let here = app.user("pam@example.com").await;
    let there = app.tokens("pam@example.com", PASSWORD).await;
    let changed = change_password(&app, &here.access, PASSWORD, NEW_PASSWORD).await;
    assert_eq!(changed.status(), 204);
    assert_alive(&app, &here.access).await;
    assert_dead(&app, &there.access).await;
}

#[tokio::test]
async fn after_a_reset_every_access_token_of_the_user_is_refused() {
    let webhook = Webhook::start().await;
    let url = webhook.url();
    let app = TestApp::spawn_with(move |s| s.reset_webhook_url = Some(url)).await;
    let user = app.user("quin@example.com").await;
    app.post(
        "/api/auth/password/forgot",
        json!({"email": "quin@example.com"}),
    )
    .await;
    let token = webhook.wait_for(1).await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let reset = app
        .post(
            "/api/auth/password/reset",
            json!({"token": token, "new_password": NEW_PASSWORD}),
        )
        .await;
    assert_eq!(reset.status(), 204);
    assert_dead(&app, &user.access).await;
}

#[tokio::test]
async fn after_refresh_token_reuse_the_sessions_access_tokens_are_refused() {
    let app = TestApp::spawn().await;
    let first = app.user("rex@example.com").await;
    let second = Tokens::from(
        app.refresh(&first.refresh)
            .await
            .json::<Value>()
            .await
            .unwrap(),
    );
    problem(app.refresh(&first.refresh).await, 401).await; // the reuse
    assert_dead(&app, &first.access).await;
    assert_dead(&app, &second.access).await;
}

#[tokio::test]
async fn after_deactivation_the_users_access_tokens_are_refused() {
    let app = TestApp::spawn().await;
    let root = app.admin("root@example.com").await;
    let user = app.user("sal@example.com").await;
    let other_admin = app.admin("tia@example.com").await;
    for (who, id) in [(&user, &user.user_id), (&other_admin, &other_admin.user_id)] {
        let response = app
            .patch(
                &format!("/api/admin/users/{id}"),
                &root.access,
                json!({"is_active": false}),
            )
            .await;
        assert_eq!(response.status(), 200);
        assert_dead(&app, &who.access).await;
    }
    assert_alive(&app, &root.access).await;
}

// --- 3. a session has an absolute end ------------------------------------------------------------

#[tokio::test]
async fn a_session_ends_at_its_absolute_lifetime_however_often_it_is_refreshed() {
    let app = TestApp::spawn_with(|s| {
        s.session_max_lifetime_secs = 3;
        s.refresh_token_ttl_secs = 60;
        s.access_token_ttl_secs = 60;
    })
    .await;
    let first = app.user("uma@example.com").await;
    let started = claims(&first.access)["iat"].as_i64().unwrap();
    // No token of the session outlives its end, from the first on.
    assert!(claims(&first.refresh)["exp"].as_i64().unwrap() <= started + 4);
    assert!(claims(&first.access)["exp"].as_i64().unwrap() <= started + 4);
    assert!(first.body["expires_in"].as_i64().unwrap() <= 4);

    let mut refresh = first.refresh.clone();
    let deadline = std::time::Instant::now() + Duration::from_secs(6);
    let refused = loop {
        let response = app.refresh(&refresh).await;
        if response.status() != 200 {
            break response;
        }
        let next = Tokens::from(response.json::<Value>().await.unwrap());
        assert!(claims(&next.refresh)["exp"].as_i64().unwrap() <= started + 4);
        assert!(claims(&next.access)["exp"].as_i64().unwrap() <= started + 4);
        refresh = next.refresh;
        assert!(
            std::time::Instant::now() < deadline,
            "the session outlived its absolute lifetime"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    problem(refused, 401).await;
    // A new login opens a new session.
    assert_eq!(app.login("uma@example.com", PASSWORD).await.status(), 200);
}

// --- 4. reset tokens die with a password change or a deactivation ------------------------------

async fn reset_token_for(app: &TestApp, webhook: &Webhook, email: &str, nth: usize) -> String {
    app.post("/api/auth/password/forgot", json!({ "email": email }))
        .await;
    webhook.wait_for(nth).await["token"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn reset_with(app: &TestApp, token: &str) -> Response {
    app.post(
        "/api/auth/password/reset",
        json!({"token": token, "new_password": "the attacker's passphrase"}),
    )
    .await
}

#[tokio::test]
async fn a_password_change_spends_outstanding_reset_tokens() {
    let webhook = Webhook::start().await;
    let url = webhook.url();
    let app = TestApp::spawn_with(move |s| s.reset_webhook_url = Some(url)).await;
    let user = app.user("val@example.com").await;
    let token = reset_token_for(&app, &webhook, "val@example.com", 1).await;
    let changed = change_password(&app, &user.access, PASSWORD, NEW_PASSWORD).await;
    assert_eq!(changed.status(), 204);
    problem(reset_with(&app, &token).await, 400).await;
    assert_eq!(
        app.login("val@example.com", NEW_PASSWORD).await.status(),
        200
    );
}

#[tokio::test]
async fn a_deactivation_spends_outstanding_reset_tokens() {
    let webhook = Webhook::start().await;
    let url = webhook.url();
    let app = TestApp::spawn_with(move |s| s.reset_webhook_url = Some(url)).await;
    let root = app.admin("root@example.com").await;
    let user = app.user("wyn@example.com").await;
    let token = reset_token_for(&app, &webhook, "wyn@example.com", 1).await;
    let path = format!("/api/admin/users/{}", user.user_id);
    for active in [false, true] {
        let response = app
            .patch(&path, &root.access, json!({ "is_active": active }))
            .await;
        assert_eq!(response.status(), 200);
    }
    problem(reset_with(&app, &token).await, 400).await;
    assert_eq!(app.login("wyn@example.com", PASSWORD).await.status(), 200);
}

// --- 5. no cache keeps a token; no browser sniffs a type ----------------------------------------

#[tokio::test]
async fn token_responses_are_never_cached_and_nothing_is_sniffed() {
    let app = TestApp::spawn().await;
    app.register("xia@example.com").await;
    let login = app.login("xia@example.com", PASSWORD).await;
    assert_eq!(login.status(), 200);
    assert_eq!(login.headers()["cache-control"], "no-store");
    assert_eq!(login.headers()["pragma"], "no-cache");
    let tokens = Tokens::from(login.json::<Value>().await.unwrap());
    let refreshed = app.refresh(&tokens.refresh).await;
    assert_eq!(refreshed.status(), 200);
    assert_eq!(refreshed.headers()["cache-control"], "no-store");
    assert_eq!(refreshed.headers()["pragma"], "no-cache");

    let big = "x".repeat(70_000);
    let answers = [
        app.client.get(app.url("/healthz")).send().await.unwrap(),
        app.client
            .get(app.url("/no/such/route"))
            .send()
            .await
            .unwrap(),
        app.client
            .get(app.url("/api/auth/profile"))
            .send()
            .await
            .unwrap(),
        app.client
            .get(app.url("/.well-known/jwks.json"))
            .send()
            .await
            .unwrap(),
        app.client
            .post(app.url("/api/auth/login"))
            .header("content-type", "application/json")
            .body(big)
            .send()
            .await
            .unwrap(),
        app.client.get(app.url("/metrics")).send().await.unwrap(),
    ];
    for answer in answers {
        assert_eq!(
            answer.headers()["x-content-type-options"],
            "nosniff",
            "{} {}",
            answer.url(),
            answer.status()
        );
    }
}

// --- also found ---------------------------------------------------------------------------------

#[tokio::test]
async fn ipv6_clients_share_the_address_limit_of_their_64_block() {
    let app = TestApp::spawn_with(|s| {
        s.trust_forwarded_for = true;
        s.login_max_failures = 100;
        s.login_max_failures_per_addr = 2;
    })
    .await;
    app.register("yan@example.com").await;
    let login_from = |ip: &'static str, password: &'static str| {
        app.client
            .post(app.url("/api/auth/login"))
            .header("x-forwarded-for", ip)
            .json(&json!({"email": "yan@example.com", "password": password}))
            .send()
    };
    problem(
        login_from("2001:db8:1:2::1", "wrong password")
            .await
            .unwrap(),
        401,
    )
    .await;
    problem(
        login_from("2001:db8:1:2::2", "wrong password")
            .await
            .unwrap(),
        401,
    )
    .await;
    // Another address of the same /64 has no fresh allowance; another /64 has its own.
    problem(
        login_from("2001:db8:1:2:ffff::9", PASSWORD).await.unwrap(),
        429,
    )
    .await;
    assert_eq!(
        login_from("2001:db8:1:3::1", PASSWORD)
            .await
            .unwrap()
            .status(),
        200
    );
}

#[tokio::test]
async fn the_reset_webhook_follows_no_redirect() {
    let webhook = Webhook::start().await;
    let url = webhook.redirecting_url();
    let app = TestApp::spawn_with(move |s| s.reset_webhook_url = Some(url)).await;
    app.register("zed@example.com").await;
    app.post(
        "/api/auth/password/forgot",
        json!({"email": "zed@example.com"}),
    )
    .await;
    eventually("the webhook was called", || async {
        webhook.redirects() >= 1
    })
    .await;
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(webhook.attempts(), 0, "the redirect was followed");
    assert!(webhook.received().is_empty());
}
