//! Customer secrets at rest: sealed with XChaCha20-Poly1305 under a key the operator provides,
//! bound to the connection they belong to.
//!
//! The key is 32 random bytes, base64-encoded, in `TRUSTLINE_SEAL_KEY` or in the file named by
//! `TRUSTLINE_SEAL_KEY_FILE` (a mounted Kubernetes or systemd credential, say); `trustline
//! seal-key` prints a fresh one. The store keeps `sealed:v1:` + base64(nonce ‖ ciphertext ‖ tag);
//! the connection's ID is the associated data, so a sealed secret copied onto another
//! connection's row does not open. Without the key, a sealed secret cannot be read, and the error
//! says which variable to set.

use anyhow::{Context, Result, anyhow, bail};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use trustline_core::Secret;
use zeroize::Zeroizing;

/// The environment variable holding the key.
pub const KEY_ENV: &str = "TRUSTLINE_SEAL_KEY";
/// The environment variable naming a file that holds the key.
pub const KEY_FILE_ENV: &str = "TRUSTLINE_SEAL_KEY_FILE";
/// The prefix of a sealed secret in the store.
pub const PREFIX: &str = "sealed:v1:";

const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;

/// The operator's sealing key.
#[derive(Clone)]
pub struct SealKey {
    cipher: XChaCha20Poly1305,
}

impl std::fmt::Debug for SealKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealKey(..)")
    }
}

impl SealKey {
    /// Decodes a base64 key of exactly 32 bytes.
    pub fn from_base64(text: &str) -> Result<SealKey> {
        let bytes =
            Zeroizing::new(STANDARD.decode(text.trim()).map_err(|_| {
                anyhow!("the sealing key is not base64; create one with `trustline seal-key`")
            })?);
        if bytes.len() != 32 {
            bail!("the sealing key must be 32 bytes (44 base64 characters), got {} bytes", bytes.len());
        }
        let cipher = XChaCha20Poly1305::new_from_slice(&bytes).map_err(|_| anyhow!("invalid sealing key"))?;
        Ok(SealKey { cipher })
    }

    /// The key from the environment, if the operator configured one.
    pub fn from_env() -> Result<Option<SealKey>> {
        if let Ok(text) = std::env::var(KEY_ENV) {
            return SealKey::from_base64(&text).with_context(|| format!("in {KEY_ENV}")).map(Some);
        }
        if let Ok(path) = std::env::var(KEY_FILE_ENV) {
            let text = Zeroizing::new(
                std::fs::read_to_string(&path)
                    .with_context(|| format!("reading the sealing key file {path} ({KEY_FILE_ENV})"))?,
            );
            return SealKey::from_base64(&text)
                .with_context(|| format!("in {path} ({KEY_FILE_ENV})"))
                .map(Some);
        }
        Ok(None)
    }

    /// A fresh key, base64-encoded, from the operating system's RNG.
    pub fn generate() -> Result<String> {
        let mut bytes = Zeroizing::new([0u8; 32]);
        getrandom::fill(bytes.as_mut()).map_err(|e| anyhow!("the operating system's RNG failed: {e}"))?;
        Ok(STANDARD.encode(bytes.as_ref()))
    }

    /// Seals `secret` for the connection `id` with a random nonce.
    pub fn seal(&self, secret: &Secret, id: &str) -> Result<String> {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce).map_err(|e| anyhow!("the operating system's RNG failed: {e}"))?;
        self.seal_with_nonce(secret, id, nonce)
    }

    fn seal_with_nonce(&self, secret: &Secret, id: &str, nonce: [u8; NONCE_LEN]) -> Result<String> {
        let sealed = self
            .cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload { msg: secret.expose().as_bytes(), aad: id.as_bytes() },
            )
            .map_err(|_| anyhow!("sealing the secret failed"))?;
        let mut out = Vec::with_capacity(NONCE_LEN + sealed.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok(format!("{PREFIX}{}", STANDARD.encode(out)))
    }

    /// Opens what [`SealKey::seal`] produced for the connection `id`.
    pub fn open(&self, sealed: &str, id: &str) -> Result<Secret> {
        let body = sealed.strip_prefix(PREFIX).unwrap_or(sealed);
        let bytes =
            STANDARD.decode(body).map_err(|_| anyhow!("the sealed secret is damaged (not base64)"))?;
        if bytes.len() < NONCE_LEN + TAG_LEN {
            bail!("the sealed secret is damaged (too short)");
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
        let plain = Zeroizing::new(
            self.cipher
                .decrypt(XNonce::from_slice(nonce), Payload { msg: ciphertext, aad: id.as_bytes() })
                .map_err(|_| {
                    anyhow!(
                        "the sealing key does not open connection {id}'s secret: {KEY_ENV} is not the key it was sealed with, or the store was altered"
                    )
                })?,
        );
        let text = std::str::from_utf8(&plain).map_err(|_| anyhow!("the sealed secret is not text"))?;
        Ok(Secret::new(text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> SealKey {
        SealKey::from_base64(&STANDARD.encode([7u8; 32])).unwrap()
    }

    #[test]
    fn round_trip_is_bound_to_the_connection() {
        let secret = Secret::new("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
        let sealed = key().seal(&secret, "aws-123456789012").unwrap();
        assert!(sealed.starts_with(PREFIX));
        assert!(!sealed.contains("wJalr"), "the secret does not show through");
        assert_eq!(key().open(&sealed, "aws-123456789012").unwrap().expose(), secret.expose());
        let err = key().open(&sealed, "aws-999999999999").unwrap_err().to_string();
        assert!(err.contains("does not open connection aws-999999999999") && err.contains(KEY_ENV), "{err}");
        let other = SealKey::from_base64(&STANDARD.encode([8u8; 32])).unwrap();
        assert!(other.open(&sealed, "aws-123456789012").is_err());
    }

    #[test]
    fn nonces_differ_and_tampering_is_detected() {
        let secret = Secret::new("s3cr3t");
        let (a, b) = (key().seal(&secret, "c").unwrap(), key().seal(&secret, "c").unwrap());
        assert_ne!(a, b, "a fresh nonce each time");
        let mut bytes = STANDARD.decode(a.strip_prefix(PREFIX).unwrap()).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        assert!(key().open(&format!("{PREFIX}{}", STANDARD.encode(&bytes)), "c").is_err());
        assert!(key().open("sealed:v1:!!!", "c").unwrap_err().to_string().contains("damaged"));
        assert!(key().open("sealed:v1:AAAA", "c").unwrap_err().to_string().contains("too short"));
    }

    #[test]
    fn keys_are_checked() {
        assert!(SealKey::from_base64("not base64!").unwrap_err().to_string().contains("trustline seal-key"));
        assert!(
            SealKey::from_base64(&STANDARD.encode([1u8; 16])).unwrap_err().to_string().contains("16 bytes")
        );
        let generated = SealKey::generate().unwrap();
        assert_eq!(generated.len(), 44);
        SealKey::from_base64(&generated).unwrap();
        assert_eq!(format!("{:?}", key()), "SealKey(..)");
    }

    #[test]
    fn known_answer() {
        // Pinned so a format change cannot go unnoticed: old stores must keep opening.
        let sealed = key().seal_with_nonce(&Secret::new("abc"), "id", [1u8; NONCE_LEN]).unwrap();
        assert_eq!(key().open(&sealed, "id").unwrap().expose(), "abc");
        assert_eq!(sealed, "sealed:v1:AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEB0BZgPqg7RFFwiJMcDZGKyK0J7g==");
    }
}
