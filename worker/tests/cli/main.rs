//! The `trustline` binary as a vendor scripts it: documents on stdout, errors on stderr naming
//! the flag and the fix with exit code 2, and `--help` on every subcommand.

mod cloudtrail;
mod crash;
mod faults;
mod fields;
mod openapi;
mod posture;
mod replicas;
mod run;
mod serve;
mod store_files;
mod sync;
mod tags;
mod usage;
mod webhooks;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn trustline(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_trustline")).args(args).output().expect("run trustline")
}

fn stdout(out: &Output) -> String {
    assert!(out.status.success(), "failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn stderr_of_failure(out: &Output) -> String {
    assert_eq!(out.status.code(), Some(2), "expected a usage failure");
    assert!(out.stdout.is_empty(), "nothing on stdout when failing");
    String::from_utf8(out.stderr.clone()).unwrap()
}

/// What a refused command must leave as it was, read from the store itself: each run (status,
/// end), each account's run, and each resource's stale flag, one line each.
fn run_rows(store: &Path) -> Vec<String> {
    let mut rows = Vec::new();
    for sql in [
        "SELECT 'run ' || id || ' ' || status || ' ' || COALESCE(finished_at, '-') FROM runs ORDER BY id",
        "SELECT 'account ' || run_id || ' ' || connection_id || ' ' || status FROM account_runs ORDER BY 1",
        "SELECT 'resource ' || kind || ' ' || id || CASE WHEN stale <> 0 THEN ' stale' ELSE '' END FROM resources ORDER BY 1",
    ] {
        rows.extend(store_query(store, sql));
    }
    rows
}

/// The `--store` value for a test's store file: the file itself, or, when
/// TRUSTLINE_TEST_POSTGRES names a PostgreSQL server (`postgres://USER@HOST:PORT`, as
/// scripts/test.d/15-postgres.sh starts one), a database of that server named after the file,
/// created empty the first time this process asks for it.
fn store_arg(store: &Path) -> String {
    match postgres_server() {
        None => store.to_str().expect("a UTF-8 path").to_owned(),
        Some(server) => {
            static CREATED: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
            let name = postgres_database(store);
            let mut created = CREATED.lock().unwrap();
            if !created.contains(&name) {
                let mut admin = postgres::Client::connect(&format!("{server}/postgres"), postgres::NoTls)
                    .expect("connect to the test PostgreSQL server");
                admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).unwrap();
                // CREATE DATABASE copies template1 and fails while another copy is under way.
                let mut tries = 0;
                while let Err(e) = admin.batch_execute(&format!("CREATE DATABASE {name}")) {
                    tries += 1;
                    assert!(tries < 50, "CREATE DATABASE {name}: {e}");
                    std::thread::sleep(std::time::Duration::from_millis(100));
                }
                created.push(name.clone());
            }
            format!("{server}/{name}")
        }
    }
}

/// Runs a statement on the test's store, whichever engine holds it.
fn store_execute(store: &Path, sql: &str) {
    match postgres_server() {
        None => {
            let db = rusqlite::Connection::open(store).unwrap();
            db.busy_timeout(std::time::Duration::from_secs(10)).unwrap();
            db.execute_batch(sql).unwrap();
        }
        Some(_) => {
            let mut db = postgres::Client::connect(&store_arg(store), postgres::NoTls).unwrap();
            db.batch_execute(sql).unwrap();
        }
    }
}

/// On PostgreSQL, leases of 2 s: a killed worker's accounts are taken over by the next one
/// after their lease expires (60 s by default), which the crash tests would otherwise wait for.
fn lease_ttl_args() -> &'static [&'static str] {
    if postgres_server().is_some() { &["--set", "sync.lease_ttl=2s"] } else { &[] }
}

/// The PostgreSQL server the tests run against, if any.
fn postgres_server() -> Option<String> {
    std::env::var("TRUSTLINE_TEST_POSTGRES").ok().filter(|s| !s.is_empty())
}

/// The database standing for the store file `store`.
fn postgres_database(store: &Path) -> String {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    store.hash(&mut h);
    format!("t_{:016x}", h.finish())
}

