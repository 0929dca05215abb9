//! Optional at-rest encryption of the Zalo OAuth tokens kept in the database.
//!
//! A refresh token is a long-lived credential: whoever holds it can act as the Official Account. With a key
//! configured, token values are sealed with AES-256-GCM before they are written, so a stolen database
//! backup alone does not hand out a working refresh token; the attacker also needs the key, which lives
//! outside the database. Values written before encryption was enabled stay readable as plaintext and are
//! sealed the next time they are written.
//!
//! Stored format: `enc:v1:` followed by base64url (no padding) of a 12-byte random nonce, then the
//! ciphertext and its 16-byte tag. The associated data `tradesphere-token-v1` binds ciphertexts to this
//! purpose, so a value sealed elsewhere with the same key does not open here.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use secrecy::{ExposeSecret, SecretString};

use crate::config::{InvalidTokenKey, TokenKey};

/// Prefix that marks a stored value as encrypted (format version 1).
const PREFIX: &str = "enc:v1:";
/// Associated data bound into every ciphertext.
const AAD: &[u8] = b"tradesphere-token-v1";
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;

/// Encrypts token values before they are written and decrypts them after they are read.
#[derive(Clone)]
pub struct TokenCipher {
    aead: Aes256Gcm,
}

impl std::fmt::Debug for TokenCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenCipher(..)")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CipherError {
    /// The configured key could not be used.
    #[error(transparent)]
    InvalidKey(#[from] InvalidTokenKey),
    /// Authentication failed: wrong key or a tampered value.
    #[error("token decryption failed: wrong key or tampered value")]
    Decrypt,
    /// The stored value is not in the expected format (prefix, base64, length).
    #[error("malformed encrypted token value")]
    Malformed,
    /// The stored value is encrypted but no key is configured.
    #[error("token value is encrypted but no encryption key is configured")]
    NoKey,
}

impl TokenCipher {
    /// A cipher sealing with `key`.
    pub fn new(key: &TokenKey) -> Self {
        let aead = Aes256Gcm::new_from_slice(key.expose_bytes())
            .expect("a TokenKey always has the AES-256 key length");
        Self { aead }
    }

    /// Parses a key given as standard base64 (with or without padding) of exactly 32 bytes.
    pub fn from_base64_key(key: &SecretString) -> Result<Self, CipherError> {
        Ok(Self::new(&TokenKey::from_base64(key.expose_secret())?))
    }

    /// Generates a new random key, base64-encoded (for `tradesphere token generate-key` / docs).
    pub fn generate_key() -> String {
        let key: [u8; TokenKey::LEN] = rand::random();
        STANDARD.encode(key)
    }

    /// "enc:v1:" + base64url-no-pad(12-byte random nonce || ciphertext+tag). A fresh nonce per call.
    pub fn encrypt(&self, plaintext: &str) -> String {
        let nonce_bytes: [u8; NONCE_LEN] = rand::random();
        let nonce = Nonce::from(nonce_bytes);
        let payload = Payload {
            msg: plaintext.as_bytes(),
            aad: AAD,
        };
        // AES-GCM encryption only fails for messages far beyond any token size (about 64 GiB).
        let ciphertext = self
            .aead
            .encrypt(&nonce, payload)
            .expect("AES-GCM encryption of a token-sized value cannot fail");
        let mut raw = Vec::with_capacity(NONCE_LEN + ciphertext.len());
        raw.extend_from_slice(&nonce_bytes);
        raw.extend_from_slice(&ciphertext);
        format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(raw))
    }

    /// Decrypts a value produced by [`TokenCipher::encrypt`].
    pub fn decrypt(&self, stored: &str) -> Result<String, CipherError> {
        let encoded = stored.strip_prefix(PREFIX).ok_or(CipherError::Malformed)?;
        let raw = URL_SAFE_NO_PAD
            .decode(encoded)
            .map_err(|_| CipherError::Malformed)?;
        if raw.len() < NONCE_LEN + TAG_LEN {
            return Err(CipherError::Malformed);
        }
        let (nonce_bytes, ciphertext) = raw.split_at(NONCE_LEN);
        let nonce_bytes: [u8; NONCE_LEN] =
            nonce_bytes.try_into().map_err(|_| CipherError::Malformed)?;
        let payload = Payload {
            msg: ciphertext,
            aad: AAD,
        };
        let plaintext = self
            .aead
            .decrypt(&Nonce::from(nonce_bytes), payload)
            .map_err(|_| CipherError::Decrypt)?;
        String::from_utf8(plaintext).map_err(|_| CipherError::Malformed)
    }
}

