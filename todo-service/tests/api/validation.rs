//! Every validation rule and input error: 422 naming the field, 400, 413, 415.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::*;

async fn create(app: &TestApp, user: &User, body: Value) -> Reply {
    app.post("/api/todos", Some(&user.token), body).await
}

#[tokio::test]
async fn title_rules() {
    let app = TestApp::spawn().await;
    let user = app.user();
    for body in [
        json!({}),
        json!({"description": "no title"}),
        json!({"title": null}),
        json!({"title": ""}),
        json!({"title": "   \t\n "}),
        json!({"title": "x".repeat(256)}),
        json!({"title": "é".repeat(256)}),
        json!({"title": 5}),
        json!({"title": true}),
        json!({"title": ["a"]}),
        json!({"title": {"text": "a"}}),
        json!({"title": "nul\u{0}inside"}),
    ] {
        let reply = create(&app, &user, body.clone()).await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {}",
            reply.text
        );
        reply.assert_invalid(&["title"]);
    }
    // Limits count characters, after trimming.
    let todo = app
        .create_todo(&user, json!({"title": "é".repeat(255)}))
        .await;
    assert_eq!(todo["title"].as_str().unwrap().chars().count(), 255);
    let todo = app
        .create_todo(
            &user,
            json!({"title": format!("   {}   ", "x".repeat(255))}),
        )
        .await;
    assert_eq!(todo["title"], "x".repeat(255));
    let todo = app.create_todo(&user, json!({"title": "a"})).await;
    assert_eq!(todo["title"], "a");
    assert_eq!(
        app.list(&user, "").await["pagination"]["total"],
        3,
        "no invalid todo stored"
    );
}

#[tokio::test]
async fn description_rules() {
    let app = TestApp::spawn().await;
    let user = app.user();
    for body in [
        json!({"title": "t", "description": null}),
        json!({"title": "t", "description": "d".repeat(10_001)}),
        json!({"title": "t", "description": 7}),
        json!({"title": "t", "description": false}),
        json!({"title": "t", "description": "a\u{0}b"}),
    ] {
        create(&app, &user, body)
            .await
            .assert_invalid(&["description"]);
    }
    let long = "ü".repeat(10_000);
    let todo = app
        .create_todo(&user, json!({"title": "t", "description": long}))
        .await;
    assert_eq!(todo["description"], long);
    let spaced = "  keeps its spaces  ";
    let todo = app
        .create_todo(&user, json!({"title": "t", "description": spaced}))
        .await;
    assert_eq!(
        todo["description"], spaced,
        "a description is stored as sent"
    );
}

#[tokio::test]
async fn completed_rules() {
    let app = TestApp::spawn().await;
    let user = app.user();
    for bad in [json!(null), json!("true"), json!(1), json!("yes")] {
        create(&app, &user, json!({"title": "t", "completed": bad}))
            .await
            .assert_invalid(&["completed"]);
    }
}

