//! SigV4 signing of the requests built in [`crate::aws`], with the `aws-sigv4` crate.
//!
//! Signing is a pure function of the request, the credentials, the region, the service and a
//! time the caller passes in (in the browser `SystemTime::now()` panics; use the JS clock).
//! The signature goes into headers, as the AWS SDKs do for POST form and JSON requests.

use std::fmt;
use std::time::SystemTime;

use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;

use crate::aws::HttpRequest;
use crate::error::{Error, Result};
use crate::secret::Credentials;

/// Signs requests with one set of credentials.
///
/// The credentials are converted to the signing crate's form once, not per request.
/// `aws-sigv4`'s `sign` derives the SigV4 signing key itself on every call and offers no way to
/// pass a cached one in (its canonical request is private), so keys are not reused: re-implementing
/// canonicalisation to save four HMACs (~0.3 µs) would be hand-written signing code.
pub struct Signer {
    identity: Identity,
}

impl Signer {
    /// A signer for `credentials`.
    pub fn new(credentials: &Credentials) -> Self {
        let creds = aws_credential_types::Credentials::new(
            credentials.access_key_id(),
            credentials.secret_access_key().expose(),
            credentials.session_token().map(|t| t.expose().to_owned()),
            None,
            "trustline",
        );
        Self { identity: creds.into() }
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
}
