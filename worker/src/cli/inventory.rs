//! The worker commands: connections, sync, inventory, changes and export.

use std::collections::BTreeSet;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand, ValueEnum};
use tokio_util::sync::CancellationToken;
use trustline_core::policy::permissions::DataSet;
use trustline_core::{IntegrationKind, Region};
use trustline_worker::client::{AwsClient, RetryPolicy};
use trustline_worker::config::Config;
use trustline_worker::credentials::{Provider, vendor_chain};
use trustline_worker::store::{Connection, ConnectionStatus, InventoryFilter, OrgSettings, SecretRef, Store};
use trustline_worker::sync;

use super::{GlobalArgs, LogFormat};

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum OutputFormat {
    Table,
    Json,
}

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
    kind: String,
    /// The role to assume (cross-account-role, sts).
    #[arg(long)]
    role_arn: Option<String>,
    /// The ExternalId the role requires (cross-account-role). Default: the one Trustline issued
    /// to the tenant (`trustline tenants external-id`). Give one only to import a value the
    /// vendor issued to this customer before; it is then recorded as this tenant's.
    #[arg(long)]
    external_id: Option<String>,
    /// The customer's access key ID (sts, access-key).
    #[arg(long)]
    access_key_id: Option<String>,
    /// Where the customer's secret access key is: env:VARIABLE or file:/path, or `stdin` to read
    /// it from standard input and store it sealed with TRUSTLINE_SEAL_KEY (never the secret itself).
    #[arg(long)]
    secret: Option<String>,
    /// Data sets (repeatable): iam, ec2-network, cloudtrail.
    #[arg(long = "data-set", value_delimiter = ',', default_values_t = ["iam".to_owned(), "ec2-network".to_owned(), "cloudtrail".to_owned()])]
    data_sets: Vec<String>,
    /// Regions to read (repeatable; default: every enabled region).
    #[arg(long = "region", value_delimiter = ',')]
    regions: Vec<String>,
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

#[derive(Debug, Args)]
pub(crate) struct InventoryArgs {
    /// Only this kind (iam-user, ec2-instance, …).
    #[arg(long)]
    kind: Option<String>,
    /// Only this connection.
    #[arg(long)]
    connection: Option<String>,
    /// Only this region (or `global` for IAM).
    #[arg(long)]
    region: Option<String>,
    /// Only resources with this tag: KEY=VALUE (split at the first '='), or KEY alone for any
    /// value; keys may hold ':' (aws:cloudformation:stack-name=web). Case-sensitive, as in AWS.
    /// The older KEY:VALUE (one ':' and no '=') still works and also finds the key KEY:VALUE.
    #[arg(long, value_name = "KEY=VALUE")]
    tag: Option<String>,
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    format: OutputFormat,
}

pub(super) fn config(global: &GlobalArgs) -> Result<Config> {
    let mut config = Config::load_with(global.config.as_deref(), &global.set)?;
    if let Some(store) = &global.store {
        config.store.path.clone_from(store);
    }
    if let Some(url) = &global.endpoint_url {
        trustline_worker::config::AwsConfig::check_endpoint_url(url)
            .map_err(|e| anyhow::anyhow!("--endpoint-url: {e}"))?;
        config.aws.endpoint_url = Some(url.clone());
    }
    if let Some(region) = &global.home_region {
        config.aws.region = region.parse().context("--home-region")?;
        if !config.sync.allow_unknown_regions {
            trustline_worker::text::check_region(&config.aws.region)
                .map_err(|e| anyhow::anyhow!("--home-region: {e}"))?;
        }
    }
    Ok(config)
}

