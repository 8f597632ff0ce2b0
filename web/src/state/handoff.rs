//! What leaves the wizard: the verify API's request and the result handed to the host.

use serde::Serialize;
use trustline_core::IntegrationKind;
use trustline_core::api::{VerifyKeysRequest, VerifyRoleRequest};

use super::{Check, Step, Verdict, Wizard};
use crate::config::{ExternalIdSource, VerifyTarget};

impl Wizard {
    /// The request for the worker's verify API: what to verify and its body. For keys the body
    /// holds the secret, which is why it is built only when the call is made and never stored.
    /// The role's ExternalId is the one the session's tenant was issued: the worker uses that one
    /// anyway and refuses any other (422, field `external_id`).
    pub fn verify_request(&self) -> Option<(VerifyTarget, VerifyBody)> {
        let kind = self.kind?;
        let scope = self.parsed_scope()?.ok()?;
        match kind {
            IntegrationKind::CrossAccountRole => Some((
                VerifyTarget::Role,
                VerifyBody::Role(VerifyRoleRequest {
                    role_arn: self.role_arn().ok()?,
                    external_id: Some(self.config.external_id.clone()),
                    expected_account_id: scope.account,
                    data_sets: scope.permissions.data_sets.into_iter().collect(),
                    regions: scope.permissions.regions,
                }),
            )),
            IntegrationKind::Sts | IntegrationKind::AccessKey => Some((
                VerifyTarget::Keys,
                VerifyBody::Keys(VerifyKeysRequest {
                    kind,
                    access_key_id: self.connect.access_key_id.clone(),
                    secret_access_key: self.connect.secret.clone(),
                    session_token: None,
                    role_arn: if kind == IntegrationKind::Sts { self.role_arn().ok() } else { None },
                    external_id: None,
                }),
            )),
            IntegrationKind::SameAccountRole => None,
        }
    }

    /// What the host receives on completion (never the secret: the JS layer adds it to the
    /// callback only, not to the DOM event).
    pub fn completion(&self) -> Option<Completion> {
        if self.step != Step::Done {
            return None;
        }
        let kind = self.kind?;
        let scope = self.parsed_scope()?.ok()?;
        let verified = self.verify.done();
        Some(Completion {
            kind: kind.id(),
            organization: scope.organization,
            external_id: self.config.external_id.to_string(),
            external_id_source: self.config.external_id_source,
            external_id_generated: self.config.external_id_generated(),
            tenant: self.config.session.as_ref().map(|s| s.tenant.clone()),
            role_arn: self.needs_role_arn().then(|| self.connect.role_arn.clone()),
            account_id: verified
                .and_then(|r| r.account_id.as_ref().map(ToString::to_string))
                .or_else(|| self.key_check.done().map(|k| k.account_id.clone()))
                .or_else(|| self.role_arn().ok().map(|a| a.account_id().to_string())),
            data_sets: scope.permissions.data_sets.iter().map(|d| d.id()).collect(),
            regions: scope.permissions.regions.iter().map(ToString::to_string).collect(),
            verdict: verified.map(|r| r.verdict),
            verified: verified.is_some_and(|r| r.verdict == Verdict::Verified),
            checks: verified.map(|r| r.checks.clone()).unwrap_or_default(),
            access_key_id: self.needs_keys().then(|| self.connect.access_key_id.clone()),
            identity_arn: self.key_check.done().map(|k| k.arn.clone()),
        })
    }
}

/// The body of a verify call, as `trustline_core::api` defines it for the worker.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum VerifyBody {
    /// `POST …/verify/role`.
    Role(VerifyRoleRequest),
    /// `POST …/verify/keys`.
    Keys(VerifyKeysRequest),
}

/// The result handed to the host when the customer finishes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Completion {
    /// The kind's id.
    pub kind: &'static str,
    /// Whether the role goes to a whole Organization.
    pub organization: bool,
    /// The ExternalId the role requires (store it: the vendor presents it on every AssumeRole).
    pub external_id: String,
    /// Where it came from: `session` (the worker issued it to `tenant`), `option` (the host's
    /// `externalId`, without a session) or `browser` (generated here: no tenant has it, so the
    /// worker cannot register a role that requires it).
    pub external_id_source: ExternalIdSource,
    /// Whether the page generated it (`external_id_source` is `browser`).
    pub external_id_generated: bool,
    /// The session's tenant, to register the connection under; null without a session.
    pub tenant: Option<String>,
    /// The role ARN, for role kinds.
    pub role_arn: Option<String>,
    /// The connected account.
    pub account_id: Option<String>,
    /// The data sets the customer shared.
    pub data_sets: Vec<&'static str>,
    /// Regions; empty means every region.
    pub regions: Vec<String>,
    /// The verify API's verdict; null when it was not called (no verify URL, same-account role).
    pub verdict: Option<Verdict>,
    /// Whether the verify API said `verified`.
    pub verified: bool,
    /// The verify API's checks.
    pub checks: Vec<Check>,
    /// The access key ID, for key kinds.
    pub access_key_id: Option<String>,
    /// Who the key belongs to, from the browser's check.
    pub identity_arn: Option<String>,
}
