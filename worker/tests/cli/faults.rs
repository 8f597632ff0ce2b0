//! The fault suite, against testkit's organization simulator (AWS's wire shapes, token
//! buckets, deterministic faults): every fault kind injected during a multi-account
//! Organization sync leaves exactly the inventory and events a fault-free run leaves (which is
//! exactly the simulator's); a sync outliving many role-chained sessions never surfaces
//! ExpiredToken; suspended, removed and revoked accounts are isolated, recorded and kept stale.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use serde_json::Value;
use trustline_testkit::sim::{Fault, FaultKind, FaultPlan, Rate, Rates, Sim, SimConfig};

/// A small organization with short pages (7 items), so every list takes several pages; rates
/// are AWS's shapes scaled up so the suite runs in seconds.
fn config() -> SimConfig {
    SimConfig {
        accounts: 3,
        users: 6,
        roles: 3,
        groups: 2,
        local_policies: 2,
        aws_managed_policies: 2,
        instances: 9,
        vpcs: 2,
        subnets: 4,
        security_groups: 3,
        interfaces: 6,
        events: 150,
        page_cap: 7,
        rates: Rates {
            cloudtrail: Rate { per_second: 40.0, burst: 2 },
            ec2: Rate { per_second: 100.0, burst: 100 },
            iam: Rate { per_second: 100.0, burst: 50 },
            organizations: Rate { per_second: 50.0, burst: 10 },
            sts: Rate { per_second: 600.0, burst: 600 },
        },
        ..SimConfig::default()
    }
}

/// The worker's buckets just under the simulator's.
const LIMITS: [&str; 8] = [
    "limits.cloudtrail.per_second=38",
    "limits.cloudtrail.burst=1",
    "limits.ec2.per_second=95",
    "limits.ec2.burst=50",
    "limits.iam.per_second=95",
    "limits.iam.burst=20",
    "limits.organizations.per_second=45",
    "limits.organizations.burst=5",
];

struct Worker {
    store: PathBuf,
    endpoint: String,
    key: (String, String),
    config_file: Option<PathBuf>,
}

impl Worker {
    fn new(sim: &Sim, dir: &Path, name: &str) -> Worker {
        std::fs::create_dir_all(dir).unwrap();
        let store = dir.join(format!("{name}.db"));
        for suffix in ["", "-wal", "-shm", ".lock"] {
            std::fs::remove_file(format!("{}{suffix}", store.display())).ok();
        }
        Worker { store, endpoint: sim.endpoint(), key: sim.vendor_access_key(), config_file: None }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_trustline"));
        cmd.args(args)
            .arg("--store")
            .arg(crate::store_arg(&self.store))
            .args(crate::lease_ttl_args())
            .arg("--endpoint-url")
            .arg(&self.endpoint);
        for set in LIMITS {
            cmd.args(["--set", set]);
        }
        cmd.env("AWS_ACCESS_KEY_ID", &self.key.0)
            .env("AWS_SECRET_ACCESS_KEY", &self.key.1)
            .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_SESSION_TOKEN");
        match &self.config_file {
            // Role chaining: the vendor's own role, from its key, then each customer's role.
            // The SDK's chain assumes that role itself, through the endpoint the SDK is told of.
            Some(file) => {
                cmd.env("AWS_CONFIG_FILE", file)
                    .env("AWS_PROFILE", "vendor-role")
                    .env("AWS_ENDPOINT_URL_STS", &self.endpoint);
            }
            None => {
                cmd.env("AWS_CONFIG_FILE", "/dev/null");
            }
        }
        cmd
    }

