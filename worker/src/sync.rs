//! One sync run: every active connection is listed concurrently (bounded), and each account's
//! results are committed on their own as they arrive. An account that fails is recorded and its
//! inventory marked stale; the others carry on.

mod cloudtrail;
mod ec2;
mod iam;
mod organizations;

pub use cloudtrail::Window as CloudTrailWindow;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use anyhow::{Result, anyhow};
use futures::stream::{self, StreamExt};
use serde::Serialize;
use tracing::Instrument;
use tracing_indicatif::span_ext::IndicatifSpanExt;
use trustline_core::aws::{Operation, sts};
use trustline_core::policy::permissions::DataSet;
use trustline_core::{AccountId, Credentials, IntegrationKind, Region};

use crate::client::{AwsClient, CallError};
use crate::credentials::Provider;
use crate::resource::Snapshot;
use crate::store::{Connection, ConnectionStatus, Store};

/// Settings of a run.
#[derive(Debug, Clone)]
pub struct SyncOptions {
    /// Accounts listed at once.
    pub concurrency: usize,
    /// Regions for connections that name none; empty means each account's enabled regions.
    pub regions: Vec<Region>,
    /// Where STS and IAM calls go (its partition's global region for IAM).
    pub home_region: Region,
    /// Regions of one account listed at once.
    pub region_concurrency: usize,
    /// CloudTrail's first-run lookback and later overlap.
    pub cloudtrail: CloudTrailWindow,
}

/// What a run did, per account and in total.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RunSummary {
    /// The run's id in the store.
    pub run_id: i64,
    /// Accounts synced completely.
    pub ok: Vec<String>,
    /// Accounts with some lists unread: (connection, error).
    pub partial: Vec<(String, String)>,
    /// Accounts that failed: (connection, error).
    pub failed: Vec<(String, String)>,
    /// Accounts skipped (suspended, or no longer in their Organization).
    pub skipped: Vec<String>,
    /// Organization connections whose member lists were read: (connection, what changed).
    pub organizations: Vec<(String, crate::store::MemberChanges)>,
    /// Resources current after the run, added, changed and removed by it.
    pub resources: u64,
    /// Added by this run.
    pub added: u64,
    /// Changed by this run.
    pub changed: u64,
    /// Removed by this run.
    pub removed: u64,
    /// New CloudTrail events stored by this run.
    pub events: u64,
    /// AWS requests sent.
    pub calls: u64,
    /// Wall time in milliseconds.
    pub duration_ms: u64,
}

/// One account's calls: its credentials and its rate-limit key.
pub(crate) struct Ctx<'a> {
    client: &'a AwsClient,
    credentials: Arc<Provider>,
    account: String,
    home: Region,
}

impl Ctx<'_> {
    async fn call<O: Operation>(&self, op: &O, region: &Region) -> Result<O::Output, CallError> {
        self.client.call(op, &self.account, region, &self.credentials).await
    }

    fn home_region(&self) -> &Region {
        &self.home
    }
}

/// The credentials a connection's kind prescribes.
pub fn connection_credentials(
    c: &Connection,
    vendor: Option<&Arc<Provider>>,
    home: &Region,
) -> Result<Arc<Provider>> {
    let vendor =
        || vendor.cloned().ok_or_else(|| anyhow!("no vendor credentials were found to assume the role with"));
    let customer_key = || -> Result<Credentials> {
        let key = c.access_key_id.clone().ok_or_else(|| anyhow!("the connection has no access key ID"))?;
        let secret = c
            .secret_ref
            .as_ref()
            .ok_or_else(|| anyhow!("the connection has no secret reference"))?
            .read(&c.id)?;
        Ok(Credentials::new(key, secret, None))
    };
    let session = format!("trustline-{}", c.id);
    Ok(match c.kind {
        IntegrationKind::CrossAccountRole => {
            let role = c.role_arn.clone().ok_or_else(|| anyhow!("the connection has no role ARN"))?;
            Provider::assume_role(vendor()?, role, c.external_id.clone(), &session, home.clone())
        }
        IntegrationKind::Sts => {
            let role = c.role_arn.clone().ok_or_else(|| anyhow!("the connection has no role ARN"))?;
            let base = Provider::fixed(customer_key()?, &format!("{}'s access key", c.id));
            Provider::assume_role(base, role, c.external_id.clone(), &session, home.clone())
        }
        IntegrationKind::AccessKey => Provider::fixed(customer_key()?, &format!("{}'s access key", c.id)),
        IntegrationKind::SameAccountRole => vendor()?,
    })
}

