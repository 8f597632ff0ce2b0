//! ExternalIds: the per-customer value that defeats the "confused deputy".
//!
//! The vendor issues one unguessable ExternalId per customer connection and presents it on every
//! AssumeRole; the customer's trust policy requires it. Because the customer cannot choose it and
//! other customers cannot guess it, nobody can trick the vendor into using another customer's
//! role. Generation takes the caller's CSPRNG so this crate stays free of OS randomness.

use std::fmt;
use std::str::FromStr;

use data_encoding::BASE32_DNSSEC;
use rand_core::TryCryptoRng;

use crate::error::{Error, Result, impl_string_serde, quote};

/// Random bytes in a generated ExternalId: 160 bits, above the 128 bits the issue requires and
/// an exact multiple of base32's 5-bit symbols (32 characters, no padding).
const RANDOM_BYTES: usize = 20;
/// STS's limits on the `ExternalId` parameter.
const MIN_LEN: usize = 2;
const MAX_LEN: usize = 1224;

/// A validated ExternalId (2–1224 characters of `[\w+=,.@:/-]`, as STS requires).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ExternalId(String);

impl ExternalId {
    /// Generates a new ExternalId from the caller's cryptographically secure RNG: an optional
    /// vendor prefix (e.g. `acme:tenant-42:`) followed by 160 random bits in lower-case base32.
    pub fn generate<R: TryCryptoRng + ?Sized>(rng: &mut R, prefix: Option<&str>) -> Result<Self> {
        let prefix = prefix.unwrap_or("");
        if let Some(bad) = prefix.chars().find(|c| !is_external_id_char(*c)) {
            return Err(Error::invalid(
                "external_id_prefix",
                format!(
                    "prefix {} contains {bad:?}; STS allows letters, digits and + = , . @ : / _ - only",
                    quote(prefix)
                ),
            ));
        }
        let random_len = BASE32_DNSSEC.encode_len(RANDOM_BYTES);
        if prefix.len() + random_len > MAX_LEN {
            return Err(Error::too_large(
                "external_id_prefix",
                format!(
                    "prefix is {} characters; with the random part the ExternalId would exceed STS's {MAX_LEN}",
                    prefix.len()
                ),
            ));
        }
        let mut bytes = [0u8; RANDOM_BYTES];
        rng.try_fill_bytes(&mut bytes).map_err(|_| {
            Error::randomness("the random number generator failed; no ExternalId was generated")
        })?;
        Ok(ExternalId(format!("{prefix}{}", BASE32_DNSSEC.encode(&bytes))))
    }

    /// The ExternalId as text, exactly as it goes into the trust policy and AssumeRole.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Characters STS accepts in an ExternalId: `[\w+=,.@:/-]`.
fn is_external_id_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '+' | '=' | ',' | '.' | '@' | ':' | '/' | '-')
}

impl FromStr for ExternalId {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        const FIELD: &str = "external_id";
        if s.trim() != s {
            return Err(Error::invalid(FIELD, format!("{} has spaces around it; remove them", quote(s))));
        }
        let len = s.chars().count();
        if len < MIN_LEN {
            return Err(Error::invalid(
                FIELD,
                format!("ExternalId must be at least {MIN_LEN} characters, got {len}"),
            ));
        }
        if len > MAX_LEN {
            return Err(Error::too_large(
                FIELD,
                format!("ExternalId must be at most {MAX_LEN} characters, got {len}"),
            ));
        }
        if let Some(bad) = s.chars().find(|c| !is_external_id_char(*c)) {
            return Err(Error::invalid(
                FIELD,
                format!("ExternalId contains {bad:?}; STS allows letters, digits and + = , . @ : / _ - only"),
            ));
        }
        Ok(ExternalId(s.to_owned()))
    }
}

impl fmt::Display for ExternalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl_string_serde!(ExternalId);

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A deterministic "CSPRNG" for tests: a counter. Never use outside tests.
    #[derive(Debug)]
    pub(crate) struct CountingRng(pub(crate) u8);

    impl rand_core::TryRng for CountingRng {
        type Error = std::convert::Infallible;
        fn try_next_u32(&mut self) -> std::result::Result<u32, Self::Error> {
            let mut b = [0; 4];
            self.try_fill_bytes(&mut b)?;
            Ok(u32::from_le_bytes(b))
        }
        fn try_next_u64(&mut self) -> std::result::Result<u64, Self::Error> {
            let mut b = [0; 8];
            self.try_fill_bytes(&mut b)?;
            Ok(u64::from_le_bytes(b))
        }
        fn try_fill_bytes(&mut self, dst: &mut [u8]) -> std::result::Result<(), Self::Error> {
            for b in dst {
                *b = self.0;
                self.0 = self.0.wrapping_add(1);
            }
            Ok(())
        }
    }
    impl rand_core::TryCryptoRng for CountingRng {}

    #[test]
    fn generated_ids_carry_160_random_bits_after_the_prefix() {
        let id = ExternalId::generate(&mut CountingRng(0), Some("acme:tenant-42:")).unwrap();
        assert_eq!(id.as_str(), "acme:tenant-42:000g40o40k30e209185go38e1s8124gj");
        let id = ExternalId::generate(&mut CountingRng(7), None).unwrap();
        assert_eq!(id.as_str().len(), 32);
        assert!(id.as_str().parse::<ExternalId>().is_ok());
    }

    #[test]
    fn prefix_and_value_errors_name_the_field() {
        let e = ExternalId::generate(&mut CountingRng(0), Some("acme tenant")).unwrap_err();
        assert_eq!(e.field(), "external_id_prefix");
        assert!(e.to_string().contains("' '"), "{e}");
        assert!("a".parse::<ExternalId>().unwrap_err().to_string().contains("at least 2"));
        assert!("a#b".parse::<ExternalId>().unwrap_err().to_string().contains("'#'"));
        assert!("x".repeat(1225).parse::<ExternalId>().is_err());
        assert!("x".repeat(1224).parse::<ExternalId>().is_ok());
    }

    proptest! {
        #[test]
        fn valid_ids_round_trip(s in "[A-Za-z0-9_+=,.@:/-]{2,200}") {
            let id: ExternalId = s.parse().unwrap();
            prop_assert_eq!(id.to_string(), s.clone());
            let json = serde_json::to_string(&id).unwrap();
            prop_assert_eq!(serde_json::from_str::<ExternalId>(&json).unwrap(), id);
        }

        #[test]
        fn generated_ids_always_validate(seed in any::<u8>(), prefix in "[a-z0-9:-]{0,40}") {
            let id = ExternalId::generate(&mut CountingRng(seed), Some(&prefix)).unwrap();
            prop_assert!(id.as_str().starts_with(&prefix));
            prop_assert_eq!(id.as_str().parse::<ExternalId>().unwrap(), id);
        }
    }
}
