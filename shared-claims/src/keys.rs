//! A JWKS document → the keys a verifier trusts, each built once, not per request.

use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::DecodingKey;
use serde::Deserialize;

use crate::thumbprint::rsa_thumbprint;

/// The contract's floor for RSA keys.
const MIN_RSA_MODULUS_BITS: usize = 2048;

/// One published key, ready to verify with.
#[derive(Clone)]
pub(crate) struct VerifyingKey {
    pub(crate) decoding: DecodingKey,
    /// The JWK states `alg: RS256` (RFC 8725 §3.1: a key is used with one algorithm only).
    pub(crate) rs256: bool,
}

impl std::fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifyingKey")
            .field("rs256", &self.rs256)
            .finish()
    }
}

/// Keys by `kid`.
#[derive(Debug, Clone, Default)]
pub struct KeySet {
    keys: HashMap<String, VerifyingKey>,
}

/// Why a JWKS document could not be read at all (single bad keys are skipped instead).
#[derive(Debug, thiserror::Error)]
pub enum KeySetError {
    /// Not JSON of the form `{"keys": [...]}`.
    #[error("the JWKS document is not JSON of the form {{\"keys\": [...]}}: {0}")]
    NotAJwks(#[from] serde_json::Error),
}

#[derive(Deserialize)]
struct JwksDocument {
    keys: Vec<serde_json::Value>,
}

#[derive(Deserialize)]
struct RsaJwk {
    kty: String,
    kid: Option<String>,
    alg: Option<String>,
    #[serde(rename = "use")]
    use_: Option<String>,
    n: Option<String>,
    e: Option<String>,
}

impl KeySet {
    /// Parses a JWKS document. Keys that are not RSA signing keys with a `kid`, whose `kid` is
    /// not their RFC 7638 thumbprint, or whose modulus is under 2048 bits, are left out (a weak key must not be able to sign anything we accept).
    /// A key whose `alg` is missing or not RS256 is kept but marked, so a token naming it is
    /// refused for that reason instead of looking like an unknown key.
    pub fn from_jwks_json(body: &[u8]) -> Result<KeySet, KeySetError> {
        let document: JwksDocument = serde_json::from_slice(body)?;
        let mut keys = HashMap::with_capacity(document.keys.len());
        for value in document.keys {
            let Ok(jwk) = serde_json::from_value::<RsaJwk>(value) else {
                continue;
            };
            if let Some((kid, key)) = Self::verifying_key(jwk) {
                keys.insert(kid, key);
            }
        }
        Ok(KeySet { keys })
    }

    fn verifying_key(jwk: RsaJwk) -> Option<(String, VerifyingKey)> {
        if jwk.kty != "RSA" || jwk.use_.as_deref().is_some_and(|u| u != "sig") {
            return None;
        }
        let kid = jwk.kid.filter(|k| !k.is_empty())?;
        let (n, e) = (jwk.n?, jwk.e?);
        // The contract's `kid` is the RFC 7638 thumbprint of the key: a key published under any
        // other name is not one of ours (and could shadow one under a reused name).
        if kid != rsa_thumbprint(&n, &e) {
            tracing::warn!(%kid, "JWKS key ignored: its kid is not the RFC 7638 thumbprint of its n and e");
            return None;
        }
        let modulus = URL_SAFE_NO_PAD.decode(&n).ok()?;
        let significant = modulus.iter().skip_while(|b| **b == 0).count();
        if significant * 8 < MIN_RSA_MODULUS_BITS {
            return None;
        }
        let decoding = DecodingKey::from_rsa_components(&n, &e).ok()?;
        let rs256 = jwk.alg.as_deref() == Some("RS256");
        Some((kid, VerifyingKey { decoding, rs256 }))
    }

    /// A key set built directly, for an issuer verifying its own tokens.
    pub fn from_keys(keys: impl IntoIterator<Item = (String, DecodingKey)>) -> KeySet {
        KeySet {
            keys: keys
                .into_iter()
                .map(|(kid, decoding)| {
                    (
                        kid,
                        VerifyingKey {
                            decoding,
                            rs256: true,
                        },
                    )
                })
                .collect(),
        }
    }

    pub(crate) fn get(&self, kid: &str) -> Option<&VerifyingKey> {
        self.keys.get(kid)
    }

    /// Whether a key is held under `kid`.
    pub fn contains(&self, kid: &str) -> bool {
        self.keys.contains_key(kid)
    }

    /// How many keys are held.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether no key is held.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The `kid`s held.
    pub fn kids(&self) -> impl Iterator<Item = &str> {
        self.keys.keys().map(String::as_str)
    }
}
