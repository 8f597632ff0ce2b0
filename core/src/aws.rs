//! Sans-IO AWS calls: every operation Trustline makes is a type that builds its request and
//! parses its response, side by side in the file of its service.
//!
//! The data path: an operation → [`prepare`] (endpoint and SigV4) → [`HttpRequest`] → the
//! caller's HTTP client → [`HttpResponse`] → [`Operation::parse`]. Nothing here sends anything;
//! the `executor` feature adds a reqwest-based sender (module `exec`).

use std::fmt;
use std::time::SystemTime;

use crate::endpoint::{Endpoints, Service};
use crate::error::Result;
use crate::sign::Signer;

pub mod cloudtrail;
pub mod ec2;
pub mod error;
pub mod iam;
mod json;
pub mod organizations;
pub mod sts;
mod xml;

pub use error::{AwsError, AwsErrorKind};

/// Headers whose values must never be printed.
const SENSITIVE_HEADERS: [&str; 2] = ["x-amz-security-token", "authorization"];

/// An HTTP request ready to send: method, absolute URL, headers and body.
#[derive(Clone, PartialEq, Eq)]
pub struct HttpRequest {
    method: &'static str,
    url: String,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
}

impl HttpRequest {
    /// A POST of a form-encoded body, as the query protocols (STS, IAM, EC2) expect.
    pub fn post_form(url: impl Into<String>, body: Vec<u8>) -> Self {
        Self {
            method: "POST",
            url: url.into(),
            headers: vec![("content-type", "application/x-www-form-urlencoded; charset=utf-8".to_owned())],
            body,
        }
    }

    /// A POST of a JSON 1.1 body with its `X-Amz-Target`, as CloudTrail and Organizations expect.
    pub fn post_json(url: impl Into<String>, target: &str, body: Vec<u8>) -> Self {
        Self {
            method: "POST",
            url: url.into(),
            headers: vec![
                ("content-type", "application/x-amz-json-1.1".to_owned()),
                ("x-amz-target", target.to_owned()),
            ],
            body,
        }
    }

    /// The HTTP method.
    pub fn method(&self) -> &'static str {
        self.method
    }

    /// The absolute URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The headers, names in lower case. `Host` and `Content-Length` are left to the HTTP client.
    pub fn headers(&self) -> impl Iterator<Item = (&str, &str)> {
        self.headers.iter().map(|(k, v)| (*k, v.as_str()))
    }

    /// The value of header `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| *k == name).map(|(_, v)| v.as_str())
    }

    /// The body.
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    pub(crate) fn push_header(&mut self, name: &'static str, value: impl Into<String>) {
        self.headers.push((name, value.into()));
    }

    pub(crate) fn remove_signature(&mut self) {
        self.headers.retain(|(k, _)| !matches!(*k, "authorization" | "x-amz-date" | "x-amz-security-token"));
    }
}

impl fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Bodies can hold secrets (a web identity token) and headers a session token.
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(k, v)| (*k, if SENSITIVE_HEADERS.contains(k) { "** redacted **" } else { v.as_str() }))
            .collect();
        f.debug_struct("HttpRequest")
            .field("method", &self.method)
            .field("url", &self.url)
            .field("headers", &headers)
            .field("body_len", &self.body.len())
            .finish()
    }
}

/// What came back: status, headers and the complete body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl HttpResponse {
    /// A response with its status, headers (any case) and body.
    pub fn new(status: u16, headers: Vec<(String, String)>, body: Vec<u8>) -> Self {
        Self { status, headers, body }
    }

    /// A response with no headers, for tests and fixtures.
    pub fn from_body(status: u16, body: impl Into<Vec<u8>>) -> Self {
        Self { status, headers: Vec::new(), body: body.into() }
    }

    /// The HTTP status code.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The first value of header `name`, compared case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The body.
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// The wire protocol of a service, which decides how requests are encoded and errors parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Protocol {
    /// `awsQuery` (STS, IAM): form bodies, `<ErrorResponse><Error>` errors.
    Query,
    /// `ec2` query: form bodies, `<Response><Errors><Error>` errors.
    Ec2,
    /// `awsJson1_1` (CloudTrail, Organizations).
    Json,
}

impl Service {
    pub(crate) fn protocol(self) -> Protocol {
        match self {
            Service::Sts | Service::Iam => Protocol::Query,
            Service::Ec2 => Protocol::Ec2,
            Service::CloudTrail | Service::Organizations => Protocol::Json,
        }
    }
}

