//! Signed webhooks end to end: real `trustline` processes deliver to a real HTTP receiver on
//! loopback. Events arrive signed and verify with the Standard Webhooks reference library
//! (PyPI `standardwebhooks`); a tenant's endpoint gets that tenant's events only; a receiver
//! that is down for several retry rounds gets everything once it recovers; an endpoint failing
//! for the whole retry window is disabled and `webhooks retry` resumes it; and SIGKILL at random
//! points between a change's commit and its delivery loses no event (duplicates keep their id).
//!
//! Retries are made short with `--set webhooks.first_retry_delay=…` and friends
//! (trustline.example.toml, `[webhooks]`). TRUSTLINE_WEBHOOK_KILLS sets the number of kills
//! (20); TRUSTLINE_CRASH_SEED replays a sequence of kill points (printed by each run).

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU16, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use trustline_testkit::tools::venv_bin;

/// One request the receiver got.
#[derive(Debug, Clone)]
pub(super) struct Received {
    path: String,
    id: String,
    timestamp: String,
    signature: String,
    pub(super) body: String,
    /// When it arrived (Unix ms).
    at_ms: i64,
    /// The status it was answered with.
    answered: u16,
}

impl Received {
    pub(super) fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap()
    }
}

#[derive(Default)]
struct Recorded {
    got: Mutex<Vec<Received>>,
    /// The status to answer with (0: 200).
    status: AtomicU16,
    /// Milliseconds to wait before answering.
    delay_ms: AtomicU64,
}

/// A webhook receiver on a free loopback port: records every request and answers with the
/// status it is set to.
pub(super) struct Receiver {
    addr: SocketAddr,
    recorded: Arc<Recorded>,
    _runtime: tokio::runtime::Runtime,
}

fn unix_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64
}