    fn ok(&self, args: &[&str]) -> String {
        let out: Output = self.command(args).output().unwrap();
        assert!(out.status.success(), "trustline {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    }

    fn add_org(&self, sim: &Sim) {
        self.ok(&[
            "accounts",
            "add",
            "--id",
            "org",
            "--role-arn",
            &sim.org_role_arn(),
            "--external-id",
            &sim.external_id(),
            "--organization",
        ]);
    }

    fn sync(&self) -> Value {
        serde_json::from_str(&self.ok(&["sync", "--json"])).unwrap()
    }

    /// connection → (region, kind, id) → stale.
    fn inventory(&self) -> BTreeMap<String, BTreeMap<(String, String, String), bool>> {
        let mut out: BTreeMap<String, BTreeMap<_, _>> = BTreeMap::new();
        for line in self.ok(&["export"]).lines() {
            let r: Value = serde_json::from_str(line).unwrap();
            let text = |k: &str| r[k].as_str().unwrap().to_owned();
            out.entry(text("connection"))
                .or_default()
                .insert((text("region"), text("kind"), text("id")), r["stale"].as_bool().unwrap());
        }
        out
    }

    /// connection → event IDs, and how many events were listed in all (a duplicate would show
    /// as a count above the IDs').
    fn events(&self) -> (BTreeMap<String, BTreeSet<String>>, usize) {
        let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        let mut count = 0;
        for line in self.ok(&["events", "--since", "1970-01-01T00:00:00Z"]).lines() {
            let e: Value = serde_json::from_str(line).unwrap();
            out.entry(e["connection"].as_str().unwrap().to_owned())
                .or_default()
                .insert(e["event_id"].as_str().unwrap().to_owned());
            count += 1;
        }
        (out, count)
    }
}

fn dir(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("trustline-faults-{name}-{}", std::process::id()))
}

/// Every organization account (management included) as the sync names its connection.
fn accounts(sim: &Sim) -> Vec<String> {
    let mut all = vec![sim.management_account()];
    all.extend(sim.member_accounts());
    all
}

/// connection → (region, kind, id).
type Resources = BTreeMap<String, BTreeSet<(String, String, String)>>;

/// What a complete sync must store, from the simulator: resources and event IDs per connection.
fn expected(sim: &Sim) -> (Resources, BTreeMap<String, BTreeSet<String>>) {
    let mut resources = BTreeMap::new();
    let mut events = BTreeMap::new();
    for account in accounts(sim) {
        let e = sim.expected(&account);
        resources.insert(format!("org-{account}"), e.resources);
        events.insert(format!("org-{account}"), e.event_ids);
    }
    (resources, events)
}

fn ids(inventory: &BTreeMap<String, BTreeMap<(String, String, String), bool>>) -> Resources {
    inventory.iter().map(|(c, r)| (c.clone(), r.keys().cloned().collect())).collect()
}

fn assert_all_ok(summary: &Value, sim: &Sim, label: &str) {
    assert_eq!(summary["failed"], serde_json::json!([]), "{label}: {summary}");
    assert_eq!(summary["partial"], serde_json::json!([]), "{label}: {summary}");
    let mut ok: Vec<String> = accounts(sim).iter().map(|a| format!("org-{a}")).collect();
    ok.push("org".into());
    ok.sort();
    assert_eq!(summary["ok"], serde_json::json!(ok), "{label}: {summary}");
    // Every member was re-verified before it was read, and its role is as the StackSet made it
    // (faults may leave a probe unproven, which only warns).
    let postures = summary["postures"].as_array().unwrap();
    assert_eq!(postures.len(), accounts(sim).len(), "{label}: {summary}");
    assert!(postures.iter().all(|p| p[1] == "healthy"), "{label}: {summary}");
}

/// The clean run equals the simulator; then each fault kind, injected on every API, leaves the
/// same inventory and the same events, each once.
#[test]
#[allow(clippy::print_stderr)]
fn every_fault_kind_leaves_exactly_the_inventory_of_a_clean_run() {
    let root = dir("kinds");
    let clean_sim = Sim::start(config());
    let clean = Worker::new(&clean_sim, &root, "clean");
    clean.add_org(&clean_sim);
    assert_all_ok(&clean.sync(), &clean_sim, "clean run");
    let (want_resources, want_events) = expected(&clean_sim);
    let clean_inventory = ids(&clean.inventory());
    let (clean_events, clean_count) = clean.events();
    // The management account's connection holds only its discovery; members hold inventories.
    assert_eq!(clean_inventory, want_resources, "the clean run stores exactly the simulator's inventory");
    assert_eq!(clean_events, want_events, "the clean run stores exactly the simulator's events");
    assert_eq!(clean_count, want_events.values().map(BTreeSet::len).sum::<usize>());
    drop(clean_sim);

    let mut plans: Vec<(String, FaultPlan)> = FaultKind::ALL
        .iter()
        .map(|&kind| {
            // Slow answers are expensive; the others hit often.
            let probability = match kind {
                FaultKind::Slow => 0.03,
                FaultKind::ExpiredToken => 0.3,
                _ => 0.12,
            };
            let plan = FaultPlan {
                faults: vec![Fault { kind, probability, every_nth: 0, apis: Vec::new() }],
                slow_delay: Duration::from_millis(400),
                clock_skew_seconds: None,
            };
            (kind.as_str().to_owned(), plan)
        })
        .collect();
    // The simulator's clock 20 minutes ahead: every service refuses the first signatures.
    plans.push(("clock_skew".into(), FaultPlan { clock_skew_seconds: Some(1200), ..FaultPlan::none() }));

    for (name, plan) in plans {
        let t = Instant::now();
        let sim = Sim::start(SimConfig { faults: plan, ..config() });
        let worker = Worker::new(&sim, &root, &name);
        worker.add_org(&sim);
        let summary = worker.sync();
        let stats = sim.stats();
        let injected = stats.faults.get(&name).copied().unwrap_or(0);
        assert!(injected > 0, "{name}: no fault injected: {stats:?}");
        assert_all_ok(&summary, &sim, &name);
        assert_eq!(ids(&worker.inventory()), clean_inventory, "{name}: inventory differs from the clean run");
        let (events, count) = worker.events();
        assert_eq!(events, clean_events, "{name}: events differ from the clean run");
        assert_eq!(count, clean_count, "{name}: an event is stored twice");
        eprintln!(
            "{name}: {injected} faults injected, {} requests, {:.1} s",
            stats.requests,
            t.elapsed().as_secs_f64()
        );
    }
    std::fs::remove_dir_all(&root).ok();
}

/// Sessions that last 1.2 s (AWS's one-hour role-chained sessions, compressed 3,000 times),
/// announced honestly: a sync lasting several of them refreshes each ahead of its expiry, both
/// the vendor's own role session and every customer's, and the simulator never has to refuse one.
#[test]
fn a_sync_outliving_many_role_chained_sessions_never_meets_expired_token() {
    let root = dir("sessions");
    let sim = Sim::start(SimConfig {
        session_lifetime: Duration::from_millis(1200),
        events: 300,
        rates: Rates { cloudtrail: Rate { per_second: 10.0, burst: 1 }, ..config().rates },
        ..config()
    });
    let mut worker = Worker::new(&sim, &root, "sessions");
    let profile = root.join("aws-config");
    let (key, secret) = sim.vendor_access_key();
    std::fs::write(
        &profile,
        format!(
            "[profile vendor-key]\naws_access_key_id = {key}\naws_secret_access_key = {secret}\n\n\
             [profile vendor-role]\nrole_arn = {}\nsource_profile = vendor-key\n",
            sim.vendor_role_arn()
        ),
    )
    .unwrap();
    worker.config_file = Some(profile);
    worker.add_org(&sim);
    let t = Instant::now();
    // The simulator's buckets for CloudTrail are 10/s here; the worker's just under.
    let summary: Value =
        serde_json::from_str(&worker.ok(&["sync", "--json", "--set", "limits.cloudtrail.per_second=9"]))
            .unwrap();
    let took = t.elapsed();
    assert_all_ok(&summary, &sim, "sessions");
    let stats = sim.stats();
    let lifetimes = took.as_secs_f64() / 1.2;
    assert!(lifetimes >= 3.0, "the sync must outlive several sessions: {took:?}");
    assert_eq!(stats.expired_token_answers, 0, "a session was used after it expired: {stats:?}");
    assert!(
        stats.sessions_issued as f64 >= 4.0 * lifetimes,
        "each of the 4 accounts' sessions (and the vendor's) were renewed: {} sessions in {took:?}",
        stats.sessions_issued
    );
    let (_, want_events) = expected(&sim);
    assert_eq!(worker.events().0, want_events);
    std::fs::remove_dir_all(&root).ok();
}

/// A suspended account is skipped and recorded; a permission revoked mid-run makes its account
/// partial, keeping what was read and everything else fresh; on the next run an account gone
/// from the organization is skipped and kept stale, and a revoked list is kept stale alone.
#[test]
fn suspended_removed_and_revoked_accounts_are_isolated_recorded_and_kept_stale() {
    let root = dir("isolation");
    let sim = Sim::start(SimConfig {
        accounts: 4,
        suspended: vec![3],
        events: 300,
        rates: Rates { cloudtrail: Rate { per_second: 10.0, burst: 1 }, ..config().rates },
        ..config()
    });
    let members = sim.member_accounts();
    let (revoked, removed, suspended) = (&members[0], &members[1], &members[3]);
    let worker = Worker::new(&sim, &root, "isolation");
    worker.add_org(&sim);

    // First run: CloudTrail is revoked for one account once the run is reading events.
    let child = worker
        .command(&["sync", "--json", "--set", "limits.cloudtrail.per_second=9"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let lookups = sim.stats().requests_per_api.get("LookupEvents").copied().unwrap_or(0);
        if lookups >= 6 {
            sim.revoke(revoked, "cloudtrail:LookupEvents");
            break;
        }
        assert!(Instant::now() < deadline, "the sync never reached CloudTrail");
        std::thread::sleep(Duration::from_millis(10));
    }
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    let partial = summary["partial"].as_array().unwrap();
    assert_eq!(partial.len(), 1, "{summary}");
    assert_eq!(partial[0][0], format!("org-{revoked}"));
    assert!(partial[0][1].as_str().unwrap().contains("CloudTrail"), "{summary}");
    assert!(
        summary["skipped"].as_array().unwrap().contains(&Value::from(format!("org-{suspended}"))),
        "{summary}"
    );
    let inventory = worker.inventory();
    let (want, _) = expected(&sim);
    // Its IAM and EC2 were read in full; only its CloudTrail stopped.
    let key = format!("org-{revoked}");
    assert_eq!(inventory[&key].keys().cloned().collect::<BTreeSet<_>>(), want[&key]);
    assert!(inventory[&key].values().all(|stale| !stale));
    assert!(!inventory.contains_key(&format!("org-{suspended}")), "a suspended account is never read");
    let accounts_list: Value =
        serde_json::from_str(&worker.ok(&["accounts", "list", "--format", "json"])).unwrap();
    let status = |id: &str| {
        accounts_list
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == id)
            .map(|c| c["status"].as_str().unwrap().to_owned())
    };
    assert_eq!(status(&format!("org-{suspended}")).as_deref(), Some("suspended"));

    // Second run: one account left the organization; another lost EC2 on top of CloudTrail.
    sim.remove_account(removed);
    sim.revoke(revoked, "ec2:DescribeInstances");
    let summary: Value =
        serde_json::from_str(&worker.ok(&["sync", "--json", "--set", "limits.cloudtrail.per_second=9"]))
            .unwrap();
    let skipped: BTreeSet<String> =
        summary["skipped"].as_array().unwrap().iter().map(|s| s.as_str().unwrap().to_owned()).collect();
    assert!(skipped.contains(&format!("org-{removed}")), "{summary}");
    let partial = summary["partial"].as_array().unwrap();
    assert_eq!(partial.len(), 1, "{summary}");
    let message = partial[0][1].as_str().unwrap();
    assert!(message.contains("EC2") && message.contains("CloudTrail"), "{message}");
    let inventory = worker.inventory();
    // The removed account's inventory is kept, all of it stale.
    let gone = &inventory[&format!("org-{removed}")];
    assert_eq!(gone.keys().cloned().collect::<BTreeSet<_>>(), want[&format!("org-{removed}")]);
    assert!(gone.values().all(|stale| *stale), "kept as stale");
    // The revoked account: EC2 kept but stale; IAM fresh.
    for ((region, kind, id), stale) in &inventory[&key] {
        assert_eq!(*stale, kind.starts_with("ec2-"), "{region} {kind} {id}");
    }
    // The others are untouched by both.
    for account in [&sim.management_account(), &members[2]] {
        assert!(inventory[&format!("org-{account}")].values().all(|stale| !stale));
    }
    let accounts_list: Value =
        serde_json::from_str(&worker.ok(&["accounts", "list", "--format", "json"])).unwrap();
    let removed_status = accounts_list
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == format!("org-{removed}"))
        .map(|c| c["status"].as_str().unwrap().to_owned());
    assert_eq!(removed_status.as_deref(), Some("removed"));
    std::fs::remove_dir_all(&root).ok();
}

