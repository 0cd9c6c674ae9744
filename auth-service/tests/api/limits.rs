//! The login-failure window and request-rate limits.

use std::time::Duration;

use serde_json::json;

use crate::helpers::*;

fn retry_after(response: &reqwest::Response) -> u64 {
    response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

#[tokio::test]
async fn after_max_failures_an_account_gets_429_even_with_the_right_password() {
    let app = TestApp::spawn_with(|s| {
        s.login_max_failures = 3;
        s.login_failure_window_secs = 60;
    })
    .await;
    app.register("vic@example.com").await;
    for _ in 0..3 {
        problem(app.login("vic@example.com", "wrong password").await, 401).await;
    }
    let limited = app.login("vic@example.com", PASSWORD).await;
    let wait = retry_after(&limited);
    assert!((1..=60).contains(&wait), "Retry-After {wait}");
    problem(limited, 429).await;
    // Another account from the same address is unaffected.
    app.register("wes@example.com").await;
    assert_eq!(app.login("wes@example.com", PASSWORD).await.status(), 200);
}

#[tokio::test]
async fn unknown_emails_count_too() {
    let app = TestApp::spawn_with(|s| s.login_max_failures = 2).await;
    for _ in 0..2 {
        problem(app.login("ghost@example.com", "whatever pw").await, 401).await;
    }
    problem(app.login("ghost@example.com", "whatever pw").await, 429).await;
}

#[tokio::test]
async fn a_success_clears_the_accounts_count() {
    let app = TestApp::spawn_with(|s| s.login_max_failures = 3).await;
    app.register("xena@example.com").await;
    for _ in 0..2 {
        problem(app.login("xena@example.com", "wrong password").await, 401).await;
    }
    assert_eq!(app.login("xena@example.com", PASSWORD).await.status(), 200);
    for _ in 0..3 {
        problem(app.login("xena@example.com", "wrong password").await, 401).await;
    }
    problem(app.login("xena@example.com", PASSWORD).await, 429).await;
}

#[tokio::test]
async fn the_window_passes() {
    let app = TestApp::spawn_with(|s| {
        s.login_max_failures = 1;
        s.login_failure_window_secs = 2;
    })
    .await;
    app.register("yves@example.com").await;
    problem(app.login("yves@example.com", "wrong password").await, 401).await;
    problem(app.login("yves@example.com", PASSWORD).await, 429).await;
    tokio::time::sleep(Duration::from_millis(2_200)).await;
    assert_eq!(app.login("yves@example.com", PASSWORD).await.status(), 200);
}

#[tokio::test]
async fn an_address_has_its_own_limit_across_accounts() {
    let app = TestApp::spawn_with(|s| {
        s.login_max_failures = 100;
        s.login_max_failures_per_addr = 4;
    })
    .await;
    app.register("zoe@example.com").await;
    for i in 0..4 {
        problem(
            app.login(&format!("nobody{i}@example.com"), "wrong password")
                .await,
            401,
        )
        .await;
    }
    let limited = app.login("zoe@example.com", PASSWORD).await;
    assert!(retry_after(&limited) >= 1);
    problem(limited, 429).await;
}

#[tokio::test]
async fn concurrent_wrong_passwords_never_exceed_the_limit() {
    let app = std::sync::Arc::new(TestApp::spawn_with(|s| s.login_max_failures = 5).await);
    app.register("amy@example.com").await;
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let app = std::sync::Arc::clone(&app);
        tasks.push(tokio::spawn(async move {
            app.login("amy@example.com", "wrong password")
                .await
                .status()
                .as_u16()
        }));
    }
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap());
    }
    let checked = statuses.iter().filter(|s| **s == 401).count();
    assert_eq!(checked, 5, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 15);
}

#[tokio::test]
async fn registrations_per_address_are_rate_limited() {
    let app = TestApp::spawn_with(|s| s.register_per_addr_per_min = 2).await;
    app.register("r1@example.com").await;
    app.register("r2@example.com").await;
    let limited = app
        .post(
            "/api/auth/register",
            json!({"email": "r3@example.com", "password": PASSWORD}),
        )
        .await;
    assert!(retry_after(&limited) >= 1);
    problem(limited, 429).await;
}

#[tokio::test]
async fn forgot_is_rate_limited_per_account() {
    let app = TestApp::spawn_with(|s| s.forgot_per_account_per_hour = 2).await;
    for _ in 0..2 {
        let response = app
            .post(
                "/api/auth/password/forgot",
                json!({"email": "bo@example.com"}),
            )
            .await;
        assert_eq!(response.status(), 202);
    }
    let limited = app
        .post(
            "/api/auth/password/forgot",
            json!({"email": "bo@example.com"}),
        )
        .await;
    problem(limited, 429).await;
    let other = app
        .post(
            "/api/auth/password/forgot",
            json!({"email": "cy@example.com"}),
        )
        .await;
    assert_eq!(other.status(), 202);
}

#[tokio::test]
async fn refreshes_per_account_are_rate_limited() {
    let app = TestApp::spawn_with(|s| s.refresh_per_account_per_min = 2).await;
    let mut tokens = app.user("di@example.com").await;
    for _ in 0..2 {
        let response = app.refresh(&tokens.refresh).await;
        assert_eq!(response.status(), 200);
        tokens = Tokens::from(response.json::<serde_json::Value>().await.unwrap());
    }
    problem(app.refresh(&tokens.refresh).await, 429).await;
}

async fn login_from(app: &TestApp, forwarded_for: &str, email: &str) -> u16 {
    app.client
        .post(app.url("/api/auth/login"))
        .header("x-forwarded-for", forwarded_for)
        .json(&json!({"email": email, "password": "wrong password"}))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn x_forwarded_for_decides_the_address_only_when_trusted() {
    let trusting = TestApp::spawn_with(|s| {
        s.trust_forwarded_for = true;
        s.login_max_failures_per_addr = 2;
    })
    .await;
    // The right-most entry is the address: what a client writes to the left is ignored.
    for i in 0..2 {
        assert_eq!(
            login_from(
                &trusting,
                &format!("9.9.9.{i}, 1.1.1.1"),
                &format!("a{i}@example.com")
            )
            .await,
            401
        );
    }
    assert_eq!(
        login_from(&trusting, "1.1.1.1", "a9@example.com").await,
        429
    );
    assert_eq!(
        login_from(&trusting, "2.2.2.2", "b@example.com").await,
        401,
        "another address"
    );

    let ignoring = TestApp::spawn_with(|s| s.login_max_failures_per_addr = 2).await;
    for i in 0..2 {
        assert_eq!(
            login_from(
                &ignoring,
                &format!("3.3.3.{i}"),
                &format!("c{i}@example.com")
            )
            .await,
            401
        );
    }
    // Untrusted, every attempt came from the peer (127.0.0.1), whatever the header said.
    assert_eq!(login_from(&ignoring, "4.4.4.4", "d@example.com").await, 429);
}
