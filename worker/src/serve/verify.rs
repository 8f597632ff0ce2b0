//! Verifying a connection before it is registered: can Trustline assume the role with the
//! ExternalId, is the ExternalId really enforced (the confused-deputy proof), is it the expected
//! account, and are the permissions the data sets need there? The report's shape is here; the
//! checks of a role, of a customer's keys and of each permission are in the submodules.

mod keys;
mod probes;
mod role;

use serde::{Deserialize, Serialize};
use trustline_core::AccountId;

pub use keys::{KeysRequest, verify_keys};
pub(crate) use probes::run as run_probe;
pub use probes::{NOT_PROBED, ProbeOp, probe_op};
pub use role::{NEEDED_SESSION_SECONDS, RoleRequest, decoys, prove_rotation, verify_role};

/// `pass`, `fail`, `warn` or `skipped`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// As it should be.
    Pass,
    /// Must be fixed before the connection works.
    Fail,
    /// Works, but should be looked at.
    Warn,
    /// Not run because an earlier check failed.
    Skipped,
}

/// One check's result.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    /// Stable id (`assume_role`, `permission:iam:ListUsers`, …).
    pub id: String,
    /// What was checked.
    pub title: String,
    /// The outcome.
    pub status: Status,
    /// AWS's error code, when AWS returned one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aws_error_code: Option<String>,
    /// One sentence for the customer: what passed, or what to fix.
    pub message: String,
}

/// The overall answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Every check passed (warnings allowed).
    Verified,
    /// The role can be assumed without the right ExternalId: never registered.
    Unsafe,
    /// Something must be fixed.
    Failed,
}

/// The verification report.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The verdict.
    pub verdict: Verdict,
    /// The account, when known.
    pub account_id: Option<AccountId>,
    /// Every check, in order.
    pub checks: Vec<Check>,
}

pub(crate) fn check(
    id: &str,
    title: &str,
    status: Status,
    code: Option<&str>,
    message: impl Into<String>,
) -> Check {
    Check {
        id: id.into(),
        title: title.into(),
        status,
        aws_error_code: code.map(str::to_owned),
        message: message.into(),
    }
}

pub(crate) fn secret<'de, D: serde::Deserializer<'de>>(d: D) -> Result<trustline_core::Secret, D::Error> {
    let value = zeroize::Zeroizing::new(String::deserialize(d)?);
    if value.is_empty() {
        return Err(serde::de::Error::custom("the secret access key is empty"));
    }
    Ok(trustline_core::Secret::new(value.as_str()))
}

pub(crate) fn optional_secret<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<trustline_core::Secret>, D::Error> {
    let value: Option<String> = Option::deserialize(d)?;
    let value = value.map(zeroize::Zeroizing::new);
    Ok(value.filter(|v| !v.is_empty()).map(|v| trustline_core::Secret::new(v.as_str())))
}
