//! What the inventory holds: one [`Resource`] per AWS object, keyed by account, region, kind
//! and id, with its tags and the attributes Trustline records.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

use serde_json::Value;

/// Where global services' resources (IAM) live in the inventory's region column.
pub const GLOBAL: &str = "global";

/// The kinds of resource the sync records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ResourceKind {
    /// An IAM user.
    IamUser,
    /// An IAM group.
    IamGroup,
    /// An IAM role.
    IamRole,
    /// A customer-managed (local) IAM policy.
    IamPolicy,
    /// An AWS-managed policy attached to something in the account.
    IamAwsManagedPolicy,
    /// An IAM user's access key (metadata only: id, status, age, last use).
    IamAccessKey,
    /// An EC2 instance.
    Ec2Instance,
    /// A VPC.
    Ec2Vpc,
    /// A subnet.
    Ec2Subnet,
    /// A security group.
    Ec2SecurityGroup,
    /// A network interface.
    Ec2NetworkInterface,
}

impl ResourceKind {
    /// Every kind, for help texts and filters.
    pub const ALL: [ResourceKind; 11] = [
        ResourceKind::IamUser,
        ResourceKind::IamGroup,
        ResourceKind::IamRole,
        ResourceKind::IamPolicy,
        ResourceKind::IamAwsManagedPolicy,
        ResourceKind::IamAccessKey,
        ResourceKind::Ec2Instance,
        ResourceKind::Ec2Vpc,
        ResourceKind::Ec2Subnet,
        ResourceKind::Ec2SecurityGroup,
        ResourceKind::Ec2NetworkInterface,
    ];

    /// The stable name stored and shown (`iam-user`, `ec2-instance`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            ResourceKind::IamUser => "iam-user",
            ResourceKind::IamGroup => "iam-group",
            ResourceKind::IamRole => "iam-role",
            ResourceKind::IamPolicy => "iam-policy",
            ResourceKind::IamAwsManagedPolicy => "iam-aws-managed-policy",
            ResourceKind::IamAccessKey => "iam-access-key",
            ResourceKind::Ec2Instance => "ec2-instance",
            ResourceKind::Ec2Vpc => "ec2-vpc",
            ResourceKind::Ec2Subnet => "ec2-subnet",
            ResourceKind::Ec2SecurityGroup => "ec2-security-group",
            ResourceKind::Ec2NetworkInterface => "ec2-network-interface",
        }
    }
}

impl fmt::Display for ResourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ResourceKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        ResourceKind::ALL.into_iter().find(|k| k.as_str() == s).ok_or_else(|| {
            let all: Vec<&str> = ResourceKind::ALL.iter().map(|k| k.as_str()).collect();
            format!("unknown resource kind '{s}'; expected one of {}", all.join(", "))
        })
    }
}

/// One AWS object as the inventory records it.
#[derive(Debug, Clone, PartialEq)]
pub struct Resource {
    /// The region, or [`GLOBAL`] for IAM.
    pub region: String,
    /// What it is.
    pub kind: ResourceKind,
    /// Its AWS identifier (user name for IAM principals, `i-…` for instances, …).
    pub id: String,
    /// A display name (the `Name` tag, the user name…).
    pub name: Option<String>,
    /// Its ARN, when AWS gives one.
    pub arn: Option<String>,
    /// Its tags.
    pub tags: BTreeMap<String, String>,
    /// Everything else recorded about it, as JSON.
    pub attributes: Value,
}

/// The result of listing one account: the resources, and which (region, kind) lists were read
/// completely. Only complete lists may remove resources from the inventory: a region that failed
/// halfway must not make its resources look deleted.
#[derive(Debug, Default)]
pub struct Snapshot {
    /// Every resource read.
    pub resources: Vec<Resource>,
    /// The (region, kind) pairs listed to the end.
    pub complete: BTreeSet<(String, ResourceKind)>,
    /// API calls made, for the run summary.
    pub calls: u64,
    /// CloudTrail events read (duplicates of stored ones are dropped on commit).
    pub events: Vec<EventRecord>,
    /// New CloudTrail cursors: (region, read up to), for regions read to the end.
    pub cursors: Vec<(String, time::OffsetDateTime)>,
}

/// One CloudTrail management event.
#[derive(Debug, Clone, PartialEq)]
pub struct EventRecord {
    /// CloudTrail's unique id: the de-duplication key.
    pub event_id: String,
    /// The region it was recorded in.
    pub region: String,
    /// When it happened.
    pub event_time: time::OffsetDateTime,
    /// The API action, e.g. `CreateUser`.
    pub event_name: String,
    /// The service, e.g. `iam.amazonaws.com`.
    pub event_source: Option<String>,
    /// Who did it.
    pub username: Option<String>,
    /// The full CloudTrail record (JSON text).
    pub raw: String,
}

impl Snapshot {
    /// Records a fully listed (region, kind) and its resources.
    pub fn add_complete(&mut self, region: &str, kind: ResourceKind, resources: Vec<Resource>) {
        self.complete.insert((region.to_owned(), kind));
        self.resources.extend(resources);
    }
}

/// Tags as a map; AWS gives them as key/value pairs.
pub fn tag_map<'a>(tags: impl IntoIterator<Item = (&'a str, &'a str)>) -> BTreeMap<String, String> {
    tags.into_iter().map(|(k, v)| (k.to_owned(), v.to_owned())).collect()
}
