//! Killing the worker with SIGKILL at random points of a sync never damages the store: after
//! each kill SQLite's integrity check passes, and the next completed run leaves exactly what a
//! clean run leaves (every resource, and every CloudTrail event once). Accounts whose results
//! were committed before the kill are read again on restart and must not change or duplicate.
//!
//! TRUSTLINE_CRASH_RUNS sets the number of kills (CI: 6; 20 for a longer local run);
//! TRUSTLINE_CRASH_SEED replays a sequence of kill points (printed by each run).

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::Value;
use trustline_testkit::standin::{Role, StandIn, TrailEvent};

const ACCOUNTS: [&str; 3] = ["222222222222", "333333333333", "444444444444"];
const REGIONS: &str = "us-east-1,eu-west-1";

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

/// The vendor, and per account a reader role, two users with keys and 300 CloudTrail events in
/// each of two regions (6 pages each at LookupEvents' 2 per second: a sync takes seconds).
fn organisation() -> StandIn {
    let aws = StandIn::start();
    aws.add_user("111111111111", "vendor", "AKIAVENDOR0000000001");
    let t = now() - 60;
    for (n, account) in ACCOUNTS.iter().enumerate() {
        aws.add_role(Role {
            arn: format!("arn:aws:iam::{account}:role/Reader"),
            trust_policy: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"ext-1"}}}]}"#.into(),
            denied_actions: vec![],
            max_session_seconds: 3600,
        });
        for u in 0..2 {
            aws.add_user(account, &format!("user-{u}"), &format!("AKIACRASH{n}{u}0000000000"));
        }
        for region in ["us-east-1", "eu-west-1"] {
            let events = (0..300)
                .map(|i| TrailEvent {
                    id: format!("{account}-{region}-{i:04}"),
                    time: t - i * 120,
                    name: "PutObject".into(),
                })
                .collect();
            aws.add_events(account, region, events);
        }
    }
    aws
}

fn add_connections(store: &Path, endpoint: &str) {
    for (n, account) in ACCOUNTS.iter().enumerate() {
        let out = crate::trustline_at(
            store,
            endpoint,
            &[
                "accounts",
                "add",
                "--id",
                &format!("acct-{n}"),
                "--role-arn",
                &format!("arn:aws:iam::{account}:role/Reader"),
                "--external-id",
                "ext-1",
                "--region",
                REGIONS,
            ],
        )
        .output()
        .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
}

fn sync_to_completion(store: &Path, endpoint: &str) {
    let out = crate::trustline_at(store, endpoint, &["sync", "--json"]).output().unwrap();
    assert!(out.status.success(), "sync: {}", String::from_utf8_lossy(&out.stderr));
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["ok"].as_array().map(Vec::len), Some(ACCOUNTS.len()), "{summary}");
}

