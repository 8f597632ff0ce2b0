//! A customer's access key (access-key and STS kinds): whose it is, not root's, and for STS
//! whether it can assume the role.

use trustline_core::aws::{AwsErrorKind, sts};
use trustline_core::{Credentials, Region};

use super::{Check, CheckStatus, Verdict, VerifyKeysRequest, VerifyReport};
use crate::client::{AwsClient, CallError};
use crate::credentials::Provider;

/// Checks a key: whose is it (and is it root's), and for STS, can it assume the role?
pub async fn verify_keys(client: &AwsClient, home: &Region, req: &VerifyKeysRequest) -> VerifyReport {
    let mut checks = Vec::new();
    let creds =
        Credentials::new(req.access_key_id.clone(), req.secret_access_key.clone(), req.session_token.clone());
    let provider = Provider::fixed(creds, "the customer's key");
    let key = req.access_key_id.clone();
    let account = match client.call(&sts::GetCallerIdentity, &key, home, &*provider).await {
        Ok(id) => {
            checks.push(Check::new(
                "caller_identity",
                "The key works",
                CheckStatus::Pass,
                None,
                format!("The key belongs to {} in account {}.", id.arn, id.account),
            ));
            let root = id.arn.to_string().ends_with(":root");
            checks.push(if root {
                Check::new("root_account", "The key is not the account's root key", CheckStatus::Fail, None, "This is the account root user's key, which can do anything and cannot be limited: delete it and create an IAM user with the read-only policy instead.")
            } else {
                Check::new("root_account", "The key is not the account's root key", CheckStatus::Pass, None, "It is an IAM user's key.")
            });
            Some(id.account)
        }
        Err(e) => {
            let message = match e.kind() {
                Some(AwsErrorKind::BadCredentials) => "AWS does not recognise this key pair: check the access key ID and secret (copy them again), and that the key is active.".to_owned(),
                Some(AwsErrorKind::ExpiredCredentials) => "The key has expired: create a new one.".to_owned(),
                _ => format!("The key could not be checked: {e}"),
            };
            checks.push(Check::new("caller_identity", "The key works", CheckStatus::Fail, e.code(), message));
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
                    Ok(op) => client.call(&op, &key, home, &*provider).await.map(|_| ()),
                    Err(e) => Err(e),
                };
                checks.push(match result {
                    Ok(()) => Check::new("assume_role", "The key can assume the role", CheckStatus::Pass, None, "The key assumed the role."),
                    Err(e) => Check::new("assume_role", "The key can assume the role", CheckStatus::Fail, e.code(), format!("The key could not assume {role}: allow sts:AssumeRole on it in the user's policy and trust the user in the role. ({e})")),
                });
            }
            (None, _) => checks.push(Check::new(
                "assume_role",
                "The key can assume the role",
                CheckStatus::Fail,
                None,
                "The STS kind needs the role's ARN (role_arn).",
            )),
            (Some(_), None) => checks.push(Check::new(
                "assume_role",
                "The key can assume the role",
                CheckStatus::Skipped,
                None,
                "Not checked: the key does not work.",
            )),
        }
    }
    let verdict = if checks.iter().any(|c| c.status == CheckStatus::Fail) {
        Verdict::Failed
    } else {
        Verdict::Verified
    };
    VerifyReport { verdict, account_id: account, checks }
}
