//! The verifier's cost per access token, against a bare RS256 signature check on the same
//! backend (jsonwebtoken on aws-lc-rs), and the cost of a token seen before.
//!
//!   cargo bench -p shared-claims --bench verify
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use jsonwebtoken::{Algorithm, DecodingKey};
use serde_json::json;
use shared_claims::now_unix;
use shared_claims::test_util::TestKey;
use shared_claims::{
    AccessTokenVerifier, Authenticator, KeySet, LocalKeys, Revocation, VerifierConfig,
};

const ISSUER: &str = "https://auth.bench";
const AUDIENCE: &str = "todo-api";

fn verification(c: &mut Criterion) {
    let key = TestKey::generate();
    let token = key.access_token(ISSUER, AUDIENCE, json!({"exp": now_unix() + 86_400}));
    let jwks = serde_json::to_vec(&json!({ "keys": [key.jwk()] })).unwrap();
    let keys = KeySet::from_jwks_json(&jwks).unwrap();
    let verifier = AccessTokenVerifier::new(VerifierConfig::new(ISSUER, AUDIENCE, 30));
    let now = now_unix();

    // The floor: one RS256 check of the same token with the same key and backend, nothing else.
    let decoding = DecodingKey::from_rsa_components(&key.n, &key.e).unwrap();
    let (message, signature) = token.rsplit_once('.').unwrap();
    assert!(
        jsonwebtoken::crypto::verify(signature, message.as_bytes(), &decoding, Algorithm::RS256)
            .unwrap()
    );
    c.bench_function("rs256_signature_check_bare", |b| {
        b.iter(|| {
            jsonwebtoken::crypto::verify(
                black_box(signature),
                black_box(message.as_bytes()),
                &decoding,
                Algorithm::RS256,
            )
        })
    });

    // Everything the verifier does: header, typ, kid, key, signature, claims.
    assert!(verifier.verify(&token, &keys, now).is_ok());
    c.bench_function("verifier_access_token_full", |b| {
        b.iter(|| verifier.verify(black_box(&token), &keys, now))
    });

    // A token seen before, through the authenticator a service uses per request.
    let local = LocalKeys::default();
    local.set(keys.clone());
    let authenticator =
        Authenticator::with_local_keys(VerifierConfig::new(ISSUER, AUDIENCE, 30), local);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    runtime
        .block_on(authenticator.authenticate(&token))
        .unwrap();
    c.bench_function("authenticate_token_seen_before", |b| {
        b.to_async(&runtime)
            .iter(|| authenticator.authenticate(black_box(&token)))
    });

    // The same, with 100,000 revocations held (half sessions, half users), the token's own user
    // among them (revoked before it was issued): both lookups are made and hit.
    let sub = "0192d1f0-0000-7000-8000-00000000beef";
    let token = key.access_token(
        ISSUER,
        AUDIENCE,
        json!({"exp": now_unix() + 86_400, "sub": sub, "iat_us": now_unix() * 1_000_000}),
    );
    let local = LocalKeys::default();
    local.set(keys.clone());
    let authenticator =
        Authenticator::with_local_keys(VerifierConfig::new(ISSUER, AUDIENCE, 30), local);
    let set = authenticator.revocations();
    let until_us = (now_unix() + 86_400) * 1_000_000;
    for i in 0..50_000u64 {
        set.apply(&Revocation::Session {
            sid: format!("0192d1f0-{:04x}-7000-8000-{i:012x}", i % 0xffff),
            until_us,
        });
        set.apply(&Revocation::User {
            sub: format!("0192d1f1-{:04x}-7000-8000-{i:012x}", i % 0xffff),
            not_before_us: 0,
            until_us,
        });
    }
    set.apply(&Revocation::User {
        sub: sub.to_owned(),
        not_before_us: 1,
        until_us,
    });
    let held = 100_001;
    println!(
        "revocation set: {held} entries in {} bytes of tables = {:.1} bytes per entry",
        set.footprint_bytes(),
        set.footprint_bytes() as f64 / held as f64
    );
    runtime
        .block_on(authenticator.authenticate(&token))
        .unwrap();
    c.bench_function("authenticate_token_seen_before_100k_revocations", |b| {
        b.to_async(&runtime)
            .iter(|| authenticator.authenticate(black_box(&token)))
    });
}

criterion_group!(benches, verification);
criterion_main!(benches);
