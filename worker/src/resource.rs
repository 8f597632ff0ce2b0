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

/// A page of CloudTrail events as the store keeps it: each event's summary (the fields queries
/// filter and show), and their full records together in one compressed frame. Records of one
/// account and region repeat most of their text (the account's ARNs, keys, agents, field names),
/// so a page compresses several times better than each record alone; it is packed where the
/// page was read, so the store's single writer only copies the frame.
#[derive(Debug, Clone, PartialEq)]
pub struct EventPage {
    /// The events, each with an empty `raw`: its record is in `records`.
    pub events: Vec<EventRecord>,
    /// The records in the order of `events`, each a little-endian `u32` length and that many
    /// bytes of JSON, the whole compressed as one zstd frame.
    pub records: Vec<u8>,
}

/// zstd's level for pages: its fastest standard level (facebook.github.io/zstd: level 1 is the
/// speed end of the regular levels). Higher levels save a few percent more for several times
/// the CPU on text this repetitive.
const PAGE_LEVEL: i32 = 1;

impl EventPage {
    /// Packs `events`, moving each record into the page's frame. Fails only when zstd cannot
    /// allocate its context.
    pub fn pack(mut events: Vec<EventRecord>) -> std::io::Result<EventPage> {
        let mut plain = Vec::with_capacity(events.iter().map(|e| e.raw.len() + 4).sum());
        for e in &mut events {
            let raw = std::mem::take(&mut e.raw);
            // A record is a few KB; CloudTrail's own limit is far below 4 GiB.
            plain.extend_from_slice(&u32::try_from(raw.len()).unwrap_or(u32::MAX).to_le_bytes());
            plain.extend_from_slice(raw.as_bytes());
        }
        // One context per thread, reused: making one costs more than packing a page.
        thread_local! {
            static COMPRESSOR: std::cell::RefCell<Option<zstd::bulk::Compressor<'static>>> =
                const { std::cell::RefCell::new(None) };
        }
        let records = COMPRESSOR.with_borrow_mut(|slot| match slot {
            Some(c) => c.compress(&plain),
            None => {
                let mut c = zstd::bulk::Compressor::new(PAGE_LEVEL)?;
                let out = c.compress(&plain);
                *slot = Some(c);
                out
            }
        })?;
        Ok(EventPage { events, records })
    }

    /// The records of a stored page's frame, in order. Fails on a frame that is not zstd or
    /// records that are not whole.
    pub fn unpack(records: &[u8]) -> anyhow::Result<Vec<String>> {
        let plain = zstd::stream::decode_all(records)?;
        let mut out = Vec::new();
        let mut rest = plain.as_slice();
        while !rest.is_empty() {
            let (len, tail) = rest
                .split_first_chunk::<4>()
                .ok_or_else(|| anyhow::anyhow!("a record's length is cut off"))?;
            let len = u32::from_le_bytes(*len) as usize;
            anyhow::ensure!(tail.len() >= len, "a record is cut off ({} of {len} bytes)", tail.len());
            let (record, tail) = tail.split_at(len);
            out.push(String::from_utf8(record.to_vec())?);
            rest = tail;
        }
        Ok(out)
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn event(id: &str, raw: &str) -> EventRecord {
        EventRecord {
            event_id: id.into(),
            region: "eu-west-1".into(),
            event_time: time::OffsetDateTime::UNIX_EPOCH,
            event_name: "CreateUser".into(),
            event_source: None,
            username: None,
            raw: raw.into(),
        }
    }

    #[test]
    fn a_page_unpacks_to_its_records_in_order() {
        let records: Vec<String> = (0..50)
            .map(|i| format!(r#"{{"eventID":"e-{i}","note":"naïve \n {}"}}"#, "x".repeat(i)))
            .collect();
        let events: Vec<EventRecord> =
            records.iter().enumerate().map(|(i, r)| event(&format!("e-{i}"), r)).collect();
        let page = EventPage::pack(events).unwrap();
        assert!(page.events.iter().all(|e| e.raw.is_empty()), "records move into the frame");
        assert!(page.records.len() < records.iter().map(String::len).sum::<usize>() / 3);
        assert_eq!(EventPage::unpack(&page.records).unwrap(), records);
        // An empty record and an empty page are pages too.
        let page = EventPage::pack(vec![event("a", ""), event("b", "{}")]).unwrap();
        assert_eq!(EventPage::unpack(&page.records).unwrap(), ["", "{}"]);
        assert!(EventPage::unpack(&EventPage::pack(Vec::new()).unwrap().records).unwrap().is_empty());
    }

    #[test]
    fn a_damaged_frame_is_an_error_not_a_panic() {
        let page = EventPage::pack(vec![event("a", r#"{"eventID":"a"}"#)]).unwrap();
        for cut in 1..page.records.len() {
            assert!(EventPage::unpack(&page.records[..cut]).is_err(), "cut at {cut}");
        }
        assert!(EventPage::unpack(b"not zstd").is_err());
        // A whole frame whose records are cut short.
        let plain = [7u8, 0, 0, 0, b'{'];
        let frame = zstd::bulk::compress(&plain, 1).unwrap();
        let err = EventPage::unpack(&frame).unwrap_err().to_string();
        assert!(err.contains("cut off"), "{err}");
    }
}
