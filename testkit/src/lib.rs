//! Test support for Trustline: locating the project's test tools and starting real stand-ins
//! (moto server, the AWS stand-in, the organization simulator) on loopback, on free ports,
//! stopped when dropped.
//!
//! Tests never skip silently: when a tool is missing they fail with the command that installs it.

pub mod http;
pub mod moto;
pub mod sim;
pub mod standin;
pub mod tools;

pub use moto::Moto;
