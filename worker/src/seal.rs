//! Customer secrets at rest: sealed with XChaCha20-Poly1305 under a key the operator provides,
//! bound to the connection they belong to, and labelled with the key's ID so the key can rotate.
//!
//! The key is 32 random bytes, base64-encoded, in `TRUSTLINE_SEAL_KEY` or in the file named by
//! `TRUSTLINE_SEAL_KEY_FILE` (a mounted Kubernetes or systemd credential, say); `trustline
//! seal-key` prints a fresh one. The store keeps `sealed:v2:<kid>:` + base64(nonce ‖ ciphertext ‖
//! tag), where the kid names the key (see [`SealKey::kid`]); secrets written before key IDs
//! existed read `sealed:v1:` + the same base64 and are still opened. The connection's ID is the
//! associated data, so a sealed secret copied onto another connection's row does not open.
//!
//! Rotation: set the new key as `TRUSTLINE_SEAL_KEY`, list the previous ones in
//! `TRUSTLINE_SEAL_OLD_KEYS` (comma-separated) or `TRUSTLINE_SEAL_OLD_KEYS_FILE` (one a line), and
//! run `trustline seal-key rotate`: every secret is re-sealed under the new key ([`reseal`]), after
//! which the old keys can be dropped.

use anyhow::{Context, Result, anyhow, bail};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use data_encoding::BASE64 as STANDARD;
use sha2::{Digest, Sha256};
use trustline_core::Secret;
use zeroize::Zeroizing;

/// The environment variable holding the key.
pub const KEY_ENV: &str = "TRUSTLINE_SEAL_KEY";
/// The environment variable naming a file that holds the key.
pub const KEY_FILE_ENV: &str = "TRUSTLINE_SEAL_KEY_FILE";
/// The environment variable holding earlier keys, comma-separated, still accepted for opening.
pub const OLD_KEYS_ENV: &str = "TRUSTLINE_SEAL_OLD_KEYS";
/// The environment variable naming a file of earlier keys, one a line.
pub const OLD_KEYS_FILE_ENV: &str = "TRUSTLINE_SEAL_OLD_KEYS_FILE";
/// The prefix of a secret sealed before key IDs existed (read only; [`SealKey::seal`] writes
/// [`PREFIX_V2`]). Use [`is_sealed`] to recognise either.
pub const PREFIX: &str = "sealed:v1:";
/// The prefix of a sealed secret labelled with its key's ID: `sealed:v2:<kid>:<base64>`.
pub const PREFIX_V2: &str = "sealed:v2:";

const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;
/// Hex characters of the key ID: 32 bits tell an operator's handful of keys apart, and a clash
/// only costs a second decryption attempt (every key with the ID is tried).
const KID_LEN: usize = 8;
/// Domain separation, so the key ID is never a hash someone computes over the key for another use.
const KID_LABEL: &[u8] = b"trustline seal key id\0";

/// Whether a stored secret reference is a sealed secret (either format).
pub fn is_sealed(s: &str) -> bool {
    s.starts_with(PREFIX) || s.starts_with(PREFIX_V2)
}

/// A sealed secret, split into its parts.
enum Sealed<'a> {
    V1(&'a str),
    V2 { kid: &'a str, body: &'a str },
}

