//! Per kind: each element AWS documents for its items (EC2 API reference "Instance",
//! "Reservation", "Vpc", "Subnet", "SecurityGroup", "IpPermission", "NetworkInterface"; IAM API
//! reference "UserDetail", "GroupDetail", "RoleDetail", "ManagedPolicyDetail",
//! "AccessKeyMetadata"; CloudTrail API reference "Event") and where the store keeps it.

use super::Field::{Dropped, Kept, Partly};
use super::Table;

/// Why Outposts-only elements are dropped.
const OUTPOSTS: &str = "AWS Outposts only (on-premises racks): no use to an inventory of regions";

pub(super) const RESERVATION: Table = &[
    ("instancesSet", Kept("/id")),
    ("ownerId", Kept("/attributes/owner_id")),
    ("reservationId", Dropped("the launch request the instance came from; it names nothing after launch")),
    (
        "requesterId",
        Dropped(
            "the service that launched it for the owner (Auto Scaling…); its aws: tags, kept, name the group",
        ),
    ),
    ("groupSet", Dropped("EC2-Classic's security groups (retired); the instance's own groupSet is kept")),
];

pub(super) const INSTANCE: Table = &[
    ("instanceId", Kept("/id")),
    ("tagSet", Kept("/tags")),
    ("imageId", Kept("/attributes/image_id")),
    ("instanceType", Kept("/attributes/instance_type")),
    ("instanceState", Partly("/attributes/state", "its numeric code repeats the name")),
    ("launchTime", Kept("/attributes/launch_time")),
    ("subnetId", Kept("/attributes/subnet_id")),
    ("vpcId", Kept("/attributes/vpc_id")),
    ("privateIpAddress", Kept("/attributes/private_ip")),
    ("ipAddress", Kept("/attributes/public_ip")),
    ("ipv6Address", Kept("/attributes/ipv6_address")),
    ("privateDnsName", Kept("/attributes/private_dns_name")),
    ("dnsName", Kept("/attributes/public_dns_name")),
    ("keyName", Kept("/attributes/key_name")),
    ("architecture", Kept("/attributes/architecture")),
    ("platformDetails", Kept("/attributes/platform_details")),
    ("instanceLifecycle", Kept("/attributes/lifecycle")),
    (
        "placement",
        Partly(
            "/attributes/availability_zone",
            "tenancy is kept too; placement group, host, partition and AZ ID are capacity planning",
        ),
    ),
    (
        "groupSet",
        Partly("/attributes/security_group_ids", "group names: the groups are inventoried under their ids"),
    ),
    (
        "iamInstanceProfile",
        Partly(
            "/attributes/instance_profile_arn",
            "the profile's id; the role's instance_profiles link the ARN to the role",
        ),
    ),
    (
        "metadataOptions",
        Partly(
            "/attributes/metadata_http_tokens",
            "hop limit, endpoint and tag access: httpTokens decides whether IMDSv1 answers",
        ),
    ),
    ("platform", Dropped("only `windows` or absent; platformDetails, kept, says the same and more")),
    ("usageOperation", Dropped("the billing code (RunInstances:0002) that platformDetails names in words")),
    ("usageOperationUpdateTime", Dropped("when that billing code last changed")),
    ("reason", Dropped("free text about the last state change; the state is kept")),
    ("stateReason", Dropped("code and message of the last state change; the state is kept")),
    ("amiLaunchIndex", Dropped("its position within its launch request")),
    ("productCodes", Dropped("the AMI's Marketplace product codes; the AMI id is kept")),
    ("kernelId", Dropped("paravirtual boot image of older AMIs; the AMI id is kept")),
    ("ramdiskId", Dropped("paravirtual boot image of older AMIs; the AMI id is kept")),
    ("virtualizationType", Dropped("hvm or paravirtual, a property of the AMI")),
    ("hypervisor", Dropped("xen or nitro, implied by the instance type")),
    ("monitoring", Dropped("whether detailed CloudWatch monitoring is on: an operations setting")),
    ("sourceDestCheck", Dropped("the primary interface's setting, kept on that ec2-network-interface")),
    (
        "networkInterfaceSet",
        Dropped("the interfaces are inventoried as ec2-network-interface, each with this instance's id"),
    ),
    ("rootDeviceType", Dropped("ebs or instance-store; volumes are not an inventoried kind")),
    ("rootDeviceName", Dropped("a device name; volumes are not an inventoried kind")),
    ("blockDeviceMapping", Dropped("volume attachments; volumes are not an inventoried kind")),
    ("spotInstanceRequestId", Dropped("the Spot request; lifecycle, kept, says it is Spot")),
    ("clientToken", Dropped("the launch call's idempotency token")),
    ("ebsOptimized", Dropped("a performance setting")),
    ("sriovNetSupport", Dropped("a performance setting (enhanced networking)")),
    ("enaSupport", Dropped("a performance setting (enhanced networking)")),
    ("elasticGpuAssociationSet", Dropped("Elastic Graphics, a retired service")),
    ("elasticInferenceAcceleratorAssociationSet", Dropped("Elastic Inference, a retired service")),
    ("licenseSet", Dropped("License Manager configurations, not inventoried")),
    ("outpostArn", Dropped(OUTPOSTS)),
    ("capacityReservationId", Dropped("capacity reservations are not an inventoried kind")),
    ("capacityReservationSpecification", Dropped("capacity reservations are not an inventoried kind")),
    (
        "capacityBlockId",
        Dropped("capacity blocks are not an inventoried kind; lifecycle says capacity-block"),
    ),
    ("cpuOptions", Dropped("cores and threads, implied by the instance type unless tuned")),
    ("hibernationOptions", Dropped("whether it may hibernate: an operations setting")),
    ("enclaveOptions", Dropped("whether Nitro Enclaves are on: a launch setting")),
    ("bootMode", Dropped("firmware (BIOS or UEFI): a launch setting")),
    ("currentInstanceBootMode", Dropped("firmware (BIOS or UEFI): a launch setting")),
    ("privateDnsNameOptions", Dropped("the form of the private hostname; the name itself is kept")),
    ("maintenanceOptions", Dropped("whether EC2 auto-recovers it: an operations setting")),
    ("networkPerformanceOptions", Dropped("bandwidth weighting: a performance setting")),
    ("operator", Dropped("whether a service provider manages it (EC2 managed instances); rare")),
    ("tpmSupport", Dropped("NitroTPM version: a launch setting")),
];

