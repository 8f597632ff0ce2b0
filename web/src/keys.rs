//! Access keys as customers paste them: shape checks with messages that say what went wrong,
//! and what a key check (STS GetCallerIdentity) found out about the key.

#[cfg(not(target_arch = "wasm32"))]
use trustline_core::aws::sts::GetCallerIdentity;
#[cfg(not(target_arch = "wasm32"))]
use trustline_core::aws::{HttpResponse, Operation};

/// Checks an access key ID: 20 characters, `AKIA` (long-term) or `ASIA` (temporary) and then
/// upper-case letters and digits.
pub fn check_access_key_id(id: &str) -> Result<(), String> {
    if id.is_empty() {
        return Err("access key ID is empty; it starts with AKIA and is shown when you create the key".into());
    }
    if id.trim() != id {
        return Err("the access key ID has spaces around it; remove them".into());
    }
    if id.len() == 40 && !id.starts_with("AKIA") {
        return Err("this looks like the secret access key; paste it in the secret field, and the key ID (AKIA…) here".into());
    }
    if !(id.starts_with("AKIA") || id.starts_with("ASIA")) {
        return Err(format!(
            "an access key ID starts with AKIA (or ASIA for temporary keys), got '{}…'",
            prefix(id)
        ));
    }
    if id.len() != 20 || !id.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()) {
        return Err(format!(
            "an access key ID is 20 upper-case letters and digits, got {} characters; copy it again from the IAM console",
            id.chars().count()
        ));
    }
    Ok(())
}

/// Checks a secret access key's shape: 40 characters of base64. Error messages never repeat it.
pub fn check_secret(secret: &str) -> Result<(), String> {
    if secret.is_empty() {
        return Err("secret access key is empty; AWS shows it once, when the key is created".into());
    }
    if secret.trim() != secret {
        return Err("the secret access key has spaces around it; remove them".into());
    }
    if secret.starts_with("AKIA") || secret.starts_with("ASIA") {
        return Err("this is the access key ID; paste the secret access key (40 characters) here".into());
    }
    if secret.len() != 40 || !secret.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'/' || b == b'+') {
        return Err(format!(
            "a secret access key is 40 characters of letters, digits, / and +, got {} characters",
            secret.chars().count()
        ));
    }
    Ok(())
}

fn prefix(s: &str) -> String {
    s.chars().take(4).collect()
}

/// Who a key belongs to, as shown to the customer and handed to the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyIdentity {
    /// The account the key belongs to.
    pub account_id: String,
    /// The principal's ARN.
    pub arn: String,
    /// The principal's unique ID.
    pub user_id: String,
}

impl KeyIdentity {
    /// Root keys end in `:root`: they can do anything in the account and cannot be limited by IAM
    /// policies, so the wizard refuses them.
    pub fn is_root(&self) -> bool {
        self.arn.ends_with(":root")
    }

    /// Whether the key belongs to an assumed-role session rather than an IAM user.
    pub fn is_temporary(&self) -> bool {
        self.arn.contains(":assumed-role/")
    }
}

/// What STS answered to GetCallerIdentity. In the browser the answer's XML is read with the
/// browser's own parser (`remote`), so the module carries no XML parser of its own (roxmltree
/// and the timestamp parsing behind core's error reader were 27 KiB of its gzip);
/// natively, and in the tests, with core's parser ([`StsAnswer::from_response`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StsAnswer {
    /// `GetCallerIdentityResult`: who the key belongs to.
    Identity(KeyIdentity),
    /// `ErrorResponse/Error`: AWS's error code and message.
    Refused {
        /// e.g. `InvalidClientTokenId`.
        code: String,
        /// AWS's explanation, if it gave one.
        message: Option<String>,
    },
    /// Neither (a proxy's error page, a cut-off answer): what was wrong with it.
    Unreadable(String),
}

