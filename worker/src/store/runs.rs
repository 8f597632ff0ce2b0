//! Sync runs and how each account's sync ended: begun, finished or interrupted, ok, partial or
//! failed, with totals; what the CLI and the API show as the last sync.

use anyhow::Result;
use rusqlite::{OptionalExtension, Transaction, params};
use serde::Serialize;
use serde_json::Value;

use super::{Store, now_text};

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
        self.db.execute("INSERT INTO runs (started_at, status) VALUES (?1, 'running')", [now_text()])?;
        Ok(self.db.last_insert_rowid())
    }

    /// Closes runs a killed worker left `running`, as `interrupted` at the time this notices,
    /// and returns their ids. Only a store opened for writing may: its lock proves that no other
    /// worker is running them.
    pub fn close_orphaned_runs(&mut self) -> Result<Vec<i64>> {
        if self.lock.is_none() {
            anyhow::bail!("only a worker holding the store's lock may close orphaned runs");
        }
        let ids: Vec<i64> = {
            let mut stmt = self.db.prepare("SELECT id FROM runs WHERE status = 'running' ORDER BY id")?;
            stmt.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?
        };
        self.db.execute(
            "UPDATE runs SET status = 'interrupted', finished_at = ?1 WHERE status = 'running'",
            [now_text()],
        )?;
        Ok(ids)
    }

    /// The latest run: id, status, start and end. A run still `running` in a store no worker
    /// holds (see [`Store::worker_running`]) was killed, and is reported as `interrupted`.
    pub fn last_run(&self) -> Result<Option<Value>> {
        let row = self
            .db
            .query_row(
                "SELECT id, status, started_at, finished_at FROM runs ORDER BY id DESC LIMIT 1",
                [],
                |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, Option<String>>(3)?,
                    ))
                },
            )
            .optional()?;
        let Some((id, mut status, started, finished)) = row else { return Ok(None) };
        if status == "running" && !self.worker_running()? {
            status = "interrupted".to_owned();
        }
        Ok(Some(
            serde_json::json!({ "id": id, "status": status, "started_at": started, "finished_at": finished }),
        ))
    }

    /// Closes a run (`ok`, `partial` when some accounts failed, `interrupted`).
    pub fn finish_run(&mut self, run_id: i64, status: &str) -> Result<()> {
        self.db.execute(
            "UPDATE runs SET finished_at = ?2, status = ?3 WHERE id = ?1",
            params![run_id, now_text(), status],
        )?;
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
        let tx = self.db.transaction()?;
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
    pub fn last_account_run(&self, connection: &str) -> Result<Option<Value>> {
        let mut stmt = self.db.prepare(
            "SELECT a.run_id, a.status, a.error_code, a.error_message, a.resources, a.added, a.changed, a.removed, a.calls, a.duration_ms, r.finished_at
             FROM account_runs a JOIN runs r ON r.id = a.run_id WHERE a.connection_id = ?1 ORDER BY a.run_id DESC LIMIT 1",
        )?;
        let mut rows = stmt.query_map([connection], |r| {
            Ok(serde_json::json!({
                "run_id": r.get::<_, i64>(0)?, "status": r.get::<_, String>(1)?, "error_code": r.get::<_, Option<String>>(2)?,
                "error": r.get::<_, Option<String>>(3)?, "resources": r.get::<_, i64>(4)?, "added": r.get::<_, i64>(5)?,
                "changed": r.get::<_, i64>(6)?, "removed": r.get::<_, i64>(7)?, "calls": r.get::<_, i64>(8)?,
                "duration_ms": r.get::<_, i64>(9)?, "finished_at": r.get::<_, Option<String>>(10)?,
            }))
        })?;
        Ok(rows.next().transpose()?)
    }

    /// The last run's per-account results: (connection, status, error message).
    pub fn last_run_accounts(&self) -> Result<Vec<(String, String, Option<String>)>> {
        let mut stmt = self.db.prepare(
            "SELECT connection_id, status, error_message FROM account_runs WHERE run_id = (SELECT MAX(id) FROM runs) ORDER BY connection_id",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

/// Records how an account's sync ended (`ok` or `partial`), with its totals; fills in
/// `outcome.resources`.
#[allow(clippy::too_many_arguments)]
pub(super) fn record_account(
    tx: &Transaction<'_>,
    run_id: i64,
    connection: &str,
    status: &str,
    message: Option<&str>,
    outcome: &mut AccountOutcome,
    calls: u64,
    duration_ms: u64,
) -> Result<()> {
    outcome.resources =
        tx.query_row("SELECT COUNT(*) FROM resources WHERE connection_id = ?1", [connection], |r| r.get(0))?;
    tx.execute(
        "INSERT OR REPLACE INTO account_runs (run_id, connection_id, status, error_message, resources, added, changed, removed, calls, duration_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![
            run_id,
            connection,
            status,
            message,
            outcome.resources,
            outcome.added,
            outcome.changed,
            outcome.removed,
            calls,
            duration_ms
        ],
    )?;
    Ok(())
}

/// Records a failed account: its inventory stays, marked stale, and the error is kept.
pub(super) fn record_failure(
    tx: &Transaction<'_>,
    run_id: i64,
    connection: &str,
    code: Option<&str>,
    message: &str,
    duration_ms: u64,
) -> Result<()> {
    tx.execute("UPDATE resources SET stale = 1 WHERE connection_id = ?1", [connection])?;
    tx.execute(
        "INSERT OR REPLACE INTO account_runs (run_id, connection_id, status, error_code, error_message, duration_ms)
         VALUES (?1, ?2, 'failed', ?3, ?4, ?5)",
        params![run_id, connection, code, message, duration_ms],
    )?;
    Ok(())
}
