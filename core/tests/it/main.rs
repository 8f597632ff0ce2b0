//! trustline-core's integration tests for the documents customers use to grant access: golden
//! snapshots of every generated document, property tests of the validated types, the trust
//! check's rules, quick-create links, and a CloudFormation round trip through moto.

mod documents;
mod links;
mod moto_round_trip;
mod properties;
mod trust;

use trustline_core::spec::RoleSpec;

/// The role spec most tests start from.
pub(crate) fn acme_role() -> RoleSpec {
    RoleSpec::new("arn:aws:iam::111122223333:root".parse().unwrap(), "Acme Security", "AcmeReadOnly")
}