/// Logs on stderr: JSON lines with `--log-format json`; otherwise text lines, under progress
/// bars (the run's accounts, and a spinner per account in flight) when stderr is a terminal.
fn init_logging(format: LogFormat) {
    use std::io::IsTerminal;
    use tracing_subscriber::Layer;
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;

    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    let registry = tracing_subscriber::registry().with(filter);
    let _ = match format {
        LogFormat::Json => {
            registry.with(tracing_subscriber::fmt::layer().json().with_writer(std::io::stderr)).try_init()
        }
        LogFormat::Text if std::io::stderr().is_terminal() => {
            let bars = tracing_indicatif::IndicatifLayer::new();
            let text = tracing_subscriber::fmt::layer().with_writer(bars.get_stderr_writer());
            // Bars only for the sync's own spans (see trustline_worker::sync).
            let only_sync =
                tracing_subscriber::filter::filter_fn(|m| m.target().starts_with("trustline_worker::sync"));
            registry.with(text).with(bars.with_filter(only_sync)).try_init()
        }
        LogFormat::Text => {
            registry.with(tracing_subscriber::fmt::layer().with_writer(std::io::stderr)).try_init()
        }
    };
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
    if !config.store.path.exists() {
        bail!("no store at {}: pass --store (or set store.path)", config.store.path.display());
    }
    let mut store = Store::open(&config.store.path)?;
    let count = seal::reseal(&mut store, &keys)?;
    Ok(format!("re-sealed {count} secret(s) under key {}\n", keys.current().kid()))
}

fn parse_all<T: std::str::FromStr<Err = trustline_core::Error>>(
    flag: &str,
    values: &[String],
) -> Result<Vec<T>> {
    values.iter().map(|v| v.parse().with_context(|| format!("--{flag}"))).collect()
}

pub(crate) fn accounts(global: &GlobalArgs, cmd: AccountsCommand) -> Result<String> {
    let config = config(global)?;
    match cmd {
        AccountsCommand::Add(a) => {
            let kind: IntegrationKind = a.kind.parse().context("--kind")?;
            let id = match &a.id {
                Some(id) => {
                    Connection::check_id(id).context("--id")?;
                    id.clone()
                }
                None => trustline_worker::store::new_connection_id(),
            };
            // Everything the user typed is checked before the store is opened (or created).
            let external_id: Option<trustline_core::ExternalId> =
                a.external_id.as_deref().map(str::parse).transpose().context("--external-id")?;
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
            let role_arn: Option<trustline_core::RoleArn> =
                a.role_arn.as_deref().map(str::parse).transpose().context("--role-arn")?;
            let mut data_sets =
                parse_all::<DataSet>("data-set", &a.data_sets)?.into_iter().collect::<BTreeSet<_>>();
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
            let regions = parse_all::<Region>("region", &a.regions)?;
            if !config.sync.allow_unknown_regions {
                for r in &regions {
                    trustline_worker::text::check_region(r).map_err(|e| anyhow::anyhow!("--region: {e}"))?;
                }
            }
            let mut store = Store::open(&config.store.path)?;
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
            let connection = Connection {
                name: a.name.clone().unwrap_or_else(|| id.clone()),
                account_id: role_arn.as_ref().map(trustline_core::RoleArn::account_id),
                id,
                tenant: a.tenant.clone(),
                kind,
                role_arn,
                external_id,
                next_external_id: None,
                access_key_id: a.access_key_id,
                secret_ref,
                data_sets,
                regions,
                status: ConnectionStatus::Active,
                org,
                parent: None,
            };
            store.add_connection(&connection)?;
            let ext =
                connection.external_id.as_ref().map(|e| format!(", ExternalId {e}")).unwrap_or_default();
            Ok(format!(
                "added {} ({}) for tenant {}{ext}\n",
                connection.id, connection.kind, connection.tenant
            ))
        }
        AccountsCommand::List { format } => {
            let store = Store::open_read_only(&config.store.path)?;
            let list = store.connections()?;
            Ok(match format {
                OutputFormat::Json => {
                    let rows: Vec<_> = list.iter().map(connection_json).collect();
                    serde_json::to_string_pretty(&rows)? + "\n"
                }
                OutputFormat::Table => {
                    let rows = list
                        .iter()
                        .map(|c| {
                            vec![
                                c.id.clone(),
                                c.kind.to_string(),
                                c.account_id.map(|a| a.to_string()).unwrap_or_else(|| "-".into()),
                                trustline_worker::text::for_terminal(&c.name).into_owned(),
                                c.status.as_str().to_owned(),
                                match (&c.org, &c.parent) {
                                    (Some(_), _) => "organization".to_owned(),
                                    (_, Some(parent)) => format!("member of {parent}"),
                                    _ => "-".to_owned(),
                                },
                            ]
                        })
                        .collect();
                    table(&["ID", "KIND", "ACCOUNT", "NAME", "STATUS", "ORGANIZATION"], rows)
                }
            })
        }
        AccountsCommand::Show { id } => {
            let store = Store::open_read_only(&config.store.path)?;
            let c = store
                .connection(&id)?
                .with_context(|| format!("no connection '{id}': see `trustline accounts list`"))?;
            let last = store.last_run_accounts()?.into_iter().find(|(cid, _, _)| *cid == id);
            let mut value = connection_json(&c);
            value["last_sync"] = serde_json::json!(
                last.map(|(_, status, error)| serde_json::json!({"status": status, "error": error}))
            );
            value["last_run"] = serde_json::json!(store.last_run()?);
            Ok(serde_json::to_string_pretty(&value)? + "\n")
        }
        AccountsCommand::Remove { id } => {
            let mut store = Store::open(&config.store.path)?;
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
        "id": c.id, "tenant": c.tenant, "name": c.name, "kind": c.kind, "account_id": c.account_id,
        "role_arn": c.role_arn, "external_id": c.external_id, "next_external_id": c.next_external_id,
        "access_key_id": c.access_key_id,
        "secret": c.secret_ref.as_ref().map(SecretRef::describe), "data_sets": c.data_sets, "regions": c.regions,
        "status": c.status.as_str(), "organization": c.org, "parent": c.parent,
    })
}