#[tokio::test]
async fn every_invalid_field_is_named_once() {
    let app = TestApp::spawn().await;
    let user = app.user();
    let reply = create(
        &app,
        &user,
        json!({"title": "", "description": null, "completed": null}),
    )
    .await;
    reply.assert_invalid(&["title", "description", "completed"]);
    assert_eq!(reply.body["type"], "urn:problem:validation");
    for error in reply.body["errors"].as_array().unwrap() {
        assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
}

#[tokio::test]
async fn patch_and_put_apply_the_same_rules() {
    let app = TestApp::spawn().await;
    let user = app.user();
    let todo = app.create_todo(&user, json!({"title": "t"})).await;
    let path = format!("/api/todos/{}", todo["id"].as_str().unwrap());
    for (body, field) in [
        (json!({"title": null}), "title"),
        (json!({"title": "  "}), "title"),
        (json!({"title": "x".repeat(256)}), "title"),
        (json!({"description": null}), "description"),
        (json!({"description": "d".repeat(10_001)}), "description"),
        (json!({"completed": null}), "completed"),
        (json!({"completed": "false"}), "completed"),
    ] {
        app.patch(&path, Some(&user.token), body.clone())
            .await
            .assert_invalid(&[field]);
        let mut whole = json!({"title": "fine"});
        for (k, v) in body.as_object().unwrap() {
            whole[k] = v.clone();
        }
        app.put(&path, Some(&user.token), whole)
            .await
            .assert_invalid(&[field]);
    }
    // Nothing changed.
    assert_eq!(app.get(&path, Some(&user.token)).await.body, todo);
}

#[tokio::test]
async fn a_body_that_is_not_an_object_is_422() {
    let app = TestApp::spawn().await;
    let user = app.user();
    for body in [json!([]), json!("title"), json!(42), json!(null)] {
        create(&app, &user, body).await.assert_problem(422);
    }
}

#[tokio::test]
async fn malformed_json_is_400() {
    let app = TestApp::spawn().await;
    let user = app.user();
    let todo = app.create_todo(&user, json!({"title": "t"})).await;
    let path = format!("/api/todos/{}", todo["id"].as_str().unwrap());
    for body in [
        "{",
        "{\"title\": }",
        "{\"title\": \"a\"} trailing",
        "",
        "nope",
    ] {
        for (method, target) in [
            (Method::POST, "/api/todos"),
            (Method::PATCH, path.as_str()),
            (Method::PUT, path.as_str()),
        ] {
            app.raw(
                method.clone(),
                target,
                Some(&user.token),
                Some("application/json"),
                body,
            )
            .await
            .assert_problem(400);
        }
    }
}

#[tokio::test]
async fn a_body_that_is_not_json_is_415() {
    let app = TestApp::spawn().await;
    let user = app.user();
    let todo = app.create_todo(&user, json!({"title": "t"})).await;
    let path = format!("/api/todos/{}", todo["id"].as_str().unwrap());
    let body = r#"{"title": "t"}"#;
    for content_type in [
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        None,
    ] {
        for (method, target) in [
            (Method::POST, "/api/todos"),
            (Method::PATCH, path.as_str()),
            (Method::PUT, path.as_str()),
        ] {
            app.raw(
                method.clone(),
                target,
                Some(&user.token),
                content_type,
                body,
            )
            .await
            .assert_problem(415);
        }
    }
}

#[tokio::test]
async fn a_body_over_64_kib_is_413() {
    let app = TestApp::spawn().await;
    let user = app.user();
    let body = json!({"title": "t", "description": "x".repeat(70 * 1024)}).to_string();
    app.raw(
        Method::POST,
        "/api/todos",
        Some(&user.token),
        Some("application/json"),
        body.clone(),
    )
    .await
    .assert_problem(413);
    // Without announcing its length (chunked), too.
    let status = post_chunked(&app, &user.token, body.as_bytes()).await;
    assert_eq!(status, 413);
    assert_eq!(app.list(&user, "").await["pagination"]["total"], 0);
}

/// POSTs `body` with `Transfer-Encoding: chunked` (no `Content-Length`); the status answered.
async fn post_chunked(app: &TestApp, token: &str, body: &[u8]) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    let head = format!(
        "POST /api/todos HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        app.addr
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    for chunk in body.chunks(8 * 1024) {
        let frame = [format!("{:x}\r\n", chunk.len()).as_bytes(), chunk, b"\r\n"].concat();
        // The server may answer and close before reading everything.
        if stream.write_all(&frame).await.is_err() {
            break;
        }
    }
    let _ = stream.write_all(b"0\r\n\r\n").await;
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response).await;
    let text = String::from_utf8_lossy(&response);
    text.split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {text:?}"))
}

#[tokio::test]
async fn the_token_is_checked_before_the_body() {
    let app = TestApp::spawn().await;
    let reply = app
        .raw(
            Method::POST,
            "/api/todos",
            None,
            Some("text/plain"),
            "not json",
        )
        .await;
    reply.assert_problem(401);
}
