//! The verify API's answer as the wizard reads it: a verdict and per-check results whose
//! messages are shown as next steps. The bodies are `trustline_core::api`'s, which the worker
//! writes.

use std::collections::BTreeMap;

pub use trustline_core::api::{Check, CheckStatus, Verdict, VerifyReport};
use trustline_core::api::{ErrorBody, ErrorResponse};
use trustline_core::policy::permissions::DataSet;

/// The checks as the customer reads them: what needs the customer's action first, then what
/// passed, with the permission probes (`permission:SERVICE:Action`, one per IAM action the data
/// sets need) collapsed into one line per data set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckReport<'a> {
    /// Failed and warning checks, in the API's order: each says what to fix. Checks with the
    /// same status and message (the ExternalId probes of a role that does not require it) are
    /// one item, since there is one thing to fix.
    pub action: Vec<Vec<&'a Check>>,
    /// Passed checks other than permission probes and ExternalId probes (the role can be
    /// assumed, the account is the expected one, the session may last long enough, …).
    pub passed: Vec<&'a Check>,
    /// Passed ExternalId probes (`external_id_required_*`: the role refuses a missing or wrong
    /// ExternalId), which read as one line.
    pub external_id: Vec<&'a Check>,
    /// Passed permission probes per data set (None: an action no data set lists).
    pub permissions: Vec<(Option<DataSet>, Vec<&'a str>)>,
    /// Checks not run (an earlier one failed).
    pub skipped: Vec<&'a Check>,
}

/// The data sets a probe's action may belong to, in the order the scope step lists them.
const DATA_SETS: [DataSet; 4] =
    [DataSet::Iam, DataSet::Ec2Network, DataSet::CloudTrail, DataSet::Organizations];

impl<'a> CheckReport<'a> {
    /// Groups a report's checks for the customer.
    pub fn of(response: &'a VerifyReport) -> Self {
        let mut report = CheckReport {
            action: Vec::new(),
            passed: Vec::new(),
            external_id: Vec::new(),
            permissions: Vec::new(),
            skipped: Vec::new(),
        };
        // Keyed so that actions of no data set come last.
        let mut probes: BTreeMap<(bool, Option<DataSet>), Vec<&str>> = BTreeMap::new();
        for check in &response.checks {
            match check.status {
                CheckStatus::Fail | CheckStatus::Warn => {
                    let same = report.action.iter_mut().find(|group| {
                        group[0].status == check.status
                            && group[0].message == check.message
                            && !check.message.is_empty()
                    });
                    match same {
                        Some(group) => group.push(check),
                        None => report.action.push(vec![check]),
                    }
                }
                CheckStatus::Skipped => report.skipped.push(check),
                CheckStatus::Pass => match check.id.strip_prefix("permission:") {
                    Some(action) => {
                        let set = DATA_SETS.into_iter().find(|set| set.actions().contains(&action));
                        probes.entry((set.is_none(), set)).or_default().push(action);
                    }
                    None if check.id.starts_with("external_id_required") => report.external_id.push(check),
                    None => report.passed.push(check),
                },
            }
        }
        report.permissions = probes.into_iter().map(|((_, set), actions)| (set, actions)).collect();
        report
    }
}

