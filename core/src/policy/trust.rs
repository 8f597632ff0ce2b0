//! Trust policies: who may assume the customer's role, and the check that a third party can
//! only do so with the ExternalId.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::Serialize;

use super::{
    Effect, OneOrMany, PolicyDocument, Principal, Statement, TRUST_POLICY_DEFAULT_LIMIT, add_condition,
};
use crate::arn::{AccountId, Arn, Partition, RoleArn};
use crate::error::{Error, Result, impl_string_serde, quote};
use crate::external_id::ExternalId;
use crate::ids::{OrganizationId, SourceCidr, VpcEndpointId};

/// The vendor identity the customer's role trusts: the vendor's whole account (its `root`
/// principal, delegating to the vendor's own IAM policies), one vendor role, or one vendor IAM
/// user (for vendors whose worker runs with a user's keys).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum VendorPrincipal {
    /// `arn:PARTITION:iam::ACCOUNT:root`.
    Account(Partition, AccountId),
    /// One role in the vendor's account: narrower, recommended when the vendor can commit to it.
    Role(RoleArn),
    /// One IAM user in the vendor's account (`arn:PARTITION:iam::ACCOUNT:user/NAME`).
    User {
        /// The user's ARN.
        arn: Arn,
        /// Its account, validated when parsed.
        account: AccountId,
    },
}

impl VendorPrincipal {
    /// The vendor's account.
    pub fn account_id(&self) -> AccountId {
        match self {
            VendorPrincipal::Account(_, a) => *a,
            VendorPrincipal::Role(r) => r.account_id(),
            VendorPrincipal::User { account, .. } => *account,
        }
    }

    /// The partition of the vendor's account.
    pub fn partition(&self) -> Partition {
        match self {
            VendorPrincipal::Account(p, _) => *p,
            VendorPrincipal::Role(r) => r.partition(),
            VendorPrincipal::User { arn, .. } => arn.partition(),
        }
    }
}

impl fmt::Display for VendorPrincipal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VendorPrincipal::Account(p, a) => f.write_str(&a.root_arn(*p)),
            VendorPrincipal::Role(r) => r.fmt(f),
            VendorPrincipal::User { arn, .. } => arn.fmt(f),
        }
    }
}

impl FromStr for VendorPrincipal {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        const FIELD: &str = "vendor_principal";
        if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
            let hint = if s.len() == 12 {
                String::new()
            } else {
                format!(" (an account ID has 12 digits, this has {})", s.len())
            };
            return Err(Error::invalid(
                FIELD,
                format!(
                    "use the vendor account's root ARN, arn:aws:iam::ACCOUNT:root, not a bare account ID{hint}"
                ),
            ));
        }
        if let Some(account) = s.strip_suffix(":root") {
            let arn = account.strip_prefix("arn:").and_then(|rest| rest.split_once(":iam::"));
            if let Some((partition, account)) = arn {
                let partition: Partition = partition.parse().map_err(|e: Error| e.for_field(FIELD))?;
                let account: AccountId = account.parse().map_err(|e: Error| e.for_field(FIELD))?;
                return Ok(VendorPrincipal::Account(partition, account));
            }
            return Err(Error::invalid(
                FIELD,
                format!("expected arn:aws:iam::ACCOUNT:root, got {}", quote(s)),
            ));
        }
        if let Ok(arn) = s.parse::<Arn>()
            && arn.service() == "iam"
            && arn.resource().strip_prefix("user/").is_some_and(|name| !name.is_empty())
        {
            let account = arn.account().parse::<AccountId>().map_err(|e: Error| e.for_field(FIELD))?;
            return Ok(VendorPrincipal::User { arn, account });
        }
        s.parse::<RoleArn>().map(VendorPrincipal::Role).map_err(|e| {
            Error::invalid(
                FIELD,
                format!(
                    "expected the vendor's account root ARN (arn:aws:iam::ACCOUNT:root), role ARN or user ARN: {}",
                    e.message()
                ),
            )
        })
    }
}

