//! Every element AWS documents for an inventoried kind either lands in the store (the resource's
//! id, name, ARN, tags or attributes) or is named in its kind's table as dropped, with the reason.
//! The answers are fixtures written to AWS's documented response shapes
//! (`core/tests/fixtures/aws/`): each is parsed by core and converted by the sync, then each
//! item's elements are looked up in the table. An element missing from a table fails, as does a
//! table entry no fixture shows or a "stored" entry whose place in the resource is empty.

use std::collections::BTreeSet;

use roxmltree::{Document, Node};
use serde_json::{Value, json};
use trustline_core::aws::{HttpResponse, Operation, cloudtrail, ec2, iam};
use trustline_worker::resource::{EventRecord, Resource, ResourceKind, Snapshot};
use trustline_worker::sync::convert;

/// Where an element of AWS's answer ends up.
#[derive(Debug, Clone, Copy)]
enum Field {
    /// Stored whole, at this JSON pointer into the stored resource.
    Kept(&'static str),
    /// Its useful part is stored at the pointer; the rest is dropped for the reason given.
    Partly(&'static str, &'static str),
    /// Not stored, for the reason given.
    Dropped(&'static str),
}
use Field::{Dropped, Kept, Partly};

type Table = &'static [(&'static str, Field)];

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/../core/tests/fixtures/aws/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("read {path}: {e}"))
}

