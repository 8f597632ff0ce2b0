//! The PostgreSQL engine: a pool of connections per database (r2d2), and its versioned
//! migrations (refinery, from `worker/migrations/postgres`), applied once per process under an
//! advisory lock so that replicas starting together migrate once.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use r2d2_postgres::PostgresConnectionManager;

use super::location::PgUrl;
use super::sql::{Conn, Pg, params};

refinery::embed_migrations!("migrations/postgres");

type Pool = r2d2::Pool<PostgresConnectionManager<postgres::NoTls>>;

/// Connections kept per database: the API's handlers, a sync's writer and the webhook
/// deliverer each hold one while they work.
const POOL_SIZE: u32 = 16;

fn pools() -> &'static Mutex<HashMap<PgUrl, Pool>> {
    static POOLS: OnceLock<Mutex<HashMap<PgUrl, Pool>>> = OnceLock::new();
    POOLS.get_or_init(Default::default)
}

/// A connection from `url`'s pool; the first one in this process migrates the database.
pub(super) fn connect(url: &PgUrl) -> Result<Conn> {
    let pool = pool(url)?;
    // The pool checks a connection with a query before handing it out.
    let client =
        super::sql::off_runtime(|| pool.get()).with_context(|| format!("connecting to the store {url}"))?;
    Ok(Conn::postgres(Pg::new(client)))
}

fn pool(url: &PgUrl) -> Result<Pool> {
    let mut pools = pools().lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(pool) = pools.get(url) {
        return Ok(pool.clone());
    }
    let mut config: postgres::Config =
        url.secret_text().parse().with_context(|| format!("reading the store URL {url}"))?;
    config.application_name("trustline").connect_timeout(Duration::from_secs(10));
    let pool = r2d2::Pool::builder()
        .max_size(POOL_SIZE)
        .min_idle(Some(0))
        .connection_timeout(Duration::from_secs(15))
        .build_unchecked(PostgresConnectionManager::new(config, postgres::NoTls));
    super::sql::off_runtime(|| migrate(&pool, url))?;
    pools.insert(url.clone(), pool.clone());
    Ok(pool)
}

fn migrate(pool: &Pool, url: &PgUrl) -> Result<()> {
    let mut client = pool.get().with_context(|| format!("connecting to the store {url}"))?;
    client.execute("SELECT pg_advisory_lock($1)", &[&super::PG_MIGRATE_KEY])?;
    let result = (|| -> Result<()> {
        let known = migrations::runner().get_migrations().len();
        let applied = applied(&mut client)?;
        if applied > known {
            bail!(
                "the store {url} was written by a newer Trustline (schema {applied}, this one knows {known}); upgrade trustline"
            );
        }
        migrations::runner().run(&mut *client).with_context(|| format!("migrating the store {url}"))?;
        Ok(())
    })();
    client.execute("SELECT pg_advisory_unlock($1)", &[&super::PG_MIGRATE_KEY])?;
    result
}

fn applied(client: &mut postgres::Client) -> Result<usize> {
    let exists: bool =
        client.query_one("SELECT to_regclass('refinery_schema_history') IS NOT NULL", &[])?.get(0);
    if !exists {
        return Ok(0);
    }
    let row = client.query_one("SELECT COUNT(*) FROM refinery_schema_history", &[])?;
    Ok(usize::try_from(row.get::<_, i64>(0)).unwrap_or(0))
}

/// Migrations applied to the store, and how many this build knows.
pub(super) fn schema_version(db: &Conn) -> Result<(usize, usize)> {
    let exists: bool =
        db.query_row("SELECT to_regclass('refinery_schema_history') IS NOT NULL", params![], |r| r.get(0))?;
    let applied: usize = if exists {
        db.query_row("SELECT COUNT(*) FROM refinery_schema_history", params![], |r| r.get(0))?
    } else {
        0
    };
    Ok((applied, migrations::runner().get_migrations().len()))
}
