//! The webhook outbox (see [`crate::webhooks`]): endpoints with their sealed secrets, messages
//! (one per event, with the exact body every attempt sends), and deliveries (one per endpoint
//! and message, with its attempts). Events are enqueued with the transaction of the change they
//! report; the delivery loop reads what is due and records each attempt in short transactions
//! of its own.

use std::time::Duration;

use anyhow::{Result, bail};
use serde::Serialize;
use serde_json::{Value, json};

use super::runs::RunStatus;
use super::sql::{self, Conn, OptionalExt, params};
use super::{Connection, Store, now_text, timestamp};
use crate::webhooks::{self, EventType};

/// Whether an endpoint is sent to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EndpointStatus {
    /// Deliveries are sent.
    Active,
    /// Failing for the whole retry window (or answered 410 Gone): nothing is sent, events are
    /// kept, until `trustline webhooks retry`.
    Disabled,
}

impl EndpointStatus {
    /// The stored and shown name.
    pub fn as_str(self) -> &'static str {
        match self {
            EndpointStatus::Active => "active",
            EndpointStatus::Disabled => "disabled",
        }
    }
}

/// A registered endpoint as listed: never its secret.
#[derive(Debug, Clone, Serialize)]
pub struct WebhookEndpoint {
    /// Its id (`ep_…`).
    pub id: String,
    /// Where events are POSTed.
    pub url: String,
    /// The tenant whose events it receives; `None`: every tenant's.
    pub tenant: Option<String>,
    /// The event types it receives; empty: all.
    pub events: Vec<String>,
    /// Active or disabled.
    pub status: EndpointStatus,
    /// Why it was disabled.
    pub disabled_reason: Option<String>,
    /// The last failed attempt's error, until an attempt succeeds.
    pub last_error: Option<String>,
    /// When an attempt last succeeded.
    pub last_success_at: Option<String>,
    /// Failed attempts since the last success.
    pub consecutive_failures: u64,
    /// Deliveries waiting to be sent (or retried).
    pub pending: u64,
    /// Deliveries given up after the retry window.
    pub failed: u64,
    /// Deliveries sent.
    pub delivered: u64,
    /// When it was added.
    pub created_at: String,
}

/// An endpoint to add; the caller seals its secret (bound to `id`).
#[derive(Debug, Clone)]
pub struct NewEndpoint {
    /// Its id, from [`webhooks::new_endpoint_id`].
    pub id: String,
    /// A URL [`webhooks::check_url`] accepted.
    pub url: String,
    /// Its tenant, or every tenant.
    pub tenant: Option<String>,
    /// Subscribed types (checked names); empty: all.
    pub events: Vec<String>,
    /// The sealed `whsec_` secret.
    pub sealed_secret: String,
}

/// A delivery due for an attempt, with what sending it needs.
#[derive(Debug, Clone)]
pub struct DueDelivery {
    /// The endpoint.
    pub endpoint_id: String,
    /// Its URL.
    pub url: String,
    /// Its sealed secret.
    pub sealed_secret: String,
    /// The message's row.
    pub message_seq: i64,
    /// The message's id: `webhook-id`.
    pub message_id: String,
    /// Its event type.
    pub event_type: String,
    /// The exact body to send.
    pub body: String,
    /// Attempts so far.
    pub attempts: u32,
    /// When the event was enqueued (Unix ms).
    pub created_ms: i64,
}

/// How one attempt went.
#[derive(Debug, Clone)]
pub struct AttemptResult {
    /// The endpoint.
    pub endpoint_id: String,
    /// The message's row.
    pub message_seq: i64,
    /// The HTTP status, when the receiver answered.
    pub status: Option<u16>,
    /// `None`: delivered (2xx). Otherwise what went wrong.
    pub error: Option<String>,
    /// When the attempt ended (Unix ms).
    pub at_ms: i64,
    /// If it failed, the wait before the next attempt.
    pub retry_in: Duration,
}

/// A connection's posture changed: the payload of `connection.posture_changed`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PostureChanged {
    /// The connection.
    pub connection_id: String,
    /// Its tenant.
    pub tenant: String,
    /// The posture before.
    pub from: String,
    /// The posture now.
    pub to: String,
    /// Findings behind the new posture.
    pub findings_count: u64,
}