/// A query's rows on the test's store, whichever engine holds it; each row is its first column
/// as text.
fn store_query(store: &Path, sql: &str) -> Vec<String> {
    match postgres_server() {
        None => {
            let db = rusqlite::Connection::open_with_flags(store, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
                .unwrap();
            let mut stmt = db.prepare(sql).unwrap();
            let rows = stmt
                .query_map([], |r| {
                    Ok(match r.get_ref(0)? {
                        rusqlite::types::ValueRef::Integer(i) => i.to_string(),
                        rusqlite::types::ValueRef::Null => "NULL".to_owned(),
                        v => v.as_str().unwrap_or_default().to_owned(),
                    })
                })
                .unwrap();
            rows.map(Result::unwrap).collect()
        }
        Some(_) => {
            let mut db = postgres::Client::connect(&store_arg(store), postgres::NoTls).unwrap();
            let sql = format!("SELECT CAST(q.c AS TEXT) FROM ({sql}) AS q(c)");
            db.query(&sql, &[])
                .unwrap()
                .iter()
                .map(|r| r.get::<_, Option<String>>(0).unwrap_or_else(|| "NULL".to_owned()))
                .collect()
        }
    }
}

const VENDOR: [&str; 4] = ["--vendor", "arn:aws:iam::111122223333:root", "--vendor-name", "Acme"];

#[test]
fn external_ids_are_unique_prefixed_and_valid() {
    let out = stdout(&trustline(&["external-id", "--prefix", "acme:t-1:", "--count", "50"]));
    let ids: Vec<&str> = out.lines().collect();
    assert_eq!(ids.len(), 50);
    let unique: std::collections::BTreeSet<_> = ids.iter().collect();
    assert_eq!(unique.len(), 50);
    for id in ids {
        assert!(id.starts_with("acme:t-1:") && id.len() == "acme:t-1:".len() + 32, "{id}");
        assert!(id.parse::<trustline_core::ExternalId>().is_ok());
    }
}

#[test]
fn templates_in_both_formats_parse() {
    let yaml = stdout(&trustline(
        &[&["template", "role", "--managed-policy", "SecurityAudit"], &VENDOR[..]].concat(),
    ));
    let _: serde_json::Value = serde_yaml_ng::from_str(&yaml).unwrap();
    let json = stdout(&trustline(
        &[&["template", "stackset", "--target", "r-ab12", "--format", "json"], &VENDOR[..]].concat(),
    ));
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(value["Resources"]["MemberRoles"]["Properties"]["PermissionModel"], "SERVICE_MANAGED");
    let user = stdout(&trustline(&[
        "template",
        "user",
        "--kind",
        "sts",
        "--vendor-name",
        "Acme",
        "--format",
        "json",
    ]));
    assert!(user.contains("\"AssumePolicy\""));
}

#[test]
fn errors_name_the_flag_and_the_fix() {
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["policy", "trust", "--vendor", "11112222333", "--external-id", "abc"],
            "--vendor: use the vendor account's root ARN",
        ),
        (
            vec!["policy", "trust", "--vendor", "arn:aws:iam::111122223333:root", "--external-id", "a b"],
            "--external-id: ExternalId contains ' '",
        ),
        (
            vec!["policy", "permissions", "--account", "12345678901"],
            "--account: account ID must be 12 digits, got 11",
        ),
        (vec!["policy", "permissions"], "--account is required"),
        (
            vec!["policy", "permissions", "--account", "123456789012", "--data-set", "s3"],
            "--data-set: unknown data set 's3'",
        ),
        (
            vec!["policy", "permissions", "--account", "123456789012", "--region", "eu-west-1a"],
            "availability zone",
        ),
        (
            vec![
                "template",
                "stackset",
                "--target",
                "o-a1b2c3d4e5",
                "--vendor",
                "arn:aws:iam::111122223333:root",
                "--vendor-name",
                "Acme",
            ],
            "that is the organization ID",
        ),
        (
            vec![
                "quick-create-link",
                "--template-url",
                "https://example.com/t.yaml",
                "--external-id",
                "abcd",
            ],
            "--template-url: CloudFormation only reads templates from Amazon S3",
        ),
        (
            vec![
                "template",
                "cli",
                "--account",
                "123456789012",
                "--vendor",
                "arn:aws:iam::111122223333:root",
                "--vendor-name",
                "Acme",
            ],
            "--external-id: required: the CLI commands and Terraform inline",
        ),
        (
            vec![
                "template",
                "role",
                "--max-session-seconds",
                "60",
                "--vendor",
                "arn:aws:iam::111122223333:root",
                "--vendor-name",
                "Acme",
            ],
            "--max-session-seconds: maximum session duration must be between 3600 (1 hour) and 43200",
        ),
    ];
    for (args, expect) in cases {
        let err = stderr_of_failure(&trustline(&args));
        assert!(err.starts_with("error: ") && err.contains(expect), "{args:?}\n{err}");
    }
}

