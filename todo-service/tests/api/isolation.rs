//! Two users: neither reaches the other's todos on any route, and ids leak nothing (404, never
//! 403).

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn another_user_s_todo_is_404_on_every_route_and_stays_unchanged() {
    let app = TestApp::spawn().await;
    let (alice, bob) = (app.user(), app.user());
    let todo = app
        .create_todo(
            &alice,
            json!({"title": "alice's", "description": "private"}),
        )
        .await;
    let path = format!("/api/todos/{}", todo["id"].as_str().unwrap());

    app.get(&path, Some(&bob.token)).await.assert_problem(404);
    app.patch(&path, Some(&bob.token), json!({"title": "pwned"}))
        .await
        .assert_problem(404);
    app.patch(&path, Some(&bob.token), json!({}))
        .await
        .assert_problem(404);
    app.put(
        &path,
        Some(&bob.token),
        json!({"title": "pwned", "completed": true}),
    )
    .await
    .assert_problem(404);
    app.delete(&path, Some(&bob.token))
        .await
        .assert_problem(404);

    // The answers are those of an id that does not exist at all.
    let missing = app
        .get(
            &format!("/api/todos/{}", uuid::Uuid::now_v7()),
            Some(&bob.token),
        )
        .await;
    let foreign = app.get(&path, Some(&bob.token)).await;
    assert_eq!(missing.body, foreign.body);

    let reply = app.get(&path, Some(&alice.token)).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body, todo, "untouched by bob");
}

#[tokio::test]
async fn lists_hold_only_one_s_own_todos() {
    let app = TestApp::spawn().await;
    let (alice, bob) = (app.user(), app.user());
    let alice_todos = app.create_todos(&alice, "alice", 3).await;
    let bob_todos = app.create_todos(&bob, "bob", 2).await;
    app.patch(
        &format!("/api/todos/{}", alice_todos[0]["id"].as_str().unwrap()),
        Some(&alice.token),
        json!({"completed": true}),
    )
    .await;

    let list = app.list(&alice, "").await;
    assert_eq!(list["pagination"]["total"], 3);
    assert!(
        list["todos"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["user_id"] == alice.id)
    );
    let list = app.list(&bob, "").await;
    assert_eq!(list["pagination"]["total"], 2);
    assert_eq!(titles(&list), ["bob 1", "bob 0"]);

    // Filters stay within one's own todos.
    assert_eq!(
        app.list(&bob, "?completed=true").await["pagination"]["total"],
        0
    );
    assert_eq!(
        app.list(&bob, "?completed=false").await["pagination"]["total"],
        2
    );
    assert_eq!(
        app.list(&alice, "?completed=true").await["pagination"]["total"],
        1
    );

    // A user filter on the user route does nothing (it is an admin parameter).
    let list = app.list(&bob, &format!("?user_id={}", alice.id)).await;
    assert_eq!(ids(&list).len(), 2);
    assert!(
        ids(&list)
            .iter()
            .all(|id| bob_todos.iter().any(|t| t["id"] == **id))
    );
}

#[tokio::test]
async fn the_owner_comes_from_the_token_not_the_body() {
    let app = TestApp::spawn().await;
    let (alice, bob) = (app.user(), app.user());
    let todo = app
        .create_todo(&bob, json!({"title": "t", "user_id": alice.id}))
        .await;
    assert_eq!(todo["user_id"], bob.id);
    assert_eq!(app.list(&alice, "").await["pagination"]["total"], 0);
    let path = format!("/api/todos/{}", todo["id"].as_str().unwrap());
    let reply = app
        .put(
            &path,
            Some(&bob.token),
            json!({"title": "t2", "user_id": alice.id}),
        )
        .await;
    assert_eq!(reply.body["user_id"], bob.id);
}

#[tokio::test]
async fn deleting_one_s_own_todo_leaves_the_other_user_s_alone() {
    let app = TestApp::spawn().await;
    let (alice, bob) = (app.user(), app.user());
    let a = app.create_todo(&alice, json!({"title": "a"})).await;
    let b = app.create_todo(&bob, json!({"title": "b"})).await;
    let reply = app
        .delete(
            &format!("/api/todos/{}", a["id"].as_str().unwrap()),
            Some(&alice.token),
        )
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    let reply = app
        .get(
            &format!("/api/todos/{}", b["id"].as_str().unwrap()),
            Some(&bob.token),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
}

#[tokio::test]
async fn sql_metacharacters_are_data_not_code() {
    let app = TestApp::spawn().await;
    let (alice, bob, admin) = (app.user(), app.user(), app.admin());
    app.create_todo(&bob, serde_json::json!({"title": "bob's"}))
        .await;
    let hostile = [
        "'); DROP TABLE todos; --",
        "x' OR '1'='1",
        "\"; DELETE FROM todo_counts; --",
        "%_\\",
    ];
    for title in hostile {
        let created = app
            .create_todo(
                &alice,
                serde_json::json!({ "title": title, "description": title }),
            )
            .await;
        assert_eq!(created["title"], title);
        assert_eq!(created["description"], title);
    }
    let mine = app.get("/api/todos?per_page=100", Some(&alice.token)).await;
    assert_eq!(mine.body["pagination"]["total"], hostile.len());
    // An owner filter made of SQL reaches nobody's todos, and every table is intact.
    let injected = app
        .get(
            "/api/admin/todos?user_id=x'%20OR%20'1'%3D'1",
            Some(&admin.token),
        )
        .await;
    assert_eq!(injected.status.as_u16(), 200);
    assert_eq!(injected.body["pagination"]["total"], 0);
    let all = app
        .get("/api/admin/todos?per_page=100", Some(&admin.token))
        .await;
    assert_eq!(all.body["pagination"]["total"], hostile.len() + 1);
    let report = app.get("/api/admin/reports", Some(&admin.token)).await;
    assert_eq!(report.body["todos"], hostile.len() + 1);
}