/// An operation's request before it has an endpoint and a signature.
#[derive(Clone, PartialEq, Eq)]
pub struct Call {
    service: Service,
    target: Option<&'static str>,
    body: Vec<u8>,
    anonymous: bool,
}

impl Call {
    pub(crate) fn form(service: Service, form: Form) -> Self {
        Self { service, target: None, body: form.finish().into_bytes(), anonymous: false }
    }

    pub(crate) fn json(service: Service, target: &'static str, body: &serde_json::Value) -> Self {
        Self { service, target: Some(target), body: body.to_string().into_bytes(), anonymous: false }
    }

    /// Marks a call that AWS accepts unsigned (`AssumeRoleWithWebIdentity`).
    pub(crate) fn unsigned(mut self) -> Self {
        self.anonymous = true;
        self
    }

    /// The service called.
    pub fn service(&self) -> Service {
        self.service
    }

    /// The `X-Amz-Target` of JSON calls.
    pub fn target(&self) -> Option<&'static str> {
        self.target
    }

    /// The encoded body.
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// Whether AWS expects this call unsigned.
    pub fn is_anonymous(&self) -> bool {
        self.anonymous
    }

    /// The HTTP request for this call at `url` (the endpoint's base URL), unsigned.
    pub fn to_http(&self, url: &str) -> HttpRequest {
        let url = format!("{}/", url.trim_end_matches('/'));
        match self.target {
            Some(target) => HttpRequest::post_json(url, target, self.body.clone()),
            None => HttpRequest::post_form(url, self.body.clone()),
        }
    }
}

impl fmt::Debug for Call {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Call")
            .field("service", &self.service)
            .field("target", &self.target)
            .field("body_len", &self.body.len())
            .field("anonymous", &self.anonymous)
            .finish()
    }
}

/// One AWS API operation: how to build its request and how to read its response.
pub trait Operation {
    /// What a successful response parses into.
    type Output;

    /// Builds the call; fails only on inputs AWS would reject.
    fn call(&self) -> Result<Call>;

    /// Parses a response (of any status) to this operation.
    fn parse(response: &HttpResponse) -> std::result::Result<Self::Output, AwsError>;
}

/// Builds, addresses and signs `operation`: the request is ready to send.
pub fn prepare<O: Operation>(
    operation: &O,
    endpoints: &Endpoints,
    signer: &Signer,
    time: SystemTime,
) -> Result<HttpRequest> {
    let call = operation.call()?;
    let endpoint = endpoints.resolve(call.service())?;
    let mut request = call.to_http(endpoint.url());
    if !call.is_anonymous() {
        signer.sign(&mut request, call.service().signing_name(), endpoint.signing_region(), time)?;
    }
    Ok(request)
}

/// Fails with the AWS error in a non-2xx response, then runs `parse` on the body of a 2xx one,
/// stamping the status and request ID on any parse error.
pub(crate) fn parse_with<T>(
    service: Service,
    response: &HttpResponse,
    parse: impl FnOnce(&[u8]) -> std::result::Result<T, AwsError>,
) -> std::result::Result<T, AwsError> {
    if !response.is_success() {
        return Err(AwsError::from_response(service.protocol(), response));
    }
    parse(response.body()).map_err(|e| e.with_response(response))
}

/// Parses the XML of a query-protocol response and hands `<{action}Result>` to `read`.
pub(crate) fn parse_query<T>(
    service: Service,
    action: &str,
    response: &HttpResponse,
    read: impl FnOnce(roxmltree::Node<'_, '_>) -> std::result::Result<T, AwsError>,
) -> std::result::Result<T, AwsError> {
    parse_with(service, response, |body| {
        let doc = xml::parse(200, body)?;
        let node = if service == Service::Ec2 {
            let root = doc.root_element();
            if root.tag_name().name() != format!("{action}Response") {
                return Err(AwsError::invalid_response(
                    200,
                    format!("expected a <{action}Response> document, got <{}>", root.tag_name().name()),
                ));
            }
            root
        } else {
            xml::result(&doc, action)?
        };
        read(node)
    })
}

/// A form body for the query protocols, encoded the way the SDKs do (RFC 3986 unreserved
/// characters kept, everything else percent-encoded).
#[derive(Debug)]
pub(crate) struct Form {
    body: String,
}

/// Characters that stay as they are in a form value (RFC 3986 "unreserved").
const FORM_ESCAPE: &percent_encoding::AsciiSet =
    &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

