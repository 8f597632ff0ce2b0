//! Verifying a connection before it is registered: can Trustline assume the role with the
//! ExternalId, is the ExternalId really enforced (the confused-deputy proof), is it the expected
//! account, and are the permissions the data sets need there?

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use trustline_core::aws::{AwsErrorKind, cloudtrail, ec2, iam, sts};
use trustline_core::policy::permissions::DataSet;
use trustline_core::{AccountId, Credentials, ExternalId, Region, RoleArn};

use crate::client::{AwsClient, CallError};
use crate::credentials::Provider;

/// The session length the vendor's syncs need; the role must allow at least this.
pub const NEEDED_SESSION_SECONDS: u32 = 3_600;

/// A role to verify (`POST /v1/tenants/{tenant}/verify/role`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleRequest {
    /// The customer's role.
    pub role_arn: RoleArn,
    /// An ExternalId issued to this customer; default (and usually): the one in force. One the
    /// customer was not issued is refused before any AWS call.
    #[serde(default)]
    pub external_id: Option<ExternalId>,
    /// The account the customer says it is.
    #[serde(default)]
    pub expected_account_id: Option<AccountId>,
    /// What Trustline will read.
    pub data_sets: Vec<DataSet>,
    /// Regions for regional probes (default: the home region).
    #[serde(default)]
    pub regions: Vec<Region>,
}

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

fn check(id: &str, title: &str, status: Status, code: Option<&str>, message: impl Into<String>) -> Check {
    Check {
        id: id.into(),
        title: title.into(),
        status,
        aws_error_code: code.map(str::to_owned),
        message: message.into(),
    }
}

/// A random ExternalId that no customer was issued, for the "wrong ExternalId" probe.
fn decoy_external_id() -> ExternalId {
    let mut rng = getrandom::SysRng;
    ExternalId::generate(&mut rng, Some("trustline-verify-decoy:")).unwrap_or_else(|_| {
        "trustline-verify-decoy-fallback".parse().unwrap_or_else(|_| unreachable!("a valid literal"))
    })
}

/// The ExternalIds AWS must refuse for a role whose trust requires exactly `real`: none at all,
/// an unrelated one, and ones that a loosened condition would let through — `StringLike` with
/// a wildcard after the vendor's prefix or after part of the value, `StringEqualsIgnoreCase`,
/// or a condition that only checks a prefix. Each is (check id, title, ExternalId or none).
pub fn decoys(real: &ExternalId) -> Vec<(&'static str, &'static str, Option<ExternalId>)> {
    let text = real.as_str();
    let random = decoy_external_id();
    let random_tail = random.as_str().rsplit(':').next().unwrap_or("decoy").to_owned();
    // The vendor's prefix is everything up to the last separator; without one, half the value.
    let prefix_len = text.rfind([':', '/', '-', '.', '@']).map_or(text.len() / 2, |i| i + 1);
    let candidates =
        [
            ("external_id_required_missing", "The role refuses Trustline without an ExternalId", None),
            (
                "external_id_required_wrong",
                "The role refuses Trustline with a wrong ExternalId",
                Some(random.as_str().to_owned()),
            ),
            (
                "external_id_required_same_prefix",
                "The role refuses another ExternalId with your prefix",
                Some(format!("{}{random_tail}", &text[..prefix_len])),
            ),
            (
                "external_id_required_longer",
                "The role refuses your ExternalId with a character added",
                Some(format!("{text}0")),
            ),
            (
                "external_id_required_shorter",
                "The role refuses your ExternalId with its last character removed",
                (text.len() > 2).then(|| text[..text.len() - 1].to_owned()),
            ),
            (
                "external_id_required_case",
                "The role refuses your ExternalId in other letter case",
                Some(
                    text.chars()
                        .map(|c| {
                            if c.is_ascii_lowercase() {
                                c.to_ascii_uppercase()
                            } else {
                                c.to_ascii_lowercase()
                            }
                        })
                        .collect(),
                ),
            ),
        ];
    candidates
        .into_iter()
        .filter_map(|(id, title, value)| match value {
            None if id == "external_id_required_missing" => Some((id, title, None)),
            None => None,
            Some(v) if v == text => None,
            Some(v) => v.parse().ok().map(|e| (id, title, Some(e))),
        })
        .collect()
}

