//! Where each AWS service Trustline talks to lives, per partition and region, and which region
//! goes into the SigV4 credential scope.
//!
//! The hostnames follow botocore's `endpoints.json`: IAM and Organizations are global within a
//! partition (one endpoint, signed for a fixed region), STS, EC2 and CloudTrail are regional.
//! Tests, VPC endpoints and proxies replace the URL with an override; the signing region stays.

use std::fmt;

use crate::error::{Error, Result, quote};
use crate::partition::{Partition, Region};

/// An AWS service Trustline calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Service {
    /// AWS Security Token Service (query protocol).
    Sts,
    /// AWS Identity and Access Management (query protocol, global per partition).
    Iam,
    /// Amazon EC2 (EC2 query protocol).
    Ec2,
    /// AWS CloudTrail (JSON 1.1 protocol).
    CloudTrail,
    /// AWS Organizations (JSON 1.1 protocol, global per partition).
    Organizations,
}

impl Service {
    /// Every service, for tables and tests.
    pub const ALL: [Service; 5] =
        [Service::Sts, Service::Iam, Service::Ec2, Service::CloudTrail, Service::Organizations];

    /// The service's name in the SigV4 credential scope and in its hostnames.
    pub fn signing_name(self) -> &'static str {
        match self {
            Service::Sts => "sts",
            Service::Iam => "iam",
            Service::Ec2 => "ec2",
            Service::CloudTrail => "cloudtrail",
            Service::Organizations => "organizations",
        }
    }
}

impl fmt::Display for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.signing_name())
    }
}

/// A resolved endpoint: the base URL requests go to and the region they are signed for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    service: Service,
    url: String,
    signing_region: String,
}

impl Endpoint {
    /// The service this endpoint serves.
    pub fn service(&self) -> Service {
        self.service
    }

    /// The base URL without a trailing slash, e.g. `https://sts.eu-west-1.amazonaws.com`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The region in the SigV4 credential scope.
    pub fn signing_region(&self) -> &str {
        &self.signing_region
    }
}

/// How to reach every service from one region: the region, whether to use FIPS endpoints, and
/// URL overrides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    region: Region,
    fips: bool,
    overrides: Vec<(Option<Service>, String)>,
}

impl Endpoints {
    /// The standard public endpoints for `region` (regional services are called there; global
    /// services at their partition's endpoint).
    pub fn new(region: Region) -> Self {
        Self { region, fips: false, overrides: Vec::new() }
    }

    /// Uses FIPS 140 endpoints. They exist in the `aws` and `aws-us-gov` partitions (where the
    /// GovCloud endpoints are FIPS already), not in `aws-cn`.
    #[must_use]
    pub fn with_fips(mut self, fips: bool) -> Self {
        self.fips = fips;
        self
    }

    /// Sends requests for `service` to `url` instead (a VPC endpoint, a proxy, a test double).
    /// Requests are still signed for the region the service would normally use.
    pub fn with_override(mut self, service: Service, url: &str) -> Result<Self> {
        let url = check_url(url)?;
        self.overrides.retain(|(s, _)| *s != Some(service));
        self.overrides.push((Some(service), url));
        Ok(self)
    }

    /// Sends requests for every service without its own override to `url` (a local AWS
    /// stand-in such as moto).
    pub fn with_override_all(mut self, url: &str) -> Result<Self> {
        let url = check_url(url)?;
        self.overrides.retain(|(s, _)| s.is_some());
        self.overrides.push((None, url));
        Ok(self)
    }

    /// The region requests are made from.
    pub fn region(&self) -> &Region {
        &self.region
    }

    /// The endpoint of `service`.
    pub fn resolve(&self, service: Service) -> Result<Endpoint> {
        let partition = self.region.partition();
        let signing_region = signing_region(service, &self.region);
        let overridden = self
            .overrides
            .iter()
            .find(|(s, _)| *s == Some(service))
            .or_else(|| self.overrides.iter().find(|(s, _)| s.is_none()));
        let url = match overridden {
            Some((_, url)) => url.clone(),
            None => {
                if self.fips && partition == Partition::AwsCn {
                    return Err(Error::invalid(
                        "fips",
                        "AWS has no FIPS endpoints in the China regions; turn FIPS off for aws-cn",
                    ));
                }
                format!("https://{}", hostname(service, &self.region, self.fips))
            }
        };
        Ok(Endpoint { service, url, signing_region })
    }
}

/// The region in the credential scope: fixed per partition for global services.
fn signing_region(service: Service, region: &Region) -> String {
    let partition = region.partition();
    match service {
        Service::Iam => partition.global_region().as_str().to_owned(),
        // Organizations is hosted in cn-northwest-1 in China, unlike IAM (cn-north-1).
        Service::Organizations => match partition {
            Partition::Aws => "us-east-1".to_owned(),
            Partition::AwsCn => "cn-northwest-1".to_owned(),
            Partition::AwsUsGov => "us-gov-west-1".to_owned(),
        },
        Service::Sts | Service::Ec2 | Service::CloudTrail => region.as_str().to_owned(),
    }
}

