use std::sync::OnceLock;

use serde_json::{Value, json};
use shared_claims::test_util::TestKey;
use shared_claims::{AccessTokenVerifier, KeySet, VerifierConfig};

pub const ISSUER: &str = "https://auth.test";
pub const AUDIENCE: &str = "todo-api";
pub const LEEWAY: u64 = 30;

/// Keys are slow to generate; every test in the binary shares these.
pub fn key() -> &'static TestKey {
    static KEY: OnceLock<TestKey> = OnceLock::new();
    KEY.get_or_init(TestKey::generate)
}

pub fn other_key() -> &'static TestKey {
    static KEY: OnceLock<TestKey> = OnceLock::new();
    KEY.get_or_init(TestKey::generate)
}

pub fn third_key() -> &'static TestKey {
    static KEY: OnceLock<TestKey> = OnceLock::new();
    KEY.get_or_init(TestKey::generate)
}

pub fn verifier() -> AccessTokenVerifier {
    AccessTokenVerifier::new(VerifierConfig::new(ISSUER, AUDIENCE, LEEWAY))
}

pub fn jwks(keys: &[Value]) -> KeySet {
    KeySet::from_jwks_json(&serde_json::to_vec(&json!({ "keys": keys })).unwrap()).unwrap()
}

pub fn token(overrides: Value) -> String {
    key().access_token(ISSUER, AUDIENCE, overrides)
}

pub fn now() -> i64 {
    shared_claims::now_unix()
}
