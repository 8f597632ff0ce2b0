//! Verifying a connection before it is registered: can Trustline assume the role with the
//! ExternalId, is the ExternalId really enforced (the confused-deputy proof), is it the expected
//! account, and are the permissions the data sets need there? The report's shape is here; the
//! checks of a role, of a customer's keys and of each permission are in the submodules; the
//! request and report bodies are `trustline_core::api`'s, which the wizard shares.

mod keys;
mod probes;
mod role;

pub use trustline_core::api::{
    Check, CheckStatus, Verdict, VerifyKeysRequest, VerifyReport, VerifyRoleRequest,
};

pub use keys::verify_keys;
pub(crate) use probes::run as run_probe;
pub use probes::{NOT_PROBED, ProbeOp, probe_op};
pub use role::{NEEDED_SESSION_SECONDS, decoys, prove_rotation, verify_role};
