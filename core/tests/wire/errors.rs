//! Error bodies of every service family, classified into the kinds callers act on, keeping
//! code, message and request ID; unreadable bodies are errors, never panics.

use std::time::{Duration, UNIX_EPOCH};

use trustline_core::aws::{
    AwsError, AwsErrorKind, HttpResponse, Operation, cloudtrail, ec2, iam, organizations, sts,
};

use crate::parsers::fixture;

fn parse(family: &str, response: &HttpResponse) -> AwsError {
    match family {
        "iam" => iam::ListUsers::parse(response).map(drop),
        "sts" => sts::GetCallerIdentity::parse(response).map(drop),
        "ec2" => ec2::DescribeInstances::parse(response).map(drop),
        "cloudtrail" => cloudtrail::LookupEvents::parse(response).map(drop),
        "organizations" => organizations::ListAccounts::parse(response).map(drop),
        other => panic!("unknown family {other}"),
    }
    .unwrap_err()
}

#[test]
fn every_error_family_is_classified() {
    use AwsErrorKind::*;
    #[rustfmt::skip]
    let cases = [
        ("iam", "iam_throttling.xml", 400, Throttled, Some("Throttling"), Some("rid-iam-throttle")),
        ("iam", "iam_no_such_entity.xml", 404, NotFound, Some("NoSuchEntity"), Some("rid-iam-404")),
        ("iam", "iam_access_denied.xml", 403, AccessDenied, Some("AccessDenied"), Some("rid-iam-403")),
        ("iam", "iam_expired_token.xml", 403, ExpiredCredentials, Some("ExpiredToken"), Some("rid-iam-expired")),
        ("iam", "iam_service_failure.xml", 500, ServerError, Some("ServiceFailure"), Some("rid-iam-500")),
        ("iam", "iam_validation_error.xml", 400, InvalidInput, Some("ValidationError"), Some("rid-iam-400")),
        ("sts", "sts_invalid_client_token_id.xml", 403, BadCredentials, Some("InvalidClientTokenId"), Some("rid-sts-403")),
        ("sts", "sts_signature_expired.xml", 403, ClockSkew, Some("SignatureDoesNotMatch"), Some("rid-sts-skew")),
        ("sts", "sts_request_time_too_skewed.xml", 403, ClockSkew, Some("RequestTimeTooSkewed"), Some("rid-sts-skew2")),
        ("sts", "sts_region_disabled.xml", 403, AccessDenied, Some("RegionDisabledException"), Some("rid-sts-region")),
        ("ec2", "ec2_request_limit_exceeded.xml", 503, Throttled, Some("RequestLimitExceeded"), Some("rid-ec2-503")),
        ("ec2", "ec2_unauthorized_operation.xml", 403, AccessDenied, Some("UnauthorizedOperation"), Some("rid-ec2-403")),
        ("ec2", "ec2_request_expired.xml", 400, ExpiredCredentials, Some("RequestExpired"), Some("rid-ec2-expired")),
        ("ec2", "ec2_invalid_instance_id_not_found.xml", 400, NotFound, Some("InvalidInstanceID.NotFound"), Some("rid-ec2-404")),
        ("ec2", "ec2_auth_failure.xml", 401, BadCredentials, Some("AuthFailure"), Some("rid-ec2-auth")),
        ("ec2", "ec2_internal_error.xml", 500, ServerError, Some("InternalError"), Some("rid-ec2-500")),
        ("ec2", "ec2_invalid_parameter_value.xml", 400, InvalidInput, Some("InvalidParameterValue"), Some("rid-ec2-400")),
        ("cloudtrail", "cloudtrail_throttling.json", 400, Throttled, Some("ThrottlingException"), Some("rid-json")),
        ("cloudtrail", "cloudtrail_expired_token.json", 400, ExpiredCredentials, Some("ExpiredTokenException"), Some("rid-json")),
        ("cloudtrail", "cloudtrail_invalid_lookup_attributes.json", 400, InvalidInput, Some("InvalidLookupAttributesException"), Some("rid-json")),
        ("cloudtrail", "cloudtrail_unrecognized_client.json", 400, BadCredentials, Some("UnrecognizedClientException"), Some("rid-json")),
        ("cloudtrail", "cloudtrail_signature_expired.json", 400, ClockSkew, Some("InvalidSignatureException"), Some("rid-json")),
        ("organizations", "organizations_access_denied.json", 400, AccessDenied, Some("AccessDeniedException"), Some("rid-json")),
        ("organizations", "organizations_not_in_use.json", 400, AccessDenied, Some("AWSOrganizationsNotInUseException"), Some("rid-json")),
        ("organizations", "organizations_too_many_requests.json", 400, Throttled, Some("TooManyRequestsException"), Some("rid-json")),
        ("organizations", "organizations_parent_not_found.json", 400, NotFound, Some("ParentNotFoundException"), Some("rid-json")),
        ("organizations", "organizations_service_exception.json", 500, ServerError, Some("ServiceException"), Some("rid-json")),
        // Not AWS documents at all: an HTML error page, a proxy, truncated success bodies.
        ("cloudtrail", "html_500.html", 500, ServerError, None, Some("rid-json")),
        ("iam", "html_500.html", 500, ServerError, None, Some("rid-json")),
        ("ec2", "proxy_502.html", 502, ServerError, None, Some("rid-json")),
        ("sts", "proxy_502.html", 403, InvalidResponse, None, Some("rid-json")),
        ("iam", "truncated_200.xml", 200, InvalidResponse, None, Some("rid-json")),
        ("cloudtrail", "truncated_200.json", 200, InvalidResponse, None, Some("rid-json")),
        ("organizations", "html_500.html", 200, InvalidResponse, None, Some("rid-json")),
        ("ec2", "truncated_200.json", 200, InvalidResponse, None, Some("rid-json")),
    ];
    for (family, file, status, kind, code, request_id) in cases {
        let body = fixture(&format!("errors/{file}"));
        let response = HttpResponse::new(status, vec![("X-Amzn-RequestId".into(), "rid-json".into())], body);
        let err = parse(family, &response);
        assert_eq!(
            (err.kind(), err.code(), err.request_id(), err.status()),
            (kind, code, request_id, status),
            "{file}: {err}"
        );
        assert!(err.message().is_some_and(|m| !m.is_empty()), "{file}: no message");
    }
}

#[test]
fn empty_and_binary_bodies_are_errors() {
    for body in [&b""[..], b"\xff\xfe\x00garbage", b"null", b"[]", b"<"] {
        for family in ["iam", "sts", "ec2", "cloudtrail", "organizations"] {
            for status in [200, 400, 503] {
                let err = parse(family, &HttpResponse::from_body(status, body));
                assert_ne!(err.kind(), AwsErrorKind::Other, "{family} {status} {body:?}");
            }
        }
    }
}

#[test]
fn clock_skew_is_measured_from_the_date_header() {
    let response = HttpResponse::new(
        403,
        vec![("date".into(), "Sun, 22 Nov 2026 20:00:00 GMT".into())],
        fixture("errors/sts_request_time_too_skewed.xml"),
    );
    let err = sts::GetCallerIdentity::parse(&response).unwrap_err();
    // The local clock is 20 minutes behind AWS's.
    let local = UNIX_EPOCH + Duration::from_secs(1_795_377_600 - 1_200);
    assert_eq!(err.clock_skew(local), Some(time::Duration::minutes(20)));
    assert!(err.is_retryable());
    let text = err.to_string();
    assert!(
        text.contains("clock") && text.contains("RequestTimeTooSkewed") && text.contains("rid-sts-skew2"),
        "{text}"
    );
}
