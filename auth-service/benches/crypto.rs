//! The CPU floors of the auth service: one argon2id hash at the contract's default parameters
//! (the login limit is cores ÷ this) and one RS256 signature with the backend that signs tokens
//! (the refresh limit is cores ÷ twice this).
//!
//!   cargo bench -p auth-service --bench crypto
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use argon2::{Algorithm, Argon2, Params, PasswordHasher as _, Version};
use auth_service::accounts::hasher::PasswordHasher;
use criterion::{Criterion, criterion_group, criterion_main};
use jsonwebtoken::{EncodingKey, Header};
use secrecy::SecretString;
use serde_json::json;

fn hashing(c: &mut Criterion) {
    let params = Params::new(19_456, 2, 1, None).unwrap();
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let mut group = c.benchmark_group("argon2id");
    group.sample_size(20);
    group.bench_function("hash_default_params_reference", |b| {
        b.iter(|| {
            argon2
                .hash_password(black_box(b"correct horse battery staple"))
                .unwrap()
        })
    });

    // The service's own path: a pooled buffer on the blocking pool behind a permit.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .unwrap();
    let hasher = PasswordHasher::new(params, 1, 16).unwrap();
    let stored = runtime
        .block_on(hasher.hash(SecretString::from("correct horse battery staple")))
        .unwrap();
    group.bench_function("verify_default_params_service_path", |b| {
        b.to_async(&runtime).iter(|| {
            hasher.verify(
                SecretString::from("correct horse battery staple"),
                stored.clone(),
            )
        })
    });
    group.finish();
}

fn signing(c: &mut Criterion) {
    let key = auth_service::keys::generate::generate_rsa(2048).unwrap();
    let encoding = EncodingKey::from_rsa_der(&key.private_pkcs1_der);
    let mut header = Header::new(jsonwebtoken::Algorithm::RS256);
    header.typ = Some("at+jwt".into());
    header.kid = Some(key.kid.clone());
    let claims = json!({
        "iss": "https://auth.bench", "sub": "01a2083a-1f25-719d-8e25-72cc6029fd02",
        "aud": "todo-api", "exp": 1_900_000_000, "iat": 1_800_000_000, "nbf": 1_800_000_000,
        "jti": "9b0c6c64-5e4c-4c41-9f1e-2b9a0d1d6f00", "role": "user",
        "email": "someone@example.com", "sid": "01a2083a-1f25-719d-8e25-72cc6029fd03",
    });
    c.bench_function("rs256_sign_access_token", |b| {
        b.iter(|| jsonwebtoken::encode(black_box(&header), black_box(&claims), &encoding).unwrap())
    });

    // The same signature with the key parsed once (jsonwebtoken parses the DER on every call):
    // how much of a signature is key parsing.
    let pair = aws_lc_rs::signature::RsaKeyPair::from_der(&key.private_pkcs1_der).unwrap();
    let rng = aws_lc_rs::rand::SystemRandom::new();
    let message = b"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIwMWEyMDgzYS0xZjI1In0";
    let mut signature = vec![0u8; pair.public_modulus_len()];
    c.bench_function("rs256_sign_preparsed_key", |b| {
        b.iter(|| {
            pair.sign(
                &aws_lc_rs::signature::RSA_PKCS1_SHA256,
                &rng,
                black_box(message),
                &mut signature,
            )
            .unwrap()
        })
    });
}

criterion_group!(benches, hashing, signing);
criterion_main!(benches);