/// Everything one sync run needs, built once per process.
struct Runner {
    store: Store,
    client: AwsClient,
    vendor: Option<Arc<Provider>>,
    options: sync::SyncOptions,
}

impl Runner {
    async fn new(global: &GlobalArgs, concurrency: Option<usize>) -> Result<Runner> {
        let config = config(global)?;
        let store = Store::open(&config.store.path)?;
        let client =
            AwsClient::new(config.aws.endpoint_url.clone(), config.limits.limiter(), RetryPolicy::default())?;
        let vendor: Option<Arc<Provider>> = match vendor_chain(&config.aws.region).await {
            Ok(p) => Some(p),
            Err(e) => {
                tracing::warn!("no vendor credentials ({e:#}); only key-based connections can sync");
                None
            }
        };
        let mut options = config.sync.options(&config.aws.region);
        if let Some(n) = concurrency {
            options.concurrency = n;
        }
        Ok(Runner { store, client, vendor, options })
    }

    async fn once(&mut self, only: Option<&str>, stop: &CancellationToken) -> Result<sync::RunSummary> {
        sync::run(&mut self.store, &self.client, self.vendor.clone(), &self.options, only, stop).await
    }
}

fn summary_text(summary: &sync::RunSummary) -> String {
    let mut s = format!(
        "run {}: {} ok, {} partial, {} failed, {} skipped; {} resources ({} added, {} changed, {} removed), {} new events; {} calls in {:.1}s\n",
        summary.run_id,
        summary.ok.len(),
        summary.partial.len(),
        summary.failed.len(),
        summary.skipped.len(),
        summary.resources,
        summary.added,
        summary.changed,
        summary.removed,
        summary.events,
        summary.calls,
        summary.duration_ms as f64 / 1000.0
    );
    for (id, c) in &summary.organizations {
        s.push_str(&format!(
            "  {id}: organization lists {} member accounts ({} new, {} newly suspended, {} gone)\n",
            c.found, c.added, c.suspended, c.removed
        ));
    }
    for (id, error) in summary.partial.iter().chain(&summary.failed) {
        s.push_str(&format!("  {id}: {error}\n"));
    }
    s
}

pub(crate) fn sync(
    global: &GlobalArgs,
    connection: Option<String>,
    concurrency: Option<usize>,
    json: bool,
) -> Result<String> {
    init_logging(global.log_format);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async {
        let mut runner = Runner::new(global, concurrency).await?;
        let stop = CancellationToken::new();
        spawn_stop_on_signal(stop.clone());
        let summary = runner.once(connection.as_deref(), &stop).await?;
        let text = if json { serde_json::to_string_pretty(&summary)? + "\n" } else { summary_text(&summary) };
        if !summary.failed.is_empty() && summary.ok.is_empty() && summary.partial.is_empty() {
            bail!("every account failed:\n{text}");
        }
        Ok(text)
    })
}

