//! The signing corpus under wasm32 (wasm-bindgen-test, in Node and in headless Chromium):
//! signatures must equal the ones botocore produced natively, and signing with the JS clock
//! must work (`SystemTime::now()` panics on wasm32).

use std::time::{Duration, UNIX_EPOCH};

use serde_json::Value;
use trustline_core::aws::{HttpResponse, Operation, prepare, sts};
use trustline_core::{Credentials, Endpoints, Signer};
use wasm_bindgen_test::wasm_bindgen_test;

use crate::corpus::{GOLDEN, cases};

#[wasm_bindgen_test]
fn signatures_match_botocore_in_wasm() {
    let golden: Vec<Value> = serde_json::from_str(GOLDEN).unwrap();
    let mut cases = cases();
    assert_eq!(golden.len(), cases.len(), "fixtures/signing/botocore.json is out of date");
    for (case, want) in cases.iter_mut().zip(&golden) {
        assert_eq!(want["name"].as_str(), Some(case.name.as_str()));
        let time = UNIX_EPOCH + Duration::from_secs(case.time);
        Signer::new(&case.creds).sign(&mut case.request, case.service, &case.region, time).unwrap();
        assert_eq!(case.request.header("authorization"), want["authorization"].as_str(), "{}", case.name);
    }
}

#[wasm_bindgen_test]
fn signs_with_the_js_clock_and_parses() {
    let now = UNIX_EPOCH + Duration::from_millis(js_sys::Date::now() as u64);
    let creds = Credentials::new("AKIDEXAMPLE", "secret", None);
    let endpoints = Endpoints::new("eu-west-1".parse().unwrap());
    let request = prepare(&sts::GetCallerIdentity, &endpoints, &Signer::new(&creds), now).unwrap();
    assert_eq!(request.url(), "https://sts.eu-west-1.amazonaws.com/");
    assert!(request.header("authorization").unwrap().contains("/eu-west-1/sts/aws4_request"));
    let body = include_bytes!("../fixtures/moto/sts_get_caller_identity.xml");
    let me = sts::GetCallerIdentity::parse(&HttpResponse::from_body(200, &body[..])).unwrap();
    assert_eq!(me.account.as_str(), "123456789012");
}

/// Signing cost inside wasm (Node or the browser): prints µs per request for the fast path and
/// for `aws-sigv4`'s `sign`. A measurement, not a check; run it with `--release` to mean anything.
#[wasm_bindgen_test]
fn signing_cost_in_wasm() {
    let creds = Credentials::new(
        "ASIAEXAMPLEEXAMPLE00",
        "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        Some(trustline_core::Secret::new("IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQDexample")),
    );
    let endpoints = Endpoints::new("eu-west-1".parse().unwrap());
    let requests: Vec<_> = crate::corpus::calls()
        .into_iter()
        .map(|(_, call)| {
            let endpoint = endpoints.resolve(call.service()).unwrap();
            (
                call.to_http(endpoint.url()),
                call.service().signing_name(),
                endpoint.signing_region().to_owned(),
            )
        })
        .collect();
    let signer = Signer::new(&creds);
    let time = UNIX_EPOCH + Duration::from_secs(1_795_291_200);
    for (name, reference) in [("fast path", false), ("aws-sigv4 sign", true)] {
        let start = js_sys::Date::now();
        let mut signed = 0u32;
        while js_sys::Date::now() - start < 1_000.0 {
            for (request, service, region) in &requests {
                let mut request = request.clone();
                if reference {
                    signer.sign_with_aws_sigv4(&mut request, service, region, time).unwrap();
                } else {
                    signer.sign(&mut request, service, region, time).unwrap();
                }
                signed += 1;
            }
        }
        let micros = (js_sys::Date::now() - start) * 1_000.0 / f64::from(signed);
        wasm_bindgen_test::console_log!(
            "wasm signing ({name}): {micros:.2} µs per request over {signed} requests"
        );
    }
}

/// The executor in the browser: a request signed with the JS clock goes out through reqwest's
/// `fetch` backend to moto (started by scripts/test.d/30-wasm.sh, which bakes its URL in at
/// compile time), and the answer parses. Built only with `--features executor`.
#[cfg(feature = "executor")]
#[wasm_bindgen_test]
async fn executor_sends_signed_requests_from_the_browser() {
    let moto = option_env!("TRUSTLINE_WASM_MOTO")
        .expect("TRUSTLINE_WASM_MOTO must name a moto server; run scripts/test.d/30-wasm.sh");
    let now = UNIX_EPOCH + Duration::from_millis(js_sys::Date::now() as u64);
    let creds = Credentials::new("AKIDEXAMPLE", "secret", None);
    let endpoints = Endpoints::new("us-east-1".parse().unwrap())
        .with_override(trustline_core::Service::Sts, moto)
        .unwrap();
    let request = prepare(&sts::GetCallerIdentity, &endpoints, &Signer::new(&creds), now).unwrap();
    let response =
        trustline_core::exec::Executor::new().send(&request).await.expect("moto answers the browser");
    let me = sts::GetCallerIdentity::parse(&response).unwrap();
    assert_eq!(me.account.as_str(), "123456789012");
}
