//! The key cache against a JWKS server the test controls and whose requests it counts.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use shared_claims::test_util::JwksServer;
use shared_claims::{Authenticator, JwksConfig, Rejection, VerifierConfig};

use crate::helpers::*;

fn config(server: &JwksServer) -> JwksConfig {
    let mut config = JwksConfig::new(server.url());
    config.min_refresh = Duration::from_millis(500);
    config
}

fn authenticator(config: JwksConfig) -> Arc<Authenticator> {
    Arc::new(Authenticator::new(VerifierConfig::new(ISSUER, AUDIENCE, LEEWAY), config).unwrap())
}

async fn wait_until(what: &str, mut condition: impl FnMut() -> bool) {
    for _ in 0..200 {
        if condition() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("timed out waiting until {what}");
}

/// Starts the authenticator and waits for its first fetch, then for the cool-down to pass.
async fn started(server: &JwksServer, config: JwksConfig) -> Arc<Authenticator> {
    let cool_down = config.min_refresh;
    let auth = authenticator(config);
    auth.start();
    wait_until("the first fetch", || auth.jwks().unwrap().holds_keys()).await;
    tokio::time::sleep(cool_down + Duration::from_millis(50)).await;
    assert_eq!(server.hits(), 1);
    auth
}

#[tokio::test]
async fn readiness_is_false_until_the_first_fetch_succeeds() {
    let server = JwksServer::start(vec![key().jwk()]).await;
    server.set_delay(Duration::from_millis(600));
    let auth = authenticator(config(&server));
    assert!(!auth.jwks().unwrap().holds_keys());
    assert_eq!(
        auth.authenticate(&token(json!({}))).await.map(|_| ()),
        Err(Rejection::NoKeys)
    );
    auth.start();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        !auth.jwks().unwrap().holds_keys(),
        "ready while the fetch is in flight"
    );
    wait_until("keys are held", || auth.jwks().unwrap().holds_keys()).await;
    assert!(auth.authenticate(&token(json!({}))).await.is_ok());
}

#[tokio::test]
async fn a_hundred_concurrent_unknown_kids_cause_exactly_one_fetch() {
    let server = JwksServer::start(vec![key().jwk()]).await;
    let auth = started(&server, config(&server)).await;

    // The issuer publishes a new key; a slow answer keeps every caller waiting on one fetch.
    server.set_keys(vec![key().jwk(), other_key().jwk()]);
    server.set_delay(Duration::from_millis(300));
    let token = other_key().access_token(ISSUER, AUDIENCE, json!({}));
    let mut tasks = Vec::new();
    for _ in 0..100 {
        let (auth, token) = (Arc::clone(&auth), token.clone());
        tasks.push(tokio::spawn(async move { auth.authenticate(&token).await }));
    }
    for task in tasks {
        assert!(task.await.unwrap().is_ok());
    }
    assert_eq!(server.hits(), 2, "one fetch for a hundred waiting requests");
}

#[tokio::test]
async fn a_second_unknown_kid_inside_the_cool_down_causes_no_fetch() {
    let server = JwksServer::start(vec![key().jwk()]).await;
    let mut config = config(&server);
    config.min_refresh = Duration::from_secs(2);
    let auth = started(&server, config).await;

    let first = other_key().access_token(ISSUER, AUDIENCE, json!({}));
    assert_eq!(
        auth.authenticate(&first).await.map(|_| ()),
        Err(Rejection::UnknownKeyId)
    );
    assert_eq!(server.hits(), 2);
    let second = third_key().access_token(ISSUER, AUDIENCE, json!({}));
    for _ in 0..5 {
        assert_eq!(
            auth.authenticate(&second).await.map(|_| ()),
            Err(Rejection::UnknownKeyId)
        );
    }
    assert_eq!(server.hits(), 2, "no fetch inside the cool-down");
    assert_eq!(auth.jwks().unwrap().stats().fetches, 2);
}

#[tokio::test]
async fn a_rotated_key_is_picked_up_and_the_old_one_keeps_working_while_published() {
    let server = JwksServer::start(vec![key().jwk()]).await;
    let auth = started(&server, config(&server)).await;
    let old = key().access_token(ISSUER, AUDIENCE, json!({}));
    assert!(auth.authenticate(&old).await.is_ok());

    server.set_keys(vec![other_key().jwk(), key().jwk()]);
    let new = other_key().access_token(ISSUER, AUDIENCE, json!({}));
    assert!(auth.authenticate(&new).await.is_ok());
    assert!(auth.authenticate(&old).await.is_ok());
}

