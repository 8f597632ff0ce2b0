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
            .arg(&self.store)
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
        None,
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
        &worker.ok(&["inventory", "--tag", "service:webshop", "--format", "json"], None),
    )
    .unwrap();
    let by_connection: BTreeSet<&str> = webshop.iter().map(|r| r["connection"].as_str().unwrap()).collect();
    assert_eq!(by_connection, BTreeSet::from(["acme-a", "acme-b"]));
    assert!(webshop.iter().all(|r| r["tags"]["service"] == "webshop"));

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
