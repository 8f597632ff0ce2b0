//! One sync run: every active connection is listed concurrently (bounded), and what each reads
//! is committed as it arrives, list by list, by the store's writer on its own thread. A list
//! that fails is recorded and its stored part marked stale; an account that cannot be reached at
//! all is recorded and all of its inventory marked stale; the others carry on.
//!
//! Before an account's inventory is read, its connection is re-verified (the `recheck` module); what the
//! checks and the sync's own calls find becomes the connection's [`posture`], recorded by the
//! writer with the rest of the account.

mod cloudtrail;
mod ec2;
mod iam;
mod organizations;
mod paginate;
mod plan;
pub mod posture;
mod recheck;

pub use cloudtrail::Window as CloudTrailWindow;

/// What a sync does with AWS's answers once parsed, for the ingest benchmark: the same
/// conversions the sync uses, without sending anything (and the IAM request they expect).
pub mod convert {
    pub use super::cloudtrail::records as events;
    pub use super::ec2::{Lists as Ec2Lists, region_part as ec2_region};
    pub use super::iam::{
        access_key as iam_access_key, details_part as iam_details, details_request as iam_details_request,
    };
}

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;

use anyhow::Context as _;
use anyhow::{Result, anyhow};
use futures::stream::{self, StreamExt};
use serde::Serialize;
use tokio::sync::{Semaphore, mpsc};
use tracing::Instrument;
use tracing_indicatif::span_ext::IndicatifSpanExt;
use trustline_core::Region;
use trustline_core::aws::{AwsErrorKind, Operation, sts};
use trustline_core::policy::permissions::DataSet;

use crate::client::{AwsClient, CallError, CredentialsError};
use crate::credentials::{AccountCredentials, Provider, RoleProvider};
use crate::resource::{ResourceKind, Snapshot};
use crate::store::{Access, Connection, ConnectionStatus, Ending, RunStatus, Scope, Store, Write};

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
    /// Read the inventory of a connection found `unsafe` (flagged everywhere); `false` skips
    /// it and records why.
    pub read_unsafe: bool,
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
    /// Each re-verified connection's posture: (connection, posture).
    pub postures: Vec<(String, posture::Posture)>,
    /// Postures that changed in this run (a connection's first check included).
    pub posture_changes: Vec<crate::store::PostureChange>,
    /// AWS requests sent.
    pub calls: u64,
    /// Wall time in milliseconds.
    pub duration_ms: u64,
}

/// One account's calls: its credentials and its rate-limit key.
pub(crate) struct Ctx<'a> {
    client: &'a AwsClient,
    credentials: AccountCredentials,
    account: String,
    home: Region,
    /// Calls made (retries not counted).
    calls: AtomicU64,
    /// Actions AWS denied to the sync's own calls: each data set's permission probe.
    denied: std::sync::Mutex<Vec<posture::Denied>>,
}

impl<'a> Ctx<'a> {
    fn new(client: &'a AwsClient, credentials: AccountCredentials, account: String, home: Region) -> Ctx<'a> {
        Ctx { client, credentials, account, home, calls: AtomicU64::new(0), denied: Default::default() }
    }

    async fn call<O: Operation>(&self, op: &O, region: &Region) -> Result<O::Output, CallError> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        let answer = self.client.call(op, &self.account, region, &self.credentials).await;
        self.note(op, &answer);
        answer
    }

    /// Notes the action of a call AWS denied, and the data set it belongs to.
    fn note<O: Operation, T>(&self, op: &O, answer: &Result<T, CallError>) {
        let Err(e) = answer else { return };
        if !matches!(e.kind(), Some(AwsErrorKind::AccessDenied)) {
            return;
        }
        let Ok(call) = op.call() else { return };
        let data_set = match call.service() {
            trustline_core::Service::Iam => DataSet::Iam,
            trustline_core::Service::Ec2 => DataSet::Ec2Network,
            trustline_core::Service::CloudTrail => DataSet::CloudTrail,
            trustline_core::Service::Organizations => DataSet::Organizations,
            _ => return,
        };
        let name = match call.target() {
            Some(target) => target.rsplit('.').next().unwrap_or(target).to_owned(),
            None => String::from_utf8_lossy(call.body())
                .split('&')
                .find_map(|pair| pair.strip_prefix("Action="))
                .unwrap_or_default()
                .to_owned(),
        };
        let action = format!("{}:{name}", call.service().signing_name());
        self.denied.lock().unwrap_or_else(|e| e.into_inner()).push(posture::Denied { data_set, action });
    }