/// Proves an ExternalId rotation: the role accepts `new`, and AWS refuses `old` (AccessDenied).
/// The error is one sentence for the operator to pass on.
pub async fn prove_rotation(
    client: &AwsClient,
    vendor: &Arc<Provider>,
    home: &Region,
    role: &RoleArn,
    old: &ExternalId,
    new: &ExternalId,
) -> Result<(), String> {
    if let Err(e) = assume(client, vendor, role, Some(new.clone()), 900, home).await {
        return Err(format!(
            "the role does not accept the new ExternalId yet ({e}); the customer must update the trust policy (the stack's ExternalId parameter) first"
        ));
    }
    match assume(client, vendor, role, Some(old.clone()), 900, home).await {
        Ok(_) => Err("the role still accepts the old ExternalId; the customer must remove it from the trust policy before the rotation can complete".to_owned()),
        Err(e) if matches!(e.kind(), Some(AwsErrorKind::AccessDenied)) => Ok(()),
        Err(e) => Err(format!("could not prove that the old ExternalId is refused ({e}); try again")),
    }
}

async fn assume(
    client: &AwsClient,
    vendor: &Arc<Provider>,
    role: &RoleArn,
    external_id: Option<ExternalId>,
    duration: u32,
    region: &Region,
) -> Result<sts::AssumedRole, CallError> {
    let mut op = sts::AssumeRole::new(role.clone(), "trustline-verify").map_err(CallError::Build)?;
    op = op.duration_seconds(duration).map_err(CallError::Build)?;
    if let Some(id) = external_id {
        op = op.external_id(id);
    }
    client.call(&op, &role.account_id().to_string(), region, vendor).await
}