pub(super) const VPC: Table = &[
    ("vpcId", Kept("/id")),
    ("tagSet", Kept("/tags")),
    ("ownerId", Kept("/attributes/owner_id")),
    ("state", Kept("/attributes/state")),
    ("cidrBlock", Kept("/attributes/cidr_block")),
    ("isDefault", Kept("/attributes/is_default")),
    ("dhcpOptionsId", Kept("/attributes/dhcp_options_id")),
    ("instanceTenancy", Kept("/attributes/instance_tenancy")),
    ("blockPublicAccessStates", Kept("/attributes/block_public_access")),
    ("cidrBlockAssociationSet", Partly("/attributes/cidr_blocks", "association ids and states")),
    (
        "ipv6CidrBlockAssociationSet",
        Partly("/attributes/ipv6_cidr_blocks", "association ids and states, border group and address pool"),
    ),
];

pub(super) const SUBNET: Table = &[
    ("subnetId", Kept("/id")),
    ("subnetArn", Kept("/arn")),
    ("tagSet", Kept("/tags")),
    ("vpcId", Kept("/attributes/vpc_id")),
    ("ownerId", Kept("/attributes/owner_id")),
    ("state", Kept("/attributes/state")),
    ("cidrBlock", Kept("/attributes/cidr_block")),
    ("availabilityZone", Kept("/attributes/availability_zone")),
    ("availabilityZoneId", Kept("/attributes/availability_zone_id")),
    ("availableIpAddressCount", Kept("/attributes/available_ip_address_count")),
    ("defaultForAz", Kept("/attributes/default_for_az")),
    ("mapPublicIpOnLaunch", Kept("/attributes/map_public_ip_on_launch")),
    ("assignIpv6AddressOnCreation", Kept("/attributes/assign_ipv6_address_on_creation")),
    ("ipv6Native", Kept("/attributes/ipv6_native")),
    ("blockPublicAccessStates", Kept("/attributes/block_public_access")),
    ("ipv6CidrBlockAssociationSet", Partly("/attributes/ipv6_cidr_blocks", "association ids and states")),
    ("mapCustomerOwnedIpOnLaunch", Dropped(OUTPOSTS)),
    ("customerOwnedIpv4Pool", Dropped(OUTPOSTS)),
    ("outpostArn", Dropped(OUTPOSTS)),
    ("enableLniAtDeviceIndex", Dropped(OUTPOSTS)),
    ("enableDns64", Dropped("a resolver setting for IPv6-only clients")),
    ("privateDnsNameOptionsOnLaunch", Dropped("the form of new instances' hostnames")),
];

