//! The `/api/todos` rows of the contract, for one user.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn create_answers_201_with_location_and_the_todo() {
    let app = TestApp::spawn().await;
    let user = app.user();
    let reply = app
        .post(
            "/api/todos",
            Some(&user.token),
            json!({"title": "  Buy milk  ", "description": "two litres", "completed": true}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    let todo = &reply.body;
    let id = todo["id"].as_str().unwrap();
    assert_eq!(
        reply.header("location"),
        Some(format!("/api/todos/{id}").as_str())
    );
    assert!(uuid::Uuid::parse_str(id).is_ok());
    assert_eq!(todo["user_id"], user.id);
    assert_eq!(todo["title"], "Buy milk", "stored trimmed");
    assert_eq!(todo["description"], "two litres");
    assert_eq!(todo["completed"], true);
    assert_eq!(todo["created_at"], todo["updated_at"]);
    let created_at = todo["created_at"].as_str().unwrap();
    assert!(created_at.ends_with('Z'), "RFC 3339 UTC: {created_at}");
    let keys: Vec<_> = todo.as_object().unwrap().keys().cloned().collect();
    assert_eq!(
        keys.len(),
        7,
        "exactly id, user_id, title, description, completed, created_at, updated_at: {keys:?}"
    );

    // The Location answers.
    let fetched = app
        .get(reply.header("location").unwrap(), Some(&user.token))
        .await;
    assert_eq!(fetched.status, StatusCode::OK);
    assert_eq!(&fetched.body, todo);
}

#[tokio::test]
async fn create_defaults_description_to_empty_and_completed_to_false() {
    let app = TestApp::spawn().await;
    let user = app.user();
    let todo = app.create_todo(&user, json!({"title": "t"})).await;
    assert_eq!(todo["description"], "");
    assert_eq!(todo["completed"], false);
}

#[tokio::test]
async fn unknown_members_are_ignored() {
    let app = TestApp::spawn().await;
    let user = app.user();
    let todo = app
        .create_todo(
            &user,
            json!({"title": "t", "id": "mine", "user_id": "someone-else"}),
        )
        .await;
    assert_ne!(todo["id"], "mine");
    assert_eq!(todo["user_id"], user.id);
}

#[tokio::test]
async fn json_with_a_charset_parameter_is_json() {
    let app = TestApp::spawn().await;
    let user = app.user();
    let reply = app
        .raw(
            Method::POST,
            "/api/todos",
            Some(&user.token),
            Some("application/json; charset=utf-8"),
            r#"{"title": "ünïcode ✓"}"#,
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    assert_eq!(reply.body["title"], "ünïcode ✓");
}

#[tokio::test]
async fn get_returns_the_todo() {
    let app = TestApp::spawn().await;
    let user = app.user();
    let todo = app.create_todo(&user, json!({"title": "read me"})).await;
    let reply = app
        .get(
            &format!("/api/todos/{}", todo["id"].as_str().unwrap()),
            Some(&user.token),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body, todo);
}

#[tokio::test]
async fn patch_changes_only_the_fields_sent_and_moves_updated_at() {
    let app = TestApp::spawn().await;
    let user = app.user();
    let todo = app
        .create_todo(&user, json!({"title": "old", "description": "keep me"}))
        .await;
    let path = format!("/api/todos/{}", todo["id"].as_str().unwrap());

    let reply = app
        .patch(&path, Some(&user.token), json!({"completed": true}))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let changed = &reply.body;
    assert_eq!(changed["completed"], true);
    assert_eq!(changed["title"], "old");
    assert_eq!(changed["description"], "keep me");
    assert_eq!(changed["created_at"], todo["created_at"]);
    assert!(
        instant(&changed["updated_at"]) > instant(&todo["updated_at"]),
        "{} then {}",
        todo["updated_at"],
        changed["updated_at"]
    );

    let reply = app
        .patch(
            &path,
            Some(&user.token),
            json!({"title": " new ", "description": ""}),
        )
        .await;
    assert_eq!(reply.body["title"], "new");
    assert_eq!(reply.body["description"], "");
    assert_eq!(reply.body["completed"], true);

    // The change is stored.
    assert_eq!(app.get(&path, Some(&user.token)).await.body, reply.body);
}

#[tokio::test]
async fn an_empty_patch_changes_nothing() {
    let app = TestApp::spawn().await;
    let user = app.user();
    let todo = app.create_todo(&user, json!({"title": "same"})).await;
    let path = format!("/api/todos/{}", todo["id"].as_str().unwrap());
    let reply = app.patch(&path, Some(&user.token), json!({})).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body, todo, "not even updated_at");
}

#[tokio::test]
async fn put_replaces_every_field() {
    let app = TestApp::spawn().await;
    let user = app.user();
    let todo = app
        .create_todo(
            &user,
            json!({"title": "old", "description": "old text", "completed": true}),
        )
        .await;
    let path = format!("/api/todos/{}", todo["id"].as_str().unwrap());

    let reply = app
        .put(&path, Some(&user.token), json!({"title": "new"}))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.body["id"], todo["id"]);
    assert_eq!(reply.body["title"], "new");
    assert_eq!(
        reply.body["description"], "",
        "omitted description becomes empty"
    );
    assert_eq!(
        reply.body["completed"], false,
        "omitted completed becomes false"
    );
    assert_eq!(reply.body["created_at"], todo["created_at"]);
    assert!(instant(&reply.body["updated_at"]) > instant(&todo["updated_at"]));

    let reply = app
        .put(
            &path,
            Some(&user.token),
            json!({"title": "newer", "description": "d", "completed": true}),
        )
        .await;
    assert_eq!(reply.body["description"], "d");
    assert_eq!(reply.body["completed"], true);
    assert_eq!(app.get(&path, Some(&user.token)).await.body, reply.body);
}