/// Unix milliseconds now, as the outbox keeps times.
pub fn now_ms() -> i64 {
    i64::try_from(time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

fn ms_text(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!("{}.{:03}Z", timestamp(t).trim_end_matches('Z'), ms.rem_euclid(1000))
}

/// Writes an event to the outbox inside `tx`: a message with one delivery per endpoint that
/// wants it (disabled endpoints included: their events wait for `webhooks retry`). Returns the
/// message's id, or `None` when no endpoint wants the event (nothing is stored).
pub(crate) fn enqueue(
    tx: &Conn,
    event: EventType,
    tenant: Option<&str>,
    data: Value,
) -> Result<Option<String>> {
    let endpoints: Vec<String> = {
        let mut stmt = tx.prepare_cached("SELECT id, tenant_id, events FROM webhook_endpoints")?;
        let rows = stmt.query_map(params![], |r| {
            Ok((r.get::<String>(0)?, r.get::<Option<String>>(1)?, r.get::<String>(2)?))
        })?;
        let mut wanted = Vec::new();
        for row in rows {
            let (id, endpoint_tenant, events) = row?;
            let events: Vec<String> = serde_json::from_str(&events)?;
            if webhooks::wants(endpoint_tenant.as_deref(), &events, event, tenant) {
                wanted.push(id);
            }
        }
        wanted
    };
    if endpoints.is_empty() {
        return Ok(None);
    }
    insert_message(tx, event, tenant, data, &endpoints).map(Some)
}

fn insert_message(
    tx: &Conn,
    event: EventType,
    tenant: Option<&str>,
    data: Value,
    endpoints: &[String],
) -> Result<String> {
    let now = now_ms();
    let id = webhooks::new_message_id();
    let body = json!({ "type": event.as_str(), "timestamp": ms_text(now), "tenant": tenant, "data": data });
    let seq: i64 = tx.query_row(
        "INSERT INTO webhook_messages (id, event_type, tenant_id, payload, created_at, created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         RETURNING seq",
        params![id, event.as_str(), tenant, body.to_string(), ms_text(now), now],
        |r| r.get(0),
    )?;
    let mut insert = tx.prepare_cached(
        "INSERT INTO webhook_deliveries (endpoint_id, message_seq, next_attempt_ms) VALUES (?1, ?2, ?3)",
    )?;
    for endpoint in endpoints {
        insert.execute(params![endpoint, seq, now])?;
    }
    Ok(id)
}

/// Enqueues `connection.posture_changed` inside the transaction that records the new posture.
pub fn enqueue_posture_changed(tx: &Conn, change: &PostureChanged) -> Result<Option<String>> {
    enqueue(tx, EventType::ConnectionPostureChanged, Some(&change.tenant), serde_json::to_value(change)?)
}

/// Enqueues `connection.verified` for a connection registered after verification.
pub(super) fn enqueue_connection_verified(tx: &Conn, c: &Connection) -> Result<Option<String>> {
    let data = json!({
        "connection_id": c.id, "tenant": c.tenant, "name": c.name, "kind": c.access.kind(),
        "account_id": c.account_id.map(|a| a.to_string()), "role_arn": c.access.role_arn().map(ToString::to_string),
        "data_sets": c.data_sets, "regions": c.regions, "verified_at": now_text(),
    });
    enqueue(tx, EventType::ConnectionVerified, Some(&c.tenant), data)
}

/// One account's part of a run, as the run's events report it.
struct AccountRow {
    tenant: String,
    connection: String,
    status: String,
    error_code: Option<String>,
    error: Option<String>,
    /// Resources, added, changed, removed.
    counts: [i64; 4],
}

/// Enqueues, per tenant with accounts in run `run_id`, `sync.completed` (at least one of its
/// accounts was read, fully or in part) or `sync.failed` (none was), inside the transaction that
/// closes the run.
pub(super) fn enqueue_run_finished(tx: &Conn, run_id: i64, status: RunStatus) -> Result<()> {
    if !any_endpoint(tx)? {
        return Ok(());
    }
    let rows: Vec<AccountRow> = {
        let mut stmt = tx.prepare(
            "SELECT c.tenant_id, a.connection_id, a.status, a.error_code, a.error_message, a.resources, a.added, a.changed, a.removed
             FROM account_runs a JOIN connections c ON c.id = a.connection_id WHERE a.run_id = ?1
             ORDER BY c.tenant_id, a.connection_id",
        )?;
        stmt.query_map(params![run_id], |r| {
            Ok(AccountRow {
                tenant: r.get(0)?,
                connection: r.get(1)?,
                status: r.get(2)?,
                error_code: r.get(3)?,
                error: r.get(4)?,
                counts: [r.get(5)?, r.get(6)?, r.get(7)?, r.get(8)?],
            })
        })?
        .collect::<sql::Result<_>>()?
    };
    let mut tenants: std::collections::BTreeMap<&str, Vec<&AccountRow>> = std::collections::BTreeMap::new();
    for row in &rows {
        tenants.entry(row.tenant.as_str()).or_default().push(row);
    }
    for (tenant, accounts) in tenants {
        let count = |s: &str| accounts.iter().filter(|a| a.status == s).count();
        let (ok, partial, failed) = (count("ok"), count("partial"), count("failed"));
        let sum = |i: usize| accounts.iter().map(|a| a.counts[i]).sum::<i64>();
        let tenant_status = match status {
            RunStatus::Interrupted => "interrupted",
            _ if partial + failed == 0 => "ok",
            _ => "partial",
        };
        let failures: Vec<Value> = accounts
            .iter()
            .filter(|a| a.status != "ok")
            .take(100)
            .map(|a| {
                json!({ "connection_id": a.connection, "status": a.status, "error_code": a.error_code, "error": a.error })
            })
            .collect();
        let read = ok + partial > 0;
        let data = json!({
            "run_id": run_id,
            "status": if read { tenant_status } else { "failed" },
            "accounts": { "ok": ok, "partial": partial, "failed": failed },
            "resources": sum(0), "added": sum(1), "changed": sum(2), "removed": sum(3),
            "failures": failures,
        });
        let event = if read { EventType::SyncCompleted } else { EventType::SyncFailed };
        enqueue(tx, event, Some(tenant), data)?;
    }
    Ok(())
}

fn any_endpoint(tx: &Conn) -> Result<bool> {
    Ok(tx
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM webhook_endpoints)")?
        .query_row(params![], |r| r.get(0))?)
}

/// Enqueues `inventory.changed` for a connection whose account just finished, inside the
/// transaction that records it: the counts of every change in its history not yet reported
/// (parts a killed run committed included) and the cursor (the history's `seq`) they run to.
/// Nothing is written while no endpoint exists.
pub(super) fn enqueue_inventory_changed(tx: &Conn, run_id: i64, connection: &str) -> Result<()> {
    if !any_endpoint(tx)? {
        return Ok(());
    }
    let Some(tenant): Option<String> = tx
        .prepare_cached("SELECT tenant_id FROM connections WHERE id = ?1")?
        .query_row(params![connection], |r| r.get(0))
        .optional()?
    else {
        return Ok(());
    };
    let after: Option<i64> = tx
        .prepare_cached("SELECT seq FROM webhook_change_cursors WHERE connection_id = ?1")?
        .query_row(params![connection], |r| r.get(0))
        .optional()?;
    // Adding the first endpoint sets every connection's cursor to its latest change, so no
    // cursor means no change was recorded before: the whole history is new.
    let (added, changed, removed, to): (i64, i64, i64, Option<i64>) = tx
        .prepare_cached(
            "SELECT COALESCE(CAST(SUM(CASE WHEN change = 'added' THEN 1 ELSE 0 END) AS BIGINT), 0),
               COALESCE(CAST(SUM(CASE WHEN change = 'changed' THEN 1 ELSE 0 END) AS BIGINT), 0),
               COALESCE(CAST(SUM(CASE WHEN change = 'removed' THEN 1 ELSE 0 END) AS BIGINT), 0), MAX(seq)
             FROM changes WHERE connection_id = ?1 AND seq > ?2",
        )?
        .query_row(params![connection, after.unwrap_or(0)], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })?;
    let Some(to) = to else { return Ok(()) };
    let data = json!({
        "connection_id": connection, "run_id": run_id,
        "added": added, "changed": changed, "removed": removed,
        // The change feed's own cursors: `GET …/changes?connection=…&cursor=<previous_cursor>`
        // reads exactly these changes, up to `cursor`.
        "cursor": trustline_core::api::encode_cursor(&to),
        "previous_cursor": trustline_core::api::encode_cursor(&after.unwrap_or(0)),
    });
    enqueue(tx, EventType::InventoryChanged, Some(&tenant), data)?;
    tx.prepare_cached(
        "INSERT INTO webhook_change_cursors (connection_id, seq) VALUES (?1, ?2)
         ON CONFLICT (connection_id) DO UPDATE SET seq = excluded.seq",
    )?
    .execute(params![connection, to])?;
    Ok(())
}