#[test]
fn check_trust_reads_stdin_and_fails_on_unsafe_policies() {
    let unsafe_policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"sts:AssumeRole"}]}"#;
    let mut child = Command::new(env!("CARGO_BIN_EXE_trustline"))
        .args(["policy", "check-trust", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(unsafe_policy.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let err = stderr_of_failure(&out);
    assert!(err.contains("statement 0:") && err.contains("without an ExternalId"), "{err}");

    let safe = stdout(&trustline(&[
        "policy",
        "trust",
        "--vendor",
        "arn:aws:iam::111122223333:root",
        "--external-id",
        "abcdefgh",
    ]));
    let path = std::env::temp_dir().join(format!("trust-{}.json", std::process::id()));
    std::fs::write(&path, safe).unwrap();
    let ok = stdout(&trustline(&["policy", "check-trust", path.to_str().unwrap()]));
    std::fs::remove_file(&path).ok();
    assert!(ok.starts_with("ok:"));
}

#[test]
fn every_subcommand_has_help() {
    let commands: [&[&str]; 16] = [
        &[],
        &["external-id"],
        &["kinds"],
        &["quick-create-link"],
        &["policy"],
        &["policy", "trust"],
        &["policy", "service-trust"],
        &["policy", "irsa-trust"],
        &["policy", "permissions"],
        &["policy", "boundary"],
        &["policy", "check-trust"],
        &["template", "role"],
        &["template", "stackset"],
        &["template", "user"],
        &["template", "cli"],
        &["template", "terraform"],
    ];
    for cmd in commands {
        let out = trustline(&[cmd, &["--help"]].concat());
        let text = stdout(&out);
        assert!(text.contains("Usage: trustline"), "{cmd:?}: {text}");
    }
}

/// The README's table is the same data the wizard and the CLI render.
#[test]
fn readme_table_matches_the_integration_kinds() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
    for kind in trustline_core::IntegrationKind::ALL {
        let info = kind.info();
        let stars = format!(
            "{}{}",
            "★".repeat(info.security_stars.into()),
            "☆".repeat(5 - usize::from(info.security_stars))
        );
        let row = format!(
            "| **{}**{} | {stars} | {} | {} |",
            info.title,
            if info.recommended { " (recommended)" } else { "" },
            info.best_for,
            if info.shares_secret { "yes" } else { "no" }
        );
        assert!(readme.contains(&row), "README.md lacks the row:\n{row}");
    }
}

/// A stand-in with the vendor (user `vendor` in 111111111111, key AKIAVENDOR0000000001) and a
/// customer role `arn:aws:iam::222222222222:role/Reader` that requires ExternalId `ext-1`.
fn standin_with_reader() -> trustline_testkit::standin::StandIn {
    let aws = trustline_testkit::standin::StandIn::start();
    aws.add_user("111111111111", "vendor", "AKIAVENDOR0000000001");
    aws.add_role(trustline_testkit::standin::Role {
        arn: "arn:aws:iam::222222222222:role/Reader".into(),
        trust_policy: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"ext-1"}}}]}"#.into(),
        denied_actions: vec![],
        max_session_seconds: 3600,
    });
    aws
}

/// `trustline ARGS --store STORE --endpoint-url ENDPOINT` as the stand-in's vendor, with nothing
/// from this machine's AWS configuration.
fn trustline_at(store: &Path, endpoint: &str, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_trustline"));
    cmd.args(args)
        .arg("--store")
        .arg(store_arg(store))
        .args(lease_ttl_args())
        .arg("--endpoint-url")
        .arg(endpoint)
        .env("AWS_ACCESS_KEY_ID", "AKIAVENDOR0000000001")
        .env("AWS_SECRET_ACCESS_KEY", "vendor-secret")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("AWS_EC2_METADATA_DISABLED", "true");
    cmd
}

