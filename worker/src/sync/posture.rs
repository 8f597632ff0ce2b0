//! A connection's posture: what each sync observes about how safe the connection still is
//! (the ExternalId enforced, the role's trust policy, each data set's permissions, the
//! customer's key), turned into findings and one verdict. Pure: the observations go in and the
//! report comes out, so every rule is unit-tested; the calls that observe are in
//! the sync's `recheck` module.
//!
//! - `unsafe`: the role can be assumed without the customer's exact ExternalId, its trust is
//!   widened (another account, `*`, another ExternalId, a condition loosened), or the key is
//!   the account root user's.
//! - `degraded`: a permission a data set needs is denied; the rest is still read.
//! - `healthy`: neither (warnings, such as an old access key, may still be listed).

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use trustline_core::policy::permissions::DataSet;
use trustline_core::policy::trust::check_trust;
use trustline_core::policy::{Effect, OneOrMany, PolicyDocument, Principal};
use trustline_core::{AccountId, ExternalId};

pub use trustline_core::api::{Finding, Posture, Severity};

fn finding(id: impl Into<String>, severity: Severity, evidence: String, fix: impl Into<String>) -> Finding {
    Finding { id: id.into(), severity, evidence, fix: fix.into() }
}

/// A posture and the findings behind it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// The verdict.
    pub posture: Posture,
    /// What was found, most severe first.
    pub findings: Vec<Finding>,
}

/// The verdict `findings` add up to.
pub fn posture(findings: &[Finding]) -> Posture {
    match findings.iter().map(|f| f.severity).max() {
        Some(Severity::Critical) => Posture::Unsafe,
        Some(Severity::Error) => Posture::Degraded,
        _ => Posture::Healthy,
    }
}

/// What AWS answered to an AssumeRole that must be refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decoy {
    /// AccessDenied, as it should.
    Refused,
    /// AWS issued a session.
    Accepted,
    /// Anything else (throttled, unreachable), which proves nothing: the message.
    Unproven(String),
}

/// The role's trust policy, as GetRole answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trust {
    /// Not checked (the kind has no role, or the role could not be assumed).
    NotChecked,
    /// The document, URL-decoded JSON.
    Document(String),
    /// GetRole failed: its message.
    Unreadable(String),
}

/// An action a data set needs that AWS denied during the sync.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Denied {
    /// The data set whose list it was.
    pub data_set: DataSet,
    /// The IAM action (`iam:GetAccountAuthorizationDetails`).
    pub action: String,
}

/// The customer's access key (access-key and STS kinds).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Key {
    /// The key's ID (not secret).
    pub access_key_id: String,
    /// GetCallerIdentity's ARN ends in `:root`.
    pub root: bool,
    /// When the key was created, if its metadata could be read.
    pub created: Option<OffsetDateTime>,
}

/// Everything one check observed about a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observations {
    /// Each refused-ExternalId probe: (check id, what was presented, AWS's answer).
    pub decoys: Vec<(String, String, Decoy)>,
    /// The role's trust policy.
    pub trust: Trust,
    /// The role's account: principals in it are the customer's own.
    pub own_account: Option<AccountId>,
    /// Other accounts the role may trust: 1 for a cross-account role (the vendor's), 0 for the
    /// STS kind (only the customer's own user).
    pub foreign_accounts_allowed: usize,
    /// The ExternalIds the connection was issued (the one in force, and during a rotation the
    /// next one).
    pub external_ids: Vec<ExternalId>,
    /// Actions denied during the sync, or by `posture --check`'s probes.
    pub denied: Vec<Denied>,
    /// The customer's key, for the key kinds.
    pub key: Option<Key>,
}

impl Observations {
    /// Nothing observed yet.
    pub fn new(own_account: Option<AccountId>) -> Observations {
        Observations {
            decoys: Vec::new(),
            trust: Trust::NotChecked,
            own_account,
            foreign_accounts_allowed: 1,
            external_ids: Vec::new(),
            denied: Vec::new(),
            key: None,
        }
    }
}