    /// Takes a turn in the (account, region, service) bucket; see [`AwsClient::pace`].
    async fn pace(&self, service: trustline_core::Service, region: &Region) {
        self.client.pace(&self.account, region, service).await;
    }

    async fn call_paced<O: Operation>(&self, op: &O, region: &Region) -> Result<O::Output, CallError> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        let answer = self.client.call_paced(op, &self.account, region, &self.credentials).await;
        self.note(op, &answer);
        answer
    }

    fn home_region(&self) -> &Region {
        &self.home
    }
}

/// Where one account's results go: the run's [`Writer`](crate::store::Writer), in order.
#[derive(Clone)]
pub(crate) struct Sink {
    connection: String,
    tx: mpsc::Sender<Write>,
}

impl Sink {
    /// Queues a write; waits while the writer is behind. If the writer has stopped (it failed,
    /// and the run is ending with its error), the write is dropped.
    async fn send(&self, write: Write) {
        self.tx.send(write).await.ok();
    }

    async fn part(&self, scope: Scope, snapshot: Snapshot) {
        self.send(Write::Part { connection: self.connection.clone(), scope, snapshot }).await;
    }

    async fn events(&self, page: crate::resource::EventPage) {
        self.send(Write::Events { connection: self.connection.clone(), page }).await;
    }

    async fn posture(&self, report: posture::Report) {
        self.send(Write::Posture { connection: self.connection.clone(), report }).await;
    }

    async fn cursor(&self, region: &Region, read_to: time::OffsetDateTime) {
        let region = region.to_string();
        self.send(Write::Cursor { connection: self.connection.clone(), region, read_to }).await;
    }
}

/// The credentials a connection's kind prescribes.
pub fn connection_credentials(
    c: &Connection,
    vendor: Option<&Arc<Provider>>,
    home: &Region,
) -> Result<AccountCredentials, CredentialsError> {
    let vendor = || vendor.cloned().ok_or(CredentialsError::NoVendor);
    let customer_key = |key: &crate::store::CustomerKey| recheck::customer_key(c, key);
    let session = format!("trustline-{}", c.id);
    Ok(match &c.access {
        Access::CrossAccountRole(trusted) | Access::Organization(trusted, _) => {
            AccountCredentials::Role(Box::new(RoleProvider::rotating(
                vendor()?,
                trusted.role.clone(),
                Some(trusted.external_id.clone()),
                trusted.next_external_id.clone(),
                &session,
                home.clone(),
            )))
        }
        Access::Sts { role, external_id, key } => AccountCredentials::Role(Box::new(RoleProvider::new(
            customer_key(key)?,
            role.clone(),
            external_id.clone(),
            &session,
            home.clone(),
        ))),
        Access::AccessKey(key) => AccountCredentials::Direct(customer_key(key)?),
        Access::SameAccountRole => AccountCredentials::Direct(vendor()?),
    })
}

/// The code recorded for a connection not read because it is unsafe (`sync.read_unsafe = false`).
pub const UNSAFE_CODE: &str = "ConnectionUnsafe";

/// Lists an Organization connection's members for a run. Each page's members are stored, with
/// their leases, as the page arrives and confirmed to `gate`, then `on_page` is called (the
/// run's claims take them from then on); the members no longer found are marked removed once
/// the listing is complete.
async fn list_organization(
    client: &AwsClient,
    org: &Connection,
    vendor: Option<&Arc<Provider>>,
    options: &SyncOptions,
    leases: &std::sync::Mutex<Store>,
    gate: &Listing,
    mut on_page: impl FnMut(&Store),
) -> Result<crate::store::MemberChanges, CallError> {
    let mut changes = crate::store::MemberChanges::default();
    // Only Organization connections are listed.
    let Some(settings) = org.access.org() else { return Ok(changes) };
    let home = plan::home_for(org, &options.home_region);
    let credentials = connection_credentials(org, vendor, &home).map_err(CallError::Credentials)?;
    let account = org.account_id.map_or_else(|| org.id.clone(), |a| a.to_string());
    let ctx = Ctx::new(client, credentials, account, home);
    // The Organization connection inventories its own account itself (management account role).
    let own = org
        .syncs_own_account()
        .then(|| org.access.role_arn().map(trustline_core::RoleArn::account_id))
        .flatten();
    let keep =
        |e: anyhow::Error| CallError::Keep(format!("storing the organization's members failed: {e:#}"));
    let found = organizations::discover(&ctx, settings, own, |page| {
        let mut store = locked(leases);
        let admitted = store.admit_members(org, page).map_err(keep)?;
        changes.added += admitted.added;
        changes.suspended += admitted.suspended;
        changes.refused += admitted.refused;
        gate.confirm(&org.id, page.iter().map(|m| org.member_id(m.account)));
        on_page(&store);
        Ok(())
    })
    .await?;
    changes.found = found.len() as u64;
    changes.removed = locked(leases).retire_members(org, &found).map_err(keep)?;
    Ok(changes)
}