pub(crate) fn run_scheduled(
    global: &GlobalArgs,
    schedule: &str,
    jitter: &str,
    concurrency: Option<usize>,
) -> Result<String> {
    init_logging(global.log_format);
    let schedule: trustline_worker::schedule::Schedule = schedule.parse().context("--schedule")?;
    let jitter = trustline_worker::schedule::parse_duration(jitter).context("--jitter")?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async {
        let mut runner = Runner::new(global, concurrency).await?;
        let stop = CancellationToken::new();
        spawn_stop_on_signal(stop.clone());
        loop {
            match runner.once(None, &stop).await {
                Ok(summary) => tracing::info!("{}", summary_text(&summary).trim_end()),
                // A run that cannot start (the store, say) is logged; the next one may succeed.
                Err(e) => tracing::error!("sync run failed: {e:#}"),
            }
            if stop.is_cancelled() {
                break;
            }
            let wait = schedule.wait(chrono::Utc::now())? + trustline_worker::schedule::jitter(jitter);
            tracing::info!(seconds = wait.as_secs(), "next sync");
            tokio::select! {
                () = stop.cancelled() => break,
                () = tokio::time::sleep(wait) => {}
            }
        }
        tracing::info!("stopped");
        Ok(String::new())
    })
}

/// Cancels `stop` on SIGTERM or Ctrl-C: runs start no new account, finish those in flight, and
/// the process exits.
fn spawn_stop_on_signal(stop: CancellationToken) {
    tokio::spawn(async move {
        #[cfg(unix)]
        {
            let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(t) => t,
                Err(_) => return,
            };
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
        tracing::warn!("stopping: finishing the accounts in flight, starting no new ones");
        stop.cancel();
    });
}

pub(crate) fn inventory(global: &GlobalArgs, args: &InventoryArgs) -> Result<String> {
    let config = config(global)?;
    let store = Store::open_read_only(&config.store.path)?;
    if let Some(kind) = &args.kind {
        kind.parse::<trustline_worker::resource::ResourceKind>()
            .map_err(|e| anyhow::anyhow!("--kind: {e}"))?;
    }
    let filter = InventoryFilter {
        kind: args.kind.clone(),
        connection: args.connection.clone(),
        region: args.region.clone(),
        tag: args.tag.as_deref().map(tag_filter).transpose()?.unwrap_or_default(),
    };
    let rows = store.inventory(&filter)?;
    Ok(match args.format {
        OutputFormat::Json => serde_json::to_string_pretty(&rows)? + "\n",
        OutputFormat::Table => table(
            &["CONNECTION", "KIND", "REGION", "ID", "NAME", "STALE"],
            rows.iter()
                .map(|r| {
                    vec![
                        r.connection.clone(),
                        r.kind.clone(),
                        r.region.clone(),
                        r.id.clone(),
                        r.name.clone().unwrap_or_default(),
                        if r.stale { "stale".into() } else { String::new() },
                    ]
                })
                .collect(),
        ),
    })
}

/// `--tag`: the tags a resource may have to match, any of them.
fn tag_filter(tag: &str) -> Result<Vec<(String, Option<String>)>> {
    let (key, value) = match tag.split_once('=') {
        Some((k, v)) => (k, Some(v)),
        None => (tag, None),
    };
    if key.is_empty() {
        bail!("--tag: expected KEY=VALUE or KEY (e.g. service=webshop), got '{tag}'");
    }
    let mut any = vec![(key.to_owned(), value.map(str::to_owned))];
    // The form before KEY=VALUE, kept where it can only mean one split: a key with one colon
    // and no '=' is also read as KEY:VALUE.
    if value.is_none()
        && let Some((k, v)) = key.split_once(':')
        && !k.is_empty()
        && !v.contains(':')
    {
        any.push((k.to_owned(), Some(v.to_owned())));
    }
    Ok(any)
}

