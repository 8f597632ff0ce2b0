//! The sync's writer: a second connection to the store, on its own thread, that applies what
//! the sync reads while the sync goes on reading.
//!
//! Each list commits as soon as it is read (an account's IAM, its access keys, one region's EC2
//! and network), and CloudTrail events commit page by page, several writes to a transaction, so
//! memory holds only what is in flight, not whole accounts. A region's CloudTrail cursor is
//! written after its last events: a crash re-reads the window, and events already stored are
//! dropped by their EventId.

use std::collections::HashMap;

use anyhow::{Context, Result};
use trustline_core::AccountId;

use super::inventory::{self, Scope};
use super::sql::{Conn, params};
use super::{AccountOutcome, Store, events, now_text, runs};
use crate::resource::{EventPage, Snapshot};

/// One write of a running sync.
#[derive(Debug)]
pub enum Write {
    /// Lists read for an account: within `scope`, what was not seen is removed if its list is in
    /// `snapshot.complete`, or marked stale if not (a list that failed).
    Part {
        /// The connection.
        connection: String,
        /// The (region, kind) lists this part answers for.
        scope: Scope,
        /// What was read.
        snapshot: Snapshot,
    },
    /// A page of CloudTrail events.
    Events {
        /// The connection.
        connection: String,
        /// A page of events, packed.
        page: EventPage,
    },
    /// A region's CloudTrail window was read to the end.
    Cursor {
        /// The connection.
        connection: String,
        /// The region.
        region: String,
        /// Read up to.
        read_to: time::OffsetDateTime,
    },
    /// The account ID the connection's credentials belong to.
    AccountId {
        /// The connection.
        connection: String,
        /// Its account.
        account: AccountId,
    },
    /// The connection's posture, re-verified by this sync (recorded as
    /// [`Store::record_posture`] records it: the one place a posture change is recorded).
    Posture {
        /// The connection.
        connection: String,
        /// What the checks found.
        report: crate::sync::posture::Report,
    },
    /// The account is done; `unread` lists what could not be read (empty: complete).
    Finish {
        /// The connection.
        connection: String,
        /// Lists not read, with why.
        unread: Vec<String>,
        /// Requests the account took.
        calls: u64,
        /// Its wall time.
        duration_ms: u64,
    },
    /// The account is not read this run (suspended, or no longer in its Organization): recorded
    /// as failed with `code`, its inventory kept as stale.
    Skip {
        /// The connection.
        connection: String,
        /// Why, as a code.
        code: &'static str,
        /// Why, as shown.
        message: &'static str,
    },
    /// The account could not be synced at all: its inventory is kept, marked stale.
    Fail {
        /// The connection.
        connection: String,
        /// AWS's error code, if any.
        code: Option<String>,
        /// What went wrong.
        message: String,
        /// Its wall time.
        duration_ms: u64,
    },
}

/// How an account's sync ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ending {
    /// Everything was read.
    Ok,
    /// Committed, but some lists could not be read.
    Partial(String),
    /// Not read this run (see [`Write::Skip`]).
    Skipped,
    /// Nothing could be read.
    Failed {
        /// AWS's error code, if any.
        code: Option<String>,
        /// What went wrong.
        message: String,
    },
}

/// An account the writer has finished.
#[derive(Debug, Clone)]
pub struct Finished {
    /// The connection.
    pub connection: String,
    /// What the run did to its inventory.
    pub outcome: AccountOutcome,
    /// How it ended.
    pub ending: Ending,
    /// Its posture, when this run re-verified it.
    pub posture: Option<crate::sync::posture::Posture>,
    /// The posture change this run recorded for it, if any.
    pub posture_change: Option<super::PostureChange>,
}

/// Writes at most this many items to one transaction.
const BATCH: usize = 64;

/// Applies a running sync's writes.
#[derive(Debug)]
pub struct Writer {
    db: Conn,
    run_id: i64,
    totals: HashMap<String, AccountOutcome>,
    /// Postures recorded for accounts not yet finished, with the change recorded if any.
    postures: HashMap<String, (crate::sync::posture::Posture, Option<super::PostureChange>)>,
    /// SQLite's log copier, stopped when the writer is dropped.
    #[allow(dead_code, reason = "held for its thread, stopped on drop")]
    checkpointer: Option<Checkpointer>,
    /// The replica whose leases this run's accounts are under: each account's last write marks
    /// its lease done.
    holder: Option<String>,
}

