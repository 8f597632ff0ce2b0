//! The document-generating commands: thin adapters from flags to `trustline-core` builders.

use std::collections::BTreeSet;
use std::io::Read;

use anyhow::{Context, Result, bail};
use trustline_core::cfn::stackset::{CallAs, OrgRollout};
use trustline_core::cfn::user::{KeyKind, UserSpec};
use trustline_core::cfn::{self, Template, quick_create};
use trustline_core::policy::PolicyDocument;
use trustline_core::policy::permissions::{self, AccountScope, PermissionOptions};
use trustline_core::policy::trust::{self, ComputeService, TrustHardening};
use trustline_core::spec::RoleSpec;
use trustline_core::{AccountId, ExternalId, IntegrationKind, Partition, Region, alternatives};

use super::{
    CallAsArg, Command, Format, GlobalArgs, HardeningArgs, KeyKindArg, PolicyCommand, RoleArgs, ScopeArgs,
    ServiceArg, TemplateCommand,
};

/// The flag that gives a core field on the command line (core's errors name its own fields).
fn flag_of(field: &str) -> Option<&'static str> {
    Some(match field {
        "account_id" => "--account",
        "aws_managed_policies" => "--managed-policy",
        "data_sets" => "--data-set",
        "external_id" => "--external-id",
        "external_id_prefix" => "--prefix",
        "max_session_seconds" => "--max-session-seconds",
        "oidc_issuer" => "--oidc-issuer",
        "organization_id" => "--principal-org-id",
        "organizational_unit_ids" | "parent_id" => "--target",
        "parameters" => "--param",
        "partition" => "--partition",
        "region" => "--region",
        "role_name" => "--role-name",
        "role_path" => "--role-path",
        "source_ips" => "--source-ip",
        "source_vpce" => "--source-vpce",
        "stack_name" => "--stack-name",
        "template_url" => "--template-url",
        "user_name" => "--user-name",
        "vendor_name" => "--vendor-name",
        "vendor_principal" => "--vendor",
        _ => return None,
    })
}

/// An error from core reported against the flag the user typed (`--max-session-seconds: …`)
/// instead of core's field name (`max_session_seconds: …`). A `.context("--flag")` already
/// names it; otherwise the field's flag is looked up. Anything else is left as it is.
pub(super) fn name_flag(err: anyhow::Error) -> anyhow::Error {
    let Some(core) = err.downcast_ref::<trustline_core::Error>() else { return err };
    let flag = match err.chain().count() {
        1 => flag_of(core.field()).map(str::to_owned),
        2 => Some(err.to_string()).filter(|outer| outer.starts_with("--")),
        _ => None,
    };
    match flag {
        Some(flag) => anyhow::anyhow!("{flag}: {}", core.message()),
        None => err,
    }
}

/// Checks that each region is one AWS has, naming `flag` and the nearest real name for a typo.
/// The config's `sync.allow_unknown_regions` lets newer regions through; the config is read only
/// when a region is unknown, so the document commands need no config file otherwise.
fn check_regions<'a>(
    global: &GlobalArgs,
    flag: &str,
    regions: impl IntoIterator<Item = &'a Region>,
) -> Result<()> {
    for r in regions {
        if let Err(e) = trustline_worker::text::check_region(r)
            && !super::common::config(global)?.sync.allow_unknown_regions
        {
            bail!("{flag}: {e}");
        }
    }
    Ok(())
}

/// Parses every value of a repeatable flag, reporting the flag on failure.
fn parse_all<T>(flag: &str, values: &[String]) -> Result<Vec<T>>
where
    T: std::str::FromStr<Err = trustline_core::Error>,
{
    values.iter().map(|v| v.parse().with_context(|| format!("--{flag}"))).collect()
}

fn hardening(args: &HardeningArgs) -> Result<TrustHardening> {
    Ok(TrustHardening {
        source_ips: parse_all("source-ip", &args.source_ips)?,
        source_vpces: parse_all("source-vpce", &args.source_vpces)?,
        principal_org_id: args
            .principal_org_id
            .as_deref()
            .map(str::parse)
            .transpose()
            .context("--principal-org-id")?,
        allow_session_tags: args.session_tags,
        allow_source_identity: args.source_identity,
    })
}