/// `since` as RFC 3339, or a duration (`30m`, `24h`, `7d`) before now.
fn since_time(since: &str) -> Result<String> {
    if let Ok(t) = time::OffsetDateTime::parse(since, &time::format_description::well_known::Rfc3339) {
        return Ok(trustline_worker::store::timestamp(t));
    }
    let back = trustline_worker::schedule::parse_duration(since).with_context(|| {
        format!("--since: expected an RFC 3339 time (2026-11-22T10:00:00Z) or a duration such as 30m, 24h, 7d; got '{since}'")
    })?;
    Ok(trustline_worker::store::timestamp(time::OffsetDateTime::now_utc() - back))
}

pub(crate) fn changes(global: &GlobalArgs, since: &str, format: OutputFormat) -> Result<String> {
    let config = config(global)?;
    let store = Store::open_read_only(&config.store.path)?;
    let list = store.changes_since(&since_time(since)?)?;
    Ok(match format {
        OutputFormat::Json => serde_json::to_string_pretty(&list)? + "\n",
        OutputFormat::Table => table(
            &["AT", "CONNECTION", "CHANGE", "KIND", "REGION", "ID", "FIELDS"],
            list.iter()
                .map(|c| {
                    vec![
                        c.at.clone(),
                        c.connection.clone(),
                        c.change.clone(),
                        c.kind.clone(),
                        c.region.clone(),
                        c.id.clone(),
                        c.fields.join(","),
                    ]
                })
                .collect(),
        ),
    })
}

pub(crate) fn events(global: &GlobalArgs, connection: Option<&str>, since: &str) -> Result<String> {
    let config = config(global)?;
    let store = Store::open_read_only(&config.store.path)?;
    let mut out = String::new();
    for event in store.events(connection, &since_time(since)?)? {
        out.push_str(&serde_json::to_string(&event)?);
        out.push('\n');
    }
    Ok(out)
}

pub(crate) fn export(global: &GlobalArgs) -> Result<String> {
    let config = config(global)?;
    let store = Store::open_read_only(&config.store.path)?;
    let mut out = String::new();
    for r in store.inventory(&InventoryFilter::default())? {
        out.push_str(&serde_json::to_string(&r)?);
        out.push('\n');
    }
    Ok(out)
}

pub(super) fn table(headers: &[&str], rows: Vec<Vec<String>>) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.len()).collect();
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<String>| -> String {
        let padded: Vec<String> = cells.iter().zip(&widths).map(|(c, w)| format!("{c:<w$}")).collect();
        padded.join("  ").trim_end().to_owned() + "\n"
    };
    let mut out = line(headers.iter().map(|h| (*h).to_owned()).collect());
    for row in rows {
        out.push_str(&line(row));
    }
    out
}

#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// Address to listen on (loopback unless you put it behind your own proxy).
    #[arg(long, default_value = "127.0.0.1:8787")]
    listen: std::net::SocketAddr,
    /// File holding the API bearer token (or set TRUSTLINE_API_TOKEN).
    #[arg(long)]
    token_file: Option<std::path::PathBuf>,
    /// Dashboard origin allowed by CORS (repeatable), e.g. https://app.example.com.
    #[arg(long = "allow-origin")]
    allowed_origins: Vec<String>,
    /// Verify calls per minute per customer (and per client address behind --trusted-proxy).
    #[arg(long, default_value_t = 10)]
    verify_per_minute: u32,
    /// A host name (optionally with :PORT) this server answers for, as browsers address it
    /// (repeatable). Requests naming another host are refused (DNS rebinding). Default on
    /// loopback: 127.0.0.1, localhost and [::1] with the listening port; required otherwise.
    #[arg(long = "public-host", value_name = "NAME[:PORT]")]
    public_hosts: Vec<String>,
    /// The address of a reverse proxy in front of this server (repeatable): its X-Forwarded-For
    /// is believed, and verification is also limited per client address.
    #[arg(long = "trusted-proxy", value_name = "IP")]
    trusted_proxies: Vec<std::net::IpAddr>,
    /// Longest a request may take (e.g. 60s, 2m).
    #[arg(long, default_value = "60s")]
    request_timeout: String,
    /// The vendor's principal that customers' roles trust (arn:aws:iam::ACCOUNT:root or a
    /// role), handed to onboarding sessions for the quick-create link.
    #[arg(long, env = "TRUSTLINE_VENDOR_PRINCIPAL")]
    vendor_principal: Option<String>,
    /// Also serve this folder (the built onboarding page, `dist/`) at `/`.
    #[arg(long)]
    static_dir: Option<std::path::PathBuf>,
}

