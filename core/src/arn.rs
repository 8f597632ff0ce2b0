//! Amazon Resource Names, AWS account IDs and IAM role ARNs, parsed once and valid thereafter.
//!
//! Customers paste these into the wizard, so parsing errors recognise the usual mistakes (a role
//! *name*, a user or instance-profile ARN, an assumed-role session ARN, 11 digits, spaces) and
//! say what to paste instead.

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result, impl_string_serde, quote};
pub use crate::partition::{Partition, Region};

/// A 12-digit AWS account ID.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AccountId([u8; 12]);

impl AccountId {
    /// The ID as its 12 digits.
    pub fn as_str(&self) -> &str {
        // The bytes are ASCII digits by construction.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }

    /// The ARN of the account's root principal (`arn:aws:iam::123456789012:root`), which in a
    /// trust policy means "any principal of this account that its own policies allow".
    pub fn root_arn(&self, partition: Partition) -> String {
        format!("arn:{partition}:iam::{self}:root")
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AccountId {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        const FIELD: &str = "account_id";
        if s.trim() != s {
            return Err(Error::invalid(FIELD, format!("{} has spaces around it; remove them", quote(s))));
        }
        if s.is_empty() {
            return Err(Error::invalid(
                FIELD,
                "account ID is empty; it is the 12 digits shown under your account name in the AWS console",
            ));
        }
        let digits: String = s.chars().filter(|c| c.is_ascii_digit()).collect();
        if s.contains('-') && digits.len() == 12 && s.chars().all(|c| c.is_ascii_digit() || c == '-') {
            return Err(Error::invalid(
                FIELD,
                format!("account ID must be 12 digits without dashes: use {digits} instead of {}", quote(s)),
            ));
        }
        if !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Error::invalid(
                FIELD,
                format!("account ID must contain only digits, got {}", quote(s)),
            ));
        }
        if s.len() != 12 {
            return Err(Error::invalid(
                FIELD,
                format!(
                    "account ID must be 12 digits, got {}: {}{}",
                    s.len(),
                    quote(s),
                    if s.len() < 12 { " (a leading zero may have been dropped)" } else { "" }
                ),
            ));
        }
        let mut bytes = [0u8; 12];
        bytes.copy_from_slice(s.as_bytes());
        Ok(AccountId(bytes))
    }
}

/// A syntactically valid ARN: `arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE`.
///
/// The region and account are kept as text because many ARNs legitimately leave them empty
/// (IAM has no region; S3 buckets have neither) or use `aws` (AWS-managed policies).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Arn {
    partition: Partition,
    service: String,
    region: String,
    account: String,
    resource: String,
}

impl Arn {
    /// The partition, e.g. [`Partition::Aws`].
    pub fn partition(&self) -> Partition {
        self.partition
    }
    /// The service namespace, e.g. `iam`.
    pub fn service(&self) -> &str {
        &self.service
    }
    /// The region, empty for global services.
    pub fn region(&self) -> &str {
        &self.region
    }
    /// The account field, empty or `aws` for some resources.
    pub fn account(&self) -> &str {
        &self.account
    }
    /// Everything after the fifth colon, e.g. `role/path/Name`.
    pub fn resource(&self) -> &str {
        &self.resource
    }
}

impl fmt::Display for Arn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "arn:{}:{}:{}:{}:{}",
            self.partition, self.service, self.region, self.account, self.resource
        )
    }
}

impl FromStr for Arn {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        const FIELD: &str = "arn";
        if s.trim() != s {
            return Err(Error::invalid(FIELD, format!("{} has spaces around it; remove them", quote(s))));
        }
        let mut parts = s.splitn(6, ':');
        let (Some(prefix), Some(partition), Some(service), Some(region), Some(account), Some(resource)) =
            (parts.next(), parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(Error::invalid(
                FIELD,
                format!("expected arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE, got {}", quote(s)),
            ));
        };
        if prefix != "arn" {
            return Err(Error::invalid(FIELD, format!("an ARN starts with 'arn:', got {}", quote(s))));
        }
        let partition: Partition = partition.parse().map_err(|e: Error| e.for_field(FIELD))?;
        if service.is_empty()
            || !service.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(Error::invalid(FIELD, format!("the service part of {} is not valid", quote(s))));
        }
        if resource.is_empty() {
            return Err(Error::invalid(FIELD, format!("{} has no resource part", quote(s))));
        }
        if s.chars().any(char::is_whitespace) {
            return Err(Error::invalid(FIELD, format!("{} contains spaces; an ARN has none", quote(s))));
        }
        Ok(Arn {
            partition,
            service: service.to_owned(),
            region: region.to_owned(),
            account: account.to_owned(),
            resource: resource.to_owned(),
        })
    }
}

impl_string_serde!(Arn);
impl_string_serde!(AccountId);