/// EC2 and network lists held in memory at once across the run (each an account's IAM
/// principals and policies, or one region's EC2 and network objects, a few hundred KB for a
/// large account): bounds memory however many accounts are in flight. A region's five lists go
/// side by side, so a slot is held for about one round trip. CloudTrail pages stream and take
/// page slots instead.
const LISTS_IN_FLIGHT: usize = 16;

/// Writes queued for the writer before accounts wait for it (at most one CloudTrail page each).
const WRITE_QUEUE: usize = 64;

/// CloudTrail pages requested or held across the run, however many account-regions are being
/// read: when the store falls behind, pipelines wait here, before asking for a page, rather than
/// each holding a page in memory. A slot is held for at least a round trip, so this caps the
/// pages read per second (at 50 ms a call, 192 slots allow about 3,800 a second). The
/// organization-scale benchmark at 1,000 accounts (160,160 pages), with members read while the
/// Organization is listed: 192 slots 61.4 s and peak RSS 192 MB, 256 slots 61.2 s and 197 MB
/// (128 slots took 106.5 s before the store's writer and the EC2 lists were made faster).
const PAGES_IN_FLIGHT: usize = 192;

/// The Organizations a run is listing, and the members each listing has found so far. A member
/// already known is read only once its Organization's listing finds it again, or the listing
/// ends: one that has left the Organization is then marked removed before anything reads it.
struct Listing(std::sync::Mutex<ListingState>);

struct ListingState {
    /// Organization connection → the members its listing has found so far.
    found: HashMap<String, HashSet<String>>,
    /// Organizations listed to their end, whose own accounts are read next.
    listed: Vec<String>,
}

