//! Sync runs and how each account's sync ended: begun, finished or interrupted, ok, partial or
//! failed, with totals; what the CLI and the API show as the last sync.

use super::sql::{Conn, FromValue, OptionalExt, Value, params};
use anyhow::Result;
use serde::Serialize;

use super::{Store, now_text};

/// How a sync run ended, or that it is still going.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RunStatus {
    /// Still going (or killed, until the next worker notices: see [`Store::close_orphaned_runs`]).
    Running,
    /// Every account was read.
    Ok,
    /// Some accounts failed or were read in part.
    Partial,
    /// Stopped (SIGTERM, Ctrl-C) or killed before it finished.
    Interrupted,
}

/// How one account's sync ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AccountStatus {
    /// Every list read.
    Ok,
    /// Committed, but some lists could not be read (kept as stale).
    Partial,
    /// Not reached: all of its inventory kept as stale.
    Failed,
}

macro_rules! text_enum {
    ($ty:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        impl $ty {
            /// The stored and shown name.
            pub fn as_str(self) -> &'static str {
                match self { $($ty::$variant => $text),+ }
            }
        }
        impl FromValue for $ty {
            fn from_value(value: Value) -> std::result::Result<Self, String> {
                match String::from_value(value)?.as_str() {
                    $($text => Ok($ty::$variant),)+
                    other => Err(format!("unknown status {other:?}")),
                }
            }
        }
    };
}
text_enum!(RunStatus { Running = "running", Ok = "ok", Partial = "partial", Interrupted = "interrupted" });
text_enum!(AccountStatus { Ok = "ok", Partial = "partial", Failed = "failed" });

/// A sync run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Run {
    /// Its id.
    pub id: i64,
    /// How it ended.
    pub status: RunStatus,
    /// When it started (RFC 3339).
    pub started_at: String,
    /// When it ended, if it did.
    pub finished_at: Option<String>,
}

/// One account's part of a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccountRun {
    /// The run.
    pub run_id: i64,
    /// How the account's sync ended.
    pub status: AccountStatus,
    /// AWS's error code, for a failure AWS answered.
    pub error_code: Option<String>,
    /// What went wrong (failed) or what could not be read (partial).
    pub error: Option<String>,
    /// Resources current after it.
    pub resources: i64,
    /// Resources added by it.
    pub added: i64,
    /// Resources changed by it.
    pub changed: i64,
    /// Resources removed by it.
    pub removed: i64,
    /// AWS calls made (retries not counted).
    pub calls: i64,
    /// How long the account took.
    pub duration_ms: i64,
    /// When the run finished, if it has.
    pub finished_at: Option<String>,
}

/// One account's result in the last run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccountResult {
    /// The connection.
    pub connection: String,
    /// How it ended.
    pub status: AccountStatus,
    /// Why, when it did not end well.
    pub error: Option<String>,
}

/// What an account's sync did to its inventory.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AccountOutcome {
    /// Resources now current.
    pub resources: u64,
    /// New since the last run.
    pub added: u64,
    /// Different since the last run.
    pub changed: u64,
    /// Gone since the last run.
    pub removed: u64,
    /// CloudTrail events stored (new ones only).
    pub events: u64,
}

impl Store {
    /// Starts a sync run and returns its id.
    pub fn begin_run(&mut self) -> Result<i64> {
        Ok(self.db.query_row(
            "INSERT INTO runs (started_at, status, replica_id) VALUES (?1, 'running', ?2) RETURNING id",
            params![now_text(), self.replica_id()],
            |r| r.get(0),
        )?)
    }

    /// Closes runs a killed worker left `running`, as `interrupted` at the time this notices,
    /// and returns their ids. Only a store opened for writing may: its lock proves that no other
    /// worker is running them.
    pub fn close_orphaned_runs(&mut self) -> Result<Vec<i64>> {
        if self.lock.is_none() {
            anyhow::bail!("only a worker holding the store's lock may close orphaned runs");
        }
        // SQLite: the lock is this worker's, so every run still `running` was left by a killed
        // one. PostgreSQL: a run is orphaned when its replica stopped beating its heartbeat.
        let now = now_text();
        let ids = match self.db.engine() {
            super::sql::Engine::Sqlite => self.db.query_map(
                "UPDATE runs SET status = 'interrupted', finished_at = ?1 WHERE status = 'running' RETURNING id",
                params![now],
                |r| r.get(0),
            )?,
            super::sql::Engine::Postgres => self.db.query_map(
                "UPDATE runs SET status = 'interrupted', finished_at = ?1
                 WHERE status = 'running' AND (replica_id IS NULL OR replica_id NOT IN (
                     SELECT id FROM replicas WHERE heartbeat_ms + 2 * lease_ttl_ms >= ?2))
                 RETURNING id",
                params![now, super::leases::now_ms()],
                |r| r.get(0),
            )?,
        }
        .collect::<super::sql::Result<Vec<i64>>>()?;
        let mut ids = ids;
        ids.sort_unstable();
        Ok(ids)
    }

