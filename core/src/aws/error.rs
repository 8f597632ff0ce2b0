//! Errors AWS returns (or bodies that cannot be read), classified into the kinds callers act on:
//! back off, refresh credentials, fix the clock, ask the customer for a permission, give up.
//!
//! Every error keeps AWS's code, message and request ID, which support cases need.

use std::fmt;
use std::time::SystemTime;

use time::OffsetDateTime;
use time::macros::format_description;

use super::{HttpResponse, Protocol, xml};

/// What a failed call means for the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AwsErrorKind {
    /// Too many requests (`Throttling`, `RequestLimitExceeded`, `ThrottlingException`,
    /// `TooManyRequestsException`): retry later, more slowly.
    Throttled,
    /// Temporary credentials have expired (`ExpiredToken`, `RequestExpired`,
    /// `ExpiredTokenException`): get new ones.
    ExpiredCredentials,
    /// The access key does not exist or the signature is wrong (`InvalidClientTokenId`,
    /// `SignatureDoesNotMatch`, `AuthFailure`): the credentials are wrong.
    BadCredentials,
    /// The local clock is too far from AWS's (`RequestTimeTooSkewed`, "Signature expired"); see
    /// [`AwsError::clock_skew`].
    ClockSkew,
    /// The identity lacks a permission (`AccessDenied`, `UnauthorizedOperation`).
    AccessDenied,
    /// A failure on AWS's side (HTTP 5xx, `InternalFailure`, `ServiceUnavailable`): retry.
    ServerError,
    /// The thing asked about does not exist (`NoSuchEntity`, `*.NotFound`, `*NotFoundException`).
    NotFound,
    /// AWS rejected a parameter (`ValidationError`, `InvalidParameterValue`, …).
    InvalidInput,
    /// The response could not be read: not XML/JSON (an HTML error page), truncated, or missing
    /// an element AWS always sends.
    InvalidResponse,
    /// Any other AWS error; the code says which.
    Other,
}

/// An error returned by AWS for one call, or a response that could not be read.
#[derive(Clone, PartialEq, Eq)]
pub struct AwsError {
    kind: AwsErrorKind,
    status: u16,
    code: Option<String>,
    message: Option<String>,
    request_id: Option<String>,
    server_time: Option<SystemTime>,
}

impl AwsError {
    pub(crate) fn invalid_response(status: u16, message: impl Into<String>) -> Self {
        Self {
            kind: AwsErrorKind::InvalidResponse,
            status,
            code: None,
            message: Some(message.into()),
            request_id: None,
            server_time: None,
        }
    }

    /// Reads the error in a non-2xx `response` of a service speaking `protocol`.
    pub(crate) fn from_response(protocol: Protocol, response: &HttpResponse) -> Self {
        let status = response.status();
        let (code, message, body_request_id) = match protocol {
            Protocol::Query | Protocol::Ec2 => xml_error(response.body()),
            Protocol::Json => json_error(response),
        };
        let request_id = body_request_id
            .or_else(|| response.header("x-amzn-requestid").map(str::to_owned))
            .or_else(|| response.header("x-amz-request-id").map(str::to_owned));
        let server_time = response.header("date").and_then(parse_http_date);
        let kind = match &code {
            Some(code) => classify(code, message.as_deref().unwrap_or_default(), status),
            None => by_status(status),
        };
        let message = match (&code, message) {
            (None, _) => Some(format!(
                "HTTP {status} with a body that is not an AWS {} error document",
                if protocol == Protocol::Json { "JSON" } else { "XML" }
            )),
            (_, message) => message,
        };
        Self { kind, status, code, message, request_id, server_time }
    }

    /// Sets the HTTP status and request ID on a parse error of a 2xx body.
    pub(crate) fn with_response(mut self, response: &HttpResponse) -> Self {
        self.status = response.status();
        if self.request_id.is_none() {
            self.request_id = response.header("x-amzn-requestid").map(str::to_owned);
        }
        self
    }

    /// What the error means for the caller.
    pub fn kind(&self) -> AwsErrorKind {
        self.kind
    }

    /// The HTTP status of the response.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// AWS's error code (`AccessDenied`, `Throttling`…), when the body had one.
    pub fn code(&self) -> Option<&str> {
        self.code.as_deref()
    }

    /// AWS's message, or what was wrong with an unreadable body.
    pub fn message(&self) -> Option<&str> {
        self.message.as_deref()
    }

    /// The request ID AWS assigned, for support cases.
    pub fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }

    /// The time in the response's `Date` header.
    pub fn server_time(&self) -> Option<SystemTime> {
        self.server_time
    }

    /// How far AWS's clock is ahead of `local_time` (negative: behind), from the response's
    /// `Date` header. Callers pass the local time at which the response arrived.
    pub fn clock_skew(&self, local_time: SystemTime) -> Option<time::Duration> {
        let server = OffsetDateTime::from(self.server_time?);
        Some(server - OffsetDateTime::from(local_time))
    }

    /// Whether trying the same request again later may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self.kind, AwsErrorKind::Throttled | AwsErrorKind::ServerError | AwsErrorKind::ClockSkew)
    }
}