impl Store {
    /// A writer for run `run_id`, on its own connection to this store (the store's lock covers
    /// it). The store itself must not write while the writer runs.
    pub fn writer(&self, run_id: i64) -> Result<Writer> {
        let db = self.connect()?;
        tune(&db)?;
        let checkpointer = match db.as_sqlite() {
            Some(_) => Some(Checkpointer::start(self.connect()?)?),
            None => None,
        };
        Ok(Writer {
            db,
            checkpointer,
            run_id,
            totals: HashMap::new(),
            postures: HashMap::new(),
            holder: self.replica_id().map(str::to_owned),
        })
    }
}

/// Settings for bulk writing (see the ingest benchmark): an 8 MB page cache, enough for the
/// index pages that pages of events land on (one spot per connection and region, a few MB for
/// a thousand accounts in flight). Checkpoints
/// are the [`Checkpointer`]'s; the writer checkpoints itself only if the log reaches 1 GB
/// (256 Ki pages), when the checkpointer has fallen that far behind.
fn tune(db: &Conn) -> Result<()> {
    if let Some(db) = db.as_sqlite() {
        db.pragma_update(None, "cache_size", -8_192)?;
        db.pragma_update(None, "wal_autocheckpoint", 262_144)?;
    }
    Ok(())
}

/// Copies the write-ahead log back into the store on a thread and connection of its own, so the
/// writer never stops for it: a checkpoint reads the log, writes the store's pages and syncs
/// both, and SQLite runs one alongside a writer (a PASSIVE checkpoint takes no lock a writer
/// needs: sqlite.org/c3ref/wal_checkpoint_v2.html). The log starts over once a checkpoint has
/// copied all of it (sqlite.org/wal.html, "Checkpointing").
#[derive(Debug)]
struct Checkpointer {
    stop: std::sync::mpsc::Sender<()>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// How often the checkpointer looks at the log: a full-size sync adds about 100 MB a second.
/// Pages written again between two checkpoints are copied once: every second rather than
/// every 250 ms, the organization-scale benchmark's worker used 86.4 s of CPU instead of 90.0 s.
const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_millis(1000);

impl Checkpointer {
    fn start(db: Conn) -> Result<Checkpointer> {
        let (stop, stopped) = std::sync::mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("trustline-checkpoint".into())
            .spawn(move || {
                let Some(db) = db.as_sqlite() else { return };
                while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) =
                    stopped.recv_timeout(CHECKPOINT_EVERY)
                {
                    // Busy or failed: the next round tries again, and the writer's own
                    // checkpoint at 1 GB is the backstop.
                    if let Err(e) = db.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
                        tracing::debug!("checkpoint: {e}");
                    }
                }
            })
            .context("starting the store's checkpointer")?;
        Ok(Checkpointer { stop, thread: Some(thread) })
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.stop.send(()).ok();
        if let Some(thread) = self.thread.take() {
            thread.join().ok();
        }
    }
}

