//! The embedded store (SQLite): connections, the current inventory with first/last seen, the
//! change history per run, CloudTrail events and cursors, and sync runs.
//!
//! One worker writes at a time: the store takes an exclusive lock on `<db>.lock` when opened
//! for writing, and a second worker is refused with a message naming the holder's file. A sync
//! commits each list as it is read, in its own transaction (see [`Writer`]), so a crash leaves
//! every list either fully before or fully after its sync, and the next run completes the rest.

mod check;
mod connections;
mod events;
mod files;
mod inventory;
mod leases;
mod location;
mod pg;
mod posture;
mod runs;
mod secrets;
pub mod sql;
mod tenants;
mod webhooks;
mod writer;

use std::fs::File;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use rusqlite::Connection as Db;
use sql::{Conn, Engine, params};

pub use leases::{DEFAULT_LEASE_TTL, LeaseState, ReplicaRow};
pub use location::{Location, PgUrl};

pub use connections::{
    Access, AddRefused, Connection, ConnectionStatus, CustomerKey, Member, MemberChanges, OrgSettings,
    SecretRef, TrustedRole, new_connection_id,
};
pub use events::Event;
pub use inventory::{ChangeRecord, InventoryFilter, Scope, StoredResource};
pub use posture::{PostureChange, PostureHistory, PostureRow};
pub use runs::{AccountOutcome, AccountResult, AccountRun, AccountStatus, Run, RunStatus};
pub use tenants::{DEFAULT_TENANT, IssuedExternalId, SESSION_PREFIX, Session, Tenant};
pub use webhooks::{
    AttemptResult, DueDelivery, EndpointStatus, NewEndpoint, PostureChanged, WebhookEndpoint,
    enqueue_posture_changed, now_ms as webhook_now_ms,
};
pub use writer::{Ending, Finished, Write, Writer};