/// Runs every check for a role.
pub async fn verify_role(
    client: &AwsClient,
    vendor: &Arc<Provider>,
    home: &Region,
    req: &RoleRequest,
    external_id: &ExternalId,
) -> Report {
    let mut checks = Vec::new();
    let role = &req.role_arn;
    let skipped = |id: &str, title: &str| {
        check(id, title, Status::Skipped, None, "Not checked: Trustline could not assume the role.")
    };

    let session = match assume(client, vendor, role, Some(external_id.clone()), NEEDED_SESSION_SECONDS, home)
        .await
    {
        Ok(s) => {
            checks.push(check(
                "assume_role",
                "Trustline can assume the role with your ExternalId",
                Status::Pass,
                None,
                "Trustline assumed the role with your ExternalId.",
            ));
            checks.push(check(
                "session_duration",
                "The role allows the session length Trustline needs",
                Status::Pass,
                None,
                format!("Sessions of {NEEDED_SESSION_SECONDS} seconds are allowed."),
            ));
            Some(s)
        }
        Err(e) => {
            let code = e.code().map(str::to_owned);
            let duration_problem = matches!(e.kind(), Some(AwsErrorKind::InvalidInput))
                && e.to_string().contains("DurationSeconds");
            let message = match e.kind() {
                _ if duration_problem => format!(
                    "The role's maximum session duration is below {NEEDED_SESSION_SECONDS} seconds: raise MaxSessionDuration to at least {NEEDED_SESSION_SECONDS}."
                ),
                Some(AwsErrorKind::AccessDenied) => format!(
                    "AWS refused: check that the role {role} exists and that its trust policy names Trustline's account and requires exactly your ExternalId (sts:ExternalId)."
                ),
                Some(AwsErrorKind::NotFound) => {
                    format!("The role {role} does not exist: create it (launch the stack) or check the ARN.")
                }
                _ => format!("Trustline could not assume the role: {e}"),
            };
            checks.push(check(
                "assume_role",
                "Trustline can assume the role with your ExternalId",
                Status::Fail,
                code.as_deref(),
                message,
            ));
            let status = if duration_problem { Status::Fail } else { Status::Skipped };
            let msg = if duration_problem {
                "Raise the role's MaxSessionDuration."
            } else {
                "Not checked: Trustline could not assume the role."
            };
            checks.push(check(
                "session_duration",
                "The role allows the session length Trustline needs",
                status,
                code.as_deref(),
                msg,
            ));
            None
        }
    };

    // The confused-deputy proof: without the ExternalId, and with every value a loosened
    // condition would accept, AWS must refuse. Anything but AccessDenied proves nothing.
    let mut unsafe_role = false;
    for (id, title, decoy) in decoys(external_id) {
        match assume(client, vendor, role, decoy, 900, home).await {
            Ok(_) => {
                unsafe_role = true;
                checks.push(check(id, title, Status::Fail, None, "The role can be assumed without your exact ExternalId, so another of the vendor's customers could trick the vendor into reading your account. The trust policy must have \"Condition\": {\"StringEquals\": {\"sts:ExternalId\": \"<your ExternalId>\"}} — StringEquals, the whole value, no wildcard."));
            }
            Err(e) if matches!(e.kind(), Some(AwsErrorKind::AccessDenied)) => {
                checks.push(check(id, title, Status::Pass, e.code(), "AWS refused, as it should."));
            }
            Err(e) => checks.push(check(
                id,
                title,
                Status::Fail,
                e.code(),
                format!("Could not prove that AWS refuses it (AWS answered: {e}); verify again in a minute."),
            )),
        }
    }

    let Some(session) = session else {
        checks.push(skipped("caller_identity", "Trustline's session is in your account"));
        checks.push(skipped("expected_account", "The role is in the account you named"));
        return Report {
            verdict: if unsafe_role { Verdict::Unsafe } else { Verdict::Failed },
            account_id: None,
            checks,
        };
    };
    let provider = Provider::fixed(session.credentials.clone(), "the verified role's session");
    let account_key = role.account_id().to_string();
    let identity = client.call(&sts::GetCallerIdentity, &account_key, home, &provider).await;
    let account = match identity {
        Ok(id) => {
            checks.push(check(
                "caller_identity",
                "Trustline's session is in your account",
                Status::Pass,
                None,
                format!("The session is {} in account {}.", id.arn, id.account),
            ));
            Some(id.account)
        }
        Err(e) => {
            checks.push(check(
                "caller_identity",
                "Trustline's session is in your account",
                Status::Fail,
                e.code(),
                format!("GetCallerIdentity failed: {e}"),
            ));
            None
        }
    };
    match (req.expected_account_id, account) {
        (Some(expected), Some(actual)) if expected != actual => checks.push(check(
            "expected_account",
            "The role is in the account you named",
            Status::Fail,
            None,
            format!("The role is in account {actual}, not {expected}: paste the RoleArn from the stack you launched in {expected}."),
        )),
        (Some(_), Some(_)) => checks.push(check("expected_account", "The role is in the account you named", Status::Pass, None, "The account matches.")),
        _ => checks.push(check("expected_account", "The role is in the account you named", Status::Skipped, None, "No account was named.")),
    }
    checks.extend(probe_permissions(client, &provider, &account_key, home, req).await);

    let failed = checks.iter().any(|c| c.status == Status::Fail);
    let verdict = if unsafe_role {
        Verdict::Unsafe
    } else if failed {
        Verdict::Failed
    } else {
        Verdict::Verified
    };
    Report { verdict, account_id: account, checks }
}

