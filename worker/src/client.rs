//! The worker's AWS client: sends core's signed requests with reqwest, within AWS's rate limits,
//! retrying what is worth retrying.
//!
//! - Each (account, region, service) has its own token bucket ([`crate::limiter`]).
//! - Throttling, 5xx, timeouts and dropped connections are retried with exponential backoff and
//!   full jitter (AWS Architecture Blog, "Exponential Backoff And Jitter").
//! - Expired credentials are refreshed once; clock skew is measured from the server's `Date` and
//!   applied to every later signature.

mod error;

use std::future::Future;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use trustline_core::aws::{AwsErrorKind, Operation, prepare};
use trustline_core::exec::Executor;
use trustline_core::{Credentials, Endpoints, Region, Signer};

pub use error::{CallError, CredentialsError};

use crate::limiter::Limiter;

/// Where [`AwsClient::call`] gets the credentials it signs with. The client defines this rather
/// than naming the worker's providers, because providers call the client in turn (AssumeRole).
pub trait CredentialSource: Sync {
    /// Current credentials; `client` sends whatever call fetching them takes.
    fn credentials(
        &self,
        client: &AwsClient,
    ) -> impl Future<Output = Result<Credentials, CredentialsError>> + Send;

    /// Forgets `used`, which AWS refused as expired, if they are still the current ones (if
    /// another call has refreshed them meanwhile, the fresh ones stay).
    fn invalidate(&self, used: &Credentials) -> impl Future<Output = ()> + Send;
}

/// Retry limits.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Attempts per call, the first included.
    pub max_attempts: u32,
    /// First backoff ceiling; doubles per attempt.
    pub base: Duration,
    /// Largest backoff ceiling.
    pub cap: Duration,
}

/// Sessions renewed for one call when AWS says they expired (see [`AwsClient::call`]).
const MAX_RENEWALS: u32 = 16;

impl Default for RetryPolicy {
    fn default() -> Self {
        // Eight attempts with a 20 s cap ride out a minute of throttling, as the SDKs' adaptive
        // modes do, without letting one call stall a sync for long.
        RetryPolicy { max_attempts: 8, base: Duration::from_millis(100), cap: Duration::from_secs(20) }
    }
}

/// Sends AWS calls for the whole worker.
#[derive(Debug)]
pub struct AwsClient {
    exec: Executor,
    endpoint_override: Option<String>,
    limiter: Limiter,
    retry: RetryPolicy,
    /// Server time minus local time, in seconds, as last measured.
    skew_seconds: Mutex<i64>,
    calls: AtomicU64,
}