/// Connects `acme` to the stand-in's reader role for CloudTrail in `regions` (comma-separated).
fn add_reader_connection(store: &Path, endpoint: &str, regions: &str) {
    let args = [
        "accounts",
        "add",
        "--id",
        "acme",
        "--role-arn",
        "arn:aws:iam::222222222222:role/Reader",
        "--external-id",
        "ext-1",
        "--data-set",
        "cloudtrail",
        "--region",
        regions,
    ];
    let out = trustline_at(store, endpoint, &args).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

/// `accounts add --secret stdin` stores the key's secret sealed with the operator's key, and
/// `sync` opens it; without the key, or with another one, the error names TRUSTLINE_SEAL_KEY.
#[test]
fn secrets_from_stdin_are_sealed_at_rest_and_opened_to_sync() {
    use std::io::Write;
    use std::process::Stdio;

    let aws = standin_with_reader();
    aws.add_user("222222222222", "vendor-reader", "AKIACUSTOMER00000002");
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("trustline.db");
    let key = stdout(&trustline(&["seal-key"])).trim().to_owned();
    assert_eq!(key.len(), 44, "{key}");
    let add = |seal_key: Option<&str>| {
        let mut cmd = trustline_at(
            &store,
            &aws.endpoint(),
            &[
                "accounts",
                "add",
                "--id",
                "keys",
                "--kind",
                "access-key",
                "--access-key-id",
                "AKIACUSTOMER00000002",
                "--secret",
                "stdin",
                "--data-set",
                "iam",
            ],
        );
        cmd.env_remove("TRUSTLINE_SEAL_KEY").env_remove("TRUSTLINE_SEAL_KEY_FILE");
        if let Some(k) = seal_key {
            cmd.env("TRUSTLINE_SEAL_KEY", k);
        }
        let mut child =
            cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        // A refused add may exit before reading its input: a broken pipe here is no failure.
        child.stdin.take().unwrap().write_all(b"customer-secret-on-stdin\n").ok();
        child.wait_with_output().unwrap()
    };
    let out = add(None);
    assert!(stderr_of_failure(&out).contains("TRUSTLINE_SEAL_KEY"));
    let out = add(Some(&key));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let needle = b"customer-secret-on-stdin";
    for file in ["trustline.db", "trustline.db-wal"] {
        let bytes = std::fs::read(dir.path().join(file)).unwrap_or_default();
        assert!(!bytes.windows(needle.len()).any(|w| w == needle), "{file} holds the secret");
    }
    let show = trustline_at(&store, &aws.endpoint(), &["accounts", "show", "keys"]).output().unwrap();
    assert!(stdout(&show).contains("sealed (opened with TRUSTLINE_SEAL_KEY)"), "{}", stdout(&show));

    let sync = |seal_key: &str| {
        trustline_at(&store, &aws.endpoint(), &["sync"])
            .env("TRUSTLINE_SEAL_KEY", seal_key)
            .env("TRUSTLINE_SEAL_KEY_FILE", "/nonexistent")
            .output()
            .unwrap()
    };
    let other = stdout(&trustline(&["seal-key"])).trim().to_owned();
    let out = sync(&other);
    let all = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(all.contains("does not open connection keys") && all.contains("TRUSTLINE_SEAL_KEY"), "{all}");
    let out = sync(&key);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let summary = String::from_utf8_lossy(&out.stdout);
    assert!(summary.contains("1 ok, 0 partial, 0 failed"), "{summary}");
    // What the key sees: the stand-in's account 222222222222 (its role and its user's key).
    let inventory =
        trustline_at(&store, &aws.endpoint(), &["inventory", "--connection", "keys", "--format", "json"])
            .output()
            .unwrap();
    let inventory = stdout(&inventory);
    assert!(inventory.contains("role/Reader") && inventory.contains("AKIACUSTOMER00000002"), "{inventory}");
}
