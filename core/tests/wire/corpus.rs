//! A corpus of calls covering every operation, with awkward parameter values.

use time::macros::datetime;
use trustline_core::aws::{Call, HttpRequest, Operation, cloudtrail, ec2, iam, organizations, sts};
use trustline_core::{Credentials, Endpoints, ExternalId, RoleArn, Secret};

/// Authorization headers botocore computed for [`cases`], written by the native signing test.
pub(crate) const GOLDEN: &str = include_str!("../fixtures/signing/botocore.json");

fn role(arn: &str) -> RoleArn {
    arn.parse().unwrap()
}

/// Whether to rewrite fixtures from the stand-ins (`TRUSTLINE_RECORD=1`).
#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn recording() -> bool {
    std::env::var("TRUSTLINE_RECORD").is_ok_and(|v| !v.is_empty() && v != "0")
}

/// Every operation at least once; some with odd characters (unicode, `+`, `=`, spaces, `~`, `*`).
pub(crate) fn calls() -> Vec<(&'static str, Call)> {
    let external: ExternalId = "trustline-Ab+=,.@:/-0123456789".parse().unwrap();
    let assume = sts::AssumeRole::new(
        role("arn:aws:iam::123456789012:role/path/Trustline"),
        "vendor+sync=1,ok.@-",
    )
    .unwrap()
    .external_id(external)
    .duration_seconds(3600)
    .unwrap()
    .source_identity("alice@example.com")
    .unwrap()
    .tag("Team name", "Plattform & Sicherheit ~ é ✓")
    .unwrap()
    .policy(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:Get*","Resource":"*"}]}"#)
    .unwrap();
    let web = sts::AssumeRoleWithWebIdentity::new(
        role("arn:aws-cn:iam::123456789012:role/irsa"),
        "system-serviceaccount",
        Secret::new("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln"),
    )
    .unwrap();
    let paging = || iam::Paging::after(Some("AAH/+marker==".to_owned())).max_items(1000).unwrap();
    let ec2_query = || {
        ec2::Query::after(Some("eyJ2IjoiMiIsImMiOiJ0b2tlbiJ9".to_owned()))
            .max_results(5)
            .unwrap()
            .filter("tag:Name", &["web *", "db/ü"])
            .filter("instance-state-name", &["running"])
    };
    let start = datetime!(2026-11-01 00:00:00 UTC);
    let end = datetime!(2026-11-22 19:55:00.5 UTC);
    let mut calls: Vec<(&'static str, Call)> = vec![
        ("GetCallerIdentity", sts::GetCallerIdentity.call().unwrap()),
        ("AssumeRole", assume.call().unwrap()),
        ("AssumeRoleWithWebIdentity", web.call().unwrap()),
        ("ListUsers", iam::ListUsers { paging: paging() }.call().unwrap()),
        ("ListGroups", iam::ListGroups::default().call().unwrap()),
        ("ListRoles", iam::ListRoles { paging: paging() }.call().unwrap()),
        (
            "ListPolicies",
            iam::ListPolicies { paging: paging(), scope: iam::PolicyScope::Local, only_attached: true }
                .call()
                .unwrap(),
        ),
        (
            "ListAccessKeys",
            iam::ListAccessKeys { user_name: Some("bob+ops=1,x.y@z-".to_owned()), paging: paging() }
                .call()
                .unwrap(),
        ),
        (
            "GetAccountAuthorizationDetails",
            iam::GetAccountAuthorizationDetails {
                filter: vec![iam::DetailFilter::Role, iam::DetailFilter::AwsManagedPolicy],
                paging: paging(),
            }
            .call()
            .unwrap(),
        ),
        ("GenerateCredentialReport", iam::GenerateCredentialReport.call().unwrap()),
        ("GetCredentialReport", iam::GetCredentialReport.call().unwrap()),
        ("DescribeRegions", ec2::DescribeRegions { all_regions: true }.call().unwrap()),
        ("DescribeInstances", ec2::DescribeInstances { query: ec2_query() }.call().unwrap()),
        ("DescribeVpcs", ec2::DescribeVpcs { query: ec2_query() }.call().unwrap()),
        ("DescribeSubnets", ec2::DescribeSubnets::default().call().unwrap()),
        ("DescribeSecurityGroups", ec2::DescribeSecurityGroups { query: ec2_query() }.call().unwrap()),
        ("DescribeNetworkInterfaces", ec2::DescribeNetworkInterfaces::default().call().unwrap()),
        (
            "LookupEvents",
            cloudtrail::LookupEvents::new(Some(start), Some(end))
                .unwrap()
                .lookup(cloudtrail::Lookup::EventName("ConsoleLogin \"ü\"".to_owned()))
                .max_results(50)
                .unwrap()
                .after(Some("kbOt5LlZe++O8YTBV4LOGBpWTZjv/o=".to_owned()))
                .call()
                .unwrap(),
        ),
        (
            "LookupEvents(ReadOnly)",
            cloudtrail::LookupEvents::new(None, Some(end))
                .unwrap()
                .lookup(cloudtrail::Lookup::ReadOnly(false))
                .call()
                .unwrap(),
        ),
        ("ListAccounts", organizations::ListAccounts::default().call().unwrap()),
        (
            "ListAccountsForParent",
            organizations::ListAccountsForParent::new("ou-ab12-cd34ef56").unwrap().call().unwrap(),
        ),
        (
            "ListOrganizationalUnitsForParent",
            organizations::ListOrganizationalUnitsForParent::new("r-ab12").unwrap().call().unwrap(),
        ),
    ];
    calls.sort_by_key(|(name, _)| *name);
    calls
}

/// One request to sign, with the credentials, scope and time to sign it with.
pub(crate) struct Case {
    pub(crate) name: String,
    pub(crate) request: HttpRequest,
    pub(crate) region: String,
    pub(crate) service: &'static str,
    pub(crate) creds: Credentials,
    pub(crate) time: u64,
}

/// Every call in several regions and partitions (one with FIPS), with and without a session
/// token, at several times, plus an endpoint override with a port.
pub(crate) fn cases() -> Vec<Case> {
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