const ENDPOINT_COLUMNS: &str = "e.id, e.url, e.tenant_id, e.events, e.status, e.disabled_reason, e.last_error, e.last_success_at, e.consecutive_failures, e.created_at,
    (SELECT COUNT(*) FROM webhook_deliveries d WHERE d.endpoint_id = e.id AND d.status = 'pending'),
    (SELECT COUNT(*) FROM webhook_deliveries d WHERE d.endpoint_id = e.id AND d.status = 'failed'),
    (SELECT COUNT(*) FROM webhook_deliveries d WHERE d.endpoint_id = e.id AND d.status = 'delivered')";

fn endpoint_from_row(r: &sql::Row<'_>) -> sql::Result<Result<WebhookEndpoint>> {
    let events: String = r.get(3)?;
    let status: String = r.get(4)?;
    let endpoint = |events: Vec<String>| WebhookEndpoint {
        id: String::new(),
        url: String::new(),
        tenant: None,
        events,
        status: if status == "disabled" { EndpointStatus::Disabled } else { EndpointStatus::Active },
        disabled_reason: None,
        last_error: None,
        last_success_at: None,
        consecutive_failures: 0,
        pending: 0,
        failed: 0,
        delivered: 0,
        created_at: String::new(),
    };
    let mut e = match serde_json::from_str(&events) {
        Ok(events) => endpoint(events),
        Err(err) => return Ok(Err(err.into())),
    };
    e.id = r.get(0)?;
    e.url = r.get(1)?;
    e.tenant = r.get(2)?;
    e.disabled_reason = r.get(5)?;
    e.last_error = r.get(6)?;
    e.last_success_at = r.get(7)?;
    e.consecutive_failures = r.get(8)?;
    e.created_at = r.get(9)?;
    e.pending = r.get(10)?;
    e.failed = r.get(11)?;
    e.delivered = r.get(12)?;
    Ok(Ok(e))
}