impl Receiver {
    pub(super) fn start() -> Receiver {
        use axum::extract::State;
        use axum::http::{HeaderMap, StatusCode, Uri};

        async fn hook(
            State(r): State<Arc<Recorded>>,
            uri: Uri,
            headers: HeaderMap,
            body: axum::body::Bytes,
        ) -> StatusCode {
            let answered = match r.status.load(Ordering::SeqCst) {
                0 => 200,
                s => s,
            };
            let header =
                |name: &str| headers.get(name).map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
            r.got.lock().unwrap().push(Received {
                path: uri.path().to_owned(),
                id: header("webhook-id"),
                timestamp: header("webhook-timestamp"),
                signature: header("webhook-signature"),
                body: String::from_utf8(body.to_vec()).unwrap(),
                at_ms: unix_ms(),
                answered,
            });
            // Recorded as received before the answer goes out: a sender killed meanwhile never
            // learns it was delivered, and sends it again.
            let delay = r.delay_ms.load(Ordering::SeqCst);
            if delay > 0 {
                tokio::time::sleep(Duration::from_millis(delay)).await;
            }
            StatusCode::from_u16(answered).unwrap()
        }

        let runtime =
            tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        let recorded = Arc::new(Recorded::default());
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let app = axum::Router::new().fallback(hook).with_state(recorded.clone());
        runtime.spawn(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            axum::serve(listener, app).await.unwrap();
        });
        Receiver { addr, recorded, _runtime: runtime }
    }

    pub(super) fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn answer(&self, status: u16) {
        self.recorded.status.store(status, Ordering::SeqCst);
    }

    fn got(&self) -> Vec<Received> {
        self.recorded.got.lock().unwrap().clone()
    }

    /// Requests answered 2xx at `path`.
    pub(super) fn delivered(&self, path: &str) -> Vec<Received> {
        self.got().into_iter().filter(|r| r.path == path && r.answered < 300).collect()
    }

    pub(super) fn wait_for(&self, what: &str, mut done: impl FnMut(&[Received]) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !done(&self.got()) {
            assert!(Instant::now() < deadline, "timed out waiting for {what}: got {:#?}", self.got());
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// Quick retries for tests.
const FAST: [&str; 8] = [
    "--set",
    "webhooks.first_retry_delay=100ms",
    "--set",
    "webhooks.max_retry_delay=300ms",
    "--set",
    "webhooks.poll_interval=50ms",
    "--set",
    "webhooks.request_timeout=5s",
];

/// A worker on one store, against the stand-in, with the operator's sealing key.
struct Worker {
    store: std::path::PathBuf,
    endpoint: String,
    seal_key: String,
    _dir: tempfile::TempDir,
}

impl Worker {
    fn new(endpoint: &str) -> Worker {
        let dir = tempfile::tempdir().unwrap();
        let seal_key = crate::stdout(&crate::trustline(&["seal-key"])).trim().to_owned();
        Worker { store: dir.path().join("trustline.db"), endpoint: endpoint.to_owned(), seal_key, _dir: dir }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = crate::trustline_at(&self.store, &self.endpoint, args);
        cmd.env("TRUSTLINE_SEAL_KEY", &self.seal_key).env_remove("TRUSTLINE_SEAL_KEY_FILE");
        cmd
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        crate::stdout(&self.run(args))
    }

    /// `webhooks add …`: the endpoint's id and its secret.
    fn add_endpoint(&self, args: &[&str]) -> (String, String) {
        let out = self.ok(&[&["webhooks", "add"], args].concat());
        let id = out.split_whitespace().nth(3).unwrap().to_owned();
        assert!(id.starts_with("ep_"), "{out}");
        let secrets: Vec<&str> = out.lines().filter(|l| l.starts_with("whsec_")).collect();
        assert_eq!(secrets.len(), 1, "the secret is printed once: {out}");
        (id, secrets[0].to_owned())
    }

    fn endpoints(&self) -> Vec<Value> {
        serde_json::from_str(&self.ok(&["webhooks", "list", "--format", "json"])).unwrap()
    }

    fn spawn(&self, args: &[&str]) -> Child {
        if args.first() == Some(&"run") && crate::postgres_server().is_some() {
            // On PostgreSQL `run` syncs each account once per schedule slot, and these tests start
            // it several times within one, some right after a SIGKILL: clearing what the slot has
            // done, and the leases a killed worker left, stands for the next slot arriving after
            // those leases expired (replicas.rs tests the expiry and takeover themselves), as
            // each start does alone on SQLite, where the store's lock proves the others gone.
            if crate::store_query(&self.store, "SELECT CAST(COUNT(*) AS TEXT) FROM leases") != ["0"] {
                crate::store_execute(
                    &self.store,
                    "UPDATE leases SET done_slot = NULL, holder = NULL, expires_ms = 0",
                );
            }
        }
        self.command(args).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap()
    }

    fn strings(&self, sql: &str) -> Vec<String> {
        crate::store_query(&self.store, sql)
    }

    /// Every event id the outbox holds, and how many deliveries are not yet delivered.
    fn outbox(&self) -> (BTreeSet<String>, usize) {
        let ids = self.strings("SELECT id FROM webhook_messages").into_iter().collect();
        let waiting =
            self.strings("SELECT endpoint_id FROM webhook_deliveries WHERE status <> 'delivered'").len();
        (ids, waiting)
    }
}

/// SIGTERM, then the exit status within 15 s.
fn stop(mut child: Child) {
    let pid = child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "{status}");
            return;
        }
        assert!(Instant::now() < deadline, "the worker did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn reader_role(account: &str, external_id: &str) -> trustline_testkit::standin::Role {
    trustline_testkit::standin::Role {
        arn: format!("arn:aws:iam::{account}:role/Reader"),
        trust_policy: format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::111111111111:root"}},"Action":"sts:AssumeRole","Condition":{{"StringEquals":{{"sts:ExternalId":"{external_id}"}}}}}}]}}"#
        ),
        denied_actions: vec![],
        max_session_seconds: 3600,
    }
}

fn add_iam_connection(w: &Worker, tenant: &str, id: &str, account: &str, external_id: &str) {
    w.ok(&[
        "accounts",
        "add",
        "--tenant",
        tenant,
        "--id",
        id,
        "--role-arn",
        &format!("arn:aws:iam::{account}:role/Reader"),
        "--external-id",
        external_id,
        "--data-set",
        "iam",
    ]);
}

