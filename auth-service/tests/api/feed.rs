//! The revocation feed as a verifier reads it: Server-Sent Events beside the JWKS, the backlog
//! after a cursor, `synced`, then live events, each a Security Event Token signed with the keys
//! of the JWKS.

use std::time::Duration;

use reqwest::Response;
use serde_json::json;
use shared_claims::{KeySet, Revocation, SecurityEvent, SecurityEventVerifier};

use crate::helpers::*;

/// Reads SSE messages `(id, event, data)` from `response` until `until` holds for one.
async fn read_until(
    response: &mut Response,
    until: impl Fn(&(String, String, String)) -> bool,
) -> Vec<(String, String, String)> {
    let mut text = String::new();
    let mut messages = Vec::new();
    loop {
        let chunk = tokio::time::timeout(Duration::from_secs(10), response.chunk())
            .await
            .expect("the feed spoke")
            .unwrap()
            .expect("the stream goes on");
        text.push_str(std::str::from_utf8(&chunk).unwrap());
        while let Some(end) = text.find("\n\n") {
            let block: String = text.drain(..end + 2).collect();
            let mut message = (String::new(), String::new(), String::new());
            for line in block.lines() {
                if let Some(v) = line.strip_prefix("id: ") {
                    message.0 = v.to_owned();
                } else if let Some(v) = line.strip_prefix("event: ") {
                    message.1 = v.to_owned();
                } else if let Some(v) = line.strip_prefix("data: ") {
                    message.2 = v.to_owned();
                }
            }
            let done = until(&message);
            messages.push(message);
            if done {
                return messages;
            }
        }
    }
}

async fn keys(app: &TestApp) -> KeySet {
    let body = app
        .client
        .get(app.url("/.well-known/jwks.json"))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    KeySet::from_jwks_json(&body).unwrap()
}

async fn feed(app: &TestApp, last_event_id: Option<&str>) -> Response {
    let mut request = app.client.get(app.url("/.well-known/revocations"));
    if let Some(id) = last_event_id {
        request = request.header("last-event-id", id);
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    assert_eq!(response.headers()["cache-control"], "no-store");
    response
}

fn verify(app: &TestApp, keys: &KeySet, data: &str) -> SecurityEvent {
    SecurityEventVerifier::new(app.settings.issuer.clone(), app.settings.audience.clone())
        .verify(data, keys)
        .unwrap()
}

#[tokio::test]
async fn the_feed_sends_the_backlog_after_the_cursor_then_synced_then_live_events() {
    let app = TestApp::spawn().await;
    let first = app.user("ada@example.com").await;
    let second = app.tokens("ada@example.com", PASSWORD).await;
    app.post_auth("/api/auth/logout", &first.access, json!({}))
        .await;
    let keys = keys(&app).await;

    let mut stream = feed(&app, None).await;
    let head = read_until(&mut stream, |m| m.1 == "synced").await;
    let events: Vec<_> = head.iter().filter(|m| m.1 == "revocation").collect();
    assert_eq!(events.len(), 1, "{head:?}");
    let event = verify(&app, &keys, &events[0].2);
    assert_eq!(
        event.seq.to_string(),
        events[0].0,
        "the SSE id is the sequence number"
    );
    assert_eq!(
        event.revocation(),
        Some(Revocation::Session {
            sid: claims(&first.access)["sid"].as_str().unwrap().to_owned(),
            until_us: event.until_us,
        })
    );
    assert!(
        event
            .events
            .contains_key("https://schemas.openid.net/secevent/caep/event-type/session-revoked")
    );

    // Live: logout everywhere is one user event.
    app.post_auth("/api/auth/logout-all", &second.access, json!({}))
        .await;
    let live = read_until(&mut stream, |m| m.1 == "revocation").await;
    let event = verify(&app, &keys, &live.last().unwrap().2);
    assert!(matches!(
        event.revocation(),
        Some(Revocation::User { ref sub, .. }) if *sub == second.user_id
    ));

    // Resuming after the first event sends only what came after it.
    let mut resumed = feed(&app, Some(&events[0].0)).await;
    let head = read_until(&mut resumed, |m| m.1 == "synced").await;
    let seqs: Vec<_> = head
        .iter()
        .filter(|m| m.1 == "revocation")
        .map(|m| m.0.clone())
        .collect();
    assert_eq!(seqs, [event.seq.to_string()]);
}

#[tokio::test]
async fn a_role_change_is_a_signed_token_claims_change_with_the_new_role() {
    let app = TestApp::spawn().await;
    let root = app.admin("root@example.com").await;
    let user = app.user("bob@example.com").await;
    app.patch(
        &format!("/api/admin/users/{}", user.user_id),
        &root.access,
        json!({"role": "admin"}),
    )
    .await;
    let keys = keys(&app).await;
    let mut stream = feed(&app, None).await;
    let head = read_until(&mut stream, |m| m.1 == "synced").await;
    let event = verify(
        &app,
        &keys,
        &head.iter().find(|m| m.1 == "revocation").unwrap().2,
    );
    let change =
        &event.events["https://schemas.openid.net/secevent/caep/event-type/token-claims-change"];
    assert_eq!(change.claims, Some(json!({"role": "admin"})));
    assert_eq!(change.initiating_entity, "admin");
}

#[tokio::test]
async fn a_bad_cursor_in_the_query_is_422_and_in_the_header_costs_a_full_backlog() {
    let app = TestApp::spawn().await;
    let response = app
        .client
        .get(app.url("/.well-known/revocations?after=-1"))
        .send()
        .await
        .unwrap();
    assert_eq!(error_fields(&problem(response, 422).await), ["after"]);
    let mut stream = feed(&app, Some("not a number")).await;
    read_until(&mut stream, |m| m.1 == "synced").await;
    // Advertised where a verifier looks.
    let discovery: serde_json::Value = app
        .client
        .get(app.url("/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        discovery["revocation_feed_uri"],
        "http://auth.test/.well-known/revocations"
    );
}
