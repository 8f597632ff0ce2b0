//! Access keys as customers paste them: shape checks with messages that say what went wrong,
//! and what a key check (STS GetCallerIdentity) found out about the key.

use trustline_core::aws::sts::CallerIdentity;

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
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
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
