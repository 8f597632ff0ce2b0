//! What the vendor wants the customer to create, independent of how it is created
//! (CloudFormation, StackSet, AWS CLI or Terraform): one spec, several renderings.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::arn::{is_iam_name_char, validate_role_name, validate_role_path};
use crate::error::{Error, Result, impl_string_serde, quote};
use crate::external_id::ExternalId;
use crate::policy::permissions::PermissionOptions;
use crate::policy::trust::{TrustHardening, VendorPrincipal};

/// The shortest and longest session a role may allow (`MaxSessionDuration`, seconds).
pub const SESSION_SECONDS: std::ops::RangeInclusive<u32> = 3_600..=43_200;

/// An AWS-managed policy to attach as well, by name with its path (`SecurityAudit`,
/// `job-function/ViewOnlyAccess`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AwsManagedPolicy(String);

impl AwsManagedPolicy {
    /// The policy's ARN in a partition (`aws`, or `${AWS::Partition}` inside a template).
    pub fn arn(&self, partition: &str) -> String {
        format!("arn:{partition}:iam::aws:policy/{}", self.0)
    }
}

impl FromStr for AwsManagedPolicy {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let name = s.rsplit_once(":policy/").map_or(s, |(_, n)| n);
        let ok = !name.is_empty()
            && name.len() <= 128 + 512
            && name.split('/').all(|seg| !seg.is_empty() && seg.chars().all(is_iam_name_char));
        if ok {
            Ok(AwsManagedPolicy(name.to_owned()))
        } else {
            Err(Error::invalid(
                "aws_managed_policies",
                format!(
                    "expected an AWS-managed policy name such as SecurityAudit or job-function/ViewOnlyAccess, got {}",
                    quote(s)
                ),
            ))
        }
    }
}

impl fmt::Display for AwsManagedPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl_string_serde!(AwsManagedPolicy);

/// The customer-side role for the cross-account kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleSpec {
    /// Who may assume the role.
    pub vendor: VendorPrincipal,
    /// The vendor's product name, shown in descriptions ("Read-only access for Acme").
    pub vendor_name: String,
    /// The role's name; StackSets need a fixed name so the vendor can find it in every account.
    pub role_name: String,
    /// The role's path, `/` by default.
    #[serde(default = "default_path")]
    pub role_path: String,
    /// How long the vendor's sessions may last, 3,600–43,200 seconds.
    #[serde(default = "default_session")]
    pub max_session_seconds: u32,
    /// What the role may read.
    #[serde(default)]
    pub permissions: PermissionOptions,
    /// Extra conditions on the vendor's AssumeRole calls.
    #[serde(default)]
    pub hardening: TrustHardening,
    /// AWS-managed policies to attach besides Trustline's least-privilege policy.
    #[serde(default)]
    pub aws_managed_policies: Vec<AwsManagedPolicy>,
    /// The customer's ExternalId, when the document is made for one customer (a downloaded
    /// template gets it as the parameter's default; the CLI and Terraform inline it).
    #[serde(default)]
    pub external_id: Option<ExternalId>,
}

fn default_path() -> String {
    "/".into()
}
fn default_session() -> u32 {
    3_600
}

impl RoleSpec {
    /// A spec with Trustline's defaults: inventory data sets, one-hour sessions, path `/`.
    pub fn new(vendor: VendorPrincipal, vendor_name: &str, role_name: &str) -> Self {
        RoleSpec {
            vendor,
            vendor_name: vendor_name.to_owned(),
            role_name: role_name.to_owned(),
            role_path: default_path(),
            max_session_seconds: default_session(),
            permissions: PermissionOptions::default(),
            hardening: TrustHardening::default(),
            aws_managed_policies: Vec::new(),
            external_id: None,
        }
    }

    /// Checks everything a renderer relies on; every renderer calls it first.
    pub fn validate(&self) -> Result<()> {
        validate_role_name(&self.role_name)?;
        validate_role_path(&self.role_path)?;
        validate_display_name(&self.vendor_name)?;
        if !SESSION_SECONDS.contains(&self.max_session_seconds) {
            return Err(Error::invalid(
                "max_session_seconds",
                format!(
                    "maximum session duration must be between 3600 (1 hour) and 43200 (12 hours) seconds, got {}",
                    self.max_session_seconds
                ),
            ));
        }
        Ok(())
    }
}

/// Vendor names go into descriptions and console labels: printable, short, no markup.
pub(crate) fn validate_display_name(name: &str) -> Result<()> {
    let ok = !name.trim().is_empty()
        && name.chars().count() <= 64
        && name.chars().all(|c| c.is_alphanumeric() || " .,&()'-_".contains(c));
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(
            "vendor_name",
            format!(
                "vendor name must be 1–64 letters, digits, spaces or . , & ( ) ' - _, got {}",
                quote(name)
            ),
        ))
    }
}
