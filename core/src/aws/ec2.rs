//! Amazon EC2 inventory: regions, instances and the network around them.
//!
//! EC2 speaks its own query dialect: lists are `<item>`s, pages continue with `NextToken` (no
//! `IsTruncated`: a token means more), and errors are `<Response><Errors><Error>`.

use roxmltree::Node;
use time::OffsetDateTime;

use super::{AwsError, Call, Form, HttpResponse, Operation, Page, parse_query, xml};
use crate::endpoint::Service;
use crate::error::{Error, Result};

mod network;

pub use network::{DescribeNetworkInterfaces, DescribeSecurityGroups, NetworkInterface, Rule, SecurityGroup};

const VERSION: &str = "2016-11-15";

/// `NextToken`, `MaxResults` and filters, shared by the EC2 describe calls.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    next_token: Option<String>,
    max_results: Option<u32>,
    filters: Vec<(String, Vec<String>)>,
}

impl Query {
    /// Continues with `next_token`, the `next_token` of the previous [`Page`].
    pub fn after(next_token: Option<String>) -> Self {
        Self { next_token, ..Self::default() }
    }

    /// The same query (page size, filters), after `next_token`.
    pub(crate) fn continued(&self, next_token: &str) -> Self {
        Self { next_token: Some(next_token.to_owned()), ..self.clone() }
    }

    /// Asks for at most `max_results` per page (5–1000; AWS's minimum is 5 for instances).
    pub fn max_results(mut self, max_results: u32) -> Result<Self> {
        if !(5..=1000).contains(&max_results) {
            return Err(Error::invalid(
                "max_results",
                format!("must be between 5 and 1000, got {max_results}"),
            ));
        }
        self.max_results = Some(max_results);
        Ok(self)
    }

    /// Adds a filter such as `instance-state-name` with the value `running`.
    #[must_use]
    pub fn filter(mut self, name: &str, values: &[&str]) -> Self {
        self.filters.push((name.to_owned(), values.iter().map(|v| (*v).to_owned()).collect()));
        self
    }

    pub(crate) fn form(&self, action: &str) -> Form {
        let mut form = Form::new(action, VERSION);
        for (i, (name, values)) in self.filters.iter().enumerate() {
            form.push(&format!("Filter.{}.Name", i + 1), name);
            for (j, value) in values.iter().enumerate() {
                form.push(&format!("Filter.{}.Value.{}", i + 1, j + 1), value);
            }
        }
        form.push_opt("MaxResults", self.max_results.map(|m| m.to_string()).as_deref());
        form.push_opt("NextToken", self.next_token.as_deref());
        form
    }
}

pub(crate) fn next_token(node: Node<'_, '_>) -> Option<String> {
    xml::text(node, "nextToken").filter(|t| !t.is_empty())
}

/// `None` for an empty element: EC2 sends `<dnsName/>` for an instance without a public name.
pub(crate) fn nonempty(text: Option<String>) -> Option<String> {
    text.filter(|t| !t.is_empty())
}

/// The `cidrBlock`s (or `ipv6CidrBlock`s) of an association set, associated or not.
pub(crate) fn cidrs(node: Node<'_, '_>, set: &str, field: &str) -> Vec<String> {
    xml::items(node, set).filter_map(|a| xml::text(a, field)).collect()
}

/// `blockPublicAccessStates/internetGatewayBlockMode`: `off`, `block-bidirectional` or `block-ingress`.
pub(crate) fn block_public_access(node: Node<'_, '_>) -> Option<String> {
    xml::child(node, "blockPublicAccessStates").and_then(|b| xml::text(b, "internetGatewayBlockMode"))
}

/// Tags of a resource, as (key, value) pairs.
pub(crate) fn tags(node: Node<'_, '_>) -> Vec<(String, String)> {
    xml::items(node, "tagSet")
        .filter_map(|t| Some((xml::text(t, "key")?, xml::text(t, "value").unwrap_or_default())))
        .collect()
}

