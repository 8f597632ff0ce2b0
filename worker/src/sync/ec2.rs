//! EC2 and network inventory, per region: instances, VPCs, subnets, security groups and
//! network interfaces. Each list is paged to the end before it counts as complete.

use serde_json::json;
use trustline_core::Region;
use trustline_core::aws::ec2::{
    DescribeInstances, DescribeNetworkInterfaces, DescribeRegions, DescribeSecurityGroups, DescribeSubnets,
    DescribeVpcs, Instance, NetworkInterface, Query, SecurityGroup, Subnet, Vpc,
};

use super::Ctx;
use super::paginate::all;
use crate::client::CallError;
use crate::resource::{Resource, ResourceKind, Snapshot, tag_map};
use crate::store::timestamp;

/// Instances per page: AWS's maximum, so large fleets take few calls.
const PAGE_SIZE: u32 = 1000;

fn name_tag(tags: &[(String, String)]) -> Option<String> {
    tags.iter().find(|(k, _)| k == "Name").map(|(_, v)| v.clone())
}

fn tags_of(tags: &[(String, String)]) -> std::collections::BTreeMap<String, String> {
    tag_map(tags.iter().map(|(k, v)| (k.as_str(), v.as_str())))
}

/// The first page's query: AWS's largest page.
fn first() -> Result<Query, CallError> {
    Query::after(None).max_results(PAGE_SIZE).map_err(CallError::Build)
}

/// The account's enabled regions (opted-in or not requiring opt-in).
pub(super) async fn regions(ctx: &Ctx<'_>) -> Result<Vec<Region>, CallError> {
    let list = ctx.call(&DescribeRegions { all_regions: false }, ctx.home_region()).await?;
    Ok(list.into_iter().filter_map(|r| r.region_name.parse().ok()).collect())
}

/// Reads one region's EC2 and network inventory into `snapshot`.
pub(super) async fn sync_region(
    ctx: &Ctx<'_>,
    region: &Region,
    snapshot: &mut Snapshot,
) -> Result<(), CallError> {
    let r = region.as_str();
    // The five lists side by side: each is one or two calls, so the region takes one round trip
    // rather than five, within the region's EC2 bucket (the client paces each call). Each runs to
    // its end, so every action AWS denies is noted for the posture, not only the first.
    let (instances, vpcs, subnets, groups, interfaces) = futures::join!(
        all(DescribeInstances { query: first()? }, |op| async move { ctx.call(&op, region).await }),
        all(DescribeVpcs { query: first()? }, |op| async move { ctx.call(&op, region).await }),
        all(DescribeSubnets { query: first()? }, |op| async move { ctx.call(&op, region).await }),
        all(DescribeSecurityGroups { query: first()? }, |op| async move { ctx.call(&op, region).await }),
        all(DescribeNetworkInterfaces { query: first()? }, |op| async move { ctx.call(&op, region).await }),
    );
    let (instances, vpcs, subnets, groups, interfaces) = (instances?, vpcs?, subnets?, groups?, interfaces?);
    *snapshot = region_part(r, &Lists { instances, vpcs, subnets, groups, interfaces });
    Ok(())
}

/// One region's EC2 and network lists, read to the end.
#[derive(Debug, Default)]
pub struct Lists {
    /// DescribeInstances.
    pub instances: Vec<Instance>,
    /// DescribeVpcs.
    pub vpcs: Vec<Vpc>,
    /// DescribeSubnets.
    pub subnets: Vec<Subnet>,
    /// DescribeSecurityGroups.
    pub groups: Vec<SecurityGroup>,
    /// DescribeNetworkInterfaces.
    pub interfaces: Vec<NetworkInterface>,
}

