//! The builders behind [`AccessKit`]: each document comes from `trustline-core`; this module
//! only picks and labels them, and maps a builder's refusal to the scope field to change.

use trustline_core::cfn::quick_create::{self, QuickCreate};
use trustline_core::cfn::user::{self, KeyKind, UserSpec};
use trustline_core::cfn::{Template, role, stackset};
use trustline_core::policy::permissions::{self, AccountScope};
use trustline_core::policy::trust;
use trustline_core::{AccountId, IntegrationKind, alternatives};

use super::{AccessKit, Document, Rotation, ScopeProblem};
use crate::config::{Config, check_template_url};
use crate::state::{Scope, ScopeField};

const ROLE_ARN_STEP: &str = "When the stack shows CREATE_COMPLETE, copy the RoleArn from its Outputs tab and paste it in the next step.";

const NEED_ACCOUNT: &str =
    "enter your account ID in the Scope step (Back) to get it, ready for your account.";

impl AccessKit {
    fn push(
        list: &mut Vec<Document>,
        errors: &mut Vec<String>,
        doc: Result<Document, trustline_core::Error>,
    ) {
        match doc {
            Ok(d) => list.push(d),
            Err(e) => errors.push(e.to_string()),
        }
    }

    fn templates(&mut self, stem: &str, template: trustline_core::error::Result<Template>) {
        match template {
            Ok(t) => {
                self.templates.push(doc(
                    "template-yaml",
                    "CloudFormation template (YAML)",
                    &format!("{stem}.yaml"),
                    "application/yaml",
                    t.to_yaml(),
                ));
                self.templates.push(doc(
                    "template-json",
                    "CloudFormation template (JSON)",
                    &format!("{stem}.json"),
                    "application/json",
                    t.to_json(),
                ));
            }
            Err(e) => self.errors.push(e.to_string()),
        }
    }
}

fn doc(id: &str, title: &str, file_name: &str, mime: &str, body: String) -> Document {
    Document {
        id: id.to_owned(),
        title: title.to_owned(),
        file_name: file_name.to_owned(),
        mime: mime.to_owned(),
        body,
    }
}

fn json_doc(id: &str, title: &str, body: String) -> Document {
    doc(id, title, &format!("{id}.json"), "application/json", body)
}

/// A CloudFormation stack name from the vendor's name: letters, digits and hyphens.
pub(super) fn stack_name(config: &Config) -> String {
    let cleaned: String = config
        .vendor_name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect::<String>()
        .split('-')
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    match cleaned.chars().next() {
        Some(c) if c.is_ascii_alphabetic() => format!("{cleaned}-read-only-access"),
        _ => "vendor-read-only-access".to_owned(),
    }
}

/// The Launch-stack link for the role (or Organization) template in S3.
pub(super) fn launch_link(
    config: &Config,
    template_url: &str,
    targets: Option<&str>,
) -> trustline_core::error::Result<String> {
    let vendor = config.vendor.to_string();
    let mut params = vec![
        ("ExternalId", config.external_id.as_str()),
        ("VendorPrincipal", vendor.as_str()),
        ("RoleName", config.role_name.as_str()),
    ];
    if let Some(t) = targets {
        params.push(("OrganizationalUnitIds", t));
    }
    quick_create_link(&QuickCreate {
        region: &config.region,
        template_url,
        stack_name: &stack_name(config),
        parameters: &params,
    })
}

/// Core's quick-create link, with the template URL checked by [`check_template_url`] (the
/// browser's URL parser in the wasm module), in the order core's `link` checks.
pub(crate) fn quick_create_link(q: &QuickCreate<'_>) -> trustline_core::error::Result<String> {
    quick_create::validate_stack_name(q.stack_name)?;
    check_template_url(q.template_url, q.region)?;
    quick_create::link_with_checked_url(q)
}

/// Builds the kit for `scope` (which knows its kind).
pub(super) fn access_kit(config: &Config, scope: &Scope) -> AccessKit {
    let mut kit = AccessKit::default();
    let account = scope.account.map(|a| AccountScope::Account(config.region.partition(), a));
    match (scope.kind, scope.organization) {
        (IntegrationKind::CrossAccountRole, false) => role_kit(&mut kit, config, scope, account),
        (IntegrationKind::CrossAccountRole, true) => org_kit(&mut kit, config, scope),
        (IntegrationKind::Sts, _) => key_kit(&mut kit, config, scope, KeyKind::Sts),
        (IntegrationKind::AccessKey, _) => key_kit(&mut kit, config, scope, KeyKind::AccessKey),
        (IntegrationKind::SameAccountRole, _) => same_account_kit(&mut kit, scope, account),
    }
    kit
}

