//! Leases: which worker syncs each account now, until when, and the last schedule slot it was
//! synced in, so that replicas sharing a PostgreSQL store split the accounts between them.
//!
//! A replica takes one account at a time, when it has room for it, with a row lock that other
//! replicas skip (`FOR UPDATE SKIP LOCKED`, postgresql.org/docs/current/sql-select.html, "The
//! Locking Clause"), so no two replicas take the same account and none waits on another. The
//! lease lasts a time-to-live that the replica's heartbeat keeps extending while it lives; the
//! account's last write marks it done for the slot in the same transaction. A replica that
//! stops beating (SIGKILL, a lost node) loses its leases when they expire, and whichever replica
//! is still working on the slot takes them over. On SQLite one worker holds the store, so the
//! leases are its own bookkeeping and every account is its to take.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use anyhow::Result;

use super::sql::{Conn, Engine, params};
use super::{Location, Store, now_text};

/// A lease's default time-to-live: how long a stopped replica's accounts wait before another
/// takes them over (`sync.lease_ttl`).
pub const DEFAULT_LEASE_TTL: Duration = Duration::from_secs(60);

/// Milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> i64 {
    i64::try_from(time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

/// This process as a replica: its id, and (on PostgreSQL) the thread beating its heartbeat.
#[derive(Debug)]
pub(super) struct Replica {
    pub(super) id: String,
    ttl_ms: Arc<AtomicI64>,
    heartbeat: Option<(std::sync::mpsc::Sender<()>, std::thread::JoinHandle<()>)>,
}

/// A new replica id: 12 random hex digits.
fn new_replica_id() -> String {
    let mut bytes = [0_u8; 6];
    getrandom::fill(&mut bytes).unwrap_or_default();
    data_encoding::HEXLOWER.encode(&bytes)
}

impl Replica {
    /// This process, on a store opened for writing. On PostgreSQL it is registered and a thread
    /// beats its heartbeat (and extends its leases) every third of the lease time-to-live, on a
    /// connection of its own.
    pub(super) fn register(db: &Conn, location: &Location) -> Result<Replica> {
        let id = new_replica_id();
        let ttl_ms = Arc::new(AtomicI64::new(ttl_ms(DEFAULT_LEASE_TTL)));
        if db.engine() == Engine::Sqlite {
            // The store's lock proves that no other worker runs: leases left by a killed one are
            // free again.
            db.execute(
                "UPDATE leases SET holder = NULL, expires_ms = 0 WHERE holder IS NOT NULL",
                params![],
            )?;
            return Ok(Replica { id, ttl_ms, heartbeat: None });
        }
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|h| h.trim().to_owned())
            .unwrap_or_else(|_| "unknown".into());
        let now = now_ms();
        db.execute(
            "INSERT INTO replicas (id, host, pid, started_at, heartbeat_ms, lease_ttl_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![id, host, std::process::id(), now_text(), now, ttl_ms.load(Ordering::Relaxed)],
        )?;
        // Replicas gone for a day are forgotten.
        db.execute("DELETE FROM replicas WHERE heartbeat_ms < ?1", params![now - 86_400_000])?;
        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        let beat = {
            let (id, ttl_ms) = (id.clone(), Arc::clone(&ttl_ms));
            let db = super::pg::connect(match location {
                Location::Postgres(url) => url,
                Location::Sqlite(_) => unreachable!("a PostgreSQL connection has a PostgreSQL location"),
            })?;
            move || {
                let mut last = std::time::Instant::now();
                loop {
                    // Woken every 100 ms, so a shorter time-to-live set meanwhile (`run
                    // --lease-ttl`) is honoured from the next beat on.
                    match stopped.recv_timeout(Duration::from_millis(100)) {
                        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
                        _ => return,
                    }
                    let ttl = ttl_ms.load(Ordering::Relaxed);
                    let every = Duration::from_millis(u64::try_from(ttl / 3).unwrap_or(1_000).max(100));
                    if last.elapsed() < every {
                        continue;
                    }
                    last = std::time::Instant::now();
                    if let Err(e) = beat(&db, &id, ttl) {
                        tracing::warn!(error = %e, "the replica's heartbeat failed; its leases expire unless the next one succeeds");
                    }
                }
            }
        };
        let thread = std::thread::Builder::new().name("trustline-heartbeat".into()).spawn(beat)?;
        Ok(Replica { id, ttl_ms, heartbeat: Some((stop, thread)) })
    }

    /// The same replica for another handle of this process: its leases are beaten by this one's
    /// heartbeat.
    pub(super) fn share(&self) -> Replica {
        Replica { id: self.id.clone(), ttl_ms: Arc::clone(&self.ttl_ms), heartbeat: None }
    }

    /// Stops the heartbeat, gives back the leases still held, and (on PostgreSQL) unregisters.
    pub(super) fn close(&mut self, db: &Conn) {
        let Some((stop, thread)) = self.heartbeat.take() else { return };
        drop(stop);
        thread.join().ok();
        let released = db
            .execute("UPDATE leases SET holder = NULL, expires_ms = 0 WHERE holder = ?1", params![self.id])
            .and_then(|_| db.execute("DELETE FROM replicas WHERE id = ?1", params![self.id]));
        if let Err(e) = released {
            tracing::warn!(error = %e, "unregistering the replica failed; its leases expire on their own");
        }
    }
}

