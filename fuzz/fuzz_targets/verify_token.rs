//! Arbitrary bytes as an access token, verified against one fixed RSA-2048 key: the verifier
//! must accept or reject (`Ok`/`Err(Rejection)`), never panic, for any header, payload or
//! signature.
//!
//! The key is a real RSA-2048 public key generated once for this target; its private half signed
//! the seed tokens in `seeds/verify_token/` and was then discarded. `NOW` lies inside the seeds'
//! validity window, so the signed seeds (valid, expired, wrong issuer, missing claims, …) drive
//! the claim checks; a mutated token almost never keeps a valid signature, so mutations exercise
//! everything up to and including the signature check (splitting, base64url, the JOSE header,
//! `alg`/`typ`/`crit`/`kid`, key lookup, aws-lc-rs RSA verification).
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use shared_claims::{AccessTokenVerifier, KeySet, VerifierConfig};

/// The JWKS the seeds were signed for (`kid` is the key's RFC 7638 thumbprint).
const JWKS: &str = r#"{"keys": [{"kty": "RSA", "use": "sig", "alg": "RS256", "kid": "Nl817sq8zx02Lq70MA2cyfQi6lKQcT-wQ2uKkMRutdU", "n": "yp56BMOnkeX00CiuAlz7AFntS0lS_0a1NO-fttyNNMcIAb5I4mnKKnBZVZLEVh5Pn8Lvo0gCZfdhQHzZIUIP_XOQp8tEpwaMmklgUYv08TWxkgjGcbmfgeYDUvBerG-zTePlg67_fbO9SonbfNZ2M9oGB9lsE5E5KVSCnB3IZFi3GDVSywqwZKDAt-3yWvacSXVwnpQ59YTNMIx-c5sQv3UuXENyFqIFZeJerdiuByLKnuDb3jVsNnAV7EKNApAWBhV6ktdJ0Untk3hdzB2oK9gbl-wSf8qok0dX6WzKWgTQIeR0F49gQdrc_uS9riDaHMcqg7Ewxc5Jnl1HB2x20Q", "e": "AQAB"}]}"#;
/// The instant the seeds were minted at (iat = nbf = NOW, exp = NOW + 900).
const NOW: i64 = 1_800_000_000;

static KEYS: LazyLock<KeySet> = LazyLock::new(|| {
    let keys = KeySet::from_jwks_json(JWKS.as_bytes()).expect("the embedded JWKS parses"); // startup: a constant
    assert_eq!(keys.len(), 1, "the embedded JWKS holds one usable key");
    keys
});
static VERIFIER: LazyLock<AccessTokenVerifier> =
    LazyLock::new(|| AccessTokenVerifier::new(VerifierConfig::new("https://issuer", "aud", 30)));

fuzz_target!(|data: &[u8]| {
    // A bearer token arrives as an HTTP header value: non-UTF-8 input cannot reach the verifier.
    let Ok(token) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(verified) = VERIFIER.verify(token, &KEYS, NOW) {
        let (claims, kid) = (verified.claims, verified.kid);
        // Anything accepted satisfies the checks the verifier promises.
        assert!(KEYS.contains(&kid));
        assert_eq!(claims.iss, "https://issuer");
        assert!(claims.aud.contains("aud"));
        assert!(claims.exp.saturating_add(30) >= NOW);
        assert!(claims.nbf <= NOW + 30);
    }
});