    /// The latest run: id, status, start and end. A run still `running` in a store no worker
    /// holds (see [`Store::worker_running`]) was killed, and is reported as `interrupted`.
    pub fn last_run(&self) -> Result<Option<Run>> {
        let row = self
            .db
            .query_row(
                "SELECT id, status, started_at, finished_at FROM runs ORDER BY id DESC LIMIT 1",
                params![],
                |r| {
                    Ok(Run {
                        id: r.get(0)?,
                        status: r.get(1)?,
                        started_at: r.get(2)?,
                        finished_at: r.get(3)?,
                    })
                },
            )
            .optional()?;
        let Some(mut run) = row else { return Ok(None) };
        if run.status == RunStatus::Running && !self.worker_running()? {
            run.status = RunStatus::Interrupted;
        }
        Ok(Some(run))
    }

    /// Forgets a run that took no account (a replica that found its slot already synced by the
    /// others): it would only crowd the run list.
    pub fn discard_run(&mut self, run_id: i64) -> Result<()> {
        self.db.execute(
            "DELETE FROM runs WHERE id = ?1 AND NOT EXISTS (SELECT 1 FROM account_runs WHERE run_id = ?1)",
            params![run_id],
        )?;
        Ok(())
    }

    /// Closes a run, and enqueues its `sync.completed` or `sync.failed` webhook events in the
    /// same transaction.
    pub fn finish_run(&mut self, run_id: i64, status: RunStatus) -> Result<()> {
        let tx = super::write_transaction(&mut self.db)?;
        tx.execute(
            "UPDATE runs SET finished_at = ?2, status = ?3 WHERE id = ?1",
            params![run_id, now_text(), status.as_str()],
        )?;
        super::webhooks::enqueue_run_finished(&tx, run_id, status)?;
        tx.commit()?;
        Ok(())
    }

    /// Records a failed account: its inventory stays, marked stale, and the error is kept.
    pub fn fail_account(
        &mut self,
        run_id: i64,
        connection: &str,
        code: Option<&str>,
        message: &str,
        duration_ms: u64,
    ) -> Result<()> {
        let tx = super::write_transaction(&mut self.db)?;
        record_failure(&tx, run_id, connection, code, message, duration_ms)?;
        tx.commit()?;
        Ok(())
    }

    /// Marks an account's run as partial: committed, but some lists could not be read.
    pub fn mark_partial(&mut self, run_id: i64, connection: &str, message: &str) -> Result<()> {
        self.db.execute(
            "UPDATE account_runs SET status = 'partial', error_message = ?3 WHERE run_id = ?1 AND connection_id = ?2",
            params![run_id, connection, message],
        )?;
        Ok(())
    }

    /// A connection's latest sync: status, error, counts and when its run finished.
    pub fn last_account_run(&self, connection: &str) -> Result<Option<AccountRun>> {
        Ok(self
            .db
            .query_row(
                "SELECT a.run_id, a.status, a.error_code, a.error_message, a.resources, a.added, a.changed, a.removed, a.calls, a.duration_ms, r.finished_at
                 FROM account_runs a JOIN runs r ON r.id = a.run_id WHERE a.connection_id = ?1 ORDER BY a.run_id DESC LIMIT 1",
                params![connection],
                |r| {
                    Ok(AccountRun {
                        run_id: r.get(0)?,
                        status: r.get(1)?,
                        error_code: r.get(2)?,
                        error: r.get(3)?,
                        resources: r.get(4)?,
                        added: r.get(5)?,
                        changed: r.get(6)?,
                        removed: r.get(7)?,
                        calls: r.get(8)?,
                        duration_ms: r.get(9)?,
                        finished_at: r.get(10)?,
                    })
                },
            )
            .optional()?)
    }