/// Each permission the data sets need, probed with its cheapest call (one item per page).
async fn probe_permissions(
    client: &AwsClient,
    provider: &Arc<Provider>,
    account: &str,
    home: &Region,
    req: &RoleRequest,
) -> Vec<Check> {
    let region = req.regions.first().unwrap_or(home);
    let mut checks = Vec::new();
    let one_iam = || iam::Paging::after(None).max_items(1);
    let ec2_q = || ec2::Query::after(None).max_results(5);
    for set in &req.data_sets {
        let results: Vec<(&str, Result<(), CallError>)> = match set {
            DataSet::Iam => vec![
                (
                    "iam:ListUsers",
                    call(
                        client,
                        &iam::ListUsers { paging: one_iam().unwrap_or_default() },
                        account,
                        home,
                        provider,
                    )
                    .await,
                ),
                (
                    "iam:ListRoles",
                    call(
                        client,
                        &iam::ListRoles { paging: one_iam().unwrap_or_default() },
                        account,
                        home,
                        provider,
                    )
                    .await,
                ),
                (
                    "iam:ListGroups",
                    call(
                        client,
                        &iam::ListGroups { paging: one_iam().unwrap_or_default() },
                        account,
                        home,
                        provider,
                    )
                    .await,
                ),
                (
                    "iam:ListPolicies",
                    call(
                        client,
                        &iam::ListPolicies {
                            paging: one_iam().unwrap_or_default(),
                            scope: iam::PolicyScope::Local,
                            only_attached: false,
                        },
                        account,
                        home,
                        provider,
                    )
                    .await,
                ),
                (
                    "iam:GetAccountAuthorizationDetails",
                    call(
                        client,
                        &iam::GetAccountAuthorizationDetails {
                            filter: vec![iam::DetailFilter::User],
                            paging: one_iam().unwrap_or_default(),
                        },
                        account,
                        home,
                        provider,
                    )
                    .await,
                ),
            ],
            DataSet::Ec2Network => vec![
                (
                    "ec2:DescribeRegions",
                    call(client, &ec2::DescribeRegions { all_regions: false }, account, region, provider)
                        .await,
                ),
                (
                    "ec2:DescribeInstances",
                    call(
                        client,
                        &ec2::DescribeInstances { query: ec2_q().unwrap_or_default() },
                        account,
                        region,
                        provider,
                    )
                    .await,
                ),
                (
                    "ec2:DescribeVpcs",
                    call(
                        client,
                        &ec2::DescribeVpcs { query: ec2_q().unwrap_or_default() },
                        account,
                        region,
                        provider,
                    )
                    .await,
                ),
                (
                    "ec2:DescribeSubnets",
                    call(
                        client,
                        &ec2::DescribeSubnets { query: ec2_q().unwrap_or_default() },
                        account,
                        region,
                        provider,
                    )
                    .await,
                ),
                (
                    "ec2:DescribeSecurityGroups",
                    call(
                        client,
                        &ec2::DescribeSecurityGroups { query: ec2_q().unwrap_or_default() },
                        account,
                        region,
                        provider,
                    )
                    .await,
                ),
                (
                    "ec2:DescribeNetworkInterfaces",
                    call(
                        client,
                        &ec2::DescribeNetworkInterfaces { query: ec2_q().unwrap_or_default() },
                        account,
                        region,
                        provider,
                    )
                    .await,
                ),
            ],
            DataSet::CloudTrail => {
                let op = cloudtrail::LookupEvents::new(None, None).and_then(|o| o.max_results(1));
                match op {
                    Ok(op) => {
                        vec![("cloudtrail:LookupEvents", call(client, &op, account, region, provider).await)]
                    }
                    Err(e) => vec![("cloudtrail:LookupEvents", Err(CallError::Build(e)))],
                }
            }
            DataSet::Organizations => {
                let op = trustline_core::aws::organizations::ListAccounts {
                    paging: trustline_core::aws::organizations::Paging::after(None)
                        .max_results(1)
                        .unwrap_or_default(),
                };
                vec![("organizations:ListAccounts", call(client, &op, account, home, provider).await)]
            }
        };
        for (action, result) in results {
            let id = format!("permission:{action}");
            let title = format!("The role allows {action}");
            checks.push(match result {
                Ok(()) => check(&id, &title, Status::Pass, None, "Granted."),
                Err(e) if matches!(e.kind(), Some(AwsErrorKind::AccessDenied)) => check(
                    &id,
                    &title,
                    Status::Fail,
                    e.code(),
                    format!("Denied: the role's policy must allow {action} (update the stack, or attach Trustline's read-only policy)."),
                ),
                Err(e) => check(&id, &title, Status::Warn, e.code(), format!("Could not check: {e}")),
            });
        }
    }
    checks
}

async fn call<O: trustline_core::aws::Operation>(
    client: &AwsClient,
    op: &O,
    account: &str,
    region: &Region,
    provider: &Arc<Provider>,
) -> Result<(), CallError> {
    client.call(op, account, region, provider).await.map(|_| ())
}

/// Keys to verify (`POST /v1/verify/keys`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeysRequest {
    /// `sts` or `access-key`.
    pub kind: trustline_core::IntegrationKind,
    /// The access key ID.
    pub access_key_id: String,
    /// The secret (held in memory only, never echoed or logged).
    #[serde(deserialize_with = "secret")]
    pub secret_access_key: trustline_core::Secret,
    /// A session token, for temporary keys.
    #[serde(default, deserialize_with = "optional_secret")]
    pub session_token: Option<trustline_core::Secret>,
    /// The role to assume (sts kind).
    #[serde(default)]
    pub role_arn: Option<RoleArn>,
    /// The ExternalId for that role, if it requires one.
    #[serde(default)]
    pub external_id: Option<ExternalId>,
}