/// Members are read while their Organization is still being listed: with ListAccounts slowed to
/// two pages a second, member accounts' IAM is being read before the listing's last page, and
/// the run still ends with exactly the simulator's inventory and every member listed once.
#[test]
fn members_are_read_while_the_organization_is_still_listed() {
    let root = dir("listing");
    let sim = Sim::start(SimConfig {
        accounts: 20,
        events: 20,
        rates: Rates { organizations: Rate { per_second: 2.0, burst: 1 }, ..config().rates },
        ..config()
    });
    // 21 accounts at 7 a page: 3 pages, the last about a second after the first.
    let pages = 3;
    let worker = Worker::new(&sim, &root, "listing");
    worker.add_org(&sim);
    let child = worker
        .command(&[
            "sync",
            "--json",
            "--set",
            "limits.organizations.per_second=1.9",
            "--set",
            "limits.organizations.burst=1",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut overlapped = None;
    while overlapped.is_none() {
        let stats = sim.stats();
        // Pages answered: requests less those the bucket refused (retried).
        let listed = stats.requests_per_api.get("ListAccounts").copied().unwrap_or(0)
            - stats.throttled_by_bucket.get("ListAccounts").copied().unwrap_or(0);
        if listed >= pages {
            break;
        }
        let read = stats.requests_per_api.get("GetAccountAuthorizationDetails").copied().unwrap_or(0);
        if read > 0 {
            overlapped = Some((listed, read));
        }
        assert!(Instant::now() < deadline, "the listing never ended");
        std::thread::sleep(Duration::from_millis(5));
    }
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (listed, read) = overlapped.expect("no member was read before the last page of ListAccounts");
    assert!(listed < pages && read > 0);
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_all_ok(&summary, &sim, "listing");
    assert_eq!(summary["organizations"][0][1]["found"], 21, "{summary}");
    let (want, _) = expected(&sim);
    assert_eq!(ids(&worker.inventory()), want);
}