/// The member accounts an Organization connection's role lists.
async fn discover_members(
    client: &AwsClient,
    org: &Connection,
    vendor: Option<&Arc<Provider>>,
    options: &SyncOptions,
) -> Result<Vec<crate::store::Member>, CallError> {
    let settings =
        org.org.as_ref().ok_or_else(|| CallError::Credentials(anyhow!("not an organization connection")))?;
    let home = home_for(org, &options.home_region);
    let credentials = connection_credentials(org, vendor, &home).map_err(CallError::Credentials)?;
    let account = org.account_id.map_or_else(|| org.id.clone(), |a| a.to_string());
    let ctx = Ctx { client, credentials, account, home };
    let mut members = organizations::discover(&ctx, settings).await?;
    // The Organization connection inventories its own account itself (management account role).
    if org.syncs_own_account()
        && let Some(own) = org.role_arn.as_ref().map(trustline_core::RoleArn::account_id)
    {
        members.retain(|m| m.account != own);
    }
    Ok(members)
}

/// The region IAM and STS calls use for a connection: the configured home region, unless the
/// connection's role lives in another partition.
fn home_for(c: &Connection, home: &Region) -> Region {
    match &c.role_arn {
        Some(role) if role.partition() != home.partition() => role.partition().global_region(),
        _ => home.clone(),
    }
}

enum AccountResult {
    Done { snapshot: Snapshot, account: Option<AccountId>, unread: Vec<String> },
    Failed { code: Option<String>, message: String },
}

async fn list_account(
    client: &AwsClient,
    c: &Connection,
    vendor: Option<&Arc<Provider>>,
    options: &SyncOptions,
    cursors: std::collections::HashMap<String, time::OffsetDateTime>,
) -> AccountResult {
    let home = home_for(c, &options.home_region);
    let credentials = match connection_credentials(c, vendor, &home) {
        Ok(p) => p,
        Err(e) => return AccountResult::Failed { code: None, message: format!("{e:#}") },
    };
    let account_key = c.account_id.map_or_else(|| c.id.clone(), |a| a.to_string());
    let ctx = Ctx { client, credentials, account: account_key, home };
    let failed =
        |e: CallError| AccountResult::Failed { code: e.code().map(str::to_owned), message: e.to_string() };
    let calls_before = client.calls();
    let identity = match ctx.call(&sts::GetCallerIdentity, ctx.home_region()).await {
        Ok(id) => id,
        Err(e) => return failed(e),
    };
    // IAM and the regions go side by side: each has its own AWS rate limits (IAM's per account,
    // EC2's and CloudTrail's per region), so the account takes as long as the slower of them.
    let ctx = &ctx;
    let cursors = &cursors;
    let iam_part = async {
        let mut part = Snapshot::default();
        if c.data_sets.contains(&DataSet::Iam) {
            iam::sync(ctx, &mut part).await?;
        }
        Ok::<_, CallError>(part)
    };
    let regions_part = async {
        let needs_regions =
            c.data_sets.contains(&DataSet::Ec2Network) || c.data_sets.contains(&DataSet::CloudTrail);
        let regions = if !needs_regions {
            Vec::new()
        } else if !c.regions.is_empty() {
            c.regions.clone()
        } else if !options.regions.is_empty() {
            options.regions.clone()
        } else {
            ec2::regions(ctx).await?
        };
        let per_region: Vec<(Region, Result<Snapshot, CallError>)> = stream::iter(regions)
            .map(|region| async move {
                let mut part = Snapshot::default();
                let result = async {
                    if c.data_sets.contains(&DataSet::Ec2Network) {
                        ec2::sync_region(ctx, &region, &mut part).await?;
                    }
                    if c.data_sets.contains(&DataSet::CloudTrail) {
                        let cursor = cursors.get(region.as_str()).copied();
                        let (events, read_to) =
                            cloudtrail::sync_region(ctx, &region, cursor, options.cloudtrail).await?;
                        part.events = events;
                        part.cursors.push((region.to_string(), read_to));
                    }
                    Ok::<_, CallError>(())
                }
                .await;
                (region, result.map(|()| part))
            })
            .buffer_unordered(options.region_concurrency.max(1))
            .collect()
            .await;
        Ok::<_, CallError>(per_region)
    };
    let (iam_result, regions_result) = futures::join!(iam_part, regions_part);
    let mut snapshot = match iam_result {
        Ok(part) => part,
        Err(e) => return failed(e),
    };
    let per_region = match regions_result {
        Ok(p) => p,
        Err(e) => return failed(e),
    };
    let mut unread = Vec::new();
    for (region, result) in per_region {
        match result {
            Ok(part) => {
                snapshot.resources.extend(part.resources);
                snapshot.complete.extend(part.complete);
                snapshot.events.extend(part.events);
                snapshot.cursors.extend(part.cursors);
            }
            Err(e) => unread.push(format!("{region}: {e}")),
        }
    }
    snapshot.calls = client.calls() - calls_before;
    AccountResult::Done { snapshot, account: Some(identity.account), unread }
}

