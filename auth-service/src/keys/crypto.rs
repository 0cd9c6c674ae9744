//! Private keys at rest: AES-256-GCM under the key-encryption key. The associated data binds the
//! sealed bytes to the row's `kid` and public parts (`n`, `e`), so a sealed key can be moved
//! neither to another row nor under another public key. Plaintext key bytes live in buffers
//! that are wiped when dropped.

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use zeroize::Zeroizing;

/// The prefix of the current sealed format; sealed keys without it bind the `kid` only.
const V2: &str = "v2:";

#[derive(Debug, thiserror::Error)]
pub enum KekError {
    #[error("AUTH_KEY_ENCRYPTION_KEY must be base64 of exactly 32 bytes")]
    Malformed,
    #[error("cannot generate random bytes")]
    Random,
    #[error(
        "the stored private key of {0} cannot be decrypted with this AUTH_KEY_ENCRYPTION_KEY: it is not the key-encryption key the signing keys were sealed with"
    )]
    Undecryptable(String),
}

/// What a sealed private key is bound to: the row it belongs to.
#[derive(Debug, Clone, Copy)]
pub struct KeyBinding<'a> {
    pub kid: &'a str,
    pub n: &'a str,
    pub e: &'a str,
}

impl KeyBinding<'_> {
    fn associated_data(&self) -> Vec<u8> {
        format!(
            "todo-auth signing key v2\0{}\0{}\0{}",
            self.kid, self.n, self.e
        )
        .into_bytes()
    }
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
            .map(Zeroizing::new)
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
    pub fn generate_base64() -> Result<Zeroizing<String>, KekError> {
        let mut bytes = Zeroizing::new([0u8; 32]);
        SystemRandom::new()
            .fill(bytes.as_mut())
            .map_err(|_| KekError::Random)?;
        Ok(Zeroizing::new(STANDARD.encode(bytes.as_ref())))
    }

    /// `v2:base64(nonce ‖ ciphertext ‖ tag)`, bound to `binding`.
    pub fn seal(&self, binding: KeyBinding<'_>, plaintext: &[u8]) -> Result<String, KekError> {
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new()
            .fill(&mut nonce)
            .map_err(|_| KekError::Random)?;
        let mut in_out = Zeroizing::new(plaintext.to_vec());
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(binding.associated_data()),
                &mut *in_out,
            )
            .map_err(|_| KekError::Random)?;
        let mut sealed = nonce.to_vec();
        sealed.extend_from_slice(&in_out);
        Ok(format!("{V2}{}", STANDARD.encode(sealed)))
    }

    /// The plaintext of a sealed key, if this key-encryption key sealed it for `binding`. Keys
    /// sealed before the v2 format are bound to their `kid` only; the caller checks that the
    /// opened key matches the row's public parts.
    pub fn open(
        &self,
        binding: KeyBinding<'_>,
        sealed: &str,
    ) -> Result<Zeroizing<Vec<u8>>, KekError> {
        let undecryptable = || KekError::Undecryptable(binding.kid.to_owned());
        let (encoded, aad) = match sealed.strip_prefix(V2) {
            Some(rest) => (rest, binding.associated_data()),
            None => (sealed, binding.kid.as_bytes().to_vec()),
        };
        let bytes = STANDARD.decode(encoded).map_err(|_| undecryptable())?;
        if bytes.len() < NONCE_LEN {
            return Err(undecryptable());
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| undecryptable())?;
        let mut in_out = Zeroizing::new(ciphertext.to_vec());
        let plaintext = self
            .key
            .open_in_place(nonce, Aad::from(aad), &mut in_out)
            .map_err(|_| undecryptable())?;
        Ok(Zeroizing::new(plaintext.to_vec()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn binding<'a>(kid: &'a str, n: &'a str) -> KeyBinding<'a> {
        KeyBinding { kid, n, e: "AQAB" }
    }

    #[test]
    fn seals_and_opens_bound_to_the_kid_and_the_public_key() {
        let kek =
            KeyEncryptionKey::from_base64(&KeyEncryptionKey::generate_base64().unwrap()).unwrap();
        let sealed = kek
            .seal(binding("kid-1", "n-1"), b"secret key bytes")
            .unwrap();
        assert!(sealed.starts_with("v2:") && !sealed.contains("secret"));
        assert_eq!(
            kek.open(binding("kid-1", "n-1"), &sealed)
                .unwrap()
                .as_slice(),
            b"secret key bytes"
        );
        assert!(
            kek.open(binding("kid-2", "n-1"), &sealed).is_err(),
            "another kid"
        );
        assert!(
            kek.open(binding("kid-1", "n-2"), &sealed).is_err(),
            "another n"
        );
        let other = KeyEncryptionKey::from_bytes(&[7u8; 32]).unwrap();
        let error = other.open(binding("kid-1", "n-1"), &sealed).unwrap_err();
        assert!(error.to_string().contains("AUTH_KEY_ENCRYPTION_KEY"));
    }

    #[test]
    fn keys_sealed_before_v2_still_open_under_their_kid() {
        let kek = KeyEncryptionKey::from_bytes(&[1u8; 32]).unwrap();
        let nonce = [9u8; NONCE_LEN];
        let mut in_out = b"old key".to_vec();
        kek.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(b"kid-1"),
                &mut in_out,
            )
            .unwrap();
        let legacy = STANDARD.encode([nonce.as_slice(), &in_out].concat());
        assert_eq!(
            kek.open(binding("kid-1", "n-1"), &legacy)
                .unwrap()
                .as_slice(),
            b"old key"
        );
        assert!(kek.open(binding("kid-2", "n-1"), &legacy).is_err());
    }

    #[test]
    fn refuses_keys_that_are_not_32_bytes() {
        assert!(KeyEncryptionKey::from_base64("c2hvcnQ=").is_err());
        assert!(KeyEncryptionKey::from_base64("not base64 at all!").is_err());
        assert!(KeyEncryptionKey::from_bytes(&[1u8; 32]).is_ok());
    }
}