/// Verifies deliveries with the reference library: each must verify with `secret`, and be
/// rejected with a tampered body or with `other_secret`.
pub(super) fn verify_with_reference_library(deliveries: &[Received], secret: &str, other_secret: &str) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cli/verify_webhooks.py");
    let request = json!({
        "secret": secret,
        "other_secret": other_secret,
        "deliveries": deliveries.iter().map(|d| json!({
            "id": d.id, "timestamp": d.timestamp, "signature": d.signature, "body": d.body,
        })).collect::<Vec<_>>(),
    });
    let mut child = Command::new(venv_bin("python"))
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), request.to_string().as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "verify_webhooks.py: {}", String::from_utf8_lossy(&out.stderr));
    let results: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(results.len(), deliveries.len());
    for r in results {
        assert_eq!(
            (&r["valid"], &r["tampered_rejected"], &r["wrong_secret_rejected"]),
            (&json!(true), &json!(true), &json!(true)),
            "{r}"
        );
    }
}

fn types(deliveries: &[Received]) -> Vec<String> {
    let mut t: Vec<String> = deliveries
        .iter()
        .map(|d| format!("{} {}", d.json()["type"].as_str().unwrap(), d.json()["tenant"].as_str().unwrap()))
        .collect();
    t.sort();
    t
}

