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
