//! What the auth-service ends, the todo-service refuses: each revoking action, against the real
//! issuer, while the user's other sessions keep working; verification stays local.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::stack::*;

#[tokio::test]
async fn a_logout_is_refused_here_and_the_other_session_works() {
    let stack = Stack::start().await;
    let here = stack.user("lou@example.com").await;
    let there = stack.login("lou@example.com").await;
    accepted(&stack.client, &stack.todo, &here.access).await;
    let status = stack
        .auth_post("/api/auth/logout", &here.access, json!({}))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let took = refused_soon(&stack.client, &stack.todo, &here.access).await;
    eprintln!("logout refused after {took:?}");
    accepted(&stack.client, &stack.todo, &there.access).await;
}

#[tokio::test]
async fn a_logout_everywhere_is_refused_for_every_session_and_only_this_users() {
    let stack = Stack::start().await;
    let first = stack.user("max@example.com").await;
    let second = stack.login("max@example.com").await;
    let bystander = stack.user("nia@example.com").await;
    let status = stack
        .auth_post("/api/auth/logout-all", &first.access, json!({}))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    refused_soon(&stack.client, &stack.todo, &first.access).await;
    refused_soon(&stack.client, &stack.todo, &second.access).await;
    accepted(&stack.client, &stack.todo, &bystander.access).await;
    let again = stack.login("max@example.com").await;
    accepted(&stack.client, &stack.todo, &again.access).await;
}

#[tokio::test]
async fn refresh_token_reuse_ends_the_sessions_access_tokens_here() {
    let stack = Stack::start().await;
    let stolen = stack.user("oli@example.com").await;
    let other = stack.login("oli@example.com").await;
    let rotated = Session::from(
        stack
            .refresh(&stolen.refresh)
            .await
            .json::<Value>()
            .await
            .unwrap(),
    );
    accepted(&stack.client, &stack.todo, &rotated.access).await;
    assert_eq!(
        stack.refresh(&stolen.refresh).await.status(),
        StatusCode::UNAUTHORIZED,
        "the reuse"
    );
    refused_soon(&stack.client, &stack.todo, &rotated.access).await;
    refused_soon(&stack.client, &stack.todo, &stolen.access).await;
    accepted(&stack.client, &stack.todo, &other.access).await;
}

