//! The wire side: which API a request calls, its parameters, and answers in each service's shape
//! (query XML for STS and IAM, EC2's own XML, JSON 1.1 for CloudTrail and Organizations).

use std::collections::HashMap;

use serde_json::Value;

/// The API families, each with its own rate limits and error shapes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Family {
    Sts,
    Iam,
    Ec2,
    CloudTrail,
    Organizations,
}

impl Family {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Family::Sts => "sts",
            Family::Iam => "iam",
            Family::Ec2 => "ec2",
            Family::CloudTrail => "cloudtrail",
            Family::Organizations => "organizations",
        }
    }

    pub(crate) fn index(self) -> u64 {
        self as u64
    }

    fn xml_namespace(self) -> &'static str {
        match self {
            Family::Sts => "https://sts.amazonaws.com/doc/2011-06-15/",
            _ => "https://iam.amazonaws.com/doc/2010-05-08/",
        }
    }
}

macro_rules! apis {
    ($($api:ident => $family:ident),* $(,)?) => {
        /// The operations the simulator answers.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub(crate) enum Api { $($api,)* }

        impl Api {
            pub(crate) const ALL: &'static [Api] = &[$(Api::$api,)*];

            pub(crate) fn name(self) -> &'static str {
                match self { $(Api::$api => stringify!($api),)* }
            }

            pub(crate) fn family(self) -> Family {
                match self { $(Api::$api => Family::$family,)* }
            }

            pub(crate) fn from_name(name: &str) -> Option<Api> {
                match name { $(stringify!($api) => Some(Api::$api),)* _ => None }
            }
        }
    };
}

apis! {
    AssumeRole => Sts,
    GetCallerIdentity => Sts,
    GetAccountAuthorizationDetails => Iam,
    ListAccessKeys => Iam,
    GenerateCredentialReport => Iam,
    GetCredentialReport => Iam,
    ListUsers => Iam,
    ListRoles => Iam,
    ListGroups => Iam,
    ListPolicies => Iam,
    DescribeRegions => Ec2,
    DescribeInstances => Ec2,
    DescribeVpcs => Ec2,
    DescribeSubnets => Ec2,
    DescribeSecurityGroups => Ec2,
    DescribeNetworkInterfaces => Ec2,
    LookupEvents => CloudTrail,
    ListAccounts => Organizations,
    ListRoots => Organizations,
    ListOrganizationalUnitsForParent => Organizations,
    ListAccountsForParent => Organizations,
    // Last, so that the others keep their indices (pagination tokens are scoped by them).
    GetRole => Iam,
}

impl Api {
    pub(crate) fn index(self) -> usize {
        self as usize
    }

    /// The IAM action a role needs for it (`ec2:DescribeInstances`).
    pub(crate) fn action(self) -> String {
        format!("{}:{}", self.family().as_str(), self.name())
    }
}

/// A request's parameters: a form (query protocols) or a JSON object.
#[derive(Debug)]
pub(crate) enum Params {
    Form(HashMap<String, String>),
    Json(serde_json::Map<String, Value>),
}

impl Params {
    /// An `application/x-www-form-urlencoded` body, as the query protocols send.
    pub(crate) fn form(body: &[u8]) -> Params {
        Params::Form(url::form_urlencoded::parse(body).into_owned().collect())
    }

    /// A string parameter (form field or JSON string).
    pub(crate) fn str(&self, name: &str) -> Option<&str> {
        match self {
            Params::Form(f) => f.get(name).map(String::as_str),
            Params::Json(j) => j.get(name).and_then(Value::as_str),
        }
    }

    /// A numeric parameter; `Err` when present but not a number.
    pub(crate) fn number(&self, name: &str) -> Result<Option<f64>, ()> {
        match self {
            Params::Form(f) => f.get(name).map(|v| v.trim().parse::<f64>().map_err(|_| ())).transpose(),
            Params::Json(j) => match j.get(name) {
                None | Some(Value::Null) => Ok(None),
                Some(v) => v.as_f64().map(Some).ok_or(()),
            },
        }
    }

