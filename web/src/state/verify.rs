//! The verify API's JSON (docs/verify-api.md), as the wizard reads it: a verdict and per-check
//! results whose messages are shown as next steps.

use serde::{Deserialize, Serialize};

use crate::json::{self, Json, Value, opt_text};

/// `POST /v1/verify/role` and `/v1/verify/keys` responses.
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

impl Verdict {
    /// The verdict as the API spells it.
    pub fn id(self) -> &'static str {
        match self {
            Verdict::Verified => "verified",
            Verdict::Unsafe => "unsafe",
            Verdict::Failed => "failed",
        }
    }
}

impl CheckStatus {
    /// The status as the API spells it.
    pub fn id(self) -> &'static str {
        match self {
            CheckStatus::Pass => "pass",
            CheckStatus::Fail => "fail",
            CheckStatus::Warn => "warn",
            CheckStatus::Skipped => "skipped",
        }
    }

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

impl VerifyResponse {
    /// Reads the API's answer, or says which field is wrong.
    pub fn from_json(v: &Value) -> Result<Self, String> {
        let verdict = json::string(v, "verdict")?;
        let verdict = [Verdict::Verified, Verdict::Unsafe, Verdict::Failed]
            .into_iter()
            .find(|known| known.id() == verdict)
            .ok_or_else(|| format!("unknown verdict '{verdict}'"))?;
        Ok(VerifyResponse {
            verdict,
            account_id: json::opt_string(v, "account_id")?,
            checks: json::objects(v, "checks", Check::from_json)?,
        })
    }
}

impl Check {
    fn from_json(v: &Value) -> Result<Self, String> {
        let status = json::string(v, "status")?;
        let status = [CheckStatus::Pass, CheckStatus::Fail, CheckStatus::Warn, CheckStatus::Skipped]
            .into_iter()
            .find(|known| known.id() == status)
            .ok_or_else(|| format!("unknown check status '{status}'"))?;
        Ok(Check {
            id: json::string(v, "id")?,
            title: json::string(v, "title")?,
            status,
            aws_error_code: json::opt_string(v, "aws_error_code")?,
            message: json::opt_string(v, "message")?.unwrap_or_default(),
        })
    }

    /// The check as serde writes it (in the host's result).
    pub fn to_json(&self) -> Value {
        let mut fields = vec![
            ("id", Value::text(&self.id)),
            ("title", Value::text(&self.title)),
            ("status", Value::text(self.status.id())),
        ];
        if self.aws_error_code.is_some() {
            fields.push(("aws_error_code", opt_text(self.aws_error_code.as_deref())));
        }
        fields.push(("message", Value::text(&self.message)));
        Value::object(fields)
    }
}

/// Reads a verify response of any status into a result or a message the customer can act on.
pub fn parse_verify_response(status: u16, body: &str) -> Result<VerifyResponse, String> {
    let body = Value::parse(body);
    if (200..300).contains(&status) {
        return body
            .ok_or_else(|| "not JSON".to_owned())
            .and_then(|v| VerifyResponse::from_json(&v))
            .map_err(|e| {
                format!("the verify service sent an answer the page cannot read ({e}); try again later")
            });
    }
    let error = body.and_then(|v| v.field("error"));
    match error
        .as_ref()
        .and_then(|e| Some((json::opt_string(e, "field").ok()?, json::string(e, "message").ok()?)))
    {
        Some((Some(field), message)) => Err(format!("{field}: {message}")),
        Some((None, message)) => Err(message),
        None => Err(format!("the verify service answered HTTP {status}; try again in a minute")),
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
            parse_verify_response(401, r#"{"error":{"field":null,"message":"bad token"}}"#).unwrap_err(),
            "bad token"
        );
        assert!(parse_verify_response(502, "<html>").unwrap_err().contains("HTTP 502"));
        assert!(parse_verify_response(200, "{}").unwrap_err().contains("cannot read"));
        assert!(parse_verify_response(200, r#"{"verdict":"maybe"}"#).unwrap_err().contains("'maybe'"));
    }

    #[test]
    fn checks_are_written_as_serde_writes_them() {
        let body = r#"{"verdict":"unsafe","checks":[{"id":"a","title":"A","status":"warn","message":"m"},
            {"id":"b","title":"B","status":"pass","aws_error_code":"X","message":""}]}"#;
        let r = parse_verify_response(200, body).unwrap();
        assert_eq!(r, serde_json::from_str(body).unwrap());
        for check in &r.checks {
            assert_eq!(check.to_json(), serde_json::to_value(check).unwrap());
        }
    }
}