/// Reads a verify response of any status into a result or a message the customer can act on.
pub fn parse_verify_response(status: u16, body: &str) -> Result<VerifyReport, String> {
    if (200..300).contains(&status) {
        return serde_json::from_str(body).map_err(|e| {
            format!("the verify service sent an answer the page cannot read ({e}); try again later")
        });
    }
    match serde_json::from_str::<ErrorResponse>(body).map(|e| e.error) {
        Ok(ErrorBody { field: Some(field), message }) => Err(format!("{field}: {message}")),
        Ok(ErrorBody { field: None, message }) if status == 401 => Err(format!(
            "{message}: this page's session with the verify service has ended; reload the page to start a new one"
        )),
        Ok(ErrorBody { field: None, message }) => Err(message),
        Err(_) if status == 401 => {
            Err("this page's session with the verify service has ended; reload the page to start a new one"
                .into())
        }
        Err(_) => Err(format!("the verify service answered HTTP {status}; try again in a minute")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_contract_shapes() {
        let body = r#"{"verdict":"failed","account_id":"123456789012","checks":[
            {"id":"assume_role","title":"Trustline can assume the role","status":"fail",
             "aws_error_code":"AccessDenied","message":"Check the trust policy."},
            {"id":"caller_identity","title":"Identity","status":"skipped","message":""}]}"#;
        let r = parse_verify_response(200, body).unwrap();
        assert_eq!(r.verdict, Verdict::Failed);
        assert_eq!(r.checks[0].aws_error_code.as_deref(), Some("AccessDenied"));
        assert_eq!(r.checks[1].status, CheckStatus::Skipped);
        let err = parse_verify_response(400, r#"{"error":{"field":"role_arn","message":"not a role"}}"#);
        assert_eq!(err.unwrap_err(), "role_arn: not a role");
        assert_eq!(
            parse_verify_response(403, r#"{"error":{"field":null,"message":"not your tenant"}}"#)
                .unwrap_err(),
            "not your tenant"
        );
        assert!(
            parse_verify_response(401, r#"{"error":{"field":null,"message":"session expired"}}"#)
                .unwrap_err()
                .starts_with("session expired: this page's session")
        );
        assert!(parse_verify_response(401, "").unwrap_err().contains("reload the page"));
        assert!(parse_verify_response(502, "<html>").unwrap_err().contains("HTTP 502"));
        assert!(parse_verify_response(200, "{}").unwrap_err().contains("cannot read"));
    }

    fn check(id: &str, status: CheckStatus) -> Check {
        Check { id: id.into(), title: id.into(), status, aws_error_code: None, message: String::new() }
    }

    #[test]
    fn failures_with_one_fix_are_one_item() {
        let failed =
            |id: &str, message: &str| Check { message: message.into(), ..check(id, CheckStatus::Fail) };
        let checks = vec![
            failed("external_id_required_missing", "require the ExternalId"),
            failed("assume_role", "check the trust policy"),
            failed("external_id_required_wrong", "require the ExternalId"),
            failed("a", ""),
            failed("b", ""),
        ];
        let r = VerifyReport { verdict: Verdict::Unsafe, account_id: None, checks };
        let groups: Vec<Vec<&str>> =
            CheckReport::of(&r).action.iter().map(|g| g.iter().map(|c| c.id.as_str()).collect()).collect();
        assert_eq!(
            groups,
            [
                vec!["external_id_required_missing", "external_id_required_wrong"],
                vec!["assume_role"],
                vec!["a"],
                vec!["b"]
            ]
        );
    }

    #[test]
    fn a_verified_role_reads_as_a_few_lines_and_what_needs_action_comes_first() {
        use CheckStatus::{Fail, Pass, Skipped, Warn};
        let mut checks = vec![
            check("caller_identity", Pass),
            check("assume_role", Pass),
            check("external_id_required_missing", Pass),
            check("external_id_required_wrong", Pass),
            check("expected_account", Pass),
            check("session_duration", Warn),
        ];
        for set in DataSet::INVENTORY {
            checks.extend(set.actions().into_iter().map(|a| check(&format!("permission:{a}"), Pass)));
        }
        checks.push(check("permission:iam:ListUsers", Fail));
        checks.push(check("permission:example:Unknown", Pass));
        checks.push(check("later", Skipped));
        let r = VerifyReport { verdict: Verdict::Failed, account_id: None, checks };
        let report = CheckReport::of(&r);
        let ids = |list: &[&Check]| list.iter().map(|c| c.id.clone()).collect::<Vec<_>>();
        let action: Vec<_> = report.action.iter().map(|group| ids(group)).collect();
        assert_eq!(action, [vec!["session_duration"], vec!["permission:iam:ListUsers"]]);
        assert_eq!(ids(&report.passed), ["caller_identity", "assume_role", "expected_account"]);
        assert_eq!(report.external_id.len(), 2);
        let sets: Vec<_> = report.permissions.iter().map(|(set, _)| *set).collect();
        assert_eq!(sets, [Some(DataSet::Iam), Some(DataSet::Ec2Network), Some(DataSet::CloudTrail), None]);
        assert_eq!(report.permissions[0].1.len(), DataSet::Iam.actions().len());
        assert_eq!(ids(&report.skipped), ["later"]);
        // Over 18 checks on the screen become 3 passed lines, one for the ExternalId and 4 for
        // permissions.
        assert!(r.checks.len() > 18);
    }
}
