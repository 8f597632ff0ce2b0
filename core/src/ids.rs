//! Identifiers that appear in policies and StackSets: AWS Organizations IDs, organizational
//! unit and root IDs, VPC endpoint IDs and source CIDR ranges.

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result, impl_string_serde, quote};

fn lower_alnum(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

/// An AWS Organizations ID, `o-` followed by 10–32 lower-case letters or digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OrganizationId(String);

impl FromStr for OrganizationId {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.strip_prefix("o-") {
            Some(rest) if (10..=32).contains(&rest.len()) && lower_alnum(rest) => Ok(Self(s.to_owned())),
            _ => Err(Error::invalid(
                "organization_id",
                format!(
                    "expected an organization ID such as o-a1b2c3d4e5 (Organizations console, Settings), got {}",
                    quote(s)
                ),
            )),
        }
    }
}

/// Where a StackSet deploys: the organization root (`r-…`, every account) or one OU (`ou-…`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DeploymentTarget(String);

impl DeploymentTarget {
    /// Whether this is the organization root, meaning every account.
    pub fn is_root(&self) -> bool {
        self.0.starts_with("r-")
    }
}

impl FromStr for DeploymentTarget {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let ok = if let Some(root) = s.strip_prefix("r-") {
            (4..=32).contains(&root.len()) && lower_alnum(root)
        } else if let Some(ou) = s.strip_prefix("ou-") {
            ou.split_once('-').is_some_and(|(a, b)| {
                (4..=32).contains(&a.len()) && lower_alnum(a) && (8..=32).contains(&b.len()) && lower_alnum(b)
            })
        } else {
            false
        };
        if ok {
            return Ok(Self(s.to_owned()));
        }
        let hint = if s.starts_with("o-") {
            "; that is the organization ID: to deploy everywhere use the root ID (r-…) from the Organizations console"
        } else if s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit()) {
            "; StackSets with service-managed permissions target OUs, not account IDs"
        } else {
            ""
        };
        Err(Error::invalid(
            "organizational_unit_ids",
            format!("expected a root ID (r-ab12) or an OU ID (ou-ab12-cdef3456), got {}{hint}", quote(s)),
        ))
    }
}

/// A VPC endpoint ID (`vpce-` and 8 or 17 hex digits) the vendor's calls come through.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct VpcEndpointId(String);

impl FromStr for VpcEndpointId {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.strip_prefix("vpce-") {
            Some(hex)
                if (8..=17).contains(&hex.len())
                    && hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) =>
            {
                Ok(Self(s.to_owned()))
            }
            _ => Err(Error::invalid(
                "source_vpce",
                format!("expected a VPC endpoint ID such as vpce-0a1b2c3d4e5f67890, got {}", quote(s)),
            )),
        }
    }
}

/// An IPv4 or IPv6 range in CIDR notation for `aws:SourceIp`; a bare address means one host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SourceCidr(ipnet::IpNet);

impl FromStr for SourceCidr {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let net =
            s.parse::<ipnet::IpNet>().or_else(|_| s.parse::<std::net::IpAddr>().map(ipnet::IpNet::from));
        let net = net.map_err(|_| {
            Error::invalid(
                "source_ips",
                format!("expected an IP range such as 203.0.113.0/24 or 2001:db8::/32, got {}", quote(s)),
            )
        })?;
        if net.network() != net.addr() {
            return Err(Error::invalid(
                "source_ips",
                format!("{} has host bits set; did you mean {}?", quote(s), net.trunc()),
            ));
        }
        let private = match net.addr() {
            std::net::IpAddr::V4(a) => a.is_private() || a.is_loopback() || a.is_link_local(),
            std::net::IpAddr::V6(a) => a.is_loopback() || (a.segments()[0] & 0xfe00) == 0xfc00,
        };
        if private {
            // aws:SourceIp only ever sees public addresses; a private range locks the vendor out.
            return Err(Error::invalid(
                "source_ips",
                format!(
                    "{} is a private range; aws:SourceIp sees the vendor's public addresses (use a VPC endpoint condition for private traffic)",
                    quote(s)
                ),
            ));
        }
        Ok(Self(net))
    }
}

macro_rules! display_inner {
    ($($ty:ty),*) => {$(
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }
        impl_string_serde!($ty);
    )*};
}
display_inner!(OrganizationId, DeploymentTarget, VpcEndpointId, SourceCidr);

/// Checks the shape of an IAM user's access key ID: 16–128 characters (IAM API Reference,
/// `AccessKeyMetadata.AccessKeyId`), upper-case letters and digits, starting with `AKIA` (IAM
/// User Guide, "Unique identifier prefixes": `AKIA` is an access key, `ASIA` a temporary one
/// from STS, which expires and works only with its session token).
pub fn check_access_key_id(s: &str) -> Result<()> {
    const FIELD: &str = "access_key_id";
    let shaped =
        (16..=128).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
    if shaped && s.starts_with("AKIA") {
        return Ok(());
    }
    if shaped && s.starts_with("ASIA") {
        return Err(Error::invalid(
            FIELD,
            format!(
                "{} is a temporary key from STS: it expires within hours and needs its session token; give the IAM user's own access key (AKIA…)",
                quote(s)
            ),
        ));
    }
    Err(Error::invalid(
        FIELD,
        format!(
            "expected an IAM user's access key ID, AKIA and upper-case letters and digits, 20 characters today, such as AKIAIOSFODNN7EXAMPLE; got {}",
            quote(s)
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_validate_with_hints() {
        assert!("o-a1b2c3d4e5".parse::<OrganizationId>().is_ok());
        assert!("r-ab12".parse::<DeploymentTarget>().unwrap().is_root());
        assert!("ou-ab12-cdef3456".parse::<DeploymentTarget>().is_ok());
        assert!("o-a1b2c3d4e5".parse::<DeploymentTarget>().unwrap_err().to_string().contains("root ID"));
        assert!(
            "123456789012".parse::<DeploymentTarget>().unwrap_err().to_string().contains("not account IDs")
        );
        assert!("vpce-0a1b2c3d4e5f67890".parse::<VpcEndpointId>().is_ok());
        assert!("vpc-0a1b2c3d".parse::<VpcEndpointId>().is_err());
    }

    #[test]
    fn cidrs_must_be_public_networks() {
        assert_eq!("203.0.113.7".parse::<SourceCidr>().unwrap().to_string(), "203.0.113.7/32");
        assert!("203.0.113.7/24".parse::<SourceCidr>().unwrap_err().to_string().contains("203.0.113.0/24"));
        assert!("10.0.0.0/8".parse::<SourceCidr>().unwrap_err().to_string().contains("private range"));
        assert!("2001:db8::/32".parse::<SourceCidr>().is_ok());
        assert!("nonsense".parse::<SourceCidr>().unwrap_err().to_string().starts_with("source_ips:"));
    }

    #[test]
    fn access_key_ids_are_checked_for_shape() {
        assert!(check_access_key_id("AKIAIOSFODNN7EXAMPLE").is_ok());
        for bad in
            ["not a key", "AKIA", "akiaiosfodnn7example", "AKIAIOSFODNN7EXAMPL!", "AIDAIOSFODNN7EXAMPLE"]
        {
            let err = check_access_key_id(bad).unwrap_err();
            assert_eq!(err.field(), "access_key_id");
            assert!(err.message().contains("AKIAIOSFODNN7EXAMPLE"), "{err}");
        }
        let err = check_access_key_id("ASIAIOSFODNN7EXAMPLE").unwrap_err();
        assert!(err.message().contains("temporary key from STS"), "{err}");
    }
}
