//! Access keys as customers paste them: shape checks with messages that say what went wrong,
//! and what a key check (STS GetCallerIdentity) found out about the key.

use trustline_core::aws::sts::{CallerIdentity, GetCallerIdentity};
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

impl From<CallerIdentity> for KeyIdentity {
    fn from(id: CallerIdentity) -> Self {
        KeyIdentity { account_id: id.account.to_string(), arn: id.arn.to_string(), user_id: id.user_id }
    }
}

/// Who a key belongs to, from STS's answer to GetCallerIdentity, or what the customer should do
/// when STS refused it.
pub fn caller_identity(response: &HttpResponse) -> Result<KeyIdentity, String> {
    GetCallerIdentity::parse(response).map(KeyIdentity::from).map_err(|e| match e.code() {
        Some("InvalidClientTokenId") => {
            "AWS does not know this access key ID: check that you copied all of it and that the key is active".into()
        }
        Some("SignatureDoesNotMatch") => {
            "the secret access key does not belong to this access key ID: copy the secret again (it is shown only once; create a new key if you lost it)".into()
        }
        Some("ExpiredToken") => "the key has expired; create a new access key".into(),
        Some(code) => format!("AWS refused the key ({code}): {}", e.message().unwrap_or("no details")),
        None => format!("unexpected answer from AWS STS: {e}"),
    })
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
    fn sts_answers_become_an_identity_or_a_next_step() {
        let ok = HttpResponse::new(
            200,
            Vec::new(),
            br#"<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
<GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:user/vendor-reader</Arn><UserId>AIDAEXAMPLE</UserId>
<Account>123456789012</Account></GetCallerIdentityResult></GetCallerIdentityResponse>"#
                .to_vec(),
        );
        let id = caller_identity(&ok).unwrap();
        assert_eq!((id.account_id.as_str(), id.user_id.as_str()), ("123456789012", "AIDAEXAMPLE"));
        let refused = |code: &str| {
            let body = format!(
                "<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>no</Message></Error></ErrorResponse>"
            );
            caller_identity(&HttpResponse::new(403, Vec::new(), body.into_bytes())).unwrap_err()
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
