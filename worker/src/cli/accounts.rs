//! `trustline accounts`: connect, list, show and remove accounts; `seal-key rotate`.

use std::collections::BTreeSet;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use trustline_core::policy::permissions::DataSet;
use trustline_core::{IntegrationKind, Region};
use trustline_worker::store::{
    Access, Connection, ConnectionStatus, CustomerKey, OrgSettings, SecretRef, Store, TrustedRole,
};

use super::GlobalArgs;
use super::common::*;

#[derive(Debug, Subcommand)]
pub(crate) enum AccountsCommand {
    /// Connect an account.
    Add(Box<AddArgs>),
    /// List connections.
    List {
        #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
        format: OutputFormat,
    },
    /// Show one connection and its last sync.
    Show {
        /// The connection's id.
        id: String,
    },
    /// Remove a connection and everything recorded for it.
    Remove {
        /// The connection's id.
        id: String,
    },
}

#[derive(Debug, Args)]
pub(crate) struct AddArgs {
    /// Short unique id (lower-case letters, digits, '-'; default: a generated `c-…`).
    #[arg(long)]
    id: Option<String>,
    /// The customer (tenant) the account belongs to.
    #[arg(long, default_value = trustline_worker::store::DEFAULT_TENANT)]
    tenant: String,
    /// Display name (default: the id).
    #[arg(long)]
    name: Option<String>,
    /// cross-account-role, sts, access-key or same-account-role.
    #[arg(long, default_value = "cross-account-role")]
    kind: IntegrationKind,
    /// The role to assume (cross-account-role, sts).
    #[arg(long)]
    role_arn: Option<trustline_core::RoleArn>,
    /// The ExternalId the role requires (cross-account-role). Default: the one Trustline issued
    /// to the tenant (`trustline tenants external-id`). Give one only to import a value the
    /// vendor issued to this customer before; it is then recorded as this tenant's.
    #[arg(long)]
    external_id: Option<trustline_core::ExternalId>,
    /// The customer's access key ID (sts, access-key).
    #[arg(long)]
    access_key_id: Option<String>,
    /// Where the customer's secret access key is: env:VARIABLE or file:/path, or `stdin` to read
    /// it from standard input and store it sealed with TRUSTLINE_SEAL_KEY (never the secret itself).
    #[arg(long)]
    secret: Option<String>,
    /// Data sets (repeatable): iam, ec2-network, cloudtrail.
    #[arg(long = "data-set", value_delimiter = ',', default_values = ["iam", "ec2-network", "cloudtrail"])]
    data_sets: Vec<DataSet>,
    /// Regions to read (repeatable; default: every enabled region).
    #[arg(long = "region", value_delimiter = ',')]
    regions: Vec<Region>,
    /// The role is an AWS Organization's management or delegated-admin role: every sync lists
    /// the Organization's accounts and reaches each through the StackSet's member role.
    #[arg(long)]
    organization: bool,
    /// The members' role name (default: the role's own name, without a `-org-discovery` suffix).
    #[arg(long, requires = "organization")]
    member_role_name: Option<String>,
    /// Only accounts in this OU or root and its sub-OUs (repeatable).
    #[arg(long = "include-ou", value_delimiter = ',', requires = "organization")]
    include_ous: Vec<String>,
    /// Never accounts in this OU and its sub-OUs (repeatable).
    #[arg(long = "exclude-ou", value_delimiter = ',', requires = "organization")]
    exclude_ous: Vec<String>,
}

/// `--secret stdin`: the secret from standard input, sealed with the operator's key.
fn seal_from_stdin(id: &str) -> Result<SecretRef> {
    use std::io::Read;
    let key = trustline_worker::seal::SealKey::from_env()?.with_context(|| {
        format!(
            "--secret stdin stores the secret sealed: set {} to a key from `trustline seal-key` first",
            trustline_worker::seal::KEY_ENV
        )
    })?;
    let mut text = zeroize::Zeroizing::new(String::new());
    std::io::stdin().read_to_string(&mut text).context("--secret stdin: reading standard input")?;
    let secret = trustline_core::Secret::new(text.trim());
    if secret.is_empty() {
        bail!("--secret stdin: standard input was empty; pipe the secret access key in");
    }
    Ok(SecretRef::Sealed(key.seal(&secret, id)?))
}