impl_string_serde!(VendorPrincipal);

/// Optional conditions that narrow where the vendor's AssumeRole calls may come from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrustHardening {
    /// The vendor's public egress ranges (`aws:SourceIp`).
    pub source_ips: Vec<SourceCidr>,
    /// VPC endpoints the vendor calls STS through (`aws:SourceVpce`).
    pub source_vpces: Vec<VpcEndpointId>,
    /// The vendor's AWS Organization (`aws:PrincipalOrgID`).
    pub principal_org_id: Option<OrganizationId>,
    /// Allow the vendor to pass session tags (`sts:TagSession`).
    pub allow_session_tags: bool,
    /// Allow the vendor to set a source identity (`sts:SetSourceIdentity`) for CloudTrail attribution.
    pub allow_source_identity: bool,
}

impl TrustHardening {
    fn validate(&self) -> Result<()> {
        if !self.source_ips.is_empty() && !self.source_vpces.is_empty() {
            // Calls through a VPC endpoint carry no public source IP, so both together deny everything.
            return Err(Error::invalid(
                "source_ips",
                "choose source IP ranges or VPC endpoints, not both: calls through a VPC endpoint carry no public source IP, so the role could never be assumed",
            ));
        }
        Ok(())
    }
}

/// The trust policy for third-party access: the vendor principal may assume the role only when
/// it presents `external_id` (and meets the optional hardening conditions).
pub fn third_party(
    vendor: &VendorPrincipal,
    external_id: &ExternalId,
    hardening: &TrustHardening,
) -> Result<PolicyDocument> {
    hardening.validate()?;
    let mut condition = BTreeMap::new();
    add_condition(&mut condition, "StringEquals", "sts:ExternalId", external_id.as_str().into());
    if let Some(org) = &hardening.principal_org_id {
        add_condition(&mut condition, "StringEquals", "aws:PrincipalOrgID", org.to_string().into());
    }
    if !hardening.source_vpces.is_empty() {
        let vpces = hardening.source_vpces.iter().map(ToString::to_string).collect();
        add_condition(&mut condition, "StringEquals", "aws:SourceVpce", vpces);
    }
    if !hardening.source_ips.is_empty() {
        let ips = hardening.source_ips.iter().map(ToString::to_string).collect();
        add_condition(&mut condition, "IpAddress", "aws:SourceIp", ips);
    }
    let mut actions = vec!["sts:AssumeRole"];
    if hardening.allow_source_identity {
        actions.push("sts:SetSourceIdentity");
    }
    if hardening.allow_session_tags {
        actions.push("sts:TagSession");
    }
    let doc = PolicyDocument::new(vec![Statement {
        sid: Some("VendorAssumeRoleWithExternalId".into()),
        effect: Effect::Allow,
        principal: Some(aws_principal(vendor.to_string())),
        action: actions.into_iter().collect(),
        resource: None,
        condition,
    }]);
    doc.check_size("trust_policy", TRUST_POLICY_DEFAULT_LIMIT, "trust policy")?;
    debug_assert!(check_trust(&doc, None).is_empty(), "third_party() must always require the ExternalId");
    Ok(doc)
}

/// The trust policy of an IAM user's own role for the STS kind: the customer's IAM user (in the
/// same account) may assume the role. No ExternalId, because no third party is trusted.
pub fn same_account_user(user_arn: &str) -> PolicyDocument {
    PolicyDocument::new(vec![Statement {
        sid: Some("CustomerUserAssumeRole".into()),
        effect: Effect::Allow,
        principal: Some(aws_principal(user_arn.to_owned())),
        action: "sts:AssumeRole".into(),
        resource: None,
        condition: BTreeMap::new(),
    }])
}

/// A compute service whose workloads get the role's temporary credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ComputeService {
    /// An EC2 instance profile.
    Ec2,
    /// An ECS task role.
    EcsTasks,
    /// A Lambda execution role.
    Lambda,
}