#[cfg(not(target_arch = "wasm32"))]
impl StsAnswer {
    /// Reads STS's answer with core's GetCallerIdentity parser.
    pub fn from_response(response: &HttpResponse) -> Self {
        match GetCallerIdentity::parse(response) {
            Ok(id) => StsAnswer::Identity(KeyIdentity {
                account_id: id.account.to_string(),
                arn: id.arn.to_string(),
                user_id: id.user_id,
            }),
            Err(e) => match e.code() {
                Some(code) => {
                    StsAnswer::Refused { code: code.to_owned(), message: e.message().map(str::to_owned) }
                }
                None => StsAnswer::Unreadable(e.to_string()),
            },
        }
    }
}

/// The key check's outcome: who the key belongs to, or what the customer should do.
pub fn caller_identity(answer: StsAnswer) -> Result<KeyIdentity, String> {
    match answer {
        StsAnswer::Identity(id) => Ok(id),
        StsAnswer::Refused { code, message } => Err(match code.as_str() {
            "InvalidClientTokenId" => {
                "AWS does not know this access key ID: check that you copied all of it and that the key is active".into()
            }
            "SignatureDoesNotMatch" => {
                "the secret access key does not belong to this access key ID: copy the secret again (it is shown only once; create a new key if you lost it)".into()
            }
            "ExpiredToken" => "the key has expired; create a new access key".into(),
            _ => format!("AWS refused the key ({code}): {}", message.as_deref().unwrap_or("no details")),
        }),
        StsAnswer::Unreadable(why) => Err(format!("unexpected answer from AWS STS: {why}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_ids_are_checked_with_helpful_messages() {
        assert!(check_access_key_id("AKIAIOSFODNN7EXAMPLE").is_ok());
        assert!(check_access_key_id("").unwrap_err().contains("empty"));
        assert!(check_access_key_id(" AKIAIOSFODNN7EXAMPLE").unwrap_err().contains("spaces"));
        assert!(check_access_key_id("AKIAIOSFODNN7EXAMPL").unwrap_err().contains("19 characters"));
        assert!(check_access_key_id("XKIAIOSFODNN7EXAMPLE").unwrap_err().contains("starts with AKIA"));
        let swapped = check_access_key_id("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY").unwrap_err();
        assert!(swapped.contains("secret access key"), "{swapped}");
    }

    #[test]
    fn secrets_are_checked_without_echoing_them() {
        let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
        assert!(check_secret(secret).is_ok());
        let err = check_secret(&secret[..39]).unwrap_err();
        assert!(err.contains("39 characters") && !err.contains("wJalr"), "{err}");
        assert!(check_secret("AKIAIOSFODNN7EXAMPLE").unwrap_err().contains("access key ID"));
        assert!(check_secret("").unwrap_err().contains("empty"));
    }

    #[test]
    #[cfg(not(target_arch = "wasm32"))]
    fn sts_answers_become_an_identity_or_a_next_step() {
        let ok = HttpResponse::new(
            200,
            Vec::new(),
            br#"<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
<GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:user/vendor-reader</Arn><UserId>AIDAEXAMPLE</UserId>
<Account>123456789012</Account></GetCallerIdentityResult></GetCallerIdentityResponse>"#
                .to_vec(),
        );
        let id = caller_identity(StsAnswer::from_response(&ok)).unwrap();
        assert_eq!((id.account_id.as_str(), id.user_id.as_str()), ("123456789012", "AIDAEXAMPLE"));
        let refused = |code: &str| {
            let body = format!(
                "<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>no</Message></Error></ErrorResponse>"
            );
            caller_identity(StsAnswer::from_response(&HttpResponse::new(403, Vec::new(), body.into_bytes())))
                .unwrap_err()
        };
        assert!(refused("InvalidClientTokenId").contains("does not know this access key ID"));
        assert!(refused("SignatureDoesNotMatch").contains("copy the secret again"));
        assert!(refused("AccessDenied").contains("AWS refused the key (AccessDenied): no"));
    }

    #[test]
    fn root_keys_are_recognised() {
        let id = |arn: &str| KeyIdentity {
            account_id: "123456789012".into(),
            arn: arn.into(),
            user_id: "x".into(),
        };
        assert!(id("arn:aws:iam::123456789012:root").is_root());
        assert!(!id("arn:aws:iam::123456789012:user/vendor-reader").is_root());
        assert!(id("arn:aws:sts::123456789012:assumed-role/R/s").is_temporary());
    }
}