impl Store {
    /// Adds an endpoint. Its tenant, if any, must exist.
    pub fn add_webhook_endpoint(&mut self, e: &NewEndpoint) -> Result<()> {
        if !crate::seal::is_sealed(&e.sealed_secret) {
            bail!("refusing to store a webhook secret that is not sealed");
        }
        if let Some(tenant) = &e.tenant
            && self.tenant(tenant)?.is_none()
        {
            bail!("no tenant '{tenant}': see `trustline tenants list`");
        }
        let tx = super::write_transaction(&mut self.db)?;
        // The first endpoint: inventory.changed reports changes from now on, not the history.
        if !any_endpoint(&tx)? {
            tx.execute(
                "INSERT INTO webhook_change_cursors (connection_id, seq) SELECT connection_id, MAX(seq) FROM changes GROUP BY connection_id
                 ON CONFLICT (connection_id) DO UPDATE SET seq = excluded.seq",
                params![],
            )?;
        }
        tx.execute(
            "INSERT INTO webhook_endpoints (id, url, tenant_id, events, secret, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![e.id, e.url, e.tenant, serde_json::to_string(&e.events)?, e.sealed_secret, now_text()],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Every endpoint, oldest first, with its delivery counts.
    pub fn webhook_endpoints(&self) -> Result<Vec<WebhookEndpoint>> {
        let mut stmt = self.db.prepare(&format!(
            "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints e ORDER BY e.created_at, e.id"
        ))?;
        let rows = stmt.query_map(params![], endpoint_from_row)?;
        rows.map(|r| r?).collect()
    }

    /// One endpoint.
    pub fn webhook_endpoint(&self, id: &str) -> Result<Option<WebhookEndpoint>> {
        let row = self
            .db
            .query_row(
                &format!("SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints e WHERE e.id = ?1"),
                params![id],
                endpoint_from_row,
            )
            .optional()?;
        row.transpose()
    }

    /// Removes an endpoint and its deliveries, and the messages no other endpoint still has.
    pub fn remove_webhook_endpoint(&mut self, id: &str) -> Result<bool> {
        let tx = super::write_transaction(&mut self.db)?;
        tx.execute("DELETE FROM webhook_deliveries WHERE endpoint_id = ?1", params![id])?;
        let removed = tx.execute("DELETE FROM webhook_endpoints WHERE id = ?1", params![id])?;
        tx.execute(
            "DELETE FROM webhook_messages WHERE NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.message_seq = seq)",
            params![],
        )?;
        tx.commit()?;
        Ok(removed > 0)
    }

    /// Re-enables an endpoint and queues its failed deliveries again, each with a fresh retry
    /// window; returns how many failed ones were queued, or `None` if there is no such endpoint.
    pub fn retry_webhook_endpoint(&mut self, id: &str) -> Result<Option<usize>> {
        let tx = super::write_transaction(&mut self.db)?;
        let found = tx.execute(
            "UPDATE webhook_endpoints SET status = 'active', disabled_reason = NULL, consecutive_failures = 0, failing_since_ms = NULL WHERE id = ?1",
            params![id],
        )?;
        if found == 0 {
            return Ok(None);
        }
        let requeued = tx.execute(
            "UPDATE webhook_deliveries SET status = 'pending', attempts = 0, next_attempt_ms = ?2, retry_until_ms = NULL
             WHERE endpoint_id = ?1 AND status = 'failed'",
            params![id, now_ms()],
        )?;
        // Deliveries held while it was disabled go now too, with a fresh window.
        tx.execute(
            "UPDATE webhook_deliveries SET next_attempt_ms = CASE WHEN next_attempt_ms < ?2 THEN next_attempt_ms ELSE ?2 END,
               retry_until_ms = NULL
             WHERE endpoint_id = ?1 AND status = 'pending'",
            params![id, now_ms()],
        )?;
        tx.commit()?;
        Ok(Some(requeued))
    }

    /// Enqueues a `webhook.test` event for one endpoint (whatever its filter); returns its id.
    pub fn enqueue_webhook_test(&mut self, endpoint: &WebhookEndpoint) -> Result<String> {
        let tx = super::write_transaction(&mut self.db)?;
        let data =
            json!({ "endpoint_id": endpoint.id, "message": "a test event from `trustline webhooks test`" });
        let id = insert_message(
            &tx,
            EventType::Test,
            endpoint.tenant.as_deref(),
            data,
            std::slice::from_ref(&endpoint.id),
        )?;
        tx.commit()?;
        Ok(id)
    }

    /// Deliveries due at `now_ms` to active endpoints, the longest-waiting first.
    pub fn due_webhook_deliveries(&self, now_ms: i64, limit: usize) -> Result<Vec<DueDelivery>> {
        self.deliveries_where(
            "d.status = 'pending' AND d.next_attempt_ms <= ?1 AND e.status = 'active' ORDER BY d.next_attempt_ms, m.seq LIMIT ?2",
            params![now_ms, limit],
        )
    }

    /// One message's delivery to one endpoint, whatever its state (`webhooks test`).
    pub fn webhook_delivery(&self, endpoint: &str, message_id: &str) -> Result<Option<DueDelivery>> {
        Ok(self.deliveries_where("d.endpoint_id = ?1 AND m.id = ?2", params![endpoint, message_id])?.pop())
    }

    fn deliveries_where(&self, condition: &str, params: sql::Params<'_>) -> Result<Vec<DueDelivery>> {
        let mut stmt = self.db.prepare_cached(&format!(
            "SELECT d.endpoint_id, e.url, e.secret, m.seq, m.id, m.event_type, m.payload, d.attempts, m.created_ms
             FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id JOIN webhook_messages m ON m.seq = d.message_seq
             WHERE {condition}"
        ))?;
        let rows = stmt.query_map(params, |r| {
            Ok(DueDelivery {
                endpoint_id: r.get(0)?,
                url: r.get(1)?,
                sealed_secret: r.get(2)?,
                message_seq: r.get(3)?,
                message_id: r.get(4)?,
                event_type: r.get(5)?,
                body: r.get(6)?,
                attempts: r.get(7)?,
                created_ms: r.get(8)?,
            })
        })?;
        Ok(rows.collect::<sql::Result<_>>()?)
    }

    /// Records attempts in one transaction: a 2xx delivers; a failure schedules the next attempt,
    /// or marks the delivery failed once it has been failing for `window`. An endpoint that
    /// answered 410 Gone, or whose every attempt has failed for `window`, is disabled. Returns the
    /// endpoints this disabled, with why.
    pub fn record_webhook_attempts(
        &mut self,
        results: &[AttemptResult],
        window: Duration,
    ) -> Result<Vec<(String, String)>> {
        let window_ms = i64::try_from(window.as_millis()).unwrap_or(i64::MAX);
        let tx = super::write_transaction(&mut self.db)?;
        let mut disabled = Vec::new();
        for a in results {
            let at = ms_text(a.at_ms);
            match &a.error {
                None => {
                    tx.execute(
                        "UPDATE webhook_deliveries SET status = 'delivered', attempts = attempts + 1, last_status = ?3, last_error = NULL, delivered_at = ?4
                         WHERE endpoint_id = ?1 AND message_seq = ?2",
                        params![a.endpoint_id, a.message_seq, a.status, at],
                    )?;
                    tx.execute(
                        "UPDATE webhook_endpoints SET consecutive_failures = 0, failing_since_ms = NULL, last_error = NULL, last_success_at = ?2 WHERE id = ?1",
                        params![a.endpoint_id, at],
                    )?;
                }
                Some(error) => {
                    let next =
                        a.at_ms.saturating_add(i64::try_from(a.retry_in.as_millis()).unwrap_or(i64::MAX));
                    tx.execute(
                        "UPDATE webhook_deliveries SET attempts = attempts + 1, last_status = ?3, last_error = ?4, next_attempt_ms = ?5,
                           retry_until_ms = COALESCE(retry_until_ms, CAST(?6 AS BIGINT) + CAST(?7 AS BIGINT)),
                           status = CASE WHEN ?6 >= COALESCE(retry_until_ms, CAST(?6 AS BIGINT) + CAST(?7 AS BIGINT))
                             THEN 'failed' ELSE 'pending' END
                         WHERE endpoint_id = ?1 AND message_seq = ?2 AND status = 'pending'",
                        params![a.endpoint_id, a.message_seq, a.status, error, next, a.at_ms, window_ms],
                    )?;
                    tx.execute(
                        "UPDATE webhook_endpoints SET consecutive_failures = consecutive_failures + 1,
                           failing_since_ms = COALESCE(failing_since_ms, ?2), last_error = ?3 WHERE id = ?1",
                        params![a.endpoint_id, a.at_ms, error],
                    )?;
                    let since: Option<Option<i64>> = tx
                        .query_row(
                            "SELECT failing_since_ms FROM webhook_endpoints WHERE id = ?1 AND status = 'active'",
                            params![a.endpoint_id],
                            |r| r.get(0),
                        )
                        .optional()?;
                    let reason = match since {
                        None => None,
                        Some(_) if a.status == Some(410) => {
                            Some("the endpoint answered 410 Gone: it no longer accepts webhooks".to_owned())
                        }
                        Some(Some(since)) if a.at_ms - since >= window_ms => Some(format!(
                            "every attempt failed for {} s (webhooks.retry_window); last error: {error}",
                            window_ms / 1000
                        )),
                        Some(_) => None,
                    };
                    if let Some(reason) = reason {
                        tx.execute(
                            "UPDATE webhook_endpoints SET status = 'disabled', disabled_reason = ?2 WHERE id = ?1",
                            params![a.endpoint_id, reason],
                        )?;
                        disabled.push((a.endpoint_id.clone(), reason));
                    }
                }
            }
        }
        tx.commit()?;
        Ok(disabled)
    }

    /// Deletes what was delivered (or given up) before `before_ms`, and messages left with no
    /// delivery; returns how many deliveries went.
    pub fn prune_webhooks(&mut self, before_ms: i64) -> Result<usize> {
        let tx = super::write_transaction(&mut self.db)?;
        let pruned = tx.execute(
            "DELETE FROM webhook_deliveries WHERE status IN ('delivered', 'failed')
               AND message_seq IN (SELECT seq FROM webhook_messages WHERE created_ms < ?1)",
            params![before_ms],
        )?;
        tx.execute(
            "DELETE FROM webhook_messages WHERE created_ms < ?1 AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.message_seq = seq)",
            params![before_ms],
        )?;
        tx.commit()?;
        Ok(pruned)
    }

    /// Every endpoint's sealed secret, as (endpoint id, sealed text).
    pub fn webhook_sealed_secrets(&self) -> Result<Vec<(String, String)>> {
        let mut stmt = self.db.prepare("SELECT id, secret FROM webhook_endpoints ORDER BY id")?;
        let rows = stmt.query_map(params![], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<sql::Result<_>>()?)
    }
}

/// Replaces endpoints' sealed secrets inside `tx` (key rotation).
pub(super) fn set_sealed_secrets(tx: &Conn, secrets: &[(String, String)]) -> Result<()> {
    for (id, sealed) in secrets {
        if !crate::seal::is_sealed(sealed) {
            bail!("webhook endpoint {id}: refusing to store a secret that is not sealed");
        }
        if tx.execute("UPDATE webhook_endpoints SET secret = ?2 WHERE id = ?1", params![id, sealed])? != 1 {
            bail!("webhook endpoint {id} is gone; nothing was re-sealed");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (Store, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join("t.db")).unwrap();
        (store, dir)
    }

    fn endpoint(store: &mut Store, tenant: Option<&str>, events: &[&str]) -> String {
        let id = webhooks::new_endpoint_id();
        let key = crate::seal::SealKey::from_base64(&data_encoding::BASE64.encode(&[7; 32])).unwrap();
        let sealed = key.seal(&trustline_core::Secret::new("whsec_x"), &id).unwrap();
        store
            .add_webhook_endpoint(&NewEndpoint {
                id: id.clone(),
                url: "http://127.0.0.1:9/".into(),
                tenant: tenant.map(str::to_owned),
                events: events.iter().map(|e| (*e).to_owned()).collect(),
                sealed_secret: sealed,
            })
            .unwrap();
        id
    }

    fn bodies(store: &Store, endpoint: &str) -> Vec<Value> {
        let mut stmt = store
            .db
            .prepare("SELECT m.payload FROM webhook_deliveries d JOIN webhook_messages m ON m.seq = d.message_seq WHERE d.endpoint_id = ?1 ORDER BY m.seq")
            .unwrap();
        stmt.query_map(params![endpoint], |r| r.get::<String>(0))
            .unwrap()
            .map(|b| serde_json::from_str(&b.unwrap()).unwrap())
            .collect()
    }

    #[test]
    fn posture_changes_are_enqueued_in_the_callers_transaction() {
        let (mut store, _dir) = store();
        store.add_tenant("acme", "Acme", 10).unwrap();
        store.add_tenant("other", "Other", 10).unwrap();
        let global = endpoint(&mut store, None, &[]);
        let acme = endpoint(&mut store, Some("acme"), &["connection.posture_changed"]);
        let other = endpoint(&mut store, Some("other"), &[]);
        let syncs_only = endpoint(&mut store, None, &["sync.completed"]);
        let change = PostureChanged {
            connection_id: "c-1".into(),
            tenant: "acme".into(),
            from: "verified".into(),
            to: "unsafe".into(),
            findings_count: 2,
        };
        // A transaction that rolls back leaves no event.
        {
            let tx = store.db.transaction().unwrap();
            assert!(enqueue_posture_changed(&tx, &change).unwrap().is_some());
        }
        assert!(bodies(&store, &global).is_empty(), "rolled back with its transaction");
        let tx = store.db.transaction().unwrap();
        let id = enqueue_posture_changed(&tx, &change).unwrap().unwrap();
        tx.commit().unwrap();
        for wanted in [&global, &acme] {
            let got = bodies(&store, wanted);
            assert_eq!(got.len(), 1, "{wanted}");
            assert_eq!(got[0]["type"], "connection.posture_changed");
            assert_eq!(got[0]["tenant"], "acme");
            assert_eq!(
                got[0]["data"],
                json!({"connection_id": "c-1", "tenant": "acme", "from": "verified", "to": "unsafe", "findings_count": 2})
            );
        }
        assert!(bodies(&store, &other).is_empty(), "another tenant's endpoint");
        assert!(bodies(&store, &syncs_only).is_empty(), "an endpoint for other types");
        let due = store.due_webhook_deliveries(now_ms() + 1, 10).unwrap();
        assert_eq!(due.len(), 2);
        assert!(due.iter().all(|d| d.message_id == id));
    }

    fn connection(id: &str, tenant: &str) -> Connection {
        Connection {
            id: id.to_owned(),
            tenant: tenant.to_owned(),
            name: id.to_owned(),
            access: crate::store::Access::SameAccountRole,
            account_id: None,
            data_sets: [trustline_core::policy::permissions::DataSet::Iam].into(),
            regions: Vec::new(),
            status: crate::store::ConnectionStatus::Active,
            parent: None,
        }
    }

    fn users(names: &[&str]) -> crate::resource::Snapshot {
        let mut s = crate::resource::Snapshot::default();
        let users = names
            .iter()
            .map(|n| crate::resource::Resource {
                region: crate::resource::GLOBAL.into(),
                kind: crate::resource::ResourceKind::IamUser,
                id: (*n).into(),
                name: Some((*n).into()),
                arn: None,
                tags: Default::default(),
                attributes: json!({}),
            })
            .collect();
        s.add_complete(crate::resource::GLOBAL, crate::resource::ResourceKind::IamUser, users);
        s
    }

    #[test]
    fn runs_report_per_tenant_and_inventory_changes_run_from_a_cursor() {
        let (mut store, _dir) = store();
        store.add_tenant("acme", "Acme", 10).unwrap();
        store.add_tenant("other", "Other", 10).unwrap();
        store.add_connection(&connection("a1", "acme")).unwrap();
        store.add_connection(&connection("o1", "other")).unwrap();
        // Before any endpoint exists nothing is stored.
        let run = store.begin_run().unwrap();
        store.commit_account(run, "a1", &users(&["early"]), 1).unwrap();
        store.finish_run(run, RunStatus::Ok).unwrap();
        let messages = |store: &Store| -> i64 {
            store.db.query_row("SELECT COUNT(*) FROM webhook_messages", params![], |r| r.get(0)).unwrap()
        };
        assert_eq!(messages(&store), 0);

        let global = endpoint(&mut store, None, &[]);
        let run = store.begin_run().unwrap();
        store.commit_account(run, "a1", &users(&["early", "alice", "bob"]), 1).unwrap();
        store.fail_account(run, "o1", Some("AccessDenied"), "the role was deleted", 1).unwrap();
        store.finish_run(run, RunStatus::Partial).unwrap();
        let got = bodies(&store, &global);
        let kinds: Vec<(&str, &str)> =
            got.iter().map(|b| (b["type"].as_str().unwrap(), b["tenant"].as_str().unwrap())).collect();
        assert_eq!(
            kinds,
            [("inventory.changed", "acme"), ("sync.completed", "acme"), ("sync.failed", "other")]
        );
        // The first report covers what changed since the first endpoint was added: alice and bob.
        assert_eq!(
            (&got[0]["data"]["added"], &got[0]["data"]["previous_cursor"]),
            (&json!(2), &json!(trustline_core::api::encode_cursor(&1)))
        );
        assert_eq!(got[1]["data"]["status"], "ok");
        assert_eq!(got[1]["data"]["accounts"], json!({"ok": 1, "partial": 0, "failed": 0}));
        assert_eq!(got[2]["data"]["status"], "failed");
        assert_eq!(
            got[2]["data"]["failures"],
            json!([{"connection_id": "o1", "status": "failed", "error_code": "AccessDenied", "error": "the role was deleted"}])
        );

        // The next report runs from the cursor; an interrupted run says so; no change, no event.
        let run = store.begin_run().unwrap();
        store.commit_account(run, "a1", &users(&["early", "alice", "carol"]), 1).unwrap();
        store.commit_account(run, "o1", &users(&[]), 1).unwrap();
        store.finish_run(run, RunStatus::Interrupted).unwrap();
        let got = bodies(&store, &global);
        assert_eq!(got.len(), 6, "{got:?}");
        let data = &got[3]["data"];
        assert_eq!((&data["added"], &data["removed"], &data["changed"]), (&json!(1), &json!(1), &json!(0)));
        assert_eq!(data["previous_cursor"], got[0]["data"]["cursor"]);
        assert_eq!(
            (&got[4]["type"], &got[4]["data"]["status"]),
            (&json!("sync.completed"), &json!("interrupted"))
        );
        assert_eq!((&got[5]["type"], &got[5]["tenant"]), (&json!("sync.completed"), &json!("other")));
    }

    #[test]
    fn failures_back_off_then_fail_and_disable_and_retry_requeues() {
        let (mut store, _dir) = store();
        let ep = endpoint(&mut store, None, &[]);
        let tx = store.db.transaction().unwrap();
        enqueue(&tx, EventType::SyncCompleted, Some("default"), json!({})).unwrap().unwrap();
        tx.commit().unwrap();
        let seq = store.due_webhook_deliveries(now_ms() + 1, 10).unwrap()[0].message_seq;
        let window = Duration::from_secs(60);
        let fail = |at_ms: i64| AttemptResult {
            endpoint_id: ep.clone(),
            message_seq: seq,
            status: Some(503),
            error: Some("HTTP 503".into()),
            at_ms,
            retry_in: Duration::from_secs(5),
        };
        let t0 = now_ms();
        assert!(store.record_webhook_attempts(&[fail(t0)], window).unwrap().is_empty());
        assert!(store.due_webhook_deliveries(t0 + 4_999, 10).unwrap().is_empty(), "waits its backoff");
        assert_eq!(store.due_webhook_deliveries(t0 + 5_000, 10).unwrap()[0].attempts, 1);
        let shown = store.webhook_endpoint(&ep).unwrap().unwrap();
        assert_eq!(
            (shown.last_error.as_deref(), shown.pending, shown.consecutive_failures),
            (Some("HTTP 503"), 1, 1)
        );
        // A whole window of failures: the delivery fails and the endpoint is disabled.
        let disabled = store.record_webhook_attempts(&[fail(t0 + 60_000)], window).unwrap();
        assert_eq!(disabled.len(), 1);
        assert!(disabled[0].1.contains("every attempt failed for 60 s"), "{disabled:?}");
        let shown = store.webhook_endpoint(&ep).unwrap().unwrap();
        assert_eq!((shown.status, shown.pending, shown.failed), (EndpointStatus::Disabled, 0, 1));
        // Events for a disabled endpoint are kept, not sent.
        let tx = store.db.transaction().unwrap();
        enqueue(&tx, EventType::SyncFailed, Some("default"), json!({})).unwrap().unwrap();
        tx.commit().unwrap();
        assert!(store.due_webhook_deliveries(now_ms() + 1, 10).unwrap().is_empty());
        // Retry: active again, the failed one and the held one both due now.
        assert_eq!(store.retry_webhook_endpoint(&ep).unwrap(), Some(1));
        assert_eq!(store.due_webhook_deliveries(now_ms() + 1, 10).unwrap().len(), 2);
        assert_eq!(store.retry_webhook_endpoint("ep_none").unwrap(), None);
        // A 2xx delivers and clears the endpoint's error.
        let ok = AttemptResult { status: Some(204), error: None, ..fail(now_ms()) };
        store.record_webhook_attempts(&[ok], window).unwrap();
        let shown = store.webhook_endpoint(&ep).unwrap().unwrap();
        assert_eq!(
            (shown.status, shown.delivered, shown.pending, shown.last_error),
            (EndpointStatus::Active, 1, 1, None)
        );
        // 410 Gone disables at once.
        let seq2 = store.due_webhook_deliveries(now_ms() + 1, 10).unwrap()[0].message_seq;
        let gone = AttemptResult { status: Some(410), message_seq: seq2, ..fail(now_ms()) };
        assert!(store.record_webhook_attempts(&[gone], window).unwrap()[0].1.contains("410 Gone"));
        assert!(store.remove_webhook_endpoint(&ep).unwrap());
        let left: i64 =
            store.db.query_row("SELECT COUNT(*) FROM webhook_messages", params![], |r| r.get(0)).unwrap();
        assert_eq!(left, 0, "messages go with their last endpoint");
    }
}
