//! `trustline tenants`: the vendor's customers, each with its own connections, ExternalIds and
//! browser sessions.

use anyhow::{Context, Result, bail};
use clap::Subcommand;
use trustline_worker::store::Store;

use super::GlobalArgs;
use super::common::{OutputFormat, config, table};

#[derive(Debug, Subcommand)]
pub(crate) enum TenantsCommand {
    /// Add a customer, named by the vendor's own id for it.
    Add {
        /// The vendor's id for the customer (letters, digits, '-', '_', '.').
        id: String,
        /// Display name (default: the id).
        #[arg(long)]
        name: Option<String>,
        /// Connections it may register (default: tenants.max_connections).
        #[arg(long)]
        max_connections: Option<u32>,
    },
    /// List customers.
    List {
        #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
        format: OutputFormat,
    },
    /// Remove a customer with all of its connections, inventory, ExternalIds and sessions.
    Remove {
        /// The customer's id.
        id: String,
    },
    /// Print the ExternalId the customer onboards with (issued now if it has none in force).
    ExternalId {
        /// The customer's id.
        id: String,
    },
}

pub(crate) fn tenants(global: &GlobalArgs, cmd: TenantsCommand) -> Result<String> {
    let config = config(global)?;
    match cmd {
        TenantsCommand::Add { id, name, max_connections } => {
            let name = name.unwrap_or_else(|| id.clone());
            trustline_worker::text::check_name("--name", &name).map_err(|e| anyhow::anyhow!("{e}"))?;
            let mut store = Store::open(&config.store.location()?)?;
            let tenant = store
                .add_tenant(&id, &name, max_connections.unwrap_or(config.tenants.max_connections))
                .with_context(|| format!("tenants add {id}"))?;
            Ok(format!("added tenant {} (up to {} connections)\n", tenant.id, tenant.max_connections))
        }
        TenantsCommand::List { format } => {
            let store = Store::open_read_only(&config.store.location()?)?;
            let list = store.tenants()?;
            Ok(match format {
                OutputFormat::Json => serde_json::to_string_pretty(&list)? + "\n",
                OutputFormat::Table => {
                    let mut rows = Vec::new();
                    for t in &list {
                        rows.push(vec![
                            t.id.clone(),
                            trustline_worker::text::for_terminal(&t.name).into_owned(),
                            store.tenant_connection_count(&t.id)?.to_string(),
                            t.max_connections.to_string(),
                            t.created_at.clone(),
                        ]);
                    }
                    table(&["ID", "NAME", "CONNECTIONS", "LIMIT", "CREATED"], rows)
                }
            })
        }
        TenantsCommand::Remove { id } => {
            let mut store = Store::open(&config.store.location()?)?;
            if !store.remove_tenant(&id)? {
                bail!("no tenant '{id}': see `trustline tenants list`");
            }
            Ok(format!("removed tenant {id} with its connections and inventory\n"))
        }
        TenantsCommand::ExternalId { id } => {
            let mut store = Store::open(&config.store.location()?)?;
            if store.tenant(&id)?.is_none() {
                bail!("no tenant '{id}': add it with `trustline tenants add {id}`");
            }
            let issued = store.onboarding_external_id(
                &id,
                time::OffsetDateTime::now_utc(),
                config.tenants.unused_ttl(),
                || config.tenants.issue_external_id(),
            )?;
            Ok(format!("{}\n", issued.external_id))
        }
    }
}
