//! Why a call failed, and why credentials could not be had. Both are typed so that a caller can
//! tell, say, an AssumeRole that AWS refused (AccessDenied) from an unreadable secret without
//! inspecting messages.

use trustline_core::aws::{AwsError, AwsErrorKind};

/// Why a call failed for good.
#[derive(Debug)]
pub enum CallError {
    /// AWS answered with an error (after any retries).
    Aws(AwsError),
    /// No answer at all, after retries.
    Transport(String),
    /// Credentials could not be obtained.
    Credentials(CredentialsError),
    /// The request could not be built (a bug or bad configuration).
    Build(trustline_core::Error),
    /// The answer arrived but could not be kept (the worker ran out of a resource).
    Keep(String),
}

impl CallError {
    /// AWS's error code, when there is one (`AccessDenied`, `Throttling`…), also when AWS
    /// refused the AssumeRole that was to give this call its credentials.
    pub fn code(&self) -> Option<&str> {
        match self {
            CallError::Aws(e) => e.code(),
            CallError::Credentials(e) => e.call_error().and_then(CallError::code),
            _ => None,
        }
    }

    /// The AWS error kind, when AWS answered (this call, or the AssumeRole before it).
    pub fn kind(&self) -> Option<AwsErrorKind> {
        match self {
            CallError::Aws(e) => Some(e.kind()),
            CallError::Credentials(e) => e.call_error().and_then(CallError::kind),
            _ => None,
        }
    }
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CallError::Aws(e) => write!(f, "{e}"),
            CallError::Transport(m) => write!(f, "{m}"),
            CallError::Credentials(e) => write!(f, "getting credentials: {e}"),
            CallError::Build(e) => write!(f, "{e}"),
            CallError::Keep(m) => write!(f, "{m}"),
        }
    }
}

// No `source()`: the Display already carries the inner error's text, and anyhow's `{:#}`
// would print it twice.
impl std::error::Error for CallError {}

/// Why credentials could not be obtained. `from` names the provider, for messages (never a
/// secret).
#[derive(Debug)]
#[non_exhaustive]
pub enum CredentialsError {
    /// AssumeRole failed for good: AWS refused it (AccessDenied when the trust policy or the
    /// ExternalId does not match), or it could not be sent.
    Assume {
        /// The role and what assumed it.
        from: String,
        /// The AssumeRole call's error.
        error: Box<CallError>,
    },
    /// The AWS SDK's default chain found no credentials, or could not refresh them.
    Chain {
        /// The chain.
        from: String,
        /// The SDK's error, with its causes.
        message: String,
    },
    /// A connection's secret access key could not be read (its environment variable, file or
    /// seal key); the message says where it looked, never the value.
    Secret(String),
    /// A role is to be assumed with the worker's own credentials, and it has none.
    NoVendor,
}

impl CredentialsError {
    /// The AWS call behind the failure, when there was one (a refused AssumeRole).
    pub fn call_error(&self) -> Option<&CallError> {
        match self {
            CredentialsError::Assume { error, .. } => Some(error),
            _ => None,
        }
    }
}

impl std::fmt::Display for CredentialsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CredentialsError::Assume { from, error } => write!(f, "credentials from {from}: {error}"),
            CredentialsError::Chain { from, message } => write!(f, "credentials from {from}: {message}"),
            CredentialsError::Secret(message) => f.write_str(message),
            CredentialsError::NoVendor => {
                f.write_str("no vendor credentials were found to assume the role with")
            }
        }
    }
}

impl std::error::Error for CredentialsError {}

#[cfg(test)]
mod tests {
    use trustline_core::aws::{HttpResponse, Operation, sts};

    use super::*;

    #[test]
    fn a_refused_assume_role_keeps_its_aws_code_behind_the_credentials_error() {
        // STS's documented error shape (Query protocol), as AWS answers a trust policy mismatch.
        let body = r#"<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <Error><Type>Sender</Type><Code>AccessDenied</Code><Message>not authorized to perform: sts:AssumeRole</Message></Error>
  <RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId>
</ErrorResponse>"#;
        let Err(refused) = <sts::AssumeRole as Operation>::parse(&HttpResponse::from_body(403, body)) else {
            panic!("a 403 parses as an error");
        };
        let err = CallError::Credentials(CredentialsError::Assume {
            from: "role arn:aws:iam::123456789012:role/r via keys".to_owned(),
            error: Box::new(CallError::Aws(refused)),
        });
        assert_eq!(err.code(), Some("AccessDenied"));
        assert_eq!(err.kind(), Some(AwsErrorKind::AccessDenied));
        let text = err.to_string();
        assert!(
            text.starts_with(
                "getting credentials: credentials from role arn:aws:iam::123456789012:role/r via keys: "
            ),
            "{text}"
        );

        let unreadable =
            CallError::Credentials(CredentialsError::Secret("environment variable X is not set".into()));
        assert_eq!((unreadable.code(), unreadable.kind()), (None, None));
        assert_eq!(unreadable.to_string(), "getting credentials: environment variable X is not set");
    }
}