fn permission_options(
    global: &GlobalArgs,
    data_sets: &[String],
    regions: &[String],
    source_ips: &[String],
) -> Result<PermissionOptions> {
    let regions = parse_all("region", regions)?;
    check_regions(global, "--region", &regions)?;
    Ok(PermissionOptions {
        data_sets: parse_all("data-set", data_sets)?.into_iter().collect::<BTreeSet<_>>(),
        regions,
        source_ips: parse_all("source-ip", source_ips)?,
    })
}

fn account_scope(args: &ScopeArgs) -> Result<AccountScope> {
    if args.account.is_empty() {
        bail!("--account is required: resource ARNs in a policy name the customer's account (12 digits)");
    }
    let partition: Partition = args.partition.parse().context("--partition")?;
    let account: AccountId = args.account.parse().context("--account")?;
    Ok(AccountScope::Account(partition, account))
}

fn role_spec(global: &GlobalArgs, args: &RoleArgs) -> Result<RoleSpec> {
    let mut spec =
        RoleSpec::new(args.vendor.vendor.parse().context("--vendor")?, &args.vendor_name, &args.role_name);
    spec.role_path.clone_from(&args.role_path);
    spec.max_session_seconds = args.max_session_seconds;
    spec.aws_managed_policies = parse_all("managed-policy", &args.managed_policies)?;
    spec.external_id = args.external_id.as_deref().map(str::parse).transpose().context("--external-id")?;
    spec.permissions = permission_options(global, &args.data_sets, &args.regions, &[])?;
    spec.hardening = hardening(&args.hardening)?;
    Ok(spec)
}

fn render(template: Template, format: Format) -> String {
    match format {
        Format::Yaml => template.to_yaml(),
        Format::Json => template.to_json() + "\n",
    }
}

fn policy(doc: &PolicyDocument) -> String {
    doc.to_json_pretty() + "\n"
}

pub(super) fn run(global: &GlobalArgs, command: Command) -> Result<String> {
    match command {
        Command::ExternalId { prefix, count } => {
            let mut rng = getrandom::SysRng;
            let mut out = String::new();
            for _ in 0..count {
                let id = ExternalId::generate(&mut rng, prefix.as_deref()).context("--prefix")?;
                out.push_str(id.as_str());
                out.push('\n');
            }
            Ok(out)
        }
        Command::SealKey { command: None } => Ok(trustline_worker::seal::SealKey::generate()? + "\n"),
        Command::ApiToken => {
            let mut bytes = [0u8; 32];
            getrandom::fill(&mut bytes)
                .map_err(|e| anyhow::anyhow!("the operating system's random number generator failed: {e}"))?;
            Ok(data_encoding::BASE64URL_NOPAD.encode(&bytes) + "\n")
        }
        Command::Kinds => {
            let kinds: Vec<_> = IntegrationKind::ALL.iter().map(|k| k.info()).collect();
            Ok(serde_json::to_string_pretty(&kinds)? + "\n")
        }
        Command::QuickCreateLink { template_url, region, stack_name, external_id, params } => {
            let region = region.parse().context("--region")?;
            check_regions(global, "--region", [&region])?;
            let external_id: ExternalId = external_id.parse().context("--external-id")?;
            let mut parameters = vec![("ExternalId", external_id.as_str())];
            for p in &params {
                let (name, value) =
                    p.split_once('=').with_context(|| format!("--param expects NAME=VALUE, got '{p}'"))?;
                parameters.push((name, value));
            }
            let link = quick_create::link(&quick_create::QuickCreate {
                region: &region,
                template_url: &template_url,
                stack_name: &stack_name,
                parameters: &parameters,
            })?;
            Ok(link + "\n")
        }
        Command::Policy(cmd) => policy_command(global, cmd),
        Command::Template(cmd) => template_command(global, cmd),
        Command::Tenants(_)
        | Command::Accounts(_)
        | Command::Webhooks(_)
        | Command::Sync { .. }
        | Command::Run { .. }
        | Command::Doctor { .. }
        | Command::Inventory(_)
        | Command::Posture(_)
        | Command::Changes { .. }
        | Command::Export
        | Command::Events { .. }
        | Command::SealKey { command: Some(_) }
        | Command::Serve(_) => {
            unreachable!("cli::run dispatches the worker commands itself")
        }
    }
}

