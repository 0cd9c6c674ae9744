//! The admin routes: every user's todos, reports, and 403 for a user.

use reqwest::StatusCode;
use serde_json::json;
use service_kit::timestamp::Timestamp;

use crate::helpers::*;

#[tokio::test]
async fn a_user_gets_403_insufficient_scope_on_both_admin_routes() {
    let app = TestApp::spawn().await;
    let user = app.user();
    app.create_todo(&user, json!({"title": "t"})).await;
    for path in [
        "/api/admin/todos",
        "/api/admin/todos?user_id=x&page=1",
        "/api/admin/reports",
    ] {
        let reply = app.get(path, Some(&user.token)).await;
        reply.assert_problem(403);
        assert_eq!(
            reply.header("www-authenticate"),
            Some(r#"Bearer error="insufficient_scope""#),
            "{path}"
        );
    }
    // Invalid parameters do not get a user past the 403.
    app.get("/api/admin/todos?page=0", Some(&user.token))
        .await
        .assert_problem(403);
}

#[tokio::test]
async fn admin_routes_need_a_token() {
    let app = TestApp::spawn().await;
    for path in ["/api/admin/todos", "/api/admin/reports"] {
        let reply = app.get(path, None).await;
        reply.assert_problem(401);
        assert_eq!(reply.header("www-authenticate"), Some("Bearer"));
    }
}

#[tokio::test]
async fn an_admin_lists_every_user_s_todos_with_filters() {
    let app = TestApp::spawn().await;
    let (alice, bob, admin) = (app.user(), app.user(), app.admin());
    let a = app.create_todos(&alice, "alice", 3).await;
    let b = app.create_todos(&bob, "bob", 2).await;
    app.patch(
        &format!("/api/todos/{}", b[0]["id"].as_str().unwrap()),
        Some(&bob.token),
        json!({"completed": true}),
    )
    .await;

    let reply = app.get("/api/admin/todos", Some(&admin.token)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(
        titles(&reply.body),
        ["bob 1", "bob 0", "alice 2", "alice 1", "alice 0"]
    );
    assert_eq!(
        reply.body["pagination"],
        json!({"page": 1, "per_page": 20, "total": 5, "pages": 1})
    );

    let only_alice = app
        .get(
            &format!("/api/admin/todos?user_id={}", alice.id),
            Some(&admin.token),
        )
        .await;
    assert_eq!(only_alice.body["pagination"]["total"], 3);
    assert!(
        only_alice.body["todos"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["user_id"] == alice.id)
    );
    assert_eq!(ids(&only_alice.body)[2], a[0]["id"].as_str().unwrap());

    let bob_done = app
        .get(
            &format!("/api/admin/todos?user_id={}&completed=true", bob.id),
            Some(&admin.token),
        )
        .await;
    assert_eq!(titles(&bob_done.body), ["bob 0"]);

    let open = app
        .get("/api/admin/todos?completed=false", Some(&admin.token))
        .await;
    assert_eq!(open.body["pagination"]["total"], 4);

    let paged = app
        .get("/api/admin/todos?per_page=2&page=3", Some(&admin.token))
        .await;
    assert_eq!(titles(&paged.body), ["alice 0"]);
    assert_eq!(
        paged.body["pagination"],
        json!({"page": 3, "per_page": 2, "total": 5, "pages": 3})
    );

    let nobody = app
        .get("/api/admin/todos?user_id=nobody", Some(&admin.token))
        .await;
    assert_eq!(nobody.body["todos"], json!([]));
    assert_eq!(nobody.body["pagination"]["pages"], 0);
}

#[tokio::test]
async fn an_empty_report_is_all_zeros() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let reply = app.get("/api/admin/reports", Some(&admin.token)).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.body,
        json!({"users": 0, "todos": 0, "completed": 0, "per_user": []})
    );
}

#[tokio::test]
async fn the_report_counts_per_owner_ordered_by_todos_then_user_id() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let now = Timestamp::now().micros();
    // "b" and "c" tie on 3 todos; "a" has 1; "d" has 5 (2 completed).
    app.seed("c", 3, now, false).await;
    app.seed("b", 2, now, false).await;
    app.seed("b", 1, now, true).await;
    app.seed("a", 1, now, true).await;
    app.seed("d", 3, now, false).await;
    app.seed("d", 2, now, true).await;

    let reply = app.get("/api/admin/reports", Some(&admin.token)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(
        reply.body,
        json!({
            "users": 4,
            "todos": 12,
            "completed": 4,
            "per_user": [
                {"user_id": "d", "todos": 5, "completed": 2},
                {"user_id": "b", "todos": 3, "completed": 1},
                {"user_id": "c", "todos": 3, "completed": 0},
                {"user_id": "a", "todos": 1, "completed": 1},
            ]
        })
    );
}

#[tokio::test]
async fn the_report_follows_changes_made_through_the_api() {
    let app = TestApp::spawn().await;
    let (user, admin) = (app.user(), app.admin());
    let todos = app.create_todos(&user, "t", 2).await;
    app.create_todo(&admin, json!({"title": "admin's own", "completed": true}))
        .await;
    let path = format!("/api/todos/{}", todos[0]["id"].as_str().unwrap());
    app.patch(&path, Some(&user.token), json!({"completed": true}))
        .await;
    app.delete(
        &format!("/api/todos/{}", todos[1]["id"].as_str().unwrap()),
        Some(&user.token),
    )
    .await;
    let report = app.get("/api/admin/reports", Some(&admin.token)).await.body;
    assert_eq!(
        (
            report["users"].clone(),
            report["todos"].clone(),
            report["completed"].clone()
        ),
        (json!(2), json!(2), json!(2))
    );
    let mut expected = [admin.id.clone(), user.id.clone()];
    expected.sort();
    let owners: Vec<_> = report["per_user"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["user_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(owners, expected, "tied on 1 todo each: by user_id");
}
