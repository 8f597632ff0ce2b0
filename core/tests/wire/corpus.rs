//! A corpus of calls covering every operation, with awkward parameter values.

use time::macros::datetime;
use trustline_core::aws::{Call, Operation, cloudtrail, ec2, iam, organizations, sts};
use trustline_core::{ExternalId, RoleArn, Secret};

fn role(arn: &str) -> RoleArn {
    arn.parse().unwrap()
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
