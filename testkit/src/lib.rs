//! Test support for Trustline: locating the project's test tools and starting stand-ins on
//! loopback, on free ports, stopped when dropped: moto server, and the AWS simulator (a
//! generated organization, or as [`standin::StandIn`] explicit users and roles).
//!
//! Tests never skip silently: when a tool is missing they fail with the command that installs it.

pub mod http;
pub mod moto;
pub mod sim;
pub mod standin;
pub mod tools;

pub use moto::Moto;