fn hostname(service: Service, region: &Region, fips: bool) -> String {
    let partition = region.partition();
    let suffix = partition.dns_suffix();
    let name = service.signing_name();
    match (service, partition) {
        (Service::Iam, Partition::Aws) if fips => "iam-fips.amazonaws.com".to_owned(),
        (Service::Iam, _) => partition.iam_endpoint().trim_start_matches("https://").to_owned(),
        (Service::Organizations, _) => {
            let fips = if fips && partition == Partition::Aws { "-fips" } else { "" };
            format!("organizations{fips}.{}.{suffix}", signing_region(service, region))
        }
        // GovCloud's regular endpoints are FIPS endpoints; there is no `-fips` host.
        (_, Partition::AwsUsGov) => format!("{name}.{region}.{suffix}"),
        _ if fips => format!("{name}-fips.{region}.{suffix}"),
        _ => format!("{name}.{region}.{suffix}"),
    }
}

fn check_url(url: &str) -> Result<String> {
    const FIELD: &str = "endpoint_url";
    let url = url.trim_end_matches('/');
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://")).ok_or_else(|| {
        Error::invalid(FIELD, format!("must start with https:// or http://, got {}", quote(url)))
    })?;
    if rest.is_empty() || rest.contains(['/', '?', '#', ' ', '@']) {
        return Err(Error::invalid(
            FIELD,
            format!(
                "must be a scheme and host with an optional port only, such as https://vpce-0abc.sts.eu-west-1.vpce.amazonaws.com, got {}",
                quote(url)
            ),
        ));
    }
    Ok(url.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(region: &str, service: Service, fips: bool) -> (String, String) {
        let endpoints = Endpoints::new(region.parse().unwrap()).with_fips(fips);
        let e = endpoints.resolve(service).unwrap();
        (e.url().to_owned(), e.signing_region().to_owned())
    }

    #[test]
    fn endpoints_match_botocore() {
        let cases = [
            ("eu-west-1", Service::Iam, false, "https://iam.amazonaws.com", "us-east-1"),
            ("eu-west-1", Service::Iam, true, "https://iam-fips.amazonaws.com", "us-east-1"),
            ("cn-northwest-1", Service::Iam, false, "https://iam.cn-north-1.amazonaws.com.cn", "cn-north-1"),
            ("us-gov-east-1", Service::Iam, true, "https://iam.us-gov.amazonaws.com", "us-gov-west-1"),
            ("eu-west-1", Service::Sts, false, "https://sts.eu-west-1.amazonaws.com", "eu-west-1"),
            ("us-east-2", Service::Sts, true, "https://sts-fips.us-east-2.amazonaws.com", "us-east-2"),
            ("cn-north-1", Service::Sts, false, "https://sts.cn-north-1.amazonaws.com.cn", "cn-north-1"),
            ("us-gov-east-1", Service::Sts, true, "https://sts.us-gov-east-1.amazonaws.com", "us-gov-east-1"),
            ("ap-south-1", Service::Ec2, false, "https://ec2.ap-south-1.amazonaws.com", "ap-south-1"),
            (
                "us-west-2",
                Service::CloudTrail,
                true,
                "https://cloudtrail-fips.us-west-2.amazonaws.com",
                "us-west-2",
            ),
            (
                "eu-west-1",
                Service::Organizations,
                false,
                "https://organizations.us-east-1.amazonaws.com",
                "us-east-1",
            ),
            (
                "eu-west-1",
                Service::Organizations,
                true,
                "https://organizations-fips.us-east-1.amazonaws.com",
                "us-east-1",
            ),
            (
                "cn-north-1",
                Service::Organizations,
                false,
                "https://organizations.cn-northwest-1.amazonaws.com.cn",
                "cn-northwest-1",
            ),
            (
                "us-gov-east-1",
                Service::Organizations,
                true,
                "https://organizations.us-gov-west-1.amazonaws.com",
                "us-gov-west-1",
            ),
        ];
        for (region, service, fips, url, signing) in cases {
            assert_eq!(
                resolve(region, service, fips),
                (url.to_owned(), signing.to_owned()),
                "{region} {service} {fips}"
            );
        }
    }

    #[test]
    fn overrides_keep_the_signing_region() {
        let endpoints = Endpoints::new("eu-west-1".parse().unwrap())
            .with_override_all("http://127.0.0.1:5000/")
            .unwrap()
            .with_override(Service::Sts, "https://vpce-0abc.sts.eu-west-1.vpce.amazonaws.com")
            .unwrap();
        let iam = endpoints.resolve(Service::Iam).unwrap();
        assert_eq!((iam.url(), iam.signing_region()), ("http://127.0.0.1:5000", "us-east-1"));
        let sts = endpoints.resolve(Service::Sts).unwrap();
        assert_eq!(sts.url(), "https://vpce-0abc.sts.eu-west-1.vpce.amazonaws.com");
        assert_eq!(sts.signing_region(), "eu-west-1");
    }

    #[test]
    fn bad_overrides_and_china_fips_are_refused() {
        let endpoints = Endpoints::new("eu-west-1".parse().unwrap());
        let err = endpoints.clone().with_override_all("localhost:5000").unwrap_err();
        assert!(err.message().contains("https://"), "{err}");
        assert!(endpoints.with_override_all("http://user@host/path").is_err());
        let cn = Endpoints::new("cn-north-1".parse().unwrap()).with_fips(true);
        assert_eq!(cn.resolve(Service::Ec2).unwrap_err().field(), "fips");
    }
}
