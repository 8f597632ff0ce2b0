//! EC2 network inventory: security groups (with their rules) and network interfaces.

use roxmltree::Node;

use super::{Query, next_token, nonempty, required, tags};
use crate::aws::{AwsError, Call, HttpResponse, Operation, Page, parse_query, xml};
use crate::endpoint::Service;
use crate::error::Result;

/// `DescribeSecurityGroups`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DescribeSecurityGroups {
    /// Page and filters.
    pub query: Query,
}

/// A security group and its inbound rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecurityGroup {
    /// `sg-…`.
    pub group_id: String,
    /// The name.
    pub group_name: Option<String>,
    /// The description.
    pub description: Option<String>,
    /// The VPC.
    pub vpc_id: Option<String>,
    /// The owning account.
    pub owner_id: Option<String>,
    /// The group's ARN.
    pub security_group_arn: Option<String>,
    /// Inbound rules.
    pub ingress: Vec<Rule>,
    /// Outbound rules.
    pub egress: Vec<Rule>,
    /// Tags.
    pub tags: Vec<(String, String)>,
}

/// A security group rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// `tcp`, `udp`, `icmp` or `-1` (all).
    pub protocol: String,
    /// First port, when the protocol has ports.
    pub from_port: Option<i32>,
    /// Last port.
    pub to_port: Option<i32>,
    /// IPv4 and IPv6 ranges allowed.
    pub cidrs: Vec<String>,
    /// Security groups allowed.
    pub group_ids: Vec<String>,
    /// Managed prefix lists allowed (`pl-…`, e.g. CloudFront's origin-facing addresses).
    pub prefix_list_ids: Vec<String>,
}

fn rules(node: Node<'_, '_>, list: &str) -> Vec<Rule> {
    xml::items(node, list)
        .map(|p| Rule {
            protocol: xml::text(p, "ipProtocol").unwrap_or_else(|| "-1".to_owned()),
            from_port: xml::number(p, "fromPort"),
            to_port: xml::number(p, "toPort"),
            cidrs: xml::items(p, "ipRanges")
                .filter_map(|r| xml::text(r, "cidrIp"))
                .chain(xml::items(p, "ipv6Ranges").filter_map(|r| xml::text(r, "cidrIpv6")))
                .collect(),
            group_ids: xml::items(p, "groups").filter_map(|g| xml::text(g, "groupId")).collect(),
            prefix_list_ids: xml::items(p, "prefixListIds")
                .filter_map(|l| xml::text(l, "prefixListId"))
                .collect(),
        })
        .collect()
}

impl Operation for DescribeSecurityGroups {
    type Output = Page<SecurityGroup>;

    fn call(&self) -> Result<Call> {
        Ok(Call::form(Service::Ec2, self.query.form("DescribeSecurityGroups")))
    }

    fn parse(response: &HttpResponse) -> Result<Page<SecurityGroup>, AwsError> {
        parse_query(Service::Ec2, "DescribeSecurityGroups", response, |node| {
            let items = xml::items(node, "securityGroupInfo")
                .map(|g| {
                    Ok(SecurityGroup {
                        group_id: required(g, "groupId")?,
                        group_name: xml::text(g, "groupName"),
                        description: xml::text(g, "groupDescription"),
                        vpc_id: xml::text(g, "vpcId"),
                        owner_id: xml::text(g, "ownerId"),
                        security_group_arn: xml::text(g, "securityGroupArn"),
                        ingress: rules(g, "ipPermissions"),
                        egress: rules(g, "ipPermissionsEgress"),
                        tags: tags(g),
                    })
                })
                .collect::<Result<_, AwsError>>()?;
            Ok(Page { items, next_token: next_token(node) })
        })
    }
}

/// `DescribeNetworkInterfaces`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DescribeNetworkInterfaces {
    /// Page and filters.
    pub query: Query,
}