    /// Up to `limit` runs before run `before` (all when `None`), newest first, that synced one of
    /// `tenant`'s connections, each with that tenant's accounts only.
    pub fn tenant_runs(
        &self,
        tenant: &str,
        before: Option<i64>,
        limit: usize,
    ) -> Result<Vec<trustline_core::api::RunSummary>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let mut runs = self.db.prepare_cached(
            "SELECT id, status, started_at, finished_at FROM runs
             WHERE (CAST(?1 AS BIGINT) IS NULL OR id < ?1) AND EXISTS (
                 SELECT 1 FROM account_runs a JOIN connections c ON c.id = a.connection_id
                 WHERE a.run_id = runs.id AND c.tenant_id = ?2)
             ORDER BY id DESC LIMIT ?3",
        )?;
        let mut accounts = self.db.prepare_cached(
            "SELECT a.connection_id, a.status, a.resources, a.added, a.changed, a.removed, a.error_message
             FROM account_runs a JOIN connections c ON c.id = a.connection_id
             WHERE a.run_id = ?1 AND c.tenant_id = ?2 ORDER BY a.connection_id",
        )?;
        let rows = runs.query_map(params![before, tenant, limit], |r| {
            Ok(trustline_core::api::RunSummary {
                id: r.get(0)?,
                status: r.get(1)?,
                started_at: r.get(2)?,
                finished_at: r.get(3)?,
                accounts: Vec::new(),
            })
        })?;
        let mut out = rows.collect::<super::sql::Result<Vec<_>>>()?;
        for run in &mut out {
            let rows = accounts.query_map(params![run.id, tenant], |r| {
                Ok(trustline_core::api::RunAccount {
                    connection: r.get(0)?,
                    status: r.get(1)?,
                    resources: r.get(2)?,
                    added: r.get(3)?,
                    changed: r.get(4)?,
                    removed: r.get(5)?,
                    error: r.get(6)?,
                })
            })?;
            run.accounts = rows.collect::<super::sql::Result<_>>()?;
        }
        Ok(out)
    }

    /// The last run's per-account results.
    pub fn last_run_accounts(&self) -> Result<Vec<AccountResult>> {
        let mut stmt = self.db.prepare(
            "SELECT connection_id, status, error_message FROM account_runs WHERE run_id = (SELECT MAX(id) FROM runs) ORDER BY connection_id",
        )?;
        let rows = stmt.query_map(params![], |r| {
            Ok(AccountResult { connection: r.get(0)?, status: r.get(1)?, error: r.get(2)? })
        })?;
        Ok(rows.collect::<super::sql::Result<_>>()?)
    }
}

/// Records how an account's sync ended (`ok` or `partial`), with its totals; fills in
/// `outcome.resources`; and enqueues the account's `inventory.changed` webhook event.
#[allow(clippy::too_many_arguments)]
pub(super) fn record_account(
    tx: &Conn,
    run_id: i64,
    connection: &str,
    status: AccountStatus,
    message: Option<&str>,
    outcome: &mut AccountOutcome,
    calls: u64,
    duration_ms: u64,
) -> Result<()> {
    outcome.resources =
        tx.query_row("SELECT COUNT(*) FROM resources WHERE connection_id = ?1", params![connection], |r| {
            r.get(0)
        })?;
    tx.execute(
        "INSERT INTO account_runs (run_id, connection_id, status, error_message, resources, added, changed, removed, calls, duration_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
         ON CONFLICT (run_id, connection_id) DO UPDATE SET status = excluded.status, error_code = NULL,
             error_message = excluded.error_message, resources = excluded.resources, added = excluded.added,
             changed = excluded.changed, removed = excluded.removed, calls = excluded.calls, duration_ms = excluded.duration_ms",
        params![
            run_id,
            connection,
            status.as_str(),
            message,
            outcome.resources,
            outcome.added,
            outcome.changed,
            outcome.removed,
            calls,
            duration_ms
        ],
    )?;
    super::webhooks::enqueue_inventory_changed(tx, run_id, connection)?;
    Ok(())
}

/// Records a failed account: its inventory stays, marked stale, and the error is kept.
pub(super) fn record_failure(
    tx: &Conn,
    run_id: i64,
    connection: &str,
    code: Option<&str>,
    message: &str,
    duration_ms: u64,
) -> Result<()> {
    tx.execute("UPDATE resources SET stale = 1 WHERE connection_id = ?1", params![connection])?;
    tx.execute(
        "INSERT INTO account_runs (run_id, connection_id, status, error_code, error_message, duration_ms)
         VALUES (?1, ?2, 'failed', ?3, ?4, ?5)
         ON CONFLICT (run_id, connection_id) DO UPDATE SET status = 'failed', error_code = excluded.error_code,
             error_message = excluded.error_message, resources = 0, added = 0, changed = 0, removed = 0, calls = 0,
             duration_ms = excluded.duration_ms",
        params![run_id, connection, code, message, duration_ms],
    )?;
    Ok(())
}
