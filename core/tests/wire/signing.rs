//! Trustline's SigV4 signatures must equal botocore's, byte for byte, for every operation.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, UNIX_EPOCH};

use serde_json::{Value, json};
use trustline_core::Signer;

use crate::corpus::{Case, GOLDEN, cases};

fn botocore(cases: &[Case]) -> Vec<Value> {
    let python = trustline_testkit::tools::venv_bin("python");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/wire/botocore_sign.py");
    let input: Vec<Value> = cases
        .iter()
        .map(|c| {
            json!({
                "method": c.request.method(),
                "url": c.request.url(),
                "headers": c.request.headers().collect::<Vec<_>>(),
                "body_b64": data_encoding::BASE64.encode(c.request.body()),
                "service": c.service,
                "region": c.region,
                "access_key": c.creds.access_key_id(),
                "secret_key": c.creds.secret_access_key().expose(),
                "session_token": c.creds.session_token().map(|t| t.expose()),
                "time": c.time,
            })
        })
        .collect();
    let mut child = Command::new(&python)
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("run {}: {e}", python.display()));
    child.stdin.take().unwrap().write_all(Value::Array(input).to_string().as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "botocore_sign.py failed (is botocore installed in the venv? run scripts/setup.sh): {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("botocore_sign.py prints JSON")
}

#[test]
fn signatures_match_botocore_byte_for_byte() {
    let mut cases = cases();
    let expected = botocore(&cases);
    assert_eq!(expected.len(), cases.len());
    let mut mismatches = Vec::new();
    for (case, want) in cases.iter_mut().zip(&expected) {
        let time = UNIX_EPOCH + Duration::from_secs(case.time);
        let signer = Signer::new(&case.creds);
        // The aws-sigv4 crate's own `sign` must agree too (the fast path is tested against it).
        let mut reference = case.request.clone();
        signer.sign_with_aws_sigv4(&mut reference, case.service, &case.region, time).unwrap();
        signer.sign(&mut case.request, case.service, &case.region, time).unwrap();
        let got = case.request.header("authorization").unwrap();
        if reference.header("authorization") != Some(got) {
            mismatches.push(format!(
                "{}: aws-sigv4 gives {:?}",
                case.name,
                reference.header("authorization")
            ));
        }
        if got != want["authorization"].as_str().unwrap()
            || case.request.header("x-amz-date") != want["x-amz-date"].as_str()
        {
            mismatches
                .push(format!("{}:\n  trustline {got}\n  botocore  {}", case.name, want["authorization"]));
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} of {} signatures differ:\n{}",
        mismatches.len(),
        cases.len(),
        mismatches.join("\n")
    );
    assert!(cases.len() >= 200, "the corpus shrank to {}", cases.len());

    // The wasm tests (Node, Chromium) cannot run Python: they compare with this golden file.
    let golden: Vec<Value> = cases
        .iter()
        .zip(&expected)
        .map(|(c, want)| json!({"name": c.name, "authorization": want["authorization"], "x-amz-date": want["x-amz-date"]}))
        .collect();
    let golden = serde_json::to_string_pretty(&golden).unwrap() + "\n";
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/signing/botocore.json");
    if crate::corpus::recording() {
        std::fs::write(path, &golden).unwrap();
    }
    assert!(GOLDEN == golden, "{path} is out of date with botocore: rerun with TRUSTLINE_RECORD=1");
}