/// The whole-document checks the scope step runs: core's builders refuse conflicting
/// conditions and documents over AWS's size limits.
pub(super) fn check(config: &Config, scope: &Scope) -> Result<(), ScopeProblem> {
    let built = permissions::read_only(&AccountScope::CloudFormation, &scope.permissions).and_then(|_| {
        if scope.kind != IntegrationKind::CrossAccountRole {
            return Ok(());
        }
        trust::third_party(&config.vendor, &config.external_id, &scope.hardening)?;
        if scope.organization {
            stackset::template(&scope.rollout(config))?;
        }
        Ok(())
    });
    built.map_err(|e| ScopeProblem {
        field: match e.field() {
            "source_vpce" => ScopeField::SourceVpce,
            "organizational_unit_ids" => ScopeField::Targets,
            "source_ips" | "trust_policy" => ScopeField::SourceIps,
            _ => ScopeField::Regions,
        },
        message: e.message().to_owned(),
    })
}

fn permissions_doc(kit: &mut AccessKit, scope: &Scope, account: Option<AccountScope>) {
    match account {
        Some(acc) => AccessKit::push(
            &mut kit.policies,
            &mut kit.errors,
            permissions::read_only(&acc, &scope.permissions)
                .map(|p| json_doc("permissions-policy", "Permission policy (read-only)", p.to_json_pretty())),
        ),
        None => kit.errors.push(format!("Permission policy: {NEED_ACCOUNT}")),
    }
}

fn role_kit(kit: &mut AccessKit, config: &Config, scope: &Scope, account: Option<AccountScope>) {
    let spec = scope.role_spec(config);
    match &config.template_url {
        Some(url) if scope.matches_hosted_template() => match launch_link(config, url, None) {
            Ok(link) => kit.launch_link = Some(link),
            Err(e) => kit.launch_note = Some(e.to_string()),
        },
        Some(_) => {
            kit.launch_note = Some(
                "The one-click stack uses the default scope: download the template below, which has your choices.".into(),
            );
        }
        None => {}
    }
    // The steps say what is on the screen: the Launch-stack button only when there is one.
    kit.steps = if kit.launch_link.is_some() {
        vec![
            "Click Launch stack: the AWS console opens with everything filled in, your ExternalId included.".into(),
            "Tick \"I acknowledge that AWS CloudFormation might create IAM resources with custom names\" and click Create stack.".into(),
            ROLE_ARN_STEP.into(),
        ]
    } else {
        vec![
            "Download the CloudFormation template below (YAML or JSON): your ExternalId is already in it.".into(),
            "In the CloudFormation console choose Create stack, Upload a template file, and upload it; tick \"I acknowledge that AWS CloudFormation might create IAM resources with custom names\" and click Create stack.".into(),
            ROLE_ARN_STEP.into(),
        ]
    };
    kit.templates("role", role::template(&spec));
    AccessKit::push(
        &mut kit.policies,
        &mut kit.errors,
        trust::third_party(&config.vendor, &config.external_id, &scope.hardening)
            .map(|p| json_doc("trust-policy", "Trust policy", p.to_json_pretty())),
    );
    permissions_doc(kit, scope, account);
    match scope.account {
        Some(acc) => AccessKit::push(
            &mut kit.alternatives,
            &mut kit.errors,
            alternatives::aws_cli(&spec, config.region.partition(), &acc)
                .map(|s| doc("aws-cli", "AWS CLI", "create-role.sh", "text/x-shellscript", s)),
        ),
        None => kit.errors.push(format!("AWS CLI script: {NEED_ACCOUNT}")),
    }
    AccessKit::push(
        &mut kit.alternatives,
        &mut kit.errors,
        alternatives::terraform(&spec).map(|s| doc("terraform", "Terraform", "role.tf", "text/plain", s)),
    );
}

