//! SigV4 signing of the requests built in [`crate::aws`].
//!
//! Signing is a pure function of the request, the credentials, the region, the service and a
//! time the caller passes in (in the browser `SystemTime::now()` panics; use the JS clock).
//! The signature goes into headers, as the AWS SDKs do for POST form and JSON requests.
//! Trustline's own requests take a fast path (`canonical`) with cached signing keys; anything
//! else is signed by the `aws-sigv4` crate's `sign`, and tests hold the two to the same output.
//! That general path is the default feature `aws-sigv4-sign`; a build without it (the browser's
//! wizard's wasm module, which signs only GetCallerIdentity: the wizard's size budget) refuses
//! requests outside the fast path's template.

use std::fmt;
use std::time::SystemTime;

#[cfg(feature = "aws-sigv4-sign")]
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
#[cfg(feature = "aws-sigv4-sign")]
use aws_sigv4::sign::v4;
#[cfg(feature = "aws-sigv4-sign")]
use aws_smithy_runtime_api::client::identity::Identity;

use crate::aws::HttpRequest;
use crate::error::{Error, Result};
use crate::secret::Credentials;

mod canonical;

/// Signs requests with one set of credentials.
///
/// Derived signing keys are cached per day, region and service (they depend on nothing else),
/// so a sync that makes thousands of calls derives a handful of keys.
pub struct Signer {
    credentials: Credentials,
    session_token_simple: bool,
    #[cfg(feature = "aws-sigv4-sign")]
    identity: Identity,
    keys: canonical::KeyCache,
}

impl Signer {
    /// A signer for `credentials`.
    pub fn new(credentials: &Credentials) -> Self {
        #[cfg(feature = "aws-sigv4-sign")]
        let creds = aws_credential_types::Credentials::new(
            credentials.access_key_id(),
            credentials.secret_access_key().expose(),
            credentials.session_token().map(|t| t.expose().to_owned()),
            None,
            "trustline",
        );
        Self {
            credentials: credentials.clone(),
            session_token_simple: credentials
                .session_token()
                .is_none_or(|t| canonical::simple_value(t.expose())),
            #[cfg(feature = "aws-sigv4-sign")]
            identity: creds.into(),
            keys: canonical::KeyCache::default(),
        }
    }

    /// Signs `request` for `service` in `region` at `time`, adding `x-amz-date`, `authorization`
    /// and, with temporary credentials, `x-amz-security-token`. Any previous signature headers are
    /// replaced, so a request can be signed again for a retry.
    pub fn sign(
        &self,
        request: &mut HttpRequest,
        service: &str,
        region: &str,
        time: SystemTime,
    ) -> Result<()> {
        request.remove_signature();
        let scope = canonical::Scope {
            access_key_id: self.credentials.access_key_id(),
            secret: self.credentials.secret_access_key().expose(),
            session_token: self.credentials.session_token().map(|t| t.expose()),
            session_token_simple: self.session_token_simple,
            service,
            region,
            time,
        };
        match canonical::sign(request, &scope, &self.keys) {
            Some(signature) => {
                request.push_header("x-amz-date", signature.date_time);
                request.push_header("authorization", signature.authorization);
                if let Some(token) = scope.session_token {
                    request.push_header("x-amz-security-token", token);
                }
                Ok(())
            }
            #[cfg(feature = "aws-sigv4-sign")]
            None => self.sign_with_aws_sigv4(request, service, region, time),
            #[cfg(not(feature = "aws-sigv4-sign"))]
            None => Err(Error::request(
                "signing",
                format!(
                    "cannot sign a request to {}: without trustline-core's feature aws-sigv4-sign only POSTs to / on a lower-case host without the scheme's default port are signed",
                    request.url()
                ),
            )),
        }
    }

    /// Signs `request` entirely with the `aws-sigv4` crate's `sign` (no key cache): the path for
    /// requests outside Trustline's template, and the reference the fast path is tested against.
    #[cfg(feature = "aws-sigv4-sign")]
    pub fn sign_with_aws_sigv4(
        &self,
        request: &mut HttpRequest,
        service: &str,
        region: &str,
        time: SystemTime,
    ) -> Result<()> {
        request.remove_signature();
        let params = v4::SigningParams::builder()
            .identity(&self.identity)
            .region(region)
            .name(service)
            .time(time)
            .settings(SigningSettings::default())
            .build()
            .map_err(|e| Error::request("signing", format!("incomplete signing parameters: {e}")))?
            .into();
        let signable = SignableRequest::new(
            request.method(),
            request.url(),
            request.headers(),
            SignableBody::Bytes(request.body()),
        )
        .map_err(|e| Error::request("url", format!("cannot sign a request to {}: {e}", request.url())))?;
        let (instructions, _signature) = sign(signable, &params)
            .map_err(|e| Error::request("signing", format!("SigV4 signing failed: {e}")))?
            .into_parts();
        let (headers, _params) = instructions.into_parts();
        for header in headers {
            request.push_header(header.name(), header.value());
        }
        Ok(())
    }
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Signer { credentials: ** redacted ** }")
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;
    use crate::secret::Secret;

    /// The credentials and time of AWS's SigV4 documentation example, as a POST form.
    #[test]
    fn signs_a_form_post_like_the_aws_example() {
        let creds = Credentials::new("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", None);
        let mut request = HttpRequest::post_form(
            "https://iam.amazonaws.com/",
            b"Action=ListUsers&Version=2010-05-08".to_vec(),
        );
        // 2015-08-30T12:36:00Z
        let time = UNIX_EPOCH + Duration::from_secs(1_440_938_160);
        Signer::new(&creds).sign(&mut request, "iam", "us-east-1", time).unwrap();
        assert_eq!(request.header("x-amz-date"), Some("20150830T123600Z"));
        // Pinned from botocore's SigV4Auth on the same request (tests/wire checks the rest).
        assert_eq!(
            request.header("authorization"),
            Some(
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, \
                 SignedHeaders=content-type;host;x-amz-date, \
                 Signature=5d76d0de3e0ffe5a7a23cfce21b99d6f4e5060aad86bd9dc7c617f224e5b492a"
            )
        );
        assert!(request.header("x-amz-security-token").is_none());
    }