fn policy_command(global: &GlobalArgs, cmd: PolicyCommand) -> Result<String> {
    Ok(match cmd {
        PolicyCommand::Trust { vendor, external_id, hardening: h } => {
            let vendor = vendor.vendor.parse().context("--vendor")?;
            let external_id = external_id.parse().context("--external-id")?;
            policy(&trust::third_party(&vendor, &external_id, &hardening(&h)?)?)
        }
        PolicyCommand::ServiceTrust { service, account } => {
            let account: Option<AccountId> =
                account.as_deref().map(str::parse).transpose().context("--account")?;
            let service = match service {
                ServiceArg::Ec2 => ComputeService::Ec2,
                ServiceArg::EcsTasks => ComputeService::EcsTasks,
                ServiceArg::Lambda => ComputeService::Lambda,
            };
            policy(&trust::service(service, account.as_ref().map(AccountId::as_str)))
        }
        PolicyCommand::IrsaTrust { account, oidc_issuer, namespace, service_account } => {
            let account: AccountId = account.parse().context("--account")?;
            let issuer = oidc_issuer.parse().context("--oidc-issuer")?;
            let partition =
                if oidc_issuer.contains(".amazonaws.com.cn") { Partition::AwsCn } else { Partition::Aws };
            policy(&trust::eks_irsa(partition, &account, &issuer, &namespace, &service_account)?)
        }
        PolicyCommand::Permissions { scope } => {
            let options = permission_options(global, &scope.data_sets, &scope.regions, &scope.source_ips)?;
            policy(&permissions::read_only(&account_scope(&scope)?, &options)?)
        }
        PolicyCommand::Boundary { scope } => {
            let options = permission_options(global, &scope.data_sets, &scope.regions, &scope.source_ips)?;
            policy(&permissions::access_key_boundary(&account_scope(&scope)?, &options)?)
        }
        PolicyCommand::CheckTrust { file, account } => {
            let (text, source) = if file == "-" {
                let mut s = String::new();
                std::io::stdin().read_to_string(&mut s).context("reading the policy from stdin")?;
                (s, "standard input".to_owned())
            } else {
                (std::fs::read_to_string(&file).with_context(|| format!("reading {file}"))?, file.clone())
            };
            let doc = PolicyDocument::from_json(&text)
                .map_err(|e| anyhow::anyhow!("{source}: {}; give a trust policy (JSON)", e.message()))?;
            let account: Option<AccountId> =
                account.as_deref().map(str::parse).transpose().context("--account")?;
            let findings = trust::check_trust(&doc, account.as_ref());
            if findings.is_empty() {
                "ok: every third party must present an exact ExternalId\n".to_owned()
            } else {
                let lines: Vec<String> =
                    findings.iter().map(|f| format!("statement {}: {}", f.statement, f.message)).collect();
                bail!("the trust policy is unsafe:\n{}", lines.join("\n"));
            }
        }
    })
}

fn template_command(global: &GlobalArgs, cmd: TemplateCommand) -> Result<String> {
    Ok(match cmd {
        TemplateCommand::Role { role, format } => {
            render(cfn::role::template(&role_spec(global, &role)?)?, format)
        }
        TemplateCommand::Stackset { role, targets, call_as, no_discovery_role, format } => {
            let rollout = OrgRollout {
                role: role_spec(global, &role)?,
                targets: parse_all("target", &targets)?,
                call_as: match call_as {
                    CallAsArg::ManagementAccount => CallAs::ManagementAccount,
                    CallAsArg::DelegatedAdmin => CallAs::DelegatedAdmin,
                },
                include_discovery_role: !no_discovery_role,
            };
            render(cfn::stackset::template(&rollout)?, format)
        }
        TemplateCommand::User { kind, vendor_name, user_name, scope, format } => {
            let spec = UserSpec {
                kind: match kind {
                    KeyKindArg::AccessKey => KeyKind::AccessKey,
                    KeyKindArg::Sts => KeyKind::Sts,
                },
                vendor_name,
                user_name,
                path: "/".into(),
                permissions: permission_options(global, &scope.data_sets, &scope.regions, &scope.source_ips)?,
            };
            render(cfn::user::template(&spec)?, format)
        }
        TemplateCommand::Cli { role, account } => {
            let account: AccountId = account.parse().context("--account")?;
            let spec = role_spec(global, &role)?;
            alternatives::aws_cli(&spec, spec.vendor.partition(), &account)?
        }
        TemplateCommand::Terraform { role } => alternatives::terraform(&role_spec(global, &role)?)?,
    })
}