    /// The pagination token a request carries, whatever the service calls it.
    pub(crate) fn page_token(&self) -> Option<&str> {
        self.str("Marker").or_else(|| self.str("NextToken")).filter(|t| !t.is_empty())
    }

    /// Form fields `prefix.1`, `prefix.2`… in order (IAM's `Filter.member.N`).
    pub(crate) fn members(&self, prefix: &str) -> Vec<String> {
        let mut out = Vec::new();
        for i in 1.. {
            match self.str(&format!("{prefix}.{i}")) {
                Some(v) => out.push(v.to_owned()),
                None => break,
            }
        }
        out
    }
}

/// An answer before it becomes an HTTP response.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) json: bool,
    pub(crate) body: Vec<u8>,
}

impl Reply {
    /// A query-protocol success: `<{Action}Response><{Action}Result>…`.
    pub(crate) fn query(family: Family, action: &str, result: &str, request_id: &str) -> Reply {
        let ns = family.xml_namespace();
        Reply {
            status: 200,
            json: false,
            body: format!(
                "<{action}Response xmlns=\"{ns}\"><{action}Result>{result}</{action}Result><ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata></{action}Response>"
            )
                .into_bytes(),
        }
    }

    /// An EC2 success: `<{Action}Response><requestId>…` with the sets inline.
    pub(crate) fn ec2(action: &str, inner: &str, request_id: &str) -> Reply {
        Reply {
            status: 200,
            json: false,
            body: format!(
                "<{action}Response xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\"><requestId>{request_id}</requestId>{inner}</{action}Response>"
            )
                .into_bytes(),
        }
    }

    pub(crate) fn json(body: impl Into<Vec<u8>>) -> Reply {
        Reply { status: 200, json: true, body: body.into() }
    }

    /// An error in `family`'s shape.
    pub(crate) fn error(family: Family, status: u16, code: &str, message: &str, request_id: &str) -> Reply {
        let message = super::model::xml_escape(message);
        match family {
            Family::Sts | Family::Iam => {
                let kind = if status >= 500 { "Receiver" } else { "Sender" };
                let ns = family.xml_namespace();
                Reply {
                    status,
                    json: false,
                    body: format!(
                        "<ErrorResponse xmlns=\"{ns}\"><Error><Type>{kind}</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>"
                    )
                .into_bytes(),
                }
            }
            Family::Ec2 => Reply {
                status,
                json: false,
                body: format!(
                    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>{code}</Code><Message>{message}</Message></Error></Errors><RequestID>{request_id}</RequestID></Response>"
                )
                .into_bytes(),
            },
            Family::CloudTrail | Family::Organizations => Reply {
                status,
                json: true,
                body: serde_json::json!({ "__type": code, "message": message }).to_string().into_bytes(),
            },
        }
    }

    /// The service's throttling answer (IAM and STS: HTTP 400 XML `Throttling`; EC2: HTTP 503 `RequestLimitExceeded`; JSON services: HTTP 400 `ThrottlingException`, as each service's API reference documents).
    pub(crate) fn throttled(family: Family, request_id: &str) -> Reply {
        match family {
            Family::Sts | Family::Iam => Reply::error(family, 400, "Throttling", "Rate exceeded", request_id),
            Family::Ec2 => {
                Reply::error(family, 503, "RequestLimitExceeded", "Request limit exceeded.", request_id)
            }
            Family::CloudTrail => {
                Reply::error(family, 400, "ThrottlingException", "Rate exceeded", request_id)
            }
            Family::Organizations => Reply::error(
                family,
                400,
                "TooManyRequestsException",
                "You have sent too many requests in too short a period of time.",
                request_id,
            ),
        }
    }

    pub(crate) fn internal_error(family: Family, request_id: &str) -> Reply {
        let code = match family {
            Family::Ec2 => "InternalError",
            Family::Organizations => "ServiceException",
            _ => "InternalFailure",
        };
        Reply::error(family, 500, code, "We encountered an internal error. Please try again.", request_id)
    }

