//! `trustline posture`: each connection's posture (re-verified by every sync), its findings and
//! when it was last checked; `--check` re-verifies now, without reading any inventory.

use anyhow::Result;
use clap::Args;
use trustline_worker::store::{PostureRow, Store};
use trustline_worker::sync;

use super::GlobalArgs;
use super::common::*;

#[derive(Debug, Args)]
pub(crate) struct PostureArgs {
    /// Re-verify now (the ExternalId, the role's trust policy, each data set's permissions, the
    /// key), record the result, then show it. Without it, what the last sync found is shown.
    #[arg(long)]
    check: bool,
    /// Only this connection (its id, as `accounts list` shows it).
    #[arg(long, visible_alias = "connection", value_name = "ID")]
    account: Option<String>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

pub(crate) fn posture(global: &GlobalArgs, args: PostureArgs) -> Result<String> {
    let config = config(global)?;
    let mut errors = Vec::new();
    if args.check {
        let only = args.account.clone();
        let checks = super::sync::with_runner(global, None, None, |mut runner, _stop| async move {
            let checks = sync::check_postures(
                &mut runner.store,
                &runner.client,
                runner.vendor.clone(),
                &runner.options,
                only.as_deref(),
            )
            .await?;
            Ok(checks)
        })?;
        for c in checks {
            if let Some(error) = c.error {
                errors.push((c.connection, error));
            }
        }
    }
    let store = Store::open_read_only(&config.store.location()?)?;
    let connections = store.connections()?;
    if let Some(id) = &args.account
        && !connections.iter().any(|c| &c.id == id)
    {
        anyhow::bail!("--account: no connection '{id}': see `trustline accounts list`");
    }
    let postures = store.postures()?;
    let shown: Vec<(&str, Option<&PostureRow>)> = connections
        .iter()
        .filter(|c| args.account.as_deref().is_none_or(|id| id == c.id))
        .map(|c| (c.id.as_str(), postures.iter().find(|p| p.connection == c.id)))
        .collect();
    if args.json {
        let rows: Vec<serde_json::Value> = shown
            .iter()
            .map(|(id, p)| {
                serde_json::json!({
                    "connection": id,
                    "posture": p.map(|p| p.posture),
                    "findings": p.map(|p| p.findings.clone()).unwrap_or_default(),
                    "changed_at": p.map(|p| &p.changed_at),
                    "last_checked_at": p.map(|p| &p.last_checked_at),
                    "run_id": p.and_then(|p| p.run_id),
                    "check_error": errors.iter().find(|(c, _)| c == id).map(|(_, e)| e),
                })
            })
            .collect();
        return Ok(serde_json::to_string_pretty(&rows)? + "\n");
    }
    let rows = shown
        .iter()
        .map(|(id, p)| {
            vec![
                (*id).to_owned(),
                p.map_or("unchecked", |p| p.posture.as_str()).to_owned(),
                p.map_or_else(|| "-".to_owned(), |p| p.last_checked_at.clone()),
                p.map_or_else(|| "-".to_owned(), |p| p.changed_at.clone()),
                p.map_or_else(String::new, |p| {
                    p.findings.iter().map(|f| f.id.as_str()).collect::<Vec<_>>().join(", ")
                }),
            ]
        })
        .collect();
    let mut out = table(&["ID", "POSTURE", "LAST CHECKED", "SINCE", "FINDINGS"], rows);
    for (id, p) in &shown {
        for f in p.map(|p| p.findings.as_slice()).unwrap_or_default() {
            out.push_str(&format!("  {id}: [{}] {} {}\n", severity(f.severity), f.evidence, f.fix));
        }
    }
    for (id, error) in &errors {
        out.push_str(&format!("  {id}: not checked: {error}\n"));
    }
    Ok(out)
}

fn severity(s: trustline_worker::sync::posture::Severity) -> &'static str {
    use trustline_worker::sync::posture::Severity;
    match s {
        Severity::Warning => "warning",
        Severity::Error => "error",
        Severity::Critical => "critical",
    }
}