fn ttl_ms(ttl: Duration) -> i64 {
    i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX)
}

fn beat(db: &Conn, id: &str, ttl: i64) -> Result<()> {
    let now = now_ms();
    db.execute(
        "UPDATE replicas SET heartbeat_ms = ?2, lease_ttl_ms = ?3 WHERE id = ?1",
        params![id, now, ttl],
    )?;
    // Rows locked now are skipped, not waited for: this replica's writer completes several
    // accounts' leases in one transaction, in the order they finished, and a heartbeat waiting
    // on one of them while holding the others deadlocked with it (PostgreSQL aborted the
    // heartbeat; two in a row at a 3 s TTL, and a live replica's accounts were taken over). A
    // lease locked by the writer is being let go; one locked by another replica's claim has
    // expired already.
    let skip = if db.engine() == Engine::Postgres { "FOR UPDATE SKIP LOCKED" } else { "" };
    db.execute(
        &format!(
            "UPDATE leases SET expires_ms = ?2 WHERE holder = ?1
               AND connection_id IN (SELECT connection_id FROM leases WHERE holder = ?1 {skip})"
        ),
        params![id, now + ttl],
    )?;
    Ok(())
}

/// Marks `connection` synced in its lease's slot and lets the lease go, if `holder` still holds
/// it; in the transaction of the account's last write.
pub(super) fn complete(tx: &Conn, connection: &str, holder: &str) -> Result<()> {
    tx.prepare_cached(
        "UPDATE leases SET done_slot = slot, holder = NULL, expires_ms = 0 WHERE connection_id = ?1 AND holder = ?2",
    )?
    .execute(params![connection, holder])?;
    Ok(())
}

/// The lease state, as `trustline doctor` shows it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LeaseState {
    /// Replicas beating a heartbeat within twice their lease time-to-live.
    pub live_replicas: Vec<ReplicaRow>,
    /// Leases held by a live replica.
    pub held: u64,
    /// Leases whose holder stopped beating (taken over when a replica works on a slot).
    pub expired: u64,
    /// Leases taken over from a stopped replica, in all.
    pub takeovers: u64,
    /// Accounts by the last slot they were synced in, newest slots first (at most 5).
    pub slots: Vec<(String, u64)>,
}

/// A registered replica.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ReplicaRow {
    /// Its id.
    pub id: String,
    /// Its host.
    pub host: String,
    /// Its process id there.
    pub pid: u32,
    /// When it opened the store.
    pub started_at: String,
    /// Milliseconds since its last heartbeat.
    pub heartbeat_age_ms: i64,
}

impl Store {
    /// This process's replica id (the holder of the leases it takes).
    pub fn replica_id(&self) -> Option<&str> {
        self.replica.as_ref().map(|r| r.id.as_str())
    }

