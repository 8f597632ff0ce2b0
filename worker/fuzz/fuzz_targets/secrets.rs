//! Secret references and sealed secrets as the store holds them, on arbitrary text: no panics;
//! nothing but what the key sealed for this connection ever opens; what it seals opens again.
#![no_main]

use libfuzzer_sys::fuzz_target;
use trustline_worker::seal::SealKey;
use trustline_worker::store::SecretRef;

const KEY: &str = "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=";

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let key = SealKey::from_base64(KEY).expect("a valid key");
    let _ = text.parse::<SecretRef>();
    assert!(key.open(text, "conn").is_err(), "forged input opened");
    if !text.is_empty() {
        let secret = trustline_core::Secret::new(text);
        let sealed = key.seal(&secret, "conn").expect("sealing works");
        assert_eq!(key.open(&sealed, "conn").expect("opens").expose(), text);
        assert!(key.open(&sealed, "other").is_err());
    }
});