#[tokio::test]
async fn a_password_change_ends_the_other_sessions_here_and_keeps_this_one() {
    let stack = Stack::start().await;
    let here = stack.user("pia@example.com").await;
    let there = stack.login("pia@example.com").await;
    let status = stack
        .auth_post(
            "/api/auth/password/change",
            &here.access,
            json!({"current_password": PASSWORD, "new_password": "a brand new passphrase"}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    refused_soon(&stack.client, &stack.todo, &there.access).await;
    accepted(&stack.client, &stack.todo, &here.access).await;
}

#[tokio::test]
async fn a_deactivation_is_refused_here_and_other_users_work() {
    let stack = Stack::start().await;
    let admin = stack.login(ADMIN).await;
    let user = stack.user("quy@example.com").await;
    let bystander = stack.user("rae@example.com").await;
    let status = stack
        .admin_patch(&admin, &user.user_id, json!({"is_active": false}))
        .await;
    assert_eq!(status, StatusCode::OK);
    refused_soon(&stack.client, &stack.todo, &user.access).await;
    accepted(&stack.client, &stack.todo, &bystander.access).await;
    accepted(&stack.client, &stack.todo, &admin.access).await;
}

#[tokio::test]
async fn after_a_role_change_old_tokens_are_refused_everywhere_and_a_refresh_carries_the_new_role()
{
    let stack = Stack::start().await;
    let admin = stack.login(ADMIN).await;
    let user = stack.user("sam@example.com").await;
    let bystander = stack.user("tao@example.com").await;
    let status = stack
        .admin_patch(&admin, &user.user_id, json!({"role": "admin"}))
        .await;
    assert_eq!(status, StatusCode::OK);
    refused_soon(&stack.client, &stack.todo, &user.access).await;
    // Every route, at both services.
    let report = stack
        .client
        .get(stack.todo.url("/api/admin/reports"))
        .bearer_auth(&user.access)
        .send()
        .await
        .unwrap();
    assert_eq!(report.status(), StatusCode::UNAUTHORIZED);
    let profile = stack
        .client
        .get(stack.auth.url("/api/auth/profile"))
        .bearer_auth(&user.access)
        .send()
        .await
        .unwrap();
    assert_eq!(profile.status(), StatusCode::UNAUTHORIZED);
    // A refresh gives a token with the role as it is now, and it works at once.
    let refreshed = Session::from(
        stack
            .refresh(&user.refresh)
            .await
            .json::<Value>()
            .await
            .unwrap(),
    );
    assert_eq!(claims(&refreshed.access)["role"], "admin");
    let report = stack
        .client
        .get(stack.todo.url("/api/admin/reports"))
        .bearer_auth(&refreshed.access)
        .send()
        .await
        .unwrap();
    assert_eq!(report.status(), StatusCode::OK);
    accepted(&stack.client, &stack.todo, &bystander.access).await;
}

#[tokio::test]
async fn a_reset_is_refused_here_for_every_session() {
    let stack = Stack::start().await;
    let first = stack.user("uma@example.com").await;
    let second = stack.login("uma@example.com").await;
    let bystander = stack.user("vic@example.com").await;
    // The reset link is delivered by the webhook in production; the issuer's own store holds
    // what a reset needs, so the test makes a token the way the service does.
    let token = reset_token(&stack, &first.user_id).await;
    let reset = stack
        .client
        .post(stack.auth.url("/api/auth/password/reset"))
        .json(&json!({"token": token, "new_password": "a brand new passphrase"}))
        .send()
        .await
        .unwrap();
    assert_eq!(reset.status(), StatusCode::NO_CONTENT);
    refused_soon(&stack.client, &stack.todo, &first.access).await;
    refused_soon(&stack.client, &stack.todo, &second.access).await;
    accepted(&stack.client, &stack.todo, &bystander.access).await;
}

/// A usable reset token for `user_id`, stored as the service stores one (its SHA-256).
async fn reset_token(stack: &Stack, user_id: &str) -> String {
    use auth_service::store::entities::reset_token;
    use sea_orm::{ActiveModelTrait, IntoActiveModel};
    let token = format!("test-reset-{}", uuid::Uuid::new_v4());
    let hash: String = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, token.as_bytes())
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let now = service_kit::timestamp::Timestamp::now();
    let db = service_kit::db::connect(&service_kit::db::DbConfig::new(stack.auth_db.url.clone()))
        .await
        .unwrap();
    reset_token::Model {
        token_hash: hash,
        user_id: user_id.to_owned(),
        created_at: now.micros(),
        expires_at: now.plus_secs(600).micros(),
        used_at: None,
    }
    .into_active_model()
    .insert(&db)
    .await
    .unwrap();
    db.close().await.unwrap();
    token
}

#[tokio::test]
async fn a_token_issued_just_after_a_revocation_works_even_in_the_same_second() {
    let stack = Stack::start().await;
    stack.register("wes@example.com").await;
    // Until the old token, the revocation and the new login fall within one second.
    for _ in 0..10 {
        let before = stack.login("wes@example.com").await;
        let status = stack
            .auth_post("/api/auth/logout-all", &before.access, json!({}))
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let after = stack.login("wes@example.com").await;
        refused_soon(&stack.client, &stack.todo, &before.access).await;
        accepted(&stack.client, &stack.todo, &after.access).await;
        if claims(&before.access)["iat"] == claims(&after.access)["iat"] {
            return;
        }
    }
    panic!("never managed a login, a revocation and a login within one second");
}

#[tokio::test]
async fn a_replica_started_after_a_logout_refuses_that_token_from_its_first_request() {
    let stack = Stack::start().await;
    let session = stack.user("xan@example.com").await;
    let other = stack.login("xan@example.com").await;
    let status = stack
        .auth_post("/api/auth/logout", &session.access, json!({}))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let late = todo_service(&stack.todo_db, stack.auth.url("/.well-known/jwks.json")).await;
    wait_ready(&stack.client, &late).await;
    let (status, challenge) = todos_with(&stack.client, &late, &session.access).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the very first request");
    assert_eq!(
        challenge.as_deref(),
        Some(r#"Bearer error="invalid_token""#)
    );
    accepted(&stack.client, &late, &other.access).await;
}

#[tokio::test]
async fn events_written_while_a_verifiers_issuer_was_away_arrive_when_it_returns() {
    let mut stack = Stack::start().await;
    let session = stack.user("yui@example.com").await;
    let other = stack.login("yui@example.com").await;
    // A second replica of the issuer on the same database, which the todo-service does not
    // follow; the first goes away.
    let second = auth_service(&stack.auth_db, "127.0.0.1:0").await;
    let addr = stack.auth.addr.to_string();
    stack.auth.stop().await;
    accepted(&stack.client, &stack.todo, &session.access).await;
    let logout = stack
        .client
        .post(second.url("/api/auth/logout"))
        .bearer_auth(&session.access)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), StatusCode::NO_CONTENT);
    // Nothing reaches the todo-service while its issuer is away: it keeps serving with what it
    // holds.
    tokio::time::sleep(Duration::from_millis(300)).await;
    accepted(&stack.client, &stack.todo, &session.access).await;
    // The first replica returns on its address; the feed resumes from its cursor.
    stack.auth = auth_service(&stack.auth_db, &addr).await;
    let took = refused_soon_or_reconnecting(&stack, &session.access).await;
    eprintln!("refused {took:?} after the issuer returned");
    accepted(&stack.client, &stack.todo, &other.access).await;
}

/// Like [`refused_soon`], allowing for the feed's reconnection backoff (at most 5 s).
async fn refused_soon_or_reconnecting(stack: &Stack, token: &str) -> Duration {
    let started = std::time::Instant::now();
    loop {
        let (status, _) = todos_with(&stack.client, &stack.todo, token).await;
        if status == StatusCode::UNAUTHORIZED {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < Duration::from_secs(12),
            "the event written meanwhile never arrived"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}