pub(super) const SECURITY_GROUP: Table = &[
    ("groupId", Kept("/id")),
    ("groupName", Kept("/name")),
    ("securityGroupArn", Kept("/arn")),
    ("tagSet", Kept("/tags")),
    ("groupDescription", Kept("/attributes/description")),
    ("vpcId", Kept("/attributes/vpc_id")),
    ("ownerId", Kept("/attributes/owner_id")),
    ("ipPermissions", Kept("/attributes/ingress")),
    ("ipPermissionsEgress", Kept("/attributes/egress")),
];

/// A rule of `ipPermissions`/`ipPermissionsEgress`, pointers relative to the stored rule.
pub(super) const RULE: Table = &[
    ("ipProtocol", Kept("/protocol")),
    ("fromPort", Kept("/from")),
    ("toPort", Kept("/to")),
    ("ipRanges", Partly("/cidrs", "each range's description")),
    ("ipv6Ranges", Partly("/cidrs", "each range's description")),
    ("prefixListIds", Partly("/prefix_lists", "each entry's description")),
    (
        "groups",
        Partly("/groups", "the referenced group's account, name, VPC and peering status; its id is kept"),
    ),
];

pub(super) const NETWORK_INTERFACE: Table = &[
    ("networkInterfaceId", Kept("/id")),
    ("tagSet", Kept("/tags")),
    ("interfaceType", Kept("/attributes/type")),
    ("status", Kept("/attributes/status")),
    ("vpcId", Kept("/attributes/vpc_id")),
    ("subnetId", Kept("/attributes/subnet_id")),
    ("availabilityZone", Kept("/attributes/availability_zone")),
    ("description", Kept("/attributes/description")),
    ("ownerId", Kept("/attributes/owner_id")),
    ("requesterManaged", Kept("/attributes/requester_managed")),
    ("macAddress", Kept("/attributes/mac_address")),
    ("privateIpAddress", Kept("/attributes/private_ip")),
    ("privateDnsName", Kept("/attributes/private_dns_name")),
    ("sourceDestCheck", Kept("/attributes/source_dest_check")),
    (
        "groupSet",
        Partly("/attributes/security_group_ids", "group names: the groups are inventoried under their ids"),
    ),
    (
        "privateIpAddressesSet",
        Partly(
            "/attributes/private_ips",
            "each address's DNS name and association (the primary's public IP is kept)",
        ),
    ),
    ("ipv6AddressesSet", Partly("/attributes/ipv6_addresses", "which one is primary")),
    (
        "attachment",
        Partly(
            "/attributes/instance_id",
            "attachment id, device and card index, time, owner and delete-on-termination",
        ),
    ),
    (
        "association",
        Partly(
            "/attributes/public_ip",
            "the Elastic IP's allocation and association ids, owner and DNS name",
        ),
    ),
    ("ipv6Address", Dropped("the primary IPv6 address, also in ipv6_addresses")),
    ("availabilityZoneId", Dropped("the subnet, inventoried with its AZ ID, has it")),
    (
        "requesterId",
        Dropped("who created it for the owner; requester_managed and type say whether AWS manages it"),
    ),
    ("publicDnsName", Dropped("derived from the public IP, which is kept")),
    ("publicIpDnsNameOptions", Dropped("the forms of the public DNS names, derived from the addresses")),
    ("ipv4PrefixSet", Dropped("delegated IPv4 prefixes (prefix delegation, e.g. for pods)")),
    ("ipv6PrefixSet", Dropped("delegated IPv6 prefixes (prefix delegation, e.g. for pods)")),
    ("ipv6Native", Dropped("IPv6-only flag; the subnet's, kept, is where it is set")),
    (
        "denyAllIgwTraffic",
        Dropped("IPv6-only reachability flag; security groups and routes decide reachability"),
    ),
    ("outpostArn", Dropped(OUTPOSTS)),
    ("connectionTrackingConfiguration", Dropped("connection-tracking timeouts: a performance setting")),
    ("operator", Dropped("whether a service provider manages it; rare")),
    ("associatedSubnetSet", Dropped("the subnets of a multi-subnet interface; subnet_id is kept")),
];