impl Writer {
    /// Applies `writes` in one transaction; returns the accounts they finished.
    pub fn apply(&mut self, writes: Vec<Write>) -> Result<Vec<Finished>> {
        let now = now_text();
        let tx = super::write_transaction(&mut self.db)?;
        if tx.engine() == super::sql::Engine::Postgres {
            // Asynchronous commit for the sync's own writes: a server crash may lose the last
            // few of them but never leaves the database inconsistent
            // (postgresql.org/docs/current/wal-async-commit.html), and what is lost is read
            // again, since each region's cursor, the account's lease and its webhook events
            // commit with the writes they follow. The API's writes stay synchronous.
            tx.execute_batch("SET LOCAL synchronous_commit = off")?;
        }
        let mut finished = Vec::new();
        for write in writes {
            match write {
                Write::Part { connection, scope, snapshot } => {
                    let totals = self.totals.entry(connection.clone()).or_default();
                    inventory::apply_part(
                        &tx,
                        self.run_id,
                        &connection,
                        Some(&scope),
                        &snapshot,
                        &now,
                        totals,
                    )?;
                }
                Write::Events { connection, page } => {
                    let new = events::insert_events(&tx, &connection, &page)?;
                    self.totals.entry(connection).or_default().events += new;
                }
                Write::Cursor { connection, region, read_to } => {
                    events::set_cursor(&tx, &connection, &region, read_to)?;
                }
                Write::Posture { connection, report } => {
                    let change = super::posture::record(&tx, &connection, Some(self.run_id), &report, &now)?;
                    self.postures.insert(connection, (report.posture, change));
                }
                Write::AccountId { connection, account } => {
                    tx.prepare_cached("UPDATE connections SET account_id = ?2 WHERE id = ?1")?
                        .execute(params![connection, account.to_string()])?;
                }
                Write::Finish { connection, unread, calls, duration_ms } => {
                    let mut outcome = self.totals.remove(&connection).unwrap_or_default();
                    let (status, ending) = if unread.is_empty() {
                        (runs::AccountStatus::Ok, Ending::Ok)
                    } else {
                        (runs::AccountStatus::Partial, Ending::Partial(unread.join("; ")))
                    };
                    let message = match &ending {
                        Ending::Partial(m) => Some(m.as_str()),
                        _ => None,
                    };
                    runs::record_account(
                        &tx,
                        self.run_id,
                        &connection,
                        status,
                        message,
                        &mut outcome,
                        calls,
                        duration_ms,
                    )?;
                    if let Some(holder) = &self.holder {
                        super::leases::complete(&tx, &connection, holder)?;
                    }
                    let (posture, posture_change) = self.postures.remove(&connection).unzip();
                    finished.push(Finished {
                        connection,
                        outcome,
                        ending,
                        posture,
                        posture_change: posture_change.flatten(),
                    });
                }
                Write::Skip { connection, code, message } => {
                    runs::record_failure(&tx, self.run_id, &connection, Some(code), message, 0)?;
                    if let Some(holder) = &self.holder {
                        super::leases::complete(&tx, &connection, holder)?;
                    }
                    finished.push(Finished {
                        connection,
                        outcome: AccountOutcome::default(),
                        ending: Ending::Skipped,
                        posture: None,
                        posture_change: None,
                    });
                }
                Write::Fail { connection, code, message, duration_ms } => {
                    let outcome = self.totals.remove(&connection).unwrap_or_default();
                    runs::record_failure(
                        &tx,
                        self.run_id,
                        &connection,
                        code.as_deref(),
                        &message,
                        duration_ms,
                    )?;
                    if let Some(holder) = &self.holder {
                        super::leases::complete(&tx, &connection, holder)?;
                    }
                    let (posture, posture_change) = self.postures.remove(&connection).unzip();
                    finished.push(Finished {
                        connection,
                        outcome,
                        ending: Ending::Failed { code, message },
                        posture,
                        posture_change: posture_change.flatten(),
                    });
                }
            }
        }
        tx.commit().context("committing the sync's writes")?;
        Ok(finished)
    }

    /// Applies writes from `rx` until every sender is gone, batching what has queued up into one
    /// transaction; reports finished accounts (or the error that stopped it) on `done`. Blocking:
    /// run it on its own thread.
    pub fn run(
        mut self,
        mut rx: tokio::sync::mpsc::Receiver<Write>,
        done: tokio::sync::mpsc::UnboundedSender<Result<Finished>>,
    ) {
        while let Some(first) = rx.blocking_recv() {
            let mut batch = vec![first];
            while batch.len() < BATCH {
                match rx.try_recv() {
                    Ok(w) => batch.push(w),
                    Err(_) => break,
                }
            }
            match self.apply(batch) {
                Ok(finished) => {
                    for f in finished {
                        if done.send(Ok(f)).is_err() {
                            return;
                        }
                    }
                }
                Err(e) => {
                    done.send(Err(e)).ok();
                    return;
                }
            }
        }
    }
}