/// Schema migrations, applied in order; `PRAGMA user_version` records how many ran.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE connections (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    account_id TEXT,
    role_arn TEXT,
    external_id TEXT,
    access_key_id TEXT,
    secret_ref TEXT,
    data_sets TEXT NOT NULL,
    regions TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'active',
    created_at TEXT NOT NULL
);
CREATE TABLE runs (
    id INTEGER PRIMARY KEY,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    status TEXT NOT NULL
);
CREATE TABLE account_runs (
    run_id INTEGER NOT NULL REFERENCES runs(id),
    connection_id TEXT NOT NULL,
    status TEXT NOT NULL,
    error_code TEXT,
    error_message TEXT,
    resources INTEGER NOT NULL DEFAULT 0,
    added INTEGER NOT NULL DEFAULT 0,
    changed INTEGER NOT NULL DEFAULT 0,
    removed INTEGER NOT NULL DEFAULT 0,
    calls INTEGER NOT NULL DEFAULT 0,
    duration_ms INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (run_id, connection_id)
);
CREATE TABLE resources (
    connection_id TEXT NOT NULL,
    region TEXT NOT NULL,
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    name TEXT,
    arn TEXT,
    tags TEXT NOT NULL,
    attributes TEXT NOT NULL,
    first_seen TEXT NOT NULL,
    last_seen TEXT NOT NULL,
    stale INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (connection_id, region, kind, id)
);
CREATE INDEX resources_by_kind ON resources(kind);
CREATE TABLE changes (
    seq INTEGER PRIMARY KEY,
    run_id INTEGER NOT NULL,
    connection_id TEXT NOT NULL,
    region TEXT NOT NULL,
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    change TEXT NOT NULL,
    fields TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX changes_by_time ON changes(at);
CREATE TABLE events (
    event_id TEXT PRIMARY KEY,
    connection_id TEXT NOT NULL,
    region TEXT NOT NULL,
    event_time TEXT NOT NULL,
    event_name TEXT NOT NULL,
    event_source TEXT,
    username TEXT,
    raw TEXT NOT NULL
);
CREATE TABLE cursors (
    connection_id TEXT NOT NULL,
    region TEXT NOT NULL,
    last_event_time TEXT NOT NULL,
    PRIMARY KEY (connection_id, region)
);
"#,
    r#"
-- Organizations (migration 2): an organization connection discovers its member accounts;
-- discovered members point back at it.
ALTER TABLE connections ADD COLUMN org TEXT;
ALTER TABLE connections ADD COLUMN parent_id TEXT;
CREATE INDEX connections_by_parent ON connections(parent_id);
"#,
    r#"
-- Events (migration 3): unique by (connection, region, time, EventId) rather than by EventId
-- alone. Storing a page of events then touches a few neighbouring index pages instead of one
-- random page per event: at millions of events that was the sync's bottleneck (bench/org-scale).
CREATE TABLE events_v3 (
    event_id TEXT NOT NULL,
    connection_id TEXT NOT NULL,
    region TEXT NOT NULL,
    event_time TEXT NOT NULL,
    event_name TEXT NOT NULL,
    event_source TEXT,
    username TEXT,
    raw TEXT NOT NULL,
    UNIQUE (connection_id, region, event_time, event_id)
);
INSERT INTO events_v3 (event_id, connection_id, region, event_time, event_name, event_source, username, raw)
    SELECT event_id, connection_id, region, event_time, event_name, event_source, username, raw FROM events;
DROP TABLE events;
ALTER TABLE events_v3 RENAME TO events;
"#,
    r#"
-- Tenants (migration 4): the vendor's customers are the API's boundary. Every connection belongs
-- to one; connections from before tenants existed move into `default`.
CREATE TABLE tenants (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    max_connections INTEGER NOT NULL DEFAULT 100,
    created_at TEXT NOT NULL
);
INSERT INTO tenants (id, name, created_at) VALUES ('default', 'default', strftime('%Y-%m-%dT%H:%M:%SZ', 'now'));
ALTER TABLE connections ADD COLUMN tenant_id TEXT NOT NULL DEFAULT 'default';
ALTER TABLE connections ADD COLUMN next_external_id TEXT;
CREATE INDEX connections_by_tenant ON connections(tenant_id);
-- ExternalIds are issued by the worker, one tenant each: unique across the store by the key.
CREATE TABLE external_ids (
    value TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    issued_at TEXT NOT NULL,
    expires_at TEXT,
    retired_at TEXT
);
CREATE INDEX external_ids_by_tenant ON external_ids(tenant_id, issued_at);
INSERT INTO external_ids (value, tenant_id, issued_at)
    SELECT external_id, 'default', MIN(created_at) FROM connections
    WHERE external_id IS NOT NULL GROUP BY external_id;
-- One customer per role: a role is connected once, by one tenant.
CREATE UNIQUE INDEX connections_by_role ON connections(role_arn) WHERE role_arn IS NOT NULL;
CREATE INDEX connections_by_account ON connections(account_id);
-- One customer per account: a database constraint, so no code path can skip it.
CREATE TRIGGER connections_one_tenant_per_account_insert BEFORE INSERT ON connections
WHEN NEW.account_id IS NOT NULL AND EXISTS (
    SELECT 1 FROM connections WHERE account_id = NEW.account_id AND tenant_id <> NEW.tenant_id)
BEGIN SELECT RAISE(ABORT, 'account connected by another tenant'); END;
CREATE TRIGGER connections_one_tenant_per_account_update BEFORE UPDATE OF account_id, tenant_id ON connections
WHEN NEW.account_id IS NOT NULL AND EXISTS (
    SELECT 1 FROM connections WHERE account_id = NEW.account_id AND tenant_id <> NEW.tenant_id AND id <> NEW.id)
BEGIN SELECT RAISE(ABORT, 'account connected by another tenant'); END;
-- Browser sessions, by the SHA-256 of their token.
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
"#,
    r#"
-- Webhooks (migration 5): a transactional outbox. An event is written as a message, with one
-- delivery per endpoint that wants it, in the same transaction as the change it reports; the
-- delivery loop sends pending deliveries and records each attempt.
CREATE TABLE webhook_endpoints (
    id TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    -- NULL: every tenant's events.
    tenant_id TEXT REFERENCES tenants(id) ON DELETE CASCADE,
    -- A JSON array of event types; empty: every type.
    events TEXT NOT NULL,
    -- Sealed like customer secrets (see seal.rs), bound to the endpoint's id.
    secret TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'active',
    disabled_reason TEXT,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    failing_since_ms INTEGER,
    last_error TEXT,
    last_success_at TEXT,
    created_at TEXT NOT NULL
);
CREATE TABLE webhook_messages (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    event_type TEXT NOT NULL,
    tenant_id TEXT,
    -- The exact body sent (and signed) on every attempt.
    payload TEXT NOT NULL,
    created_at TEXT NOT NULL,
    created_ms INTEGER NOT NULL
);
CREATE TABLE webhook_deliveries (
    endpoint_id TEXT NOT NULL REFERENCES webhook_endpoints(id) ON DELETE CASCADE,
    message_seq INTEGER NOT NULL REFERENCES webhook_messages(seq) ON DELETE CASCADE,
    -- pending, delivered or failed.
    status TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_ms INTEGER NOT NULL,
    -- Set at the first failure: the attempt's time plus webhooks.retry_window.
    retry_until_ms INTEGER,
    last_status INTEGER,
    last_error TEXT,
    delivered_at TEXT,
    PRIMARY KEY (endpoint_id, message_seq)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries(status, next_attempt_ms);
-- How far each connection's change history has been reported in inventory.changed events.
CREATE TABLE webhook_change_cursors (
    connection_id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL
);
CREATE INDEX changes_by_connection ON changes(connection_id, seq);
"#,
    r#"
-- Posture (migration 6): each connection's current posture, re-verified on every sync, with
-- when it was last checked; and a row per change only, so history stays compact.
CREATE TABLE postures (
    connection_id TEXT PRIMARY KEY,
    posture TEXT NOT NULL,
    findings TEXT NOT NULL,
    changed_at TEXT NOT NULL,
    last_checked_at TEXT NOT NULL,
    run_id INTEGER
);
CREATE TABLE posture_history (
    seq INTEGER PRIMARY KEY,
    connection_id TEXT NOT NULL,
    previous TEXT,
    posture TEXT NOT NULL,
    findings TEXT NOT NULL,
    run_id INTEGER,
    at TEXT NOT NULL
);
CREATE INDEX posture_history_by_connection ON posture_history(connection_id, seq);
"#,
    r#"
-- Leases (migration 7): which worker syncs each account now, until when, and the last schedule
-- slot it was synced in. One SQLite worker holds the store at a time, so its leases are only
-- its own bookkeeping; PostgreSQL stores share them between replicas.
CREATE TABLE leases (
    connection_id TEXT PRIMARY KEY,
    holder TEXT,
    expires_ms INTEGER NOT NULL DEFAULT 0,
    slot TEXT,
    done_slot TEXT,
    takeovers INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX leases_by_holder ON leases(holder);
CREATE TABLE replicas (
    id TEXT PRIMARY KEY,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    started_at TEXT NOT NULL,
    heartbeat_ms INTEGER NOT NULL,
    lease_ttl_ms INTEGER NOT NULL
);
ALTER TABLE runs ADD COLUMN replica_id TEXT;
"#,
    r#"
-- Event pages (migration 8): a page of CloudTrail events keeps its full records together, as
-- one zstd frame; each event row keeps its summary and where its record is. Events stored
-- before keep their record in `raw`. Rows keep their rowid: it is each event's position in the
-- API's event feed. No foreign key from a row to its page: the writer inserts both in one
-- transaction, and a key check would cost a lookup per event.
CREATE TABLE event_pages (
    id INTEGER PRIMARY KEY,
    connection_id TEXT NOT NULL,
    region TEXT NOT NULL,
    records BLOB NOT NULL
);
CREATE TABLE events_v8 (
    event_id TEXT NOT NULL,
    connection_id TEXT NOT NULL,
    region TEXT NOT NULL,
    event_time TEXT NOT NULL,
    event_name TEXT NOT NULL,
    event_source TEXT,
    username TEXT,
    raw TEXT,
    page_id INTEGER,
    page_index INTEGER,
    UNIQUE (connection_id, region, event_time, event_id),
    CHECK ((raw IS NULL) = (page_id IS NOT NULL))
);
INSERT INTO events_v8 (rowid, event_id, connection_id, region, event_time, event_name, event_source, username, raw)
    SELECT rowid, event_id, connection_id, region, event_time, event_name, event_source, username, raw FROM events;
DROP TABLE events;
ALTER TABLE events_v8 RENAME TO events;
"#,
];

/// An open store.
#[derive(Debug)]
pub struct Store {
    db: Conn,
    location: Location,
    /// Held for the store's lifetime when opened for writing: SQLite's lock file, locked
    /// exclusively (the operating system releases it when the file is closed or the process
    /// dies). PostgreSQL stores take none: any number of replicas write, and split the accounts
    /// by leases.
    lock: Option<WriterLock>,
    /// This process as a replica, when opened for writing (see [`leases`]).
    replica: Option<leases::Replica>,
}

#[derive(Debug)]
enum WriterLock {
    File(#[allow(dead_code, reason = "held for its lock, released on drop")] File),
    Replicas,
}
/// The advisory lock key held while migrating a PostgreSQL store, so replicas starting together
/// migrate once.
const PG_MIGRATE_KEY: i64 = 0x7472_7573_746d_6967;

impl Store {
    /// Opens (creating if needed) the store for writing, refusing if another worker holds it.
    pub fn open(location: impl Into<Location>) -> Result<Store> {
        match location.into() {
            Location::Sqlite(path) => Store::open_sqlite(&path),
            Location::Postgres(url) => Store::open_postgres(&url),
        }
    }

    fn open_sqlite(path: &Path) -> Result<Store> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("creating the store's folder {}", dir.display()))?;
        }
        let lock_path = lock_path(path);
        let lock = files::open_lock(&lock_path)?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(e)
                    .with_context(|| format!("locking the store's lock file {}", lock_path.display()));
            }
            Err(std::fs::TryLockError::WouldBlock) => bail!(
                "another trustline worker is using the store {} (lock {}); stop it first, or point this one at another store with --store",
                path.display(),
                lock_path.display()
            ),
        }
        // Checked while holding the lock, before SQLite writes anything (WAL mode, migrations).
        check::check_file(path, true)?;
        let mut store = Store {
            db: Conn::sqlite(open_db(path)?),
            location: Location::Sqlite(path.to_owned()),
            lock: Some(WriterLock::File(lock)),
            replica: None,
        };
        store.migrate()?;
        store.replica = Some(leases::Replica::register(&store.db, &store.location)?);
        store.close_orphans()?;
        Ok(store)
    }

    /// A PostgreSQL store is shared: this process registers as one more replica.
    fn open_postgres(url: &PgUrl) -> Result<Store> {
        let location = Location::Postgres(url.clone());
        let db = pg::connect(url)?;
        let replica = leases::Replica::register(&db, &location)?;
        let mut store = Store { db, location, lock: Some(WriterLock::Replicas), replica: Some(replica) };
        store.close_orphans()?;
        Ok(store)
    }

    /// Closes the runs a killed worker (SIGKILL, OOM, power loss) left `running`: on SQLite the
    /// lock is ours, so no other worker runs any; on PostgreSQL, those whose replica stopped
    /// beating its heartbeat.
    fn close_orphans(&mut self) -> Result<()> {
        let orphaned = self.close_orphaned_runs()?;
        if !orphaned.is_empty() {
            tracing::warn!(runs = ?orphaned, "closed runs a stopped worker left running, as interrupted");
        }
        Ok(())
    }

    /// Opens an existing store for reading only (inventory queries while a worker runs), after
    /// checking that a SQLite file is a sound Trustline store.
    pub fn open_read_only(location: impl Into<Location>) -> Result<Store> {
        Store::open_reader(&location.into(), true)
    }

    /// [`Store::open_read_only`] with the header checks alone, for a server answering many
    /// requests: it checked every page when it opened the store for writing at start.
    pub fn open_read_only_unchecked_pages(location: impl Into<Location>) -> Result<Store> {
        Store::open_reader(&location.into(), false)
    }

    fn open_reader(location: &Location, quick_check: bool) -> Result<Store> {
        let path = match location {
            Location::Sqlite(path) => path,
            Location::Postgres(url) => {
                return Ok(Store {
                    db: pg::connect(url)?,
                    location: location.clone(),
                    lock: None,
                    replica: None,
                });
            }
        };
        if !path.exists() {
            bail!(
                "no store at {}: run `trustline accounts add` or `trustline sync` first, or pass --store",
                path.display()
            );
        }
        check::check_file(path, quick_check)?;
        let db = Db::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .with_context(|| format!("opening the store {}", path.display()))?;
        db.busy_timeout(std::time::Duration::from_secs(10))?;
        Ok(Store { db: Conn::sqlite(db), location: location.clone(), lock: None, replica: None })
    }

    /// Another handle on this store for the same process (a triggered sync beside the API's
    /// writes). The process already holds the store's lock; SQLite serialises the handles' write
    /// transactions, each of which is short (one list, one page of events).
    pub fn sibling(&self) -> Result<Store> {
        Ok(Store {
            db: self.connect()?,
            location: self.location.clone(),
            lock: None,
            replica: self.replica.as_ref().map(leases::Replica::share),
        })
    }

    /// A new connection to this store.
    fn connect(&self) -> Result<Conn> {
        match &self.location {
            Location::Sqlite(path) => Ok(Conn::sqlite(open_db(path)?)),
            Location::Postgres(url) => pg::connect(url),
        }
    }

    /// Whether a worker holds the store's lock: this handle, or another process (a reader
    /// probes the lock without waiting, and lets go at once).
    pub fn worker_running(&self) -> Result<bool> {
        if self.lock.is_some() {
            return Ok(true);
        }
        match &self.location {
            Location::Sqlite(path) => {
                // No lock file: no worker has ever opened this store for writing.
                let Ok(file) = File::open(lock_path(path)) else { return Ok(false) };
                // A shared lock is refused only while a worker holds the exclusive one; it is let
                // go when `file` closes.
                Ok(matches!(file.try_lock_shared(), Err(std::fs::TryLockError::WouldBlock)))
            }
            // A replica beating its heartbeat.
            Location::Postgres(_) => Ok(self.db.exists(
                "SELECT 1 FROM replicas WHERE heartbeat_ms + 2 * lease_ttl_ms >= ?1",
                params![leases::now_ms()],
            )?),
        }
    }

    /// Where the store lives.
    pub fn location(&self) -> &Location {
        &self.location
    }

    /// Its engine.
    pub fn engine(&self) -> Engine {
        self.db.engine()
    }

    /// The schema version: migrations applied, and how many this build knows.
    pub fn schema_version(&self) -> Result<(usize, usize)> {
        match self.db.engine() {
            Engine::Sqlite => {
                let version: usize = self.db.query_row("PRAGMA user_version", params![], |r| r.get(0))?;
                Ok((version, MIGRATIONS.len()))
            }
            Engine::Postgres => pg::schema_version(&self.db),
        }
    }

    fn migrate(&mut self) -> Result<()> {
        let Location::Sqlite(path) = &self.location else { return Ok(()) };
        let path = path.clone();
        let version: usize = self.db.query_row("PRAGMA user_version", params![], |r| r.get(0))?;
        if version > MIGRATIONS.len() {
            bail!(
                "the store {} was written by a newer Trustline (schema {version}, this one knows {}); upgrade trustline",
                path.display(),
                MIGRATIONS.len()
            );
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version) {
            let tx = write_transaction(&mut self.db)?;
            tx.execute_batch(sql).with_context(|| format!("applying store migration {}", i + 1))?;
            tx.execute_batch(&format!("PRAGMA user_version = {}", i + 1))?;
            tx.commit()?;
        }
        Ok(())
    }

    /// The engine's version, as it reports it.
    pub fn engine_version(&self) -> Result<String> {
        Ok(match self.db.engine() {
            Engine::Sqlite => self.db.query_row("SELECT sqlite_version()", params![], |r| r.get(0))?,
            Engine::Postgres => {
                self.db.query_row("SELECT current_setting('server_version')", params![], |r| r.get(0))?
            }
        })
    }

    /// Whether the store answers a query.
    pub fn ping(&self) -> Result<()> {
        self.db.query_row("SELECT 1", params![], |r| r.get::<i64>(0))?;
        Ok(())
    }

    /// The engine's own consistency check; `ok` when sound. SQLite checks every page and index
    /// (`PRAGMA integrity_check`); PostgreSQL checks its own pages as it reads them, so this
    /// asks that the server answers.
    pub fn integrity_check(&self) -> Result<String> {
        match self.db.engine() {
            Engine::Sqlite => Ok(self.db.query_row("PRAGMA integrity_check", params![], |r| r.get(0))?),
            Engine::Postgres => {
                self.db.query_row("SELECT 1", params![], |r| r.get::<i64>(0))?;
                Ok("ok".into())
            }
        }
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        if let Some(replica) = &mut self.replica {
            replica.close(&self.db);
        }
    }
}