#[tokio::test]
async fn put_requires_a_title() {
    let app = TestApp::spawn().await;
    let user = app.user();
    let todo = app.create_todo(&user, json!({"title": "t"})).await;
    let path = format!("/api/todos/{}", todo["id"].as_str().unwrap());
    app.put(&path, Some(&user.token), json!({"completed": true}))
        .await
        .assert_invalid(&["title"]);
}

#[tokio::test]
async fn delete_answers_204_then_the_todo_is_gone() {
    let app = TestApp::spawn().await;
    let user = app.user();
    let todo = app.create_todo(&user, json!({"title": "bye"})).await;
    let path = format!("/api/todos/{}", todo["id"].as_str().unwrap());

    let reply = app.delete(&path, Some(&user.token)).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    assert!(reply.text.is_empty());

    app.get(&path, Some(&user.token)).await.assert_problem(404);
    app.delete(&path, Some(&user.token))
        .await
        .assert_problem(404);
    app.patch(&path, Some(&user.token), json!({"title": "x"}))
        .await
        .assert_problem(404);
    app.put(&path, Some(&user.token), json!({"title": "x"}))
        .await
        .assert_problem(404);
    assert_eq!(app.list(&user, "").await["pagination"]["total"], 0);
}

#[tokio::test]
async fn an_unknown_or_malformed_id_is_404_on_every_method() {
    let app = TestApp::spawn().await;
    let user = app.user();
    let todo = app.create_todo(&user, json!({"title": "t"})).await;
    let id = todo["id"].as_str().unwrap().to_owned();
    for path in [
        format!("/api/todos/{}", uuid::Uuid::now_v7()),
        "/api/todos/not-a-uuid".to_owned(),
        "/api/todos/12345".to_owned(),
        format!("/api/todos/{}", id.to_uppercase()),
        format!("/api/todos/{}", id.replace('-', "")),
        format!("/api/todos/{id}%00"),
        "/api/todos/%FF%FE".to_owned(),
        format!("/api/todos/{}", "a".repeat(2_000)),
    ] {
        app.get(&path, Some(&user.token)).await.assert_problem(404);
        app.patch(&path, Some(&user.token), json!({"title": "x"}))
            .await
            .assert_problem(404);
        app.put(&path, Some(&user.token), json!({"title": "x"}))
            .await
            .assert_problem(404);
        app.delete(&path, Some(&user.token))
            .await
            .assert_problem(404);
    }
    // Nothing was touched.
    assert_eq!(
        app.get(&format!("/api/todos/{id}"), Some(&user.token))
            .await
            .body,
        todo
    );
}

#[tokio::test]
async fn an_admin_s_own_todos_live_at_api_todos() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let user = app.user();
    app.create_todo(&user, json!({"title": "user's"})).await;
    let mine = app.create_todo(&admin, json!({"title": "admin's"})).await;
    let list = app.list(&admin, "").await;
    assert_eq!(ids(&list), [mine["id"].as_str().unwrap()]);
}
