//! SIGTERM under load: every request already in flight completes; the process exits 0.

use std::time::Duration;

use crate::process::Service;
use service_kit::test_db::TestDb;

use crate::helpers::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_drains_in_flight_requests_then_exits_zero() {
    let _serial = SERIAL.lock().await;
    let db = TestDb::new().await;
    let mut auth = Service::spawn("auth-service", "AUTH_LISTEN_ADDR", &auth_env(&db));
    auth.wait_ready(START).await;
    let client = reqwest::Client::new();
    register(&client, &auth.base, "drain@example.com").await;

    // Logins cost an argon2id hash each, two at a time: forty keep the service busy for a while.
    let in_flight: Vec<_> = (0..40)
        .map(|_| {
            let (client, base) = (client.clone(), auth.base.clone());
            tokio::spawn(async move {
                client
                    .post(format!("{base}/api/auth/login"))
                    .json(&serde_json::json!({"email": "drain@example.com", "password": PASSWORD}))
                    .send()
                    .await
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(150)).await;
    auth.terminate();

    let mut completed = 0;
    for request in in_flight {
        let response = request.await.unwrap().expect("a request was cut off");
        assert_eq!(response.status(), 200);
        completed += 1;
    }
    assert_eq!(completed, 40);
    let status = auth.wait_exit(Duration::from_secs(20)).await;
    assert!(status.success(), "exit status {status}");
}