fn open_db(path: &Path) -> Result<Db> {
    files::prepare(path)?;
    let db = Db::open(path).with_context(|| format!("opening the store {}", path.display()))?;
    // WAL keeps readers (inventory queries, the API) working while a sync writes, and survives a
    // kill mid-transaction; NORMAL sync is durable at each commit in WAL mode except on power loss.
    db.pragma_update(None, "journal_mode", "WAL")?;
    db.pragma_update(None, "synchronous", "NORMAL")?;
    db.pragma_update(None, "foreign_keys", "ON")?;
    db.busy_timeout(std::time::Duration::from_secs(10))?;
    Ok(db)
}

/// A write transaction (see [`Conn::transaction`]): on SQLite it takes the write lock when it
/// begins (`BEGIN IMMEDIATE`), so handles writing at once (a sync's writer thread, the webhook
/// delivery loop, the API) wait their turn on the busy timeout instead of failing with
/// SQLITE_BUSY (sqlite.org/lang_transaction.html).
fn write_transaction(db: &mut Conn) -> sql::Result<sql::Tx<'_>> {
    db.transaction()
}

fn lock_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".lock");
    path.with_file_name(name)
}

/// Now, as the RFC 3339 text the store keeps.
pub fn now_text() -> String {
    timestamp(time::OffsetDateTime::now_utc())
}

