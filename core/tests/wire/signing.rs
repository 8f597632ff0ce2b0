//! Trustline's SigV4 signatures must equal botocore's, byte for byte, for every operation.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, UNIX_EPOCH};

use serde_json::{Value, json};
use trustline_core::{Credentials, Endpoints, Secret, Signer};

use crate::corpus::calls;

struct Case {
    name: String,
    request: trustline_core::aws::HttpRequest,
    region: String,
    service: &'static str,
    creds: Credentials,
    time: u64,
}

fn cases() -> Vec<Case> {
    let long_term = Credentials::new("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", None);
    let temporary = Credentials::new(
        "ASIAEXAMPLE",
        "s3cr3t/with+slash=and~tilde",
        Some(Secret::new("IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJH+token==")),
    );
    let regions = ["us-east-1", "eu-central-2", "cn-northwest-1", "us-gov-east-1", "ap-southeast-4"];
    let times = [1_440_938_160, 1_795_291_200, 1_893_456_000 + 86_399];
    let mut cases = Vec::new();
    for (i, region) in regions.iter().enumerate() {
        let endpoints = Endpoints::new(region.parse().unwrap()).with_fips(i == 1);
        for (j, (name, call)) in calls().into_iter().enumerate() {
            let endpoint = endpoints.resolve(call.service()).unwrap();
            for (k, creds) in [&long_term, &temporary].into_iter().enumerate() {
                cases.push(Case {
                    name: format!("{name} {region} token={}", k == 1),
                    request: call.to_http(endpoint.url()),
                    region: endpoint.signing_region().to_owned(),
                    service: call.service().signing_name(),
                    creds: creds.clone(),
                    time: times[(i + j + k) % times.len()],
                });
            }
        }
    }
    // An override with a port (moto, VPC endpoints) and the loopback host.
    let local =
        Endpoints::new("eu-west-1".parse().unwrap()).with_override_all("http://127.0.0.1:5123").unwrap();
    for (name, call) in calls() {
        let endpoint = local.resolve(call.service()).unwrap();
        cases.push(Case {
            name: format!("{name} override"),
            request: call.to_http(endpoint.url()),
            region: endpoint.signing_region().to_owned(),
            service: call.service().signing_name(),
            creds: temporary.clone(),
            time: times[0],
        });
    }
    cases
}

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
        Signer::new(&case.creds).sign(&mut case.request, case.service, &case.region, time).unwrap();
        let got = case.request.header("authorization").unwrap();
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
}
