//! Wire-level tests of Trustline's AWS layer: signatures checked against botocore and moto,
//! parsers run on responses recorded from moto and on fixtures in AWS's documented shapes.
//! On wasm32 (Node, headless Chromium) the signing corpus is checked against botocore's
//! recorded signatures.

mod corpus;
#[cfg(not(target_arch = "wasm32"))]
mod errors;
#[cfg(all(feature = "executor", not(target_arch = "wasm32")))]
mod executor;
#[cfg(not(target_arch = "wasm32"))]
mod moto;
#[cfg(not(target_arch = "wasm32"))]
mod parsers;
#[cfg(not(target_arch = "wasm32"))]
mod signing;
#[cfg(target_arch = "wasm32")]
mod wasm;
