//! 1,000 concurrent login attempts: memory stays bounded, `/healthz` and the JWKS stay fast.

use std::time::{Duration, Instant};

use crate::process::Service;
use service_kit::test_db::TestDb;

use crate::helpers::*;

/// The bound this test holds the auth service to during the flood (resident set, peak).
const PEAK_RSS_BOUND_KIB: u64 = 256 * 1024;

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_flood_neither_grows_memory_without_bound_nor_stalls_health_and_jwks() {
    let _serial = SERIAL.lock().await;
    let db = TestDb::new().await;
    let mut env = auth_env(&db);
    env.push(("AUTH_LOGIN_MAX_FAILURES", "1000000".into()));
    env.push(("AUTH_LOGIN_MAX_FAILURES_PER_ADDR", "1000000".into()));
    let mut auth = Service::spawn("auth-service", "AUTH_LISTEN_ADDR", &env);
    auth.wait_ready(START).await;
    let idle_rss = auth.rss_kib();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    register(&client, &auth.base, "flood@example.com").await;

    let flood: Vec<_> = (0..1_000)
        .map(|i| {
            let (client, base) = (client.clone(), auth.base.clone());
            tokio::spawn(async move {
                client
                    .post(format!("{base}/api/auth/login"))
                    .json(&serde_json::json!({"email": format!("flood{i}@example.com"), "password": "not the password"}))
                    .send()
                    .await
                    .map(|r| r.status().as_u16())
            })
        })
        .collect();

    let probe = reqwest::Client::new();
    let (mut health, mut jwks) = (Vec::new(), Vec::new());
    let started = Instant::now();
    while !flood.iter().all(|t| t.is_finished()) && started.elapsed() < Duration::from_secs(120) {
        for (path, samples) in [
            ("/healthz", &mut health),
            ("/.well-known/jwks.json", &mut jwks),
        ] {
            let sent = Instant::now();
            let response = probe
                .get(auth.url(path))
                .timeout(Duration::from_secs(2))
                .send()
                .await;
            assert_eq!(response.expect("answered during the flood").status(), 200);
            samples.push(sent.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let flood_time = started.elapsed();
    let mut statuses = std::collections::BTreeMap::new();
    for task in flood {
        *statuses
            .entry(task.await.unwrap().unwrap_or(0))
            .or_insert(0) += 1;
    }
    let peak = auth.peak_rss_kib();
    println!(
        "login flood: 1000 attempts in {flood_time:?}, statuses {statuses:?}; /healthz p50 {:?}, \
         JWKS p50 {:?} ({} samples); RSS idle {} KiB, peak {} KiB",
        median(health.clone()),
        median(jwks.clone()),
        health.len(),
        idle_rss,
        peak
    );
    assert_eq!(
        statuses.get(&401),
        Some(&1_000),
        "every attempt was checked: {statuses:?}"
    );
    assert!(health.len() >= 5, "sampled during the flood");
    assert!(
        peak <= PEAK_RSS_BOUND_KIB,
        "peak RSS {peak} KiB over the bound"
    );
}
