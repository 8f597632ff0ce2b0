//! `trustline sync` (once) and `trustline run` (on a schedule), stopped by SIGTERM or Ctrl-C.

use std::sync::Arc;

use anyhow::{Result, bail};
use tokio_util::sync::CancellationToken;
use trustline_worker::client::{AwsClient, RetryPolicy};
use trustline_worker::credentials::{Provider, vendor_chain};
use trustline_worker::store::Store;
use trustline_worker::sync;
use trustline_worker::webhooks::deliver::Deliverer;

use super::GlobalArgs;
use super::common::*;

/// Everything one sync run needs, built once per process.
pub(super) struct Runner {
    pub(super) store: Store,
    pub(super) client: std::sync::Arc<AwsClient>,
    pub(super) vendor: Option<Arc<Provider>>,
    pub(super) options: sync::SyncOptions,
    /// Sends webhook events, on a store handle of its own.
    deliverer: Deliverer,
}

impl Runner {
    async fn new(
        global: &GlobalArgs,
        concurrency: Option<usize>,
        lease_ttl: Option<std::time::Duration>,
    ) -> Result<Runner> {
        let mut config = config(global)?;
        if let Some(ttl) = lease_ttl {
            config.sync.lease_ttl = ttl;
        }
        let store = Store::open(&config.store.location()?)?;
        let client = Arc::new(AwsClient::new(
            config.aws.endpoint_url.clone(),
            config.limits.limiter(),
            RetryPolicy::default(),
        )?);
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
        store.set_lease_ttl(config.sync.lease_ttl)?;
        let deliverer = Deliverer::from_env(store.sibling()?, &config.webhooks)?;
        Ok(Runner { store, client, vendor, options, deliverer })
    }

    async fn once(
        &mut self,
        only: Option<&str>,
        slot: Option<&str>,
        stop: &CancellationToken,
    ) -> Result<sync::RunSummary> {
        sync::run(&mut self.store, &self.client, self.vendor.clone(), &self.options, only, slot, stop).await
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
    for (id, posture) in &summary.postures {
        if *posture != sync::posture::Posture::Healthy {
            s.push_str(&format!("  {id}: posture {posture} (see `trustline posture`)\n"));
        }
    }
    s
}

/// Logging, a runtime, the runner and a stop token cancelled by SIGTERM or Ctrl-C: what `sync`
/// and `run` share; `body` is the command itself.
pub(super) fn with_runner<F, Fut, T>(
    global: &GlobalArgs,
    concurrency: Option<usize>,
    lease_ttl: Option<std::time::Duration>,
    body: F,
) -> Result<T>
where
    F: FnOnce(Runner, CancellationToken) -> Fut,
    Fut: std::future::Future<Output = Result<T>>,
{
    init_logging(global.log_format);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async {
        let runner = Runner::new(global, concurrency, lease_ttl).await?;
        let stop = CancellationToken::new();
        spawn_stop_on_signal(stop.clone());
        body(runner, stop).await
    })
}

pub(crate) fn sync(
    global: &GlobalArgs,
    connection: Option<String>,
    concurrency: Option<usize>,
    json: bool,
) -> Result<String> {
    with_runner(global, concurrency, None, |mut runner, stop| async move {
        let summary = runner.once(connection.as_deref(), None, &stop).await?;
        // Once, without waiting for retries: what fails waits for `run` or `serve`.
        match runner.deliverer.pass().await {
            Ok(pass) if pass.failed > 0 => tracing::warn!(
                delivered = pass.delivered,
                failed = pass.failed,
                "some webhook deliveries failed; `trustline run` or `trustline serve` retries them"
            ),
            Ok(_) => {}
            Err(e) => tracing::error!("webhook delivery failed: {e:#}"),
        }
        let text = if json { serde_json::to_string_pretty(&summary)? + "\n" } else { summary_text(&summary) };
        if !summary.failed.is_empty() && summary.ok.is_empty() && summary.partial.is_empty() {
            bail!("every account failed:\n{text}");
        }
        Ok(text)
    })
}

pub(crate) fn run_scheduled(
    global: &GlobalArgs,
    schedule: trustline_worker::schedule::Schedule,
    jitter: std::time::Duration,
    concurrency: Option<usize>,
    lease_ttl: Option<std::time::Duration>,
) -> Result<String> {
    if lease_ttl.is_some_and(|t| t < std::time::Duration::from_secs(1)) {
        anyhow::bail!("--lease-ttl: at least 1s (each replica beats its heartbeat every third of it)");
    }
    with_runner(global, concurrency, lease_ttl, |mut runner, stop| async move {
        // Webhook deliveries go on beside the syncs, and stop with them.
        let tasks = tokio_util::task::TaskTracker::new();
        tasks.spawn(runner.deliverer.clone().run(stop.clone()));
        tasks.close();
        // Replicas sharing a PostgreSQL store sync each account once per schedule slot, between
        // them; a worker alone on its SQLite store syncs at start, then every interval.
        let shared = runner.store.engine() == trustline_worker::store::sql::Engine::Postgres;
        loop {
            let slot = if shared { Some(schedule.slot(chrono::Utc::now())?.to_rfc3339()) } else { None };
            match runner.once(None, slot.as_deref(), &stop).await {
                Ok(summary) => tracing::info!("{}", summary_text(&summary).trim_end()),
                // A run that cannot start (the store, say) is logged; the next one may succeed.
                Err(e) => tracing::error!("sync run failed: {e:#}"),
            }
            if stop.is_cancelled() {
                break;
            }
            let now = chrono::Utc::now();
            let wait = if shared { schedule.until_next_slot(now)? } else { schedule.wait(now)? };
            let wait = wait + trustline_worker::schedule::jitter(jitter);
            tracing::info!(seconds = wait.as_secs(), "next sync");
            tokio::select! {
                () = stop.cancelled() => break,
                () = tokio::time::sleep(wait) => {}
            }
        }
        tasks.wait().await;
        tracing::info!("stopped");
        Ok(String::new())
    })
}

/// Cancels `stop` on SIGTERM or Ctrl-C: runs start no new account, finish those in flight, and
/// the process exits.
pub(super) fn spawn_stop_on_signal(stop: CancellationToken) {
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