impl<'a> Sealed<'a> {
    fn parse(sealed: &'a str) -> Result<Sealed<'a>> {
        if let Some(rest) = sealed.strip_prefix(PREFIX_V2) {
            let (kid, body) = rest
                .split_once(':')
                .filter(|(kid, _)| kid.len() == KID_LEN && kid.bytes().all(|b| b.is_ascii_hexdigit()))
                .ok_or_else(|| anyhow!("the sealed secret is damaged (no key ID after {PREFIX_V2})"))?;
            return Ok(Sealed::V2 { kid, body });
        }
        if let Some(body) = sealed.strip_prefix(PREFIX) {
            return Ok(Sealed::V1(body));
        }
        if sealed.starts_with("sealed:") {
            bail!("the sealed secret has a format this Trustline does not know; upgrade trustline");
        }
        // Bare base64: what `open` always accepted.
        Ok(Sealed::V1(sealed))
    }
}

/// Why a key did not open a sealed secret.
enum OpenFailure {
    /// The bytes are not a sealed secret at all; no other key will do better.
    Damaged(anyhow::Error),
    /// Authentication failed: another key, another connection, or altered bytes.
    Mismatch,
}

/// One sealing key.
#[derive(Clone)]
pub struct SealKey {
    cipher: XChaCha20Poly1305,
    kid: String,
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
            Zeroizing::new(STANDARD.decode(text.trim().as_bytes()).map_err(|_| {
                anyhow!("the sealing key is not base64; create one with `trustline seal-key`")
            })?);
        if bytes.len() != 32 {
            bail!("the sealing key must be 32 bytes (44 base64 characters), got {} bytes", bytes.len());
        }
        let cipher = XChaCha20Poly1305::new_from_slice(&bytes).map_err(|_| anyhow!("invalid sealing key"))?;
        let digest = Sha256::new().chain_update(KID_LABEL).chain_update(bytes.as_slice()).finalize();
        let kid = digest.iter().take(KID_LEN / 2).map(|b| format!("{b:02x}")).collect();
        Ok(SealKey { cipher, kid })
    }

    /// The current key from the environment, if the operator configured one.
    pub fn from_env() -> Result<Option<SealKey>> {
        current_from(&|name| std::env::var(name).ok())
    }

    /// The key's ID: 8 hex characters of SHA-256 over a fixed label and the key. It names the key
    /// in sealed secrets and messages without revealing it.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// A fresh key, base64-encoded, from the operating system's RNG.
    pub fn generate() -> Result<String> {
        let mut bytes = Zeroizing::new([0u8; 32]);
        getrandom::fill(bytes.as_mut()).map_err(|e| anyhow!("the operating system's RNG failed: {e}"))?;
        Ok(STANDARD.encode(bytes.as_ref()))
    }

    /// Seals `secret` for the connection `id` with a random nonce, labelled with this key's ID.
    pub fn seal(&self, secret: &Secret, id: &str) -> Result<String> {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce).map_err(|e| anyhow!("the operating system's RNG failed: {e}"))?;
        Ok(format!("{PREFIX_V2}{}:{}", self.kid, self.encrypt(secret, id, nonce)?))
    }

    /// base64(nonce ‖ ciphertext ‖ tag), the body of both formats.
    fn encrypt(&self, secret: &Secret, id: &str, nonce: [u8; NONCE_LEN]) -> Result<String> {
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
        Ok(STANDARD.encode(&out))
    }

    fn decrypt(&self, body: &str, id: &str) -> std::result::Result<Secret, OpenFailure> {
        let bytes = STANDARD
            .decode(body.as_bytes())
            .map_err(|_| OpenFailure::Damaged(anyhow!("the sealed secret is damaged (not base64)")))?;
        if bytes.len() < NONCE_LEN + TAG_LEN {
            return Err(OpenFailure::Damaged(anyhow!("the sealed secret is damaged (too short)")));
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
        let plain = Zeroizing::new(
            self.cipher
                .decrypt(XNonce::from_slice(nonce), Payload { msg: ciphertext, aad: id.as_bytes() })
                .map_err(|_| OpenFailure::Mismatch)?,
        );
        let text = std::str::from_utf8(&plain)
            .map_err(|_| OpenFailure::Damaged(anyhow!("the sealed secret is not text")))?;
        Ok(Secret::new(text))
    }

    /// Opens what [`SealKey::seal`] produced (or a `sealed:v1:` secret) for the connection `id`,
    /// with this key alone; [`SealKeys::open`] also tries the old keys.
    pub fn open(&self, sealed: &str, id: &str) -> Result<Secret> {
        SealKeys::new(self.clone(), Vec::new()).open(sealed, id)
    }
}