/// The ARN of an IAM role, e.g. `arn:aws:iam::123456789012:role/integrations/TrustlineReader`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RoleArn {
    partition: Partition,
    account: AccountId,
    /// `/` or `/some/path/`.
    path: String,
    name: String,
}

/// Longest role name IAM accepts.
const ROLE_NAME_MAX: usize = 64;
/// Longest role path IAM accepts.
const ROLE_PATH_MAX: usize = 512;

impl RoleArn {
    /// Builds a role ARN from its parts, validating the name and path as IAM does.
    pub fn new(partition: Partition, account: AccountId, path: &str, name: &str) -> Result<Self> {
        validate_role_name(name)?;
        validate_role_path(path)?;
        Ok(RoleArn { partition, account, path: path.to_owned(), name: name.to_owned() })
    }

    /// The partition the role lives in.
    pub fn partition(&self) -> Partition {
        self.partition
    }
    /// The account that owns the role.
    pub fn account_id(&self) -> AccountId {
        self.account
    }
    /// The role's path, `/` unless the role was created under one.
    pub fn path(&self) -> &str {
        &self.path
    }
    /// The role's name (what `iam get-role --role-name` takes).
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl fmt::Display for RoleArn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "arn:{}:iam::{}:role{}{}", self.partition, self.account, self.path, self.name)
    }
}

impl FromStr for RoleArn {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        const FIELD: &str = "role_arn";
        const EXAMPLE: &str = "arn:aws:iam::123456789012:role/TrustlineReader";
        if s.trim() != s {
            return Err(Error::invalid(FIELD, format!("{} has spaces around it; remove them", quote(s))));
        }
        if s.is_empty() {
            return Err(Error::invalid(
                FIELD,
                format!("role ARN is empty; paste the RoleArn output of the stack, e.g. {EXAMPLE}"),
            ));
        }
        if !s.starts_with("arn:") {
            let looks_like_name = s.len() <= ROLE_NAME_MAX && s.chars().all(is_iam_name_char);
            let message = if looks_like_name {
                format!(
                    "{} is a role name, not a role ARN; paste the full ARN from the role's summary page or the stack's RoleArn output, e.g. {EXAMPLE}",
                    quote(s)
                )
            } else {
                format!("expected a role ARN such as {EXAMPLE}, got {}", quote(s))
            };
            return Err(Error::invalid(FIELD, message));
        }
        let arn: Arn = s.parse().map_err(|e: Error| e.for_field(FIELD))?;
        let (kind, rest) = arn.resource.split_once('/').unwrap_or((arn.resource.as_str(), ""));
        match (arn.service.as_str(), kind) {
            ("iam", "role") => {}
            ("iam", "user") => {
                return Err(Error::invalid(
                    FIELD,
                    format!(
                        "{} is an IAM user ARN, not a role ARN; paste the ARN of the role you created (…:role/NAME)",
                        quote(s)
                    ),
                ));
            }
            ("iam", "instance-profile") => {
                let guess = format!("arn:{}:iam::{}:role/{}", arn.partition, arn.account, rest);
                return Err(Error::invalid(
                    FIELD,
                    format!(
                        "{} is an instance profile ARN, not a role ARN; the role's ARN looks like {} (check the role's summary page)",
                        quote(s),
                        guess
                    ),
                ));
            }
            ("sts", "assumed-role") => {
                let role_name = rest.split('/').next().unwrap_or_default();
                return Err(Error::invalid(
                    FIELD,
                    format!(
                        "{} is a temporary session ARN; the role's own ARN is arn:{}:iam::{}:role/{} (add its path if it has one)",
                        quote(s),
                        arn.partition,
                        arn.account,
                        role_name
                    ),
                ));
            }
            _ => {
                return Err(Error::invalid(
                    FIELD,
                    format!("{} is not an IAM role ARN; expected e.g. {EXAMPLE}", quote(s)),
                ));
            }
        }
        if !arn.region.is_empty() {
            return Err(Error::invalid(
                FIELD,
                format!("{} has a region, but IAM role ARNs have none (…:iam::ACCOUNT:role/NAME)", quote(s)),
            ));
        }
        let account: AccountId = arn.account.parse().map_err(|e: Error| e.for_field(FIELD))?;
        // Everything up to the last slash is the path; the rest is the name.
        let slash = rest.rfind('/');
        let (path, name) = match slash {
            Some(i) => (format!("/{}", &rest[..=i]), &rest[i + 1..]),
            None => ("/".to_owned(), rest),
        };
        validate_role_name(name).map_err(|e| e.for_field(FIELD))?;
        validate_role_path(&path).map_err(|e| e.for_field(FIELD))?;
        Ok(RoleArn { partition: arn.partition, account, path, name: name.to_owned() })
    }
}

impl_string_serde!(RoleArn);

/// Characters IAM allows in user, role and policy names: `[\w+=,.@-]`.
pub(crate) fn is_iam_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '+' | '=' | ',' | '.' | '@' | '-')
}