#[test]
fn sync_events_arrive_signed_for_their_tenants_and_verify_with_the_reference_library() {
    let aws = crate::standin_with_reader();
    aws.add_role(reader_role("333333333333", "ext-2"));
    let receiver = Receiver::start();
    let w = Worker::new(&aws.endpoint());
    w.ok(&["tenants", "add", "acme"]);
    w.ok(&["tenants", "add", "other"]);
    add_iam_connection(&w, "acme", "acme-1", "222222222222", "ext-1");
    add_iam_connection(&w, "other", "other-1", "333333333333", "ext-2");
    let (global, global_secret) = w.add_endpoint(&["--url", &receiver.url("/global")]);
    let (acme, acme_secret) = w.add_endpoint(&["--url", &receiver.url("/acme"), "--tenant", "acme"]);
    let (_, other_secret) = w.add_endpoint(&[
        "--url",
        &receiver.url("/other"),
        "--tenant",
        "other",
        "--events",
        "sync.completed",
    ]);

    // Secrets are sealed at rest and never listed.
    for file in ["trustline.db", "trustline.db-wal"] {
        let bytes = std::fs::read(w.store.with_file_name(file)).unwrap_or_default();
        for secret in [&global_secret, &acme_secret, &other_secret] {
            assert!(!bytes.windows(secret.len()).any(|b| b == secret.as_bytes()), "{file} holds a secret");
        }
    }
    let listed = w.ok(&["webhooks", "list"]) + &w.ok(&["webhooks", "list", "--format", "json"]);
    assert!(!listed.contains("whsec_"), "{listed}");
    assert!(listed.contains(&receiver.url("/acme")) && listed.contains("sync.completed"), "{listed}");

    // `sync` sends what is due before it exits.
    let summary = w.ok(&["sync"]);
    assert!(summary.contains("2 ok"), "{summary}");
    let at_global = receiver.delivered("/global");
    assert_eq!(
        types(&at_global),
        ["inventory.changed acme", "inventory.changed other", "sync.completed acme", "sync.completed other"]
    );
    let at_acme = receiver.delivered("/acme");
    assert_eq!(types(&at_acme), ["inventory.changed acme", "sync.completed acme"], "acme's events only");
    let at_other = receiver.delivered("/other");
    assert_eq!(types(&at_other), ["sync.completed other"], "other's subscribed events only");

    // What the events say: counts and a cursor, never the inventory itself.
    let inventory = at_acme.iter().map(Received::json).find(|e| e["type"] == "inventory.changed").unwrap();
    let data = &inventory["data"];
    let keys: Vec<&String> = data.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["connection_id", "run_id", "added", "changed", "removed", "cursor", "previous_cursor"]);
    assert_eq!(
        (&data["connection_id"], &data["changed"], &data["removed"]),
        (&json!("acme-1"), &json!(0), &json!(0))
    );
    let to: i64 = trustline_core::api::decode_cursor(data["cursor"].as_str().unwrap()).unwrap();
    assert!(data["added"].as_i64().unwrap() > 0 && to > 0, "{data}");
    let completed = at_acme.iter().map(Received::json).find(|e| e["type"] == "sync.completed").unwrap();
    assert_eq!(completed["data"]["status"], "ok");
    assert_eq!(completed["data"]["accounts"], json!({"ok": 1, "partial": 0, "failed": 0}));
    // The same event reaches each endpoint under one id.
    let ids = |d: &[Received]| d.iter().map(|r| r.id.clone()).collect::<BTreeSet<_>>();
    assert!(ids(&at_acme).is_subset(&ids(&at_global)));

    // Signatures verify with the reference library; tampering and other secrets are refused.
    verify_with_reference_library(&at_global, &global_secret, &acme_secret);
    verify_with_reference_library(&at_acme, &acme_secret, &global_secret);
    verify_with_reference_library(&at_other, &other_secret, &acme_secret);

    // A change in acme's account: the next inventory.changed counts it, from the last cursor.
    aws.add_user("222222222222", "new-user", "AKIANEWUSER000000001");
    w.ok(&["sync"]);
    let next: Vec<Value> = receiver
        .delivered("/acme")
        .iter()
        .map(Received::json)
        .filter(|e| e["type"] == "inventory.changed")
        .collect();
    assert_eq!(next.len(), 2, "{next:?}");
    assert!(next[1]["data"]["added"].as_i64().unwrap() >= 1, "{}", next[1]);
    assert_eq!(next[1]["data"]["previous_cursor"], data["cursor"]);

    // `webhooks test` sends at once, to that endpoint only.
    let out = w.ok(&["webhooks", "test", &acme]);
    assert!(out.starts_with("delivered webhook.test msg_") && out.contains("HTTP 200"), "{out}");
    let tests: Vec<Received> =
        receiver.got().into_iter().filter(|r| r.json()["type"] == "webhook.test").collect();
    assert_eq!(tests.len(), 1);
    assert_eq!((tests[0].path.as_str(), &tests[0].json()["tenant"]), ("/acme", &json!("acme")));
    verify_with_reference_library(&tests, &acme_secret, &global_secret);
    // Nothing of one tenant ever reached the other's endpoint.
    assert!(receiver.got().iter().filter(|r| r.path == "/acme").all(|r| r.json()["tenant"] == "acme"));
    assert!(receiver.got().iter().filter(|r| r.path == "/other").all(|r| r.json()["tenant"] == "other"));
    let listed = w.endpoints();
    let shown = listed.iter().find(|e| e["id"] == global.as_str()).unwrap();
    let sent = receiver.delivered("/global").len();
    assert_eq!(
        (&shown["status"], &shown["pending"], &shown["delivered"]),
        (&json!("active"), &json!(0), &json!(sent))
    );
}