impl ComputeService {
    /// The service principal, e.g. `ecs-tasks.amazonaws.com`.
    pub fn principal(self) -> &'static str {
        match self {
            ComputeService::Ec2 => "ec2.amazonaws.com",
            ComputeService::EcsTasks => "ecs-tasks.amazonaws.com",
            ComputeService::Lambda => "lambda.amazonaws.com",
        }
    }
}

/// The trust policy for the same-account kind on EC2, ECS or Lambda. With `account`, ECS tasks
/// are limited to that account (`aws:SourceAccount`), as AWS recommends against confused deputies.
pub fn service(service: ComputeService, account: Option<&str>) -> PolicyDocument {
    let mut condition = BTreeMap::new();
    if let (ComputeService::EcsTasks, Some(account)) = (service, account) {
        add_condition(&mut condition, "StringEquals", "aws:SourceAccount", account.into());
    }
    PolicyDocument::new(vec![Statement {
        sid: Some("ComputeServiceAssumeRole".into()),
        effect: Effect::Allow,
        principal: Some(Principal::Map(BTreeMap::from([("Service".into(), service.principal().into())]))),
        action: "sts:AssumeRole".into(),
        resource: None,
        condition,
    }])
}

/// An EKS cluster's OIDC issuer, e.g. `https://oidc.eks.eu-west-1.amazonaws.com/id/5C3B…`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OidcIssuer {
    /// Host and path without the scheme: `oidc.eks.REGION.amazonaws.com/id/ID`.
    host_path: String,
}

impl FromStr for OidcIssuer {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let host_path = s.strip_prefix("https://").unwrap_or(s).trim_end_matches('/');
        let ok = host_path.split_once("/id/").is_some_and(|(host, id)| {
            host.starts_with("oidc.eks.")
                && (host.ends_with(".amazonaws.com") || host.ends_with(".amazonaws.com.cn"))
                && !id.is_empty()
                && id.bytes().all(|b| b.is_ascii_alphanumeric())
        });
        if !ok {
            return Err(Error::invalid(
                "oidc_issuer",
                format!(
                    "expected the cluster's OIDC issuer URL, e.g. https://oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE (aws eks describe-cluster --query cluster.identity.oidc.issuer), got {}",
                    quote(s)
                ),
            ));
        }
        Ok(OidcIssuer { host_path: host_path.to_owned() })
    }
}

impl fmt::Display for OidcIssuer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "https://{}", self.host_path)
    }
}

/// Kubernetes names: DNS labels (lower-case letters, digits, '-', at most 63).
fn validate_k8s_name(field: &'static str, s: &str) -> Result<()> {
    let ok = !s.is_empty()
        && s.len() <= 63
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(
            field,
            format!(
                "{} is not a valid Kubernetes name (lower-case letters, digits and '-', at most 63)",
                quote(s)
            ),
        ))
    }
}

/// The trust policy for EKS IAM Roles for Service Accounts: only the named service account of
/// the cluster whose OIDC provider is registered in `account` may assume the role.
pub fn eks_irsa(
    partition: Partition,
    account: &AccountId,
    issuer: &OidcIssuer,
    namespace: &str,
    service_account: &str,
) -> Result<PolicyDocument> {
    validate_k8s_name("namespace", namespace)?;
    validate_k8s_name("service_account", service_account)?;
    let provider = format!("arn:{partition}:iam::{account}:oidc-provider/{}", issuer.host_path);
    let mut condition = BTreeMap::new();
    let hp = &issuer.host_path;
    add_condition(
        &mut condition,
        "StringEquals",
        &format!("{hp}:sub"),
        format!("system:serviceaccount:{namespace}:{service_account}").into(),
    );
    add_condition(&mut condition, "StringEquals", &format!("{hp}:aud"), "sts.amazonaws.com".into());
    Ok(PolicyDocument::new(vec![Statement {
        sid: Some("EksServiceAccountAssumeRole".into()),
        effect: Effect::Allow,
        principal: Some(Principal::Map(BTreeMap::from([("Federated".into(), provider.into())]))),
        action: "sts:AssumeRoleWithWebIdentity".into(),
        resource: None,
        condition,
    }]))
}