impl fmt::Display for AwsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            AwsErrorKind::Throttled => "AWS throttled the request; retry more slowly",
            AwsErrorKind::ExpiredCredentials => "the temporary credentials have expired; get new ones",
            AwsErrorKind::BadCredentials => "AWS rejected the credentials (unknown key or wrong secret)",
            AwsErrorKind::ClockSkew => "this machine's clock is too far from AWS's; sync it (NTP)",
            AwsErrorKind::AccessDenied => "the role or user lacks a permission for this call",
            AwsErrorKind::ServerError => "AWS had an internal error; retry",
            AwsErrorKind::NotFound => "AWS says the resource does not exist",
            AwsErrorKind::InvalidInput => "AWS rejected a parameter",
            AwsErrorKind::InvalidResponse => "the response could not be read",
            AwsErrorKind::Other => "AWS returned an error",
        };
        write!(f, "{what} (HTTP {}", self.status)?;
        if let Some(code) = &self.code {
            write!(f, ", {code}")?;
        }
        f.write_str(")")?;
        if let Some(message) = &self.message {
            write!(f, ": {message}")?;
        }
        if let Some(id) = &self.request_id {
            write!(f, " [request ID {id}]")?;
        }
        Ok(())
    }
}

impl fmt::Debug for AwsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AwsError")
            .field("kind", &self.kind)
            .field("status", &self.status)
            .field("code", &self.code)
            .field("message", &self.message)
            .field("request_id", &self.request_id)
            .finish()
    }
}

impl std::error::Error for AwsError {}

/// Code, message and request ID of `<ErrorResponse><Error>…` (IAM, STS) and
/// `<Response><Errors><Error>…` (EC2).
fn xml_error(body: &[u8]) -> (Option<String>, Option<String>, Option<String>) {
    let Ok(doc) = xml::parse(0, body) else { return (None, None, None) };
    let root = doc.root_element();
    let error = xml::find(root, "Error");
    let code =
        error.and_then(|e| xml::text(e, "Code")).map(|c| c.trim().to_owned()).filter(|c| !c.is_empty());
    let message = error.and_then(|e| xml::text(e, "Message"));
    let request_id = xml::text(root, "RequestId").or_else(|| xml::text(root, "RequestID"));
    (code, message, request_id)
}

/// Code and message of a JSON 1.1 error: `{"__type": "prefix#Code", "message": …}`, the code
/// also possibly in the `x-amzn-ErrorType` header, with a `:suffix`.
fn json_error(response: &HttpResponse) -> (Option<String>, Option<String>, Option<String>) {
    /// The fields an error body may carry, whichever spelling the service uses.
    #[derive(serde::Deserialize, Default)]
    #[serde(default)]
    struct WireError {
        #[serde(rename = "__type")]
        kind: Option<String>,
        code: Option<String>,
        #[serde(alias = "Message", alias = "errorMessage")]
        message: Option<String>,
    }
    let body: WireError = serde_json::from_slice(response.body()).unwrap_or_default();
    let raw = body.kind.or(body.code).or_else(|| response.header("x-amzn-errortype").map(str::to_owned));
    let code = raw.map(|raw| {
        let after_hash = raw.rsplit('#').next().unwrap_or(&raw);
        after_hash.split(':').next().unwrap_or(after_hash).trim().to_owned()
    });
    (code.filter(|c| !c.is_empty()), body.message, None)
}

