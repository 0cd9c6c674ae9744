//! Refresh rotation, reuse detection, the concurrent-refresh race, logout.

use std::sync::Arc;

use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn a_refresh_rotates_the_refresh_token_and_keeps_the_session() {
    let app = TestApp::spawn().await;
    let first = app.user("kim@example.com").await;
    let response = app.refresh(&first.refresh).await;
    assert_eq!(response.status(), 200);
    let second = Tokens::from(response.json::<serde_json::Value>().await.unwrap());
    assert_eq!(second.body["token_type"], "Bearer");
    assert_ne!(second.refresh, first.refresh);
    assert_eq!(claims(&second.access)["sid"], claims(&first.access)["sid"]);
    assert_eq!(second.body["user"]["email"], "kim@example.com");
    assert_eq!(app.refresh(&second.refresh).await.status(), 200);
}

#[tokio::test]
async fn reusing_a_refresh_token_revokes_the_whole_session() {
    let app = TestApp::spawn().await;
    let admin = app.admin("root@example.com").await;
    let first = app.user("lee@example.com").await;
    let other_session = app.tokens("lee@example.com", PASSWORD).await;
    let second = Tokens::from(
        app.refresh(&first.refresh)
            .await
            .json::<serde_json::Value>()
            .await
            .unwrap(),
    );

    // The stolen first token comes back: refused, and its descendant dies with it.
    let reuse = app.refresh(&first.refresh).await;
    assert_eq!(
        reuse.headers()["www-authenticate"],
        r#"Bearer error="invalid_token""#
    );
    problem(reuse, 401).await;
    problem(app.refresh(&second.refresh).await, 401).await;
    // Another login of the same user is another session, untouched.
    assert_eq!(app.refresh(&other_session.refresh).await.status(), 200);

    let events = app.audit_events(&admin, Some(&first.user_id)).await;
    let reused: Vec<_> = events
        .iter()
        .filter(|e| e["event"] == "refresh_reuse_detected")
        .collect();
    assert_eq!(reused.len(), 1, "{events:?}");
    assert_eq!(reused[0]["detail"]["sid"], claims(&first.access)["sid"]);
}

