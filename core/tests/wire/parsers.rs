//! Parsers on responses recorded from moto (`fixtures/moto/`) and on fixtures written to AWS's
//! documented shapes (`fixtures/aws/`), which differ in places (timestamps, policy encoding, pagination).

use time::macros::datetime;
use trustline_core::aws::{HttpResponse, Operation, cloudtrail, ec2, iam, organizations, sts};

/// The bytes of `tests/fixtures/{path}`.
pub(crate) fn fixture(path: &str) -> Vec<u8> {
    let full = format!("{}/tests/fixtures/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&full).unwrap_or_else(|e| panic!("read {full}: {e}"))
}

fn ok(path: &str) -> HttpResponse {
    HttpResponse::from_body(200, fixture(path))
}

#[test]
fn iam_pages_follow_is_truncated_not_the_count() {
    let page = iam::ListUsers::parse(&ok("aws/iam_list_users_truncated.xml")).unwrap();
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.next_token.as_deref(), Some("AAIAAQdE8GiaUFn/Ow8Fge6W8Yl5v+HZ0ph4s3zH7hLzv+Np"));
    assert_eq!(page.items[0].password_last_used, Some(datetime!(2014-09-08 21:47:36 UTC)));
    assert_eq!(page.items[0].path, "/division_abc/subdivision_xyz/engineering/");
    // AWS may return no items and still have more.
    let page = iam::ListUsers::parse(&ok("aws/iam_list_users_empty_but_truncated.xml")).unwrap();
    assert_eq!((page.items.len(), page.next_token.as_deref()), (0, Some("AAIAAQdE8GiaUFn/next")));
    // A Marker without IsTruncated=true is not a next page.
    let page = iam::ListUsers::parse(&ok("aws/iam_list_users_last_page.xml")).unwrap();
    assert_eq!(page.next_token, None);
    assert_eq!(page.items[0].create_date, datetime!(2012-09-05 19:38:48.123 UTC));
    assert_eq!(page.items[0].path, "/");
}

#[test]
fn iam_truncated_without_marker_is_an_error() {
    let body = r#"<ListUsersResponse><ListUsersResult><IsTruncated>true</IsTruncated><Users/></ListUsersResult></ListUsersResponse>"#;
    let err = iam::ListUsers::parse(&HttpResponse::from_body(200, body)).unwrap_err();
    assert!(err.message().unwrap().contains("Marker"), "{err}");
}