pub(crate) fn serve(global: &GlobalArgs, args: ServeArgs) -> Result<String> {
    init_logging(global.log_format);
    let config = config(global)?;
    let token = match (&args.token_file, std::env::var("TRUSTLINE_API_TOKEN").ok().filter(|t| !t.is_empty()))
    {
        (Some(path), _) => std::fs::read_to_string(path)
            .with_context(|| format!("--token-file {}", path.display()))?
            .trim()
            .to_owned(),
        (None, Some(token)) => token,
        (None, None) => {
            bail!("the API needs a bearer token: set TRUSTLINE_API_TOKEN or pass --token-file FILE")
        }
    };
    trustline_worker::serve::auth::check_operator_token(&token)?;
    let request_timeout =
        trustline_worker::schedule::parse_duration(&args.request_timeout).context("--request-timeout")?;
    if let Some(principal) = &args.vendor_principal {
        principal.parse::<trustline_core::Arn>().map_err(|e| anyhow::anyhow!("--vendor-principal: {e}"))?;
    }
    for host in &args.public_hosts {
        if host.is_empty() || host.contains(['/', '@', ' ']) {
            bail!(
                "--public-host: expected a host name with an optional :PORT, such as trustline.example.com, got '{host}'"
            );
        }
    }
    for origin in &args.allowed_origins {
        if !(origin.starts_with("https://") || origin.starts_with("http://")) || origin.ends_with('/') {
            bail!(
                "--allow-origin: expected an origin such as https://app.example.com (scheme and host, no path), got '{origin}'"
            );
        }
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async {
        let client = AwsClient::new(config.aws.endpoint_url.clone(), config.limits.limiter(), RetryPolicy::default())?;
        let vendor = match vendor_chain(&config.aws.region).await {
            Ok(p) => Some(p),
            Err(e) => {
                tracing::warn!("no vendor credentials ({e:#}); role verification will answer 503 until they are configured");
                None
            }
        };
        let listener = tokio::net::TcpListener::bind(args.listen).await.with_context(|| format!("listening on {}", args.listen))?;
        let addr = listener.local_addr()?;
        let mut public_hosts = args.public_hosts.clone();
        if public_hosts.is_empty() {
            public_hosts = trustline_worker::serve::auth::default_hosts(addr);
            if public_hosts.is_empty() {
                bail!("--public-host: the server listens on {addr}, beyond loopback: name the host names browsers use to reach it (e.g. --public-host trustline.example.com)");
            }
        }
        let serve_config = trustline_worker::serve::ServeConfig {
            token: trustline_core::Secret::new(token),
            allowed_origins: args.allowed_origins.clone(),
            public_hosts,
            trusted_proxies: args.trusted_proxies.clone(),
            request_timeout,
            tenants: config.tenants.clone(),
            allow_unknown_regions: config.sync.allow_unknown_regions,
            vendor_principal: args.vendor_principal.clone(),
            verify_per_minute: args.verify_per_minute,
            store_path: config.store.path.clone(),
            home_region: config.aws.region.clone(),
            sync: config.sync.options(&config.aws.region),
            static_dir: args.static_dir.clone(),
            seal: trustline_worker::seal::SealKey::from_env()?,
        };
        if serve_config.seal.is_none() {
            tracing::info!(
                "no {} set: key-based connections cannot be registered through the API (roles can)",
                trustline_worker::seal::KEY_ENV
            );
        }
        let shutdown = trustline_worker::serve::Shutdown {
            token: CancellationToken::new(),
            tasks: tokio_util::task::TaskTracker::new(),
        };
        let router = trustline_worker::serve::router(serve_config, client, vendor, &shutdown)?;
        tracing::info!(%addr, "serving the verify API");
        // Scripts and tests read the bound address (with port 0 the OS picks one). This is the
        // CLI's own output, not a log line, so it goes to stderr whatever the log format.
        #[allow(clippy::print_stderr)]
        {
            eprintln!("listening on http://{addr}");
        }
        spawn_stop_on_signal(shutdown.token.clone());
        trustline_worker::serve::serve(listener, router, shutdown).await?;
        Ok(String::new())
    })
}
