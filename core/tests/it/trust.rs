//! The confused-deputy check: every way a trust policy can let a third party in without an
//! exact ExternalId is caught, and what Trustline builds always passes.

use trustline_core::AccountId;
use trustline_core::policy::PolicyDocument;
use trustline_core::policy::trust::{self, TrustHardening, VendorPrincipal, check_trust};

fn findings(json: &str, own: Option<&str>) -> Vec<String> {
    let own: Option<AccountId> = own.map(|a| a.parse().unwrap());
    check_trust(&PolicyDocument::from_json(json).unwrap(), own.as_ref())
        .into_iter()
        .map(|f| f.message)
        .collect()
}

fn statement(principal: &str, condition: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{principal},"Action":"sts:AssumeRole"{condition}}}]}}"#
    )
}

#[test]
fn missing_external_id_is_a_finding() {
    let f = findings(&statement(r#"{"AWS":"arn:aws:iam::111122223333:root"}"#, ""), Some("123456789012"));
    assert_eq!(f.len(), 1);
    assert!(f[0].contains("confused deputy"), "{f:?}");
    // A bare account ID is the same principal.
    assert_eq!(findings(&statement(r#"{"AWS":"111122223333"}"#, ""), None).len(), 1);
}

#[test]
fn unsafe_operators_are_findings() {
    let vendor = r#"{"AWS":["arn:aws:iam::111122223333:role/x"]}"#;
    for (op, expect) in [
        ("StringEqualsIfExists", "when no ExternalId is sent"),
        ("ForAllValues:StringEquals", "true when the ExternalId is missing"),
        ("StringNotEquals", "not a safe way"),
    ] {
        let cond = format!(r#","Condition":{{"{op}":{{"sts:ExternalId":"abc123"}}}}"#);
        let f = findings(&statement(vendor, &cond), None);
        assert!(f.len() == 1 && f[0].contains(expect), "{op}: {f:?}");
    }
    let wildcard = r#","Condition":{"StringLike":{"sts:ExternalId":"acme-*"}}"#;
    assert!(findings(&statement(vendor, wildcard), None)[0].contains("wildcards"));
}

#[test]
fn anyone_is_a_finding_even_with_other_conditions() {
    let cond = r#","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-a1b2c3d4e5"}}"#;
    let f = findings(&statement(r#""*""#, cond), None);
    assert!(f[0].contains("every AWS account"), "{f:?}");
}

#[test]
fn safe_and_irrelevant_statements_pass() {
    let exact = r#","Condition":{"StringEquals":{"sts:ExternalId":"abc123"}}"#;
    assert!(findings(&statement(r#"{"AWS":"arn:aws:iam::111122223333:root"}"#, exact), None).is_empty());
    let like_exact = r#","Condition":{"StringLike":{"sts:ExternalId":"abc123"}}"#;
    assert!(findings(&statement(r#"{"AWS":"arn:aws:iam::111122223333:root"}"#, like_exact), None).is_empty());
    // Same-account principals and services are not third parties.
    assert!(
        findings(&statement(r#"{"AWS":"arn:aws:iam::123456789012:user/ci"}"#, ""), Some("123456789012"))
            .is_empty()
    );
    assert!(findings(&statement(r#"{"Service":"ec2.amazonaws.com"}"#, ""), None).is_empty());
    // Deny statements and other actions don't grant AssumeRole.
    let deny =
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Principal":"*","Action":"sts:AssumeRole"}}"#;
    assert!(findings(deny, None).is_empty());
}

#[test]
fn everything_trustline_builds_passes_its_own_check() {
    let vendor = "arn:aws:iam::111122223333:root".parse().unwrap();
    let id = "abcdefgh".parse().unwrap();
    let hardening = TrustHardening { allow_session_tags: true, ..Default::default() };
    let doc = trust::third_party(&vendor, &id, &hardening).unwrap();
    assert!(check_trust(&doc, None).is_empty());
    // …and the same document with the condition removed does not.
    let mut stripped = doc.clone();
    stripped.statement[0].condition.clear();
    assert_eq!(check_trust(&stripped, None).len(), 1);
}

#[test]
fn hardening_conflicts_and_size_limits_are_explained() {
    let vendor = "arn:aws:iam::111122223333:root".parse().unwrap();
    let id = "abcdefgh".parse().unwrap();
    let both = TrustHardening {
        source_ips: vec!["203.0.113.0/24".parse().unwrap()],
        source_vpces: vec!["vpce-0a1b2c3d".parse().unwrap()],
        ..Default::default()
    };
    let err = trust::third_party(&vendor, &id, &both).unwrap_err();
    assert!(err.to_string().contains("not both"), "{err}");

    // 200 ranges push the trust policy over IAM's default 2,048-character quota.
    let many = TrustHardening {
        source_ips: (0..200).map(|i| format!("198.51.{}.{}/32", i / 250, i % 250).parse().unwrap()).collect(),
        ..Default::default()
    };
    let err = trust::third_party(&vendor, &id, &many).unwrap_err();
    assert_eq!(err.field(), "trust_policy");
    assert!(err.to_string().contains("over IAM's limit of 2048"), "{err}");
}

#[test]
fn vendor_principals_parse_with_helpful_errors() {
    for ok in [
        "arn:aws:iam::111122223333:root",
        "arn:aws-cn:iam::111122223333:role/trustline/Worker",
        "arn:aws:iam::111122223333:user/workers/trustline",
    ] {
        let p: VendorPrincipal = ok.parse().unwrap();
        assert_eq!(p.to_string(), ok);
        assert_eq!(p.account_id().as_str(), "111122223333");
    }
    let err = |s: &str| s.parse::<VendorPrincipal>().unwrap_err().to_string();
    assert!(err("11112222333").contains("12 digits, this has 11"));
    assert!(err("111122223333").contains("arn:aws:iam::ACCOUNT:root"));
    assert!(err("arn:aws:iam::1111222233:root").contains("must be 12 digits"));
    assert!(err("arn:aws:iam::111122223333:group/x").starts_with("vendor_principal: "));
}
