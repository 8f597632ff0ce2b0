//! A customer's role: assumed with the tenant's ExternalId, refused without it and with every
//! value a loosened trust policy would accept, in the expected account, with the data sets'
//! permissions (probed in [`super::probes`]).

use std::sync::Arc;

use trustline_core::aws::{AwsErrorKind, sts};
use trustline_core::{ExternalId, Region, RoleArn};

use super::{Check, CheckStatus, Verdict, VerifyReport, VerifyRoleRequest};
use crate::client::{AwsClient, CallError};
use crate::credentials::Provider;

/// The session length the vendor's syncs need; the role must allow at least this.
pub const NEEDED_SESSION_SECONDS: u32 = 3_600;

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
    client.call(&op, &role.account_id().to_string(), region, &**vendor).await
}

/// Runs every check for a role.
pub async fn verify_role(
    client: &AwsClient,
    vendor: &Arc<Provider>,
    home: &Region,
    req: &VerifyRoleRequest,
    external_id: &ExternalId,
) -> VerifyReport {
    let mut checks = Vec::new();
    let role = &req.role_arn;
    let skipped = |id: &str, title: &str| {
        Check::new(id, title, CheckStatus::Skipped, None, "Not checked: Trustline could not assume the role.")
    };

    let session = match assume(client, vendor, role, Some(external_id.clone()), NEEDED_SESSION_SECONDS, home)
        .await
    {
        Ok(s) => {
            checks.push(Check::new(
                "assume_role",
                "Trustline can assume the role with your ExternalId",
                CheckStatus::Pass,
                None,
                "Trustline assumed the role with your ExternalId.",
            ));
            checks.push(Check::new(
                "session_duration",
                "The role allows the session length Trustline needs",
                CheckStatus::Pass,
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
            checks.push(Check::new(
                "assume_role",
                "Trustline can assume the role with your ExternalId",
                CheckStatus::Fail,
                code.as_deref(),
                message,
            ));
            let status = if duration_problem { CheckStatus::Fail } else { CheckStatus::Skipped };
            let msg = if duration_problem {
                "Raise the role's MaxSessionDuration."
            } else {
                "Not checked: Trustline could not assume the role."
            };
            checks.push(Check::new(
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
                checks.push(Check::new(id, title, CheckStatus::Fail, None, "The role can be assumed without your exact ExternalId, so another of the vendor's customers could trick the vendor into reading your account. The trust policy must have \"Condition\": {\"StringEquals\": {\"sts:ExternalId\": \"<your ExternalId>\"}} — StringEquals, the whole value, no wildcard."));
            }
            Err(e) if matches!(e.kind(), Some(AwsErrorKind::AccessDenied)) => {
                checks.push(Check::new(id, title, CheckStatus::Pass, e.code(), "AWS refused, as it should."));
            }
            Err(e) => checks.push(Check::new(
                id,
                title,
                CheckStatus::Fail,
                e.code(),
                format!("Could not prove that AWS refuses it (AWS answered: {e}); verify again in a minute."),
            )),
        }
    }

    let Some(session) = session else {
        checks.push(skipped("caller_identity", "Trustline's session is in your account"));
        checks.push(skipped("expected_account", "The role is in the account you named"));
        return VerifyReport {
            verdict: if unsafe_role { Verdict::Unsafe } else { Verdict::Failed },
            account_id: None,
            checks,
        };
    };
    let provider = Provider::fixed(session.credentials.clone(), "the verified role's session");
    let account_key = role.account_id().to_string();
    let identity = client.call(&sts::GetCallerIdentity, &account_key, home, &*provider).await;
    let account = match identity {
        Ok(id) => {
            checks.push(Check::new(
                "caller_identity",
                "Trustline's session is in your account",
                CheckStatus::Pass,
                None,
                format!("The session is {} in account {}.", id.arn, id.account),
            ));
            Some(id.account)
        }
        Err(e) => {
            checks.push(Check::new(
                "caller_identity",
                "Trustline's session is in your account",
                CheckStatus::Fail,
                e.code(),
                format!("GetCallerIdentity failed: {e}"),
            ));
            None
        }
    };
    match (req.expected_account_id, account) {
        (Some(expected), Some(actual)) if expected != actual => checks.push(Check::new(
            "expected_account",
            "The role is in the account you named",
            CheckStatus::Fail,
            None,
            format!("The role is in account {actual}, not {expected}: paste the RoleArn from the stack you launched in {expected}."),
        )),
        (Some(_), Some(_)) => checks.push(Check::new("expected_account", "The role is in the account you named", CheckStatus::Pass, None, "The account matches.")),
        _ => checks.push(Check::new("expected_account", "The role is in the account you named", CheckStatus::Skipped, None, "No account was named.")),
    }
    checks.extend(super::probes::probe_permissions(client, &provider, &account_key, home, req).await);

    let failed = checks.iter().any(|c| c.status == CheckStatus::Fail);
    let verdict = if unsafe_role {
        Verdict::Unsafe
    } else if failed {
        Verdict::Failed
    } else {
        Verdict::Verified
    };
    VerifyReport { verdict, account_id: account, checks }
}