    pub(crate) fn unavailable(family: Family, request_id: &str) -> Reply {
        let code = match family {
            Family::Ec2 => "Unavailable",
            Family::Organizations => "ServiceException",
            _ => "ServiceUnavailable",
        };
        Reply::error(family, 503, code, "The service is unavailable. Please try again shortly.", request_id)
    }

    /// Expired session credentials: `ExpiredToken` (STS, IAM), `RequestExpired` (EC2),
    /// `ExpiredTokenException` (JSON services), as each service's API reference documents.
    pub(crate) fn expired(family: Family, request_id: &str) -> Reply {
        let message = "The security token included in the request is expired";
        match family {
            Family::Sts | Family::Iam => Reply::error(family, 400, "ExpiredToken", message, request_id),
            Family::Ec2 => Reply::error(family, 400, "RequestExpired", "Request has expired.", request_id),
            _ => Reply::error(family, 400, "ExpiredTokenException", message, request_id),
        }
    }

    /// An unknown access key.
    pub(crate) fn unknown_key(family: Family, request_id: &str) -> Reply {
        let message = "The security token included in the request is invalid.";
        match family {
            Family::Sts | Family::Iam => {
                Reply::error(family, 403, "InvalidClientTokenId", message, request_id)
            }
            Family::Ec2 => Reply::error(
                family,
                401,
                "AuthFailure",
                "AWS was not able to validate the provided access credentials",
                request_id,
            ),
            _ => Reply::error(family, 400, "UnrecognizedClientException", message, request_id),
        }
    }

    /// The caller lacks `action` (`AccessDenied`, EC2 `UnauthorizedOperation`, JSON
    /// `AccessDeniedException`).
    pub(crate) fn denied(family: Family, caller_arn: &str, action: &str, request_id: &str) -> Reply {
        let message = format!("User: {caller_arn} is not authorized to perform: {action}");
        match family {
            Family::Sts | Family::Iam => Reply::error(family, 403, "AccessDenied", &message, request_id),
            Family::Ec2 => Reply::error(
                family,
                403,
                "UnauthorizedOperation",
                "You are not authorized to perform this operation.",
                request_id,
            ),
            _ => Reply::error(family, 400, "AccessDeniedException", &message, request_id),
        }
    }

    pub(crate) fn invalid(family: Family, code: &str, message: &str, request_id: &str) -> Reply {
        Reply::error(family, 400, code, message, request_id)
    }

    /// A bad pagination token, in each service's words.
    pub(crate) fn bad_token(family: Family, request_id: &str) -> Reply {
        match family {
            Family::CloudTrail => Reply::invalid(
                family,
                "InvalidNextTokenException",
                "A token that is not valid, or a token that was previously used in a request with different parameters.",
                request_id,
            ),
            Family::Organizations => Reply::invalid(
                family,
                "InvalidInputException",
                "You provided a value that does not match the required pattern.",
                request_id,
            ),
            Family::Ec2 => Reply::invalid(
                family,
                "InvalidPaginationToken",
                "The pagination token is not valid.",
                request_id,
            ),
            _ => Reply::invalid(family, "ValidationError", "Invalid Marker.", request_id),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apis_know_their_family_and_name() {
        assert_eq!(Api::from_name("LookupEvents"), Some(Api::LookupEvents));
        assert_eq!(Api::LookupEvents.family(), Family::CloudTrail);
        assert_eq!(Api::DescribeVpcs.action(), "ec2:DescribeVpcs");
        assert!(Api::ALL.iter().enumerate().all(|(i, a)| a.index() == i));
    }

    #[test]
    fn forms_decode_like_aws() {
        let p = Params::form(b"Action=AssumeRole&RoleArn=arn%3Aaws%3Aiam%3A%3A1%3Arole%2FR&Filter.member.1=User&Filter.member.2=Role&RoleSessionName=a+b%2Bc");
        assert_eq!(p.str("RoleArn"), Some("arn:aws:iam::1:role/R"));
        assert_eq!(p.str("RoleSessionName"), Some("a b+c"), "'+' is a space, '%2B' a plus");
        assert_eq!(p.members("Filter.member"), ["User", "Role"]);
    }
}
