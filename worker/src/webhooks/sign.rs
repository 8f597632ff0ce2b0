//! Standard Webhooks' symmetric signatures: a secret is `whsec_` + base64 of 24 to 64 random
//! bytes, and a signature is `v1,` + base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}"))
//! (spec/standard-webhooks.md, "Signature scheme", in github.com/standard-webhooks/standard-webhooks).

use anyhow::{Result, anyhow, bail};
use data_encoding::BASE64;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use trustline_core::Secret;
use zeroize::Zeroizing;

/// The prefix of a serialized symmetric secret.
pub const SECRET_PREFIX: &str = "whsec_";

/// Random bytes in a new secret: the specification asks for at least 24 (192 bits).
pub const SECRET_BYTES: usize = 32;

/// A new endpoint secret, `whsec_` + base64 of 32 bytes from the operating system's RNG.
pub fn generate_secret() -> Result<Secret> {
    let mut key = Zeroizing::new([0u8; SECRET_BYTES]);
    getrandom::fill(key.as_mut()).map_err(|e| anyhow!("the operating system's RNG failed: {e}"))?;
    Ok(Secret::new(format!("{SECRET_PREFIX}{}", BASE64.encode(key.as_ref()))))
}

/// The key bytes of a `whsec_` secret (the prefix is optional, as the reference libraries
/// accept it either way).
pub fn secret_key(secret: &Secret) -> Result<Zeroizing<Vec<u8>>> {
    let text = secret.expose();
    let body = text.strip_prefix(SECRET_PREFIX).unwrap_or(text);
    let key = Zeroizing::new(
        BASE64.decode(body.as_bytes()).map_err(|_| anyhow!("the webhook secret is not base64"))?,
    );
    if key.len() < 24 || key.len() > 64 {
        bail!("a webhook secret holds 24 to 64 bytes, this one {}", key.len());
    }
    Ok(key)
}

/// The `webhook-signature` header's value for message `id`, sent at `timestamp` (Unix seconds),
/// with body `body`.
pub fn sign(key: &[u8], id: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1,{}", BASE64.encode(&mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const BODY: &[u8] = br#"{"test": 2432232314}"#;

    /// The reference implementation's own vector: `test_sign_function` in
    /// libraries/python/tests/test_webhooks.py of github.com/standard-webhooks/standard-webhooks.
    #[test]
    fn the_reference_test_vector() {
        let key = secret_key(&Secret::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")).unwrap();
        let signature = sign(&key, ID, 1_614_265_330, BODY);
        assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
        // Any change to the id, the time or the body changes it.
        assert_ne!(sign(&key, "msg_p5jXN8AQM9LWM0D4loKWxJeK", 1_614_265_330, BODY), signature);
        assert_ne!(sign(&key, ID, 1_614_265_331, BODY), signature);
        assert_ne!(sign(&key, ID, 1_614_265_330, br#"{"test": 2432232315}"#), signature);
        // Without the prefix, the same key.
        assert_eq!(*secret_key(&Secret::new("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")).unwrap(), *key);
    }

    #[test]
    fn generated_secrets_are_random_and_well_formed() {
        let (a, b) = (generate_secret().unwrap(), generate_secret().unwrap());
        assert_ne!(a.expose(), b.expose());
        assert!(a.expose().starts_with(SECRET_PREFIX) && a.expose().len() == SECRET_PREFIX.len() + 44);
        assert_eq!(secret_key(&a).unwrap().len(), SECRET_BYTES);
        assert!(secret_key(&Secret::new("whsec_!!")).unwrap_err().to_string().contains("not base64"));
        assert!(secret_key(&Secret::new("whsec_AAAA")).unwrap_err().to_string().contains("24 to 64 bytes"));
    }
}
