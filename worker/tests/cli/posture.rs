//! Connections stay verified: every sync re-checks each connection before reading it, against
//! the stand-in, whose role the test changes between syncs as a customer would (the ExternalId
//! condition dropped and restored, a data set's permissions detached, the principal widened to
//! `*`), and the posture follows, with a compact history and at most four extra calls a sync.

use std::path::Path;

use serde_json::{Value, json};
use trustline_testkit::standin::{Role, StandIn};

const ROLE: &str = "arn:aws:iam::222222222222:role/Reader";

fn trust(principal: &str, condition: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{principal},"Action":"sts:AssumeRole"{condition}}}]}}"#
    )
}

const VENDOR: &str = r#"{"AWS":"arn:aws:iam::111111111111:root"}"#;
const EXACT: &str = r#","Condition":{"StringEquals":{"sts:ExternalId":"acme:ext-1"}}"#;

fn set_role(aws: &StandIn, trust_policy: String, denied: &[&str]) {
    aws.add_role(Role {
        arn: ROLE.into(),
        trust_policy,
        denied_actions: denied.iter().map(|d| (*d).to_owned()).collect(),
        max_session_seconds: 3600,
    });
}

fn ok(store: &Path, endpoint: &str, args: &[&str]) -> String {
    let out = crate::trustline_at(store, endpoint, args).output().unwrap();
    assert!(out.status.success(), "trustline {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

fn json_of(store: &Path, endpoint: &str, args: &[&str]) -> Value {
    serde_json::from_str(&ok(store, endpoint, args)).unwrap()
}

/// The connection's row of `posture --json`.
fn posture(store: &Path, endpoint: &str) -> Value {
    json_of(store, endpoint, &["posture", "--json", "--account", "acme"])[0].clone()
}

fn finding_ids(row: &Value) -> Vec<String> {
    row["findings"].as_array().unwrap().iter().map(|f| f["id"].as_str().unwrap().to_owned()).collect()
}

/// Calls the re-verification added to a sync (from the stand-in's counters before and after):
/// AssumeRoles beyond the session the sync itself uses, GetRole, and a key's own ListAccessKeys.
fn extra_calls(before: &trustline_testkit::sim::SimStats, after: &trustline_testkit::sim::SimStats) -> u64 {
    let delta = |api: &str| after.requests_for(api) - before.requests_for(api);
    let decoys = delta("AssumeRole") - (after.sessions_issued - before.sessions_issued);
    decoys + delta("GetRole")
}

fn sync(store: &Path, endpoint: &str, extra: &[&str]) -> Value {
    json_of(store, endpoint, &[&["sync", "--json"], extra].concat())
}

#[test]
#[allow(clippy::print_stderr)] // the figures, for `--no-capture`
fn posture_follows_the_customers_changes_between_syncs() {
    let aws = StandIn::start();
    aws.add_user("111111111111", "vendor", "AKIAVENDOR0000000001");
    aws.add_user("222222222222", "alice", "AKIAALICE00000000001");
    set_role(&aws, trust(VENDOR, EXACT), &[]);
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("trustline.db");
    let endpoint = aws.endpoint();
    let add = [
        "accounts",
        "add",
        "--id",
        "acme",
        "--role-arn",
        ROLE,
        "--external-id",
        "acme:ext-1",
        "--data-set",
        "iam,ec2-network,cloudtrail",
        "--region",
        "eu-west-1",
    ];
    ok(&store, &endpoint, &add);
    let listed = ok(&store, &endpoint, &["accounts", "list"]);
    assert!(listed.contains("POSTURE") && listed.contains("unchecked"), "{listed}");

    // Healthy: the role as onboarded. At most 4 calls beside the sync's own (here 3: two decoy
    // AssumeRoles and GetRole).
    let before = aws.stats();
    let started = std::time::Instant::now();
    let summary = sync(&store, &endpoint, &[]);
    let after = aws.stats();
    let extra = extra_calls(&before, &after);
    eprintln!(
        "healthy sync: {} AWS requests, {extra} of them re-verification, {:?}",
        after.requests - before.requests,
        started.elapsed()
    );
    assert_eq!(extra, 3, "{after:?} {}", posture(&store, &endpoint));
    assert!(extra <= 4);
    assert_eq!(summary["ok"], json!(["acme"]), "{summary}");
    assert_eq!(summary["postures"], json!([["acme", "healthy"]]), "{summary}");
    assert_eq!(summary["posture_changes"][0]["to"], "healthy", "the first check is announced");
    let row = posture(&store, &endpoint);
    assert_eq!((row["posture"].as_str(), finding_ids(&row).len()), (Some("healthy"), 0), "{row}");
    let first_check = row["last_checked_at"].as_str().unwrap().to_owned();

    // The customer drops the ExternalId condition: unsafe at once, still read (sync.read_unsafe).
    set_role(&aws, trust(VENDOR, ""), &[]);
    let summary = sync(&store, &endpoint, &[]);
    assert_eq!(summary["ok"], json!(["acme"]), "read, but flagged: {summary}");
    assert_eq!(summary["postures"], json!([["acme", "unsafe"]]));
    let change = &summary["posture_changes"][0];
    assert_eq!((change["from"].as_str(), change["to"].as_str()), (Some("healthy"), Some("unsafe")));
    let row = posture(&store, &endpoint);
    assert_eq!(row["posture"], "unsafe");
    let ids = finding_ids(&row);
    for id in ["external_id_required_missing", "external_id_required_same_prefix", "trust_policy_unsafe:0"] {
        assert!(ids.iter().any(|i| i == id), "{id} in {ids:?}");
    }
    let missing = &row["findings"][0];
    assert_eq!(missing["severity"], "critical");
    assert!(missing["evidence"].as_str().unwrap().contains("without an ExternalId"), "{missing}");
    assert!(missing["fix"].as_str().unwrap().contains("StringEquals"), "{missing}");
    let table = ok(&store, &endpoint, &["posture"]);
    assert!(table.contains("unsafe") && table.contains("[critical]"), "{table}");
    let listed: Value = json_of(&store, &endpoint, &["accounts", "list", "--format", "json"]);
    assert_eq!(listed[0]["posture"], "unsafe");

    // With sync.read_unsafe = false the inventory is not read, and the run says why; the
    // unchanged posture adds no history.
    // (Its only account failing, the sync exits with an error that carries the summary.)
    let out = crate::trustline_at(&store, &endpoint, &["sync", "--json", "--set", "sync.read_unsafe=false"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("every account failed"), "{err}");
    assert!(
        err.contains("not read: the connection is unsafe") && err.contains("sync.read_unsafe is false"),
        "{err}"
    );
    assert!(err.contains(r#""posture_changes": []"#), "{err}");
    let stale: Vec<Value> =
        json_of(&store, &endpoint, &["inventory", "--format", "json"]).as_array().unwrap().clone();
    assert!(!stale.is_empty() && stale.iter().all(|r| r["stale"] == true), "{stale:?}");

    // Restored: healthy again.
    set_role(&aws, trust(VENDOR, EXACT), &[]);
    let summary = sync(&store, &endpoint, &[]);
    assert_eq!(summary["postures"], json!([["acme", "healthy"]]), "{summary}");
    assert_eq!(finding_ids(&posture(&store, &endpoint)).len(), 0);

    // A data set's policy detached: degraded, naming the denied action; the others are read
    // and fresh.
    let ec2 = [
        "ec2:DescribeInstances",
        "ec2:DescribeVpcs",
        "ec2:DescribeSubnets",
        "ec2:DescribeSecurityGroups",
        "ec2:DescribeNetworkInterfaces",
        "ec2:DescribeRegions",
    ];
    set_role(&aws, trust(VENDOR, EXACT), &ec2);
    let summary = sync(&store, &endpoint, &[]);
    assert_eq!(summary["partial"][0][0], "acme", "{summary}");
    assert_eq!(summary["postures"], json!([["acme", "degraded"]]));
    let row = posture(&store, &endpoint);
    // The region's five lists are read side by side: each denied action is named.
    assert_eq!(
        finding_ids(&row),
        [
            "permission_denied:ec2:DescribeInstances",
            "permission_denied:ec2:DescribeNetworkInterfaces",
            "permission_denied:ec2:DescribeSecurityGroups",
            "permission_denied:ec2:DescribeSubnets",
            "permission_denied:ec2:DescribeVpcs",
        ],
        "{row}"
    );
    assert_eq!(row["findings"][0]["severity"], "error");
    assert!(row["findings"][0]["evidence"].as_str().unwrap().contains("ec2-network"), "{row}");
    let inventory = json_of(&store, &endpoint, &["inventory", "--kind", "iam-role", "--format", "json"]);
    let reader =
        inventory.as_array().unwrap().iter().find(|r| r["id"] == "Reader").expect("the role is inventory");
    assert_eq!(reader["stale"], false, "IAM is still read: {reader}");

    // The principal widened to "*", ExternalId kept: unsafe, though every decoy is refused. The
    // role may not read itself (iam:GetRole denied): the IAM data set's read has its trust policy.
    set_role(&aws, trust(r#""*""#, EXACT), &["iam:GetRole"]);
    let before = aws.stats();
    let summary = sync(&store, &endpoint, &[]);
    assert!(extra_calls(&before, &aws.stats()) <= 4);
    assert_eq!(summary["postures"], json!([["acme", "unsafe"]]), "{summary}");
    assert_eq!(finding_ids(&posture(&store, &endpoint)), ["trust_principal_widened:0"]);

    // `posture --check` re-verifies on demand, without reading inventory.
    set_role(&aws, trust(VENDOR, EXACT), &[]);
    let before = aws.stats();
    let checked = ok(&store, &endpoint, &["posture", "--check", "--account", "acme"]);
    assert!(checked.contains("acme") && checked.contains("healthy"), "{checked}");
    assert_eq!(
        aws.stats().requests_for("GetAccountAuthorizationDetails"),
        before.requests_for("GetAccountAuthorizationDetails") + 1,
        "one probe per action, one item each"
    );
    let row = posture(&store, &endpoint);
    assert_eq!((row["posture"].as_str(), row["run_id"].is_null()), (Some("healthy"), true), "{row}");
    assert!(row["last_checked_at"].as_str().unwrap() >= first_check.as_str());

    // History holds the changes only: healthy, unsafe, healthy, degraded, unsafe, healthy.
    let history = crate::store_query(
        &store,
        "SELECT posture FROM posture_history WHERE connection_id = 'acme' ORDER BY seq",
    );
    assert_eq!(history, ["healthy", "unsafe", "healthy", "degraded", "unsafe", "healthy"]);

    let err = crate::trustline_at(&store, &endpoint, &["posture", "--account", "nope"]).output().unwrap();
    assert!(String::from_utf8_lossy(&err.stderr).contains("--account: no connection 'nope'"));
}

/// A customer's access key: its age from its own metadata (one extra call), never root's.
#[test]
#[allow(clippy::print_stderr)] // the figures, for `--no-capture`
fn posture_of_an_access_key_reports_its_age() {
    let aws = StandIn::start();
    aws.add_user("111111111111", "vendor", "AKIAVENDOR0000000001");
    aws.add_user("333333333333", "trustline-reader", "AKIAKEYPOSTURE000001");
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("trustline.db");
    let endpoint = aws.endpoint();
    let add = [
        "accounts",
        "add",
        "--id",
        "acme",
        "--kind",
        "access-key",
        "--access-key-id",
        "AKIAKEYPOSTURE000001",
        "--secret",
        "env:TRUSTLINE_POSTURE_SECRET",
        "--data-set",
        "iam",
    ];
    let run = |args: &[&str]| {
        let out = crate::trustline_at(&store, &endpoint, args)
            .env("TRUSTLINE_POSTURE_SECRET", "customer-secret")
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    run(&add);
    let before = aws.stats();
    let summary: Value = serde_json::from_str(&run(&["sync", "--json"])).unwrap();
    let after = aws.stats();
    // The sync's own IAM read lists the keys of the account's one user (ListAccessKeys with its
    // name); the check adds one ListAccessKeys without a user name, and nothing else.
    let delta = |api: &str| after.requests_for(api) - before.requests_for(api);
    let extra = delta("ListAccessKeys") - 1 + delta("GetRole") + delta("AssumeRole");
    eprintln!(
        "access-key sync: {} AWS requests, {extra} of them re-verification",
        after.requests - before.requests
    );
    assert_eq!(extra, 1, "{after:?}");
    assert_eq!(summary["postures"], json!([["acme", "healthy"]]), "an old key only warns: {summary}");
    let row = posture(&store, &endpoint);
    // The stand-in's keys were created on 2026-01-01.
    let created = time::macros::datetime!(2026-01-01 00:00 UTC);
    let old = (time::OffsetDateTime::now_utc() - created).whole_days() > 90;
    assert_eq!(finding_ids(&row) == ["access_key_age"], old, "{row}");
    if old {
        let f = &row["findings"][0];
        assert_eq!(f["severity"], "warning");
        assert!(f["evidence"].as_str().unwrap().contains("AKIAKEYPOSTURE000001"), "{f}");
        assert!(f["fix"].as_str().unwrap().contains("Rotate access keys regularly"), "{f}");
        assert!(!row.to_string().contains("customer-secret"), "no secret is ever shown");
    }
}

/// The STS kind: the customer's own user assumes the role, so the role may trust no other
/// account; its key's age comes from the key's own metadata.
#[test]
fn posture_of_an_sts_connection_allows_no_other_account() {
    let aws = StandIn::start();
    aws.add_user("111111111111", "vendor", "AKIAVENDOR0000000001");
    aws.add_user("222222222222", "trustline", "AKIASTSPOSTURE000001");
    let own = r#"{"AWS":"arn:aws:iam::222222222222:user/trustline"}"#;
    set_role(&aws, trust(own, ""), &[]);
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("trustline.db");
    let endpoint = aws.endpoint();
    let run = |args: &[&str]| {
        let out = crate::trustline_at(&store, &endpoint, args)
            .env("TRUSTLINE_POSTURE_SECRET", "customer-secret")
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    run(&[
        "accounts",
        "add",
        "--id",
        "acme",
        "--kind",
        "sts",
        "--role-arn",
        ROLE,
        "--access-key-id",
        "AKIASTSPOSTURE000001",
        "--secret",
        "env:TRUSTLINE_POSTURE_SECRET",
        "--data-set",
        "cloudtrail",
        "--region",
        "eu-west-1",
    ]);
    let before = aws.stats();
    let summary: Value = serde_json::from_str(&run(&["sync", "--json"])).unwrap();
    let after = aws.stats();
    // No ExternalId, so no decoy: GetRole and the key's own ListAccessKeys.
    assert_eq!(
        extra_calls(&before, &after) + after.requests_for("ListAccessKeys")
            - before.requests_for("ListAccessKeys"),
        2,
        "{after:?}"
    );
    assert_eq!(summary["postures"], json!([["acme", "healthy"]]), "{summary}");

    let widened = r#"{"AWS":["arn:aws:iam::222222222222:user/trustline","arn:aws:iam::999999999999:root"]}"#;
    set_role(&aws, trust(widened, ""), &[]);
    let summary: Value = serde_json::from_str(&run(&["sync", "--json"])).unwrap();
    assert_eq!(summary["postures"], json!([["acme", "unsafe"]]), "{summary}");
    let row = posture(&store, &endpoint);
    let ids = finding_ids(&row);
    assert!(
        ids.contains(&"trust_principal_widened".to_owned())
            && ids.contains(&"trust_policy_unsafe:0".to_owned()),
        "{ids:?}"
    );
    let widened =
        row["findings"].as_array().unwrap().iter().find(|f| f["id"] == "trust_principal_widened").unwrap();
    assert!(widened["evidence"].as_str().unwrap().contains("999999999999"), "{widened}");
}