fn aws_principal(arn: String) -> Principal {
    Principal::Map(BTreeMap::from([("AWS".into(), arn.into())]))
}

/// A reason a trust policy lets a third party in without the ExternalId.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TrustFinding {
    /// Index of the offending statement.
    pub statement: usize,
    /// What is wrong and how to fix it.
    pub message: String,
}

fn is_assume_role_action(action: &str) -> bool {
    let a = action.to_ascii_lowercase();
    a == "*" || a == "sts:*" || a == "sts:assumerole" || a == "sts:assume*" || a == "sts:assumerole*"
}

/// The account a principal string belongs to, if it names one (`123456789012` or an IAM/STS ARN).
fn principal_account(p: &str) -> Option<&str> {
    if p.len() == 12 && p.bytes().all(|b| b.is_ascii_digit()) {
        return Some(p);
    }
    p.strip_prefix("arn:")?.split(':').nth(3)
}

/// Checks that every statement letting a principal from another account (or anyone) assume the
/// role requires an exact ExternalId. None of AWS's own linters catches this, so Trustline does.
///
/// `own_account` is the role's account; principals in it are not third parties. Without it,
/// every AWS principal is treated as a third party.
pub fn check_trust(doc: &PolicyDocument, own_account: Option<&AccountId>) -> Vec<TrustFinding> {
    let mut findings = Vec::new();
    for (i, st) in doc.statement.iter().enumerate() {
        if st.effect != Effect::Allow || !st.action.values().iter().any(|a| is_assume_role_action(a)) {
            continue;
        }
        let third_parties: Vec<&str> = match &st.principal {
            None => continue,
            Some(Principal::Anyone(_)) => vec!["*"],
            Some(Principal::Map(map)) => map
                .get("AWS")
                .map(OneOrMany::values)
                .unwrap_or_default()
                .iter()
                .map(String::as_str)
                .filter(|p| own_account.is_none_or(|own| principal_account(p) != Some(own.as_str())))
                .collect(),
        };
        if third_parties.is_empty() {
            continue;
        }
        let who = third_parties.join(", ");
        let mut exact = false;
        for (op, keys) in &st.condition {
            let Some(values) =
                keys.iter().find(|(k, _)| k.eq_ignore_ascii_case("sts:ExternalId")).map(|(_, v)| v)
            else {
                continue;
            };
            let wildcard = values.values().iter().any(|v| v.contains('*') || v.contains('?'));
            match op.as_str() {
                "StringEquals" if !values.values().is_empty() => exact = true,
                "StringLike" if !wildcard && !values.values().is_empty() => exact = true,
                _ if op.ends_with("IfExists") => findings.push(TrustFinding {
                    statement: i,
                    message: format!("{op} lets {who} assume the role when no ExternalId is sent; use StringEquals"),
                }),
                _ if op.starts_with("ForAllValues:") => findings.push(TrustFinding {
                    statement: i,
                    message: format!("{op} is true when the ExternalId is missing; use StringEquals"),
                }),
                "StringLike" => findings.push(TrustFinding {
                    statement: i,
                    message: format!("the ExternalId condition uses wildcards, so {who} can guess a matching value; use StringEquals with the exact value"),
                }),
                _ => findings.push(TrustFinding {
                    statement: i,
                    message: format!("{op} is not a safe way to require the ExternalId; use StringEquals"),
                }),
            }
        }
        if !exact && !findings.iter().any(|f| f.statement == i) {
            let message = if who == "*" {
                "the role trusts every AWS account and requires no ExternalId: anyone could assume it; trust the vendor's account only, with sts:ExternalId".to_owned()
            } else {
                format!(
                    "{who} can assume the role without an ExternalId (confused deputy); add \"Condition\": {{\"StringEquals\": {{\"sts:ExternalId\": \"…\"}}}}"
                )
            };
            findings.push(TrustFinding { statement: i, message });
        }
    }
    findings
}
