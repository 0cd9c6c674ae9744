//! Forgot → 202 always; the token reaches the webhook; reset works once and ends sessions.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::*;

async fn app_with(webhook: &Webhook) -> TestApp {
    let url = webhook.url();
    TestApp::spawn_with(move |s| s.reset_webhook_url = Some(url)).await
}

async fn forgot(app: &TestApp, email: &str) -> u16 {
    app.post("/api/auth/password/forgot", json!({ "email": email }))
        .await
        .status()
        .as_u16()
}

#[tokio::test]
async fn the_reset_flow_works_once_and_ends_every_session() {
    let webhook = Webhook::start().await;
    let app = app_with(&webhook).await;
    let session = app.user("ann@example.com").await;

    assert_eq!(forgot(&app, " ANN@example.com").await, 202);
    let delivery = webhook.wait_for(1).await;
    assert_eq!(delivery["email"], "ann@example.com");
    let token = delivery["token"].as_str().unwrap().to_owned();
    assert!(token.len() >= 43, "256 bits of randomness");
    assert!(delivery["expires_at"].as_str().unwrap().ends_with('Z'));

    let weak = app
        .post(
            "/api/auth/password/reset",
            json!({"token": token, "new_password": "password"}),
        )
        .await;
    assert_eq!(error_fields(&problem(weak, 422).await), ["new_password"]);

    let response = app
        .post(
            "/api/auth/password/reset",
            json!({"token": token, "new_password": "a new long passphrase"}),
        )
        .await;
    assert_eq!(response.status(), 204, "a refused password spent nothing");
    problem(app.refresh(&session.refresh).await, 401).await;
    problem(app.login("ann@example.com", PASSWORD).await, 401).await;
    assert_eq!(
        app.login("ann@example.com", "a new long passphrase")
            .await
            .status(),
        200
    );

    let again = app
        .post(
            "/api/auth/password/reset",
            json!({"token": token, "new_password": "yet another passphrase"}),
        )
        .await;
    problem(again, 400).await;
}

#[tokio::test]
async fn an_unknown_email_gets_the_same_202_and_nothing_is_sent() {
    let webhook = Webhook::start().await;
    let app = app_with(&webhook).await;
    app.register("ben@example.com").await;
    assert_eq!(forgot(&app, "nobody@example.com").await, 202);
    assert_eq!(forgot(&app, "ben@example.com").await, 202);
    webhook.wait_for(1).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let received = webhook.received();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0]["email"], "ben@example.com");
    problem(
        app.post(
            "/api/auth/password/forgot",
            json!({"email": "not an email"}),
        )
        .await,
        422,
    )
    .await;
}

#[tokio::test]
async fn unknown_and_expired_tokens_are_400() {
    let webhook = Webhook::start().await;
    let url = webhook.url();
    let app = TestApp::spawn_with(move |s| {
        s.reset_webhook_url = Some(url);
        s.reset_token_ttl_secs = 1;
    })
    .await;
    app.register("cat@example.com").await;
    let unknown = app
        .post(
            "/api/auth/password/reset",
            json!({"token": "made-up", "new_password": "a new long passphrase"}),
        )
        .await;
    problem(unknown, 400).await;

    assert_eq!(forgot(&app, "cat@example.com").await, 202);
    let token = webhook.wait_for(1).await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    let expired = app
        .post(
            "/api/auth/password/reset",
            json!({"token": token, "new_password": "a new long passphrase"}),
        )
        .await;
    problem(expired, 400).await;
}

#[tokio::test]
async fn a_webhook_that_fails_is_retried_and_the_202_is_unchanged() {
    let webhook = Webhook::start().await;
    webhook.fail(true);
    let app = app_with(&webhook).await;
    app.register("dan@example.com").await;
    let started = std::time::Instant::now();
    assert_eq!(forgot(&app, "dan@example.com").await, 202);
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "the 202 does not wait for delivery"
    );
    eventually("a retry", || async { webhook.attempts() >= 2 }).await;
    webhook.fail(false);
    let delivered: Value = webhook.wait_for(1).await;
    assert_eq!(delivered["email"], "dan@example.com");
}