/// Runs one sync over every active connection. `stop` set (Ctrl-C, SIGTERM) means: start no new
/// account, finish and commit the ones in flight.
pub async fn run(
    store: &mut Store,
    client: &AwsClient,
    vendor: Option<Arc<Provider>>,
    options: &SyncOptions,
    only: Option<&str>,
    stop: &AtomicBool,
) -> Result<RunSummary> {
    let started = Instant::now();
    if let Some(id) = only
        && store.connection(id)?.is_none()
    {
        anyhow::bail!("no connection '{id}': see `trustline accounts list`");
    }
    let run_id = store.begin_run()?;
    let mut summary = RunSummary { run_id, ..Default::default() };

    // Organizations first: their member lists decide which accounts this run reads. A failed
    // discovery is recorded on the Organization connection; its known members still sync.
    let mut undiscovered = std::collections::BTreeSet::new();
    let orgs: Vec<Connection> = store
        .connections()?
        .into_iter()
        .filter(|c| {
            c.org.is_some() && c.status == ConnectionStatus::Active && only.is_none_or(|id| id == c.id)
        })
        .collect();
    for org in orgs {
        let t = Instant::now();
        match discover_members(client, &org, vendor.as_ref(), options).await {
            Ok(found) => {
                let changes = store.reconcile_members(&org, &found)?;
                tracing::info!(connection = %org.id, found = changes.found, added = changes.added, suspended = changes.suspended, removed = changes.removed, "organization members listed");
                summary.organizations.push((org.id, changes));
            }
            Err(e) => {
                let message = format!("listing the organization's accounts failed: {e}");
                tracing::warn!(connection = %org.id, %message, "organization not listed; its known members are synced");
                store.fail_account(run_id, &org.id, e.code(), &message, t.elapsed().as_millis() as u64)?;
                summary.failed.push((org.id.clone(), message));
                undiscovered.insert(org.id);
            }
        }
    }

    let mut connections = store.connections()?;
    if let Some(id) = only {
        connections.retain(|c| c.id == id || c.parent.as_deref() == Some(id));
    }
    connections.retain(|c| !undiscovered.contains(&c.id));
    let (active, inactive): (Vec<_>, Vec<_>) =
        connections.into_iter().partition(|c| c.status == ConnectionStatus::Active);
    for c in inactive {
        let (code, message) = match c.status {
            ConnectionStatus::Removed => (
                "AccountRemoved",
                "the account is no longer in its organization (or its OU filter); its inventory is kept as stale",
            ),
            _ => ("AccountSuspended", "the account is suspended; its inventory is kept as stale"),
        };
        store.fail_account(run_id, &c.id, Some(code), message, 0)?;
        summary.skipped.push(c.id);
    }
    // A delegated admin's discovery role reads only Organizations: its own account is inventoried
    // as a member, through the member role.
    let (active, discovery_only): (Vec<_>, Vec<_>) =
        active.into_iter().partition(Connection::syncs_own_account);
    for c in discovery_only {
        store.commit_account(run_id, &c.id, &Snapshot::default(), 0)?;
        summary.ok.push(c.id);
    }
    let vendor_ref = vendor.as_ref();
    // On a terminal the CLI draws this span as the run's progress bar, and each account's span
    // as a spinner while it is listed (tracing-indicatif); elsewhere they only label log lines.
    let run_span = tracing::info_span!("sync", accounts = active.len());
    run_span.pb_set_style(
        &tracing_indicatif::style::ProgressStyle::with_template(
            "{spinner} syncing {pos}/{len} accounts [{elapsed}] {wide_bar}",
        )
        .unwrap_or_else(|_| tracing_indicatif::style::ProgressStyle::default_bar()),
    );
    run_span.pb_set_length(active.len() as u64);
    let mut work = Vec::with_capacity(active.len());
    for c in active {
        let cursors = store.cursors(&c.id)?;
        work.push((c, cursors));
    }
    let mut results = stream::iter(work)
        .take_while(|_| std::future::ready(!stop.load(Ordering::SeqCst)))
        .map(|(c, cursors)| {
            let span = tracing::info_span!(parent: &run_span, "account", connection = %c.id);
            async move {
                let t = Instant::now();
                let result = list_account(client, &c, vendor_ref, options, cursors).await;
                (c, result, t.elapsed().as_millis() as u64)
            }
            .instrument(span)
        })
        .buffer_unordered(options.concurrency.max(1));
    // Entered around the loop, so the bar is drawn while accounts complete.
    let committed: Result<()> = async {
        while let Some((c, result, ms)) = results.next().await {
            run_span.pb_inc(1);
            match result {
                AccountResult::Done { snapshot, account, unread } => {
                    if let Some(account) = account
                        && c.account_id != Some(account)
                    {
                        store.set_account_id(&c.id, account)?;
                    }
                    let out = store.commit_account(run_id, &c.id, &snapshot, ms)?;
                    summary.resources += out.resources;
                    summary.added += out.added;
                    summary.changed += out.changed;
                    summary.removed += out.removed;
                    summary.events += out.events;
                    if unread.is_empty() {
                        tracing::info!(connection = %c.id, resources = out.resources, added = out.added, changed = out.changed, removed = out.removed, "synced");
                        summary.ok.push(c.id);
                    } else {
                        let message = unread.join("; ");
                        store.mark_partial(run_id, &c.id, &message)?;
                        tracing::warn!(connection = %c.id, %message, "synced partly");
                        summary.partial.push((c.id, message));
                    }
                }
                AccountResult::Failed { code, message } => {
                    tracing::warn!(connection = %c.id, code = code.as_deref().unwrap_or("-"), %message, "sync failed; inventory kept as stale");
                    store.fail_account(run_id, &c.id, code.as_deref(), &message, ms)?;
                    summary.failed.push((c.id, message));
                }
            }
        }
        Ok(())
    }
    .instrument(run_span.clone())
    .await;
    committed?;
    let status = if stop.load(Ordering::SeqCst) {
        "interrupted"
    } else if summary.failed.is_empty() && summary.partial.is_empty() {
        "ok"
    } else {
        "partial"
    };
    store.finish_run(run_id, status)?;
    summary.ok.sort();
    summary.partial.sort();
    summary.failed.sort();
    summary.calls = client.calls();
    summary.duration_ms = started.elapsed().as_millis() as u64;
    Ok(summary)
}