#[tokio::test]
async fn of_many_simultaneous_refreshes_with_one_token_exactly_one_succeeds() {
    let app = Arc::new(TestApp::spawn().await);
    let tokens = app.user("mia@example.com").await;
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let (app, refresh) = (Arc::clone(&app), tokens.refresh.clone());
        tasks.push(tokio::spawn(async move { app.refresh(&refresh).await }));
    }
    let mut winners = Vec::new();
    for task in tasks {
        let response = task.await.unwrap();
        match response.status().as_u16() {
            200 => winners.push(Tokens::from(
                response.json::<serde_json::Value>().await.unwrap(),
            )),
            401 => {}
            other => panic!("unexpected status {other}"),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one refresh wins");
    // The losers were reuses: the session is revoked, the winner's token too (no grace period).
    problem(app.refresh(&winners[0].refresh).await, 401).await;
}

#[tokio::test]
async fn tokens_that_are_not_refresh_tokens_of_ours_are_401() {
    let app = TestApp::spawn().await;
    let tokens = app.user("ned@example.com").await;
    problem(app.refresh(&tokens.access).await, 401).await;
    problem(app.refresh("not.a.token").await, 401).await;
    problem(app.refresh("").await, 401).await;
    let other = TestApp::spawn().await;
    let foreign = other.user("ned@example.com").await;
    problem(app.refresh(&foreign.refresh).await, 401).await;
    problem(app.post("/api/auth/refresh", json!({})).await, 422).await;
}

#[tokio::test]
async fn an_expired_refresh_token_is_401() {
    let app = TestApp::spawn_with(|s| s.refresh_token_ttl_secs = 1).await;
    let tokens = app.user("olga@example.com").await;
    tokio::time::sleep(std::time::Duration::from_millis(2_100)).await;
    problem(app.refresh(&tokens.refresh).await, 401).await;
}

#[tokio::test]
async fn a_deactivated_users_refresh_tokens_stop_working() {
    let app = TestApp::spawn().await;
    let admin = app.admin("root@example.com").await;
    let tokens = app.user("pam@example.com").await;
    let response = app
        .patch(
            &format!("/api/admin/users/{}", tokens.user_id),
            &admin.access,
            json!({"is_active": false}),
        )
        .await;
    assert_eq!(response.status(), 200);
    problem(app.refresh(&tokens.refresh).await, 401).await;
}

#[tokio::test]
async fn logout_ends_the_bearers_session_only() {
    let app = TestApp::spawn().await;
    let here = app.user("quinn@example.com").await;
    let there = app.tokens("quinn@example.com", PASSWORD).await;
    // An empty body needs no content type.
    let response = app
        .client
        .post(app.url("/api/auth/logout"))
        .bearer_auth(&here.access)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    problem(app.refresh(&here.refresh).await, 401).await;
    assert_eq!(app.refresh(&there.refresh).await.status(), 200);
}

#[tokio::test]
async fn logout_with_a_refresh_token_also_ends_that_session() {
    let app = TestApp::spawn().await;
    let here = app.user("rob@example.com").await;
    let there = app.tokens("rob@example.com", PASSWORD).await;
    let response = app
        .post_auth(
            "/api/auth/logout",
            &here.access,
            json!({"refresh_token": there.refresh}),
        )
        .await;
    assert_eq!(response.status(), 204);
    problem(app.refresh(&there.refresh).await, 401).await;
    let elsewhere = app.tokens("rob@example.com", PASSWORD).await;
    let response = app
        .client
        .post(app.url("/api/auth/logout"))
        .bearer_auth(&elsewhere.access)
        .header("content-type", "text/plain")
        .body("refresh_token=x")
        .send()
        .await
        .unwrap();
    problem(response, 415).await;
    let response = app
        .client
        .post(app.url("/api/auth/logout"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["www-authenticate"], "Bearer");
    problem(response, 401).await;
}

#[tokio::test]
async fn logout_all_ends_every_session_of_the_user() {
    let app = TestApp::spawn().await;
    let first = app.user("sue@example.com").await;
    let second = app.tokens("sue@example.com", PASSWORD).await;
    let bystander = app.user("tom@example.com").await;
    let response = app
        .post_auth("/api/auth/logout-all", &first.access, json!({}))
        .await;
    assert_eq!(response.status(), 204);
    problem(app.refresh(&first.refresh).await, 401).await;
    problem(app.refresh(&second.refresh).await, 401).await;
    assert_eq!(app.refresh(&bystander.refresh).await.status(), 200);
}

#[tokio::test]
async fn tokens_issued_by_the_service_verify_with_shared_claims_against_its_jwks() {
    use shared_claims::{Authenticator, JwksConfig, VerifierConfig};
    let app = TestApp::spawn().await;
    let tokens = app.user("uma@example.com").await;
    let auth = Authenticator::new(
        VerifierConfig::new("http://auth.test", "todo-api", 30),
        JwksConfig::new(app.url("/.well-known/jwks.json")),
    )
    .unwrap();
    auth.start();
    eventually("keys are fetched", || async { auth.holds_keys() }).await;
    let claims = auth.authenticate(&tokens.access).await.unwrap();
    assert_eq!(claims.sub, tokens.user_id);
    assert_eq!(claims.role, shared_claims::Role::User);
    assert_eq!(
        auth.authenticate(&tokens.refresh).await.map(|_| ()),
        Err(shared_claims::Rejection::WrongType)
    );
}

#[tokio::test]
async fn purging_removes_expired_sessions_and_keeps_live_ones() {
    use sea_orm::EntityTrait;
    let app = TestApp::spawn_with(|s| s.refresh_token_ttl_secs = 2).await;
    let old = app.user("vera@example.com").await;
    tokio::time::sleep(std::time::Duration::from_millis(2_200)).await;
    let live = app.tokens("vera@example.com", PASSWORD).await;

    let db = service_kit::db::connect(&app.settings.db_config())
        .await
        .unwrap();
    let now = service_kit::timestamp::Timestamp::now();
    let purged = auth_service::store::sessions::purge_expired(&db, now)
        .await
        .unwrap();
    assert!(purged >= 2, "the expired token and its session: {purged}");
    let sessions = auth_service::store::entities::session::Entity::find()
        .all(&db)
        .await
        .unwrap();
    let sid = |t: &Tokens| claims(&t.access)["sid"].as_str().unwrap().to_owned();
    let ids: Vec<String> = sessions.into_iter().map(|s| s.id).collect();
    assert_eq!(ids, [sid(&live)], "only the live session is left");
    problem(app.refresh(&old.refresh).await, 401).await;
    assert_eq!(app.refresh(&live.refresh).await.status(), 200);
    db.close().await.unwrap();
}
