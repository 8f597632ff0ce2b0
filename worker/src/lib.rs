//! The Trustline worker: credentials, the AWS client, the inventory sync and the embedded store,
//! used by the `trustline` binary.

pub mod client;
pub mod config;
pub mod credentials;
pub mod limiter;
pub mod resource;
pub mod schedule;
pub mod seal;
pub mod serve;
pub mod store;
pub mod sync;
pub mod text;
pub mod webhooks;