impl Listing {
    fn of(orgs: &[Connection]) -> Listing {
        let found = orgs.iter().map(|o| (o.id.clone(), HashSet::new())).collect();
        Listing(std::sync::Mutex::new(ListingState { found, listed: Vec::new() }))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ListingState> {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// `org`'s listing found these members.
    fn confirm(&self, org: &str, members: impl Iterator<Item = String>) {
        if let Some(found) = self.lock().found.get_mut(org) {
            found.extend(members);
        }
    }

    /// `org`'s listing ended: `complete`, or failed or stopped.
    fn finished(&self, org: &str, complete: bool) {
        let mut state = self.lock();
        state.found.remove(org);
        if complete {
            state.listed.push(org.to_owned());
        }
    }

    /// Whether an Organization is still being listed, and the next Organization listed to its
    /// end whose own account is to be read, seen at the same moment.
    fn poll(&self) -> (bool, Option<String>) {
        let mut state = self.lock();
        (!state.found.is_empty(), state.listed.pop())
    }

    /// Whether `member`, of the Organization connection `parent`, may be read now.
    fn ready(&self, parent: &str, member: &str) -> bool {
        self.lock().found.get(parent).is_none_or(|found| found.contains(member))
    }
}

/// What bounds a run's memory: see [`LISTS_IN_FLIGHT`] and [`PAGES_IN_FLIGHT`].
struct Slots {
    lists: Semaphore,
    pages: Semaphore,
}

fn ec2_scope(region: &Region) -> Scope {
    [
        ResourceKind::Ec2Instance,
        ResourceKind::Ec2Vpc,
        ResourceKind::Ec2Subnet,
        ResourceKind::Ec2SecurityGroup,
        ResourceKind::Ec2NetworkInterface,
    ]
    .into_iter()
    .map(|k| (region.to_string(), k))
    .collect()
}

/// Lists one account, handing everything to `sink` as it is read, and ends with its
/// [`Write::Finish`] or [`Write::Fail`].
async fn list_account(
    client: &AwsClient,
    account: plan::Account,
    vendor: Option<&Arc<Provider>>,
    options: &SyncOptions,
    sink: Sink,
    slots: &Slots,
) {
    let plan::Account { connection, home, regions, cursors } = account;
    let c = &connection;
    let lists = &slots.lists;
    let started = Instant::now();
    let fail = |e: &dyn std::fmt::Display, code: Option<&str>| Write::Fail {
        connection: c.id.clone(),
        code: code.map(str::to_owned),
        message: format!("{e:#}"),
        duration_ms: started.elapsed().as_millis() as u64,
    };
    let credentials = match connection_credentials(c, vendor, &home) {
        Ok(p) => p,
        Err(e) => return sink.send(fail(&e, None)).await,
    };
    let account_key = c.account_id.map_or_else(|| c.id.clone(), |a| a.to_string());
    let ctx = Ctx::new(client, credentials, account_key, home);
    let identity = match ctx.call(&sts::GetCallerIdentity, ctx.home_region()).await {
        Ok(id) => id,
        Err(e) => return sink.send(fail(&e, e.code())).await,
    };
    if c.account_id != Some(identity.account) {
        sink.send(Write::AccountId { connection: c.id.clone(), account: identity.account }).await;
    }
    // Re-verified before anything is read: the ExternalId, the trust policy, the key.
    let mut observed = recheck::before_read(&ctx, c, vendor, &identity).await;
    let early = posture::evaluate(&observed, time::OffsetDateTime::now_utc());
    if early.posture == posture::Posture::Unsafe && !options.read_unsafe {
        let ids: Vec<&str> = early.findings.iter().map(|f| f.id.as_str()).collect();
        let message = format!(
            "not read: the connection is unsafe ({}) and sync.read_unsafe is false; its inventory is kept as stale",
            ids.join(", ")
        );
        sink.posture(early).await;
        return sink.send(fail(&message, Some(UNSAFE_CODE))).await;
    }
    // IAM and the regions go side by side: each has its own AWS rate limits (IAM's per account,
    // EC2's and CloudTrail's per region), so the account takes as long as the slower of them.
    let ctx = &ctx;
    let sink = &sink;
    let cursors = &cursors;
    let iam_part = async {
        if c.data_sets.contains(&DataSet::Iam) {
            iam::sync(ctx, sink, lists, c.access.role_arn()).await
        } else {
            (Vec::new(), None)
        }
    };
    let regions_part = async {
        let regions = match regions {
            plan::Regions::None => Vec::new(),
            plan::Regions::Listed(regions) => regions,
            plan::Regions::Enabled => ec2::regions(ctx).await?,
        };
        let unread: Vec<String> = stream::iter(regions)
            .map(|region| async move {
                let mut unread = Vec::new();
                // EC2 and CloudTrail have separate buckets: read them side by side too.
                let ec2 = async {
                    if !c.data_sets.contains(&DataSet::Ec2Network) {
                        return;
                    }
                    let _slot = lists.acquire().await;
                    let mut part = Snapshot::default();
                    // Boxed: its five lists' calls in flight are tens of KB of state, allocated
                    // only while it holds a slot, not for every region waiting for one.
                    match Box::pin(ec2::sync_region(ctx, &region, &mut part)).await {
                        Ok(()) => sink.part(ec2_scope(&region), part).await,
                        Err(e) => {
                            sink.part(ec2_scope(&region), Snapshot::default()).await;
                            unread.push(format!("{region}: EC2: {e}"));
                        }
                    }
                };
                let trail = async {
                    if !c.data_sets.contains(&DataSet::CloudTrail) {
                        return None;
                    }
                    let cursor = cursors.get(region.as_str()).copied();
                    cloudtrail::sync_region(ctx, sink, &slots.pages, &region, cursor, options.cloudtrail)
                        .await
                        .err()
                        .map(|e| format!("{region}: CloudTrail: {e}"))
                };
                let ((), trail) = futures::join!(ec2, trail);
                unread.extend(trail);
                unread
            })
            .buffer_unordered(options.region_concurrency.max(1))
            .flat_map(stream::iter)
            .collect()
            .await;
        Ok::<_, CallError>(unread)
    };
    let ((mut unread, own_trust), regions_result) = futures::join!(iam_part, regions_part);
    observed.denied = std::mem::take(&mut *ctx.denied.lock().unwrap_or_else(|e| e.into_inner()));
    // A role whose permissions do not allow iam:GetRole on itself (Trustline's read-only policy
    // does not grant it) is still checked when the IAM data set read its trust policy.
    if let (posture::Trust::Unreadable(_), Some(doc)) = (&observed.trust, own_trust) {
        observed.trust = posture::Trust::Document(doc);
    }
    sink.posture(posture::evaluate(&observed, time::OffsetDateTime::now_utc())).await;
    match regions_result {
        Ok(more) => unread.extend(more),
        Err(e) => {
            let write = fail(&format!("listing the account's enabled regions failed: {e}"), e.code());
            return sink.send(write).await;
        }
    }
    let calls = ctx.calls.load(Ordering::Relaxed);
    let duration_ms = started.elapsed().as_millis() as u64;
    sink.send(Write::Finish { connection: c.id.clone(), unread, calls, duration_ms }).await;
}

/// One connection's on-demand re-verification (`trustline posture --check`).
#[derive(Debug, Clone, Serialize)]
pub struct PostureCheck {
    /// The connection.
    pub connection: String,
    /// What was found; `None` when the account could not be reached.
    pub report: Option<posture::Report>,
    /// Why it could not be reached.
    pub error: Option<String>,
    /// The posture change recorded, if any.
    pub change: Option<crate::store::PostureChange>,
}

/// Re-verifies every active connection (or `only`, and an Organization's members) without
/// reading its inventory, and records each posture: the checks a sync makes before reading, and
/// each data set's permissions probed with its cheapest call (a sync uses its own calls).
pub async fn check_postures(
    store: &mut Store,
    client: &AwsClient,
    vendor: Option<Arc<Provider>>,
    options: &SyncOptions,
    only: Option<&str>,
) -> Result<Vec<PostureCheck>> {
    if let Some(id) = only
        && store.connection(id)?.is_none()
    {
        anyhow::bail!("--account: no connection '{id}': see `trustline accounts list`");
    }
    let plan = plan::plan(store.connections()?, only, Default::default(), options);
    let vendor = vendor.as_ref();
    let checked: Vec<(String, Result<posture::Report, String>)> = stream::iter(plan.read)
        .map(|account| async move {
            let c = &account.connection;
            (c.id.clone(), check_one(client, c, &account.home, vendor, options).await)
        })
        .buffer_unordered(options.concurrency.clamp(1, 64))
        .collect()
        .await;
    let mut out = Vec::new();
    for (connection, result) in checked {
        out.push(match result {
            Ok(report) => {
                let change = store.record_posture(&connection, None, &report)?;
                PostureCheck { connection, report: Some(report), error: None, change }
            }
            Err(error) => PostureCheck { connection, report: None, error: Some(error), change: None },
        });
    }
    out.sort_by(|a, b| a.connection.cmp(&b.connection));
    Ok(out)
}

async fn check_one(
    client: &AwsClient,
    c: &Connection,
    home: &Region,
    vendor: Option<&Arc<Provider>>,
    options: &SyncOptions,
) -> Result<posture::Report, String> {
    let credentials = connection_credentials(c, vendor, home).map_err(|e| e.to_string())?;
    let account_key = c.account_id.map_or_else(|| c.id.clone(), |a| a.to_string());
    let ctx = Ctx::new(client, credentials, account_key, home.clone());
    let identity = ctx.call(&sts::GetCallerIdentity, ctx.home_region()).await.map_err(|e| e.to_string())?;
    let mut observed = recheck::before_read(&ctx, c, vendor, &identity).await;
    let region = c.regions.first().or(options.regions.first()).unwrap_or(home);
    for set in &c.data_sets {
        for action in set.actions() {
            let Some(Ok(op)) = crate::serve::verify::probe_op(action) else { continue };
            let at = if op.global() { home } else { region };
            let answer =
                crate::serve::verify::run_probe(&op, client, &ctx.credentials, &ctx.account, at).await;
            if let Err(e) = answer
                && matches!(e.kind(), Some(AwsErrorKind::AccessDenied))
            {
                observed.denied.push(posture::Denied { data_set: *set, action: action.to_owned() });
            }
        }
    }
    Ok(posture::evaluate(&observed, time::OffsetDateTime::now_utc()))
}

/// The store behind `m`, even if a panic poisoned the lock (each use is one statement).
fn locked(m: &std::sync::Mutex<Store>) -> std::sync::MutexGuard<'_, Store> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Runs one sync over every connection (with `only`, one connection and its Organization's
/// members) not yet synced in `slot`: the schedule slot that replicas sharing the store agree on
/// (`None`: a slot of this run's own, so every account is read once more). Each account is
/// taken by lease (see [`crate::store`]'s leases): accounts another replica holds are left to
/// it, and taken over if its lease expires before the slot is done. `stop` cancelled (Ctrl-C,
/// SIGTERM) means: take no new account, finish and commit the ones in flight.
pub async fn run(
    store: &mut Store,
    client: &Arc<AwsClient>,
    vendor: Option<Arc<Provider>>,
    options: &SyncOptions,
    only: Option<&str>,
    slot: Option<&str>,
    stop: &tokio_util::sync::CancellationToken,
) -> Result<RunSummary> {
    let started = Instant::now();
    if let Some(id) = only
        && store.connection(id)?.is_none()
    {
        anyhow::bail!("no connection '{id}': see `trustline accounts list`");
    }
    let run_id = store.begin_run()?;
    let mut summary = RunSummary { run_id, ..Default::default() };
    let shared = slot.is_some();
    let slot = match slot {
        Some(s) => s.to_owned(),
        None => format!("run-{run_id}-{}", store.replica_id().unwrap_or("reader")),
    };
    store.ensure_leases()?;

    // The Organizations this replica lists (another replica lists the others, or did in this
    // slot): their leases are taken now. Their member lists decide which accounts the run
    // reads; the members of each page are synced as soon as the page is stored, while the
    // listing goes on. A failed listing is recorded on the Organization connection; the members
    // it found and those known before still sync.
    let mut listing = Vec::new();
    for org in store.connections()? {
        if org.status != ConnectionStatus::Active
            || only.is_some_and(|id| id != org.id)
            || org.access.org().is_none()
        {
            continue;
        }
        if store.claim_next(&slot, None, Some(&org.id))?.is_some() {
            listing.push(org);
        }
    }

    let mut cursors = store.all_cursors()?;
    let pending = store.slot_pending(&slot, only)?;
    let vendor_ref = &vendor;
    let shared_options = Arc::new(options.clone());
    let shared_options = &shared_options;
    // On a terminal the CLI draws this span as the run's progress bar, and each account's span
    // as a spinner while it is listed (tracing-indicatif); elsewhere they only label log lines.
    let run_span = tracing::info_span!("sync", accounts = pending);
    run_span.pb_set_style(
        &tracing_indicatif::style::ProgressStyle::with_template(
            "{spinner} syncing {pos}/{len} accounts [{elapsed}] {wide_bar}",
        )
        .unwrap_or_else(|_| tracing_indicatif::style::ProgressStyle::default_bar()),
    );
    run_span.pb_set_length(pending);
    let run_span_child = run_span.clone();
    // Accounts are listed here; what they read is written by the writer on its own thread, so
    // the store's work never holds up the requests in flight.
    let writer = store.writer(run_id)?;
    let (tx, rx) = mpsc::channel::<Write>(WRITE_QUEUE);
    let (done_tx, mut done_rx) = mpsc::unbounded_channel();
    let writer_thread = std::thread::Builder::new()
        .name("trustline-store".into())
        .spawn(move || writer.run(rx, done_tx))
        .context("starting the store writer")?;
    let slots =
        Arc::new(Slots { lists: Semaphore::new(LISTS_IN_FLIGHT), pages: Semaphore::new(PAGES_IN_FLIGHT) });
    let writer_failed = AtomicBool::new(false);
    let claim_failed = std::sync::Mutex::new(None::<anyhow::Error>);
    let (slots, writer_failed_ref, claim_failed_ref) = (&slots, &writer_failed, &claim_failed);
    // Leases are taken on a handle of their own (the run's future holds no borrow of `store`,
    // which is not Sync), locked only for each statement.
    let leases = std::sync::Mutex::new(store.sibling()?);
    let leases = &leases;
    // While accounts of the slot are held by other replicas, look again this often: they finish
    // them, or stop beating and their leases expire.
    let poll = (store.lease_ttl() / 4)
        .clamp(std::time::Duration::from_millis(200), std::time::Duration::from_secs(5));
    let fail_claim = |e: anyhow::Error| {
        *claim_failed_ref.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(e)
    };
    // The Organizations being listed: each page's members are stored (with their leases) as
    // it arrives, and taken from then on; an Organization's own account once its listing is
    // complete.
    let gate = Listing::of(&listing);
    let admitted = tokio::sync::Notify::new();
    let (gate, admitted) = (&gate, &admitted);
    let list_orgs = {
        let (slot, run_span, vendor) = (slot.clone(), run_span.clone(), vendor.clone());
        async move {
            let one = |org: &Connection| {
                let (slot, run_span, vendor) = (&slot, &run_span, &vendor);
                let org = org.clone();
                async move {
                    let t = Instant::now();
                    let on_page = |store: &Store| {
                        if let Ok(n) = store.slot_pending(slot, only) {
                            run_span.pb_set_length(n);
                        }
                        admitted.notify_one();
                    };
                    // Stopped (Ctrl-C, SIGTERM): an Organization not listed to its end removes
                    // none of its members.
                    let listed = tokio::select! {
                        () = stop.cancelled() => None,
                        listed = list_organization(client, &org, vendor.as_ref(), options, leases, gate, on_page) => Some(listed),
                    };
                    let outcome = match listed {
                        None => None,
                        Some(Ok(changes)) => {
                            tracing::info!(connection = %org.id, found = changes.found, added = changes.added, suspended = changes.suspended, removed = changes.removed, "organization members listed");
                            Some(Ok(changes))
                        }
                        Some(Err(e)) => {
                            let message = format!("listing the organization's accounts failed: {e}");
                            tracing::warn!(connection = %org.id, %message, "organization not listed; the members known are synced");
                            let duration_ms = t.elapsed().as_millis() as u64;
                            let settled = {
                                let mut leases = locked(leases);
                                leases
                                    .fail_account(run_id, &org.id, e.code(), &message, duration_ms)
                                    .and_then(|()| leases.complete_lease(&org.id))
                            };
                            if let Err(e) = settled {
                                fail_claim(e);
                            }
                            Some(Err(message))
                        }
                    };
                    gate.finished(&org.id, matches!(outcome, Some(Ok(_))));
                    admitted.notify_one();
                    outcome.map(|o| (org.id, o))
                }
            };
            futures::future::join_all(listing.iter().map(one)).await
        }
    };
    let claims = stream::unfold(Vec::<(String, String)>::new(), move |mut deferred| {
        let slot = slot.clone();
        async move {
            loop {
                if stop.is_cancelled() || writer_failed_ref.load(Ordering::SeqCst) {
                    return None;
                }
                let (listing, listed) = gate.poll();
                if let Some(org) = listed {
                    return Some((org, deferred));
                }
                if let Some(i) = deferred.iter().position(|(id, parent)| gate.ready(parent, id)) {
                    let (id, _) = deferred.swap_remove(i);
                    return Some((id, deferred));
                }
                let room = match locked(leases).has_room(&slot, only) {
                    Ok(room) => room,
                    Err(e) => {
                        fail_claim(e);
                        return None;
                    }
                };
                // At its share: the other replicas take the rest, or this one once some of its
                // accounts are done.
                let next = if room { locked(leases).claim_next(&slot, only, None) } else { Ok(None) };
                let waiting = match next {
                    Ok(Some(id)) if listing => match locked(leases).connection(&id) {
                        // A known member of an Organization being listed: held until the
                        // listing finds it again, or ends.
                        Ok(Some(Connection { parent: Some(parent), .. })) if !gate.ready(&parent, &id) => {
                            deferred.push((id, parent));
                            continue;
                        }
                        Ok(_) => return Some((id, deferred)),
                        Err(e) => Err(e),
                    },
                    Ok(Some(id)) => return Some((id, deferred)),
                    Ok(None) => locked(leases).slot_waiting(&slot, only),
                    Err(e) => Err(e),
                };
                match waiting {
                    // Nothing left that is not its own, and no member still to be listed: done
                    // taking.
                    Ok(0) if !listing && deferred.is_empty() => return None,
                    Ok(_) => {}
                    Err(e) => {
                        fail_claim(e);
                        return None;
                    }
                }
                let wait = if room { poll } else { std::time::Duration::from_millis(200) };
                tokio::select! {
                    () = stop.cancelled() => return None,
                    () = admitted.notified() => {}
                    () = tokio::time::sleep(wait) => {}
                }
            }
        }
    })
    .boxed();
    let produce = async move {
        claims
            .map(|id| {
                let span = tracing::info_span!(parent: &run_span_child, "account", connection = %id);
                let sink = Sink { connection: id.clone(), tx: tx.clone() };
                // The connection as it is now (another replica may have changed its members'
                // status), planned alone.
                let planned = locked(leases).connection(&id).map(|c| {
                    let own = c.as_ref().map(|c| cursors.remove(&c.id).unwrap_or_default());
                    (c, own)
                });
                async move {
                    let (connection, own) = match planned {
                        Ok((Some(c), own)) => (c, own),
                        // Removed since the lease was made: nothing to read.
                        Ok((None, _)) => {
                            return sink
                                .send(Write::Skip {
                                    connection: id.clone(),
                                    code: "ConnectionRemoved",
                                    message: "the connection was removed",
                                })
                                .await;
                        }
                        Err(e) => {
                            return sink
                                .send(Write::Fail {
                                    connection: id.clone(),
                                    code: None,
                                    message: format!("reading the connection from the store failed: {e:#}"),
                                    duration_ms: 0,
                                })
                                .await;
                        }
                    };
                    let one =
                        std::collections::HashMap::from([(connection.id.clone(), own.unwrap_or_default())]);
                    let plan = plan::plan(vec![connection], None, one, options);
                    for skip in plan.skipped {
                        sink.send(Write::Skip {
                            connection: skip.connection,
                            code: skip.code,
                            message: skip.message,
                        })
                        .await;
                    }
                    for id in plan.discovery_only {
                        sink.send(Write::Finish {
                            connection: id,
                            unread: Vec::new(),
                            calls: 0,
                            duration_ms: 0,
                        })
                        .await;
                    }
                    for account in plan.read {
                        // Each account on the runtime's worker threads: its parsing and
                        // conversions (most of a sync's CPU) use every core, not only the
                        // thread polling this run.
                        let id = account.connection.id.clone();
                        let (client, vendor, options, slots, sink) = (
                            client.clone(),
                            vendor_ref.clone(),
                            shared_options.clone(),
                            slots.clone(),
                            sink.clone(),
                        );
                        let account_sink = sink.clone();
                        let listed = tokio::spawn(
                            async move {
                                list_account(
                                    &client,
                                    account,
                                    vendor.as_ref(),
                                    &options,
                                    account_sink,
                                    &slots,
                                )
                                .await;
                            }
                            .in_current_span(),
                        );
                        if let Err(e) = tokio_util::task::AbortOnDropHandle::new(listed).await {
                            tracing::error!(connection = %id, "listing the account stopped: {e}");
                            sink.send(Write::Fail {
                                connection: id,
                                code: None,
                                message: format!("listing the account stopped unexpectedly: {e}"),
                                duration_ms: 0,
                            })
                            .await;
                        }
                    }
                }
                .instrument(span)
            })
            .buffer_unordered(options.concurrency.max(1))
            .for_each(|()| std::future::ready(()))
            .await;
        // `tx` goes here: once every account's sink is gone too, the writer drains and stops.
    };
    let consume = async {
        while let Some(finished) = done_rx.recv().await {
            let finished = match finished {
                Ok(f) => f,
                Err(e) => {
                    writer_failed.store(true, Ordering::SeqCst);
                    return Err(e);
                }
            };
            run_span.pb_inc(1);
            let (c, out) = (finished.connection, finished.outcome);
            if let Some(p) = finished.posture {
                if p != posture::Posture::Healthy {
                    tracing::warn!(connection = %c, posture = %p, "connection posture");
                }
                summary.postures.push((c.clone(), p));
            }
            if let Some(change) = finished.posture_change {
                tracing::warn!(connection = %c, from = change.from.map_or("-", posture::Posture::as_str), to = %change.to, "posture changed");
                summary.posture_changes.push(change);
            }
            summary.resources += out.resources;
            summary.added += out.added;
            summary.changed += out.changed;
            summary.removed += out.removed;
            summary.events += out.events;
            match finished.ending {
                Ending::Ok => {
                    tracing::info!(connection = %c, resources = out.resources, added = out.added, changed = out.changed, removed = out.removed, events = out.events, "synced");
                    summary.ok.push(c);
                }
                Ending::Partial(message) => {
                    tracing::warn!(connection = %c, %message, "synced partly; what could not be read is kept as stale");
                    summary.partial.push((c, message));
                }
                Ending::Failed { code, message } => {
                    tracing::warn!(connection = %c, code = code.as_deref().unwrap_or("-"), %message, "sync failed; inventory kept as stale");
                    summary.failed.push((c, message));
                }
                Ending::Skipped => summary.skipped.push(c),
            }
        }
        Ok(())
    }
    .instrument(run_span.clone());
    let (listed, (), committed) = futures::join!(list_orgs, produce, consume);
    for (org, outcome) in listed.into_iter().flatten() {
        match outcome {
            Ok(changes) => summary.organizations.push((org, changes)),
            Err(message) => summary.failed.push((org, message)),
        }
    }
    summary.organizations.sort_by(|a, b| a.0.cmp(&b.0));
    writer_thread.join().map_err(|_| anyhow!("the store writer panicked"))?;
    committed?;
    if let Some(e) = claim_failed.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner) {
        return Err(e.context("taking the next account's lease"));
    }
    let status = if stop.is_cancelled() {
        RunStatus::Interrupted
    } else if summary.failed.is_empty() && summary.partial.is_empty() {
        RunStatus::Ok
    } else {
        RunStatus::Partial
    };
    let took_nothing = summary.ok.is_empty()
        && summary.partial.is_empty()
        && summary.failed.is_empty()
        && summary.skipped.is_empty()
        && summary.organizations.is_empty();
    if shared && took_nothing {
        store.discard_run(run_id)?;
    } else {
        store.finish_run(run_id, status)?;
    }
    summary.ok.sort();
    summary.partial.sort();
    summary.failed.sort();
    summary.skipped.sort();
    summary.postures.sort();
    summary.calls = client.calls();
    summary.duration_ms = started.elapsed().as_millis() as u64;
    Ok(summary)
}