/// Access keys older than this are reported (AWS IAM User Guide, "Security best practices in
/// IAM": "Rotate access keys regularly for use cases that require long-term credentials"; 90
/// days is the rotation period AWS Security Hub's control IAM.3 checks).
pub const KEY_MAX_AGE_DAYS: i64 = 90;

const EXTERNAL_ID_FIX: &str = "Make the role's trust policy require your exact ExternalId again: \"Condition\": {\"StringEquals\": {\"sts:ExternalId\": \"<your ExternalId>\"}} — StringEquals, the whole value, no wildcard, no …IfExists (or update the stack Trustline gave you).";

/// The findings and posture `o` adds up to, at `now`.
pub fn evaluate(o: &Observations, now: OffsetDateTime) -> Report {
    let mut findings = Vec::new();
    for (id, presented, answer) in &o.decoys {
        match answer {
            Decoy::Refused => {}
            Decoy::Accepted => findings.push(finding(
                id.as_str(),
                Severity::Critical,
                format!("AWS let Trustline assume the role {presented}."),
                EXTERNAL_ID_FIX,
            )),
            Decoy::Unproven(message) => findings.push(finding(
                format!("{id}_unproven"),
                Severity::Warning,
                format!("Could not prove that AWS refuses the role {presented}: {message}"),
                "Nothing to change if the trust policy is as Trustline gave it; the next sync checks again.",
            )),
        }
    }
    match &o.trust {
        Trust::NotChecked => {}
        Trust::Unreadable(message) => findings.push(finding(
            "trust_policy_unreadable",
            Severity::Warning,
            format!("iam:GetRole on the role itself failed: {message}"),
            "Allow iam:GetRole on the role's own ARN in its permissions (AWS's SecurityAudit and ReadOnlyAccess policies include it), so that Trustline can check its trust policy on every sync.",
        )),
        Trust::Document(json) => findings.extend(trust_findings(o, json)),
    }
    let mut denied = o.denied.clone();
    denied.sort();
    denied.dedup();
    for d in &denied {
        findings.push(finding(
            format!("permission_denied:{}", d.action),
            Severity::Error,
            format!("AWS denied {} while reading the {} data set; it was not read this time.", d.action, d.data_set.id()),
            format!(
                "Allow {} in the role's permissions again, with the rest of what the {} data set needs ({}): update the stack, or re-attach Trustline's read-only policy.",
                d.action,
                d.data_set.id(),
                d.data_set.actions().join(", ")
            ),
        ));
    }
    if let Some(key) = &o.key {
        if key.root {
            findings.push(finding(
                "root_access_key",
                Severity::Critical,
                format!("The access key {} belongs to the account's root user.", key.access_key_id),
                "Delete the root user's access key and give Trustline an IAM user's key with the read-only policy instead (AWS IAM User Guide, \"Root user best practices for your AWS account\").",
            ));
        }
        if let Some(created) = key.created {
            let days = (now - created).whole_days();
            if days > KEY_MAX_AGE_DAYS {
                findings.push(finding(
                    "access_key_age",
                    Severity::Warning,
                    format!("The access key {} was created {days} days ago, on {}.", key.access_key_id, created.date()),
                    format!("Rotate the key: create a new one, update it in Trustline, then deactivate and delete the old one (AWS IAM User Guide, \"Security best practices in IAM\": \"Rotate access keys regularly\"; Trustline warns past {KEY_MAX_AGE_DAYS} days)."),
                ));
            }
        }
    }
    findings.sort_by(|a, b| b.severity.cmp(&a.severity).then_with(|| a.id.cmp(&b.id)));
    Report { posture: posture(&findings), findings }
}

fn is_assume_role(action: &str) -> bool {
    let a = action.to_ascii_lowercase();
    a == "*" || a == "sts:*" || a == "sts:assumerole" || a.starts_with("sts:assume") && a.ends_with('*')
}

/// The account a principal names (`123456789012`, an IAM or STS ARN), or `*`.
fn principal_account(p: &str) -> &str {
    if p == "*" {
        return "*";
    }
    p.strip_prefix("arn:").and_then(|rest| rest.split(':').nth(3)).unwrap_or(p)
}

