//! Replicas sharing one PostgreSQL store: `trustline run` processes split a simulated
//! Organization's accounts by lease, read each account once per slot, and take over the
//! accounts of a replica killed mid-round; two `trustline serve` processes accept each other's
//! sessions and register a role once, however many ask at the same moment.
//!
//! These need a PostgreSQL server (TRUSTLINE_TEST_POSTGRES); a run that asks for them without
//! one fails rather than passing vacuously. TRUSTLINE_REPLICAS_ROUNDS sets the number of kill
//! rounds (10); TRUSTLINE_REPLICAS_SEED replays a sequence of kill points (each run prints its
//! own).

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use trustline_testkit::http::exchange;
use trustline_testkit::sim::{Rate, Rates, Sim, SimConfig};
use trustline_testkit::standin::{Role, StandIn};

const NEEDS_POSTGRES: &str =
    "needs PostgreSQL: set TRUSTLINE_TEST_POSTGRES (scripts/test.d/10-rust.sh starts a server)";

fn require_postgres() {
    assert!(crate::postgres_server().is_some(), "{NEEDS_POSTGRES}");
}

/// The lease time-to-live the replicas run with.
const LEASE_TTL: Duration = Duration::from_secs(3);

/// A schedule whose slot does not change while the test runs (January 1st, yearly), so every
/// replica of every round agrees on it. An interval of 1h would do the same, except when the
/// test crosses a full hour: then live replicas start the next slot in the middle of a round.
const SCHEDULE: &str = "0 0 1 1 *";

/// 200 member accounts with little in each (one region, a page of each list, a few events), and
/// AWS's rate shapes raised so that the simulator never paces a round.
fn organization() -> SimConfig {
    SimConfig {
        accounts: 200,
        regions: vec!["us-east-1".into()],
        users: 2,
        roles: 1,
        groups: 1,
        local_policies: 1,
        aws_managed_policies: 1,
        instances: 2,
        vpcs: 1,
        subnets: 1,
        security_groups: 1,
        interfaces: 1,
        events: 4,
        ous: 2,
        workers: 2,
        rates: Rates {
            cloudtrail: Rate { per_second: 50.0, burst: 10 },
            ec2: Rate { per_second: 100.0, burst: 100 },
            iam: Rate { per_second: 100.0, burst: 50 },
            organizations: Rate { per_second: 100.0, burst: 50 },
            sts: Rate { per_second: 10_000.0, burst: 10_000 },
        },
        ..SimConfig::default()
    }
}

/// The worker's own buckets, just under the simulator's.
const LIMITS: [&str; 8] = [
    "limits.cloudtrail.per_second=45",
    "limits.cloudtrail.burst=5",
    "limits.ec2.per_second=95",
    "limits.ec2.burst=50",
    "limits.iam.per_second=95",
    "limits.iam.burst=20",
    "limits.organizations.per_second=95",
    "limits.organizations.burst=20",
];

/// A PostgreSQL database shared by replicas, and the simulator they read.
struct Fleet {
    dir: PathBuf,
    store: PathBuf,
    endpoint: String,
    key: (String, String),
}