/// Everything a run leaves, without the times it was seen: resource → its record, and
/// event → how many times it is stored.
fn contents(store: &Path, endpoint: &str) -> (BTreeMap<String, Value>, BTreeMap<String, u32>) {
    let lines = |args: &[&str]| {
        let out = crate::trustline_at(store, endpoint, args).output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    let mut resources = BTreeMap::new();
    for line in lines(&["export"]).lines() {
        let mut r: Value = serde_json::from_str(line).unwrap();
        let key = format!("{} {} {} {}", r["connection"], r["kind"], r["region"], r["id"]);
        for volatile in ["first_seen", "last_seen"] {
            r.as_object_mut().unwrap().remove(volatile);
        }
        resources.insert(key, r);
    }
    let mut events = BTreeMap::new();
    for line in lines(&["events"]).lines() {
        let e: Value = serde_json::from_str(line).unwrap();
        *events.entry(format!("{} {}", e["connection"], e["event_id"])).or_default() += 1;
    }
    (resources, events)
}

/// A small deterministic generator for the kill points (xorshift64*).
struct Points(u64);

impl Points {
    fn next_ms(&mut self, max: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % max
    }
}

#[test]
// The seed and the number of kills mid-run are the report of this test: printed for replay.
#[allow(clippy::print_stderr)]
fn sigkill_at_random_points_never_damages_the_store() {
    let runs: usize = std::env::var("TRUSTLINE_CRASH_RUNS").ok().and_then(|v| v.parse().ok()).unwrap_or(6);
    let seed: u64 = std::env::var("TRUSTLINE_CRASH_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| now().unsigned_abs() | 1);
    eprintln!("crash suite: {runs} kills, TRUSTLINE_CRASH_SEED={seed}");
    let dir = tempfile::tempdir().unwrap();

    // The clean run every recovered store must match.
    let clean_aws = organisation();
    let clean = dir.path().join("clean.db");
    add_connections(&clean, &clean_aws.endpoint());
    let started = Instant::now();
    sync_to_completion(&clean, &clean_aws.endpoint());
    let clean_ms = started.elapsed().as_millis() as u64;
    let expected = contents(&clean, &clean_aws.endpoint());
    assert_eq!(expected.1.len(), ACCOUNTS.len() * 2 * 300, "the clean run stored every event");
    assert!(expected.0.len() >= ACCOUNTS.len() * 5, "{} resources", expected.0.len());

    // Each kill interrupts a full first sync of a fresh store, at a uniform point of a clean
    // run's duration (startup, AssumeRole, the IAM and EC2 lists, CloudTrail's pages, commits).
    let aws = organisation();
    let mut points = Points(seed);
    let mut killed_mid_run = 0;
    for run in 0..runs {
        let store = dir.path().join(format!("killed-{run}.db"));
        add_connections(&store, &aws.endpoint());
        let at = Duration::from_millis(points.next_ms(clean_ms));
        let mut child = crate::trustline_at(&store, &aws.endpoint(), &["sync"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(at);
        let finished = child.try_wait().unwrap().is_some();
        child.kill().ok(); // SIGKILL
        child.wait().unwrap();
        killed_mid_run += usize::from(!finished);

        let check = trustline_worker::store::Store::open(&store).unwrap();
        assert_eq!(check.integrity_check().unwrap(), "ok", "run {run}: integrity after a kill at {at:?}");
        drop(check);

        sync_to_completion(&store, &aws.endpoint());
        let got = contents(&store, &aws.endpoint());
        assert_eq!(got.0, expected.0, "run {run} (killed at {at:?}): resources differ from a clean run's");
        assert!(got.1.values().all(|n| *n == 1), "run {run}: an event is stored twice");
        assert_eq!(got.1, expected.1, "run {run} (killed at {at:?}): events differ from a clean run's");
    }
    eprintln!(
        "crash suite: {killed_mid_run} of {runs} kills landed mid-run (a clean run takes {clean_ms} ms)"
    );
    assert!(killed_mid_run * 2 >= runs, "most kills should land mid-run: {killed_mid_run} of {runs}");
}

/// The store's runs, oldest first: (status, finished_at).
fn runs(store: &Path) -> Vec<(String, Option<String>)> {
    crate::store_query(store, "SELECT status || '|' || COALESCE(finished_at, '') FROM runs ORDER BY id")
        .into_iter()
        .map(|row| {
            let (status, finished) = row.split_once('|').unwrap();
            (status.to_owned(), Some(finished.to_owned()).filter(|f| !f.is_empty()))
        })
        .collect()
}

/// Starts `sync` and returns once its run is recorded as running.
fn sync_started(store: &Path, endpoint: &str) -> std::process::Child {
    let before = runs(store).len();
    let mut child = crate::trustline_at(store, endpoint, &["sync"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while runs(store).len() == before {
        assert!(child.try_wait().unwrap().is_none(), "the sync ended before its run was seen");
        assert!(Instant::now() < deadline, "no run recorded");
        std::thread::sleep(Duration::from_millis(20));
    }
    child
}

fn last_run_shown(store: &Path, endpoint: &str) -> Value {
    let out = crate::trustline_at(store, endpoint, &["accounts", "show", "acct-0"]).output().unwrap();
    let shown: Value = serde_json::from_str(&crate::stdout(&out)).unwrap();
    shown["last_run"].clone()
}

/// A run killed with SIGKILL stays `running` in the store, but is never shown as in progress,
/// and the next worker to take the store's lock closes it as `interrupted` with the time it
/// noticed. A worker that cannot take the lock (another is running) leaves runs alone.
#[test]
fn a_killed_run_is_closed_as_interrupted_by_the_next_worker() {
    let aws = organisation();
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("trustline.db");
    add_connections(&store, &aws.endpoint());

    let mut running = sync_started(&store, &aws.endpoint());
    // Under a loaded test run, `accounts show` once reported no run yet here although another
    // reader had seen it; it is asked again for a moment (see the report of this change).
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut shown = last_run_shown(&store, &aws.endpoint());
    while shown.is_null() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
        shown = last_run_shown(&store, &aws.endpoint());
    }
    assert_eq!(shown["status"], "running", "a live run is in progress: {shown}");
    if crate::postgres_server().is_none() {
        // A second worker is refused by the lock and closes nothing.
        let out = crate::trustline_at(&store, &aws.endpoint(), &["sync"]).output().unwrap();
        assert!(crate::stderr_of_failure(&out).contains("another trustline worker is using the store"));
    } else {
        // On PostgreSQL a second worker is one more replica, and the run's replica is beating
        // its heartbeat: opening the store for writing closes nothing.
        crate::stdout(
            &crate::trustline_at(&store, &aws.endpoint(), &["tenants", "add", "other"]).output().unwrap(),
        );
    }
    assert_eq!(runs(&store), vec![("running".to_owned(), None)]);
    running.kill().unwrap(); // SIGKILL
    running.wait().unwrap();
    let killed_at = trustline_worker::store::now_text();
    if crate::postgres_server().is_some() {
        // Its replica is taken for stopped once it has missed two lease times (2 s each here).
        std::thread::sleep(Duration::from_secs(5));
    }

    // Dead, not closed yet: readers say so without writing.
    assert_eq!(runs(&store), vec![("running".to_owned(), None)]);
    let shown = last_run_shown(&store, &aws.endpoint());
    assert_eq!(
        (shown["status"].as_str(), shown["finished_at"].as_str()),
        (Some("interrupted"), None),
        "{shown}"
    );
    assert_eq!(runs(&store), vec![("running".to_owned(), None)], "a reader closes nothing");

    // The next start closes it, then runs its own.
    sync_to_completion(&store, &aws.endpoint());
    let after = runs(&store);
    assert_eq!(after.len(), 2, "{after:?}");
    assert_eq!(after[0].0, "interrupted");
    let noticed = after[0].1.clone().expect("closed with the time it was noticed");
    assert!(noticed >= killed_at, "{noticed} is after the kill at {killed_at}");
    assert_eq!(after[1].0, "ok");
    assert_eq!(last_run_shown(&store, &aws.endpoint())["status"], "ok");
}