/// A region's lists as inventory.
pub fn region_part(r: &str, lists: &Lists) -> Snapshot {
    let Lists { instances, vpcs, subnets, groups, interfaces } = lists;
    let mut snapshot = Snapshot::default();
    let resource = |kind, id: &str, name, tags, attributes| Resource {
        region: r.to_owned(),
        kind,
        id: id.to_owned(),
        name,
        arn: None,
        tags,
        attributes,
    };
    snapshot.add_complete(
        r,
        ResourceKind::Ec2Instance,
        instances
            .iter()
            .map(|i| {
                resource(
                    ResourceKind::Ec2Instance,
                    &i.instance_id,
                    name_tag(&i.tags),
                    tags_of(&i.tags),
                    json!({
                        "owner_id": i.owner_id, "instance_type": i.instance_type, "state": i.state, "vpc_id": i.vpc_id, "subnet_id": i.subnet_id,
                        "private_ip": i.private_ip, "public_ip": i.public_ip, "image_id": i.image_id,
                        "instance_profile_arn": i.instance_profile_arn, "security_group_ids": i.security_group_ids,
                        "launch_time": i.launch_time.map(timestamp),
                        "availability_zone": i.availability_zone, "tenancy": i.tenancy, "key_name": i.key_name,
                        "platform_details": i.platform_details, "architecture": i.architecture,
                        "lifecycle": i.instance_lifecycle, "metadata_http_tokens": i.metadata_http_tokens,
                        "private_dns_name": i.private_dns_name, "public_dns_name": i.public_dns_name,
                        "ipv6_address": i.ipv6_address,
                    }),
                )
            })
            .collect(),
    );
    snapshot.add_complete(
        r,
        ResourceKind::Ec2Vpc,
        vpcs.iter()
            .map(|v| {
                resource(
                    ResourceKind::Ec2Vpc,
                    &v.vpc_id,
                    name_tag(&v.tags),
                    tags_of(&v.tags),
                    json!({
                        "owner_id": v.owner_id, "cidr_block": v.cidr_block, "is_default": v.is_default, "state": v.state,
                        "cidr_blocks": v.cidr_blocks, "ipv6_cidr_blocks": v.ipv6_cidr_blocks,
                        "dhcp_options_id": v.dhcp_options_id, "instance_tenancy": v.instance_tenancy,
                        "block_public_access": v.block_public_access,
                    }),
                )
            })
            .collect(),
    );
    snapshot.add_complete(
        r,
        ResourceKind::Ec2Subnet,
        subnets
            .iter()
            .map(|s| Resource {
                arn: s.subnet_arn.clone(),
                ..resource(
                    ResourceKind::Ec2Subnet,
                    &s.subnet_id,
                    name_tag(&s.tags),
                    tags_of(&s.tags),
                    json!({
                        "vpc_id": s.vpc_id, "cidr_block": s.cidr_block, "availability_zone": s.availability_zone,
                        "map_public_ip_on_launch": s.map_public_ip_on_launch,
                        "owner_id": s.owner_id, "state": s.state, "availability_zone_id": s.availability_zone_id,
                        "available_ip_address_count": s.available_ip_address_count,
                        "default_for_az": s.default_for_az,
                        "assign_ipv6_address_on_creation": s.assign_ipv6_address_on_creation,
                        "ipv6_cidr_blocks": s.ipv6_cidr_blocks, "ipv6_native": s.ipv6_native,
                        "block_public_access": s.block_public_access,
                    }),
                )
            })
            .collect(),
    );
    snapshot.add_complete(
        r,
        ResourceKind::Ec2SecurityGroup,
        groups
            .iter()
            .map(|g| {
                let rules = |rules: &[trustline_core::aws::ec2::Rule]| -> Vec<serde_json::Value> {
                    rules
                        .iter()
                        .map(|x| {
                            json!({
                                "protocol": x.protocol, "from": x.from_port, "to": x.to_port, "cidrs": x.cidrs,
                                "groups": x.group_ids, "prefix_lists": x.prefix_list_ids,
                            })
                        })
                        .collect()
                };
                Resource {
                    arn: g.security_group_arn.clone(),
                    ..resource(
                        ResourceKind::Ec2SecurityGroup,
                        &g.group_id,
                        g.group_name.clone(),
                        tags_of(&g.tags),
                        json!({
                            "description": g.description, "vpc_id": g.vpc_id, "owner_id": g.owner_id,
                            "ingress": rules(&g.ingress), "egress": rules(&g.egress),
                        }),
                    )
                }
            })
            .collect(),
    );
    snapshot.add_complete(
        r,
        ResourceKind::Ec2NetworkInterface,
        interfaces
            .iter()
            .map(|n| {
                resource(
                    ResourceKind::Ec2NetworkInterface,
                    &n.network_interface_id,
                    name_tag(&n.tags),
                    tags_of(&n.tags),
                    json!({
                        "type": n.interface_type, "status": n.status, "vpc_id": n.vpc_id, "subnet_id": n.subnet_id,
                        "private_ip": n.private_ip, "public_ip": n.public_ip, "instance_id": n.instance_id,
                        "security_group_ids": n.security_group_ids,
                        "description": n.description, "availability_zone": n.availability_zone,
                        "owner_id": n.owner_id, "mac_address": n.mac_address, "private_dns_name": n.private_dns_name,
                        "private_ips": n.private_ips,
                        "ipv6_addresses": n.ipv6_addresses, "requester_managed": n.requester_managed,
                        "source_dest_check": n.source_dest_check,
                    }),
                )
            })
            .collect(),
    );
    snapshot
}
