//! `inventory --tag`: KEY=VALUE and KEY alone, with keys that hold colons (AWS reserves the
//! `aws:` prefix and CloudFormation tags every stack resource `aws:cloudformation:stack-name`),
//! values that hold colons, the older KEY:VALUE form, and AWS's case-sensitive keys.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::json;
use trustline_worker::resource::{GLOBAL, Resource, ResourceKind, Snapshot, tag_map};
use trustline_worker::store::Store;

/// A store with connection `acme` holding one IAM role per entry of `tagged`.
pub(crate) fn store_with_tagged_roles(store: &Path, tagged: &[(&str, &[(&str, &str)])]) {
    let out = crate::trustline(&[
        "accounts",
        "add",
        "--store",
        store.to_str().unwrap(),
        "--id",
        "acme",
        "--kind",
        "same-account-role",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mut db = Store::open(store).unwrap();
    let run = db.begin_run().unwrap();
    let roles = tagged
        .iter()
        .map(|(id, tags)| Resource {
            region: GLOBAL.into(),
            kind: ResourceKind::IamRole,
            id: (*id).into(),
            name: Some((*id).into()),
            arn: None,
            tags: tag_map(tags.iter().copied()),
            attributes: json!({}),
        })
        .collect();
    let mut snapshot = Snapshot::default();
    snapshot.add_complete(GLOBAL, ResourceKind::IamRole, roles);
    db.commit_account(run, "acme", &snapshot, 0).unwrap();
    db.finish_run(run, trustline_worker::store::RunStatus::Ok).unwrap();
}

fn ids(store: &Path, tag: &str) -> BTreeSet<String> {
    let out = crate::trustline(&[
        "inventory",
        "--store",
        store.to_str().unwrap(),
        "--tag",
        tag,
        "--format",
        "json",
    ]);
    let rows: Vec<serde_json::Value> = serde_json::from_str(&crate::stdout(&out)).unwrap();
    rows.iter().map(|r| r["id"].as_str().unwrap().to_owned()).collect()
}

fn set(ids: &[&str]) -> BTreeSet<String> {
    ids.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn tag_keys_and_values_may_hold_colons() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("trustline.db");
    store_with_tagged_roles(
        &store,
        &[
            ("stack", &[("aws:cloudformation:stack-name", "web"), ("service", "webshop")]),
            ("purpose", &[("trustline:purpose", "vendor-read-only-access")]),
            ("owner", &[("team:owner", "alice"), ("url", "https://example.com:8443/x")]),
            ("team", &[("team", "owner")]),
            ("upper", &[("Service", "webshop"), ("Team:Owner", "bob")]),
            ("equals", &[("query", "a=b")]),
        ],
    );
    // KEY=VALUE, keys with several colons and with one.
    assert_eq!(ids(&store, "aws:cloudformation:stack-name=web"), set(&["stack"]));
    assert_eq!(ids(&store, "trustline:purpose=vendor-read-only-access"), set(&["purpose"]));
    assert_eq!(ids(&store, "team:owner=alice"), set(&["owner"]));
    // Values with colons, and with '=' (split at the first).
    assert_eq!(ids(&store, "url=https://example.com:8443/x"), set(&["owner"]));
    assert_eq!(ids(&store, "query=a=b"), set(&["equals"]));
    // Presence: any value.
    assert_eq!(ids(&store, "aws:cloudformation:stack-name"), set(&["stack"]));
    assert_eq!(ids(&store, "service"), set(&["stack"]));
    assert_eq!(ids(&store, "service="), BTreeSet::new(), "KEY= asks for an empty value");
    // The older KEY:VALUE, where it can only mean one split; it also finds the key itself.
    assert_eq!(ids(&store, "service:webshop"), set(&["stack"]));
    assert_eq!(ids(&store, "team:owner"), set(&["owner", "team"]));
    // Case-sensitive, as AWS's tag keys and values are.
    assert_eq!(ids(&store, "Service=webshop"), set(&["upper"]));
    assert_eq!(ids(&store, "service=WebShop"), BTreeSet::new());
    assert_eq!(ids(&store, "Team:Owner"), set(&["upper"]));
    assert_eq!(ids(&store, "team:owner=bob"), BTreeSet::new());

    let out = crate::trustline(&["inventory", "--store", store.to_str().unwrap(), "--tag", "=web"]);
    let err = crate::stderr_of_failure(&out);
    assert!(err.contains("--tag: expected KEY=VALUE or KEY"), "{err}");
    let help = crate::stdout(&crate::trustline(&["inventory", "--help"]));
    assert!(
        help.contains("--tag <KEY=VALUE>") && help.contains("aws:cloudformation:stack-name=web"),
        "{help}"
    );
}
