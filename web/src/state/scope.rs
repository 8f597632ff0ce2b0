//! The scope step's fields as typed (text, checkboxes), and their parsing into core's types.
//! Every error message is core's, reported against the field the customer typed into.

use std::collections::{BTreeMap, BTreeSet};

use trustline_core::cfn::stackset::{self, CallAs, OrgRollout};
use trustline_core::ids::{DeploymentTarget, OrganizationId, SourceCidr, VpcEndpointId};
use trustline_core::policy::permissions::{DataSet, PermissionOptions};
use trustline_core::policy::trust::{ComputeService, TrustHardening};
use trustline_core::spec::RoleSpec;
use trustline_core::{AccountId, IntegrationKind, Region};

use crate::config::Config;

/// A field of the scope step (its DOM id is `tl-` + [`ScopeField::id`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ScopeField {
    /// The customer's account ID (optional; makes console-ready policies and the CLI script).
    AccountId,
    /// Regions, comma separated; empty means every region.
    Regions,
    /// The data sets.
    DataSets,
    /// Source IP ranges.
    SourceIps,
    /// VPC endpoint IDs.
    SourceVpce,
    /// The vendor's organization ID.
    OrgId,
    /// StackSet targets (root or OUs).
    Targets,
}

impl ScopeField {
    /// Stable id for DOM ids and tests.
    pub fn id(self) -> &'static str {
        match self {
            ScopeField::AccountId => "account-id",
            ScopeField::Regions => "regions",
            ScopeField::DataSets => "data-sets",
            ScopeField::SourceIps => "source-ips",
            ScopeField::SourceVpce => "source-vpce",
            ScopeField::OrgId => "org-id",
            ScopeField::Targets => "targets",
        }
    }
}

/// Errors by field.
pub type FieldErrors = BTreeMap<ScopeField, String>;

/// The scope step as typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopeInput {
    /// A whole AWS Organization instead of one account (cross-account role only).
    pub organization: bool,
    /// The customer's account ID, optional.
    pub account_id: String,
    /// Regions, separated by commas or spaces.
    pub regions: String,
    /// The data sets to share.
    pub data_sets: BTreeSet<DataSet>,
    /// Source IP ranges, separated by commas or spaces.
    pub source_ips: String,
    /// VPC endpoint IDs, separated by commas or spaces.
    pub source_vpce: String,
    /// The vendor's AWS Organization ID.
    pub org_id: String,
    /// Root or OU IDs for the StackSet.
    pub targets: String,
    /// Who creates the StackSet.
    pub call_as: CallAs,
    /// Where the vendor's software runs (same-account kind).
    pub compute: ComputeService,
}

impl ScopeInput {
    /// Defaults: the inventory data sets and the host's default regions.
    pub fn new(default_regions: &[Region]) -> Self {
        ScopeInput {
            organization: false,
            account_id: String::new(),
            regions: default_regions.iter().map(Region::as_str).collect::<Vec<_>>().join(", "),
            data_sets: DataSet::INVENTORY.into_iter().collect(),
            source_ips: String::new(),
            source_vpce: String::new(),
            org_id: String::new(),
            targets: String::new(),
            call_as: CallAs::ManagementAccount,
            compute: ComputeService::Ec2,
        }
    }

    /// The raw text of a text field.
    pub fn text(&self, field: ScopeField) -> &str {
        match field {
            ScopeField::AccountId => &self.account_id,
            ScopeField::Regions => &self.regions,
            ScopeField::SourceIps => &self.source_ips,
            ScopeField::SourceVpce => &self.source_vpce,
            ScopeField::OrgId => &self.org_id,
            ScopeField::Targets => &self.targets,
            ScopeField::DataSets => "",
        }
    }

    /// Parses everything for `kind` and runs the whole-document checks, or returns every
    /// field's error.
    pub fn parse(&self, kind: IntegrationKind, config: &Config) -> Result<Scope, FieldErrors> {
        let scope = self.parse_fields(kind)?;
        // Whole-document checks (conflicting conditions, size limits) come from the builders.
        crate::documents::check_scope(config, &scope)
            .map_err(|problem| FieldErrors::from([(problem.field, problem.message)]))?;
        Ok(scope)
    }

