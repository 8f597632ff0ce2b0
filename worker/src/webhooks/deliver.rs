//! The delivery loop: sends the outbox's due deliveries and records each attempt.
//!
//! It has a store handle of its own and does its store work on tokio's blocking pool, in short
//! transactions (read what is due; record a batch of attempts), never holding a transaction
//! across a request: a sync's writer thread and the API's writes never wait for a receiver.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use futures::stream::{self, StreamExt};
use tokio_util::sync::CancellationToken;

use super::{backoff, random_u64, sign};
use crate::config::WebhooksConfig;
use crate::seal::SealKeys;
use crate::store::{AttemptResult, DueDelivery, Store};

/// Deliveries read per batch.
const BATCH: usize = 64;
/// Requests in flight at once.
const IN_FLIGHT: usize = 16;
/// How long delivered (and given-up) events are kept for `webhooks list`'s counts.
const KEEP: Duration = Duration::from_secs(7 * 86_400);
/// How often old events are pruned.
const PRUNE_EVERY: Duration = Duration::from_secs(3_600);

/// What one pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pass {
    /// Attempts answered with a 2xx.
    pub delivered: usize,
    /// Attempts that failed (to be retried, or given up).
    pub failed: usize,
}

/// Sends due deliveries.
#[derive(Debug, Clone)]
pub struct Deliverer {
    store: Arc<Mutex<Store>>,
    client: reqwest::Client,
    keys: Option<SealKeys>,
    config: WebhooksConfig,
}

impl Deliverer {
    /// A deliverer on `store` (a handle of its own: see [`Store::sibling`]), opening endpoint
    /// secrets with `keys` (the operator's sealing keys; without them every attempt fails with
    /// a message naming `TRUSTLINE_SEAL_KEY`).
    pub fn from_env(store: Store, config: &WebhooksConfig) -> Result<Deliverer> {
        // A missing or unusable key stops webhooks alone, not the syncs or the API beside them.
        let keys = SealKeys::from_env().unwrap_or_else(|e| {
            tracing::warn!("webhook secrets cannot be opened, so no webhook is sent: {e:#}");
            None
        });
        Deliverer::new(store, config, keys)
    }