/// An elastic network interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkInterface {
    /// `eni-…`.
    pub network_interface_id: String,
    /// `interface`, `nat_gateway`, `lambda`…
    pub interface_type: Option<String>,
    /// `in-use` or `available`.
    pub status: Option<String>,
    /// The VPC.
    pub vpc_id: Option<String>,
    /// The subnet.
    pub subnet_id: Option<String>,
    /// The primary private address.
    pub private_ip: Option<String>,
    /// The public address associated with it.
    pub public_ip: Option<String>,
    /// The instance it is attached to.
    pub instance_id: Option<String>,
    /// Its security groups.
    pub security_group_ids: Vec<String>,
    /// The description (AWS-created interfaces say what created them, e.g. an ELB or a Lambda function).
    pub description: Option<String>,
    /// The availability zone.
    pub availability_zone: Option<String>,
    /// The owning account.
    pub owner_id: Option<String>,
    /// The MAC address.
    pub mac_address: Option<String>,
    /// The private DNS name.
    pub private_dns_name: Option<String>,
    /// Every private IPv4 address, the primary first as AWS lists it (`privateIpAddressesSet`).
    pub private_ips: Vec<String>,
    /// The IPv6 addresses.
    pub ipv6_addresses: Vec<String>,
    /// Whether an AWS service manages it (a load balancer's, a NAT gateway's…).
    pub requester_managed: bool,
    /// Whether EC2 drops traffic not addressed to it; `false` on NAT instances and appliances.
    pub source_dest_check: Option<bool>,
    /// Tags (DescribeNetworkInterfaces calls the list `tagSet`, as the other calls do).
    pub tags: Vec<(String, String)>,
}

impl Operation for DescribeNetworkInterfaces {
    type Output = Page<NetworkInterface>;

    fn call(&self) -> Result<Call> {
        Ok(Call::form(Service::Ec2, self.query.form("DescribeNetworkInterfaces")))
    }

    fn parse(response: &HttpResponse) -> Result<Page<NetworkInterface>, AwsError> {
        parse_query(Service::Ec2, "DescribeNetworkInterfaces", response, |node| {
            let items = xml::items(node, "networkInterfaceSet")
                .map(|n| {
                    Ok(NetworkInterface {
                        network_interface_id: required(n, "networkInterfaceId")?,
                        interface_type: xml::text(n, "interfaceType"),
                        status: xml::text(n, "status"),
                        vpc_id: xml::text(n, "vpcId"),
                        subnet_id: xml::text(n, "subnetId"),
                        private_ip: xml::text(n, "privateIpAddress"),
                        public_ip: xml::child(n, "association").and_then(|a| xml::text(a, "publicIp")),
                        instance_id: xml::child(n, "attachment").and_then(|a| xml::text(a, "instanceId")),
                        security_group_ids: xml::items(n, "groupSet")
                            .filter_map(|g| xml::text(g, "groupId"))
                            .collect(),
                        description: nonempty(xml::text(n, "description")),
                        availability_zone: xml::text(n, "availabilityZone"),
                        owner_id: xml::text(n, "ownerId"),
                        mac_address: xml::text(n, "macAddress"),
                        private_dns_name: nonempty(xml::text(n, "privateDnsName")),
                        private_ips: xml::items(n, "privateIpAddressesSet")
                            .filter_map(|a| xml::text(a, "privateIpAddress"))
                            .collect(),
                        ipv6_addresses: xml::items(n, "ipv6AddressesSet")
                            .filter_map(|a| xml::text(a, "ipv6Address"))
                            .collect(),
                        requester_managed: xml::flag(n, "requesterManaged"),
                        source_dest_check: xml::text(n, "sourceDestCheck").map(|t| t.trim() == "true"),
                        tags: tags(n),
                    })
                })
                .collect::<Result<_, AwsError>>()?;
            Ok(Page { items, next_token: next_token(node) })
        })
    }
}