impl Form {
    pub(crate) fn new(action: &str, version: &str) -> Self {
        let mut form = Self { body: String::with_capacity(128) };
        form.push("Action", action);
        form.push("Version", version);
        form
    }

    pub(crate) fn push(&mut self, key: &str, value: &str) {
        use std::fmt::Write as _;
        if !self.body.is_empty() {
            self.body.push('&');
        }
        let _ = write!(
            self.body,
            "{}={}",
            percent_encoding::utf8_percent_encode(key, FORM_ESCAPE),
            percent_encoding::utf8_percent_encode(value, FORM_ESCAPE)
        );
    }

    pub(crate) fn push_opt(&mut self, key: &str, value: Option<&str>) {
        if let Some(value) = value {
            self.push(key, value);
        }
    }

    pub(crate) fn finish(self) -> String {
        self.body
    }
}

/// One page of a paginated list: the items and, when there are more, the token for the next
/// page (`Marker`, `NextToken` or `nextToken`, depending on the service).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    /// The items on this page (possibly none, even when more pages follow).
    pub items: Vec<T>,
    /// The token to pass to the next request; `None` on the last page.
    pub next_token: Option<String>,
}

/// An answer that may be one page of several.
pub trait Continues {
    /// The token that asks for the next page; `None` on the last page.
    fn next_token(&self) -> Option<&str>;
}

impl<T> Continues for Page<T> {
    fn next_token(&self) -> Option<&str> {
        self.next_token.as_deref()
    }
}

/// A list operation AWS answers page by page: how the same request continues after a page.
/// Callers page with one loop (the worker's `paginate`) instead of one per operation.
pub trait Paginated: Operation<Output: Continues> + Clone {
    /// This request, for the page after `token` (the previous answer's `next_token`).
    fn continued(&self, token: &str) -> Self;
}

/// Implements [`Paginated`] for operations whose paging lives in one field with a
/// `continued(&self, token)` of its own.
macro_rules! paginated_by_field {
    ($field:ident: $($op:ty),+ $(,)?) => {
        $(impl $crate::aws::Paginated for $op {
            fn continued(&self, token: &str) -> Self {
                let mut next = self.clone();
                next.$field = self.$field.continued(token);
                next
            }
        })+
    };
}
pub(crate) use paginated_by_field;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_encode_like_the_sdks() {
        let mut form = Form::new("AssumeRole", "2011-06-15");
        form.push("RoleSessionName", "a+b=c,d.e@f-g_h");
        form.push("Policy", "{\"x\": \"é ~*\"}");
        assert_eq!(
            form.finish(),
            "Action=AssumeRole&Version=2011-06-15&RoleSessionName=a%2Bb%3Dc%2Cd.e%40f-g_h\
             &Policy=%7B%22x%22%3A%20%22%C3%A9%20~%2A%22%7D"
        );
    }

    #[test]
    fn paginated_requests_continue_with_the_token_and_keep_their_page_size() {
        fn body<O: Paginated>(op: &O) -> String {
            String::from_utf8(op.continued("tok/1+").call().unwrap().body().to_vec()).unwrap()
        }
        let users = iam::ListUsers { paging: iam::Paging::after(None).max_items(7).unwrap() };
        assert!(
            body(&users).contains("Marker=tok%2F1%2B") && body(&users).contains("MaxItems=7"),
            "{}",
            body(&users)
        );
        let vpcs = ec2::DescribeVpcs { query: ec2::Query::after(None).max_results(9).unwrap() };
        assert!(body(&vpcs).contains("NextToken=tok%2F1%2B") && body(&vpcs).contains("MaxResults=9"));
        let events = cloudtrail::LookupEvents::new(None, None).unwrap().max_results(3).unwrap();
        assert!(
            body(&events).contains(r#""NextToken":"tok/1+""#) && body(&events).contains(r#""MaxResults":3"#)
        );
        let accounts = organizations::ListAccounts {
            paging: organizations::Paging::after(None).max_results(2).unwrap(),
        };
        assert!(
            body(&accounts).contains(r#""NextToken":"tok/1+""#)
                && body(&accounts).contains(r#""MaxResults":2"#)
        );
    }

    #[test]
    fn debug_hides_tokens_and_bodies() {
        let mut request =
            HttpRequest::post_form("https://sts.amazonaws.com/", b"WebIdentityToken=eyJ".to_vec());
        request.push_header("x-amz-security-token", "FwoG");
        let debug = format!("{request:?}");
        assert!(!debug.contains("FwoG") && !debug.contains("eyJ"), "{debug}");
    }
}