#[test]
// The measured delivery latency is this test's report.
#[allow(clippy::print_stderr)]
fn a_receiver_down_for_several_retry_rounds_gets_everything_once_it_recovers() {
    let aws = crate::standin_with_reader();
    let receiver = Receiver::start();
    let w = Worker::new(&aws.endpoint());
    add_iam_connection(&w, "default", "acme", "222222222222", "ext-1");
    let (_, secret) = w.add_endpoint(&["--url", &receiver.url("/hook")]);

    // Up: the first run's events arrive within a poll or two of their commit.
    let run_args = [&["run", "--schedule", "1h"][..], &FAST].concat();
    let run = w.spawn(&run_args);
    receiver.wait_for("the first run's events", |got| got.len() >= 2);
    let created: BTreeMap<String, i64> = w
        .strings("SELECT id || ' ' || created_ms FROM webhook_messages")
        .iter()
        .map(|row| {
            let (id, ms) = row.split_once(' ').unwrap();
            (id.to_owned(), ms.parse().unwrap())
        })
        .collect();
    let latencies: Vec<i64> = receiver.got().iter().map(|r| r.at_ms - created[&r.id]).collect();
    eprintln!("webhooks: commit-to-receipt latency with a 50 ms poll: {latencies:?} ms");
    assert!(latencies.iter().all(|l| *l < 2_000), "{latencies:?}");

    stop(run);

    // Down (503) for the next run's events: several rounds of retries, all failing.
    receiver.answer(503);
    let first = receiver.got().len();
    aws.add_user("222222222222", "while-down", "AKIAWHILEDOWN0000001");
    let run = w.spawn(&run_args);
    receiver.wait_for("three failed rounds of the next run's events", |got| {
        let mut attempts: BTreeMap<&str, usize> = BTreeMap::new();
        for r in &got[first..] {
            *attempts.entry(&r.id).or_default() += 1;
        }
        attempts.len() >= 2 && attempts.values().all(|n| *n >= 3)
    });
    let listed = w.endpoints();
    assert_eq!(listed[0]["last_error"], "HTTP 503", "{listed:?}");
    assert!(listed[0]["pending"].as_u64().unwrap() >= 2, "{listed:?}");

    // Up again: everything in the outbox arrives, each failed event under its own id.
    receiver.answer(0);
    receiver.wait_for("every event delivered", |got| {
        let delivered: BTreeSet<&str> =
            got.iter().filter(|r| r.answered == 200).map(|r| r.id.as_str()).collect();
        let (ids, waiting) = w.outbox();
        waiting == 0 && ids.iter().all(|id| delivered.contains(id.as_str()))
    });
    stop(run);
    let got = receiver.got();
    let failed_ids: BTreeSet<&str> =
        got.iter().filter(|r| r.answered == 503).map(|r| r.id.as_str()).collect();
    for id in &failed_ids {
        let bodies: BTreeSet<&str> = got.iter().filter(|r| r.id == *id).map(|r| r.body.as_str()).collect();
        assert_eq!(bodies.len(), 1, "every attempt of {id} carries the same body");
        assert!(got.iter().any(|r| r.id == *id && r.answered == 200), "{id} was delivered after recovery");
    }
    let listed = w.endpoints();
    assert_eq!(
        (&listed[0]["status"], &listed[0]["last_error"]),
        (&json!("active"), &Value::Null),
        "{listed:?}"
    );
    let delivered: Vec<Received> = got.into_iter().filter(|r| r.answered == 200).collect();
    verify_with_reference_library(
        &delivered,
        &secret,
        &crate::stdout(&crate::trustline(&["seal-key"])).replace(|c: char| c.is_whitespace(), ""),
    );
}

#[test]
fn an_endpoint_failing_for_the_whole_window_is_disabled_and_retry_resumes_it() {
    let aws = crate::standin_with_reader();
    let receiver = Receiver::start();
    receiver.answer(503);
    let w = Worker::new(&aws.endpoint());
    add_iam_connection(&w, "default", "acme", "222222222222", "ext-1");
    let (id, _) =
        w.add_endpoint(&["--url", &receiver.url("/hook"), "--events", "sync.completed,sync.failed"]);

    let window = [&FAST[..], &["--set", "webhooks.retry_window=1s"]].concat();
    let run = w.spawn(&[&["run", "--schedule", "1h"][..], &window].concat());
    let deadline = Instant::now() + Duration::from_secs(30);
    let listed = loop {
        let listed = w.endpoints();
        if listed[0]["status"] == "disabled" {
            break listed;
        }
        assert!(Instant::now() < deadline, "never disabled: {listed:?}");
        std::thread::sleep(Duration::from_millis(100));
    };
    let reason = listed[0]["disabled_reason"].as_str().unwrap();
    assert!(reason.contains("every attempt failed for 1 s") && reason.contains("HTTP 503"), "{reason}");
    assert_eq!((&listed[0]["failed"], &listed[0]["pending"]), (&json!(1), &json!(0)), "{listed:?}");
    let table = w.ok(&["webhooks", "list"]);
    assert!(table.contains("disabled (every attempt failed") && table.contains("HTTP 503"), "{table}");
    // Disabled: nothing more is sent.
    let attempts = receiver.got().len();
    std::thread::sleep(Duration::from_millis(400));
    assert_eq!(receiver.got().len(), attempts, "a disabled endpoint is not sent to");
    stop(run);

    receiver.answer(0);
    let out = w.ok(&["webhooks", "retry", &id]);
    assert_eq!(out, format!("re-enabled webhook endpoint {id}; 1 failed deliveries queued again\n"));
    let run = w.spawn(&[&["run", "--schedule", "1h"][..], &window].concat());
    // The failed event, and the new run's.
    receiver.wait_for("both runs' sync.completed", |got| {
        got.iter().filter(|r| r.answered == 200).map(|r| &r.id).collect::<BTreeSet<_>>().len() == 2
    });
    stop(run);
    let listed = w.endpoints();
    assert_eq!(
        (&listed[0]["status"], &listed[0]["delivered"], &listed[0]["failed"]),
        (&json!("active"), &json!(2), &json!(0)),
        "{listed:?}"
    );
    let err = crate::stderr_of_failure(&w.run(&["webhooks", "retry", "ep_nope"]));
    assert!(err.contains("no webhook endpoint 'ep_nope'"), "{err}");
}