#[test]
fn trust_policies_are_url_decoded() {
    let page = iam::ListRoles::parse(&ok("aws/iam_list_roles.xml")).unwrap();
    let role = &page.items[0];
    assert_eq!(
        role.assume_role_policy_document.as_deref(),
        Some(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":["ec2.amazonaws.com"]},"Action":["sts:AssumeRole"]}]}"#
        )
    );
    assert_eq!(role.max_session_duration, Some(3600));
    // moto sends ListRoles documents raw; they must come out the same.
    let page = iam::ListRoles::parse(&ok("moto/iam_list_roles_page1.xml")).unwrap();
    assert!(page.items[0].assume_role_policy_document.as_deref().unwrap().starts_with(r#"{"Version""#));
    assert!(page.next_token.is_some());
}

#[test]
fn get_role_reads_the_role_and_decodes_its_trust_policy() {
    let role = iam::GetRole::parse(&ok("aws/iam_get_role.xml")).unwrap();
    assert_eq!(role.role_name, "S3Access");
    assert_eq!(role.path, "/application_abc/component_xyz/");
    assert_eq!(role.max_session_duration, Some(3600));
    let doc = role.assume_role_policy_document.unwrap();
    assert!(doc.contains(r#""sts:ExternalId":"acme:t-1:abc""#), "{doc}");
    let doc = trustline_core::policy::PolicyDocument::from_json(&doc).unwrap();
    assert!(trustline_core::policy::trust::check_trust(&doc, None).is_empty());
    let call = iam::GetRole::new("S3Access").unwrap().call().unwrap();
    let body = String::from_utf8(call.body().to_vec()).unwrap();
    assert!(body.contains("Action=GetRole") && body.contains("RoleName=S3Access"), "{body}");
    let err = iam::GetRole::new("no spaces").unwrap_err();
    assert!(err.to_string().contains("role_name"), "{err}");
}

#[test]
fn authorization_details_aws_shape() {
    let details = iam::GetAccountAuthorizationDetails::parse(&ok(
        "aws/iam_get_account_authorization_details_truncated.xml",
    ))
    .unwrap();
    insta::assert_debug_snapshot!("authorization_details_aws", details);
}

#[test]
fn authorization_details_moto_shape() {
    let details =
        iam::GetAccountAuthorizationDetails::parse(&ok("moto/iam_get_account_authorization_details.xml"))
            .unwrap();
    assert_eq!(
        (details.users.len(), details.groups.len(), details.roles.len(), details.policies.len()),
        (4, 1, 3, 1)
    );
    assert_eq!(details.policies[0].policy.policy_name, "describe");
    assert!(details.policies[0].versions[0].document.as_deref().unwrap().contains("ec2:Describe*"));
    assert_eq!(details.next_token, None);
}

#[test]
fn credential_report_rows() {
    let report = iam::GetCredentialReport::parse(&ok("aws/iam_get_credential_report.xml")).unwrap();
    insta::assert_debug_snapshot!("credential_report_aws", report);
    let report = iam::GetCredentialReport::parse(&ok("moto/iam_get_credential_report.xml")).unwrap();
    assert_eq!(report.rows.len(), 4, "moto lists the four users and no root line");
}

#[test]
fn moto_iam_lists() {
    assert_eq!(iam::ListUsers::parse(&ok("moto/iam_list_users.xml")).unwrap().items.len(), 4);
    assert_eq!(iam::ListGroups::parse(&ok("moto/iam_list_groups.xml")).unwrap().items.len(), 1);
    assert_eq!(iam::ListAccessKeys::parse(&ok("moto/iam_list_access_keys.xml")).unwrap().items.len(), 1);
    let policies = iam::ListPolicies::parse(&ok("moto/iam_list_policies_local.xml")).unwrap();
    assert_eq!(policies.items[0].default_version_id.as_deref(), Some("v1"));
}

#[test]
fn sts_responses() {
    let assumed = sts::AssumeRole::parse(&ok("aws/sts_assume_role.xml")).unwrap();
    assert_eq!(assumed.credentials.access_key_id(), "ASIAIOSFODNN7EXAMPLE");
    assert_eq!(assumed.expiration, datetime!(2019-11-09 13:34:41 UTC));
    assert_eq!((assumed.packed_policy_size, assumed.source_identity.as_deref()), (Some(6), Some("Alice")));
    assert!(!format!("{assumed:?}").contains("wJalr"), "secrets must not print");
    let web =
        sts::AssumeRoleWithWebIdentity::parse(&ok("aws/sts_assume_role_with_web_identity.xml")).unwrap();
    assert_eq!(web.subject.as_deref(), Some("system:serviceaccount:default:trustline"));
    assert_eq!(web.role.expiration, datetime!(2014-10-24 23:00:23.417 UTC));
    let me = sts::GetCallerIdentity::parse(&ok("moto/sts_get_caller_identity.xml")).unwrap();
    assert_eq!(me.account.as_str(), "123456789012");
    assert!(sts::AssumeRole::parse(&ok("moto/sts_assume_role.xml")).is_ok());
}

#[test]
fn ec2_instances_flatten_reservations_and_page() {
    let page = ec2::DescribeInstances::parse(&ok("aws/ec2_describe_instances_paged.xml")).unwrap();
    insta::assert_debug_snapshot!("ec2_instances_aws", page);
    let page = ec2::DescribeInstances::parse(&ok("moto/ec2_describe_instances.xml")).unwrap();
    assert_eq!((page.items.len(), page.next_token), (2, None));
    let vpcs = ec2::DescribeVpcs::parse(&ok("aws/ec2_describe_vpcs_empty_page.xml")).unwrap();
    assert_eq!((vpcs.items.len(), vpcs.next_token.as_deref()), (0, Some("token-2")));
}

#[test]
fn ec2_network_resources() {
    let groups = ec2::DescribeSecurityGroups::parse(&ok("aws/ec2_describe_security_groups.xml")).unwrap();
    let web = &groups.items[0];
    assert_eq!(web.ingress[0].cidrs, ["0.0.0.0/0", "::/0"]);
    assert_eq!((web.ingress[0].from_port, web.ingress[0].to_port), (Some(443), Some(443)));
    assert_eq!(web.ingress[1].group_ids, ["sg-1a2b3c4d"]);
    assert_eq!(web.egress[0].protocol, "-1");
    assert!(
        !ec2::DescribeSecurityGroups::parse(&ok("moto/ec2_describe_security_groups.xml"))
            .unwrap()
            .items
            .is_empty()
    );
    assert!(!ec2::DescribeSubnets::parse(&ok("moto/ec2_describe_subnets.xml")).unwrap().items.is_empty());
    assert!(ec2::DescribeVpcs::parse(&ok("moto/ec2_describe_vpcs.xml")).unwrap().items[0].is_default);
    let enis =
        ec2::DescribeNetworkInterfaces::parse(&ok("moto/ec2_describe_network_interfaces.xml")).unwrap();
    assert!(enis.items.iter().all(|e| e.instance_id.is_some()));
    let regions = ec2::DescribeRegions::parse(&ok("moto/ec2_describe_regions.xml")).unwrap();
    assert!(regions.len() > 10);
}

#[test]
fn cloudtrail_events() {
    let page = cloudtrail::LookupEvents::parse(&ok("aws/cloudtrail_lookup_events.json")).unwrap();
    insta::assert_debug_snapshot!("cloudtrail_events_aws", page);
    let empty = cloudtrail::LookupEvents::parse(&ok("aws/cloudtrail_lookup_events_empty.json")).unwrap();
    assert_eq!((empty.items.len(), empty.next_token), (0, None));
}

#[test]
fn organizations_accounts_and_ous() {
    let page = organizations::ListAccounts::parse(&ok("aws/organizations_list_accounts.json")).unwrap();
    assert_eq!(page.items.len(), 2);
    assert_eq!(page.items[1].joined, Some(datetime!(2016-12-15 21:02:21.044 UTC)));
    assert_eq!(page.next_token.as_deref(), Some("AAQAAAAAHEx0LWQuKnRpz6Y"));
    let page =
        organizations::ListAccountsForParent::parse(&ok("moto/organizations_list_accounts.json")).unwrap();
    assert_eq!(page.items.len(), 1);
    let ous = organizations::ListOrganizationalUnitsForParent::parse(&ok("aws/organizations_list_ous.json"))
        .unwrap();
    assert_eq!(ous.items[0].name.as_deref(), Some("Development"));
}

#[test]
fn documented_shapes_keep_what_the_inventory_needs() {
    let page = ec2::DescribeInstances::parse(&ok("aws/ec2_describe_instances.xml")).unwrap();
    let i = &page.items[0];
    assert_eq!(
        (i.availability_zone.as_deref(), i.metadata_http_tokens.as_deref(), i.instance_lifecycle.as_deref()),
        (Some("eu-west-1a"), Some("optional"), Some("spot"))
    );
    let vpc = &ec2::DescribeVpcs::parse(&ok("aws/ec2_describe_vpcs.xml")).unwrap().items[0];
    assert_eq!(vpc.cidr_blocks, ["10.0.0.0/16", "100.64.0.0/16"]);
    assert_eq!(vpc.block_public_access.as_deref(), Some("block-ingress"));
    let subnets = ec2::DescribeSubnets::parse(&ok("aws/ec2_describe_subnets.xml")).unwrap();
    assert_eq!(subnets.items[0].available_ip_address_count, Some(250));
    assert_eq!(subnets.next_token.as_deref(), Some("eyJ2IjoiMiIsImMiOiJzdWJuZXRzIn0="));
    let eni = &ec2::DescribeNetworkInterfaces::parse(&ok("aws/ec2_describe_network_interfaces.xml"))
        .unwrap()
        .items[0];
    assert_eq!(eni.private_ips, ["10.0.2.15", "10.0.2.16"]);
    assert_eq!((eni.source_dest_check, eni.requester_managed), (Some(true), false));
    let groups = ec2::DescribeSecurityGroups::parse(&ok("aws/ec2_describe_security_groups.xml")).unwrap();
    assert_eq!(groups.items[0].ingress[0].prefix_list_ids, ["pl-6da54004"]);
    let keys = iam::ListAccessKeys::parse(&ok("aws/iam_list_access_keys.xml")).unwrap();
    assert_eq!(keys.items[1].status.as_deref(), Some("Expired"));
    assert!(!keys.items[1].active);
    let details =
        iam::GetAccountAuthorizationDetails::parse(&ok("aws/iam_get_account_authorization_details.xml"))
            .unwrap();
    assert_eq!(details.roles[0].last_used_region.as_deref(), Some("us-east-2"));
    assert_eq!(details.policies[1].policy.permissions_boundary_usage_count, 1);
}