impl AwsClient {
    /// A client; `endpoint_override` sends every service to one URL (moto, the stand-in, a proxy).
    pub fn new(
        endpoint_override: Option<String>,
        limiter: Limiter,
        retry: RetryPolicy,
    ) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(60))
            // A large sync keeps many requests in flight to each regional endpoint: keeping
            // their connections saves a TCP and TLS handshake per request. Each idle connection
            // keeps its read buffer (tens of KB after a CloudTrail page), so not too many: the
            // 1,000-account benchmark peaks below 100 requests in flight.
            .pool_max_idle_per_host(256)
            .pool_idle_timeout(Duration::from_secs(30))
            .build()?;
        Ok(AwsClient {
            exec: Executor::with_client(client),
            endpoint_override,
            limiter,
            retry,
            skew_seconds: Mutex::new(0),
            calls: AtomicU64::new(0),
        })
    }

    /// Requests sent so far (retries included).
    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    fn endpoints(&self, region: &Region) -> Result<Endpoints, CallError> {
        let endpoints = Endpoints::new(region.clone());
        match &self.endpoint_override {
            Some(url) => endpoints.with_override_all(url).map_err(CallError::Build),
            None => Ok(endpoints),
        }
    }

    fn signing_time(&self) -> SystemTime {
        let skew = *self.skew_seconds.lock().unwrap_or_else(|e| e.into_inner());
        let now = SystemTime::now();
        if skew >= 0 {
            now + Duration::from_secs(skew.unsigned_abs())
        } else {
            now - Duration::from_secs(skew.unsigned_abs())
        }
    }

    /// Calls `op` in `region` of `account` with credentials from `credentials`.
    pub async fn call<O: Operation>(
        &self,
        op: &O,
        account: &str,
        region: &Region,
        credentials: &impl CredentialSource,
    ) -> Result<O::Output, CallError> {
        self.call_inner(op, account, region, credentials, false).await
    }

    /// Waits until a request to `service` in `region` of `account` may go, and takes its turn:
    /// the next [`AwsClient::call_paced`] there goes without waiting again.
    pub async fn pace(&self, account: &str, region: &Region, service: trustline_core::Service) {
        self.limiter.acquire(account, region.as_str(), service).await;
    }

    /// [`AwsClient::call`] after [`AwsClient::pace`]: the first attempt uses the turn already
    /// taken (retries wait their turn as usual).
    pub async fn call_paced<O: Operation>(
        &self,
        op: &O,
        account: &str,
        region: &Region,
        credentials: &impl CredentialSource,
    ) -> Result<O::Output, CallError> {
        self.call_inner(op, account, region, credentials, true).await
    }

    async fn call_inner<O: Operation>(
        &self,
        op: &O,
        account: &str,
        region: &Region,
        credentials: &impl CredentialSource,
        paced: bool,
    ) -> Result<O::Output, CallError> {
        let service = op.call().map_err(CallError::Build)?.service();
        let endpoints = self.endpoints(region)?;
        let mut attempt = 0;
        let mut renewals = 0;
        loop {
            attempt += 1;
            if !(paced && attempt == 1) {
                self.limiter.acquire(account, region.as_str(), service).await;
            }
            // Boxed: a role's credentials future holds a whole AssumeRole call, and inline it would
            // make every call future that size, for every request in flight (with 1,000 accounts
            // at once, about 120 MB of peak memory in the organization-scale benchmark).
            let creds = Box::pin(credentials.credentials(self)).await.map_err(CallError::Credentials)?;
            let signer = Signer::new(&creds);
            let request = prepare(op, &endpoints, &signer, self.signing_time()).map_err(CallError::Build)?;
            self.calls.fetch_add(1, Ordering::Relaxed);
            let response = match self.exec.send(&request).await {
                Ok(r) => r,
                Err(e) if e.is_unsendable() => return Err(CallError::Transport(e.to_string())),
                Err(e) if attempt < self.retry.max_attempts => {
                    tracing::debug!(%account, region = %region, error = %e, attempt, "no response; retrying");
                    self.backoff(attempt).await;
                    continue;
                }
                Err(e) => return Err(CallError::Transport(e.to_string())),
            };
            let err = match O::parse(&response) {
                Ok(out) => return Ok(out),
                Err(err) => err,
            };
            match err.kind() {
                // Credentials that expired (or were revoked) early: fresh ones at once. Bounded
                // by the attempts, as a session can be refused again mid-pagination.
                // Each renewal brings a new session, so a refusal says nothing about the next try:
                // renewals have their own, larger budget. (Where sessions die often, as in the
                // fault suite's 30 % of continued pages, eight attempts shared with throttling ran
                // out now and then; a loop is still impossible.)
                AwsErrorKind::ExpiredCredentials if renewals < MAX_RENEWALS => {
                    renewals += 1;
                    credentials.invalidate(&creds).await;
                }
                AwsErrorKind::ClockSkew if attempt < self.retry.max_attempts => {
                    if let Some(skew) = err.clock_skew(SystemTime::now()) {
                        *self.skew_seconds.lock().unwrap_or_else(|e| e.into_inner()) = skew.whole_seconds();
                        tracing::warn!(
                            seconds = skew.whole_seconds(),
                            "local clock is off from AWS's; correcting signatures"
                        );
                    }
                }
                _ if err.is_retryable() && attempt < self.retry.max_attempts => {
                    if err.kind() == AwsErrorKind::Throttled {
                        self.limiter.slow_down(account, region.as_str(), service);
                    }
                    self.backoff(attempt).await;
                }
                _ => return Err(CallError::Aws(err)),
            }
        }
    }

    /// Sleeps a random time up to `min(cap, base * 2^attempt)` ("full jitter").
    async fn backoff(&self, attempt: u32) {
        let ceiling = self.retry.base.saturating_mul(1 << attempt.min(16)).min(self.retry.cap);
        let fraction = getrandom::u64().unwrap_or(u64::MAX / 2) as f64 / u64::MAX as f64;
        tokio::time::sleep(ceiling.mul_f64(fraction)).await;
    }
}
