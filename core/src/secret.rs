//! Secrets (secret access keys, session tokens, web identity tokens) and the AWS credentials that
//! hold them.
//!
//! A [`Secret`] never shows its value in `Debug` or `Display` and wipes its memory when dropped, so
//! a credential cannot reach a log line, a panic message or an error by accident.

use std::fmt;

use zeroize::Zeroizing;

/// What `Debug` and `Display` print instead of a secret.
const REDACTED: &str = "** redacted **";

/// A secret string: redacted when printed, zeroized when dropped.
///
/// The value is only reachable through [`Secret::expose`], which makes every place that reads it
/// easy to find.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Zeroizing<String>);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(Zeroizing::new(value.into()))
    }

    /// The secret value. Pass it straight to the code that needs it; never format it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether the secret is the empty string.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self::new(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self::new(value)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

/// AWS credentials: an access key ID, its secret and, for temporary credentials, a session token.
///
/// The access key ID is not a secret (it appears in every signed request and in CloudTrail), so
/// it is printed; the secret key and the session token are not.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    access_key_id: String,
    secret_access_key: Secret,
    session_token: Option<Secret>,
}

impl Credentials {
    /// Long-term credentials (an `AKIA…` access key) or, with a session token, temporary ones
    /// (`ASIA…`, as returned by `AssumeRole`).
    pub fn new(
        access_key_id: impl Into<String>,
        secret_access_key: impl Into<Secret>,
        session_token: Option<Secret>,
    ) -> Self {
        Self {
            access_key_id: access_key_id.into(),
            secret_access_key: secret_access_key.into(),
            session_token,
        }
    }

    /// The access key ID (`AKIA…` or `ASIA…`).
    pub fn access_key_id(&self) -> &str {
        &self.access_key_id
    }

    /// The secret access key.
    pub fn secret_access_key(&self) -> &Secret {
        &self.secret_access_key
    }

    /// The session token of temporary credentials.
    pub fn session_token(&self) -> Option<&Secret> {
        self.session_token.as_ref()
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &self.secret_access_key)
            .field("session_token", &self.session_token)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_print() {
        let creds =
            Credentials::new("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG", Some(Secret::new("FwoGZXIvYXdzEJr")));
        let debug = format!("{creds:?}");
        assert!(debug.contains("AKIDEXAMPLE"), "{debug}");
        assert!(!debug.contains("wJalr") && !debug.contains("FwoGZ"), "{debug}");
        assert_eq!(debug.matches(REDACTED).count(), 2, "{debug}");
        assert_eq!(creds.secret_access_key().to_string(), REDACTED);
        assert_eq!(creds.secret_access_key().expose(), "wJalrXUtnFEMI/K7MDENG");
    }
}