/// Inline policies keep their names; their documents are dropped: they are read for every
/// principal in every sync (up to 2,048 characters per user, 5,120 per group and 10,240 per
/// role, IAM User Guide, "IAM and AWS STS quotas") while the inventory answers which policies
/// exist. Attached policies keep their ARNs, which end with the name.
const INLINE: &str = "the documents (size); the names are kept";
const ATTACHED: &str = "the policy names, which the kept ARNs end with";
const BOUNDARY: &str = "PermissionsBoundaryType, always `Policy`";

pub(super) const USER: Table = &[
    ("UserName", Kept("/id")),
    ("Arn", Kept("/arn")),
    ("Tags", Kept("/tags")),
    ("UserId", Kept("/attributes/user_id")),
    ("Path", Kept("/attributes/path")),
    ("CreateDate", Kept("/attributes/created")),
    ("GroupList", Kept("/attributes/groups")),
    ("UserPolicyList", Partly("/attributes/inline_policies", INLINE)),
    ("AttachedManagedPolicies", Partly("/attributes/attached_policies", ATTACHED)),
    ("PermissionsBoundary", Partly("/attributes/permissions_boundary", BOUNDARY)),
];

pub(super) const GROUP: Table = &[
    ("GroupName", Kept("/id")),
    ("Arn", Kept("/arn")),
    ("GroupId", Kept("/attributes/group_id")),
    ("Path", Kept("/attributes/path")),
    ("CreateDate", Kept("/attributes/created")),
    ("GroupPolicyList", Partly("/attributes/inline_policies", INLINE)),
    ("AttachedManagedPolicies", Partly("/attributes/attached_policies", ATTACHED)),
];

pub(super) const ROLE: Table = &[
    ("RoleName", Kept("/id")),
    ("Arn", Kept("/arn")),
    ("Tags", Kept("/tags")),
    ("RoleId", Kept("/attributes/role_id")),
    ("Path", Kept("/attributes/path")),
    ("CreateDate", Kept("/attributes/created")),
    ("AssumeRolePolicyDocument", Kept("/attributes/trust_policy")),
    ("RoleLastUsed", Kept("/attributes/last_used")),
    (
        "InstanceProfileList",
        Partly("/attributes/instance_profiles", "each profile's name, id, path, date and roles (this one)"),
    ),
    ("RolePolicyList", Partly("/attributes/inline_policies", INLINE)),
    ("AttachedManagedPolicies", Partly("/attributes/attached_policies", ATTACHED)),
    ("PermissionsBoundary", Partly("/attributes/permissions_boundary", BOUNDARY)),
];

/// Local and AWS-managed policies alike.
pub(super) const MANAGED_POLICY: Table = &[
    ("Arn", Kept("/id")),
    ("PolicyName", Kept("/name")),
    ("PolicyId", Kept("/attributes/policy_id")),
    ("Path", Kept("/attributes/path")),
    ("DefaultVersionId", Kept("/attributes/default_version")),
    ("AttachmentCount", Kept("/attributes/attachment_count")),
    ("PermissionsBoundaryUsageCount", Kept("/attributes/permissions_boundary_usage_count")),
    ("IsAttachable", Kept("/attributes/is_attachable")),
    ("Description", Kept("/attributes/description")),
    ("CreateDate", Kept("/attributes/created")),
    ("UpdateDate", Kept("/attributes/updated")),
    (
        "PolicyVersionList",
        Dropped(
            "every version's document: up to five versions of up to 6,144 characters each for a local \
             policy (IAM quotas), AWS-managed ones larger; the default version's id is kept",
        ),
    ),
];

pub(super) const ACCESS_KEY: Table = &[
    ("AccessKeyId", Kept("/id")),
    ("UserName", Kept("/name")),
    ("Status", Kept("/attributes/status")),
    ("CreateDate", Kept("/attributes/created")),
];

/// LookupEvents' summary fields; the CloudTrail record itself is kept whole.
pub(super) const EVENT: Table = &[
    ("EventId", Kept("/event_id")),
    ("EventName", Kept("/event_name")),
    ("EventTime", Kept("/event_time")),
    ("EventSource", Kept("/event_source")),
    ("Username", Kept("/username")),
    ("CloudTrailEvent", Kept("/raw")),
    ("ReadOnly", Dropped("the kept record has it (readOnly)")),
    ("AccessKeyId", Dropped("the kept record has it (userIdentity.accessKeyId)")),
    ("Resources", Dropped("the kept record has them (resources)")),
    ("Unknown", Dropped("not a documented element: the fixture shows that unknown keys are ignored")),
];
