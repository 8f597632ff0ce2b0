//! The permission probes: for every action a data set's policy grants (core's
//! [`DataSet::actions`]), the cheapest call that needs it — one item per page — or the reason it
//! is not probed. A test holds the two lists to core's, so a new action cannot go unprobed
//! without a word.

use trustline_core::Region;
use trustline_core::aws::{AwsErrorKind, Operation, cloudtrail, ec2, iam, organizations};
#[cfg(test)]
use trustline_core::policy::permissions::DataSet;

type Result<T, E = trustline_core::Error> = std::result::Result<T, E>;

use super::VerifyRoleRequest;
use super::{Check, CheckStatus};
use crate::client::CredentialSource;
use crate::client::{AwsClient, CallError};
use crate::credentials::Provider;

/// Actions the policies grant that are not probed, and why.
pub const NOT_PROBED: &[(&str, &str)] = &[
    (
        "iam:GenerateCredentialReport",
        "it starts a report, a side effect verification should not have; the first sync reports it if denied",
    ),
    (
        "iam:GetCredentialReport",
        "it answers only once a report was generated; the first sync reports it if denied",
    ),
    (
        "iam:ListAccessKeys",
        "a role's session must name a user, and an account may have none; the first sync reports it if denied",
    ),
    (
        "organizations:DescribeOrganization",
        "the Organization's discovery uses it; ListAccounts is probed and needs the same Organizations access",
    ),
    ("organizations:ListRoots", "used only with OU filters; the first sync reports it if denied"),
    ("organizations:ListAccountsForParent", "needs an OU id; used only with OU filters"),
    ("organizations:ListOrganizationalUnitsForParent", "needs an OU id; used only with OU filters"),
];

/// A probe: one call, at its cheapest.
#[derive(Debug)]
pub enum ProbeOp {
    /// IAM ListUsers, one item.
    ListUsers(iam::ListUsers),
    /// IAM ListRoles, one item.
    ListRoles(iam::ListRoles),
    /// IAM ListGroups, one item.
    ListGroups(iam::ListGroups),
    /// IAM ListPolicies (local), one item.
    ListPolicies(iam::ListPolicies),
    /// IAM GetAccountAuthorizationDetails (users), one item.
    AuthorizationDetails(iam::GetAccountAuthorizationDetails),
    /// EC2 DescribeRegions.
    DescribeRegions(ec2::DescribeRegions),
    /// EC2 DescribeInstances, the smallest page.
    DescribeInstances(ec2::DescribeInstances),
    /// EC2 DescribeVpcs, the smallest page.
    DescribeVpcs(ec2::DescribeVpcs),
    /// EC2 DescribeSubnets, the smallest page.
    DescribeSubnets(ec2::DescribeSubnets),
    /// EC2 DescribeSecurityGroups, the smallest page.
    DescribeSecurityGroups(ec2::DescribeSecurityGroups),
    /// EC2 DescribeNetworkInterfaces, the smallest page.
    DescribeNetworkInterfaces(ec2::DescribeNetworkInterfaces),
    /// CloudTrail LookupEvents, one event.
    LookupEvents(cloudtrail::LookupEvents),
    /// Organizations ListAccounts, one account.
    ListAccounts(organizations::ListAccounts),
}

impl ProbeOp {
    /// Whether the call goes to the home region (IAM, Organizations) or a regional endpoint.
    pub fn global(&self) -> bool {
        matches!(
            self,
            ProbeOp::ListUsers(_)
                | ProbeOp::ListRoles(_)
                | ProbeOp::ListGroups(_)
                | ProbeOp::ListPolicies(_)
                | ProbeOp::AuthorizationDetails(_)
                | ProbeOp::ListAccounts(_)
        )
    }
}

/// The probe for an action, if it has one (see [`NOT_PROBED`] for those that don't).
pub fn probe_op(action: &str) -> Option<Result<ProbeOp>> {
    let one_iam = || iam::Paging::after(None).max_items(1);
    let page = || ec2::Query::after(None).max_results(5);
    Some(match action {
        "iam:ListUsers" => one_iam().map(|paging| ProbeOp::ListUsers(iam::ListUsers { paging })),
        "iam:ListRoles" => one_iam().map(|paging| ProbeOp::ListRoles(iam::ListRoles { paging })),
        "iam:ListGroups" => one_iam().map(|paging| ProbeOp::ListGroups(iam::ListGroups { paging })),
        "iam:ListPolicies" => one_iam().map(|paging| {
            ProbeOp::ListPolicies(iam::ListPolicies {
                paging,
                scope: iam::PolicyScope::Local,
                only_attached: false,
            })
        }),
        "iam:GetAccountAuthorizationDetails" => one_iam().map(|paging| {
            ProbeOp::AuthorizationDetails(iam::GetAccountAuthorizationDetails {
                filter: vec![iam::DetailFilter::User],
                paging,
            })
        }),
        "ec2:DescribeRegions" => Ok(ProbeOp::DescribeRegions(ec2::DescribeRegions { all_regions: false })),
        "ec2:DescribeInstances" => {
            page().map(|query| ProbeOp::DescribeInstances(ec2::DescribeInstances { query }))
        }
        "ec2:DescribeVpcs" => page().map(|query| ProbeOp::DescribeVpcs(ec2::DescribeVpcs { query })),
        "ec2:DescribeSubnets" => page().map(|query| ProbeOp::DescribeSubnets(ec2::DescribeSubnets { query })),
        "ec2:DescribeSecurityGroups" => {
            page().map(|query| ProbeOp::DescribeSecurityGroups(ec2::DescribeSecurityGroups { query }))
        }
        "ec2:DescribeNetworkInterfaces" => {
            page().map(|query| ProbeOp::DescribeNetworkInterfaces(ec2::DescribeNetworkInterfaces { query }))
        }
        "cloudtrail:LookupEvents" => cloudtrail::LookupEvents::new(None, None)
            .and_then(|o| o.max_results(1))
            .map(ProbeOp::LookupEvents),
        "organizations:ListAccounts" => organizations::Paging::after(None)
            .max_results(1)
            .map(|paging| ProbeOp::ListAccounts(organizations::ListAccounts { paging })),
        _ => return None,
    })
}