fn org_kit(kit: &mut AccessKit, config: &Config, scope: &Scope) {
    let rollout = scope.rollout(config);
    let targets: Vec<String> = scope.targets.iter().map(ToString::to_string).collect();
    match &config.org_template_url {
        Some(url) if scope.matches_hosted_template() => {
            match launch_link(config, url, Some(&targets.join(","))) {
                Ok(link) => kit.launch_link = Some(link),
                Err(e) => kit.launch_note = Some(e.to_string()),
            }
        }
        _ => {}
    }
    let create = if kit.launch_link.is_some() {
        "Click Launch stack: the AWS console opens with the template and your targets filled in. It creates a service-managed StackSet that deploys the read-only role to every account in your targets, and to accounts that join later."
    } else {
        "Create a stack from the template below (CloudFormation, Create stack, Upload a template file): it creates a service-managed StackSet that deploys the read-only role to every account in your targets, and to accounts that join later."
    };
    kit.steps = vec![
        "Sign in to the organization's management account (or a delegated administrator for CloudFormation StackSets).".into(),
        create.into(),
        "When the stack is complete, paste the discovery role's ARN (stack output) in the next step.".into(),
    ];
    kit.templates("organization-stackset", stackset::template(&rollout));
    AccessKit::push(
        &mut kit.policies,
        &mut kit.errors,
        trust::third_party(&config.vendor, &config.external_id, &scope.hardening)
            .map(|p| json_doc("trust-policy", "Trust policy (every member role)", p.to_json_pretty())),
    );
}

fn key_kit(kit: &mut AccessKit, config: &Config, scope: &Scope, kind: KeyKind) {
    let user_name = format!("{}User", config.role_name);
    let spec = UserSpec {
        kind,
        vendor_name: config.vendor_name.clone(),
        user_name: user_name.clone(),
        path: "/".into(),
        permissions: scope.permissions.clone(),
    };
    kit.warnings.push(
        "An access key is a long-lived secret: whoever holds it can read your account until the key is deactivated. Prefer the cross-account role if you can. Never use your root user's keys: the page refuses them.".into(),
    );
    kit.steps = vec![
        "Create the stack from the template below (CloudFormation, Create stack, Upload a template file). It never creates the key itself.".into(),
        format!("In the IAM console open user {user_name}, Security credentials, Create access key (\"Third-party service\")."),
        "Paste the key in the next step; this page checks it with AWS STS directly from your browser and keeps it only in memory.".into(),
    ];
    kit.templates(if kind == KeyKind::Sts { "sts-user" } else { "access-key-user" }, user::template(&spec));
    let partition = config.region.partition();
    let source_ips = &scope.hardening.source_ips;
    match (kind, scope.account) {
        (KeyKind::Sts, Some(acc)) => {
            let role = format!("arn:{partition}:iam::{acc}:role/{}", config.role_name);
            kit.policies.push(json_doc(
                "user-policy",
                "IAM user policy (may only assume the role)",
                permissions::sts_user(&role, source_ips).to_json_pretty(),
            ));
            permissions_doc(kit, scope, Some(AccountScope::Account(partition, acc)));
        }
        (KeyKind::AccessKey, Some(acc)) => {
            let scope_acc = AccountScope::Account(partition, acc);
            permissions_doc(kit, scope, Some(scope_acc));
            AccessKit::push(
                &mut kit.policies,
                &mut kit.errors,
                permissions::access_key_boundary(&scope_acc, &scope.permissions)
                    .map(|p| json_doc("boundary", "Permissions boundary", p.to_json_pretty())),
            );
        }
        (_, None) => kit.errors.push(format!("User policy and boundary: {NEED_ACCOUNT}")),
    }
    let guidance = permissions::rotation_guidance(&user_name);
    kit.rotation = Some(Rotation { max_age_days: guidance.max_age_days, steps: guidance.steps });
}

