//! SigV4 signing cost per request (target: ≤ 2 µs natively).
//!
//! The request set is also written to `target/sign-bench/requests.json`, so that
//! `bench/sign/run.sh` signs exactly the same requests with botocore and @smithy/signature-v4.

use std::hint::black_box;
use std::time::{Duration, UNIX_EPOCH};

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use serde_json::json;
use trustline_core::aws::{Call, HttpRequest, Operation, cloudtrail, ec2, iam, organizations, sts};
use trustline_core::{Credentials, Endpoints, Secret, Signer};

/// Typical calls of a sync: one per service protocol shape, small bodies as in real use.
fn calls() -> Vec<Call> {
    let role = "arn:aws:iam::123456789012:role/Trustline".parse().unwrap();
    vec![
        sts::GetCallerIdentity.call().unwrap(),
        sts::AssumeRole::new(role, "trustline-sync")
            .unwrap()
            .external_id("trustline-3f9a1c0e".parse().unwrap())
            .call()
            .unwrap(),
        iam::ListUsers { paging: iam::Paging::after(Some("AAIAAQdE8GiaUFn/Ow8Fge6W8Yl5v".into())) }
            .call()
            .unwrap(),
        iam::ListRoles::default().call().unwrap(),
        iam::ListAccessKeys { user_name: Some("alice".into()), ..Default::default() }.call().unwrap(),
        iam::GetAccountAuthorizationDetails::default().call().unwrap(),
        ec2::DescribeInstances { query: ec2::Query::default().max_results(1000).unwrap() }.call().unwrap(),
        ec2::DescribeSecurityGroups::default().call().unwrap(),
        cloudtrail::LookupEvents::new(None, None)
            .unwrap()
            .lookup(cloudtrail::Lookup::ReadOnly(false))
            .call()
            .unwrap(),
        organizations::ListAccounts::default().call().unwrap(),
    ]
}

fn requests() -> Vec<(HttpRequest, &'static str, String)> {
    let endpoints = Endpoints::new("eu-west-1".parse().unwrap());
    calls()
        .into_iter()
        .map(|call| {
            let endpoint = endpoints.resolve(call.service()).unwrap();
            (
                call.to_http(endpoint.url()),
                call.service().signing_name(),
                endpoint.signing_region().to_owned(),
            )
        })
        .collect()
}

fn credentials() -> Credentials {
    Credentials::new(
        "ASIAEXAMPLEEXAMPLE00",
        "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        Some(Secret::new("IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQDexample")),
    )
}

const TIME: u64 = 1_795_291_200;

fn export(requests: &[(HttpRequest, &'static str, String)]) {
    let creds = credentials();
    let set: Vec<_> = requests
        .iter()
        .map(|(r, service, region)| {
            json!({
                "method": r.method(), "url": r.url(), "headers": r.headers().collect::<Vec<_>>(),
                "body": String::from_utf8_lossy(r.body()), "service": service, "region": region,
            })
        })
        .collect();
    let doc = json!({
        "time": TIME,
        "access_key": creds.access_key_id(),
        "secret_key": creds.secret_access_key().expose(),
        "session_token": creds.session_token().map(|t| t.expose()),
        "requests": set,
    });
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/sign-bench");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("requests.json"), doc.to_string()).unwrap();
}

fn sign(c: &mut Criterion) {
    let requests = requests();
    export(&requests);
    let signer = Signer::new(&credentials());
    let time = UNIX_EPOCH + Duration::from_secs(TIME);
    let mut group = c.benchmark_group("sigv4");
    group.throughput(Throughput::Elements(requests.len() as u64));
    // Building the requests (the clone) is setup, not measured: botocore's and smithy's benches
    // also sign requests that already exist.
    group.bench_function("sign_request_set", |b| {
        b.iter_batched_ref(
            || requests.clone(),
            |batch| {
                for (request, service, region) in batch.iter_mut() {
                    signer.sign(request, service, region, time).unwrap();
                }
                black_box(batch);
            },
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

criterion_group!(benches, sign);
criterion_main!(benches);
