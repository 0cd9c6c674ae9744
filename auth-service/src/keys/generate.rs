//! Key generation with the `rsa` crate: the only thing `rsa` does here (with encoding). No
//! private-key operation runs through it, so RUSTSEC-2023-0071 (a timing side channel in its
//! decryption and signing) does not reach this service: signing goes through aws-lc-rs.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::traits::PublicKeyParts;

use shared_claims::rsa_thumbprint;
use zeroize::Zeroizing;

pub struct GeneratedKey {
    /// RFC 7638 thumbprint.
    pub kid: String,
    pub n: String,
    pub e: String,
    /// PKCS#1 DER, what jsonwebtoken's `EncodingKey::from_rsa_der` takes; wiped when dropped.
    pub private_pkcs1_der: Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for GeneratedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GeneratedKey")
            .field("kid", &self.kid)
            .finish()
    }
}

pub fn generate_rsa(bits: usize) -> Result<GeneratedKey, rsa::Error> {
    let private = rsa::RsaPrivateKey::new(&mut rand_core::OsRng, bits)?;
    let n = URL_SAFE_NO_PAD.encode(private.n().to_bytes_be());
    let e = URL_SAFE_NO_PAD.encode(private.e().to_bytes_be());
    let der = private.to_pkcs1_der()?;
    Ok(GeneratedKey {
        kid: rsa_thumbprint(&n, &e),
        n,
        e,
        private_pkcs1_der: Zeroizing::new(der.as_bytes().to_vec()),
    })
}