impl Fleet {
    fn new(sim: &Sim, dir: &Path, name: &str) -> Fleet {
        Fleet {
            dir: dir.to_owned(),
            store: dir.join(format!("{name}.db")),
            endpoint: sim.endpoint(),
            key: sim.vendor_access_key(),
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_trustline"));
        cmd.args(args)
            .arg("--store")
            .arg(crate::store_arg(&self.store))
            .arg("--endpoint-url")
            .arg(&self.endpoint);
        for set in LIMITS {
            cmd.args(["--set", set]);
        }
        cmd.env("AWS_ACCESS_KEY_ID", &self.key.0)
            .env("AWS_SECRET_ACCESS_KEY", &self.key.1)
            .env("AWS_CONFIG_FILE", "/dev/null")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_SESSION_TOKEN")
            .env_remove("TRUSTLINE_STORE");
        cmd
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.command(args).output().unwrap();
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

    /// A `run` replica, its log in `{name}.log` beside the store.
    fn replica(&self, name: &str) -> Child {
        let log = std::fs::File::create(self.dir.join(format!("{name}.log"))).unwrap();
        self.command(&["run", "--schedule", SCHEDULE, "--lease-ttl", &format!("{}s", LEASE_TTL.as_secs())])
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap()
    }

    fn query(&self, sql: &str) -> Vec<String> {
        crate::store_query(&self.store, sql)
    }

    fn count(&self, sql: &str) -> u64 {
        self.query(sql)[0].parse().unwrap()
    }

    /// Leases, and those not done for a slot yet (the test clears `done_slot` before a round).
    fn pending(&self) -> (u64, u64) {
        (
            self.count("SELECT COUNT(*) FROM leases"),
            self.count("SELECT COUNT(*) FROM leases WHERE done_slot IS NULL"),
        )
    }

    /// Waits until every one of `accounts` leases is done, or `deadline`; whether they are.
    fn wait_done(&self, accounts: u64, deadline: Instant, replicas: &mut [Child]) -> bool {
        loop {
            if self.pending() == (accounts, 0) {
                return true;
            }
            for r in replicas.iter_mut() {
                if let Some(status) = r.try_wait().unwrap() {
                    panic!("a replica exited by itself ({status}); see the logs in {}", self.dir.display());
                }
            }
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Each lease's takeovers, by connection.
    fn takeovers(&self) -> BTreeMap<String, u64> {
        self.query("SELECT connection_id || '|' || takeovers FROM leases")
            .into_iter()
            .map(|row| {
                let (c, n) = row.split_once('|').unwrap();
                (c.to_owned(), n.parse().unwrap())
            })
            .collect()
    }

    fn doctor(&self) -> Value {
        serde_json::from_str(&self.ok(&["doctor", "--json"])).unwrap()
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

    /// Every cursor: (connection, region) → last event time.
    fn cursors(&self) -> BTreeMap<String, String> {
        self.query("SELECT connection_id || ' ' || region || '|' || last_event_time FROM cursors")
            .into_iter()
            .map(|row| {
                let (key, time) = row.split_once('|').unwrap();
                (key.to_owned(), time.to_owned())
            })
            .collect()
    }

    /// Events stored more than once (by connection and event id).
    fn duplicate_events(&self) -> Vec<String> {
        self.query(
            "SELECT connection_id || ' ' || event_id FROM events
             GROUP BY connection_id, event_id HAVING COUNT(*) > 1",
        )
    }

    /// How many accounts each replica's runs recorded, by replica id.
    fn accounts_per_replica(&self) -> BTreeMap<String, u64> {
        self.query(
            "SELECT COALESCE(r.replica_id, '-') || '|' || COUNT(*) FROM account_runs a JOIN runs r ON r.id = a.run_id
             GROUP BY r.replica_id",
        )
        .into_iter()
        .map(|row| {
            let (id, n) = row.split_once('|').unwrap();
            (id.to_owned(), n.parse().unwrap())
        })
        .collect()
    }
}

/// SIGTERM to each, then their exit within 30 s (each finishes what it has in flight).
fn stop(replicas: Vec<Child>) {
    for r in &replicas {
        assert!(Command::new("kill").args(["-TERM", &r.id().to_string()]).status().unwrap().success());
    }
    for mut r in replicas {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = r.try_wait().unwrap() {
                assert!(status.success(), "a replica stopped by SIGTERM exited with {status}");
                break;
            }
            if Instant::now() >= deadline {
                r.kill().ok();
                panic!("a replica did not stop within 30 s of SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// Every organization account (management included) as the sync names its connection.
fn connections(sim: &Sim) -> Vec<String> {
    let mut all = vec![format!("org-{}", sim.management_account())];
    all.extend(sim.member_accounts().iter().map(|a| format!("org-{a}")));
    all
}

/// connection → (region, kind, id), from the simulator.
fn expected(sim: &Sim) -> BTreeMap<String, BTreeSet<(String, String, String)>> {
    let mut accounts = vec![sim.management_account()];
    accounts.extend(sim.member_accounts());
    accounts.into_iter().map(|a| (format!("org-{a}"), sim.expected(&a).resources)).collect()
}

/// The inventory stored equals the simulator's, with nothing stale.
fn assert_inventory(fleet: &Fleet, sim: &Sim, label: &str) {
    let inventory = fleet.inventory();
    let ids: BTreeMap<_, BTreeSet<_>> =
        inventory.iter().map(|(c, r)| (c.clone(), r.keys().cloned().collect())).collect();
    let want = expected(sim);
    if ids != want {
        let differ: Vec<&String> =
            want.keys().chain(ids.keys()).filter(|c| ids.get(*c) != want.get(*c)).collect();
        panic!(
            "{label}: the inventory differs from the simulator's for {} connections: {differ:?}",
            differ.len()
        );
    }
    let stale: Vec<_> = inventory
        .iter()
        .flat_map(|(c, r)| r.iter().filter(|(_, s)| **s).map(move |(k, _)| (c.clone(), k.clone())))
        .collect();
    assert!(stale.is_empty(), "{label}: stale resources after a complete slot: {stale:?}");
}

/// Issued sessions per account since `before`.
fn sessions_since(sim: &Sim, before: &BTreeMap<String, u64>) -> BTreeMap<String, u64> {
    sim.stats()
        .sessions_by_account
        .into_iter()
        .map(|(a, n)| {
            let was = before.get(&a).copied().unwrap_or(0);
            (a, n - was)
        })
        .filter(|(_, n)| *n > 0)
        .collect()
}

/// A small deterministic generator for the kill points and victims (xorshift64*).
struct Points(u64);

impl Points {
    fn next(&mut self, max: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % max.max(1)
    }
}

fn epoch_ms(t: std::time::SystemTime) -> i64 {
    t.duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64
}

/// The replica id a process registered under, once it has (`None` if it never did).
fn replica_id_of(fleet: &Fleet, pid: u32) -> Option<String> {
    fleet.query(&format!("SELECT id FROM replicas WHERE pid = {pid}")).into_iter().next()
}

#[test]
#[ignore = "needs PostgreSQL: set TRUSTLINE_TEST_POSTGRES (scripts/test.d/10-rust.sh starts a server)"]
// The measurements (round times, takeovers, sessions and accounts per replica) are this test's
// report: printed.
#[allow(clippy::print_stderr)]
fn three_replicas_share_an_organization_and_take_over_a_killed_one() {
    require_postgres();
    let rounds: usize =
        std::env::var("TRUSTLINE_REPLICAS_ROUNDS").ok().and_then(|v| v.parse().ok()).unwrap_or(10);
    let seed: u64 =
        std::env::var("TRUSTLINE_REPLICAS_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or_else(|| {
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64 | 1
        });
    eprintln!("replicas: {rounds} kill rounds, TRUSTLINE_REPLICAS_SEED={seed}");
    // Kept when the test fails: each replica's log is there.
    let tmp = tempfile::tempdir().unwrap().keep();
    eprintln!("replicas: stores and replica logs in {}", tmp.display());
    let sim = Sim::start(organization());
    let all = connections(&sim);
    // The Organization's own connection, and one per account (management included).
    let leases = all.len() as u64 + 1;

    // Control: one replica alone reads the slot; what each account costs in sessions, and how
    // long a round takes.
    let control = Fleet::new(&sim, &tmp, "control");
    control.add_org(&sim);
    let before = sim.stats().sessions_by_account;
    let started = Instant::now();
    let mut alone = vec![control.replica("control")];
    assert!(
        control.wait_done(leases, started + Duration::from_secs(300), &mut alone),
        "the control replica did not finish the slot in 300 s: {:?}",
        control.pending()
    );
    let single = started.elapsed();
    stop(alone);
    let per_account = sessions_since(&sim, &before);
    assert_inventory(&control, &sim, "control");
    let cost: BTreeSet<u64> = per_account.values().copied().collect();
    eprintln!(
        "control: one replica reads {} accounts in {:.1} s; sessions issued per account: {:?} (management {}), refused AssumeRoles per account: {:?}",
        all.len(),
        single.as_secs_f64(),
        cost,
        per_account.get(&sim.management_account()).copied().unwrap_or(0),
        sim.stats().assume_role_refused_by_account.values().copied().collect::<BTreeSet<_>>()
    );
    let mut accounts: Vec<String> = vec![sim.management_account()];
    accounts.extend(sim.member_accounts());
    assert_eq!(
        per_account.keys().cloned().collect::<BTreeSet<_>>(),
        accounts.iter().cloned().collect(),
        "the control read every account, and only them"
    );
    // A member costs one session; the management account two (the Organization connection's
    // discovery role, and its own account's member role).
    for member in sim.member_accounts() {
        assert_eq!(per_account[&member], 1, "one session for member {member}");
    }
    assert_eq!(per_account[&sim.management_account()], 2, "{per_account:?}");

    // Round 1: three replicas on one database share the slot; each account is read once.
    let fleet = Fleet::new(&sim, &tmp, "shared");
    fleet.add_org(&sim);
    let before = sim.stats().sessions_by_account;
    let started = Instant::now();
    let mut three: Vec<Child> = (0..3).map(|i| fleet.replica(&format!("round1-{i}"))).collect();
    assert!(
        fleet.wait_done(leases, started + Duration::from_secs(300), &mut three),
        "three replicas did not finish the slot in 300 s: {:?}",
        fleet.pending()
    );
    let round1 = started.elapsed();
    let doctor = fleet.doctor();
    stop(three);
    let shared = sessions_since(&sim, &before);
    assert_eq!(shared, per_account, "three replicas read each account exactly as often as one replica alone");
    assert_inventory(&fleet, &sim, "round 1");
    assert!(fleet.duplicate_events().is_empty(), "round 1: {:?}", fleet.duplicate_events());
    let split = fleet.accounts_per_replica();
    eprintln!(
        "round 1: three replicas read the slot in {:.1} s; accounts per replica: {:?}; doctor: {} replicas alive, slots {}",
        round1.as_secs_f64(),
        split.values().collect::<Vec<_>>(),
        doctor["leases"]["live_replicas"].as_array().map_or(0, Vec::len),
        doctor["leases"]["slots"]
    );
    assert_eq!(split.values().sum::<u64>(), all.len() as u64 + 1, "each account recorded once: {split:?}");
    assert!(!split.contains_key("-"), "every run names its replica: {split:?}");
    assert!(split.values().filter(|n| **n > 0).count() >= 2, "the work was split: {split:?}");
    assert_eq!(doctor["leases"]["takeovers"], 0, "no takeover without a kill: {doctor}");

    // Kill rounds. Clearing every lease's done_slot stands for the next slot arriving (a real
    // one is an hour or a schedule away): the same slot must be read again, by `run`'s leases.
    let mut points = Points(seed);
    let spread = round1.as_millis() as u64;
    let mut orphaned_total = 0;
    let mut takeovers_total = 0;
    for round in 0..rounds {
        crate::store_execute(&fleet.store, "UPDATE leases SET done_slot = NULL");
        let cursors_before = fleet.cursors();
        let at = Duration::from_millis(points.next(spread));
        let victim_index = points.next(3) as usize;
        let started = Instant::now();
        let takeovers_before = fleet.takeovers();
        let mut replicas: Vec<Child> = (0..3).map(|i| fleet.replica(&format!("kill{round}-{i}"))).collect();
        std::thread::sleep(at.saturating_sub(started.elapsed()));
        let mut victim = replicas.remove(victim_index);
        let exited = victim.try_wait().unwrap();
        assert!(exited.is_none(), "round {round}: the victim exited by itself: {exited:?}");
        let pending_at_kill = fleet.pending().1;
        let killed_at = std::time::SystemTime::now();
        victim.kill().unwrap(); // SIGKILL
        victim.wait().unwrap();
        let killed = Instant::now();
        // Its row stays behind (a killed replica never unregisters), if it got as far.
        let victim_id = replica_id_of(&fleet, victim.id());
        // The leases it held when it died: the others take them over once they expire. A claim
        // it sent just before it died may still commit on the server after the kill: they are
        // asked for again a moment later, still well before any can expire.
        let held = || -> BTreeSet<String> {
            victim_id.as_deref().map_or_else(BTreeSet::new, |id| {
                fleet
                    .query(&format!("SELECT connection_id FROM leases WHERE holder = '{id}'"))
                    .into_iter()
                    .collect()
            })
        };
        let mut orphaned = held();
        // How long the victim's leases had left when it died: the TTL less the time since its
        // last heartbeat (one every third of the TTL) or claim.
        let left_ms = victim_id.as_deref().filter(|_| !orphaned.is_empty()).map(|id| {
            let expires: i64 = fleet
                .query(&format!("SELECT MIN(expires_ms) FROM leases WHERE holder = '{id}'"))[0]
                .parse()
                .unwrap();
            expires - epoch_ms(killed_at)
        });
        std::thread::sleep(Duration::from_millis(300));
        orphaned.extend(held());
        orphaned_total += orphaned.len();
        // Until every orphaned lease is held by another (or done): the takeover.
        let mut taken_over = None;
        let deadline = killed + LEASE_TTL + single + Duration::from_secs(30);
        loop {
            let still = victim_id
                .as_deref()
                .map_or(0, |id| fleet.count(&format!("SELECT COUNT(*) FROM leases WHERE holder = '{id}'")));
            if still == 0 {
                taken_over.get_or_insert(killed.elapsed());
            }
            if taken_over.is_some() && fleet.pending() == (leases, 0) {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "round {round}: the slot was not complete {:.1} s after the kill (TTL {} s + a round {:.1} s + 30 s): {still} leases still held by the victim, {:?} leases/pending",
                killed.elapsed().as_secs_f64(),
                LEASE_TTL.as_secs(),
                single.as_secs_f64(),
                fleet.pending()
            );
            for r in replicas.iter_mut() {
                assert!(r.try_wait().unwrap().is_none(), "round {round}: a surviving replica exited");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let complete = killed.elapsed();
        let doctor = fleet.doctor();
        stop(replicas);
        // The accounts taken over in this round, from each lease's count.
        let after = fleet.takeovers();
        let taken: BTreeMap<&String, u64> = after
            .iter()
            .map(|(c, n)| (c, n - takeovers_before.get(c).copied().unwrap_or(0)))
            .filter(|(_, n)| *n > 0)
            .collect();
        takeovers_total += taken.values().sum::<u64>();
        assert_eq!(
            doctor["leases"]["takeovers"].as_u64(),
            Some(after.values().sum::<u64>()),
            "round {round}: doctor counts every takeover: {doctor}"
        );
        eprintln!(
            "kill round {round}: replica {victim_index} killed {:.2} s into the round with {pending_at_kill} accounts pending and {} leases held ({} ms left on the first to expire); orphaned leases retaken {} s after the kill; slot complete {:.2} s after the kill ({:.1} s round); {} takeovers",
            at.as_secs_f64(),
            orphaned.len(),
            left_ms.map_or("-".to_owned(), |ms| ms.to_string()),
            taken_over
                .filter(|_| !orphaned.is_empty())
                .map_or("-".to_owned(), |t| format!("{:.2}", t.as_secs_f64())),
            complete.as_secs_f64(),
            started.elapsed().as_secs_f64(),
            taken.len(),
        );
        // Every takeover was of a lease the victim held, once: a live replica never lost one.
        // (A lease the victim held may also have been completed by its last commit, landing on
        // the server after it was read here: then there is nothing to take over.)
        for (connection, n) in &taken {
            assert!(
                orphaned.contains(*connection) && *n == 1,
                "round {round}: {connection} taken over {n} times, though the killed replica did not hold it (it held {orphaned:?}); see the logs in {}",
                tmp.display()
            );
        }
        if !orphaned.is_empty() {
            assert!(!taken.is_empty(), "round {round}: {} orphaned leases, none taken over", orphaned.len());
        }
        let duplicates = fleet.duplicate_events();
        assert!(duplicates.is_empty(), "round {round}: events stored twice: {duplicates:?}");
        let cursors_after = fleet.cursors();
        for (key, was) in &cursors_before {
            let now =
                cursors_after.get(key).unwrap_or_else(|| panic!("round {round}: cursor {key} vanished"));
            assert!(now >= was, "round {round}: cursor {key} moved back from {was} to {now}");
        }
    }
    eprintln!(
        "kill rounds: {orphaned_total} leases orphaned by kills, {takeovers_total} takeovers; accounts per replica over all rounds: {:?}",
        fleet.accounts_per_replica().values().collect::<Vec<_>>()
    );
    if orphaned_total > 0 {
        assert!(takeovers_total > 0, "kills orphaned {orphaned_total} leases, but none was taken over");
    }
    assert_inventory(&fleet, &sim, "after the kill rounds");
    assert!(fleet.duplicate_events().is_empty());
    std::fs::remove_dir_all(&tmp).ok();
}

/// The operator's token of the serve replicas.
const TOKEN: &str = "op-Rk2Lq8Xw1Jc5Vb7Nm3Pt9Hy4Jd6Fg0SaQeWuRiTo";

/// A `trustline serve` process.
struct Server {
    child: Child,
    url: String,
}

impl Server {
    fn start(store: &Path, endpoint: &str) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_trustline"))
            .args(["serve", "--listen", "127.0.0.1:0", "--endpoint-url", endpoint])
            .arg("--store")
            .arg(crate::store_arg(store))
            .args(crate::lease_ttl_args())
            .env("TRUSTLINE_API_TOKEN", TOKEN)
            .env("AWS_ACCESS_KEY_ID", "AKIAVENDOR0000000001")
            .env("AWS_SECRET_ACCESS_KEY", "vendor-secret")
            .env("AWS_CONFIG_FILE", "/dev/null")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env_remove("TRUSTLINE_SEAL_KEY")
            .env_remove("TRUSTLINE_SEAL_KEY_FILE")
            .env_remove("TRUSTLINE_STORE")
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let url = loop {
            let line = lines.next().expect("serve printed its address").unwrap();
            if let Some(url) = line.strip_prefix("listening on ") {
                break url.to_owned();
            }
        };
        std::thread::spawn(move || for _ in lines {});
        Server { child, url }
    }

    fn call(&self, token: &str, method: &str, path: &str, body: &Value) -> (u16, Value) {
        let auth = format!("Bearer {token}");
        let body = if body.is_null() { String::new() } else { body.to_string() };
        let r = exchange(
            method,
            &format!("{}{path}", self.url),
            vec![("Content-Type", "application/json"), ("Authorization", &auth)],
            body.as_bytes(),
        )
        .unwrap();
        (r.status, serde_json::from_slice(&r.body).unwrap_or(Value::Null))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

#[test]
#[ignore = "needs PostgreSQL: set TRUSTLINE_TEST_POSTGRES (scripts/test.d/10-rust.sh starts a server)"]
fn two_serve_replicas_share_sessions_and_register_a_role_once() {
    require_postgres();
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("serve.db");
    let aws = StandIn::start();
    aws.add_user("111111111111", "trustline-vendor", "AKIAVENDOR0000000001");
    let a = Server::start(&store, &aws.endpoint());
    let b = Server::start(&store, &aws.endpoint());

    // A tenant and a browser session made by A; B knows both.
    let (status, body) = a.call(TOKEN, "POST", "/v1/tenants", &json!({ "id": "acme", "name": "Acme" }));
    assert_eq!(status, 201, "{body}");
    let (status, session) =
        a.call(TOKEN, "POST", "/v1/tenants/acme/sessions", &json!({ "ttl_seconds": 600 }));
    assert_eq!(status, 201, "{session}");
    let token = session["token"].as_str().unwrap().to_owned();
    let external_id = session["external_id"].as_str().unwrap().to_owned();
    let (status, shown) = b.call(&token, "GET", "/v1/tenants/acme/external-id", &Value::Null);
    assert_eq!(status, 200, "replica B accepts a session made by replica A: {shown}");
    assert!(shown.to_string().contains(&external_id), "{shown}");
    let (status, list) = b.call(&token, "GET", "/v1/tenants/acme/connections", &Value::Null);
    assert_eq!((status, &list["connections"]), (200, &json!([])), "{list}");
    // A token neither made is refused by both.
    for server in [&a, &b] {
        let (status, _) = server.call("not-a-session", "GET", "/v1/tenants/acme/connections", &Value::Null);
        assert_eq!(status, 401);
    }

    // The customer's role trusts the vendor with the ExternalId issued to them; it verifies.
    let role = "arn:aws:iam::222222222222:role/Reader";
    aws.add_role(Role {
        arn: role.into(),
        trust_policy: format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::111111111111:root"}},"Action":"sts:AssumeRole","Condition":{{"StringEquals":{{"sts:ExternalId":"{external_id}"}}}}}}]}}"#
        ),
        denied_actions: vec![],
        max_session_seconds: 3600,
    });
    let (status, report) = b.call(
        &token,
        "POST",
        "/v1/tenants/acme/verify/role",
        &json!({ "role_arn": role, "expected_account_id": "222222222222", "data_sets": ["iam"] }),
    );
    assert_eq!((status, report["verdict"].as_str()), (200, Some("verified")), "{report}");

    // Both replicas are asked to register it at the same moment.
    let body = json!({ "kind": "cross-account-role", "role_arn": role, "data_sets": ["iam"] });
    let barrier = std::sync::Barrier::new(2);
    let answers: Vec<(u16, Value)> = std::thread::scope(|s| {
        let handles: Vec<_> = [&a, &b]
            .into_iter()
            .map(|server| {
                let (barrier, body, token) = (&barrier, &body, &token);
                s.spawn(move || {
                    barrier.wait();
                    server.call(token, "POST", "/v1/tenants/acme/connections", body)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let statuses: BTreeSet<u16> = answers.iter().map(|(s, _)| *s).collect();
    assert_eq!(statuses, BTreeSet::from([201, 409]), "one registration, one conflict: {answers:?}");
    let created = &answers.iter().find(|(s, _)| *s == 201).unwrap().1;
    let refused = &answers.iter().find(|(s, _)| *s == 409).unwrap().1;
    let id = created["id"].as_str().unwrap();
    let message = refused["error"]["message"].as_str().unwrap();
    assert!(message.contains("already connected") && message.contains(id), "{refused}");
    for server in [&a, &b] {
        let (status, list) = server.call(&token, "GET", "/v1/tenants/acme/connections", &Value::Null);
        assert_eq!(status, 200, "{list}");
        let ids: Vec<&str> =
            list["connections"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap()).collect();
        assert_eq!(ids, vec![id], "exactly one connection, seen by both replicas: {list}");
    }
    assert_eq!(crate::store_query(&store, "SELECT COUNT(*) FROM connections"), vec!["1".to_owned()]);
}