#[tokio::test]
async fn a_webhook_that_is_down_is_logged_and_counted() {
    // Nothing listens on this port: every attempt fails to connect.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", closed.local_addr().unwrap());
    drop(closed);
    let app = TestApp::spawn_with(move |s| s.reset_webhook_url = Some(url)).await;
    app.register("eve@example.com").await;
    let failures = |text: &str| -> f64 {
        text.lines()
            .filter(|l| l.starts_with("reset_webhook_failures_total") && l.contains("delivery"))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum()
    };
    let before = failures(&app.metrics().await);
    assert_eq!(forgot(&app, "eve@example.com").await, 202);
    eventually("the failure is counted", || async {
        failures(&app.metrics().await) > before
    })
    .await;
}

// Two worker threads: the service's delivery work for a known address must not share the one
// thread that also reads the answer, or the measurement would charge it to the request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forgot_takes_the_same_time_for_a_known_and_an_unknown_address() {
    let webhook = Webhook::start().await;
    let url = webhook.url();
    let app = TestApp::spawn_with(move |s| {
        s.reset_webhook_url = Some(url);
        s.forgot_per_account_per_hour = 0;
        s.forgot_per_addr_per_min = 0;
    })
    .await;
    app.register("fay@example.com").await;
    // Warm both paths, then alternate so that drift hits both alike.
    forgot(&app, "fay@example.com").await;
    forgot(&app, "nobody@example.com").await;
    let (mut known, mut unknown) = (Vec::new(), Vec::new());
    for _ in 0..40 {
        let started = std::time::Instant::now();
        assert_eq!(forgot(&app, "fay@example.com").await, 202);
        known.push(started.elapsed());
        let started = std::time::Instant::now();
        assert_eq!(forgot(&app, "nobody@example.com").await, 202);
        unknown.push(started.elapsed());
    }
    known.sort();
    unknown.sort();
    // The lower quartile: what a request costs when nothing else on the machine (other tests run
    // in parallel) gets in its way.
    let (known, unknown) = (known[10], unknown[10]);
    eprintln!("forgot lower quartiles: known {known:?}, unknown {unknown:?}");
    // The request does the same work for both; everything that depends on the account happens
    // after the answer. Before, the known address answered measurably later (an insert and the
    // hand-off to delivery on the request path: 2.9 ms against 1.8 ms).
    assert!(
        known * 3 < unknown * 4 && unknown * 3 < known * 4,
        "lower quartiles: known {known:?}, unknown {unknown:?}"
    );
    webhook.wait_for(41).await;
}

const WEBHOOK_SECRET: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";

async fn signing_app(webhook: &Webhook) -> TestApp {
    let url = webhook.url();
    TestApp::spawn_with(move |s| {
        s.reset_webhook_url = Some(url);
        s.reset_webhook_secret = Some(WEBHOOK_SECRET.to_owned().into());
    })
    .await
}

/// Verifies one attempt with the Standard Webhooks reference library.
fn verify(
    secret: &str,
    (headers, body): &(reqwest::header::HeaderMap, axum::body::Bytes),
) -> Result<(), standardwebhooks::WebhookError> {
    standardwebhooks::Webhook::new(secret)
        .unwrap()
        .verify(body, headers)
}