fn parse<O: Operation>(name: &str) -> O::Output {
    O::parse(&HttpResponse::new(200, vec![], fixture(name))).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// A resource as the store keeps it, as one JSON document the tables point into.
fn stored(r: &Resource) -> Value {
    json!({ "id": r.id, "name": r.name, "arn": r.arn, "tags": r.tags, "attributes": r.attributes })
}

fn event(e: &EventRecord) -> Value {
    json!({
        "event_id": e.event_id, "region": e.region, "event_time": e.event_time.unix_timestamp(),
        "event_name": e.event_name, "event_source": e.event_source, "username": e.username, "raw": e.raw,
    })
}

fn find(snapshot: &Snapshot, kind: ResourceKind, id: &str) -> Value {
    let r = snapshot.resources.iter().find(|r| r.kind == kind && r.id == id);
    stored(r.unwrap_or_else(|| panic!("no {kind} '{id}' stored")))
}

/// Audits one kind: each `(element names, stored value)` of its items against `table`.
struct Audit {
    kind: &'static str,
    table: Table,
    seen: BTreeSet<&'static str>,
    errors: Vec<String>,
}

impl Audit {
    fn new(kind: &'static str, table: Table) -> Self {
        Audit { kind, table, seen: BTreeSet::new(), errors: Vec::new() }
    }

    fn item(&mut self, names: impl IntoIterator<Item = String>, stored: &Value) {
        for name in names {
            let Some((known, field)) = self.table.iter().find(|(n, _)| *n == name) else {
                self.errors.push(format!("{}: <{name}> is in AWS's answer but not in the table", self.kind));
                continue;
            };
            self.seen.insert(known);
            let pointer = match field {
                Kept(p) => p,
                Partly(p, why) => {
                    assert!(!why.is_empty(), "{}: say what of {name} is dropped and why", self.kind);
                    p
                }
                Dropped(why) => {
                    assert!(!why.is_empty(), "{}: {name} is dropped without a reason", self.kind);
                    continue;
                }
            };
            if stored.pointer(pointer).is_none_or(Value::is_null) {
                self.errors
                    .push(format!("{}: {name} should be stored at {pointer}, found nothing", self.kind));
            }
        }
    }

    fn xml_item(&mut self, item: Node<'_, '_>, stored: &Value) {
        self.item(elements(item).map(|n| n.tag_name().name().to_owned()), stored);
    }

    /// Fails with every problem of the kind at once.
    fn finish(self) {
        let mut errors = self.errors;
        for (name, _) in self.table {
            if !self.seen.contains(name) {
                errors.push(format!("{}: {name} is in the table but in no fixture item", self.kind));
            }
        }
        assert!(errors.is_empty(), "{}", errors.join("\n"));
    }
}

fn elements<'a, 'i>(node: Node<'a, 'i>) -> impl Iterator<Item = Node<'a, 'i>> {
    node.children().filter(Node::is_element)
}

fn child<'a, 'i>(node: Node<'a, 'i>, name: &str) -> Node<'a, 'i> {
    elements(node).find(|n| n.tag_name().name() == name).unwrap_or_else(|| panic!("no <{name}>"))
}

/// The `<item>`s or `<member>`s of every list element named `list` in the document.
fn items<'a, 'i>(doc: &'a Document<'i>, list: &str) -> Vec<Node<'a, 'i>> {
    doc.descendants().filter(|n| n.tag_name().name() == list).flat_map(elements).collect()
}

fn text(node: Node<'_, '_>, name: &str) -> String {
    child(node, name).text().unwrap_or_default().to_owned()
}

fn xml(name: &str) -> String {
    String::from_utf8(fixture(name)).unwrap()
}

mod tables;

#[test]
fn ec2_instances() {
    let page = parse::<ec2::DescribeInstances>("ec2_describe_instances.xml");
    let snapshot =
        convert::ec2_region("eu-west-1", &convert::Ec2Lists { instances: page.items, ..Default::default() });
    let body = xml("ec2_describe_instances.xml");
    let doc = Document::parse(&body).unwrap();
    let (mut reservations, mut instances) =
        (Audit::new("reservation", tables::RESERVATION), Audit::new("ec2-instance", tables::INSTANCE));
    for reservation in items(&doc, "reservationSet") {
        for instance in elements(child(reservation, "instancesSet")) {
            let stored = find(&snapshot, ResourceKind::Ec2Instance, &text(instance, "instanceId"));
            reservations.xml_item(reservation, &stored);
            instances.xml_item(instance, &stored);
        }
    }
    reservations.finish();
    instances.finish();
}

#[test]
fn ec2_vpcs_and_subnets() {
    let vpcs = parse::<ec2::DescribeVpcs>("ec2_describe_vpcs.xml").items;
    let subnets = parse::<ec2::DescribeSubnets>("ec2_describe_subnets.xml").items;
    let snapshot =
        convert::ec2_region("eu-west-1", &convert::Ec2Lists { vpcs, subnets, ..Default::default() });
    for (file, list, id, kind, table) in [
        ("ec2_describe_vpcs.xml", "vpcSet", "vpcId", ResourceKind::Ec2Vpc, tables::VPC),
        ("ec2_describe_subnets.xml", "subnetSet", "subnetId", ResourceKind::Ec2Subnet, tables::SUBNET),
    ] {
        let body = xml(file);
        let doc = Document::parse(&body).unwrap();
        let mut audit = Audit::new(kind.as_str(), table);
        for item in items(&doc, list) {
            audit.xml_item(item, &find(&snapshot, kind, &text(item, id)));
        }
        audit.finish();
    }
}

#[test]
fn ec2_security_groups_and_their_rules() {
    let groups = parse::<ec2::DescribeSecurityGroups>("ec2_describe_security_groups.xml").items;
    let snapshot = convert::ec2_region("eu-west-1", &convert::Ec2Lists { groups, ..Default::default() });
    let body = xml("ec2_describe_security_groups.xml");
    let doc = Document::parse(&body).unwrap();
    let (mut groups, mut rules) =
        (Audit::new("ec2-security-group", tables::SECURITY_GROUP), Audit::new("rule", tables::RULE));
    for group in items(&doc, "securityGroupInfo") {
        let stored = find(&snapshot, ResourceKind::Ec2SecurityGroup, &text(group, "groupId"));
        groups.xml_item(group, &stored);
        for (list, direction) in [("ipPermissions", "ingress"), ("ipPermissionsEgress", "egress")] {
            for (i, rule) in elements(child(group, list)).enumerate() {
                rules.xml_item(rule, &stored["attributes"][direction][i]);
            }
        }
    }
    groups.finish();
    rules.finish();
}

#[test]
fn ec2_network_interfaces() {
    let interfaces = parse::<ec2::DescribeNetworkInterfaces>("ec2_describe_network_interfaces.xml").items;
    let snapshot = convert::ec2_region("eu-west-1", &convert::Ec2Lists { interfaces, ..Default::default() });
    let body = xml("ec2_describe_network_interfaces.xml");
    let doc = Document::parse(&body).unwrap();
    let mut audit = Audit::new("ec2-network-interface", tables::NETWORK_INTERFACE);
    for item in items(&doc, "networkInterfaceSet") {
        let id = text(item, "networkInterfaceId");
        audit.xml_item(item, &find(&snapshot, ResourceKind::Ec2NetworkInterface, &id));
    }
    audit.finish();
}

#[test]
fn iam_principals_and_policies() {
    let file = "iam_get_account_authorization_details.xml";
    let snapshot = convert::iam_details(&parse::<iam::GetAccountAuthorizationDetails>(file));
    let body = xml(file);
    let doc = Document::parse(&body).unwrap();
    let lists = [
        ("UserDetailList", "UserName", ResourceKind::IamUser, tables::USER),
        ("GroupDetailList", "GroupName", ResourceKind::IamGroup, tables::GROUP),
        ("RoleDetailList", "RoleName", ResourceKind::IamRole, tables::ROLE),
    ];
    for (list, id, kind, table) in lists {
        let mut audit = Audit::new(kind.as_str(), table);
        for item in items(&doc, list) {
            audit.xml_item(item, &find(&snapshot, kind, &text(item, id)));
        }
        audit.finish();
    }
    let mut local = Audit::new("iam-policy", tables::MANAGED_POLICY);
    let mut aws = Audit::new("iam-aws-managed-policy", tables::MANAGED_POLICY);
    for item in items(&doc, "Policies") {
        let arn = text(item, "Arn");
        if arn.starts_with("arn:aws:iam::aws:") {
            aws.xml_item(item, &find(&snapshot, ResourceKind::IamAwsManagedPolicy, &arn));
        } else {
            local.xml_item(item, &find(&snapshot, ResourceKind::IamPolicy, &arn));
        }
    }
    local.finish();
    aws.finish();
}

#[test]
fn iam_access_keys() {
    let page = parse::<iam::ListAccessKeys>("iam_list_access_keys.xml");
    let body = xml("iam_list_access_keys.xml");
    let doc = Document::parse(&body).unwrap();
    let mut audit = Audit::new("iam-access-key", tables::ACCESS_KEY);
    for item in items(&doc, "AccessKeyMetadata") {
        let id = text(item, "AccessKeyId");
        let key = page.items.iter().find(|k| k.access_key_id == id).expect("parsed");
        audit.xml_item(item, &stored(&convert::iam_access_key(&text(item, "UserName"), key)));
    }
    audit.finish();
    // `Expired` is a documented status apart from `Inactive`: both stop the key, only one says why.
    let expired = convert::iam_access_key("Bob", &page.items[1]);
    assert_eq!(
        (&expired.attributes["active"], &expired.attributes["status"]),
        (&json!(false), &json!("Expired"))
    );
}

#[test]
fn cloudtrail_events() {
    let file = "cloudtrail_lookup_events.json";
    let page = parse::<cloudtrail::LookupEvents>(file);
    let records = convert::events("us-east-1", page.items);
    let body: Value = serde_json::from_slice(&fixture(file)).unwrap();
    let mut audit = Audit::new("cloudtrail-event", tables::EVENT);
    for item in body["Events"].as_array().unwrap() {
        let id = item["EventId"].as_str().unwrap();
        let record = records.iter().find(|r| r.event_id == id).expect("stored");
        audit.item(item.as_object().unwrap().keys().cloned(), &event(record));
    }
    audit.finish();
}
