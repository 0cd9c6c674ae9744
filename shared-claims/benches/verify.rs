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
use shared_claims::{AccessTokenVerifier, Authenticator, KeySet, LocalKeys, VerifierConfig};

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
}

criterion_group!(benches, verification);
criterion_main!(benches);
