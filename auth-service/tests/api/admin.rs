//! Admin: users and the audit log.

use serde_json::{Value, json};

use crate::helpers::*;

#[tokio::test]
async fn users_are_listed_in_pages() {
    let app = TestApp::spawn().await;
    let admin = app.admin("root@example.com").await;
    for i in 0..4 {
        app.register(&format!("p{i}@example.com")).await;
    }
    let body: Value = app
        .get("/api/admin/users?page=2&per_page=2", &admin.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        body["pagination"],
        json!({"page": 2, "per_page": 2, "total": 5, "pages": 3})
    );
    assert_eq!(body["users"].as_array().unwrap().len(), 2);
    let last: Value = app
        .get("/api/admin/users?page=3&per_page=2", &admin.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(last["users"].as_array().unwrap().len(), 1);
    assert!(last["users"][0].get("password_hash").is_none());
    for bad in ["page=0", "per_page=0", "per_page=101", "page=x"] {
        problem(
            app.get(&format!("/api/admin/users?{bad}"), &admin.access)
                .await,
            422,
        )
        .await;
    }
}

#[tokio::test]
async fn one_user_is_read_and_unknown_or_malformed_ids_are_404() {
    let app = TestApp::spawn().await;
    let admin = app.admin("root@example.com").await;
    let user = app.register("fay@example.com").await;
    let id = user["id"].as_str().unwrap();
    let got: Value = app
        .get(&format!("/api/admin/users/{id}"), &admin.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(got["email"], "fay@example.com");
    problem(
        app.get(
            &format!("/api/admin/users/{}", uuid::Uuid::new_v4()),
            &admin.access,
        )
        .await,
        404,
    )
    .await;
    problem(
        app.get("/api/admin/users/not-a-uuid", &admin.access).await,
        404,
    )
    .await;
}

#[tokio::test]
async fn a_user_on_admin_routes_gets_403_insufficient_scope() {
    let app = TestApp::spawn().await;
    let user = app.user("gil@example.com").await;
    for path in [
        "/api/admin/users",
        "/api/admin/audit",
        &format!("/api/admin/users/{}", user.user_id),
    ] {
        let response = app.get(path, &user.access).await;
        assert_eq!(
            response.headers()["www-authenticate"],
            r#"Bearer error="insufficient_scope""#
        );
        problem(response, 403).await;
    }
    let response = app
        .patch(
            &format!("/api/admin/users/{}", user.user_id),
            &user.access,
            json!({"role": "admin"}),
        )
        .await;
    problem(response, 403).await;
}

#[tokio::test]
async fn roles_change_and_a_demoted_admins_token_loses_its_power_here() {
    let app = TestApp::spawn().await;
    let root = app.admin("root@example.com").await;
    let user = app.user("hal@example.com").await;
    let promoted: Value = app
        .patch(
            &format!("/api/admin/users/{}", user.user_id),
            &root.access,
            json!({"role": "admin"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(promoted["role"], "admin");
    let as_admin = app.tokens("hal@example.com", PASSWORD).await;
    assert_eq!(claims(&as_admin.access)["role"], "admin");
    assert_eq!(
        app.get("/api/admin/users", &as_admin.access).await.status(),
        200
    );

    let demoted = app
        .patch(
            &format!("/api/admin/users/{}", user.user_id),
            &root.access,
            json!({"role": "user"}),
        )
        .await;
    assert_eq!(demoted.status(), 200);
    // The old token still says admin: every token signed before the change is refused.
    let stale = app.get("/api/admin/users", &as_admin.access).await;
    assert_eq!(
        stale.headers()["www-authenticate"],
        r#"Bearer error="invalid_token""#
    );
    problem(stale, 401).await;
    // A refresh carries the role as it is now, which is not enough here.
    let refreshed = Tokens::from(
        app.refresh(&as_admin.refresh)
            .await
            .json::<Value>()
            .await
            .unwrap(),
    );
    assert_eq!(claims(&refreshed.access)["role"], "user");
    problem(app.get("/api/admin/users", &refreshed.access).await, 403).await;

    problem(
        app.patch(
            &format!("/api/admin/users/{}", user.user_id),
            &root.access,
            json!({"role": "owner"}),
        )
        .await,
        422,
    )
    .await;
    problem(
        app.patch(
            &format!("/api/admin/users/{}", user.user_id),
            &root.access,
            json!({"is_active": "no"}),
        )
        .await,
        422,
    )
    .await;
}

#[tokio::test]
async fn the_last_active_admin_can_be_neither_demoted_nor_deactivated() {
    let app = TestApp::spawn().await;
    let root = app.admin("root@example.com").await;
    let me = format!("/api/admin/users/{}", root.user_id);
    problem(
        app.patch(&me, &root.access, json!({"role": "user"})).await,
        409,
    )
    .await;
    problem(
        app.patch(&me, &root.access, json!({"is_active": false}))
            .await,
        409,
    )
    .await;

    let other = app.user("ida@example.com").await;
    let path = format!("/api/admin/users/{}", other.user_id);
    assert_eq!(
        app.patch(&path, &root.access, json!({"role": "admin"}))
            .await
            .status(),
        200
    );
    // With two admins, one may step down.
    let response = app.patch(&me, &root.access, json!({"role": "user"})).await;
    assert_eq!(response.status(), 200);
    let other_admin = app.tokens("ida@example.com", PASSWORD).await;
    problem(
        app.patch(&path, &other_admin.access, json!({"is_active": false}))
            .await,
        409,
    )
    .await;
}

#[tokio::test]
async fn deactivation_ends_every_session_and_is_audited() {
    let app = TestApp::spawn().await;
    let root = app.admin("root@example.com").await;
    let user = app.user("jo@example.com").await;
    let path = format!("/api/admin/users/{}", user.user_id);
    let body: Value = app
        .patch(&path, &root.access, json!({"is_active": false}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["is_active"], false);
    problem(app.refresh(&user.refresh).await, 401).await;
    assert_eq!(
        app.patch(&path, &root.access, json!({"is_active": true}))
            .await
            .status(),
        200
    );
    let events: Vec<String> = app
        .audit_events(&root, Some(&user.user_id))
        .await
        .iter()
        .map(|e| e["event"].as_str().unwrap().to_owned())
        .collect();
    assert!(events.contains(&"deactivated".to_owned()), "{events:?}");
}

#[tokio::test]
async fn the_audit_log_records_each_event_and_never_a_secret() {
    let webhook = Webhook::start().await;
    let url = webhook.url();
    let app = TestApp::spawn_with(move |s| s.reset_webhook_url = Some(url)).await;
    let root = app.admin("root@example.com").await;
    let user = app.user("kai@example.com").await;
    problem(app.login("kai@example.com", "wrong password").await, 401).await;
    let refreshed = Tokens::from(
        app.refresh(&user.refresh)
            .await
            .json::<Value>()
            .await
            .unwrap(),
    );
    app.refresh(&user.refresh).await; // reuse
    let again = app.tokens("kai@example.com", PASSWORD).await;
    app.post_auth(
        "/api/auth/password/change",
        &again.access,
        json!({"current_password": PASSWORD, "new_password": "another fine passphrase"}),
    )
    .await;
    app.post_auth("/api/auth/logout", &again.access, json!({}))
        .await;
    app.post(
        "/api/auth/password/forgot",
        json!({"email": "kai@example.com"}),
    )
    .await;
    let token = webhook.wait_for(1).await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    app.post(
        "/api/auth/password/reset",
        json!({"token": token, "new_password": "the final passphrase"}),
    )
    .await;
    app.patch(
        &format!("/api/admin/users/{}", user.user_id),
        &root.access,
        json!({"role": "admin"}),
    )
    .await;
    app.patch(
        &format!("/api/admin/users/{}", user.user_id),
        &root.access,
        json!({"is_active": false}),
    )
    .await;

    let events = app.audit_events(&root, Some(&user.user_id)).await;
    let names: Vec<&str> = events
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    for expected in [
        "register",
        "login_succeeded",
        "login_failed",
        "refreshed",
        "refresh_reuse_detected",
        "logout",
        "password_changed",
        "password_reset_requested",
        "password_reset",
        "role_changed",
        "deactivated",
    ] {
        assert!(
            names.contains(&expected),
            "{expected} missing from {names:?}"
        );
    }
    for event in &events {
        assert!(event["at"].as_str().unwrap().ends_with('Z'));
        assert_eq!(event["ip"], "127.0.0.1");
        assert_eq!(event["user_id"], json!(user.user_id));
        assert!(event["detail"].is_object());
    }
    let whole = serde_json::to_string(&app.audit_events(&root, None).await).unwrap();
    for secret in [
        PASSWORD,
        "wrong password",
        "another fine passphrase",
        "the final passphrase",
        &token,
        &user.refresh,
        &refreshed.access,
    ] {
        assert!(!whole.contains(secret), "the audit log holds a secret");
    }
    let all: Value = app
        .get("/api/admin/audit?per_page=1&page=1", &root.access)
        .await
        .json()
        .await
        .unwrap();
    assert!(all["pagination"]["total"].as_u64().unwrap() > events.len() as u64 - 1);
    assert_eq!(all["events"].as_array().unwrap().len(), 1);
}

/// What a schema-driven fuzzer sends (scripts/fuzz-api.sh): every answer a documented 4xx or a
/// 200, never a 5xx, on SQLite and on PostgreSQL (which refuses a NUL in text).
#[tokio::test]
async fn hostile_ids_pages_and_bodies_are_4xx_or_empty_pages() {
    let app = TestApp::spawn().await;
    let admin = app.admin("root@example.com").await;
    let user = app.register("gil@example.com").await;
    let id = user["id"].as_str().unwrap();
    for bad in ["a%00b", &id.to_uppercase(), &"u".repeat(3000)] {
        let path = format!("/api/admin/users/{bad}");
        problem(app.get(&path, &admin.access).await, 404).await;
        problem(
            app.patch(&path, &admin.access, json!({"is_active": false}))
                .await,
            404,
        )
        .await;
    }
    let body = problem(
        app.get("/api/admin/audit?user_id=a%00b", &admin.access)
            .await,
        422,
    )
    .await;
    assert_eq!(error_fields(&body), ["user_id"]);
    // The last page allowed is an empty page; past it, a 422 naming `page`.
    for path in [
        "/api/admin/users?page=1000000000&per_page=100",
        "/api/admin/audit?page=1000000000",
    ] {
        let response = app.get(path, &admin.access).await;
        assert_eq!(response.status(), 200, "{path}");
        let body: Value = response.json().await.unwrap();
        let list = body.get("users").or_else(|| body.get("events")).unwrap();
        assert_eq!(list, &json!([]), "{path}");
    }
    for path in [
        "/api/admin/users?page=9223372036854775807&per_page=100",
        "/api/admin/audit?page=1000000001",
    ] {
        let body = problem(app.get(path, &admin.access).await, 422).await;
        assert_eq!(error_fields(&body), ["page"], "{path}");
    }
    let body = problem(
        app.get("/api/admin/users?page=1&page=2", &admin.access)
            .await,
        422,
    )
    .await;
    assert_eq!(error_fields(&body), ["page"]);
    // A struct's fields as an array are not an object: nothing changes.
    problem(
        app.client
            .patch(app.url(&format!("/api/admin/users/{id}")))
            .bearer_auth(&admin.access)
            .header("content-type", "application/json")
            .body("[\"admin\", false]")
            .send()
            .await
            .unwrap(),
        422,
    )
    .await;
    let after: Value = app
        .get(&format!("/api/admin/users/{id}"), &admin.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (&after["role"], &after["is_active"]),
        (&json!("user"), &json!(true))
    );
}
