//! Golden snapshots of every generated document (review changes with `cargo insta review`).

use insta::assert_snapshot;
use trustline_core::alternatives;
use trustline_core::cfn::stackset::{CallAs, OrgRollout};
use trustline_core::cfn::user::{KeyKind, UserSpec};
use trustline_core::cfn::{role, stackset, user};
use trustline_core::policy::permissions::{self, AccountScope, DataSet, PermissionOptions};
use trustline_core::policy::trust::{self, ComputeService, TrustHardening};
use trustline_core::{AccountId, IntegrationKind, Partition};

use crate::acme_role;

fn account() -> AccountId {
    "123456789012".parse().unwrap()
}

fn hardened() -> TrustHardening {
    TrustHardening {
        source_ips: vec!["203.0.113.0/24".parse().unwrap(), "2001:db8::/32".parse().unwrap()],
        principal_org_id: Some("o-a1b2c3d4e5".parse().unwrap()),
        allow_session_tags: true,
        allow_source_identity: true,
        ..Default::default()
    }
}

#[test]
fn trust_policies() {
    let vendor = "arn:aws:iam::111122223333:root".parse().unwrap();
    let id = "acme:tenant-42:0123456789abcdefghijklmnopqrstuv".parse().unwrap();
    assert_snapshot!(
        "trust_third_party",
        trust::third_party(&vendor, &id, &TrustHardening::default()).unwrap()
    );
    assert_snapshot!("trust_third_party_hardened", trust::third_party(&vendor, &id, &hardened()).unwrap());
    let vpce = TrustHardening {
        source_vpces: vec!["vpce-0a1b2c3d4e5f67890".parse().unwrap()],
        ..Default::default()
    };
    let role_vendor = "arn:aws-us-gov:iam::111122223333:role/trustline/Worker".parse().unwrap();
    assert_snapshot!(
        "trust_third_party_vendor_role_vpce",
        trust::third_party(&role_vendor, &id, &vpce).unwrap()
    );
    assert_snapshot!("trust_ecs_tasks", trust::service(ComputeService::EcsTasks, Some("123456789012")));
    assert_snapshot!("trust_ec2", trust::service(ComputeService::Ec2, None));
    assert_snapshot!("trust_lambda", trust::service(ComputeService::Lambda, None));
    let issuer =
        "https://oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE".parse().unwrap();
    assert_snapshot!(
        "trust_eks_irsa",
        trust::eks_irsa(Partition::Aws, &account(), &issuer, "vendor", "inventory").unwrap()
    );
}

#[test]
fn permission_policies() {
    let scope = AccountScope::Account(Partition::Aws, account());
    assert_snapshot!(
        "permissions_default",
        permissions::read_only(&scope, &PermissionOptions::default()).unwrap()
    );
    let everything = PermissionOptions {
        data_sets: [DataSet::Iam, DataSet::Ec2Network, DataSet::CloudTrail, DataSet::Organizations].into(),
        regions: vec!["eu-west-1".parse().unwrap(), "us-east-1".parse().unwrap()],
        source_ips: vec!["203.0.113.0/24".parse().unwrap()],
    };
    let cn = AccountScope::Account(Partition::AwsCn, account());
    assert_snapshot!("permissions_all_conditions_cn", permissions::read_only(&cn, &everything).unwrap());
    assert_snapshot!("boundary_access_key", permissions::access_key_boundary(&scope, &everything).unwrap());
    assert_snapshot!("sts_user", permissions::sts_user("arn:aws:iam::123456789012:role/AcmeReadOnly", &[]));
    assert_snapshot!(
        "rotation_guidance",
        serde_json::to_string_pretty(&permissions::rotation_guidance("acme-read-only")).unwrap()
    );
}

#[test]
fn role_templates() {
    let spec = acme_role();
    assert_snapshot!("role_default.yaml", role::template(&spec).unwrap().to_yaml());
    let mut full = acme_role();
    full.max_session_seconds = 43_200;
    full.role_path = "/vendors/acme/".into();
    full.aws_managed_policies = vec!["SecurityAudit".parse().unwrap()];
    full.external_id = Some("acme:tenant-42:0123456789abcdefghijklmnopqrstuv".parse().unwrap());
    full.hardening = hardened();
    assert_snapshot!("role_everything.json", role::template(&full).unwrap().to_json());
}

#[test]
fn organization_templates() {
    let rollout = OrgRollout {
        role: acme_role(),
        targets: vec!["r-ab12".parse().unwrap()],
        call_as: CallAs::ManagementAccount,
        include_discovery_role: true,
    };
    assert_snapshot!("stackset_management.yaml", stackset::template(&rollout).unwrap().to_yaml());
    let delegated = OrgRollout {
        targets: vec!["ou-ab12-cdef3456".parse().unwrap()],
        call_as: CallAs::DelegatedAdmin,
        ..rollout
    };
    assert_snapshot!("stackset_delegated.yaml", stackset::template(&delegated).unwrap().to_yaml());
}

#[test]
fn user_templates() {
    for (name, kind) in [("user_access_key.yaml", KeyKind::AccessKey), ("user_sts.yaml", KeyKind::Sts)] {
        let spec = UserSpec {
            kind,
            vendor_name: "Acme Security".into(),
            user_name: "acme-read-only".into(),
            path: "/".into(),
            permissions: PermissionOptions {
                regions: vec!["eu-west-1".parse().unwrap()],
                ..Default::default()
            },
        };
        assert_snapshot!(name, user::template(&spec).unwrap().to_yaml());
    }
}

#[test]
fn alternatives() {
    let mut spec = acme_role();
    spec.external_id = Some("acme:tenant-42:0123456789abcdefghijklmnopqrstuv".parse().unwrap());
    spec.aws_managed_policies = vec!["SecurityAudit".parse().unwrap()];
    assert_snapshot!("role.sh", alternatives::aws_cli(&spec, Partition::Aws, &account()).unwrap());
    let tf = alternatives::terraform(&spec).unwrap();
    assert_snapshot!("role.tf", &tf);
    // The Terraform must parse, and its policies must be exactly the documents core built.
    let body: hcl::Body = hcl::from_str(&tf).unwrap();
    let role = body.blocks().find(|b| b.labels().iter().any(|l| l.as_str() == "vendor")).unwrap();
    let trust = role.body().attributes().find(|a| a.key() == "assume_role_policy").unwrap();
    assert!(trust.expr().to_string().starts_with("jsonencode("), "{}", trust.expr());
    assert!(tf.contains("\"sts:ExternalId\" = \"acme:tenant-42:0123456789abcdefghijklmnopqrstuv\""));
    assert!(tf.contains(":iam::${data.aws_caller_identity.current.account_id}:user/*"));
    assert!(!tf.contains("$${"), "Terraform references must stay interpolations");
}

#[test]
fn integration_kinds() {
    let kinds: Vec<_> = IntegrationKind::ALL.iter().map(|k| k.info()).collect();
    assert_snapshot!("integration_kinds", serde_json::to_string_pretty(&kinds).unwrap());
}
