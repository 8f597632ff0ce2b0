//! The verify API's JSON (docs/verify-api.md), as the wizard reads it: a verdict and per-check
//! results whose messages are shown as next steps.

use serde::{Deserialize, Serialize};

/// `POST /v1/tenants/{tenant}/verify/role` and `…/verify/keys` responses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifyResponse {
    /// The overall outcome.
    pub verdict: Verdict,
    /// The connected account, when known.
    #[serde(default)]
    pub account_id: Option<String>,
    /// The checks, in the order the API ran them.
    #[serde(default)]
    pub checks: Vec<Check>,
}

/// `verified`, `unsafe` (assumable without the right ExternalId) or `failed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Every required check passed.
    Verified,
    /// The role can be assumed without the right ExternalId: it must not be used.
    Unsafe,
    /// Something the customer can fix failed.
    Failed,
}

/// One check's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Check {
    /// Stable id, e.g. `assume_role` or `permission:iam:ListUsers`.
    pub id: String,
    /// What was checked, for people.
    pub title: String,
    /// Pass, fail, warn or skipped.
    pub status: CheckStatus,
    /// The AWS error code, when AWS returned one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aws_error_code: Option<String>,
    /// What passed, or what to fix.
    #[serde(default)]
    pub message: String,
}

/// A check's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckStatus {
    /// Passed.
    Pass,
    /// Failed: the message says what to fix.
    Fail,
    /// Works, but worth attention.
    Warn,
    /// Not run (e.g. an earlier check failed).
    Skipped,
}

impl CheckStatus {
    /// A short label that does not rely on colour.
    pub fn label(self) -> &'static str {
        match self {
            CheckStatus::Pass => "Passed",
            CheckStatus::Fail => "Failed",
            CheckStatus::Warn => "Warning",
            CheckStatus::Skipped => "Skipped",
        }
    }
}

#[derive(Deserialize)]
struct ApiError {
    error: ApiErrorBody,
}

#[derive(Deserialize)]
struct ApiErrorBody {
    #[serde(default)]
    field: Option<String>,
    message: String,
}

/// Reads a verify response of any status into a result or a message the customer can act on.
pub fn parse_verify_response(status: u16, body: &str) -> Result<VerifyResponse, String> {
    if (200..300).contains(&status) {
        return serde_json::from_str(body).map_err(|e| {
            format!("the verify service sent an answer the page cannot read ({e}); try again later")
        });
    }
    match serde_json::from_str::<ApiError>(body) {
        Ok(ApiError { error: ApiErrorBody { field: Some(field), message } }) => {
            Err(format!("{field}: {message}"))
        }
        Ok(ApiError { error: ApiErrorBody { field: None, message } }) if status == 401 => Err(format!(
            "{message}: this page's session with the verify service has ended; reload the page to start a new one"
        )),
        Ok(ApiError { error: ApiErrorBody { field: None, message } }) => Err(message),
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
}
