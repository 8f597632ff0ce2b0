//! The reqwest executor (feature `executor`) against moto: a signed request goes out, the
//! response comes back whole, and a refused connection is a transport error, not a panic.

use std::time::SystemTime;

use trustline_core::aws::{Operation, prepare, sts};
use trustline_core::exec::Executor;
use trustline_core::{Credentials, Endpoints, Signer};
use trustline_testkit::moto::Moto;

#[tokio::test]
async fn executor_round_trip_through_moto() {
    let moto = Moto::start();
    let endpoints = Endpoints::new("eu-west-1".parse().unwrap()).with_override_all(&moto.endpoint()).unwrap();
    let signer = Signer::new(&Credentials::new("AKIAEXAMPLEEXAMPLE00", "secret", None));
    let request = prepare(&sts::GetCallerIdentity, &endpoints, &signer, SystemTime::now()).unwrap();
    let response = Executor::new().send(&request).await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.header("content-type").is_some());
    let me = sts::GetCallerIdentity::parse(&response).unwrap();
    assert_eq!(me.account.as_str(), "123456789012");

    // Nothing listens on a port that was just freed.
    let port = trustline_testkit::tools::free_port();
    let closed = Endpoints::new("eu-west-1".parse().unwrap())
        .with_override_all(&format!("http://127.0.0.1:{port}"))
        .unwrap();
    let request = prepare(&sts::GetCallerIdentity, &closed, &signer, SystemTime::now()).unwrap();
    let err = Executor::new().send(&request).await.unwrap_err();
    assert!(err.to_string().contains("no response"), "{err}");
}