    #[test]
    fn session_tokens_are_signed_and_resigning_replaces_headers() {
        let creds = Credentials::new("ASIAEXAMPLE", "secret", Some(Secret::new("token/with+odd=chars")));
        let signer = Signer::new(&creds);
        let mut request =
            HttpRequest::post_form("https://sts.eu-west-1.amazonaws.com/", b"Action=X".to_vec());
        signer.sign(&mut request, "sts", "eu-west-1", UNIX_EPOCH + Duration::from_secs(1)).unwrap();
        signer.sign(&mut request, "sts", "eu-west-1", UNIX_EPOCH + Duration::from_secs(2)).unwrap();
        assert_eq!(request.headers().filter(|(k, _)| *k == "authorization").count(), 1);
        assert_eq!(request.header("x-amz-security-token"), Some("token/with+odd=chars"));
        let auth = request.header("authorization").unwrap();
        assert!(auth.contains("SignedHeaders=content-type;host;x-amz-date;x-amz-security-token"), "{auth}");
        assert!(!format!("{signer:?}{request:?}").contains("secret"));
    }

    #[cfg(feature = "aws-sigv4-sign")]
    fn signed_headers(request: &HttpRequest) -> Vec<(String, String)> {
        let mut headers: Vec<_> = request.headers().map(|(k, v)| (k.to_owned(), v.to_owned())).collect();
        headers.sort();
        headers
    }

    #[cfg(feature = "aws-sigv4-sign")]
    proptest::proptest! {
        /// The fast path and `aws-sigv4`'s `sign` agree on every template request.
        #[test]
        fn fast_path_equals_aws_sigv4(
            body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..400),
            token in proptest::option::of("[A-Za-z0-9+/=]{1,120}"),
            region in "[a-z]{2}(-gov)?-[a-z]{4,9}-[1-9]",
            service in proptest::sample::select(vec!["sts", "iam", "ec2", "cloudtrail", "organizations"]),
            secs in 0u64..4_000_000_000,
            json in proptest::prelude::any::<bool>(),
            port in proptest::option::of(1u16..),
        ) {
            let creds = Credentials::new("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", token.map(Secret::new));
            let url = match port {
                Some(port) => format!("http://127.0.0.1:{port}/"),
                None => format!("https://{service}.{region}.amazonaws.com/"),
            };
            let request = if json {
                HttpRequest::post_json(url, "AWSOrganizationsV20161128.ListAccounts", body)
            } else {
                HttpRequest::post_form(url, body)
            };
            let time = UNIX_EPOCH + Duration::from_secs(secs);
            let signer = Signer::new(&creds);
            let scope = canonical::Scope {
                access_key_id: creds.access_key_id(),
                secret: creds.secret_access_key().expose(),
                session_token: creds.session_token().map(|t| t.expose()),
                session_token_simple: true,
                service,
                region: &region,
                time,
            };
            proptest::prop_assert!(canonical::sign(&request, &scope, &signer.keys).is_some() || port == Some(80));
            let (mut fast, mut reference) = (request.clone(), request);
            signer.sign(&mut fast, service, &region, time).unwrap();
            signer.sign_with_aws_sigv4(&mut reference, service, &region, time).unwrap();
            proptest::prop_assert_eq!(signed_headers(&fast), signed_headers(&reference));
        }
    }

    #[cfg(not(feature = "aws-sigv4-sign"))]
    #[test]
    fn other_requests_are_refused_without_the_general_signer() {
        let signer = Signer::new(&Credentials::new("AKIDEXAMPLE", "secret", None));
        let mut request = HttpRequest::post_form("https://iam.amazonaws.com/path", b"Action=X".to_vec());
        let err = signer.sign(&mut request, "iam", "us-east-1", UNIX_EPOCH).unwrap_err();
        assert!(err.to_string().contains("aws-sigv4-sign"), "{err}");
        assert!(request.header("authorization").is_none());
    }

    #[cfg(feature = "aws-sigv4-sign")]
    #[test]
    fn other_requests_fall_back_to_aws_sigv4() {
        let creds = Credentials::new("AKIDEXAMPLE", "secret", None);
        let signer = Signer::new(&creds);
        let time = UNIX_EPOCH + Duration::from_secs(1_440_938_160);
        for url in
            ["https://iam.amazonaws.com/path", "https://iam.amazonaws.com:443/", "https://IAM.amazonaws.com/"]
        {
            let request = HttpRequest::post_form(url, b"Action=ListUsers".to_vec());
            let scope = canonical::Scope {
                access_key_id: "AKIDEXAMPLE",
                secret: "secret",
                session_token: None,
                session_token_simple: true,
                service: "iam",
                region: "us-east-1",
                time,
            };
            assert!(canonical::sign(&request, &scope, &signer.keys).is_none(), "{url}");
            let (mut a, mut b) = (request.clone(), request);
            signer.sign(&mut a, "iam", "us-east-1", time).unwrap();
            signer.sign_with_aws_sigv4(&mut b, "iam", "us-east-1", time).unwrap();
            assert_eq!(signed_headers(&a), signed_headers(&b), "{url}");
        }
    }
}