/// A small deterministic generator for the kill points (xorshift64*).
struct Points(u64);

impl Points {
    fn next_ms(&mut self, max: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % max.max(1)
    }
}

#[test]
// The seed, the kills that left events undelivered and the duplicates are this test's report.
#[allow(clippy::print_stderr)]
fn sigkill_between_commit_and_delivery_loses_no_event() {
    let kills: usize =
        std::env::var("TRUSTLINE_WEBHOOK_KILLS").ok().and_then(|v| v.parse().ok()).unwrap_or(20);
    let seed: u64 = std::env::var("TRUSTLINE_CRASH_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| unix_ms().unsigned_abs() | 1);
    eprintln!("webhook kills: {kills}, TRUSTLINE_CRASH_SEED={seed}");
    let aws = crate::standin_with_reader();
    let receiver = Receiver::start();
    // Answers take a moment, so some kills land with a request in flight.
    receiver.recorded.delay_ms.store(150, Ordering::SeqCst);
    let w = Worker::new(&aws.endpoint());
    add_iam_connection(&w, "default", "acme", "222222222222", "ext-1");
    w.add_endpoint(&["--url", &receiver.url("/hook")]);
    let run_args = [&["run", "--schedule", "1h"][..], &FAST].concat();

    // How long a start takes to sync, commit, deliver and record the deliveries: the span the
    // kills are spread over (and a quarter beyond).
    let started = Instant::now();
    let mut child = w.spawn(&run_args);
    receiver.wait_for("the first run's events", |got| {
        let (ids, waiting) = w.outbox();
        got.len() >= 2 && ids.len() >= 2 && waiting == 0
    });
    let span = started.elapsed().as_millis() as u64;
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();

    let mut points = Points(seed);
    let mut undelivered_after_kill = 0;
    for n in 0..kills {
        // Each start finds a new user: its inventory.changed is one more event to deliver.
        aws.add_user("222222222222", &format!("user-{n}"), &format!("AKIAKILL{n:04}00000000"));
        let mut child = w.spawn(&run_args);
        std::thread::sleep(Duration::from_millis(points.next_ms(span + span / 4)));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let (_, waiting) = w.outbox();
        undelivered_after_kill += usize::from(waiting > 0);
    }

    // A last start delivers whatever the kills left, and its own run's events.
    let finished_runs = || w.strings("SELECT CAST(id AS TEXT) FROM runs WHERE status = 'ok'").len();
    let before = finished_runs();
    let child = w.spawn(&run_args);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let got = receiver.got();
        let delivered: BTreeSet<&str> =
            got.iter().filter(|r| r.answered == 200).map(|r| r.id.as_str()).collect();
        let (ids, waiting) = w.outbox();
        if finished_runs() > before && waiting == 0 && ids.iter().all(|id| delivered.contains(id.as_str())) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "not everything was delivered: runs {:?}, deliveries {:?}, received {:?}",
            w.strings("SELECT id || ' ' || status FROM runs"),
            w.strings("SELECT m.id || ' ' || d.status || ' ' || d.attempts || ' ' || IFNULL(d.last_error, '-') FROM webhook_deliveries d JOIN webhook_messages m ON m.seq = d.message_seq"),
            got.iter().map(|r| format!("{} {}", r.id, r.answered)).collect::<Vec<_>>()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    stop(child);

    let got = receiver.got();
    let (ids, _) = w.outbox();
    let mut by_id: BTreeMap<&str, Vec<&Received>> = BTreeMap::new();
    for r in &got {
        by_id.entry(&r.id).or_default().push(r);
    }
    // Nothing arrives that was not committed, and everything committed arrives.
    assert_eq!(by_id.keys().map(|k| k.to_string()).collect::<BTreeSet<_>>(), ids);
    let duplicates = by_id.values().filter(|v| v.len() > 1).count();
    for (id, copies) in &by_id {
        let bodies: BTreeSet<&str> = copies.iter().map(|r| r.body.as_str()).collect();
        assert_eq!(bodies.len(), 1, "{id}: every copy carries the same body");
    }
    // Every run that finished reported it; every change was counted in an inventory.changed.
    let finished = w.strings("SELECT CAST(id AS TEXT) FROM runs WHERE status IN ('ok', 'partial')");
    let events: Vec<Value> = by_id.values().map(|v| v[0].json()).collect();
    let reported: BTreeSet<String> = events
        .iter()
        .filter(|e| e["type"] == "sync.completed")
        .map(|e| e["data"]["run_id"].to_string())
        .collect();
    assert_eq!(finished.iter().cloned().collect::<BTreeSet<_>>(), reported);
    let added: i64 = events
        .iter()
        .filter(|e| e["type"] == "inventory.changed")
        .map(|e| e["data"]["added"].as_i64().unwrap())
        .sum();
    let recorded = w.strings("SELECT id FROM changes WHERE change = 'added'").len() as i64;
    assert_eq!(added, recorded, "every added resource is counted once across inventory.changed events");
    eprintln!(
        "webhook kills: {kills} kills over {span} ms starts; {undelivered_after_kill} left events undelivered; {} events, all delivered; {duplicates} delivered more than once (same id and body)",
        ids.len()
    );
    assert!(undelivered_after_kill > 0, "no kill landed between a commit and its delivery");
}

#[test]
fn webhooks_add_checks_its_input_names_the_field_and_seals_the_secret() {
    let receiver = Receiver::start();
    let w = Worker::new("http://127.0.0.1:9");
    w.ok(&["tenants", "add", "acme"]);
    for (args, expect) in [
        (
            vec!["--url", "ftp://example.com/hook"],
            "--url: 'ftp://example.com/hook' uses ftp:, but an endpoint must be http or https",
        ),
        (vec!["--url", "hooks.example.com"], "--url: 'hooks.example.com' is not an absolute URL"),
        (
            vec!["--url", "https://u:p@example.com/"],
            "--url: an endpoint URL must not carry a user name or password",
        ),
        (
            vec!["--url", "https://example.com/", "--events", "sync.done"],
            "--events: unknown event type 'sync.done'; choose from connection.verified",
        ),
        (vec!["--url", "https://example.com/", "--tenant", "nope"], "--tenant: no tenant 'nope'"),
    ] {
        let err = crate::stderr_of_failure(&w.run(&[&["webhooks", "add"][..], &args].concat()));
        assert!(err.starts_with("error: ") && err.contains(expect), "{args:?}\n{err}");
    }
    let unsealed = w
        .command(&["webhooks", "add", "--url", "https://example.com/"])
        .env_remove("TRUSTLINE_SEAL_KEY")
        .output()
        .unwrap();
    assert!(crate::stderr_of_failure(&unsealed).contains("set TRUSTLINE_SEAL_KEY"));
    assert!(w.endpoints().is_empty(), "nothing was added");

    let (id, secret) = w.add_endpoint(&[
        "--url",
        &receiver.url("/hook"),
        "--tenant",
        "acme",
        "--events",
        "sync.failed,sync.failed",
    ]);
    assert_eq!(w.endpoints()[0]["events"], json!(["sync.failed"]));
    // Rotating the sealing key re-seals endpoint secrets too; deliveries sign with the same secret.
    let new_key = crate::stdout(&crate::trustline(&["seal-key"])).trim().to_owned();
    let rotated = w
        .command(&["seal-key", "rotate"])
        .env("TRUSTLINE_SEAL_KEY", &new_key)
        .env("TRUSTLINE_SEAL_OLD_KEYS", &w.seal_key)
        .output()
        .unwrap();
    assert!(crate::stdout(&rotated).starts_with("re-sealed 1 secret(s)"));
    let with_old = crate::stderr_of_failure(&w.run(&["webhooks", "test", &id]));
    assert!(with_old.contains("sealed under key") && with_old.contains("stays queued"), "{with_old}");
    let tested = w.command(&["webhooks", "test", &id]).env("TRUSTLINE_SEAL_KEY", &new_key).output().unwrap();
    assert!(crate::stdout(&tested).contains("HTTP 200"));
    let sent = receiver.delivered("/hook");
    assert_eq!(sent.len(), 1);
    verify_with_reference_library(&sent, &secret, &new_key);

    let err = crate::stderr_of_failure(&w.run(&["webhooks", "test", "ep_nope"]));
    assert!(err.contains("no webhook endpoint 'ep_nope'"), "{err}");
    assert_eq!(
        w.ok(&["webhooks", "remove", &id]),
        format!("removed webhook endpoint {id} and its queued deliveries\n")
    );
    assert!(crate::stderr_of_failure(&w.run(&["webhooks", "remove", &id])).contains("no webhook endpoint"));
    for cmd in ["add", "list", "test", "retry", "remove"] {
        assert!(w.ok(&["webhooks", cmd, "--help"]).contains("Usage: trustline webhooks"));
    }
}

/// The customer drops the ExternalId condition from the role's trust policy: the next sync marks
/// the connection unsafe and one `connection.posture_changed` reaches the receiver; restoring it
/// sends a second. A healthy first check sends none (`connection.verified` said as much).
#[test]
fn posture_changes_reach_the_receiver_once_each() {
    let aws = crate::standin_with_reader();
    let receiver = Receiver::start();
    let w = Worker::new(&aws.endpoint());
    w.ok(&["tenants", "add", "acme"]);
    add_iam_connection(&w, "acme", "acme-1", "222222222222", "ext-1");
    let (_, secret) =
        w.add_endpoint(&["--url", &receiver.url("/hook"), "--events", "connection.posture_changed"]);
    let posture_events = || -> Vec<Value> {
        receiver
            .delivered("/hook")
            .iter()
            .map(Received::json)
            .filter(|e| e["type"] == "connection.posture_changed")
            .collect()
    };
    w.ok(&["sync"]);
    assert_eq!(posture_events(), Vec::<Value>::new(), "a healthy first check is not a change");

    let mut open = reader_role("222222222222", "ext-1");
    open.trust_policy =
        open.trust_policy.replace(r#","Condition":{"StringEquals":{"sts:ExternalId":"ext-1"}}"#, "");
    assert!(!open.trust_policy.contains("Condition"));
    aws.add_role(open);
    w.ok(&["sync"]);
    let events = posture_events();
    assert_eq!(events.len(), 1, "{events:?}");
    let data = &events[0]["data"];
    assert_eq!(
        (&data["connection_id"], &data["tenant"], &data["from"], &data["to"]),
        (&json!("acme-1"), &json!("acme"), &json!("healthy"), &json!("unsafe")),
        "{data}"
    );
    assert!(data["findings_count"].as_u64().unwrap() >= 1, "{data}");
    w.ok(&["sync"]);
    assert_eq!(posture_events().len(), 1, "still unsafe: no new event");

    aws.add_role(reader_role("222222222222", "ext-1"));
    w.ok(&["sync"]);
    let events = posture_events();
    assert_eq!(events.len(), 2, "{events:?}");
    assert_eq!((&events[1]["data"]["from"], &events[1]["data"]["to"]), (&json!("unsafe"), &json!("healthy")));
    verify_with_reference_library(
        &receiver.delivered("/hook"),
        &secret,
        "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
    );
}