/// Checks a role name against IAM's rules (1–64 characters of `[\w+=,.@-]`).
pub fn validate_role_name(name: &str) -> Result<()> {
    const FIELD: &str = "role_name";
    if name.is_empty() {
        return Err(Error::invalid(FIELD, "role name is empty"));
    }
    if name.chars().count() > ROLE_NAME_MAX {
        return Err(Error::invalid(
            FIELD,
            format!("role name is {} characters; IAM allows at most {ROLE_NAME_MAX}", name.chars().count()),
        ));
    }
    if let Some(bad) = name.chars().find(|c| !is_iam_name_char(*c)) {
        return Err(Error::invalid(
            FIELD,
            format!("role name {} contains {bad:?}; use letters, digits and + = , . @ _ - only", quote(name)),
        ));
    }
    Ok(())
}

/// Checks an IAM path (`/` or `/a/b/`, printable ASCII, at most 512 characters).
pub fn validate_role_path(path: &str) -> Result<()> {
    const FIELD: &str = "role_path";
    if !path.starts_with('/') || !path.ends_with('/') {
        return Err(Error::invalid(
            FIELD,
            format!("a path starts and ends with '/', e.g. /integrations/, got {}", quote(path)),
        ));
    }
    if path.len() > ROLE_PATH_MAX {
        return Err(Error::invalid(
            FIELD,
            format!("path is {} characters; IAM allows at most {ROLE_PATH_MAX}", path.len()),
        ));
    }
    // `${` is legal in IAM paths but would be read as a substitution inside CloudFormation.
    if path.contains("//") || path.contains("${") || !path.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
        return Err(Error::invalid(
            FIELD,
            format!("path {} has empty segments or characters IAM rejects", quote(path)),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(s: &str) -> String {
        s.parse::<RoleArn>().unwrap_err().to_string()
    }

    #[test]
    fn parses_role_arns_with_and_without_paths() {
        let arn: RoleArn = "arn:aws:iam::123456789012:role/TrustlineReader".parse().unwrap();
        assert_eq!((arn.path(), arn.name()), ("/", "TrustlineReader"));
        assert_eq!(arn.account_id().as_str(), "123456789012");

        let arn: RoleArn = "arn:aws-cn:iam::000000000001:role/a/b/Name".parse().unwrap();
        assert_eq!((arn.path(), arn.name(), arn.partition()), ("/a/b/", "Name", Partition::AwsCn));
        assert_eq!(arn.to_string(), "arn:aws-cn:iam::000000000001:role/a/b/Name");
    }

    #[test]
    fn recognises_the_usual_paste_mistakes() {
        assert!(err("TrustlineReader").contains("is a role name, not a role ARN"));
        assert!(err("arn:aws:iam::123456789012:user/alice").contains("IAM user ARN"));
        assert!(
            err("arn:aws:iam::123456789012:instance-profile/web")
                .contains("arn:aws:iam::123456789012:role/web")
        );
        assert!(
            err("arn:aws:sts::123456789012:assumed-role/Reader/session")
                .contains("arn:aws:iam::123456789012:role/Reader")
        );
        assert!(err("arn:aws:iam::12345678901:role/R").contains("must be 12 digits, got 11"));
        assert!(err(" arn:aws:iam::123456789012:role/R\n").contains("spaces around it"));
        assert!(err("arn:aws:s3:::bucket").contains("not an IAM role ARN"));
        assert!(err("arn:aws:iam::123456789012:role/").contains("role name is empty"));
        assert!(err("arn:aws:iam::123456789012:role/has space").contains("spaces"));
        assert!(err("").contains("empty"));
        assert_eq!("x".parse::<RoleArn>().unwrap_err().field(), "role_arn");
    }

    #[test]
    fn account_id_errors() {
        let e = "12345678901".parse::<AccountId>().unwrap_err().to_string();
        assert_eq!(
            e,
            "account_id: account ID must be 12 digits, got 11: '12345678901' (a leading zero may have been dropped)"
        );
        assert!("1234-5678-9012".parse::<AccountId>().unwrap_err().to_string().contains("use 123456789012"));
        assert!("12345678901a".parse::<AccountId>().is_err());
        assert_eq!("012345678901".parse::<AccountId>().unwrap().to_string(), "012345678901");
    }

    #[test]
    fn generic_arns_keep_every_part() {
        let arn: Arn = "arn:aws:iam::aws:policy/SecurityAudit".parse().unwrap();
        assert_eq!(
            (arn.service(), arn.region(), arn.account(), arn.resource()),
            ("iam", "", "aws", "policy/SecurityAudit")
        );
        let arn: Arn = "arn:aws:ec2:eu-west-1:123456789012:instance/i-0abc:extra".parse().unwrap();
        assert_eq!(arn.resource(), "instance/i-0abc:extra");
        assert!(
            "arn:aws-iso:iam::123456789012:role/x"
                .parse::<Arn>()
                .unwrap_err()
                .to_string()
                .contains("isolated")
        );
    }
}