    /// Parses every field for `kind` with core's parsers, or returns every field's error.
    pub fn parse_fields(&self, kind: IntegrationKind) -> Result<Scope, FieldErrors> {
        let mut errors = FieldErrors::new();
        let organization = self.organization && kind == IntegrationKind::CrossAccountRole;
        let account = match self.account_id.trim() {
            "" => None,
            id => keep(&mut errors, ScopeField::AccountId, id.parse::<AccountId>()),
        };
        let regions = list(&mut errors, ScopeField::Regions, &self.regions);
        let mut data_sets = self.data_sets.clone();
        if !organization {
            data_sets.remove(&DataSet::Organizations);
        }
        if data_sets.is_empty() {
            errors.insert(ScopeField::DataSets, "choose at least one kind of data to share".into());
        }
        let uses_ips = kind != IntegrationKind::SameAccountRole;
        let source_ips: Vec<SourceCidr> =
            if uses_ips { list(&mut errors, ScopeField::SourceIps, &self.source_ips) } else { Vec::new() };
        let role_kind = kind == IntegrationKind::CrossAccountRole;
        let source_vpces: Vec<VpcEndpointId> =
            if role_kind { list(&mut errors, ScopeField::SourceVpce, &self.source_vpce) } else { Vec::new() };
        let principal_org_id = match self.org_id.trim() {
            "" => None,
            _ if !role_kind => None,
            id => keep(&mut errors, ScopeField::OrgId, id.parse::<OrganizationId>()),
        };
        let targets: Vec<DeploymentTarget> =
            if organization { list(&mut errors, ScopeField::Targets, &self.targets) } else { Vec::new() };
        if organization && !errors.contains_key(&ScopeField::Targets) {
            // Missing targets are the common mistake: checked with the field, so the message names
            // it, rather than with the whole-document checks.
            keep(&mut errors, ScopeField::Targets, stackset::check_targets(&targets));
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let hardening = TrustHardening {
            source_ips: source_ips.clone(),
            source_vpces,
            principal_org_id,
            ..Default::default()
        };
        // Keys carry the IP condition in their own policy; roles carry it in the trust policy.
        let permission_ips = if matches!(kind, IntegrationKind::AccessKey) { source_ips } else { Vec::new() };
        let permissions = PermissionOptions { data_sets, regions, source_ips: permission_ips };
        Ok(Scope {
            kind,
            organization,
            account,
            permissions,
            hardening,
            targets,
            call_as: self.call_as,
            compute: self.compute,
        })
    }
}

fn keep<T>(errors: &mut FieldErrors, field: ScopeField, r: trustline_core::error::Result<T>) -> Option<T> {
    r.map_err(|e| errors.insert(field, e.message().to_owned())).ok()
}

fn list<T: std::str::FromStr<Err = trustline_core::Error>>(
    errors: &mut FieldErrors,
    field: ScopeField,
    text: &str,
) -> Vec<T> {
    let mut out = Vec::new();
    for item in text.split(|c: char| c == ',' || c.is_whitespace()).filter(|s| !s.is_empty()) {
        match item.parse() {
            Ok(v) => out.push(v),
            Err(e) => {
                let e: trustline_core::Error = e;
                errors.entry(field).or_insert_with(|| e.message().to_owned());
            }
        }
    }
    out
}

/// The scope, parsed and checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    /// The kind it was parsed for.
    pub kind: IntegrationKind,
    /// Whole Organization (StackSet) instead of one account.
    pub organization: bool,
    /// The customer's account, when given.
    pub account: Option<AccountId>,
    /// What may be read.
    pub permissions: PermissionOptions,
    /// Conditions on the vendor's AssumeRole.
    pub hardening: TrustHardening,
    /// StackSet targets.
    pub targets: Vec<DeploymentTarget>,
    /// Who creates the StackSet.
    pub call_as: CallAs,
    /// Same-account compute service.
    pub compute: ComputeService,
}

impl Scope {
    /// The role spec for this customer (cross-account kind).
    pub fn role_spec(&self, config: &Config) -> RoleSpec {
        RoleSpec {
            permissions: self.permissions.clone(),
            hardening: self.hardening.clone(),
            external_id: Some(config.external_id.clone()),
            ..RoleSpec::new(config.vendor.clone(), &config.vendor_name, &config.role_name)
        }
    }

    /// The Organization rollout.
    pub fn rollout(&self, config: &Config) -> OrgRollout {
        OrgRollout {
            role: self.role_spec(config),
            targets: self.targets.clone(),
            call_as: self.call_as,
            include_discovery_role: true,
        }
    }

    /// Whether the scope is what the vendor's hosted template was built with (inventory data
    /// sets, every region, no conditions), so the Launch-stack link matches the customer's choices.
    pub fn matches_hosted_template(&self) -> bool {
        self.permissions == PermissionOptions::default() && self.hardening == TrustHardening::default()
    }
}
