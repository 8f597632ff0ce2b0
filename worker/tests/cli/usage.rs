//! What the user typed is checked before anything is written or read from AWS, and every error
//! names it as typed: the flag (`--max-session-seconds`), the config key (`aws.region`) or the
//! file, never an internal field name (`max_session_seconds`).

use std::path::Path;
use std::process::{Command, Output};

use crate::{stderr_of_failure, stdout, trustline};

const VENDOR: [&str; 4] = ["--vendor", "arn:aws:iam::111122223333:root", "--vendor-name", "Acme"];

/// A snake_case word followed by a colon, such as `max_session_seconds:`: an internal name.
fn internal_name(err: &str) -> Option<&str> {
    err.split_whitespace().find(|w| {
        w.len() > 1
            && w.ends_with(':')
            && w.contains('_')
            && w.trim_end_matches(':').bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
    })
}

fn fails_naming(args: &[&str], expect: &str) -> String {
    let err = stderr_of_failure(&trustline(args));
    assert!(err.starts_with(&format!("error: {expect}")), "{args:?}\n{err}");
    assert_eq!(internal_name(&err), None, "{args:?}\n{err}");
    err
}

#[test]
fn errors_name_the_flag_as_typed() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("trustline.db");
    let store = store.to_str().unwrap();
    fails_naming(
        &["accounts", "add", "--store", store, "--id", "Acme Prod!"],
        "--id: use 1–64 lower-case letters, digits and '-', got 'Acme Prod!'",
    );
    fn role<'a>(extra: &[&'a str]) -> Vec<&'a str> {
        [&["template", "role"], &VENDOR[..], extra].concat()
    }
    fails_naming(&role(&["--max-session-seconds", "100"]), "--max-session-seconds: maximum session duration");
    fails_naming(
        &["quick-create-link", "--template-url", "http://example.com/t.yaml", "--external-id", "abcdefgh"],
        "--template-url: the template URL must use https",
    );
    let err = fails_naming(&[&["template", "terraform"], &VENDOR[..]].concat(), "--external-id: required");
    assert!(err.trim_end().ends_with("give the one issued to this customer"), "not cut short: {err}");
    fails_naming(
        &[&["template", "cli", "--account", "123456789012"], &VENDOR[..]].concat(),
        "--external-id: required",
    );
    for bad in ["999.1.1.1", "bad", "10.0.0.0/33"] {
        let trust =
            ["policy", "trust", VENDOR[0], VENDOR[1], "--external-id", "abcdefgh", "--source-ip", bad];
        fails_naming(&trust, "--source-ip: expected an IP range");
        fails_naming(
            &["policy", "permissions", "--account", "123456789012", "--source-ip", bad],
            "--source-ip:",
        );
        fails_naming(&role(&["--source-ip", bad]), "--source-ip:");
    }
    fails_naming(&role(&["--role-path", "no-slashes"]), "--role-path:");
    fails_naming(&role(&["--managed-policy", "Not A Policy!"]), "--managed-policy:");
    fails_naming(&role(&["--principal-org-id", "o-1"]), "--principal-org-id:");

    // check-trust names the file it could not read as a policy, or standard input.
    let file = dir.path().join("trust.json");
    std::fs::write(&file, "{\"Version\": \"2012-10-17\", \"Statement\": [").unwrap();
    let path = file.to_str().unwrap();
    let err =
        fails_naming(&["policy", "check-trust", path], &format!("{path}: not a valid IAM policy document"));
    assert!(err.contains("line 1"), "{err}");
    let missing = dir.path().join("missing.json");
    fails_naming(&["policy", "check-trust", missing.to_str().unwrap()], "reading ");
    assert!(!Path::new(store).exists(), "a refused command writes no store");
}