/// The current key, which seals, and the earlier keys still accepted for opening.
#[derive(Debug, Clone)]
pub struct SealKeys {
    current: SealKey,
    old: Vec<SealKey>,
}

impl SealKeys {
    /// The current key and the old ones.
    pub fn new(current: SealKey, old: Vec<SealKey>) -> SealKeys {
        SealKeys { current, old }
    }

    /// The keys from the environment: `None` when no key is configured at all.
    pub fn from_env() -> Result<Option<SealKeys>> {
        SealKeys::from_lookup(&|name| std::env::var(name).ok())
    }

    /// The keys from `lookup` (an environment variable's value by name), so tests need not set
    /// the process's environment.
    fn from_lookup(lookup: &dyn Fn(&str) -> Option<String>) -> Result<Option<SealKeys>> {
        let old = old_from(lookup)?;
        match current_from(lookup)? {
            Some(current) => Ok(Some(SealKeys { current, old })),
            None if old.is_empty() => Ok(None),
            None => bail!(
                "{OLD_KEYS_ENV} or {OLD_KEYS_FILE_ENV} is set but {KEY_ENV} is not: old keys only open secrets alongside a current key (`trustline seal-key` makes one)"
            ),
        }
    }

    /// The key that seals.
    pub fn current(&self) -> &SealKey {
        &self.current
    }

    /// Seals under the current key.
    pub fn seal(&self, secret: &Secret, id: &str) -> Result<String> {
        self.current.seal(secret, id)
    }

    /// Whether `sealed` is already under the current key (re-sealing would change nothing).
    pub fn is_current(&self, sealed: &str) -> bool {
        matches!(Sealed::parse(sealed), Ok(Sealed::V2 { kid, .. }) if kid == self.current.kid)
    }

    fn all(&self) -> impl Iterator<Item = &SealKey> {
        std::iter::once(&self.current).chain(&self.old)
    }

    /// Opens a sealed secret of the connection `id`: a `sealed:v2:` one with the key its ID
    /// names, a `sealed:v1:` one with whichever configured key opens it.
    pub fn open(&self, sealed: &str, id: &str) -> Result<Secret> {
        let (body, candidates): (&str, Vec<&SealKey>) = match Sealed::parse(sealed)? {
            Sealed::V1(body) => (body, self.all().collect()),
            Sealed::V2 { kid, body } => {
                let with_kid: Vec<&SealKey> = self.all().filter(|k| k.kid == kid).collect();
                if with_kid.is_empty() {
                    bail!(
                        "the sealing key does not open connection {id}'s secret: it was sealed under key {kid}, and neither {KEY_ENV} (key {}) nor {OLD_KEYS_ENV} or {OLD_KEYS_FILE_ENV} holds a key with that ID; add the key it was sealed with to {OLD_KEYS_ENV}",
                        self.current.kid
                    );
                }
                (body, with_kid)
            }
        };
        for key in candidates {
            match key.decrypt(body, id) {
                Ok(secret) => return Ok(secret),
                Err(OpenFailure::Damaged(e)) => return Err(e),
                Err(OpenFailure::Mismatch) => {}
            }
        }
        bail!(
            "the sealing key does not open connection {id}'s secret: neither {KEY_ENV} nor {OLD_KEYS_ENV} is the key it was sealed with, or the store was altered"
        )
    }
}

fn current_from(lookup: &dyn Fn(&str) -> Option<String>) -> Result<Option<SealKey>> {
    if let Some(text) = lookup(KEY_ENV).map(Zeroizing::new) {
        return SealKey::from_base64(&text).with_context(|| format!("in {KEY_ENV}")).map(Some);
    }
    if let Some(path) = lookup(KEY_FILE_ENV) {
        let text = Zeroizing::new(
            std::fs::read_to_string(&path)
                .with_context(|| format!("reading the sealing key file {path} ({KEY_FILE_ENV})"))?,
        );
        return SealKey::from_base64(&text).with_context(|| format!("in {path} ({KEY_FILE_ENV})")).map(Some);
    }
    Ok(None)
}