pub(crate) fn required(node: Node<'_, '_>, name: &str) -> Result<String, AwsError> {
    xml::required(node, name)
}

/// `DescribeRegions`: the regions enabled for the account (`all` adds the disabled opt-in ones).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DescribeRegions {
    /// Include regions the account has not opted into.
    pub all_regions: bool,
}

/// A region and whether the account can use it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegionInfo {
    /// The region's name.
    pub region_name: String,
    /// The EC2 endpoint host.
    pub endpoint: Option<String>,
    /// `opt-in-not-required`, `opted-in` or `not-opted-in`.
    pub opt_in_status: Option<String>,
}

impl Operation for DescribeRegions {
    type Output = Vec<RegionInfo>;

    fn call(&self) -> Result<Call> {
        let mut form = Form::new("DescribeRegions", VERSION);
        if self.all_regions {
            form.push("AllRegions", "true");
        }
        Ok(Call::form(Service::Ec2, form))
    }

    fn parse(response: &HttpResponse) -> Result<Vec<RegionInfo>, AwsError> {
        parse_query(Service::Ec2, "DescribeRegions", response, |node| {
            xml::items(node, "regionInfo")
                .map(|r| {
                    Ok(RegionInfo {
                        region_name: required(r, "regionName")?,
                        endpoint: xml::text(r, "regionEndpoint"),
                        opt_in_status: xml::text(r, "optInStatus"),
                    })
                })
                .collect()
        })
    }
}

/// `DescribeInstances`, flattened from reservations to instances.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DescribeInstances {
    /// Page and filters.
    pub query: Query,
}

/// An EC2 instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instance {
    /// `i-…`.
    pub instance_id: String,
    /// The account that owns the reservation.
    pub owner_id: Option<String>,
    /// `t3.micro`…
    pub instance_type: Option<String>,
    /// `pending`, `running`, `stopped`, `terminated`…
    pub state: Option<String>,
    /// The VPC.
    pub vpc_id: Option<String>,
    /// The subnet.
    pub subnet_id: Option<String>,
    /// The primary private address.
    pub private_ip: Option<String>,
    /// The public address, if any.
    pub public_ip: Option<String>,
    /// The AMI.
    pub image_id: Option<String>,
    /// The instance profile's ARN.
    pub instance_profile_arn: Option<String>,
    /// The security groups' IDs.
    pub security_group_ids: Vec<String>,
    /// When it was last launched.
    pub launch_time: Option<OffsetDateTime>,
    /// The availability zone (`placement`).
    pub availability_zone: Option<String>,
    /// `default`, `dedicated` or `host` (`placement`).
    pub tenancy: Option<String>,
    /// The key pair it was launched with.
    pub key_name: Option<String>,
    /// The billed platform (`Linux/UNIX`, `Windows`, `Red Hat Enterprise Linux`…).
    pub platform_details: Option<String>,
    /// `x86_64`, `arm64`…
    pub architecture: Option<String>,
    /// `spot` or `capacity-block`; absent for on-demand.
    pub instance_lifecycle: Option<String>,
    /// `required` when only IMDSv2 answers, `optional` when IMDSv1 does too (`metadataOptions`).
    pub metadata_http_tokens: Option<String>,
    /// The private DNS name.
    pub private_dns_name: Option<String>,
    /// The public DNS name, if any.
    pub public_dns_name: Option<String>,
    /// The primary IPv6 address, if any.
    pub ipv6_address: Option<String>,
    /// Tags.
    pub tags: Vec<(String, String)>,
}

impl Operation for DescribeInstances {
    type Output = Page<Instance>;

    fn call(&self) -> Result<Call> {
        Ok(Call::form(Service::Ec2, self.query.form("DescribeInstances")))
    }