#[test]
fn region_typos_are_refused_everywhere_naming_the_flag_or_key() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("trustline.db");
    let store = store.to_str().unwrap();
    let typo = "did you mean eu-west-1?";
    let region = ["--region", "eu-wset-1"];
    let commands: Vec<Vec<&str>> = vec![
        [&["template", "user", "--vendor-name", "Acme"], &region[..]].concat(),
        [&["template", "role"], &VENDOR[..], &region[..]].concat(),
        [&["template", "stackset", "--target", "r-ab12"], &VENDOR[..], &region[..]].concat(),
        [
            &["template", "cli", "--account", "123456789012", "--external-id", "abcdefgh"],
            &VENDOR[..],
            &region[..],
        ]
        .concat(),
        [&["template", "terraform", "--external-id", "abcdefgh"], &VENDOR[..], &region[..]].concat(),
        [&["policy", "permissions", "--account", "123456789012"], &region[..]].concat(),
        [&["policy", "boundary", "--account", "123456789012"], &region[..]].concat(),
        [
            &[
                "quick-create-link",
                "--template-url",
                "https://s3.amazonaws.com/b/t.yaml",
                "--external-id",
                "abcdefgh",
            ],
            &region[..],
        ]
        .concat(),
        vec!["template", "user", "--vendor-name", "Acme", "--region", "eu-west-1,eu-wset-1"],
    ];
    for args in &commands {
        let err = fails_naming(args, "--region: unknown region 'eu-wset-1'");
        assert!(err.contains(typo) && err.contains("sync.allow_unknown_regions"), "{args:?}: {err}");
        // The escape hatch, for a region newer than this build.
        let allowed = [&args[..], &["--set", "sync.allow_unknown_regions=true"]].concat();
        assert!(stdout(&trustline(&allowed)).contains("eu-wset-1"), "{allowed:?}");
    }

    let err = fails_naming(&["--home-region", "eu-wset-1", "inventory", "--store", store], "--home-region: ");
    assert!(err.contains(typo), "{err}");
    let err = fails_naming(
        &["--home-region", "mars-north-9", "accounts", "list", "--store", store],
        "--home-region:",
    );
    assert!(err.contains("unknown region 'mars-north-9'"), "{err}");
    let allowed = trustline(&[
        "--home-region",
        "mars-north-9",
        "--set",
        "sync.allow_unknown_regions=true",
        "accounts",
        "list",
        "--store",
        store,
    ]);
    assert!(stderr_of_failure(&allowed).contains("no store at"), "past the region check");

    let config = dir.path().join("trustline.toml");
    std::fs::write(&config, "[aws]\nregion = \"mars-north-9\"\n").unwrap();
    let config = config.to_str().unwrap();
    let err = fails_naming(&["--config", config, "accounts", "list", "--store", store], "in the config file");
    assert!(err.contains("aws.region: unknown region 'mars-north-9'"), "{err}");
    let err = fails_naming(&["--set", "aws.region=eu-wset-1", "accounts", "list", "--store", store], "--set");
    assert!(err.contains("aws.region: unknown region 'eu-wset-1'") && err.contains(typo), "{err}");
    let allowed = std::fs::read_to_string(config).unwrap() + "[sync]\nallow_unknown_regions = true\n";
    std::fs::write(config, allowed).unwrap();
    let out = trustline(&["--config", config, "accounts", "list", "--store", store]);
    assert!(stderr_of_failure(&out).contains("no store at"), "past the region check");
    assert!(!Path::new(store).exists(), "nothing was written");
}