    /// [`Deliverer::from_env`] with the keys given.
    pub fn new(store: Store, config: &WebhooksConfig, keys: Option<SealKeys>) -> Result<Deliverer> {
        let client = reqwest::Client::builder()
            .timeout(config.request_timeout)
            .connect_timeout(config.request_timeout.min(Duration::from_secs(10)))
            // Standard Webhooks: a redirect is a failure (the endpoint's URL should be updated).
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("trustline-webhooks/", env!("CARGO_PKG_VERSION")))
            .build()
            .context("building the webhook HTTP client")?;
        Ok(Deliverer { store: Arc::new(Mutex::new(store)), client, keys, config: config.clone() })
    }

    async fn with_store<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Store) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let store = Arc::clone(&self.store);
        tokio::task::spawn_blocking(move || f(&mut store.lock().unwrap_or_else(PoisonError::into_inner)))
            .await
            .context("a webhook store task did not finish")?
    }

    /// Sends every delivery due now (batch by batch while a batch is full and some succeed) and
    /// records the attempts.
    pub async fn pass(&self) -> Result<Pass> {
        let mut total = Pass::default();
        loop {
            let due =
                self.with_store(|s| s.due_webhook_deliveries(crate::store::webhook_now_ms(), BATCH)).await?;
            let full = due.len() == BATCH;
            if due.is_empty() {
                break;
            }
            let results: Vec<AttemptResult> =
                stream::iter(due).map(|d| self.attempt(d)).buffer_unordered(IN_FLIGHT).collect().await;
            let delivered = results.iter().filter(|r| r.error.is_none()).count();
            total.delivered += delivered;
            total.failed += results.len() - delivered;
            let window = self.config.retry_window;
            let disabled = self.with_store(move |s| s.record_webhook_attempts(&results, window)).await?;
            for (endpoint, reason) in disabled {
                tracing::warn!(%endpoint, %reason, "webhook endpoint disabled; `trustline webhooks retry` re-enables it");
            }
            if !full || delivered == 0 {
                break;
            }
        }
        Ok(total)
    }

    /// Runs passes every `webhooks.poll_interval` until `stop` is cancelled. A request in flight
    /// when it is cancelled is abandoned unrecorded, and sent again (same `webhook-id`) by the
    /// next worker: at-least-once.
    pub async fn run(self, stop: CancellationToken) {
        let mut pruned_at: Option<Instant> = None;
        loop {
            tokio::select! {
                () = stop.cancelled() => break,
                result = self.pass() => if let Err(e) = result {
                    tracing::error!("webhook delivery failed: {e:#}");
                },
            }
            if pruned_at.is_none_or(|t| t.elapsed() >= PRUNE_EVERY) {
                pruned_at = Some(Instant::now());
                let before = crate::store::webhook_now_ms() - KEEP.as_millis() as i64;
                if let Err(e) = self.with_store(move |s| s.prune_webhooks(before)).await {
                    tracing::warn!("pruning old webhook events failed: {e:#}");
                }
            }
            tokio::select! {
                () = stop.cancelled() => break,
                () = tokio::time::sleep(self.config.poll_interval) => {}
            }
        }
    }

    /// Sends `webhook.test` to one endpoint now (whatever its status and filter) and records the
    /// attempt: a failed one is retried like any other delivery.
    pub async fn send_test(&self, endpoint: &str) -> Result<(String, AttemptResult, Duration)> {
        let id = endpoint.to_owned();
        let (message, due) = self
            .with_store(move |s| {
                let e = s
                    .webhook_endpoint(&id)?
                    .with_context(|| format!("no webhook endpoint '{id}': see `trustline webhooks list`"))?;
                let message = s.enqueue_webhook_test(&e)?;
                let due = s.webhook_delivery(&id, &message)?.context("the test delivery was not stored")?;
                Ok((message, due))
            })
            .await?;
        let started = Instant::now();
        let result = self.attempt(due).await;
        let took = started.elapsed();
        let (recorded, window) = (result.clone(), self.config.retry_window);
        self.with_store(move |s| s.record_webhook_attempts(&[recorded], window)).await?;
        Ok((message, result, took))
    }

    async fn attempt(&self, d: DueDelivery) -> AttemptResult {
        let outcome = self.send(&d).await;
        let mut asked_to_wait = None;
        let (status, error) = match outcome {
            Ok((status, _)) if (200..300).contains(&status) => (Some(status), None),
            Ok((status, retry_after)) => {
                asked_to_wait = retry_after;
                (Some(status), Some(format!("HTTP {status}")))
            }
            Err(e) => (None, Some(e)),
        };
        match &error {
            None => {
                tracing::debug!(endpoint = %d.endpoint_id, id = %d.message_id, r#type = %d.event_type, "webhook delivered")
            }
            Some(e) => {
                tracing::info!(endpoint = %d.endpoint_id, id = %d.message_id, r#type = %d.event_type, attempt = d.attempts + 1, error = %e, "webhook attempt failed; retrying later")
            }
        }
        AttemptResult {
            endpoint_id: d.endpoint_id,
            message_seq: d.message_seq,
            status,
            error,
            at_ms: crate::store::webhook_now_ms(),
            retry_in: retry_delay(
                backoff(self.config.backoff(), d.attempts + 1, random_u64()),
                asked_to_wait.as_deref(),
                self.config.backoff().max,
            ),
        }
    }

    /// One POST; the answer's status and its `Retry-After`, or why there was none.
    async fn send(&self, d: &DueDelivery) -> std::result::Result<(u16, Option<String>), String> {
        let keys = self.keys.as_ref().ok_or_else(|| {
            format!("no usable {}: the endpoint's secret cannot be opened to sign", crate::seal::KEY_ENV)
        })?;
        let secret = keys.open(&d.sealed_secret, &d.endpoint_id).map_err(|e| format!("{e:#}"))?;
        let key = sign::secret_key(&secret).map_err(|e| format!("{e:#}"))?;
        let timestamp = time::OffsetDateTime::now_utc().unix_timestamp();
        let signature = sign::sign(&key, &d.message_id, timestamp, d.body.as_bytes());
        let response = self
            .client
            .post(&d.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header("webhook-id", &d.message_id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(d.body.clone())
            .send()
            .await
            .map_err(|e| describe(&e, self.config.request_timeout))?;
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        Ok((response.status().as_u16(), retry_after))
    }
}

/// The wait before the next attempt: the backoff, or longer when the receiver asked for it
/// with `Retry-After` (as the Standard Webhooks specification suggests honouring it, with 429
/// and 503), up to the longest backoff. Only the delay-seconds form is read (RFC 9110, section
/// 10.2.3); an HTTP date leaves the backoff as it is.
fn retry_delay(backoff: Duration, retry_after: Option<&str>, longest: Duration) -> Duration {
    let asked = retry_after.and_then(|v| v.trim().parse::<u64>().ok()).map(Duration::from_secs);
    match asked {
        Some(asked) => backoff.max(asked.min(longest)),
        None => backoff,
    }
}

/// A request error in a few words, with its causes (the URL is in the endpoint's row already).
fn describe(e: &reqwest::Error, timeout: Duration) -> String {
    if e.is_timeout() {
        return format!("no answer within {} ms (webhooks.request_timeout)", timeout.as_millis());
    }
    let mut text = if e.is_connect() { "could not connect".to_owned() } else { "request failed".to_owned() };
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text.chars().take(300).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_in_seconds_lengthens_the_wait_up_to_the_longest_backoff() {
        let (backoff, longest) = (Duration::from_secs(2), Duration::from_secs(3600));
        assert_eq!(retry_delay(backoff, None, longest), backoff);
        assert_eq!(retry_delay(backoff, Some("120"), longest), Duration::from_secs(120));
        assert_eq!(retry_delay(backoff, Some(" 1 "), longest), backoff, "never shorter than the backoff");
        assert_eq!(retry_delay(backoff, Some("86400"), longest), longest);
        assert_eq!(retry_delay(backoff, Some("Wed, 21 Oct 2026 07:28:00 GMT"), longest), backoff);
        assert_eq!(retry_delay(backoff, Some("-5"), longest), backoff);
    }
}
