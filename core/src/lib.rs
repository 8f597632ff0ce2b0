//! Trustline's sans-IO core: everything a vendor needs to let a customer connect an AWS account,
//! as pure functions over validated types.
//!
//! Nothing in this crate performs IO, reads a clock or draws randomness: callers pass the time and
//! a random number generator in, which keeps every result reproducible and lets the same code run
//! natively and in the browser (wasm32).

pub mod alternatives;
pub mod api;
pub mod arn;
pub mod aws;
pub mod cfn;
pub mod endpoint;
pub mod error;
#[cfg(feature = "executor")]
pub mod exec;
pub mod external_id;
pub mod ids;
pub mod integration;
mod partition;
pub mod policy;
pub mod secret;
pub mod sign;
pub mod spec;

pub use arn::{AccountId, Arn, Partition, Region, RoleArn};
pub use endpoint::{Endpoint, Endpoints, Service};
pub use error::{Error, ErrorKind};
pub use external_id::ExternalId;
pub use integration::IntegrationKind;
pub use partition::suggest_region;
pub use secret::{Credentials, Secret};
pub use sign::Signer;
