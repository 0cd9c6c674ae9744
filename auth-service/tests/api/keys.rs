//! Signing keys: JWKS, discovery, rotation across the pre-publication window, the
//! key-encryption key, replicas starting together.

use std::sync::Arc;
use std::time::{Duration, Instant};

use sea_orm::EntityTrait;
use serde_json::Value;
use service_kit::test_db::TestDb;

use crate::helpers::*;

async fn jwks(app: &TestApp) -> (Value, String) {
    let response = app
        .client
        .get(app.url("/.well-known/jwks.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let cache = response.headers()["cache-control"]
        .to_str()
        .unwrap()
        .to_owned();
    (response.json().await.unwrap(), cache)
}

fn kids(jwks: &Value) -> Vec<String> {
    jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect()
}

async fn stored_keys(url: &str) -> Vec<auth_service::store::entities::signing_key::Model> {
    let conn = service_kit::db::connect(&service_kit::db::DbConfig::new(url.to_owned()))
        .await
        .unwrap();
    let keys = auth_service::store::entities::signing_key::Entity::find()
        .all(&conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    keys
}

#[tokio::test]
async fn the_jwks_publishes_rsa_keys_under_their_rfc_7638_thumbprint() {
    let app = TestApp::spawn().await;
    let (body, cache) = jwks(&app).await;
    assert!(cache.starts_with("public, max-age="), "{cache}");
    let max_age: u64 = cache
        .trim_start_matches("public, max-age=")
        .parse()
        .unwrap();
    assert!(max_age > 0 && max_age <= 300);
    let keys = body["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1);
    let key = &keys[0];
    assert_eq!(key["kty"], "RSA");
    assert_eq!(key["use"], "sig");
    assert_eq!(key["alg"], "RS256");
    let (n, e) = (key["n"].as_str().unwrap(), key["e"].as_str().unwrap());
    assert_eq!(key["kid"], shared_claims::rsa_thumbprint(n, e));
    use base64::Engine;
    let modulus = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(n)
        .unwrap();
    assert_eq!(modulus.len() * 8, 2048);
    assert!(
        key.get("d").is_none() && key.get("p").is_none(),
        "no private parts"
    );

    let tokens = app.user("lou@example.com").await;
    assert_eq!(header(&tokens.access)["kid"], key["kid"]);
}

#[tokio::test]
async fn both_discovery_documents_name_the_issuer_exactly_and_the_jwks() {
    let app = TestApp::spawn_with(|s| s.issuer = "https://auth.example.com/".into()).await;
    let mut documents = Vec::new();
    for path in [
        "/.well-known/oauth-authorization-server",
        "/.well-known/openid-configuration",
    ] {
        let response = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 200);
        documents.push(response.json::<Value>().await.unwrap());
    }
    assert_eq!(documents[0], documents[1]);
    assert_eq!(documents[0]["issuer"], "https://auth.example.com/");
    assert_eq!(
        documents[0]["jwks_uri"],
        "https://auth.example.com/.well-known/jwks.json"
    );
}

#[tokio::test]
async fn a_rotated_key_is_published_before_it_signs_and_old_tokens_keep_verifying() {
    let app = TestApp::spawn_with(|s| {
        s.signing_key_pre_publish_secs = 5;
        s.key_refresh_secs = 1;
    })
    .await;
    let (before, cache) = jwks(&app).await;
    assert_eq!(cache, "public, max-age=2");
    let old_kid = kids(&before)[0].clone();
    let old = app.user("max@example.com").await;

    let db = service_kit::db::connect(&app.settings.db_config())
        .await
        .unwrap();
    let manager = auth_service::app::signing_keys(
        &app.settings,
        db.clone(),
        auth_service::app::KekFile::MustExist,
    )
    .unwrap();
    let rotated_at = Instant::now();
    let new_kid = match manager.rotate().await.unwrap() {
        auth_service::keys::Rotation::Published(key) => key.kid,
        other => panic!("{other:?}"),
    };
    // Rotating again while a key is pending publishes nothing more.
    assert!(matches!(
        manager.rotate().await.unwrap(),
        auth_service::keys::Rotation::AlreadyPending(_)
    ));

    eventually("the new key is published", || async {
        kids(&jwks(&app).await.0).contains(&new_kid)
    })
    .await;
    assert!(
        rotated_at.elapsed() < Duration::from_secs(4),
        "published within the refresh interval"
    );
    let during = app.tokens("max@example.com", PASSWORD).await;
    assert_eq!(
        header(&during.access)["kid"],
        old_kid,
        "the new key does not sign yet"
    );

    tokio::time::sleep(
        Duration::from_secs(5).saturating_sub(rotated_at.elapsed()) + Duration::from_millis(300),
    )
    .await;
    let after = app.tokens("max@example.com", PASSWORD).await;
    assert_eq!(header(&after.access)["kid"], new_kid.as_str());
    let (published, _) = jwks(&app).await;
    assert!(
        kids(&published).contains(&old_kid),
        "the retired key stays published"
    );
    assert_eq!(
        app.get("/api/auth/profile", &old.access).await.status(),
        200
    );
    assert_eq!(
        app.refresh(&old.refresh).await.status(),
        200,
        "refresh tokens signed by it too"
    );

    eventually("the database promotes the key", || async {
        let states: Vec<(String, String)> = stored_keys(&app.db.url)
            .await
            .into_iter()
            .map(|k| (k.kid, k.state.as_str().to_owned()))
            .collect();
        states.contains(&(new_kid.clone(), "active".into()))
            && states.contains(&(old_kid.clone(), "retired".into()))
    })
    .await;
}

#[tokio::test]
async fn private_keys_are_stored_only_encrypted() {
    let app = TestApp::spawn().await;
    let keys = stored_keys(&app.db.url).await;
    assert_eq!(keys.len(), 1);
    let sealed = &keys[0].private_key_encrypted;
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(
            sealed
                .strip_prefix("v2:")
                .expect("the current sealed format"),
        )
        .unwrap();
    // PKCS#1 DER starts with SEQUENCE (0x30 0x82); ciphertext after a 12-byte nonce does not.
    assert!(!(bytes.get(12) == Some(&0x30) && bytes.get(13) == Some(&0x82)));
    assert!(!sealed.contains("PRIVATE KEY"));
}

#[tokio::test]
async fn a_malformed_or_wrong_key_encryption_key_stops_the_start_and_replaces_nothing() {
    let db = Arc::new(TestDb::new().await);
    let app = TestApp::start(settings(&db), Arc::clone(&db)).await;
    drop(app);
    let before = stored_keys(&db.url).await;

    let mut malformed = settings(&db);
    malformed.key_encryption_key = Some("not base64!".to_owned().into());
    let error = auth_service::App::build(malformed)
        .await
        .err()
        .expect("refused");
    assert!(
        error.to_string().contains("AUTH_KEY_ENCRYPTION_KEY"),
        "{error}"
    );

    let mut wrong = settings(&db);
    wrong.key_encryption_key = Some(
        "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc="
            .to_owned()
            .into(),
    );
    let error = auth_service::App::build(wrong)
        .await
        .err()
        .expect("refused");
    assert!(error.to_string().contains("cannot be decrypted"), "{error}");
    assert_eq!(stored_keys(&db.url).await, before);
}

#[tokio::test]
async fn postgresql_without_a_key_encryption_key_is_refused_unless_insecure_dev() {
    let db = Arc::new(TestDb::new().await);
    if !db.is_postgres() {
        return; // The rule is about PostgreSQL; SQLite falls back to a generated key file.
    }
    let mut plain = settings(&db);
    plain.key_encryption_key = None;
    let error = auth_service::App::build(plain.clone())
        .await
        .err()
        .expect("refused");
    assert!(
        error
            .to_string()
            .contains("AUTH_KEY_ENCRYPTION_KEY is required"),
        "{error}"
    );

    let dir = tempfile::tempdir().unwrap();
    plain.insecure_dev = true;
    plain.dev_key_file = Some(dir.path().join("auth.kek"));
    let app = TestApp::start(plain, db).await;
    assert_eq!(
        app.client
            .get(app.url("/readyz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

#[tokio::test]
async fn three_instances_started_together_on_an_empty_database_share_one_active_key() {
    let db = Arc::new(TestDb::new().await);
    let starts = (0..3).map(|_| {
        let settings = settings(&db);
        tokio::spawn(async move { auth_service::App::build(settings).await })
    });
    let mut apps = Vec::new();
    for start in starts {
        apps.push(start.await.unwrap().expect("every replica starts"));
    }
    let keys = stored_keys(&db.url).await;
    assert_eq!(
        keys.iter().filter(|k| k.state.as_str() == "active").count(),
        1,
        "{keys:?}"
    );
    assert_eq!(keys.len(), 1, "no spare keys left behind");

    let conn = service_kit::db::connect(&service_kit::db::DbConfig::new(db.url.clone()))
        .await
        .unwrap();
    use sea_orm::ConnectionTrait;
    let row = conn
        .query_one_raw(sea_orm::Statement::from_string(
            conn.get_database_backend(),
            "SELECT COUNT(*) AS n FROM seaql_migrations",
        ))
        .await
        .unwrap()
        .unwrap();
    let applied: i64 = row.try_get("", "n").unwrap();
    use sea_orm_migration::MigratorTrait;
    let known = auth_service::store::migrations::Migrator::migrations().len();
    assert_eq!(applied, known as i64, "each migration recorded once");
}

#[tokio::test]
async fn a_revoked_key_leaves_the_jwks_and_its_tokens_stop_verifying() {
    use auth_service::keys::{Revocation, Rotation};
    let app = TestApp::spawn_with(|s| {
        s.signing_key_pre_publish_secs = 3_600;
        s.key_refresh_secs = 1;
    })
    .await;
    let root = app.admin("root@example.com").await;
    let old_kid = header(&root.access)["kid"].as_str().unwrap().to_owned();
    let db = service_kit::db::connect(&app.settings.db_config())
        .await
        .unwrap();
    let manager = auth_service::app::signing_keys(
        &app.settings,
        db.clone(),
        auth_service::app::KekFile::MustExist,
    )
    .unwrap();

    // The only signing key cannot go before another can sign.
    assert_eq!(
        manager.revoke(&old_kid).await.unwrap(),
        Revocation::NoSuccessor
    );
    assert_eq!(
        manager.revoke("no-such-kid").await.unwrap(),
        Revocation::UnknownKey
    );
    let Rotation::Published(next) = manager.rotate().await.unwrap() else {
        panic!("rotated")
    };
    assert_eq!(
        manager.revoke(&old_kid).await.unwrap(),
        Revocation::Revoked {
            kid: old_kid.clone(),
            now_signing: Some(next.kid.clone())
        }
    );

    eventually("the revoked key leaves the JWKS", || async {
        let published = kids(&jwks(&app).await.0);
        !published.contains(&old_kid) && published.contains(&next.kid)
    })
    .await;
    problem(app.get("/api/auth/profile", &root.access).await, 401).await;
    problem(app.refresh(&root.refresh).await, 401).await;
    // The successor signs at once, though its pre-publication had an hour to run.
    let fresh = app.tokens("root@example.com", PASSWORD).await;
    assert_eq!(header(&fresh.access)["kid"], next.kid.as_str());
    assert_eq!(
        app.get("/api/auth/profile", &fresh.access).await.status(),
        200
    );
    let events = app.audit_events(&fresh, None).await;
    assert!(
        events
            .iter()
            .any(|e| e["event"] == "key_revoked" && e["detail"]["kid"] == old_kid.as_str())
    );
}

#[tokio::test]
async fn a_stored_private_key_that_is_not_the_published_key_stops_the_start() {
    use auth_service::keys::crypto::{KeyBinding, KeyEncryptionKey};
    use sea_orm::ConnectionTrait;
    let db = Arc::new(TestDb::new().await);
    let app = TestApp::start(settings(&db), Arc::clone(&db)).await;
    drop(app);
    let row = stored_keys(&db.url).await.remove(0);
    // Another private key, sealed under this row's own binding: it decrypts, but it is not the
    // key the row publishes (and signs for).
    let other = auth_service::keys::generate::generate_rsa(2048).unwrap();
    let kek =
        KeyEncryptionKey::from_base64("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=").unwrap();
    let binding = KeyBinding {
        kid: &row.kid,
        n: &row.public_n,
        e: &row.public_e,
    };
    let swapped = kek.seal(binding, &other.private_pkcs1_der).unwrap();
    let conn = service_kit::db::connect(&service_kit::db::DbConfig::new(db.url.clone()))
        .await
        .unwrap();
    conn.execute_raw(service_kit::db::statement(
        conn.get_database_backend(),
        "UPDATE signing_keys SET private_key_encrypted = $1 WHERE kid = $2",
        vec![swapped.into(), row.kid.clone().into()],
    ))
    .await
    .unwrap();
    conn.close().await.unwrap();
    let error = auth_service::App::build(settings(&db))
        .await
        .err()
        .expect("refused");
    assert!(
        error
            .to_string()
            .contains("does not match the published public key"),
        "{error}"
    );
}

#[tokio::test]
async fn keys_rotate_on_schedule_once_however_many_replicas() {
    let db = Arc::new(TestDb::new().await);
    let mut scheduled = settings(&db);
    scheduled.key_rotation_interval_secs = 2;
    scheduled.key_refresh_secs = 1;
    let first = TestApp::start(scheduled.clone(), Arc::clone(&db)).await;
    let second = TestApp::start(scheduled, Arc::clone(&db)).await;
    let waiting = |keys: &[auth_service::store::entities::signing_key::Model]| {
        keys.iter().filter(|k| k.state.as_str() == "next").count()
    };
    eventually("a key is published on schedule", || async {
        waiting(&stored_keys(&db.url).await) == 1
    })
    .await;
    // Both replicas found it due; one next key, and no more while it waits.
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    let keys = stored_keys(&db.url).await;
    assert_eq!(waiting(&keys), 1, "{keys:?}");
    assert_eq!(keys.len(), 2, "{keys:?}");
    let root = first.admin("root@example.com").await;
    let events = first.audit_events(&root, None).await;
    assert_eq!(
        events
            .iter()
            .filter(|e| e["event"] == "key_rotated")
            .count(),
        1,
        "{events:?}"
    );
    drop(second);
}