    fn parse(response: &HttpResponse) -> Result<Page<Instance>, AwsError> {
        parse_query(Service::Ec2, "DescribeInstances", response, |node| {
            let mut items = Vec::new();
            for reservation in xml::items(node, "reservationSet") {
                let owner_id = xml::text(reservation, "ownerId");
                for i in xml::items(reservation, "instancesSet") {
                    items.push(Instance {
                        instance_id: required(i, "instanceId")?,
                        owner_id: owner_id.clone(),
                        instance_type: xml::text(i, "instanceType"),
                        state: xml::child(i, "instanceState").and_then(|s| xml::text(s, "name")),
                        vpc_id: xml::text(i, "vpcId"),
                        subnet_id: xml::text(i, "subnetId"),
                        private_ip: xml::text(i, "privateIpAddress"),
                        public_ip: xml::text(i, "ipAddress"),
                        image_id: xml::text(i, "imageId"),
                        instance_profile_arn: xml::child(i, "iamInstanceProfile")
                            .and_then(|p| xml::text(p, "arn")),
                        security_group_ids: xml::items(i, "groupSet")
                            .filter_map(|g| xml::text(g, "groupId"))
                            .collect(),
                        launch_time: xml::timestamp(i, "launchTime")?,
                        availability_zone: xml::child(i, "placement")
                            .and_then(|p| xml::text(p, "availabilityZone")),
                        tenancy: xml::child(i, "placement").and_then(|p| xml::text(p, "tenancy")),
                        key_name: xml::text(i, "keyName"),
                        platform_details: xml::text(i, "platformDetails"),
                        architecture: xml::text(i, "architecture"),
                        instance_lifecycle: xml::text(i, "instanceLifecycle"),
                        metadata_http_tokens: xml::child(i, "metadataOptions")
                            .and_then(|m| xml::text(m, "httpTokens")),
                        private_dns_name: nonempty(xml::text(i, "privateDnsName")),
                        public_dns_name: nonempty(xml::text(i, "dnsName")),
                        ipv6_address: xml::text(i, "ipv6Address"),
                        tags: tags(i),
                    });
                }
            }
            Ok(Page { items, next_token: next_token(node) })
        })
    }
}

/// `DescribeVpcs`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DescribeVpcs {
    /// Page and filters.
    pub query: Query,
}

/// A VPC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vpc {
    /// `vpc-…`.
    pub vpc_id: String,
    /// The owning account.
    pub owner_id: Option<String>,
    /// The primary IPv4 CIDR.
    pub cidr_block: Option<String>,
    /// Whether it is the region's default VPC.
    pub is_default: bool,
    /// `pending` or `available`.
    pub state: Option<String>,
    /// Every IPv4 CIDR (`cidrBlockAssociationSet`: the primary and the secondary ones).
    pub cidr_blocks: Vec<String>,
    /// The IPv6 CIDRs.
    pub ipv6_cidr_blocks: Vec<String>,
    /// The DHCP options set.
    pub dhcp_options_id: Option<String>,
    /// `default`, `dedicated` or `host`.
    pub instance_tenancy: Option<String>,
    /// VPC Block Public Access's mode for it (`off`, `block-bidirectional`, `block-ingress`).
    pub block_public_access: Option<String>,
    /// Tags.
    pub tags: Vec<(String, String)>,
}

impl Operation for DescribeVpcs {
    type Output = Page<Vpc>;

    fn call(&self) -> Result<Call> {
        Ok(Call::form(Service::Ec2, self.query.form("DescribeVpcs")))
    }

    fn parse(response: &HttpResponse) -> Result<Page<Vpc>, AwsError> {
        parse_query(Service::Ec2, "DescribeVpcs", response, |node| {
            let items = xml::items(node, "vpcSet")
                .map(|v| {
                    Ok(Vpc {
                        vpc_id: required(v, "vpcId")?,
                        owner_id: xml::text(v, "ownerId"),
                        cidr_block: xml::text(v, "cidrBlock"),
                        is_default: xml::flag(v, "isDefault"),
                        state: xml::text(v, "state"),
                        cidr_blocks: cidrs(v, "cidrBlockAssociationSet", "cidrBlock"),
                        ipv6_cidr_blocks: cidrs(v, "ipv6CidrBlockAssociationSet", "ipv6CidrBlock"),
                        dhcp_options_id: xml::text(v, "dhcpOptionsId"),
                        instance_tenancy: xml::text(v, "instanceTenancy"),
                        block_public_access: block_public_access(v),
                        tags: tags(v),
                    })
                })
                .collect::<Result<_, AwsError>>()?;
            Ok(Page { items, next_token: next_token(node) })
        })
    }
}

