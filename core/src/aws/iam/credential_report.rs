//! The IAM credential report: password and access-key age and last use for every user in one
//! CSV. `GenerateCredentialReport` starts it (AWS keeps a report for four hours), then
//! `GetCredentialReport` fetches it once the state is `COMPLETE`.

use time::OffsetDateTime;

use super::VERSION;
use crate::aws::{AwsError, Call, Form, HttpResponse, Operation, parse_query, xml};
use crate::endpoint::Service;
use crate::error::Result;

/// `GenerateCredentialReport`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GenerateCredentialReport;

/// Where report generation stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportState {
    /// `STARTED`, `INPROGRESS` or `COMPLETE`.
    pub state: String,
    /// AWS's description of the state.
    pub description: Option<String>,
}

impl ReportState {
    /// Whether the report can be fetched now.
    pub fn is_complete(&self) -> bool {
        self.state == "COMPLETE"
    }
}

impl Operation for GenerateCredentialReport {
    type Output = ReportState;

    fn call(&self) -> Result<Call> {
        Ok(Call::form(Service::Iam, Form::new("GenerateCredentialReport", VERSION)))
    }

    fn parse(response: &HttpResponse) -> Result<ReportState, AwsError> {
        parse_query(Service::Iam, "GenerateCredentialReport", response, |node| {
            Ok(ReportState {
                state: xml::required(node, "State")?,
                description: xml::text(node, "Description"),
            })
        })
    }
}

/// `GetCredentialReport`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GetCredentialReport;

/// The decoded report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialReport {
    /// When AWS generated it.
    pub generated_time: Option<OffsetDateTime>,
    /// One row per user, the first being `<root_account>`.
    pub rows: Vec<CredentialReportRow>,
}

/// One user's line of the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialReportRow {
    /// The user's name (`<root_account>` for the root user).
    pub user: String,
    /// The user's ARN.
    pub arn: String,
    /// When the user was created.
    pub user_creation_time: Option<OffsetDateTime>,
    /// Whether the user has a console password (`None`: not reported, as for root).
    pub password_enabled: Option<bool>,
    /// When the password was last used.
    pub password_last_used: Option<OffsetDateTime>,
    /// Whether an MFA device is enabled.
    pub mfa_active: bool,
    /// The user's two access-key slots.
    pub access_keys: [AccessKeyUsage; 2],
}

/// Age and last use of one access-key slot.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccessKeyUsage {
    /// Whether the slot holds an active key.
    pub active: bool,
    /// When the key was created or last rotated.
    pub last_rotated: Option<OffsetDateTime>,
    /// When the key was last used.
    pub last_used: Option<OffsetDateTime>,
    /// Where it was last used.
    pub last_used_region: Option<String>,
    /// Which service it last called.
    pub last_used_service: Option<String>,
}

impl Operation for GetCredentialReport {
    type Output = CredentialReport;

    fn call(&self) -> Result<Call> {
        Ok(Call::form(Service::Iam, Form::new("GetCredentialReport", VERSION)))
    }

    fn parse(response: &HttpResponse) -> Result<CredentialReport, AwsError> {
        parse_query(Service::Iam, "GetCredentialReport", response, |node| {
            let content = xml::required(node, "Content")?;
            let compact: Vec<u8> = content.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
            let csv = data_encoding::BASE64
                .decode(&compact)
                .map_err(|_| AwsError::invalid_response(200, "the credential report is not base64"))?;
            let csv = String::from_utf8(csv)
                .map_err(|_| AwsError::invalid_response(200, "the credential report is not UTF-8"))?;
            Ok(CredentialReport {
                generated_time: xml::timestamp(node, "GeneratedTime")?,
                rows: parse_csv(&csv)?,
            })
        })
    }
}

/// Reads the report's CSV by column name, so added columns do not break it. AWS does not quote
/// fields; user names cannot contain commas in practice for CSV, but IAM allows them, so a row
/// with extra fields is split from both ends around the user and ARN.
pub(crate) fn parse_csv(csv: &str) -> Result<Vec<CredentialReportRow>, AwsError> {
    let mut lines = csv.lines().filter(|l| !l.trim().is_empty());
    let header: Vec<&str> = lines
        .next()
        .ok_or_else(|| AwsError::invalid_response(200, "the credential report is empty"))?
        .split(',')
        .collect();
    let col = |name: &str| header.iter().position(|h| *h == name);
    let (Some(_), Some(_)) = (col("user"), col("arn")) else {
        return Err(AwsError::invalid_response(200, "the credential report has no user/arn columns"));
    };
    let mut rows = Vec::new();
    for line in lines {
        let fields: Vec<&str> = line.split(',').collect();
        if fields.len() < header.len() {
            return Err(AwsError::invalid_response(200, "a credential report row is truncated"));
        }
        // Extra fields come from commas inside the user name (and so the ARN): rejoin them.
        let extra = fields.len() - header.len();
        let (user, arn, rest) = if extra == 0 {
            (fields[0].to_owned(), fields[1].to_owned(), &fields[2..])
        } else {
            let half = extra / 2;
            (
                fields[..=half].join(","),
                fields[half + 1..=half + 1 + (extra - half)].join(","),
                &fields[2 + extra..],
            )
        };
        let get = |name: &str| col(name).filter(|&i| i >= 2).and_then(|i| rest.get(i - 2)).copied();
        let time = |name: &str| get(name).and_then(|v| xml::parse_timestamp(v).ok());
        let text =
            |name: &str| get(name).filter(|v| !matches!(*v, "N/A" | "no_information" | "not_supported" | ""));
        let key = |n: u8| AccessKeyUsage {
            active: get(&format!("access_key_{n}_active")) == Some("true"),
            last_rotated: time(&format!("access_key_{n}_last_rotated")),
            last_used: time(&format!("access_key_{n}_last_used_date")),
            last_used_region: text(&format!("access_key_{n}_last_used_region")).map(str::to_owned),
            last_used_service: text(&format!("access_key_{n}_last_used_service")).map(str::to_owned),
        };
        rows.push(CredentialReportRow {
            user,
            arn,
            user_creation_time: time("user_creation_time"),
            password_enabled: match get("password_enabled") {
                Some("true") => Some(true),
                Some("false") => Some(false),
                _ => None,
            },
            password_last_used: time("password_last_used"),
            mfa_active: get("mfa_active") == Some("true"),
            access_keys: [key(1), key(2)],
        });
    }
    Ok(rows)
}
