//! Private keys at rest: AES-256-GCM under the key-encryption key, the `kid` bound in as
//! associated data so a sealed key cannot be moved to another row.

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};

#[derive(Debug, thiserror::Error)]
pub enum KekError {
    #[error("AUTH_KEY_ENCRYPTION_KEY must be base64 of exactly 32 bytes")]
    Malformed,
    #[error("cannot generate random bytes")]
    Random,
    #[error("the stored private key of {0} cannot be decrypted with this key-encryption key")]
    Undecryptable(String),
}

pub struct KeyEncryptionKey {
    key: LessSafeKey,
}

impl std::fmt::Debug for KeyEncryptionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeyEncryptionKey(..)")
    }
}

impl KeyEncryptionKey {
    /// Base64 (standard or URL-safe, padded or not) of 32 bytes.
    pub fn from_base64(text: &str) -> Result<Self, KekError> {
        let text = text.trim();
        let bytes = [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD]
            .iter()
            .find_map(|engine| engine.decode(text).ok())
            .ok_or(KekError::Malformed)?;
        Self::from_bytes(&bytes)
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self, KekError> {
        if bytes.len() != 32 {
            return Err(KekError::Malformed);
        }
        let key = UnboundKey::new(&AES_256_GCM, bytes).map_err(|_| KekError::Malformed)?;
        Ok(KeyEncryptionKey {
            key: LessSafeKey::new(key),
        })
    }

    /// 32 random bytes, base64: a new key-encryption key.
    pub fn generate_base64() -> Result<String, KekError> {
        let mut bytes = [0u8; 32];
        SystemRandom::new()
            .fill(&mut bytes)
            .map_err(|_| KekError::Random)?;
        Ok(STANDARD.encode(bytes))
    }

    /// `base64(nonce ‖ ciphertext ‖ tag)`.
    pub fn seal(&self, kid: &str, plaintext: &[u8]) -> Result<String, KekError> {
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new()
            .fill(&mut nonce)
            .map_err(|_| KekError::Random)?;
        let mut in_out = plaintext.to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(kid.as_bytes()),
                &mut in_out,
            )
            .map_err(|_| KekError::Random)?;
        let mut sealed = nonce.to_vec();
        sealed.extend_from_slice(&in_out);
        Ok(STANDARD.encode(sealed))
    }

    pub fn open(&self, kid: &str, sealed: &str) -> Result<Vec<u8>, KekError> {
        let undecryptable = || KekError::Undecryptable(kid.to_owned());
        let bytes = STANDARD.decode(sealed).map_err(|_| undecryptable())?;
        if bytes.len() < NONCE_LEN {
            return Err(undecryptable());
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| undecryptable())?;
        let mut in_out = ciphertext.to_vec();
        let plaintext = self
            .key
            .open_in_place(nonce, Aad::from(kid.as_bytes()), &mut in_out)
            .map_err(|_| undecryptable())?;
        Ok(plaintext.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seals_and_opens_bound_to_the_kid() {
        let kek =
            KeyEncryptionKey::from_base64(&KeyEncryptionKey::generate_base64().unwrap()).unwrap();
        let sealed = kek.seal("kid-1", b"secret key bytes").unwrap();
        assert!(!sealed.contains("secret"));
        assert_eq!(kek.open("kid-1", &sealed).unwrap(), b"secret key bytes");
        assert!(kek.open("kid-2", &sealed).is_err(), "moved to another kid");
        let other = KeyEncryptionKey::from_bytes(&[7u8; 32]).unwrap();
        assert!(other.open("kid-1", &sealed).is_err(), "another KEK");
    }

    #[test]
    fn refuses_keys_that_are_not_32_bytes() {
        assert!(KeyEncryptionKey::from_base64("c2hvcnQ=").is_err());
        assert!(KeyEncryptionKey::from_base64("not base64 at all!").is_err());
        assert!(KeyEncryptionKey::from_bytes(&[1u8; 32]).is_ok());
    }
}