/// A time as RFC 3339 text (UTC, second precision; sorts as text).
pub fn timestamp(t: time::OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC).replace_nanosecond(0).unwrap_or(t);
    t.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_writer_is_refused_with_a_clear_message() {
        let dir = std::env::temp_dir().join(format!("trustline-store-{}", std::process::id()));
        let path = dir.join("inventory.db");
        let first = Store::open(&path).unwrap();
        let err = Store::open(&path).unwrap_err().to_string();
        assert!(err.contains("another trustline worker is using the store"), "{err}");
        assert_eq!(first.integrity_check().unwrap(), "ok");
        drop(first);
        let again = Store::open(&path).unwrap();
        drop(again);
        std::fs::remove_dir_all(&dir).ok();
    }

    /// A store file as a build with only the first `version` migrations left it.
    fn store_at_version(path: &Path, version: usize) -> rusqlite::Connection {
        let db = rusqlite::Connection::open(path).unwrap();
        for sql in &MIGRATIONS[..version] {
            db.execute_batch(sql).unwrap();
        }
        db.pragma_update(None, "user_version", version).unwrap();
        db
    }

    #[test]
    fn a_store_from_before_tenants_moves_into_the_default_tenant() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v3.db");
        {
            let db = store_at_version(&path, 3);
            db.execute_batch(
                "INSERT INTO connections (id, name, kind, account_id, role_arn, external_id, data_sets, regions, status, created_at)
                 VALUES ('prod', 'Prod', 'cross-account-role', '123456789012', 'arn:aws:iam::123456789012:role/R', 'vendor:ext-1', '[\"iam\"]', '[]', 'active', '2026-11-01T00:00:00Z'),
                        ('stage', 'Stage', 'cross-account-role', '210987654321', 'arn:aws:iam::210987654321:role/R', 'vendor:ext-1', '[\"iam\"]', '[]', 'active', '2026-11-02T00:00:00Z');",
            )
            .unwrap();
        }
        let mut store = Store::open(&path).unwrap();
        let connections = store.connections().unwrap();
        assert_eq!(connections.len(), 2);
        assert!(connections.iter().all(|c| c.tenant == DEFAULT_TENANT));
        // Their ExternalId is now one the worker has on record for the default tenant.
        let ext: trustline_core::ExternalId = "vendor:ext-1".parse().unwrap();
        assert_eq!(store.external_id_owner(&ext).unwrap().as_deref(), Some(DEFAULT_TENANT));
        // And the new constraints hold for what was migrated: the role is connected once, and the
        // account belongs to its tenant.
        store.add_tenant("other", "Other", 10).unwrap();
        let mut copy = connections[0].clone();
        copy.id = "copy".into();
        let err = store.add_connection(&copy).unwrap_err();
        assert!(
            matches!(err.downcast_ref::<AddRefused>(), Some(AddRefused::RoleConnected(id)) if id == "prod")
        );
        let issued = store
            .issue_external_id("other", time::OffsetDateTime::now_utc(), None, || Ok("other:ext".parse()?))
            .unwrap();
        let mut theirs = connections[0].clone();
        theirs.id = "theirs".into();
        theirs.tenant = "other".into();
        theirs.access = Access::CrossAccountRole(TrustedRole {
            role: "arn:aws:iam::123456789012:role/Other".parse().unwrap(),
            external_id: issued.external_id,
            next_external_id: None,
        });
        let err = store.add_connection(&theirs).unwrap_err();
        assert!(matches!(err.downcast_ref::<AddRefused>(), Some(AddRefused::OtherTenant)), "{err:#}");
        let version: usize = store.db.query_row("PRAGMA user_version", params![], |r| r.get(0)).unwrap();
        assert_eq!(version, MIGRATIONS.len());
    }

    #[test]
    fn events_stored_before_pages_keep_their_records_and_feed_positions() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v7.db");
        {
            let db = store_at_version(&path, 7);
            // Positions with a gap, as deletes and retries leave them.
            db.execute_batch(
                r#"INSERT INTO events (rowid, event_id, connection_id, region, event_time, event_name, raw)
                   VALUES (5, 'old-1', 'c', 'us-east-1', '2026-11-01T00:00:00Z', 'CreateUser', '{"eventID":"old-1"}'),
                          (9, 'old-2', 'c', 'us-east-1', '2026-11-01T00:00:01Z', 'DeleteUser', '{"eventID":"old-2"}');"#,
            )
            .unwrap();
        }
        let mut store = Store::open(&path).unwrap();
        let event = |id: &str, second: i64| crate::resource::EventRecord {
            event_id: id.into(),
            region: "us-east-1".into(),
            event_time: time::macros::datetime!(2026-11-02 00:00 UTC) + time::Duration::seconds(second),
            event_name: "CreateRole".into(),
            event_source: None,
            username: None,
            raw: format!(r#"{{"eventID":"{id}"}}"#),
        };
        let run = store.begin_run().unwrap();
        let snapshot = crate::resource::Snapshot {
            events: vec![event("new-1", 0), event("new-2", 1)],
            ..Default::default()
        };
        store.commit_account(run, "c", &snapshot, 0).unwrap();
        // The same page again stores nothing, and keeps no second copy of its records.
        store.commit_account(run, "c", &snapshot, 0).unwrap();
        let pages: i64 =
            store.db.query_row("SELECT COUNT(*) FROM event_pages", params![], |r| r.get(0)).unwrap();
        assert_eq!(pages, 1);
        let records = store.event_records(Some("c"), "2026-01-01T00:00:00Z").unwrap();
        assert_eq!(
            records,
            [
                r#"{"eventID":"old-1"}"#,
                r#"{"eventID":"old-2"}"#,
                r#"{"eventID":"new-1"}"#,
                r#"{"eventID":"new-2"}"#
            ]
        );
        let feed: Vec<(i64, String)> = store
            .events_page(None, None, 0, 10)
            .unwrap()
            .into_iter()
            .map(|(position, e)| (position, e.event_id))
            .collect();
        assert_eq!(feed[..2], [(5, "old-1".to_owned()), (9, "old-2".to_owned())]);
        assert_eq!(feed.len(), 4);
        assert!(feed[2].0 > 9);
    }

    #[test]
    fn a_store_from_the_first_schema_is_migrated_and_keeps_its_connections() {
        let dir = std::env::temp_dir().join(format!("trustline-store-v1-{}", std::process::id()));
        std::fs::remove_dir_all(&dir).ok();
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("old.db");
        {
            let db = rusqlite::Connection::open(&path).unwrap();
            db.execute_batch(MIGRATIONS[0]).unwrap();
            db.pragma_update(None, "user_version", 1).unwrap();
            db.execute(
                "INSERT INTO connections (id, name, kind, role_arn, external_id, data_sets, regions, status, created_at)
                 VALUES ('old', 'old', 'cross-account-role', 'arn:aws:iam::123456789012:role/R', 'ext-1', '[\"iam\"]', '[]', 'suspended', 'then')",
                [],
            )
            .unwrap();
        }
        let store = Store::open(&path).unwrap();
        let c = store.connection("old").unwrap().unwrap();
        assert_eq!((c.status, c.access.org(), c.parent), (ConnectionStatus::Suspended, None, None));
        let version: usize = store.db.query_row("PRAGMA user_version", params![], |r| r.get(0)).unwrap();
        assert_eq!(version, MIGRATIONS.len());
        drop(store);
        std::fs::remove_dir_all(&dir).ok();
    }
}