    /// Sets how long this replica's leases last without a heartbeat.
    pub fn set_lease_ttl(&self, ttl: Duration) -> Result<()> {
        let replica =
            self.replica.as_ref().ok_or_else(|| anyhow::anyhow!("the store is open for reading only"))?;
        replica.ttl_ms.store(ttl_ms(ttl), Ordering::Relaxed);
        if self.db.engine() == Engine::Postgres {
            beat(&self.db, &replica.id, ttl_ms(ttl))?;
        }
        Ok(())
    }

    /// The lease time-to-live this replica uses.
    pub fn lease_ttl(&self) -> Duration {
        self.replica.as_ref().map_or(DEFAULT_LEASE_TTL, |r| {
            Duration::from_millis(u64::try_from(r.ttl_ms.load(Ordering::Relaxed)).unwrap_or(60_000))
        })
    }

    /// Creates a lease for every connection that has none.
    pub fn ensure_leases(&self) -> Result<()> {
        self.db.execute(
            // `WHERE true`: SQLite's parser reads `ON` after a bare `FROM table` as a join
            // constraint (sqlite.org/lang_upsert.html, "Parsing Ambiguity").
            "INSERT INTO leases (connection_id) SELECT id FROM connections WHERE true ON CONFLICT DO NOTHING",
            params![],
        )?;
        Ok(())
    }

    /// Takes the lease of the next account not yet synced in `slot` and not held by a live
    /// replica: `exact` names the one account wanted; otherwise any, or with `only`, that
    /// connection and its Organization's members. `None`: there is none to take now.
    pub fn claim_next(&self, slot: &str, only: Option<&str>, exact: Option<&str>) -> Result<Option<String>> {
        let replica =
            self.replica.as_ref().ok_or_else(|| anyhow::anyhow!("the store is open for reading only"))?;
        let now = now_ms();
        let ttl = replica.ttl_ms.load(Ordering::Relaxed);
        // A lease is free when no one holds it, or its holder (another replica) stopped beating.
        // PostgreSQL skips the rows other replicas are taking at this moment; SQLite has one
        // writer, so there are none.
        let lock = match self.db.engine() {
            Engine::Postgres => "FOR UPDATE OF l SKIP LOCKED",
            Engine::Sqlite => "",
        };
        let sql = format!(
            "UPDATE leases SET holder = ?1, expires_ms = CAST(?2 AS BIGINT) + CAST(?3 AS BIGINT), slot = ?4,
                 takeovers = takeovers + CASE WHEN holder IS NULL THEN 0 ELSE 1 END
             WHERE connection_id = (
                 SELECT l.connection_id FROM leases l JOIN connections c ON c.id = l.connection_id
                 WHERE (l.done_slot IS NULL OR l.done_slot <> ?4)
                   AND (l.holder IS NULL OR (l.expires_ms < ?2 AND l.holder <> ?1))
                   AND (CAST(?5 AS TEXT) IS NULL OR c.id = ?5 OR c.parent_id = ?5)
                   AND (CAST(?6 AS TEXT) IS NULL OR c.id = ?6)
                 ORDER BY l.connection_id LIMIT 1 {lock})
             RETURNING connection_id"
        );
        let claimed = self.db.query_row(&sql, params![replica.id, now, ttl, slot, only, exact], |r| r.get(0));
        Ok(super::sql::OptionalExt::optional(claimed)?)
    }

    /// How many accounts (with `only`: that connection and its members) are not yet synced in
    /// `slot`.
    pub fn slot_pending(&self, slot: &str, only: Option<&str>) -> Result<u64> {
        Ok(self.db.query_row(
            "SELECT COUNT(*) FROM leases l JOIN connections c ON c.id = l.connection_id
             WHERE (l.done_slot IS NULL OR l.done_slot <> ?1)
               AND (CAST(?2 AS TEXT) IS NULL OR c.id = ?2 OR c.parent_id = ?2)",
            params![slot, only],
            |r| r.get(0),
        )?)
    }

