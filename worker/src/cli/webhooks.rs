//! `trustline webhooks`: signed webhook endpoints (Standard Webhooks), for one tenant or all.

use anyhow::{Context, Result, bail};
use clap::Subcommand;
use trustline_worker::store::{NewEndpoint, Store};
use trustline_worker::webhooks::{self, EventType, deliver::Deliverer, sign};

use super::GlobalArgs;
use super::common::{OutputFormat, config, init_logging, table};

#[derive(Debug, Subcommand)]
pub(crate) enum WebhooksCommand {
    /// Add an endpoint and print its signing secret (shown this once; stored sealed with
    /// TRUSTLINE_SEAL_KEY).
    Add {
        /// Where events are POSTed (http or https).
        #[arg(long)]
        url: String,
        /// Only this tenant's events (default: every tenant's).
        #[arg(long)]
        tenant: Option<String>,
        /// Only these event types (comma-separated; default: all): connection.verified,
        /// connection.posture_changed, sync.completed, sync.failed, inventory.changed.
        #[arg(long, value_delimiter = ',')]
        events: Vec<String>,
    },
    /// List endpoints: status, last error and deliveries pending (never their secrets).
    List {
        #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
        format: OutputFormat,
    },
    /// Send a `webhook.test` event to an endpoint now.
    Test {
        /// The endpoint's id (`ep_…`).
        id: String,
    },
    /// Re-enable an endpoint and queue its failed deliveries again.
    Retry {
        /// The endpoint's id.
        id: String,
    },
    /// Remove an endpoint with its queued deliveries.
    Remove {
        /// The endpoint's id.
        id: String,
    },
}

pub(crate) fn webhooks(global: &GlobalArgs, cmd: WebhooksCommand) -> Result<String> {
    let config = config(global)?;
    match cmd {
        WebhooksCommand::Add { url, tenant, events } => {
            let url = webhooks::check_url(&url).map_err(|e| anyhow::anyhow!("--url: {e}"))?;
            let mut names = Vec::new();
            for name in events.iter().map(|e| e.trim()).filter(|e| !e.is_empty()) {
                let event =
                    EventType::parse_subscribable(name).map_err(|e| anyhow::anyhow!("--events: {e}"))?;
                if !names.iter().any(|n: &String| n == event.as_str()) {
                    names.push(event.as_str().to_owned());
                }
            }
            let key = trustline_worker::seal::SealKey::from_env()?.with_context(|| {
                format!(
                    "webhook secrets are stored sealed: set {} to a key from `trustline seal-key` first",
                    trustline_worker::seal::KEY_ENV
                )
            })?;
            let mut store = Store::open(&config.store.location()?)?;
            if let Some(t) = &tenant
                && store.tenant(t)?.is_none()
            {
                bail!("--tenant: no tenant '{t}': see `trustline tenants list`");
            }
            let id = webhooks::new_endpoint_id();
            let secret = sign::generate_secret()?;
            let endpoint = NewEndpoint {
                id: id.clone(),
                url: url.to_string(),
                tenant: tenant.clone(),
                events: names.clone(),
                sealed_secret: key.seal(&secret, &id)?,
            };
            store.add_webhook_endpoint(&endpoint)?;
            let scope = tenant.map_or_else(|| "every tenant".to_owned(), |t| format!("tenant {t}"));
            let types = if names.is_empty() { "all events".to_owned() } else { names.join(", ") };
            Ok(format!(
                "added webhook endpoint {id} for {scope} ({types})\nsigning secret (shown once; verify with a Standard Webhooks library):\n{}\n",
                secret.expose()
            ))
        }
        WebhooksCommand::List { format } => {
            let store = Store::open_read_only(&config.store.location()?)?;
            let list = store.webhook_endpoints()?;
            Ok(match format {
                OutputFormat::Json => serde_json::to_string_pretty(&list)? + "\n",
                OutputFormat::Table => {
                    let rows = list
                        .iter()
                        .map(|e| {
                            let status = match &e.disabled_reason {
                                Some(why) => format!("{} ({why})", e.status.as_str()),
                                None => e.status.as_str().to_owned(),
                            };
                            vec![
                                e.id.clone(),
                                e.tenant.clone().unwrap_or_else(|| "*".to_owned()),
                                trustline_worker::text::for_terminal(&e.url).into_owned(),
                                if e.events.is_empty() { "*".to_owned() } else { e.events.join(",") },
                                status,
                                e.pending.to_string(),
                                e.failed.to_string(),
                                e.delivered.to_string(),
                                e.last_error.as_deref().map_or_else(
                                    || "-".to_owned(),
                                    |err| trustline_worker::text::for_terminal(err).into_owned(),
                                ),
                            ]
                        })
                        .collect();
                    table(
                        &[
                            "ID",
                            "TENANT",
                            "URL",
                            "EVENTS",
                            "STATUS",
                            "PENDING",
                            "FAILED",
                            "DELIVERED",
                            "LAST ERROR",
                        ],
                        rows,
                    )
                }
            })
        }
        WebhooksCommand::Test { id } => {
            init_logging(global.log_format);
            let store = Store::open(&config.store.location()?)?;
            let deliverer =
                Deliverer::new(store, &config.webhooks, trustline_worker::seal::SealKeys::from_env()?)?;
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            let (message, result, took) = runtime.block_on(deliverer.send_test(&id))?;
            match result.error {
                None => Ok(format!(
                    "delivered webhook.test {message} to {id}: HTTP {} in {} ms\n",
                    result.status.unwrap_or_default(),
                    took.as_millis()
                )),
                Some(error) => bail!(
                    "webhook.test {message} to {id} failed: {error}; it stays queued and `trustline run` or `trustline serve` retries it"
                ),
            }
        }
        WebhooksCommand::Retry { id } => {
            let mut store = Store::open(&config.store.location()?)?;
            let Some(requeued) = store.retry_webhook_endpoint(&id)? else {
                bail!("no webhook endpoint '{id}': see `trustline webhooks list`");
            };
            Ok(format!("re-enabled webhook endpoint {id}; {requeued} failed deliveries queued again\n"))
        }
        WebhooksCommand::Remove { id } => {
            let mut store = Store::open(&config.store.location()?)?;
            if !store.remove_webhook_endpoint(&id)? {
                bail!("no webhook endpoint '{id}': see `trustline webhooks list`");
            }
            Ok(format!("removed webhook endpoint {id} and its queued deliveries\n"))
        }
    }
}