/// True when a stored value carries the "enc:v1:" prefix.
pub fn is_encrypted(stored: &str) -> bool {
    stored.starts_with(PREFIX)
}

/// Reads a stored value: plaintext values (written before encryption was enabled) pass through unchanged;
/// encrypted ones need the cipher (NoKey if None).
pub fn open(cipher: Option<&TokenCipher>, stored: &str) -> Result<String, CipherError> {
    if !is_encrypted(stored) {
        return Ok(stored.to_owned());
    }
    cipher.ok_or(CipherError::NoKey)?.decrypt(stored)
}

/// Writes a value: encrypted when a cipher is configured, else plaintext.
pub fn seal(cipher: Option<&TokenCipher>, plaintext: &str) -> String {
    match cipher {
        Some(cipher) => cipher.encrypt(plaintext),
        None => plaintext.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key_of(bytes: &[u8]) -> SecretString {
        SecretString::from(STANDARD.encode(bytes))
    }

    fn cipher() -> TokenCipher {
        TokenCipher::from_base64_key(&key_of(&[7u8; 32])).expect("valid key")
    }

    #[test]
    fn round_trip() {
        let c = cipher();
        for value in ["", "abc", "refresh-token-ÄÖ-😀", &"x".repeat(4096)] {
            let sealed = c.encrypt(value);
            assert!(is_encrypted(&sealed));
            assert!(sealed.starts_with("enc:v1:"));
            assert_eq!(c.decrypt(&sealed).expect("decrypts"), value);
            assert_eq!(open(Some(&c), &sealed).expect("opens"), value);
        }
    }

    #[test]
    fn seal_and_open_with_cipher() {
        let c = cipher();
        let sealed = seal(Some(&c), "token");
        assert!(is_encrypted(&sealed));
        assert_eq!(open(Some(&c), &sealed).expect("opens"), "token");
    }

    #[test]
    fn seal_without_cipher_is_plaintext() {
        assert_eq!(seal(None, "token"), "token");
        assert!(!is_encrypted("token"));
    }

    #[test]
    fn encryptions_of_same_value_differ() {
        let c = cipher();
        let a = c.encrypt("same");
        let b = c.encrypt("same");
        assert_ne!(a, b);
        assert_eq!(c.decrypt(&a).expect("a"), "same");
        assert_eq!(c.decrypt(&b).expect("b"), "same");
    }

    #[test]
    fn wrong_key_is_decrypt_error() {
        let sealed = cipher().encrypt("secret");
        let other = TokenCipher::from_base64_key(&key_of(&[8u8; 32])).expect("valid key");
        assert!(matches!(other.decrypt(&sealed), Err(CipherError::Decrypt)));
        assert!(matches!(
            open(Some(&other), &sealed),
            Err(CipherError::Decrypt)
        ));
    }

    #[test]
    fn tampered_ciphertext_is_decrypt_error() {
        let c = cipher();
        let sealed = c.encrypt("secret");
        let mut raw = URL_SAFE_NO_PAD
            .decode(&sealed[PREFIX.len()..])
            .expect("own output decodes");
        // Flip a bit in the nonce, the ciphertext body and the tag in turn.
        for index in [0, NONCE_LEN, raw.len() - 1] {
            raw[index] ^= 0x01;
            let tampered = format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(&raw));
            assert!(
                matches!(c.decrypt(&tampered), Err(CipherError::Decrypt)),
                "byte {index}"
            );
            raw[index] ^= 0x01;
        }
        // Truncating the tag by one byte also fails authentication.
        let truncated = format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(&raw[..raw.len() - 1]));
        assert!(matches!(c.decrypt(&truncated), Err(CipherError::Decrypt)));
    }

    #[test]
    fn different_associated_data_is_rejected() {
        let c = cipher();
        let nonce_bytes = [1u8; NONCE_LEN];
        let ciphertext = c
            .aead
            .encrypt(
                &Nonce::from(nonce_bytes),
                Payload {
                    msg: b"secret",
                    aad: b"some-other-purpose",
                },
            )
            .expect("encrypts");
        let mut raw = nonce_bytes.to_vec();
        raw.extend_from_slice(&ciphertext);
        let moved = format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(raw));
        assert!(matches!(c.decrypt(&moved), Err(CipherError::Decrypt)));
    }

    #[test]
    fn malformed_values() {
        let c = cipher();
        // Bad base64 (characters outside the url-safe alphabet, padding).
        assert!(matches!(
            c.decrypt("enc:v1:!!!not base64!!!"),
            Err(CipherError::Malformed)
        ));
        assert!(matches!(
            c.decrypt("enc:v1:+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/"),
            Err(CipherError::Malformed)
        ));
        let valid = c.encrypt("x");
        assert!(matches!(
            c.decrypt(&format!("{valid}=")),
            Err(CipherError::Malformed)
        ));
        // Too short: empty, and one byte less than nonce + tag.
        assert!(matches!(c.decrypt("enc:v1:"), Err(CipherError::Malformed)));
        let short = format!(
            "{PREFIX}{}",
            URL_SAFE_NO_PAD.encode([0u8; NONCE_LEN + TAG_LEN - 1])
        );
        assert!(matches!(c.decrypt(&short), Err(CipherError::Malformed)));
        // Wrong or missing prefix.
        let body = &valid[PREFIX.len()..];
        assert!(matches!(
            c.decrypt(&format!("enc:v2:{body}")),
            Err(CipherError::Malformed)
        ));
        assert!(matches!(c.decrypt(body), Err(CipherError::Malformed)));
        assert!(matches!(c.decrypt("abc"), Err(CipherError::Malformed)));
        // Through `open`, an encrypted-looking but malformed value is Malformed, not passthrough.
        assert!(matches!(
            open(Some(&c), "enc:v1:@@@"),
            Err(CipherError::Malformed)
        ));
    }

    #[test]
    fn plaintext_passes_through() {
        assert_eq!(open(None, "abc").expect("plaintext"), "abc");
        assert_eq!(open(None, "").expect("empty"), "");
        assert_eq!(open(Some(&cipher()), "abc").expect("plaintext"), "abc");
    }

    #[test]
    fn encrypted_value_without_key_is_no_key() {
        let sealed = cipher().encrypt("secret");
        assert!(matches!(open(None, &sealed), Err(CipherError::NoKey)));
    }

    #[test]
    fn invalid_keys() {
        let cases = [
            STANDARD.encode([1u8; 16]),
            STANDARD.encode([1u8; 31]),
            STANDARD.encode([1u8; 33]),
            String::new(),
            "not base64 at all!".to_owned(),
            URL_SAFE_NO_PAD.encode([0xffu8; 32]),
        ];
        for case in cases {
            let result = TokenCipher::from_base64_key(&SecretString::from(case.clone()));
            match result {
                Err(CipherError::InvalidKey(message)) => {
                    let shown = CipherError::InvalidKey(message).to_string();
                    assert!(shown.contains("expected 32 bytes, base64"), "{shown}");
                }
                other => panic!("key {case:?}: expected InvalidKey, got {other:?}"),
            }
        }
    }

    #[test]
    fn key_accepted_with_or_without_padding() {
        let padded = STANDARD.encode([3u8; 32]);
        assert!(padded.ends_with('='));
        let unpadded = padded.trim_end_matches('=').to_owned();
        let a = TokenCipher::from_base64_key(&SecretString::from(padded)).expect("padded");
        let b = TokenCipher::from_base64_key(&SecretString::from(unpadded)).expect("unpadded");
        assert_eq!(b.decrypt(&a.encrypt("v")).expect("same key"), "v");
    }

    #[test]
    fn generated_key_is_accepted() {
        let key = TokenCipher::generate_key();
        assert_eq!(STANDARD.decode(&key).expect("base64").len(), 32);
        assert_ne!(key, TokenCipher::generate_key());
        let c = TokenCipher::from_base64_key(&SecretString::from(key)).expect("generated key");
        assert_eq!(c.decrypt(&c.encrypt("t")).expect("round trip"), "t");
    }

    #[test]
    fn debug_does_not_print_key() {
        let key = TokenCipher::generate_key();
        let c = TokenCipher::from_base64_key(&SecretString::from(key.clone())).expect("key");
        let shown = format!("{c:?} {c:#?}");
        assert!(shown.contains("TokenCipher(..)"));
        assert!(!shown.contains(&key));
        assert!(!shown.contains(key.trim_end_matches('=')));
    }
}
