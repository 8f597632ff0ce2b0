//! The error type for everything in `trustline-core` that validates or builds.
//!
//! Every error names the field it is about and says how to fix it, because these messages are
//! shown verbatim to customers in the onboarding wizard, the CLI and the verify API.

use std::fmt;

/// What went wrong, broadly; callers branch on this, people read [`Error`]'s message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A value does not have the shape AWS requires (an 11-digit account ID, a user ARN where a
    /// role ARN belongs, a character STS rejects in an ExternalId…).
    InvalidInput,
    /// A generated document or link would exceed an AWS or browser limit.
    TooLarge,
    /// The caller-supplied random number generator failed.
    Randomness,
    /// A request could not be put together (for example, signing failed).
    Request,
}

/// An error with the field it concerns and a message that says how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    field: &'static str,
    message: String,
}

impl Error {
    /// An input that does not have the shape AWS requires.
    pub fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        Self { kind: ErrorKind::InvalidInput, field, message: message.into() }
    }

    /// A document or link that would exceed a limit.
    pub fn too_large(field: &'static str, message: impl Into<String>) -> Self {
        Self { kind: ErrorKind::TooLarge, field, message: message.into() }
    }

    /// A failure of the caller's random number generator.
    pub fn randomness(message: impl Into<String>) -> Self {
        Self { kind: ErrorKind::Randomness, field: "rng", message: message.into() }
    }

    /// A request that could not be built.
    pub fn request(field: &'static str, message: impl Into<String>) -> Self {
        Self { kind: ErrorKind::Request, field, message: message.into() }
    }

    /// The broad category, for callers that branch on it.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The name of the field or option the error is about (`role_arn`, `external_id`, …).
    pub fn field(&self) -> &'static str {
        self.field
    }

    /// The explanation, without the field name.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The same error reported against another field name, for callers whose users know the
    /// value under a different name (a CLI flag, a JSON property).
    #[must_use]
    pub fn for_field(mut self, field: &'static str) -> Self {
        self.field = field;
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

impl std::error::Error for Error {}

/// Shorthand used across the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Quotes user input for an error message, shortening very long values so a pasted document
/// does not flood the message.
pub(crate) fn quote(input: &str) -> String {
    const MAX: usize = 80;
    if input.chars().count() <= MAX {
        format!("'{input}'")
    } else {
        let head: String = input.chars().take(MAX).collect();
        format!("'{head}…' ({} characters)", input.chars().count())
    }
}

/// Implements `Serialize`/`Deserialize` through `Display`/`FromStr`, so validated types are
/// validated again when they are read from JSON, TOML or a browser.
macro_rules! impl_string_serde {
    ($ty:ty) => {
        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }

        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(
                deserializer: D,
            ) -> std::result::Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(deserializer)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}
pub(crate) use impl_string_serde;
