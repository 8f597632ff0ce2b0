//! `trustline sync` against moto: two accounts reached through cross-account roles with their
//! ExternalIds plus an access-key connection; the stored inventory must equal what moto lists,
//! a second run must record exactly the changes made in between, and a connection whose
//! credentials disappear must fail alone, its data kept as stale.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;
use trustline_testkit::moto::{Moto, MotoOptions};
use trustline_testkit::tools::venv_bin;

const ACCOUNTS: [(&str, &str); 2] = [("acme-a", "111111111111"), ("acme-b", "222222222222")];

fn seed_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cli/moto_seed.py")
}

fn python(moto: &Moto, args: &[&str]) -> String {
    let out =
        Command::new(venv_bin("python")).arg(seed_script()).arg(moto.endpoint()).args(args).output().unwrap();
    assert!(out.status.success(), "moto_seed.py {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

struct Worker {
    store: PathBuf,
    endpoint: String,
}

impl Worker {
    fn run(&self, args: &[&str], secret: Option<&str>) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_trustline"));
        cmd.args(args)
            .arg("--store")
            .arg(crate::store_arg(&self.store))
            .args(crate::lease_ttl_args())
            .arg("--endpoint-url")
            .arg(&self.endpoint)
            // The vendor's own credentials, as the SDK chain finds them; nothing from this machine.
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_CONFIG_FILE", "/dev/null")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env_remove("AWS_PROFILE")
            .env_remove("TRUSTLINE_TEST_SECRET");
        if let Some(secret) = secret {
            cmd.env("TRUSTLINE_TEST_SECRET", secret);
        }
        cmd.output().unwrap()
    }

    fn ok(&self, args: &[&str], secret: Option<&str>) -> String {
        let out = self.run(args, secret);
        assert!(out.status.success(), "trustline {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    }

    /// connection → "kind region" → ids, from `export`.
    fn inventory(&self) -> BTreeMap<String, BTreeMap<String, Vec<String>>> {
        let mut out: BTreeMap<String, BTreeMap<String, Vec<String>>> = BTreeMap::new();
        for line in self.ok(&["export"], None).lines() {
            let r: Value = serde_json::from_str(line).unwrap();
            let key = format!("{} {}", r["kind"].as_str().unwrap(), r["region"].as_str().unwrap());
            out.entry(r["connection"].as_str().unwrap().to_owned())
                .or_default()
                .entry(key)
                .or_default()
                .push(r["id"].as_str().unwrap().to_owned());
        }
        for kinds in out.values_mut() {
            for ids in kinds.values_mut() {
                ids.sort();
            }
        }
        out
    }
}

#[test]
fn sync_matches_moto_then_records_exactly_the_changes() {
    let moto = Moto::start_with(&MotoOptions { load_managed_policies: true, ..Default::default() });
    let accounts: Vec<&str> = ACCOUNTS.iter().map(|(_, a)| *a).collect();
    python(&moto, &[&["seed"], &accounts[..]].concat());
    let dir = std::env::temp_dir().join(format!("trustline-sync-{}", std::process::id()));
    std::fs::remove_dir_all(&dir).ok();
    let worker = Worker { store: dir.join("trustline.db"), endpoint: moto.endpoint() };

    for (id, account) in ACCOUNTS {
        let role = format!("arn:aws:iam::{account}:role/TrustlineReader");
        let ext = format!("ext-{account}");
        worker.ok(
            &[
                "accounts",
                "add",
                "--id",
                id,
                "--role-arn",
                &role,
                "--external-id",
                &ext,
                "--region",
                "us-east-1,eu-west-1",
                // moto has no LookupEvents: CloudTrail is tested against Trustline's stand-in.
                "--data-set",
                "iam,ec2-network",
            ],
            None,
        );
    }
    worker.ok(
        &[
            "accounts",
            "add",
            "--id",
            "keys",
            "--kind",
            "access-key",
            "--access-key-id",
            "AKIAEXAMPLEKEY00001",
            "--secret",
            "env:TRUSTLINE_TEST_SECRET",
            "--data-set",
            "iam",
        ],
        // `accounts add` reads the secret once to refuse a reference that leads nowhere.
        Some("s3cret"),
    );

    let summary: Value = serde_json::from_str(&worker.ok(&["sync", "--json"], Some("s3cret"))).unwrap();
    assert_eq!(summary["ok"], serde_json::json!(["acme-a", "acme-b", "keys"]), "{summary}");

    // Every stored resource, per account, equals what moto lists directly.
    let expected: BTreeMap<String, BTreeMap<String, Vec<String>>> =
        serde_json::from_str(&python(&moto, &[&["list"], &accounts[..]].concat())).unwrap();
    let stored = worker.inventory();
    for (id, account) in ACCOUNTS {
        assert_eq!(stored[id], expected[account], "inventory of {id} ({account})");
    }
    let listed: Value =
        serde_json::from_str(&worker.ok(&["accounts", "list", "--format", "json"], None)).unwrap();
    assert_eq!(
        listed[0]["account_id"], "111111111111",
        "the account ID learnt from GetCallerIdentity is kept"
    );

    // Every access key was matched to its credential-report slot (moto's keys were never used).
    let keys: Vec<Value> = serde_json::from_str(
        &worker.ok(&["inventory", "--kind", "iam-access-key", "--format", "json"], None),
    )
    .unwrap();
    assert_eq!(keys.len(), 10, "5 users with one key each, in two accounts");
    for key in &keys {
        assert!(key["attributes"].as_object().unwrap().contains_key("last_used"), "{key}");
    }

    // Tags are searchable across accounts.
    let webshop: Vec<Value> = serde_json::from_str(
        &worker.ok(&["inventory", "--tag", "service=webshop", "--format", "json"], None),
    )
    .unwrap();
    let by_connection: BTreeSet<&str> = webshop.iter().map(|r| r["connection"].as_str().unwrap()).collect();
    assert_eq!(by_connection, BTreeSet::from(["acme-a", "acme-b"]));
    assert!(webshop.iter().all(|r| r["tags"]["service"] == "webshop"));
    // Security groups and network interfaces carry their tags too (DescribeSecurityGroups' and
    // DescribeNetworkInterfaces' tagSet), with keys that hold a colon.
    let kinds: BTreeSet<&str> = webshop.iter().map(|r| r["kind"].as_str().unwrap()).collect();
    assert!(kinds.contains("ec2-security-group") && kinds.contains("ec2-network-interface"), "{kinds:?}");
    let interfaces: Vec<&Value> = webshop.iter().filter(|r| r["kind"] == "ec2-network-interface").collect();
    assert_eq!(interfaces.len(), 4, "one tagged interface per account and region");
    assert!(
        interfaces.iter().all(|r| r["name"] == "web-eni" && r["tags"]["Name"] == "web-eni"),
        "{interfaces:?}"
    );
    let owned: Vec<Value> =
        serde_json::from_str(&worker.ok(&["inventory", "--tag", "team:owner=web", "--format", "json"], None))
            .unwrap();
    assert_eq!(owned.len(), 4, "the web group in each account and region: {owned:?}");
    assert!(owned.iter().all(|r| r["kind"] == "ec2-security-group" && r["name"] == "web"), "{owned:?}");

    // Change things in account A; the keys connection loses its secret.
    let mutation: Value = serde_json::from_str(&python(&moto, &["mutate", "111111111111"])).unwrap();
    let out = worker.run(&["sync", "--json"], None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["ok"], serde_json::json!(["acme-a", "acme-b"]));
    assert_eq!(summary["failed"][0][0], "keys");
    assert!(
        summary["failed"][0][1].as_str().unwrap().contains("TRUSTLINE_TEST_SECRET is not set"),
        "{summary}"
    );

    let changes: Vec<Value> =
        serde_json::from_str(&worker.ok(&["changes", "--since", "1h", "--format", "json"], None)).unwrap();
    let run2: BTreeSet<(String, String, String, String)> = changes
        .iter()
        .filter(|c| c["run_id"] == summary["run_id"])
        .map(|c| {
            let s = |k: &str| c[k].as_str().unwrap().to_owned();
            (s("connection"), s("change"), s("kind"), s("id"))
        })
        .collect();
    let deleted_key = stored["acme-a"]["iam-access-key global"]
        .iter()
        .find(|k| !worker.inventory()["acme-a"]["iam-access-key global"].contains(k))
        .cloned()
        .expect("user-4's key is gone");
    let instance = mutation["retagged_instance"].as_str().unwrap().to_owned();
    let want = BTreeSet::from([
        ("acme-a".into(), "removed".into(), "iam-user".into(), "user-4".into()),
        ("acme-a".into(), "removed".into(), "iam-access-key".into(), deleted_key),
        ("acme-a".into(), "added".into(), "iam-role".into(), "new-role".into()),
        ("acme-a".into(), "changed".into(), "ec2-instance".into(), instance.clone()),
    ]);
    assert_eq!(run2, want);
    let retag = changes.iter().find(|c| c["id"] == instance.as_str() && c["change"] == "changed").unwrap();
    assert_eq!(retag["fields"], serde_json::json!(["tags"]));

    // The failed connection's last-known inventory is kept, marked stale; the others are current.
    let inventory: Vec<Value> =
        serde_json::from_str(&worker.ok(&["inventory", "--format", "json"], None)).unwrap();
    for r in &inventory {
        assert_eq!(r["stale"].as_bool().unwrap(), r["connection"] == "keys", "{r}");
    }
    let shown: Value = serde_json::from_str(&worker.ok(&["accounts", "show", "keys"], None)).unwrap();
    assert_eq!(shown["last_sync"]["status"], "failed");
    assert_eq!(shown["secret"], "env:TRUSTLINE_TEST_SECRET", "the secret's location, never the secret");
    std::fs::remove_dir_all(&dir).ok();
}

fn org_script(moto: &Moto, args: &[&str]) -> String {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cli/moto_org_seed.py");
    let out = Command::new(venv_bin("python")).arg(script).arg(moto.endpoint()).args(args).output().unwrap();
    assert!(out.status.success(), "moto_org_seed.py {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// Connections as `accounts list --format json` shows them: id → (status, parent).
fn connections(worker: &Worker) -> BTreeMap<String, (String, Option<String>)> {
    let list: Value =
        serde_json::from_str(&worker.ok(&["accounts", "list", "--format", "json"], None)).unwrap();
    list.as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let parent = c["parent"].as_str().map(str::to_owned);
            (c["id"].as_str().unwrap().to_owned(), (c["status"].as_str().unwrap().to_owned(), parent))
        })
        .collect()
}

/// An Organization connection (the management account's role) discovers the member accounts
/// with ListAccounts and syncs each through the StackSet's member role; OU filters pick
/// accounts from the OU tree; a suspended account and one that left are skipped and kept stale.
#[test]
fn organizations_discover_members_filter_ous_and_track_suspension() {
    let moto = Moto::start();
    let org: Value = serde_json::from_str(&org_script(&moto, &["seed"])).unwrap();
    let account = |name: &str| org["accounts"][name].as_str().unwrap().to_owned();
    let (prod1, prod2, sandbox1) = (account("prod-1"), account("prod-2"), account("sandbox-1"));
    let dir = std::env::temp_dir().join(format!("trustline-org-{}", std::process::id()));
    std::fs::remove_dir_all(&dir).ok();
    let add_org = |worker: &Worker, extra: &[&str]| {
        let base = [
            "accounts",
            "add",
            "--id",
            "acme-org",
            "--role-arn",
            "arn:aws:iam::111111111111:role/TrustlineReader",
            "--external-id",
            "ext-org",
            "--organization",
            "--data-set",
            "iam",
        ];
        worker.ok(&[&base[..], extra].concat(), None);
    };

    // OU filter: the whole tree from the root, minus the sandbox OU.
    let filtered = Worker { store: dir.join("filtered.db"), endpoint: moto.endpoint() };
    let root = org["root"].as_str().unwrap();
    let sandbox = org["sandbox"].as_str().unwrap();
    add_org(&filtered, &["--include-ou", root, "--exclude-ou", sandbox]);
    let summary: Value = serde_json::from_str(&filtered.ok(&["sync", "--json"], None)).unwrap();
    let members: BTreeSet<String> =
        connections(&filtered).into_keys().filter(|id| id != "acme-org").collect();
    assert_eq!(
        members,
        BTreeSet::from([format!("acme-org-{prod1}"), format!("acme-org-{prod2}")]),
        "{summary}"
    );

    // The whole organization: three members plus the management account itself.
    let worker = Worker { store: dir.join("trustline.db"), endpoint: moto.endpoint() };
    add_org(&worker, &[]);
    let summary: Value = serde_json::from_str(&worker.ok(&["sync", "--json"], None)).unwrap();
    let member = |a: &str| format!("acme-org-{a}");
    let mut ok: Vec<String> = vec!["acme-org".into(), member(&prod1), member(&prod2), member(&sandbox1)];
    ok.sort();
    assert_eq!(summary["ok"], serde_json::json!(ok), "{summary}");
    assert_eq!(summary["organizations"][0][1]["added"], 3, "{summary}");
    let listed = connections(&worker);
    assert_eq!(listed[&member(&sandbox1)], ("active".to_owned(), Some("acme-org".to_owned())));
    // Each member's inventory is its own account's, read through its member role.
    let inventory = worker.inventory();
    assert_eq!(inventory[&member(&prod1)]["iam-user global"], vec!["prod-user"]);
    assert_eq!(inventory[&member(&sandbox1)]["iam-user global"], vec!["sandbox-user"]);
    assert_eq!(inventory["acme-org"]["iam-user global"], vec!["management-user"]);

    // One account suspended, one gone from the organization: both skipped and kept as stale.
    org_script(&moto, &["suspend", &sandbox1]);
    org_script(&moto, &["remove", &prod2]);
    let summary: Value = serde_json::from_str(&worker.ok(&["sync", "--json"], None)).unwrap();
    assert_eq!(summary["ok"], serde_json::json!(["acme-org", member(&prod1)]), "{summary}");
    let mut skipped = vec![member(&prod2), member(&sandbox1)];
    skipped.sort();
    assert_eq!(summary["skipped"], serde_json::json!(skipped), "{summary}");
    let listed = connections(&worker);
    assert_eq!(listed[&member(&sandbox1)].0, "suspended");
    assert_eq!(listed[&member(&prod2)].0, "removed");
    let export = worker.ok(&["export"], None);
    let stale: Vec<Value> = export
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|r| r["connection"] == member(&sandbox1))
        .collect();
    assert!(!stale.is_empty() && stale.iter().all(|r| r["stale"] == true), "{stale:?}");

    // Removing the Organization connection removes its members too.
    worker.ok(&["accounts", "remove", "acme-org"], None);
    assert!(connections(&worker).is_empty());
}