#[tokio::test]
async fn keys_are_refreshed_when_max_age_runs_out() {
    let server = JwksServer::start(vec![key().jwk()]).await;
    server.set_cache_control("public, max-age=1");
    let auth = authenticator(config(&server));
    auth.start();
    wait_until("the first fetch", || server.hits() >= 1).await;
    wait_until("a refresh after max-age", || server.hits() >= 2).await;
    // A published key change arrives without any token asking for it.
    server.set_keys(vec![other_key().jwk()]);
    let hits = server.hits();
    wait_until("the next refresh", || server.hits() > hits).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    let keys = auth.jwks().unwrap().keys().unwrap();
    assert!(keys.contains(&other_key().kid));
    assert!(!keys.contains(&key().kid));
}

#[tokio::test]
async fn a_key_that_leaves_the_jwks_invalidates_its_cached_tokens() {
    let server = JwksServer::start(vec![key().jwk()]).await;
    server.set_cache_control("max-age=1");
    let auth = authenticator(config(&server));
    auth.start();
    wait_until("the first fetch", || auth.jwks().unwrap().holds_keys()).await;
    let token = token(json!({}));
    assert!(auth.authenticate(&token).await.is_ok());
    assert!(
        auth.authenticate(&token).await.is_ok(),
        "served from the cache"
    );

    server.set_keys(vec![other_key().jwk()]);
    wait_until("the key leaves the cache", || {
        auth.jwks()
            .unwrap()
            .keys()
            .is_some_and(|k| !k.contains(&key().kid))
    })
    .await;
    assert_eq!(
        auth.authenticate(&token).await.map(|_| ()),
        Err(Rejection::UnknownKeyId)
    );
}

#[tokio::test]
async fn with_the_issuer_down_known_keys_verify_until_max_stale_then_stop() {
    let mut server = JwksServer::start(vec![key().jwk()]).await;
    server.set_cache_control("max-age=1");
    let mut config = config(&server);
    config.max_stale = Duration::from_secs(2);
    config.min_refresh = Duration::from_millis(200);
    let auth = authenticator(config);
    auth.start();
    wait_until("the first fetch", || auth.jwks().unwrap().holds_keys()).await;
    let token = token(json!({}));
    assert!(auth.authenticate(&token).await.is_ok());

    server.stop().await;
    let stopped = std::time::Instant::now();
    // Refreshes now fail; the keys held keep serving.
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    assert!(
        auth.jwks().unwrap().stats().failures >= 1,
        "{:?}",
        auth.jwks().unwrap().stats()
    );
    assert!(auth.jwks().unwrap().holds_keys());
    assert!(auth.authenticate(&token).await.is_ok());

    wait_until("the keys go stale", || !auth.jwks().unwrap().holds_keys()).await;
    assert!(stopped.elapsed() >= Duration::from_millis(900));
    assert_eq!(
        auth.authenticate(&token).await.map(|_| ()),
        Err(Rejection::NoKeys)
    );
}

#[tokio::test]
async fn the_keys_come_back_when_the_issuer_does() {
    let mut server = JwksServer::start(vec![key().jwk()]).await;
    let addr = server.addr();
    let mut config = config(&server);
    config.max_stale = Duration::from_millis(500);
    config.min_refresh = Duration::from_millis(200);
    server.set_cache_control("max-age=1");
    let auth = authenticator(config);
    auth.start();
    wait_until("the first fetch", || auth.jwks().unwrap().holds_keys()).await;
    server.stop().await;
    wait_until("the keys go stale", || !auth.jwks().unwrap().holds_keys()).await;

    let _server = JwksServer::start_on(addr, vec![key().jwk()]).await;
    wait_until("keys are held again", || auth.jwks().unwrap().holds_keys()).await;
    assert!(auth.authenticate(&token(json!({}))).await.is_ok());
}

#[tokio::test]
async fn a_redirect_from_the_jwks_url_is_not_followed() {
    let server = JwksServer::start(vec![key().jwk()]).await;
    let mut config = config(&server);
    config.url = server.redirecting_url();
    let auth = authenticator(config);
    auth.start();
    let jwks = auth.jwks().unwrap().clone();
    wait_until("the first fetch failed", || jwks.stats().failures >= 1).await;
    assert!(!jwks.holds_keys());
    assert_eq!(server.hits(), 0, "the redirect target was fetched");
    assert_eq!(
        auth.authenticate(&token(json!({}))).await.map(|_| ()),
        Err(Rejection::NoKeys)
    );
}