fn old_from(lookup: &dyn Fn(&str) -> Option<String>) -> Result<Vec<SealKey>> {
    let mut keys = Vec::new();
    if let Some(text) = lookup(OLD_KEYS_ENV).map(Zeroizing::new) {
        for (i, entry) in text.split(',').map(str::trim).filter(|e| !e.is_empty()).enumerate() {
            keys.push(
                SealKey::from_base64(entry).with_context(|| format!("key {} in {OLD_KEYS_ENV}", i + 1))?,
            );
        }
    }
    if let Some(path) = lookup(OLD_KEYS_FILE_ENV) {
        let text =
            Zeroizing::new(std::fs::read_to_string(&path).with_context(|| {
                format!("reading the old sealing keys file {path} ({OLD_KEYS_FILE_ENV})")
            })?);
        for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
            keys.push(
                SealKey::from_base64(line)
                    .with_context(|| format!("line {} of {path} ({OLD_KEYS_FILE_ENV})", i + 1))?,
            );
        }
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> SealKey {
        key_of(7)
    }

    fn key_of(byte: u8) -> SealKey {
        SealKey::from_base64(&STANDARD.encode(&[byte; 32])).unwrap()
    }

    #[test]
    fn round_trip_is_bound_to_the_connection() {
        let secret = Secret::new("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
        let sealed = key().seal(&secret, "aws-123456789012").unwrap();
        assert!(sealed.starts_with(&format!("{PREFIX_V2}{}:", key().kid())), "{sealed}");
        assert!(is_sealed(&sealed));
        assert!(!sealed.contains("wJalr"), "the secret does not show through");
        assert_eq!(key().open(&sealed, "aws-123456789012").unwrap().expose(), secret.expose());
        let err = key().open(&sealed, "aws-999999999999").unwrap_err().to_string();
        assert!(err.contains("does not open connection aws-999999999999") && err.contains(KEY_ENV), "{err}");
        assert!(key_of(8).open(&sealed, "aws-123456789012").is_err());
    }

    #[test]
    fn nonces_differ_and_tampering_is_detected() {
        let secret = Secret::new("s3cr3t");
        let (a, b) = (key().seal(&secret, "c").unwrap(), key().seal(&secret, "c").unwrap());
        assert_ne!(a, b, "a fresh nonce each time");
        let (head, body) = a.rsplit_once(':').unwrap();
        let mut bytes = STANDARD.decode(body.as_bytes()).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        assert!(key().open(&format!("{head}:{}", STANDARD.encode(&bytes)), "c").is_err());
        assert!(key().open("sealed:v1:!!!", "c").unwrap_err().to_string().contains("damaged"));
        assert!(key().open("sealed:v1:AAAA", "c").unwrap_err().to_string().contains("too short"));
        assert!(key().open("sealed:v2:AAAA", "c").unwrap_err().to_string().contains("no key ID"));
        assert!(key().open("sealed:v9:AAAA", "c").unwrap_err().to_string().contains("upgrade"));
    }

    #[test]
    fn keys_are_checked() {
        assert!(SealKey::from_base64("not base64!").unwrap_err().to_string().contains("trustline seal-key"));
        assert!(
            SealKey::from_base64(&STANDARD.encode(&[1u8; 16])).unwrap_err().to_string().contains("16 bytes")
        );
        let generated = SealKey::generate().unwrap();
        assert_eq!(generated.len(), 44);
        SealKey::from_base64(&generated).unwrap();
        assert_eq!(format!("{:?}", key()), "SealKey(..)");
        assert_eq!(key().kid().len(), KID_LEN);
        assert_ne!(key().kid(), key_of(8).kid());
        assert!(is_sealed(PREFIX) && !is_sealed("env:SECRET") && !is_sealed("sealed:v9:x"));
    }

    #[test]
    fn known_answer() {
        // Pinned so a format change cannot go unnoticed: old stores must keep opening.
        let v1 = "sealed:v1:AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEB0BZgPqg7RFFwiJMcDZGKyK0J7g==";
        assert_eq!(key().open(v1, "id").unwrap().expose(), "abc");
        // The kid, recomputed outside Rust: python3 -c "import hashlib;
        // print(hashlib.sha256(b'trustline seal key id\0' + bytes([7] * 32)).hexdigest()[:8])"
        assert_eq!(key().kid(), "aad203f9");
        let v2 = format!(
            "{PREFIX_V2}{}:{}",
            key().kid(),
            key().encrypt(&Secret::new("abc"), "id", [1u8; NONCE_LEN]).unwrap()
        );
        assert_eq!(v2, "sealed:v2:aad203f9:AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEB0BZgPqg7RFFwiJMcDZGKyK0J7g==");
        assert_eq!(key().open(&v2, "id").unwrap().expose(), "abc");
    }

    #[test]
    fn old_keys_open_and_a_missing_kid_is_named() {
        let (a, b) = (key_of(1), key_of(2));
        let under_a = a.seal(&Secret::new("s"), "c").unwrap();
        let v1_under_a = format!("{PREFIX}{}", a.encrypt(&Secret::new("s"), "c", [3u8; NONCE_LEN]).unwrap());
        let rotated = SealKeys::new(b.clone(), vec![a.clone()]);
        assert_eq!(rotated.open(&under_a, "c").unwrap().expose(), "s");
        assert_eq!(rotated.open(&v1_under_a, "c").unwrap().expose(), "s", "v1 tries every key");
        assert!(!rotated.is_current(&under_a) && !rotated.is_current(&v1_under_a));
        assert!(rotated.is_current(&rotated.seal(&Secret::new("s"), "c").unwrap()));
        let err = b.open(&under_a, "c").unwrap_err().to_string();
        assert!(err.contains(&format!("sealed under key {}", a.kid())), "{err}");
        assert!(err.contains(KEY_ENV) && err.contains(OLD_KEYS_ENV), "{err}");
        let err = b.open(&v1_under_a, "c").unwrap_err().to_string();
        assert!(err.contains("does not open connection c") && err.contains(OLD_KEYS_ENV), "{err}");
    }

    #[test]
    fn keys_come_from_the_environment_and_files() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("old-keys");
        let (a, b, c) =
            (STANDARD.encode(&[1u8; 32]), STANDARD.encode(&[2u8; 32]), STANDARD.encode(&[3u8; 32]));
        std::fs::write(&file, format!("{b}\n\n{c}\n")).unwrap();
        let file = file.to_str().unwrap().to_owned();
        let env = |vars: Vec<(&'static str, String)>| {
            move |name: &str| vars.iter().find(|(n, _)| *n == name).map(|(_, v)| v.clone())
        };
        assert!(SealKeys::from_lookup(&env(vec![])).unwrap().is_none());
        let keys = SealKeys::from_lookup(&env(vec![
            (KEY_ENV, a.clone()),
            (OLD_KEYS_ENV, format!("{b}, {c}")),
            (OLD_KEYS_FILE_ENV, file.clone()),
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(keys.current().kid(), key_of(1).kid());
        assert_eq!(keys.old.len(), 4);
        let err = SealKeys::from_lookup(&env(vec![(OLD_KEYS_ENV, b.clone())])).unwrap_err().to_string();
        assert!(err.contains(KEY_ENV), "{err}");
        let err = format!(
            "{:#}",
            SealKeys::from_lookup(&env(vec![(KEY_ENV, a), (OLD_KEYS_ENV, format!("{b},nope"))])).unwrap_err()
        );
        assert!(err.contains(&format!("key 2 in {OLD_KEYS_ENV}")) && !err.contains(&b), "{err}");
    }
}
