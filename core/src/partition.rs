//! AWS partitions and regions: which console, DNS suffix and global endpoints apply where.
//!
//! Trustline supports the three public partitions. The isolated (ISO) partitions have no public
//! console or CloudFormation quick-create links, so they are rejected with a clear message.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result, impl_string_serde, quote};

mod regions;

pub use regions::suggest_region;

/// An AWS partition: a group of regions with its own IAM, console and ARN prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Partition {
    /// The commercial regions (`arn:aws:…`).
    #[serde(rename = "aws")]
    Aws,
    /// The China regions (`arn:aws-cn:…`), operated separately.
    #[serde(rename = "aws-cn")]
    AwsCn,
    /// AWS GovCloud (US) (`arn:aws-us-gov:…`).
    #[serde(rename = "aws-us-gov")]
    AwsUsGov,
}

impl Partition {
    /// Every supported partition.
    pub const ALL: [Partition; 3] = [Partition::Aws, Partition::AwsCn, Partition::AwsUsGov];

    /// The ARN prefix of the partition (`aws`, `aws-cn`, `aws-us-gov`).
    pub fn as_str(self) -> &'static str {
        match self {
            Partition::Aws => "aws",
            Partition::AwsCn => "aws-cn",
            Partition::AwsUsGov => "aws-us-gov",
        }
    }

    /// The DNS suffix of service endpoints in the partition.
    pub fn dns_suffix(self) -> &'static str {
        match self {
            Partition::Aws | Partition::AwsUsGov => "amazonaws.com",
            Partition::AwsCn => "amazonaws.com.cn",
        }
    }

    /// The host of the AWS Management Console for a region of this partition.
    pub fn console_host(self, region: &Region) -> String {
        match self {
            Partition::Aws => format!("{region}.console.aws.amazon.com"),
            Partition::AwsCn => format!("{region}.console.amazonaws.cn"),
            // GovCloud's console has a single host for both regions.
            Partition::AwsUsGov => "console.amazonaws-us-gov.com".to_owned(),
        }
    }

    /// The region that hosts the partition's global services (IAM, Organizations) and whose
    /// name goes into their SigV4 credential scope.
    pub fn global_region(self) -> Region {
        let name = match self {
            Partition::Aws => "us-east-1",
            Partition::AwsCn => "cn-north-1",
            Partition::AwsUsGov => "us-gov-west-1",
        };
        Region { name: name.to_owned(), partition: self }
    }

    /// The IAM endpoint of the partition (IAM is global within a partition).
    pub fn iam_endpoint(self) -> &'static str {
        match self {
            Partition::Aws => "https://iam.amazonaws.com",
            Partition::AwsCn => "https://iam.cn-north-1.amazonaws.com.cn",
            Partition::AwsUsGov => "https://iam.us-gov.amazonaws.com",
        }
    }
}

impl fmt::Display for Partition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Partition {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "aws" => Ok(Partition::Aws),
            "aws-cn" => Ok(Partition::AwsCn),
            "aws-us-gov" => Ok(Partition::AwsUsGov),
            other if other.starts_with("aws-iso") => Err(Error::invalid(
                "partition",
                format!(
                    "the isolated partition {} is not supported: it has no public console or quick-create links",
                    quote(other)
                ),
            )),
            other => Err(Error::invalid(
                "partition",
                format!("expected one of aws, aws-cn or aws-us-gov, got {}", quote(other)),
            )),
        }
    }
}

/// A validated AWS region name such as `eu-west-1`, together with its partition.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Region {
    name: String,
    partition: Partition,
}

impl Region {
    /// The region's name, e.g. `eu-west-1`.
    pub fn as_str(&self) -> &str {
        &self.name
    }

    /// The partition the region belongs to.
    pub fn partition(&self) -> Partition {
        self.partition
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

impl FromStr for Region {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        if s.trim() != s {
            return Err(Error::invalid("region", format!("{} has spaces around it; remove them", quote(s))));
        }
        // Shape: <area>[-gov]-<direction>-<number>, e.g. us-east-1, cn-north-1, us-gov-west-1,
        // ap-southeast-4, eusc-de-east-1. Everything lower case.
        let parts: Vec<&str> = s.split('-').collect();
        let well_formed = parts.len() >= 3
            && parts
                .iter()
                .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()))
            && parts[0].bytes().all(|b| b.is_ascii_lowercase())
            && parts[parts.len() - 1].bytes().all(|b| b.is_ascii_digit())
            && s.len() <= 32;
        if !well_formed {
            let hint = if s.bytes().any(|b| b.is_ascii_uppercase()) {
                "; region names are lower case"
            } else if s.chars().last().is_some_and(|c| c.is_ascii_lowercase()) {
                "; that looks like an availability zone, drop the final letter"
            } else {
                ""
            };
            return Err(Error::invalid(
                "region",
                format!("expected a region name such as us-east-1 or eu-west-1, got {}{hint}", quote(s)),
            ));
        }
        let partition = if s.starts_with("cn-") {
            Partition::AwsCn
        } else if s.starts_with("us-gov-") {
            Partition::AwsUsGov
        } else if s.starts_with("us-iso") {
            return Err(Error::invalid(
                "region",
                format!("{} is in an isolated partition, which is not supported", quote(s)),
            ));
        } else {
            Partition::Aws
        };
        Ok(Region { name: s.to_owned(), partition })
    }
}

impl_string_serde!(Region);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_know_their_partition() {
        let cases = [
            ("us-east-1", Partition::Aws),
            ("eu-central-2", Partition::Aws),
            ("cn-northwest-1", Partition::AwsCn),
            ("us-gov-east-1", Partition::AwsUsGov),
        ];
        for (name, partition) in cases {
            let region: Region = name.parse().unwrap();
            assert_eq!(region.partition(), partition, "{name}");
            assert_eq!(region.to_string(), name);
        }
    }

    #[test]
    fn region_errors_explain_the_fix() {
        let err = "eu-west-1a".parse::<Region>().unwrap_err();
        assert!(err.to_string().contains("availability zone"), "{err}");
        let err = "EU-WEST-1".parse::<Region>().unwrap_err();
        assert!(err.to_string().contains("lower case"), "{err}");
        let err = " us-east-1".parse::<Region>().unwrap_err();
        assert!(err.to_string().contains("spaces"), "{err}");
        let err = "us-isob-east-1".parse::<Region>().unwrap_err();
        assert!(err.to_string().contains("isolated"), "{err}");
        assert_eq!(err.field(), "region");
    }

    #[test]
    fn global_endpoints_per_partition() {
        assert_eq!(Partition::AwsCn.global_region().as_str(), "cn-north-1");
        assert_eq!(Partition::AwsUsGov.iam_endpoint(), "https://iam.us-gov.amazonaws.com");
        let region: Region = "us-gov-west-1".parse().unwrap();
        assert_eq!(Partition::AwsUsGov.console_host(&region), "console.amazonaws-us-gov.com");
    }
}