fn trust_findings(o: &Observations, json: &str) -> Vec<Finding> {
    let doc = match PolicyDocument::from_json(json) {
        Ok(doc) => doc,
        Err(e) => {
            return vec![finding(
                "trust_policy_invalid",
                Severity::Warning,
                format!("The role's trust policy could not be read: {}", e.message()),
                "Check the role's trust policy in the IAM console; Trustline checks it again on the next sync.",
            )];
        }
    };
    let mut out = Vec::new();
    // A principal from another account (or anyone) without an exact ExternalId: core's check.
    for f in check_trust(&doc, o.own_account.as_ref()) {
        out.push(finding(
            format!("trust_policy_unsafe:{}", f.statement),
            Severity::Critical,
            format!("Trust policy statement {}: {}.", f.statement, f.message),
            EXTERNAL_ID_FIX,
        ));
    }
    let own = o.own_account.map(|a| a.to_string());
    let mut foreign = std::collections::BTreeSet::new();
    for (i, st) in doc.statement.iter().enumerate() {
        if st.effect != Effect::Allow || !st.action.values().iter().any(|a| is_assume_role(a)) {
            continue;
        }
        let principals: Vec<&str> = match &st.principal {
            None => continue,
            Some(Principal::Anyone(_)) => vec!["*"],
            Some(Principal::Map(map)) => {
                map.get("AWS").map(OneOrMany::values).unwrap_or_default().iter().map(String::as_str).collect()
            }
        };
        for p in principals {
            let account = principal_account(p);
            if own.as_deref() != Some(account) {
                foreign.insert((i, account.to_owned()));
            }
        }
        // ExternalId values beyond the ones issued to this customer let someone else in.
        for (op, keys) in &st.condition {
            for (key, values) in keys {
                // Other operators, and wildcards, are core's check's findings already.
                if !key.eq_ignore_ascii_case("sts:ExternalId")
                    || !matches!(op.as_str(), "StringEquals" | "StringLike")
                {
                    continue;
                }
                let others: Vec<&str> = values
                    .values()
                    .iter()
                    .map(String::as_str)
                    .filter(|v| !v.contains(['*', '?']) && !o.external_ids.iter().any(|e| e.as_str() == *v))
                    .collect();
                if !others.is_empty() && !o.external_ids.is_empty() {
                    out.push(finding(
                        format!("trust_external_id_widened:{i}"),
                        Severity::Critical,
                        format!(
                            "Trust policy statement {i} accepts {} ExternalId value(s) that were not issued to you ({op}).",
                            others.len()
                        ),
                        "Remove every sts:ExternalId value but yours from the role's trust policy.",
                    ));
                }
            }
        }
    }
    let anyone: Vec<usize> = foreign.iter().filter(|(_, a)| a == "*").map(|(i, _)| *i).collect();
    let accounts: std::collections::BTreeSet<&str> =
        foreign.iter().filter(|(_, a)| a != "*").map(|(_, a)| a.as_str()).collect();
    if let Some(i) = anyone.first() {
        out.push(finding(
            format!("trust_principal_widened:{i}"),
            Severity::Critical,
            format!("Trust policy statement {i} trusts every AWS account (\"*\")."),
            "Trust only the vendor's account in the role's trust policy, as the stack Trustline gave you does.",
        ));
    } else if accounts.len() > o.foreign_accounts_allowed {
        let listed: Vec<&str> = accounts.into_iter().collect();
        out.push(finding(
            "trust_principal_widened",
            Severity::Critical,
            format!(
                "The trust policy trusts {} other account(s) ({}); it should trust {}.",
                listed.len(),
                listed.join(", "),
                if o.foreign_accounts_allowed == 0 { "only your own account" } else { "only the vendor's" }
            ),
            "Remove every principal but the vendor's (or, for the STS kind, your own IAM user) from the role's trust policy.",
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const VENDOR: &str = "arn:aws:iam::111111111111:root";

    fn trust(principal: &str, condition: &str) -> String {
        format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{principal},"Action":"sts:AssumeRole"{condition}}}]}}"#
        )
    }

    fn exact(id: &str) -> String {
        format!(r#","Condition":{{"StringEquals":{{"sts:ExternalId":"{id}"}}}}"#)
    }

    fn role(trust_policy: String) -> Observations {
        let mut o = Observations::new(Some("222222222222".parse().unwrap()));
        o.external_ids = vec!["ext-1".parse().unwrap()];
        o.trust = Trust::Document(trust_policy);
        o.decoys = vec![
            ("external_id_required_missing".into(), "without an ExternalId".into(), Decoy::Refused),
            ("external_id_required_same_prefix".into(), "with another value".into(), Decoy::Refused),
        ];
        o
    }

    fn ids(r: &Report) -> Vec<&str> {
        r.findings.iter().map(|f| f.id.as_str()).collect()
    }

    fn now() -> OffsetDateTime {
        time::macros::datetime!(2026-12-05 00:00 UTC)
    }

    #[test]
    fn the_policy_trustline_generates_is_healthy() {
        let r = evaluate(&role(trust(&format!(r#"{{"AWS":"{VENDOR}"}}"#), &exact("ext-1"))), now());
        assert_eq!((r.posture, r.findings.len()), (Posture::Healthy, 0), "{r:?}");
        // During a rotation both issued ExternalIds are expected.
        let mut o = role(trust(
            &format!(r#"{{"AWS":"{VENDOR}"}}"#),
            r#","Condition":{"StringEquals":{"sts:ExternalId":["ext-1","ext-2"]}}"#,
        ));
        o.external_ids.push("ext-2".parse().unwrap());
        assert_eq!(evaluate(&o, now()).posture, Posture::Healthy);
    }

    #[test]
    fn a_dropped_or_loosened_external_id_is_unsafe() {
        let mut o = role(trust(&format!(r#"{{"AWS":"{VENDOR}"}}"#), ""));
        o.decoys[0].2 = Decoy::Accepted;
        let r = evaluate(&o, now());
        assert_eq!(r.posture, Posture::Unsafe);
        assert_eq!(ids(&r), ["external_id_required_missing", "trust_policy_unsafe:0"]);
        assert!(r.findings[0].evidence.contains("without an ExternalId"), "{r:?}");
        assert!(r.findings.iter().all(|f| f.fix.contains("StringEquals")));

        for condition in [
            r#","Condition":{"StringLike":{"sts:ExternalId":"ext-*"}}"#,
            r#","Condition":{"StringEqualsIfExists":{"sts:ExternalId":"ext-1"}}"#,
        ] {
            let r = evaluate(&role(trust(&format!(r#"{{"AWS":"{VENDOR}"}}"#), condition)), now());
            assert_eq!((r.posture, ids(&r)), (Posture::Unsafe, vec!["trust_policy_unsafe:0"]), "{condition}");
        }
        let r = evaluate(
            &role(trust(
                &format!(r#"{{"AWS":"{VENDOR}"}}"#),
                r#","Condition":{"StringEquals":{"sts:ExternalId":["ext-1","someone-else"]}}"#,
            )),
            now(),
        );
        assert_eq!((r.posture, ids(&r)), (Posture::Unsafe, vec!["trust_external_id_widened:0"]));
    }

    #[test]
    fn widened_principals_are_unsafe_even_with_the_external_id() {
        let r = evaluate(&role(trust(r#""*""#, &exact("ext-1"))), now());
        assert_eq!((r.posture, ids(&r)), (Posture::Unsafe, vec!["trust_principal_widened:0"]));
        let r = evaluate(&role(trust(r#"{"AWS":"*"}"#, &exact("ext-1"))), now());
        assert_eq!(r.posture, Posture::Unsafe);
        let two = format!(r#"{{"AWS":["{VENDOR}","arn:aws:iam::999999999999:role/X"]}}"#);
        let r = evaluate(&role(trust(&two, &exact("ext-1"))), now());
        assert_eq!((r.posture, ids(&r)), (Posture::Unsafe, vec!["trust_principal_widened"]));
        assert!(r.findings[0].evidence.contains("999999999999"), "{r:?}");
        // The customer's own principals are not a widening.
        let own = format!(r#"{{"AWS":["{VENDOR}","arn:aws:iam::222222222222:root"]}}"#);
        assert_eq!(evaluate(&role(trust(&own, &exact("ext-1"))), now()).posture, Posture::Healthy);
        // The STS kind trusts the customer's own user only.
        let mut sts = role(trust(r#"{"AWS":"arn:aws:iam::222222222222:user/trustline"}"#, ""));
        sts.foreign_accounts_allowed = 0;
        sts.decoys.clear();
        assert_eq!(evaluate(&sts, now()).posture, Posture::Healthy);
        sts.trust = Trust::Document(trust(r#"{"AWS":"arn:aws:iam::333333333333:root"}"#, &exact("ext-1")));
        assert_eq!(ids(&evaluate(&sts, now())), ["trust_principal_widened"]);
    }

    #[test]
    fn denied_actions_degrade_and_are_named_once() {
        let mut o = role(trust(&format!(r#"{{"AWS":"{VENDOR}"}}"#), &exact("ext-1")));
        let denied = |action: &str| Denied { data_set: DataSet::Ec2Network, action: action.into() };
        o.denied =
            vec![denied("ec2:DescribeVpcs"), denied("ec2:DescribeInstances"), denied("ec2:DescribeVpcs")];
        let r = evaluate(&o, now());
        assert_eq!(r.posture, Posture::Degraded);
        assert_eq!(
            ids(&r),
            ["permission_denied:ec2:DescribeInstances", "permission_denied:ec2:DescribeVpcs"]
        );
        assert!(r.findings[0].evidence.contains("ec2-network"), "{r:?}");
        assert!(r.findings[0].fix.contains("ec2:DescribeSubnets"), "the data set's other actions: {r:?}");
        // Unsafe outweighs degraded.
        o.decoys[1].2 = Decoy::Accepted;
        let r = evaluate(&o, now());
        assert_eq!(
            (r.posture, r.findings[0].id.as_str()),
            (Posture::Unsafe, "external_id_required_same_prefix")
        );
    }

    #[test]
    fn unproven_probes_and_an_unreadable_trust_policy_only_warn() {
        let mut o = role(String::new());
        o.trust = Trust::Unreadable("AccessDenied".into());
        o.decoys[0].2 = Decoy::Unproven("Throttling".into());
        let r = evaluate(&o, now());
        assert_eq!(r.posture, Posture::Healthy);
        assert_eq!(ids(&r), ["external_id_required_missing_unproven", "trust_policy_unreadable"]);
        assert!(r.findings.iter().all(|f| f.severity == Severity::Warning));
        o.trust = Trust::Document("not json".into());
        assert_eq!(ids(&evaluate(&o, now()))[1], "trust_policy_invalid");
    }

    #[test]
    fn keys_root_and_age() {
        let mut o = Observations::new(Some("222222222222".parse().unwrap()));
        let key = |root, days: i64| Key {
            access_key_id: "AKIAEXAMPLE".into(),
            root,
            created: Some(now() - time::Duration::days(days)),
        };
        o.key = Some(key(false, 90));
        assert_eq!(evaluate(&o, now()).findings, []);
        o.key = Some(key(false, 91));
        let r = evaluate(&o, now());
        assert_eq!((r.posture, ids(&r)), (Posture::Healthy, vec!["access_key_age"]));
        assert!(
            r.findings[0].evidence.contains("91 days")
                && r.findings[0].fix.contains("Rotate access keys regularly")
        );
        o.key = Some(key(true, 1));
        let r = evaluate(&o, now());
        assert_eq!((r.posture, ids(&r)), (Posture::Unsafe, vec!["root_access_key"]));
        o.key = Some(Key { created: None, ..key(false, 0) });
        assert_eq!(evaluate(&o, now()).posture, Posture::Healthy);
    }

    #[test]
    fn names_round_trip() {
        for p in [Posture::Healthy, Posture::Degraded, Posture::Unsafe] {
            assert_eq!(Posture::parse(p.as_str()), Some(p));
        }
        assert_eq!(Posture::parse("fine"), None);
        assert_eq!(posture(&[]), Posture::Healthy);
    }
}