#[tokio::test]
async fn deliveries_are_signed_as_the_standard_webhooks_reference_verifies() {
    let webhook = Webhook::start().await;
    let app = signing_app(&webhook).await;
    app.register("gus@example.com").await;
    assert_eq!(forgot(&app, "gus@example.com").await, 202);
    webhook.wait_for(1).await;
    let attempt = webhook.attempt_log().remove(0);
    verify(WEBHOOK_SECRET, &attempt).expect("the reference library accepts the delivery");
    assert!(
        attempt.0["webhook-id"]
            .to_str()
            .unwrap()
            .starts_with("msg_")
    );

    let other_secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    assert!(verify(other_secret, &attempt).is_err(), "another key");
    let (headers, body) = attempt;
    let tampered = String::from_utf8(body.to_vec())
        .unwrap()
        .replace("gus@", "eve@");
    assert!(
        verify(WEBHOOK_SECRET, &(headers, tampered.into())).is_err(),
        "another body"
    );
}

#[tokio::test]
async fn without_a_secret_deliveries_carry_no_signature() {
    let webhook = Webhook::start().await;
    let app = app_with(&webhook).await;
    app.register("hal@example.com").await;
    assert_eq!(forgot(&app, "hal@example.com").await, 202);
    webhook.wait_for(1).await;
    let (headers, _) = webhook.attempt_log().remove(0);
    assert!(headers.get("webhook-signature").is_none());
}

#[tokio::test]
async fn a_retry_keeps_the_id_and_is_signed_afresh() {
    let webhook = Webhook::start().await;
    webhook.answer_with(reqwest::StatusCode::SERVICE_UNAVAILABLE);
    let app = signing_app(&webhook).await;
    app.register("ida@example.com").await;
    assert_eq!(forgot(&app, "ida@example.com").await, 202);
    eventually("a retry", || async { webhook.attempts() >= 2 }).await;
    webhook.fail(false);
    webhook.wait_for(1).await;
    let attempts = webhook.attempt_log();
    let id = &attempts[0].0["webhook-id"];
    for attempt in &attempts {
        assert_eq!(&attempt.0["webhook-id"], id, "one id for every attempt");
        verify(WEBHOOK_SECRET, attempt).expect("every attempt is signed");
    }
}

#[tokio::test]
async fn a_4xx_answer_is_not_retried() {
    let webhook = Webhook::start().await;
    webhook.answer_with(reqwest::StatusCode::BAD_REQUEST);
    let app = app_with(&webhook).await;
    app.register("jon@example.com").await;
    assert_eq!(forgot(&app, "jon@example.com").await, 202);
    eventually("the first attempt", || async { webhook.attempts() == 1 }).await;
    // A retry would come within a second (0.5 s and at most as much jitter); give it three.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(webhook.attempts(), 1);
}

#[tokio::test]
async fn a_408_or_429_answer_is_retried() {
    for status in [
        reqwest::StatusCode::REQUEST_TIMEOUT,
        reqwest::StatusCode::TOO_MANY_REQUESTS,
    ] {
        let webhook = Webhook::start().await;
        webhook.answer_with(status);
        let app = app_with(&webhook).await;
        app.register("kim@example.com").await;
        assert_eq!(forgot(&app, "kim@example.com").await, 202);
        eventually("a retry", || async { webhook.attempts() >= 2 }).await;
    }
}

#[tokio::test]
async fn a_delivery_carries_the_trace_of_the_request_that_asked_for_it() {
    let webhook = Webhook::start().await;
    let app = app_with(&webhook).await;
    app.register("lea@example.com").await;
    let trace_id = "0af7651916cd43dd8448eb211c80319c";
    let asked = app
        .client
        .post(app.url("/api/auth/password/forgot"))
        .header("traceparent", format!("00-{trace_id}-b7ad6b7169203331-01"))
        .json(&json!({"email": "lea@example.com"}))
        .send()
        .await
        .unwrap();
    assert_eq!(asked.status(), 202);
    webhook.wait_for(1).await;
    let (headers, _) = webhook.attempt_log().remove(0);
    let traceparent = headers["traceparent"].to_str().unwrap();
    assert!(
        traceparent.starts_with(&format!("00-{trace_id}-")),
        "{traceparent}"
    );
    assert!(
        !traceparent.contains("b7ad6b7169203331"),
        "a span of our own"
    );
}