/// `seal-key rotate`: every sealed secret re-sealed under the current key.
pub(crate) fn rotate_seal_key(global: &GlobalArgs) -> Result<String> {
    use trustline_worker::seal;
    let keys = seal::SealKeys::from_env()?.with_context(|| {
        format!(
            "seal-key rotate re-seals under {}: set it to the new key (from `trustline seal-key`) and {} to the old ones",
            seal::KEY_ENV,
            seal::OLD_KEYS_ENV
        )
    })?;
    let config = config(global)?;
    let location = config.store.location()?;
    if let Some(path) = location.sqlite_path().filter(|p| !p.exists()) {
        bail!("no store at {}: pass --store (or set store.path)", path.display());
    }
    let mut store = Store::open(&location)?;
    let count = store.reseal(&keys)?;
    Ok(format!("re-sealed {count} secret(s) under key {}\n", keys.current().kid()))
}

pub(crate) fn accounts(global: &GlobalArgs, cmd: AccountsCommand) -> Result<String> {
    let config = config(global)?;
    match cmd {
        AccountsCommand::Add(a) => {
            let kind = a.kind;
            let id = match &a.id {
                Some(id) => {
                    Connection::check_id(id).context("--id")?;
                    id.clone()
                }
                None => trustline_worker::store::new_connection_id(),
            };
            // Everything the user typed is checked before the store is opened (or created).
            let external_id = a.external_id.clone();
            if let Some(key) = &a.access_key_id {
                trustline_core::ids::check_access_key_id(key).context("--access-key-id")?;
            }
            let secret_ref = match a.secret.as_deref() {
                Some("stdin") => Some(seal_from_stdin(&id)?),
                other => other.map(str::parse::<SecretRef>).transpose().context("--secret")?,
            };
            // A reference that cannot be read now would only fail at the next sync: it is read
            // once here (and dropped) to refuse it while the operator is at the keyboard.
            if let Some(reference @ (SecretRef::Env(_) | SecretRef::File(_))) = &secret_ref {
                reference.read(&id).with_context(|| format!("--secret {reference}"))?;
            }
            if let Some(name) = &a.name {
                trustline_worker::text::check_name("--name", name).map_err(|e| anyhow::anyhow!("{e}"))?;
            }
            let role_arn = a.role_arn.clone();
            let mut data_sets = a.data_sets.iter().copied().collect::<BTreeSet<_>>();
            let org = if a.organization {
                let own = role_arn.as_ref().map(|r| r.name().to_owned()).context(
                    "--organization needs --role-arn: the management or delegated-admin account's role",
                )?;
                data_sets.insert(DataSet::Organizations);
                Some(OrgSettings {
                    member_role: a.member_role_name.clone().unwrap_or_else(|| {
                        own.strip_suffix("-org-discovery").map_or_else(|| own.clone(), str::to_owned)
                    }),
                    include_ous: a.include_ous.clone(),
                    exclude_ous: a.exclude_ous.clone(),
                })
            } else {
                None
            };
            let regions = a.regions.clone();
            if !config.sync.allow_unknown_regions {
                for r in &regions {
                    trustline_worker::text::check_region(r).map_err(|e| anyhow::anyhow!("--region: {e}"))?;
                }
            }
            let mut store = Store::open(&config.store.location()?)?;
            if store.tenant(&a.tenant)?.is_none() {
                bail!("--tenant: no tenant '{}'; add it with `trustline tenants add {}`", a.tenant, a.tenant);
            }
            let external_id = match (kind, external_id) {
                (_, Some(given)) => {
                    store.import_external_id(&a.tenant, &given).context("--external-id")?;
                    Some(given)
                }
                (IntegrationKind::CrossAccountRole, None) => Some(
                    store
                        .onboarding_external_id(
                            &a.tenant,
                            time::OffsetDateTime::now_utc(),
                            config.tenants.unused_ttl(),
                            || config.tenants.issue_external_id(),
                        )?
                        .external_id,
                ),
                (_, None) => None,
            };
            let key = match (a.access_key_id, secret_ref) {
                (Some(access_key_id), Some(secret)) => Some(CustomerKey { access_key_id, secret }),
                (None, None) => None,
                (Some(_), None) => {
                    bail!("--secret: the key's secret is needed too (env:VAR, file:/path or stdin)")
                }
                (None, Some(_)) => bail!("--access-key-id: the key's ID is needed with --secret"),
            };
            let account_id = role_arn.as_ref().map(trustline_core::RoleArn::account_id);
            let access = match kind {
                IntegrationKind::CrossAccountRole => {
                    let trusted = TrustedRole {
                        role: role_arn
                            .context("--role-arn: a cross-account-role connection assumes a role")?,
                        external_id: external_id.context("--external-id: the role needs an ExternalId")?,
                        next_external_id: None,
                    };
                    match org {
                        Some(org) => Access::Organization(trusted, org),
                        None => Access::CrossAccountRole(trusted),
                    }
                }
                _ if org.is_some() => bail!(
                    "--organization needs a cross-account-role connection (the management or delegated-admin account's role)"
                ),
                IntegrationKind::Sts => Access::Sts {
                    role: role_arn.context("--role-arn: an sts connection's key assumes a role")?,
                    external_id,
                    key: key.context(
                        "--access-key-id and --secret: an sts connection needs the customer's key",
                    )?,
                },
                IntegrationKind::AccessKey => Access::AccessKey(key.context(
                    "--access-key-id and --secret: an access-key connection needs the customer's key",
                )?),
                IntegrationKind::SameAccountRole => Access::SameAccountRole,
            };
            let connection = Connection {
                name: a.name.clone().unwrap_or_else(|| id.clone()),
                account_id,
                id,
                tenant: a.tenant.clone(),
                access,
                data_sets,
                regions,
                status: ConnectionStatus::Active,
                parent: None,
            };
            store.add_connection(&connection)?;
            let ext = connection
                .access
                .external_id()
                .as_ref()
                .map(|e| format!(", ExternalId {e}"))
                .unwrap_or_default();
            Ok(format!(
                "added {} ({}) for tenant {}{ext}\n",
                connection.id,
                connection.access.kind(),
                connection.tenant
            ))
        }
        AccountsCommand::List { format } => {
            let store = Store::open_read_only(&config.store.location()?)?;
            let list = store.connections()?;
            let postures = store.postures()?;
            let posture_of = |id: &str| postures.iter().find(|p| p.connection == id).map(|p| p.posture);
            Ok(match format {
                OutputFormat::Json => {
                    let rows: Vec<_> = list
                        .iter()
                        .map(|c| {
                            let mut row = connection_json(c);
                            row["posture"] = serde_json::json!(posture_of(&c.id));
                            row
                        })
                        .collect();
                    serde_json::to_string_pretty(&rows)? + "\n"
                }
                OutputFormat::Table => {
                    let rows = list
                        .iter()
                        .map(|c| {
                            vec![
                                c.id.clone(),
                                c.tenant.clone(),
                                c.access.kind().to_string(),
                                c.account_id.map(|a| a.to_string()).unwrap_or_else(|| "-".into()),
                                trustline_worker::text::for_terminal(&c.name).into_owned(),
                                c.status.as_str().to_owned(),
                                posture_of(&c.id).map_or("unchecked", |p| p.as_str()).to_owned(),
                                match (&c.access.org(), &c.parent) {
                                    (Some(_), _) => "organization".to_owned(),
                                    (_, Some(parent)) => format!("member of {parent}"),
                                    _ => "-".to_owned(),
                                },
                            ]
                        })
                        .collect();
                    table(
                        &["ID", "TENANT", "KIND", "ACCOUNT", "NAME", "STATUS", "POSTURE", "ORGANIZATION"],
                        rows,
                    )
                }
            })
        }
        AccountsCommand::Show { id } => {
            let store = Store::open_read_only(&config.store.location()?)?;
            let c = store
                .connection(&id)?
                .with_context(|| format!("no connection '{id}': see `trustline accounts list`"))?;
            let last = store.last_run_accounts()?.into_iter().find(|a| a.connection == id);
            let mut value = connection_json(&c);
            value["last_sync"] =
                serde_json::json!(last.map(|a| serde_json::json!({"status": a.status, "error": a.error})));
            value["last_run"] = serde_json::json!(store.last_run()?);
            value["posture"] = serde_json::json!(store.posture(&id)?);
            Ok(serde_json::to_string_pretty(&value)? + "\n")
        }
        AccountsCommand::Remove { id } => {
            let mut store = Store::open(&config.store.location()?)?;
            if !store.remove_connection(&id)? {
                bail!("no connection '{id}': see `trustline accounts list`");
            }
            Ok(format!("removed {id} and its inventory\n"))
        }
    }
}

fn connection_json(c: &Connection) -> serde_json::Value {
    // The secret's location is shown, never a secret.
    serde_json::json!({
        "id": c.id, "tenant": c.tenant, "name": c.name, "kind": c.access.kind(), "account_id": c.account_id,
        "role_arn": c.access.role_arn(), "external_id": c.access.external_id(), "next_external_id": c.access.next_external_id(),
        "access_key_id": c.access.key().map(|k| &k.access_key_id),
        "secret": c.access.key().map(|k| k.secret.describe()), "data_sets": c.data_sets, "regions": c.regions,
        "status": c.status.as_str(), "organization": c.access.org(), "parent": c.parent,
    })
}