/// The kind of error `code` is. Codes are AWS's across IAM, STS, EC2, CloudTrail and
/// Organizations; the message decides for signature errors that are really clock skew.
fn classify(code: &str, message: &str, status: u16) -> AwsErrorKind {
    use AwsErrorKind::*;
    // AWS says "Signature expired: 20240101T000000Z is now earlier than …" under
    // SignatureDoesNotMatch / InvalidSignatureException when the clock is off by over 5 minutes.
    let lower = message.to_ascii_lowercase();
    // A clock that runs ahead gets "Signature not yet current: … is still later than …".
    if lower.contains("signature expired")
        || lower.contains("signature not yet current")
        || lower.contains("too skewed")
    {
        return ClockSkew;
    }
    match code {
        "Throttling"
        | "ThrottlingException"
        | "ThrottledException"
        | "RequestThrottledException"
        | "RequestLimitExceeded"
        | "TooManyRequestsException"
        | "RequestThrottled"
        | "SlowDown"
        | "PriorRequestNotComplete"
        | "BandwidthLimitExceeded"
        | "EC2ThrottledException" => Throttled,
        "ExpiredToken" | "ExpiredTokenException" | "RequestExpired" | "TokenRefreshRequired" => {
            ExpiredCredentials
        }
        "InvalidClientTokenId"
        | "SignatureDoesNotMatch"
        | "AuthFailure"
        | "InvalidSignatureException"
        | "UnrecognizedClientException"
        | "InvalidAccessKeyId"
        | "IncompleteSignature"
        | "MissingAuthenticationToken"
        | "InvalidToken"
        | "InvalidIdentityToken" => BadCredentials,
        "RequestTimeTooSkewed" | "RequestInTheFuture" => ClockSkew,
        "AccessDenied"
        | "AccessDeniedException"
        | "UnauthorizedOperation"
        | "OptInRequired"
        | "RegionDisabledException"
        | "IDPRejectedClaim"
        | "AWSOrganizationsNotInUseException" => AccessDenied,
        "InternalFailure"
        | "InternalError"
        | "InternalServerError"
        | "ServiceUnavailable"
        | "ServiceUnavailableException"
        | "ServiceFailure"
        | "ServiceException"
        | "Unavailable"
        | "IDPCommunicationError" => ServerError,
        "NoSuchEntity" | "ResourceNotFoundException" | "NotFoundException" => NotFound,
        c if c.ends_with(".NotFound") || c.ends_with("NotFoundException") || c.ends_with("NotFound") => {
            NotFound
        }
        "ValidationError"
        | "ValidationException"
        | "InvalidInput"
        | "InvalidParameterValue"
        | "InvalidParameterCombination"
        | "InvalidParameter"
        | "MissingParameter"
        | "MalformedQueryString"
        | "MalformedPolicyDocument"
        | "PackedPolicyTooLarge"
        | "InvalidAction"
        | "InvalidQueryParameter"
        | "InvalidParameterException"
        | "InvalidInputException"
        | "InvalidNextTokenException"
        | "InvalidLookupAttributesException"
        | "InvalidTimeRangeException"
        | "InvalidMaxResultsException"
        | "InvalidEventCategoryException"
        | "InvalidPaginationToken"
        | "InvalidNextToken" => InvalidInput,
        c if c.starts_with("Invalid") && c.ends_with(".Malformed") => InvalidInput,
        _ => match by_status(status) {
            ServerError => ServerError,
            Throttled => Throttled,
            _ => Other,
        },
    }
}

fn by_status(status: u16) -> AwsErrorKind {
    match status {
        429 => AwsErrorKind::Throttled,
        500..=599 => AwsErrorKind::ServerError,
        _ => AwsErrorKind::InvalidResponse,
    }
}

/// Parses an HTTP `Date` header (`Sun, 06 Nov 1994 08:49:37 GMT`).
fn parse_http_date(value: &str) -> Option<SystemTime> {
    let format = format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    time::PrimitiveDateTime::parse(value.trim(), &format).ok().map(|t| t.assume_utc().into())
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;

    #[test]
    fn a_clock_running_ahead_is_skew_too() {
        let response = HttpResponse::new(
            403,
            vec![("date".into(), "Sun, 22 Nov 2026 20:00:00 GMT".into())],
            b"<ErrorResponse><Error><Code>SignatureDoesNotMatch</Code><Message>Signature not yet current: 20261122T201500Z is still later than 20261122T200500Z (20261122T200000Z + 5 min.)</Message></Error></ErrorResponse>".to_vec(),
        );
        let err = AwsError::from_response(Protocol::Query, &response);
        assert_eq!(err.kind(), AwsErrorKind::ClockSkew);
    }

    #[test]
    fn skew_comes_from_the_date_header() {
        let response = HttpResponse::new(
            403,
            vec![("Date".into(), "Sun, 06 Nov 1994 08:49:37 GMT".into())],
            b"<ErrorResponse><Error><Code>RequestTimeTooSkewed</Code></Error></ErrorResponse>".to_vec(),
        );
        let err = AwsError::from_response(Protocol::Query, &response);
        assert_eq!(err.kind(), AwsErrorKind::ClockSkew);
        let local = UNIX_EPOCH + Duration::from_secs(784_111_777 - 900);
        assert_eq!(err.clock_skew(local), Some(time::Duration::seconds(900)));
    }

    #[test]
    fn json_codes_lose_their_prefix_and_suffix() {
        let response = HttpResponse::new(
            400,
            vec![("x-amzn-RequestId".into(), "rid-1".into())],
            br#"{"__type":"com.amazonaws.cloudtrail.v20131101#ThrottlingException:http://x","message":"Rate exceeded"}"#.to_vec(),
        );
        let err = AwsError::from_response(Protocol::Json, &response);
        assert_eq!(
            (err.kind(), err.code(), err.request_id()),
            (AwsErrorKind::Throttled, Some("ThrottlingException"), Some("rid-1"))
        );
    }
}