    /// Marks the lease of `connection` done for its slot (an account settled without the
    /// sync's writer: an Organization whose discovery failed).
    pub fn complete_lease(&self, connection: &str) -> Result<()> {
        let Some(replica) = &self.replica else { return Ok(()) };
        complete(&self.db, connection, &replica.id)
    }

    /// Whether this replica may take one more account of `slot` now: it holds fewer than its
    /// share, the slot's accounts not yet done divided among the replicas syncing (rounded up).
    /// Without it the first replica to start would take every account of a large slot at once
    /// (a run keeps thousands of accounts in flight, waiting on their rate limits), and the
    /// others would find nothing left to take.
    pub fn has_room(&self, slot: &str, only: Option<&str>) -> Result<bool> {
        let holder = self.replica_id().unwrap_or_default();
        let (held, pending, syncing): (u64, u64, u64) = self.db.query_row(
            "SELECT
                 (SELECT COUNT(*) FROM leases WHERE holder = ?1),
                 (SELECT COUNT(*) FROM leases l JOIN connections c ON c.id = l.connection_id
                  WHERE (l.done_slot IS NULL OR l.done_slot <> ?2)
                    AND (CAST(?3 AS TEXT) IS NULL OR c.id = ?3 OR c.parent_id = ?3)),
                 (SELECT COUNT(DISTINCT r.replica_id) FROM runs r JOIN replicas p ON p.id = r.replica_id
                  WHERE r.status = 'running' AND p.heartbeat_ms + 2 * p.lease_ttl_ms >= ?4)",
            params![holder, slot, only, now_ms()],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?;
        Ok(held < pending.div_ceil(syncing.max(1)))
    }

    /// How many of those accounts other replicas hold, or are free again: what this replica
    /// still waits for once it has taken all it could (its own finish on their own).
    pub fn slot_waiting(&self, slot: &str, only: Option<&str>) -> Result<u64> {
        let holder = self.replica_id().unwrap_or_default();
        Ok(self.db.query_row(
            "SELECT COUNT(*) FROM leases l JOIN connections c ON c.id = l.connection_id
             WHERE (l.done_slot IS NULL OR l.done_slot <> ?1)
               AND (CAST(?2 AS TEXT) IS NULL OR c.id = ?2 OR c.parent_id = ?2)
               AND (l.holder IS NULL OR l.holder <> ?3)",
            params![slot, only, holder],
            |r| r.get(0),
        )?)
    }

    /// The lease state.
    pub fn lease_state(&self) -> Result<LeaseState> {
        let now = now_ms();
        let live_replicas = self
            .db
            .query_map(
                "SELECT id, host, pid, started_at, heartbeat_ms FROM replicas
                 WHERE heartbeat_ms + 2 * lease_ttl_ms >= ?1 ORDER BY started_at, id",
                params![now],
                |r| {
                    Ok(ReplicaRow {
                        id: r.get(0)?,
                        host: r.get(1)?,
                        pid: r.get(2)?,
                        started_at: r.get(3)?,
                        heartbeat_age_ms: now - r.get::<i64>(4)?,
                    })
                },
            )?
            .collect::<super::sql::Result<Vec<_>>>()?;
        let (held, expired, takeovers) = self.db.query_row(
            "SELECT COALESCE(CAST(SUM(CASE WHEN holder IS NOT NULL AND expires_ms >= ?1 THEN 1 ELSE 0 END) AS BIGINT), 0),
                    COALESCE(CAST(SUM(CASE WHEN holder IS NOT NULL AND expires_ms < ?1 THEN 1 ELSE 0 END) AS BIGINT), 0),
                    COALESCE(CAST(SUM(takeovers) AS BIGINT), 0)
             FROM leases",
            params![now],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?;
        let slots = self
            .db
            .query_map(
                "SELECT done_slot, COUNT(*) FROM leases WHERE done_slot IS NOT NULL
                 GROUP BY done_slot ORDER BY done_slot DESC LIMIT 5",
                params![],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?
            .collect::<super::sql::Result<Vec<_>>>()?;
        Ok(LeaseState { live_replicas, held, expired, takeovers, slots })
    }
}