impl std::fmt::Debug for KeysRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeysRequest")
            .field("kind", &self.kind)
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

/// Checks a key: whose is it (and is it root's), and for STS, can it assume the role?
pub async fn verify_keys(client: &AwsClient, home: &Region, req: &KeysRequest) -> Report {
    let mut checks = Vec::new();
    let creds =
        Credentials::new(req.access_key_id.clone(), req.secret_access_key.clone(), req.session_token.clone());
    let provider = Provider::fixed(creds, "the customer's key");
    let key = req.access_key_id.clone();
    let account = match client.call(&sts::GetCallerIdentity, &key, home, &provider).await {
        Ok(id) => {
            checks.push(check(
                "caller_identity",
                "The key works",
                Status::Pass,
                None,
                format!("The key belongs to {} in account {}.", id.arn, id.account),
            ));
            let root = id.arn.to_string().ends_with(":root");
            checks.push(if root {
                check("root_account", "The key is not the account's root key", Status::Fail, None, "This is the account root user's key, which can do anything and cannot be limited: delete it and create an IAM user with the read-only policy instead.")
            } else {
                check("root_account", "The key is not the account's root key", Status::Pass, None, "It is an IAM user's key.")
            });
            Some(id.account)
        }
        Err(e) => {
            let message = match e.kind() {
                Some(AwsErrorKind::BadCredentials) => "AWS does not recognise this key pair: check the access key ID and secret (copy them again), and that the key is active.".to_owned(),
                Some(AwsErrorKind::ExpiredCredentials) => "The key has expired: create a new one.".to_owned(),
                _ => format!("The key could not be checked: {e}"),
            };
            checks.push(check("caller_identity", "The key works", Status::Fail, e.code(), message));
            None
        }
    };
    if req.kind == trustline_core::IntegrationKind::Sts {
        match (&req.role_arn, account) {
            (Some(role), Some(_)) => {
                let mut op = sts::AssumeRole::new(role.clone(), "trustline-verify").map_err(CallError::Build);
                if let (Ok(o), Some(id)) = (&op, &req.external_id) {
                    op = Ok(o.clone().external_id(id.clone()));
                }
                let result = match op {
                    Ok(op) => client.call(&op, &key, home, &provider).await.map(|_| ()),
                    Err(e) => Err(e),
                };
                checks.push(match result {
                    Ok(()) => check("assume_role", "The key can assume the role", Status::Pass, None, "The key assumed the role."),
                    Err(e) => check("assume_role", "The key can assume the role", Status::Fail, e.code(), format!("The key could not assume {role}: allow sts:AssumeRole on it in the user's policy and trust the user in the role. ({e})")),
                });
            }
            (None, _) => checks.push(check(
                "assume_role",
                "The key can assume the role",
                Status::Fail,
                None,
                "The STS kind needs the role's ARN (role_arn).",
            )),
            (Some(_), None) => checks.push(check(
                "assume_role",
                "The key can assume the role",
                Status::Skipped,
                None,
                "Not checked: the key does not work.",
            )),
        }
    }
    let verdict =
        if checks.iter().any(|c| c.status == Status::Fail) { Verdict::Failed } else { Verdict::Verified };
    Report { verdict, account_id: account, checks }
}

fn secret<'de, D: serde::Deserializer<'de>>(d: D) -> Result<trustline_core::Secret, D::Error> {
    let value = zeroize::Zeroizing::new(String::deserialize(d)?);
    if value.is_empty() {
        return Err(serde::de::Error::custom("the secret access key is empty"));
    }
    Ok(trustline_core::Secret::new(value.as_str()))
}

pub(super) fn optional_secret<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<trustline_core::Secret>, D::Error> {
    let value: Option<String> = Option::deserialize(d)?;
    let value = value.map(zeroize::Zeroizing::new);
    Ok(value.filter(|v| !v.is_empty()).map(|v| trustline_core::Secret::new(v.as_str())))
}
