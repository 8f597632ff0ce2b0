//! The ARN, role ARN, account ID, ExternalId and region parsers on arbitrary text: no panics,
//! and whatever parses prints back to text that parses to the same value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use trustline_core::{AccountId, Arn, ExternalId, Region, RoleArn};

fn round_trip<T: std::str::FromStr + std::fmt::Display + PartialEq + std::fmt::Debug>(text: &str) {
    if let Ok(value) = text.parse::<T>() {
        let again: T = value.to_string().parse().ok().expect("a printed value parses");
        assert_eq!(again, value);
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    round_trip::<Arn>(text);
    round_trip::<RoleArn>(text);
    round_trip::<AccountId>(text);
    round_trip::<ExternalId>(text);
    round_trip::<Region>(text);
});