/// `DescribeSubnets`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DescribeSubnets {
    /// Page and filters.
    pub query: Query,
}

/// A subnet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subnet {
    /// `subnet-…`.
    pub subnet_id: String,
    /// The VPC.
    pub vpc_id: Option<String>,
    /// The IPv4 CIDR.
    pub cidr_block: Option<String>,
    /// The availability zone.
    pub availability_zone: Option<String>,
    /// Whether instances get public addresses by default.
    pub map_public_ip_on_launch: bool,
    /// The subnet's ARN.
    pub subnet_arn: Option<String>,
    /// The owning account (another one's for a subnet shared through AWS RAM).
    pub owner_id: Option<String>,
    /// `pending`, `available`, `unavailable`…
    pub state: Option<String>,
    /// The AZ ID (`euw1-az3`), the same zone in every account, unlike the zone's name.
    pub availability_zone_id: Option<String>,
    /// Unused private IPv4 addresses.
    pub available_ip_address_count: Option<u32>,
    /// Whether it is its zone's default subnet.
    pub default_for_az: bool,
    /// Whether new interfaces get an IPv6 address.
    pub assign_ipv6_address_on_creation: bool,
    /// The IPv6 CIDRs.
    pub ipv6_cidr_blocks: Vec<String>,
    /// Whether it is IPv6-only.
    pub ipv6_native: bool,
    /// VPC Block Public Access's mode for it.
    pub block_public_access: Option<String>,
    /// Tags.
    pub tags: Vec<(String, String)>,
}

impl Operation for DescribeSubnets {
    type Output = Page<Subnet>;

    fn call(&self) -> Result<Call> {
        Ok(Call::form(Service::Ec2, self.query.form("DescribeSubnets")))
    }

    fn parse(response: &HttpResponse) -> Result<Page<Subnet>, AwsError> {
        parse_query(Service::Ec2, "DescribeSubnets", response, |node| {
            let items = xml::items(node, "subnetSet")
                .map(|s| {
                    Ok(Subnet {
                        subnet_id: required(s, "subnetId")?,
                        vpc_id: xml::text(s, "vpcId"),
                        cidr_block: xml::text(s, "cidrBlock"),
                        availability_zone: xml::text(s, "availabilityZone"),
                        map_public_ip_on_launch: xml::flag(s, "mapPublicIpOnLaunch"),
                        subnet_arn: xml::text(s, "subnetArn"),
                        owner_id: xml::text(s, "ownerId"),
                        state: xml::text(s, "state"),
                        availability_zone_id: xml::text(s, "availabilityZoneId"),
                        available_ip_address_count: xml::number(s, "availableIpAddressCount"),
                        default_for_az: xml::flag(s, "defaultForAz"),
                        assign_ipv6_address_on_creation: xml::flag(s, "assignIpv6AddressOnCreation"),
                        ipv6_cidr_blocks: cidrs(s, "ipv6CidrBlockAssociationSet", "ipv6CidrBlock"),
                        ipv6_native: xml::flag(s, "ipv6Native"),
                        block_public_access: block_public_access(s),
                        tags: tags(s),
                    })
                })
                .collect::<Result<_, AwsError>>()?;
            Ok(Page { items, next_token: next_token(node) })
        })
    }
}

super::paginated_by_field!(query: DescribeInstances, DescribeVpcs, DescribeSubnets, DescribeSecurityGroups, DescribeNetworkInterfaces);
