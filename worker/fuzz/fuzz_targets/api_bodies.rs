//! The verify and registration API's request bodies on arbitrary bytes (the first byte picks the
//! body type): no panics, only errors.
#![no_main]

use libfuzzer_sys::fuzz_target;
use trustline_core::api::{CreateSession, CreateTenant, RegisterRequest, VerifyKeysRequest, VerifyRoleRequest};

fuzz_target!(|data: &[u8]| {
    let Some((selector, body)) = data.split_first() else { return };
    match selector % 5 {
        0 => drop(serde_json::from_slice::<VerifyRoleRequest>(body)),
        1 => drop(serde_json::from_slice::<VerifyKeysRequest>(body)),
        2 => drop(serde_json::from_slice::<CreateTenant>(body)),
        3 => drop(serde_json::from_slice::<CreateSession>(body)),
        _ => drop(serde_json::from_slice::<RegisterRequest>(body)),
    }
});
