//! Reading the store: `inventory`, `changes`, `events` and `export`.

use anyhow::{Context, Result, bail};
use clap::Args;
use trustline_worker::store::{InventoryFilter, Store};

use super::GlobalArgs;
use super::common::*;

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
    /// Only this tenant's connections.
    #[arg(long)]
    tenant: Option<String>,
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    format: OutputFormat,
}

pub(crate) fn inventory(global: &GlobalArgs, args: &InventoryArgs) -> Result<String> {
    let config = config(global)?;
    let store = Store::open_read_only(&config.store.location()?)?;
    if let Some(kind) = &args.kind {
        kind.parse::<trustline_worker::resource::ResourceKind>()
            .map_err(|e| anyhow::anyhow!("--kind: {e}"))?;
    }
    let filter = InventoryFilter {
        kind: args.kind.clone(),
        connection: args.connection.clone(),
        region: args.region.clone(),
        tag: args.tag.as_deref().map(tag_filter).transpose()?.unwrap_or_default(),
        tenant: args.tenant.clone(),
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
    let store = Store::open_read_only(&config.store.location()?)?;
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

pub(crate) fn events(
    global: &GlobalArgs,
    connection: Option<&str>,
    since: &str,
    records: bool,
) -> Result<String> {
    let config = config(global)?;
    let store = Store::open_read_only(&config.store.location()?)?;
    let mut out = String::new();
    if records {
        for record in store.event_records(connection, &since_time(since)?)? {
            out.push_str(&record);
            out.push('\n');
        }
        return Ok(out);
    }
    for event in store.events(connection, &since_time(since)?)? {
        out.push_str(&serde_json::to_string(&event)?);
        out.push('\n');
    }
    Ok(out)
}

pub(crate) fn export(global: &GlobalArgs) -> Result<String> {
    let config = config(global)?;
    let store = Store::open_read_only(&config.store.location()?)?;
    let mut out = String::new();
    for r in store.inventory(&InventoryFilter::default())? {
        out.push_str(&serde_json::to_string(&r)?);
        out.push('\n');
    }
    Ok(out)
}
