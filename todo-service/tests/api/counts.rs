//! The per-owner counts behind `total` and the report stay exact when requests race.

use std::sync::Arc;

use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn racing_changes_of_state_and_deletes_are_counted_once() {
    let app = Arc::new(TestApp::spawn().await);
    let user = app.user();
    let admin = app.admin();
    let todos = app.create_todos(&user, "race", 3).await;
    let id = |i: usize| todos[i]["id"].as_str().unwrap().to_owned();

    // Sixteen requests complete the same todo at once; twelve delete another.
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let (app, token, path) = (
            Arc::clone(&app),
            user.token.clone(),
            format!("/api/todos/{}", id(0)),
        );
        tasks.push(tokio::spawn(async move {
            app.patch(&path, Some(&token), json!({"completed": true}))
                .await
                .status
                .as_u16()
        }));
    }
    for _ in 0..12 {
        let (app, token, path) = (
            Arc::clone(&app),
            user.token.clone(),
            format!("/api/todos/{}", id(1)),
        );
        tasks.push(tokio::spawn(async move {
            app.delete(&path, Some(&token)).await.status.as_u16()
        }));
    }
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap());
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        16,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 204).count(),
        1,
        "{statuses:?}"
    );

    let list = app.get("/api/todos", Some(&user.token)).await;
    assert_eq!(list.body["pagination"]["total"], 2);
    let done = app
        .get("/api/todos?completed=true", Some(&user.token))
        .await;
    assert_eq!(done.body["pagination"]["total"], 1);
    let open = app
        .get("/api/todos?completed=false", Some(&user.token))
        .await;
    assert_eq!(open.body["pagination"]["total"], 1);
    let report = app.get("/api/admin/reports", Some(&admin.token)).await;
    assert_eq!(report.body["todos"], 2);
    assert_eq!(report.body["completed"], 1);

    // Back and forth: the count follows the state, not the number of requests.
    for completed in [false, false, true, false] {
        app.patch(
            &format!("/api/todos/{}", id(0)),
            Some(&user.token),
            json!({ "completed": completed }),
        )
        .await;
    }
    let done = app
        .get("/api/todos?completed=true", Some(&user.token))
        .await;
    assert_eq!(done.body["pagination"]["total"], 0);
    let put = app
        .request(
            reqwest::Method::PUT,
            &format!("/api/todos/{}", id(2)),
            Some(&user.token),
            Some(json!({"title": "replaced", "completed": true})),
        )
        .await;
    assert_eq!(put.status.as_u16(), 200);
    let report = app.get("/api/admin/reports", Some(&admin.token)).await;
    assert_eq!(report.body["completed"], 1);
    assert_eq!(report.body["per_user"][0]["todos"], 2);
}