#[test]
fn bad_key_material_is_refused_before_anything_is_stored() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("trustline.db");
    let empty = dir.path().join("empty-secret");
    std::fs::write(&empty, "\n").unwrap();
    let good = dir.path().join("secret");
    std::fs::write(&good, "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n").unwrap();
    let add = |key: &str, secret: &str| -> Output {
        Command::new(env!("CARGO_BIN_EXE_trustline"))
            .args(["accounts", "add", "--id", "keys", "--kind", "access-key", "--data-set", "iam"])
            .args(["--access-key-id", key, "--secret", secret, "--store"])
            .arg(&store)
            .env("TRUSTLINE_TEST_EMPTY", "")
            .env("TRUSTLINE_TEST_SET", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
            .env_remove("TRUSTLINE_TEST_UNSET")
            .output()
            .unwrap()
    };
    let key = "AKIAIOSFODNN7EXAMPLE";
    let good_secret = format!("file:{}", good.display());
    let cases = [
        ("not a key", good_secret.clone(), "--access-key-id: expected an IAM user's access key ID"),
        ("AKIAIOSFODNN7", good_secret.clone(), "--access-key-id: expected"),
        ("akiaiosfodnn7example", good_secret.clone(), "--access-key-id: expected"),
        ("AKIA IOSFODNN7EXAMPLE", good_secret.clone(), "--access-key-id: expected"),
        (
            "ASIAIOSFODNN7EXAMPLE",
            good_secret.clone(),
            "--access-key-id: 'ASIAIOSFODNN7EXAMPLE' is a temporary key",
        ),
        (
            key,
            "file:/nonexistent".to_owned(),
            "--secret file:/nonexistent: reading the secret file /nonexistent",
        ),
        (key, format!("file:{}", empty.display()), "--secret file:"),
        (
            key,
            "env:TRUSTLINE_TEST_UNSET".to_owned(),
            "--secret env:TRUSTLINE_TEST_UNSET: environment variable",
        ),
        (key, "env:TRUSTLINE_TEST_EMPTY".to_owned(), "--secret env:TRUSTLINE_TEST_EMPTY: the secret at"),
        (key, "relative/path".to_owned(), "--secret: expected env:VARIABLE or file:/absolute/path"),
    ];
    for (key, secret, expect) in &cases {
        let err = stderr_of_failure(&add(key, secret));
        assert!(err.starts_with(&format!("error: {expect}")), "{key} {secret}: {err}");
        assert!(!err.contains("wJalrXUtnFEMI"), "never the secret: {err}");
        assert!(!store.exists(), "{key} {secret}: nothing stored");
    }
    for secret in [good_secret.as_str(), "env:TRUSTLINE_TEST_SET"] {
        let out = add(key, secret);
        assert!(stdout(&out).starts_with("added keys (access-key)"));
        let removed = trustline(&["accounts", "remove", "keys", "--store", store.to_str().unwrap()]);
        stdout(&removed);
    }
}

#[test]
fn a_configuration_that_cannot_work_touches_no_account() {
    let aws = crate::standin_with_reader();
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("trustline.db");
    let out = crate::trustline_at(
        &store,
        &aws.endpoint(),
        &[
            "accounts",
            "add",
            "--id",
            "acme",
            "--role-arn",
            "arn:aws:iam::222222222222:role/Reader",
            "--external-id",
            "ext-1",
            "--data-set",
            "iam",
            "--region",
            "eu-west-1",
        ],
    )
    .output()
    .unwrap();
    stdout(&out);
    let out = crate::trustline_at(&store, &aws.endpoint(), &["sync"]).output().unwrap();
    assert!(stdout(&out).contains("1 ok"));
    let before = crate::run_rows(&store);
    assert!(before.iter().any(|r| r.starts_with("resource ")), "{before:?}");
    assert!(before.iter().all(|r| !r.ends_with(" stale")), "{before:?}");

    let sync = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_trustline"))
            .args(["sync", "--store"])
            .arg(&store)
            .args(args)
            .env("AWS_ACCESS_KEY_ID", "AKIAVENDOR0000000001")
            .env("AWS_SECRET_ACCESS_KEY", "vendor-secret")
            .env("AWS_CONFIG_FILE", "/dev/null")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env_remove("TRUSTLINE_ENDPOINT_URL")
            .output()
            .unwrap()
    };
    for (args, expect) in [
        (vec!["--endpoint-url", "not a url"], "error: --endpoint-url: must start with https:// or http://"),
        (vec!["--endpoint-url", "ftp://127.0.0.1:9"], "error: --endpoint-url: must start with https://"),
        (
            vec!["--endpoint-url", "http://127.0.0.1:9/some/path"],
            "error: --endpoint-url: must be a scheme and host",
        ),
        (vec!["--set", "aws.endpoint_url=not a url"], "aws.endpoint_url: must start with https://"),
        (vec!["--home-region", "eu-wset-1"], "error: --home-region: unknown region"),
    ] {
        let err = stderr_of_failure(&sync(&args));
        assert!(err.starts_with("error: ") && err.contains(expect), "{args:?}: {err}");
        assert_eq!(crate::run_rows(&store), before, "{args:?}: no run recorded, nothing marked stale");
    }
}