async fn call<O: Operation>(
    client: &AwsClient,
    op: &O,
    account: &str,
    region: &Region,
    provider: &impl CredentialSource,
) -> Result<(), CallError> {
    client.call(op, account, region, provider).await.map(|_| ())
}

/// Sends `op` as `provider` (a verified role's session, or a sync's credentials for
/// `trustline posture --check`).
pub(crate) async fn run(
    op: &ProbeOp,
    client: &AwsClient,
    provider: &impl CredentialSource,
    account: &str,
    region: &Region,
) -> Result<(), CallError> {
    match op {
        ProbeOp::ListUsers(o) => call(client, o, account, region, provider).await,
        ProbeOp::ListRoles(o) => call(client, o, account, region, provider).await,
        ProbeOp::ListGroups(o) => call(client, o, account, region, provider).await,
        ProbeOp::ListPolicies(o) => call(client, o, account, region, provider).await,
        ProbeOp::AuthorizationDetails(o) => call(client, o, account, region, provider).await,
        ProbeOp::DescribeRegions(o) => call(client, o, account, region, provider).await,
        ProbeOp::DescribeInstances(o) => call(client, o, account, region, provider).await,
        ProbeOp::DescribeVpcs(o) => call(client, o, account, region, provider).await,
        ProbeOp::DescribeSubnets(o) => call(client, o, account, region, provider).await,
        ProbeOp::DescribeSecurityGroups(o) => call(client, o, account, region, provider).await,
        ProbeOp::DescribeNetworkInterfaces(o) => call(client, o, account, region, provider).await,
        ProbeOp::LookupEvents(o) => call(client, o, account, region, provider).await,
        ProbeOp::ListAccounts(o) => call(client, o, account, region, provider).await,
    }
}

/// Each permission the data sets need, probed with its cheapest call, in core's order.
pub(super) async fn probe_permissions(
    client: &AwsClient,
    provider: &Provider,
    account: &str,
    home: &Region,
    req: &VerifyRoleRequest,
) -> Vec<Check> {
    let region = req.regions.first().unwrap_or(home);
    let mut checks = Vec::new();
    for set in &req.data_sets {
        for action in set.actions() {
            let Some(op) = probe_op(action) else { continue };
            let id = format!("permission:{action}");
            let title = format!("The role allows {action}");
            let result = match op {
                Ok(op) => run(&op, client, provider, account, if op.global() { home } else { region }).await,
                Err(e) => Err(CallError::Build(e)),
            };
            checks.push(match result {
                Ok(()) => Check::new(&id, &title, CheckStatus::Pass, None, "Granted."),
                Err(e) if matches!(e.kind(), Some(AwsErrorKind::AccessDenied)) => Check::new(
                    &id,
                    &title,
                    CheckStatus::Fail,
                    e.code(),
                    format!("Denied: the role's policy must allow {action} (update the stack, or attach Trustline's read-only policy)."),
                ),
                Err(e) => Check::new(&id, &title, CheckStatus::Warn, e.code(), format!("Could not check: {e}")),
            });
        }
    }
    checks
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_a_data_set_grants_is_probed_or_says_why_not() {
        let mut seen = std::collections::BTreeSet::new();
        for set in [DataSet::Iam, DataSet::Ec2Network, DataSet::CloudTrail, DataSet::Organizations] {
            for action in set.actions() {
                seen.insert(action);
                let skipped = NOT_PROBED.iter().any(|(a, _)| *a == action);
                match probe_op(action) {
                    Some(op) => {
                        assert!(!skipped, "{action} is probed and listed as not probed");
                        op.unwrap_or_else(|e| panic!("{action}: the probe does not build: {e}"));
                    }
                    None => {
                        assert!(skipped, "{} grants {action}, which has no probe and no reason", set.id())
                    }
                }
            }
        }
        for (action, _) in NOT_PROBED {
            assert!(seen.contains(action), "{action} is listed as not probed but no data set grants it");
        }
    }
}