fn same_account_kit(kit: &mut AccessKit, scope: &Scope, account: Option<AccountScope>) {
    kit.steps = vec![
        "Create a role with the trust policy below for the compute service the vendor's software runs on.".into(),
        "Attach the permission policy below, and give the role to the software's instance profile, task or function.".into(),
        "Paste the role's ARN in the next step.".into(),
    ];
    let acc = scope.account.as_ref().map(AccountId::to_string);
    kit.policies.push(json_doc(
        "trust-policy",
        "Trust policy (compute service)",
        trust::service(scope.compute, acc.as_deref()).to_json_pretty(),
    ));
    permissions_doc(kit, scope, account);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::tests::{ISSUED, config};
    use crate::state::ScopeInput;

    fn scope(kind: IntegrationKind, edit: impl FnOnce(&mut ScopeInput)) -> Scope {
        let mut input = ScopeInput::new(&[]);
        edit(&mut input);
        input.parse(kind, &config()).unwrap()
    }

    /// "Click Launch stack" only when the button is on the screen.
    #[test]
    fn the_steps_match_the_screen() {
        use crate::config::tests::options;
        let without = Config::from_options(
            crate::config::Options { template_url: None, org_template_url: None, ..options() },
            |_| panic!("session"),
        )
        .unwrap();
        let with_org = Config::from_options(
            crate::config::Options {
                org_template_url: Some("https://acme-onboarding.s3.us-east-1.amazonaws.com/org.yaml".into()),
                ..options()
            },
            |_| panic!("session"),
        )
        .unwrap();
        let org = |i: &mut ScopeInput| {
            i.organization = true;
            i.org_id = "o-a1b2c3d4e5".into();
            i.targets = "r-ab12".into();
        };
        for (config, organization) in
            [(config(), false), (without, false), (with_org.clone(), true), (config(), true)]
        {
            let s = if organization {
                scope(IntegrationKind::CrossAccountRole, org)
            } else {
                scope(IntegrationKind::CrossAccountRole, |_| {})
            };
            let kit = access_kit(&config, &s);
            let says = kit.steps.iter().any(|step| step.contains("Launch stack"));
            assert_eq!(says, kit.launch_link.is_some(), "{:?} / {:?}", kit.steps, kit.launch_link);
        }
    }

    #[test]
    fn the_role_kit_has_a_launch_link_with_the_external_id() {
        let kit = access_kit(&config(), &scope(IntegrationKind::CrossAccountRole, |_| {}));
        let link = kit.launch_link.unwrap();
        // The session's ExternalId, issued by the worker, wherever the customer may copy it from.
        assert!(link.contains(&format!("param_ExternalId={ISSUED}")), "{link}");
        assert!(link.contains("stackName=Acme-read-only-access"), "{link}");
        let ids: Vec<_> = kit
            .templates
            .iter()
            .chain(&kit.policies)
            .chain(&kit.alternatives)
            .map(|d| d.id.as_str())
            .collect();
        assert_eq!(ids, ["template-yaml", "template-json", "trust-policy", "terraform"]);
        assert!(kit.templates[0].body.contains(&format!("Default: {ISSUED}")));
        for d in kit.templates.iter().chain(&kit.policies).chain(&kit.alternatives) {
            assert!(d.body.contains(ISSUED), "{}: {}", d.id, d.body);
        }
        assert_eq!(kit.errors.len(), 2, "{:?}", kit.errors);
    }

    #[test]
    fn an_account_id_adds_console_policies_and_the_cli() {
        let kit = access_kit(
            &config(),
            &scope(IntegrationKind::CrossAccountRole, |s| s.account_id = "123456789012".into()),
        );
        let ids: Vec<_> = kit.policies.iter().chain(&kit.alternatives).map(|d| d.id.as_str()).collect();
        assert_eq!(ids, ["trust-policy", "permissions-policy", "aws-cli", "terraform"]);
        assert!(kit.errors.is_empty());
    }

    #[test]
    fn a_custom_scope_turns_the_link_into_a_download_note() {
        let kit = access_kit(
            &config(),
            &scope(IntegrationKind::CrossAccountRole, |s| s.regions = "eu-west-1".into()),
        );
        assert!(kit.launch_link.is_none());
        assert!(kit.launch_note.unwrap().contains("download the template"));
    }

    #[test]
    fn organization_and_key_kits() {
        let org = access_kit(
            &config(),
            &scope(IntegrationKind::CrossAccountRole, |s| {
                s.organization = true;
                s.targets = "r-ab12".into();
            }),
        );
        assert!(org.templates[0].body.contains("AWS::CloudFormation::StackSet"));
        let keys = access_kit(
            &config(),
            &scope(IntegrationKind::AccessKey, |s| s.account_id = "123456789012".into()),
        );
        let ids: Vec<_> = keys.policies.iter().map(|d| d.id.as_str()).collect();
        assert_eq!(ids, ["permissions-policy", "boundary"]);
        assert!(!keys.warnings.is_empty() && keys.rotation.is_some());
        let sts =
            access_kit(&config(), &scope(IntegrationKind::Sts, |s| s.account_id = "123456789012".into()));
        assert!(sts.policies[0].body.contains("arn:aws:iam::123456789012:role/VendorReadOnly"));
        let same = access_kit(&config(), &scope(IntegrationKind::SameAccountRole, |_| {}));
        assert!(same.policies[0].body.contains("ec2.amazonaws.com"));
    }
}
