//! One SQL interface over the store's two engines: SQLite (rusqlite, embedded, the default) and
//! PostgreSQL (rust-postgres, several workers sharing one database).
//!
//! The store's queries are written once, in the SQL both engines share: `?N` placeholders
//! (rewritten to PostgreSQL's `$N`), `INSERT … ON CONFLICT`, `RETURNING`, and columns of three
//! types (64-bit integers, text, bytes). The few statements that differ are chosen with
//! [`Conn::engine`]. Values cross as [`Value`]s, so a row reads the same from either engine.

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;
use std::ops::{Deref, DerefMut};

use postgres::types::{IsNull, ToSql, Type, to_sql_checked};

/// Which engine a connection talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// SQLite, in a file.
    Sqlite,
    /// PostgreSQL, over the network.
    Postgres,
}

/// A failed statement.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// `query_row` found no row (see [`OptionalExt::optional`]).
    #[error("the query returned no rows")]
    NoRows,
    /// SQLite refused.
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    /// PostgreSQL refused, or the connection failed.
    #[error(transparent)]
    Postgres(#[from] postgres::Error),
    /// A column did not hold what the reader expected.
    #[error("column {column}: {message}")]
    Conversion {
        /// Its index.
        column: usize,
        /// What was wrong.
        message: String,
    },
}

impl Error {
    /// Whether a UNIQUE or PRIMARY KEY constraint refused the write.
    pub fn is_unique_violation(&self) -> bool {
        match self {
            Error::Sqlite(rusqlite::Error::SqliteFailure(e, _)) => {
                e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                    || e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
            }
            Error::Postgres(e) => e.code() == Some(&postgres::error::SqlState::UNIQUE_VIOLATION),
            _ => false,
        }
    }

    /// A conversion failure for column `column`.
    pub fn conversion(column: usize, message: impl fmt::Display) -> Error {
        Error::Conversion { column, message: message.to_string() }
    }
}

/// A statement's result.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// `query_row`'s "no row" as `None`.
pub trait OptionalExt<T> {
    /// `Ok(None)` for [`Error::NoRows`].
    fn optional(self) -> Result<Option<T>>;
}

impl<T> OptionalExt<T> for Result<T> {
    fn optional(self) -> Result<Option<T>> {
        match self {
            Ok(v) => Ok(Some(v)),
            Err(Error::NoRows) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// A value bound to a statement or read from a row.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// NULL.
    Null,
    /// A 64-bit integer (SQLite INTEGER, PostgreSQL BIGINT; booleans are 0 and 1).
    Int(i64),
    /// A float.
    Real(f64),
    /// Text.
    Text(String),
    /// Bytes (SQLite BLOB, PostgreSQL BYTEA).
    Blob(Vec<u8>),
}

/// What can be bound to a placeholder.
pub trait ToValue {
    /// As a [`Value`].
    fn to_value(&self) -> Value;

    /// As SQLite binds it: text and bytes borrowed, so that binding copies them only once,
    /// into SQLite's statement (the writer binds every stored event's columns).
    fn to_sqlite(&self) -> rusqlite::types::ToSqlOutput<'_> {
        rusqlite::types::ToSqlOutput::Owned(self.to_value().into_sqlite())
    }
}

/// A bound parameter, as rusqlite takes it.
struct Bound<'a>(&'a dyn ToValue);

impl rusqlite::ToSql for Bound<'_> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        Ok(self.0.to_sqlite())
    }
}

/// `params` for a SQLite statement.
fn sqlite_params<'a>(params: Params<'a>) -> rusqlite::ParamsFromIter<impl Iterator<Item = Bound<'a>>> {
    rusqlite::params_from_iter(params.iter().map(|p| Bound(*p)))
}

fn borrowed(v: rusqlite::types::ValueRef<'_>) -> rusqlite::types::ToSqlOutput<'_> {
    rusqlite::types::ToSqlOutput::Borrowed(v)
}

/// What a column can be read as.
pub trait FromValue: Sized {
    /// From a column's [`Value`]; `Err` says what was wrong.
    fn from_value(value: Value) -> std::result::Result<Self, String>;
}

/// Binds a list of values: `params![a, b]`.
macro_rules! params {
    () => { &[] as &[&dyn $crate::store::sql::ToValue] };
    ($($p:expr),+ $(,)?) => { &[$(&$p as &dyn $crate::store::sql::ToValue),+] as &[&dyn $crate::store::sql::ToValue] };
}
pub(crate) use params;

/// A list of bound values.
pub type Params<'a> = &'a [&'a dyn ToValue];

impl<T: ToValue + ?Sized> ToValue for &T {
    fn to_value(&self) -> Value {
        (**self).to_value()
    }

    fn to_sqlite(&self) -> rusqlite::types::ToSqlOutput<'_> {
        (**self).to_sqlite()
    }
}

impl<T: ToValue> ToValue for Option<T> {
    fn to_value(&self) -> Value {
        self.as_ref().map_or(Value::Null, ToValue::to_value)
    }

    fn to_sqlite(&self) -> rusqlite::types::ToSqlOutput<'_> {
        self.as_ref().map_or(borrowed(rusqlite::types::ValueRef::Null), ToValue::to_sqlite)
    }
}

impl ToValue for Value {
    fn to_value(&self) -> Value {
        self.clone()
    }

    fn to_sqlite(&self) -> rusqlite::types::ToSqlOutput<'_> {
        use rusqlite::types::ValueRef as V;
        borrowed(match self {
            Value::Null => V::Null,
            Value::Int(i) => V::Integer(*i),
            Value::Real(f) => V::Real(*f),
            Value::Text(s) => V::Text(s.as_bytes()),
            Value::Blob(b) => V::Blob(b),
        })
    }
}

impl ToValue for str {
    fn to_value(&self) -> Value {
        Value::Text(self.to_owned())
    }

    fn to_sqlite(&self) -> rusqlite::types::ToSqlOutput<'_> {
        borrowed(rusqlite::types::ValueRef::Text(self.as_bytes()))
    }
}

impl ToValue for String {
    fn to_value(&self) -> Value {
        Value::Text(self.clone())
    }

    fn to_sqlite(&self) -> rusqlite::types::ToSqlOutput<'_> {
        self.as_str().to_sqlite()
    }
}

impl ToValue for [u8] {
    fn to_value(&self) -> Value {
        Value::Blob(self.to_vec())
    }

    fn to_sqlite(&self) -> rusqlite::types::ToSqlOutput<'_> {
        borrowed(rusqlite::types::ValueRef::Blob(self))
    }
}

impl ToValue for Vec<u8> {
    fn to_value(&self) -> Value {
        Value::Blob(self.clone())
    }

    fn to_sqlite(&self) -> rusqlite::types::ToSqlOutput<'_> {
        self.as_slice().to_sqlite()
    }
}

impl ToValue for bool {
    fn to_value(&self) -> Value {
        Value::Int(i64::from(*self))
    }
}

impl ToValue for f64 {
    fn to_value(&self) -> Value {
        Value::Real(*self)
    }
}

macro_rules! int_value {
    ($($ty:ty),*) => {$(
        impl ToValue for $ty {
            fn to_value(&self) -> Value {
                // Every integer the store keeps fits in 64 bits; a larger u64 saturates.
                Value::Int(i64::try_from(*self).unwrap_or(i64::MAX))
            }
        }
        impl FromValue for $ty {
            fn from_value(value: Value) -> std::result::Result<Self, String> {
                match value {
                    Value::Int(i) => <$ty>::try_from(i).map_err(|_| format!("{i} does not fit in {}", stringify!($ty))),
                    other => Err(format!("expected an integer, found {}", other.kind())),
                }
            }
        }
    )*};
}
int_value!(i64, i32, u32, u64, usize, u16, u8);

impl FromValue for bool {
    fn from_value(value: Value) -> std::result::Result<Self, String> {
        match value {
            Value::Int(i) => Ok(i != 0),
            other => Err(format!("expected a boolean, found {}", other.kind())),
        }
    }
}

impl FromValue for f64 {
    fn from_value(value: Value) -> std::result::Result<Self, String> {
        match value {
            Value::Real(f) => Ok(f),
            Value::Int(i) => Ok(i as f64),
            other => Err(format!("expected a number, found {}", other.kind())),
        }
    }
}

impl FromValue for String {
    fn from_value(value: Value) -> std::result::Result<Self, String> {
        match value {
            Value::Text(s) => Ok(s),
            other => Err(format!("expected text, found {}", other.kind())),
        }
    }
}

impl FromValue for Vec<u8> {
    fn from_value(value: Value) -> std::result::Result<Self, String> {
        match value {
            Value::Blob(b) => Ok(b),
            Value::Text(s) => Ok(s.into_bytes()),
            other => Err(format!("expected bytes, found {}", other.kind())),
        }
    }
}

impl FromValue for Value {
    fn from_value(value: Value) -> std::result::Result<Self, String> {
        Ok(value)
    }
}

impl<T: FromValue> FromValue for Option<T> {
    fn from_value(value: Value) -> std::result::Result<Self, String> {
        match value {
            Value::Null => Ok(None),
            v => T::from_value(v).map(Some),
        }
    }
}

impl Value {
    fn kind(&self) -> &'static str {
        match self {
            Value::Null => "NULL",
            Value::Int(_) => "an integer",
            Value::Real(_) => "a float",
            Value::Text(_) => "text",
            Value::Blob(_) => "bytes",
        }
    }

    fn into_sqlite(self) -> rusqlite::types::Value {
        use rusqlite::types::Value as V;
        match self {
            Value::Null => V::Null,
            Value::Int(i) => V::Integer(i),
            Value::Real(f) => V::Real(f),
            Value::Text(s) => V::Text(s),
            Value::Blob(b) => V::Blob(b),
        }
    }

    fn from_sqlite(v: rusqlite::types::ValueRef<'_>) -> std::result::Result<Value, String> {
        use rusqlite::types::ValueRef as V;
        Ok(match v {
            V::Null => Value::Null,
            V::Integer(i) => Value::Int(i),
            V::Real(f) => Value::Real(f),
            V::Text(t) => Value::Text(String::from_utf8(t.to_vec()).map_err(|e| e.to_string())?),
            V::Blob(b) => Value::Blob(b.to_vec()),
        })
    }

    fn from_postgres(row: &postgres::Row, i: usize) -> std::result::Result<Value, String> {
        fn get<'a, T: postgres::types::FromSql<'a>>(
            row: &'a postgres::Row,
            i: usize,
        ) -> std::result::Result<Option<T>, String> {
            row.try_get::<_, Option<T>>(i).map_err(|e| e.to_string())
        }
        let ty = row.columns()[i].type_();
        let value = match *ty {
            Type::INT8 => get::<i64>(row, i)?.map(Value::Int),
            Type::INT4 => get::<i32>(row, i)?.map(|v| Value::Int(v.into())),
            Type::INT2 => get::<i16>(row, i)?.map(|v| Value::Int(v.into())),
            Type::BOOL => get::<bool>(row, i)?.map(|v| Value::Int(v.into())),
            Type::FLOAT8 => get::<f64>(row, i)?.map(Value::Real),
            Type::FLOAT4 => get::<f32>(row, i)?.map(|v| Value::Real(v.into())),
            Type::BYTEA => get::<Vec<u8>>(row, i)?.map(Value::Blob),
            Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN => {
                get::<String>(row, i)?.map(Value::Text)
            }
            ref other => {
                return Err(format!("type {other} is not one the store reads (cast it to BIGINT or TEXT)"));
            }
        };
        Ok(value.unwrap_or(Value::Null))
    }
}

impl ToSql for Value {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut bytes::BytesMut,
    ) -> std::result::Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self {
            Value::Null => Ok(IsNull::Yes),
            Value::Int(i) => match *ty {
                Type::INT8 => i.to_sql(ty, out),
                Type::INT4 => i32::try_from(*i)?.to_sql(ty, out),
                Type::INT2 => i16::try_from(*i)?.to_sql(ty, out),
                Type::BOOL => (*i != 0).to_sql(ty, out),
                Type::FLOAT8 => (*i as f64).to_sql(ty, out),
                _ => i.to_string().to_sql(ty, out),
            },
            Value::Real(f) => match *ty {
                Type::FLOAT4 => (*f as f32).to_sql(ty, out),
                Type::FLOAT8 => f.to_sql(ty, out),
                _ => f.to_string().to_sql(ty, out),
            },
            Value::Text(s) => match *ty {
                Type::BYTEA => s.as_bytes().to_sql(ty, out),
                Type::INT8 => s.parse::<i64>()?.to_sql(ty, out),
                _ => s.as_str().to_sql(ty, out),
            },
            Value::Blob(b) => b.as_slice().to_sql(ty, out),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

/// One row of a result.
pub struct Row<'a>(RowRef<'a>);

enum RowRef<'a> {
    Sqlite(&'a rusqlite::Row<'a>),
    Postgres(&'a postgres::Row),
}

impl Row<'_> {
    /// Column `i`, as `T`.
    pub fn get<T: FromValue>(&self, i: usize) -> Result<T> {
        let value = match &self.0 {
            RowRef::Sqlite(r) => Value::from_sqlite(r.get_ref(i)?),
            RowRef::Postgres(r) => {
                if i >= r.len() {
                    return Err(Error::conversion(i, "no such column"));
                }
                Value::from_postgres(r, i)
            }
        }
        .map_err(|e| Error::conversion(i, e))?;
        T::from_value(value).map_err(|e| Error::conversion(i, e))
    }
}

/// A PostgreSQL connection from the pool, with its prepared statements.
pub struct Pg {
    client: r2d2::PooledConnection<r2d2_postgres::PostgresConnectionManager<postgres::NoTls>>,
    statements: HashMap<String, postgres::Statement>,
}

impl Pg {
    /// Wraps a pooled client.
    pub fn new(
        client: r2d2::PooledConnection<r2d2_postgres::PostgresConnectionManager<postgres::NoTls>>,
    ) -> Pg {
        Pg { client, statements: HashMap::new() }
    }

    /// `sql` prepared on this connection (once: kept by its text).
    pub fn statement(&mut self, sql: &str) -> Result<postgres::Statement> {
        if let Some(s) = self.statements.get(sql) {
            return Ok(s.clone());
        }
        let statement = self.client.prepare(&placeholders(sql))?;
        self.statements.insert(sql.to_owned(), statement.clone());
        Ok(statement)
    }

    fn execute(&mut self, sql: &str, values: &[Value]) -> Result<u64> {
        let statement = self.statement(sql)?;
        let refs: Vec<&(dyn ToSql + Sync)> = values.iter().map(|v| v as &(dyn ToSql + Sync)).collect();
        Ok(self.client.execute(&statement, &refs)?)
    }

    fn query(&mut self, sql: &str, values: &[Value]) -> Result<Vec<postgres::Row>> {
        let statement = self.statement(sql)?;
        let refs: Vec<&(dyn ToSql + Sync)> = values.iter().map(|v| v as &(dyn ToSql + Sync)).collect();
        Ok(self.client.query(&statement, &refs)?)
    }

    /// The client itself (COPY, and what the engine alone has).
    pub fn client(&mut self) -> &mut postgres::Client {
        &mut self.client
    }
}

/// A connection to the store, on either engine.
pub struct Conn(Inner);

enum Inner {
    Sqlite(rusqlite::Connection),
    Postgres(Box<RefCell<Pg>>),
}

impl fmt::Debug for Conn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Inner::Sqlite(db) => f.debug_tuple("Conn::Sqlite").field(db).finish(),
            Inner::Postgres(_) => f.write_str("Conn::Postgres"),
        }
    }
}

fn bind(params: Params<'_>) -> Vec<Value> {
    params.iter().map(|p| p.to_value()).collect()
}

impl Conn {
    /// A SQLite connection.
    pub fn sqlite(db: rusqlite::Connection) -> Conn {
        Conn(Inner::Sqlite(db))
    }

    /// A PostgreSQL connection.
    pub fn postgres(pg: Pg) -> Conn {
        Conn(Inner::Postgres(Box::new(RefCell::new(pg))))
    }

    /// Its engine.
    pub fn engine(&self) -> Engine {
        match self.0 {
            Inner::Sqlite(_) => Engine::Sqlite,
            Inner::Postgres(_) => Engine::Postgres,
        }
    }

    /// The SQLite connection, for what only SQLite has (pragmas, its file checks).
    pub fn as_sqlite(&self) -> Option<&rusqlite::Connection> {
        match &self.0 {
            Inner::Sqlite(db) => Some(db),
            Inner::Postgres(_) => None,
        }
    }

    /// Runs `sqlite` or `postgres`, whichever engine this is: for what each does its own way
    /// (a statement kept across many rows, array-bound columns).
    pub fn on_engine<T>(
        &self,
        sqlite: impl FnOnce(&rusqlite::Connection) -> T,
        postgres: impl FnOnce(&mut Pg) -> T,
    ) -> T {
        match &self.0 {
            Inner::Sqlite(db) => sqlite(db),
            Inner::Postgres(pg) => postgres(&mut pg.borrow_mut()),
        }
    }

    /// The PostgreSQL connection, for what only PostgreSQL has (COPY, advisory locks).
    pub fn with_postgres<T>(&self, f: impl FnOnce(&mut Pg) -> T) -> Option<T> {
        match &self.0 {
            Inner::Sqlite(_) => None,
            Inner::Postgres(pg) => Some(f(&mut pg.borrow_mut())),
        }
    }

    /// Runs one statement; returns the rows it changed.
    pub fn execute(&self, sql: &str, params: Params<'_>) -> Result<usize> {
        match &self.0 {
            Inner::Sqlite(db) => {
                let mut stmt = db.prepare_cached(sql)?;
                Ok(stmt.execute(sqlite_params(params))?)
            }
            Inner::Postgres(pg) => {
                let mut guard = pg.borrow_mut();
                let pg: &mut Pg = &mut guard;
                let values = bind(params);
                let changed = off_runtime(|| pg.execute(sql, &values))?;
                Ok(usize::try_from(changed).unwrap_or(usize::MAX))
            }
        }
    }

    /// Runs several statements, with no parameters (migrations).
    pub fn execute_batch(&self, sql: &str) -> Result<()> {
        match &self.0 {
            Inner::Sqlite(db) => Ok(db.execute_batch(sql)?),
            Inner::Postgres(pg) => {
                let mut guard = pg.borrow_mut();
                let pg: &mut Pg = &mut guard;
                Ok(off_runtime(|| pg.client.batch_execute(sql))?)
            }
        }
    }

    /// A statement to run (prepared on first use and kept by the connection).
    pub fn prepare(&self, sql: &str) -> Result<Stmt<'_>> {
        Ok(Stmt { conn: self, sql: sql.to_owned() })
    }

    /// The same as [`Conn::prepare`]: every statement is cached by its text.
    pub fn prepare_cached(&self, sql: &str) -> Result<Stmt<'_>> {
        self.prepare(sql)
    }

    /// Every row of a query, each read by `f`.
    pub fn query_map<T>(
        &self,
        sql: &str,
        params: Params<'_>,
        mut f: impl FnMut(&Row<'_>) -> Result<T>,
    ) -> Result<std::vec::IntoIter<Result<T>>> {
        let out: Vec<Result<T>> = match &self.0 {
            Inner::Sqlite(db) => {
                let mut stmt = db.prepare_cached(sql)?;
                let mut rows = stmt.query(sqlite_params(params))?;
                let mut out = Vec::new();
                while let Some(r) = rows.next()? {
                    out.push(f(&Row(RowRef::Sqlite(r))));
                }
                out
            }
            Inner::Postgres(pg) => {
                let mut guard = pg.borrow_mut();
                let pg: &mut Pg = &mut guard;
                let values = bind(params);
                let rows = off_runtime(|| pg.query(sql, &values))?;
                drop(guard);
                rows.iter().map(|r| f(&Row(RowRef::Postgres(r)))).collect()
            }
        };
        Ok(out.into_iter())
    }

    /// The first row of a query, read by `f`; [`Error::NoRows`] when there is none.
    pub fn query_row<T>(
        &self,
        sql: &str,
        params: Params<'_>,
        f: impl FnOnce(&Row<'_>) -> Result<T>,
    ) -> Result<T> {
        match &self.0 {
            Inner::Sqlite(db) => {
                let mut stmt = db.prepare_cached(sql)?;
                let mut rows = stmt.query(sqlite_params(params))?;
                match rows.next()? {
                    Some(r) => f(&Row(RowRef::Sqlite(r))),
                    None => Err(Error::NoRows),
                }
            }
            Inner::Postgres(pg) => {
                let mut guard = pg.borrow_mut();
                let pg: &mut Pg = &mut guard;
                let values = bind(params);
                let row = off_runtime(|| pg.query(sql, &values))?.into_iter().next();
                drop(guard);
                match row {
                    Some(r) => f(&Row(RowRef::Postgres(&r))),
                    None => Err(Error::NoRows),
                }
            }
        }
    }

    /// Whether a query returns any row.
    pub fn exists(&self, sql: &str, params: Params<'_>) -> Result<bool> {
        self.query_row(sql, params, |_| Ok(())).optional().map(|r| r.is_some())
    }

    /// Begins a write transaction: SQLite takes its write lock at once (`BEGIN IMMEDIATE`: a
    /// deferred transaction that reads before it writes fails with SQLITE_BUSY when another
    /// handle wrote in between, sqlite.org/lang_transaction.html); PostgreSQL begins at READ
    /// COMMITTED and locks rows as it writes them. Rolled back when dropped uncommitted.
    pub fn transaction(&mut self) -> Result<Tx<'_>> {
        match &self.0 {
            Inner::Sqlite(db) => db.execute_batch("BEGIN IMMEDIATE")?,
            Inner::Postgres(pg) => {
                let mut guard = pg.borrow_mut();
                let pg: &mut Pg = &mut guard;
                off_runtime(|| pg.client.batch_execute("BEGIN"))?;
            }
        }
        Ok(Tx { conn: self, done: false })
    }
}

/// A statement bound to a connection, run with parameters.
pub struct Stmt<'c> {
    conn: &'c Conn,
    sql: String,
}

impl Stmt<'_> {
    /// Runs it; returns the rows it changed.
    pub fn execute(&mut self, params: Params<'_>) -> Result<usize> {
        self.conn.execute(&self.sql, params)
    }

    /// Every row, each read by `f`.
    pub fn query_map<T>(
        &mut self,
        params: Params<'_>,
        f: impl FnMut(&Row<'_>) -> Result<T>,
    ) -> Result<std::vec::IntoIter<Result<T>>> {
        self.conn.query_map(&self.sql, params, f)
    }

    /// The first row, read by `f`.
    pub fn query_row<T>(&mut self, params: Params<'_>, f: impl FnOnce(&Row<'_>) -> Result<T>) -> Result<T> {
        self.conn.query_row(&self.sql, params, f)
    }

    /// Whether it returns any row.
    pub fn exists(&mut self, params: Params<'_>) -> Result<bool> {
        self.conn.exists(&self.sql, params)
    }
}

impl fmt::Debug for Row<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Row")
    }
}

impl fmt::Debug for Pg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pg").field("statements", &self.statements.len()).finish_non_exhaustive()
    }
}

impl fmt::Debug for Stmt<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Stmt").field("sql", &self.sql).finish()
    }
}

impl fmt::Debug for Tx<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tx").field("done", &self.done).finish()
    }
}

/// An open transaction; derefs to its connection.
pub struct Tx<'a> {
    conn: &'a mut Conn,
    done: bool,
}

impl Tx<'_> {
    /// Commits.
    pub fn commit(mut self) -> Result<()> {
        self.done = true;
        self.conn.execute_batch("COMMIT")
    }
}

impl Deref for Tx<'_> {
    type Target = Conn;
    fn deref(&self) -> &Conn {
        self.conn
    }
}

impl DerefMut for Tx<'_> {
    fn deref_mut(&mut self) -> &mut Conn {
        self.conn
    }
}

impl Drop for Tx<'_> {
    fn drop(&mut self) {
        if !self.done
            && let Err(e) = self.conn.execute_batch("ROLLBACK")
        {
            tracing::warn!(error = %e, "rolling back a store transaction failed");
        }
    }
}

/// Runs `f`, a call of the blocking PostgreSQL client, where blocking is allowed. The client
/// drives its connection on a runtime of its own, and tokio refuses to start one on a thread
/// that is running async tasks: there, a multi-threaded runtime hands the thread's tasks to
/// another worker for the call (`block_in_place`), and a single-threaded one runs the call on a
/// scoped thread. Elsewhere (the sync's writer thread, the blocking pool) `f` runs as it is.
pub fn off_runtime<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == RuntimeFlavor::MultiThread => tokio::task::block_in_place(f),
        Ok(_) => std::thread::scope(|s| s.spawn(f).join().unwrap_or_else(|e| std::panic::resume_unwind(e))),
        Err(_) => f(),
    }
}

/// `?N` placeholders as PostgreSQL's `$N` (and a bare `?` as the next number), outside quoted
/// text.
pub fn placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut next = 1;
    let mut quote: Option<char> = None;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => {
                quote = None;
                out.push(c);
            }
            (Some(_), c) => out.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                out.push(c);
            }
            (None, '?') => {
                let mut digits = String::new();
                while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                    digits.push(*d);
                    chars.next();
                }
                out.push('$');
                if digits.is_empty() {
                    out.push_str(&next.to_string());
                    next += 1;
                } else {
                    next = digits.parse::<usize>().unwrap_or(next) + 1;
                    out.push_str(&digits);
                }
            }
            (None, c) => out.push(c),
        }
    }
    out
}

impl Error {
    /// The engine's own message: for PostgreSQL the server's (its `Display` says only "db
    /// error"), e.g. what a trigger raised; otherwise the error as displayed.
    pub fn message(&self) -> String {
        match self {
            Error::Postgres(e) => e.as_db_error().map_or_else(|| e.to_string(), |d| d.message().to_owned()),
            other => other.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_become_dollar_numbers_outside_quotes() {
        assert_eq!(placeholders("SELECT ?1, ?2 WHERE a = ?1"), "SELECT $1, $2 WHERE a = $1");
        assert_eq!(placeholders("SELECT ? , ?"), "SELECT $1 , $2");
        assert_eq!(placeholders("SELECT '?1', \"a?\" , ?3"), "SELECT '?1', \"a?\" , $3");
    }

    #[test]
    fn sqlite_rows_read_as_values() {
        let conn = Conn::sqlite(rusqlite::Connection::open_in_memory().unwrap());
        conn.execute_batch("CREATE TABLE t (a INTEGER, b TEXT, c BLOB)").unwrap();
        conn.execute("INSERT INTO t VALUES (?1, ?2, ?3)", params![7_i64, "x", vec![1_u8, 2]]).unwrap();
        conn.execute(
            "INSERT INTO t VALUES (?1, ?2, ?3)",
            params![None::<i64>, None::<String>, None::<Vec<u8>>],
        )
        .unwrap();
        let rows = conn
            .query_map("SELECT a, b, c FROM t ORDER BY a", params![], |r| {
                Ok((r.get::<Option<u32>>(0)?, r.get::<Option<String>>(1)?, r.get::<Option<Vec<u8>>>(2)?))
            })
            .unwrap()
            .collect::<Result<Vec<_>>>()
            .unwrap();
        assert_eq!(rows, vec![(None, None, None), (Some(7), Some("x".into()), Some(vec![1, 2]))]);
        let err = conn.query_row("SELECT b FROM t WHERE a = 7", params![], |r| r.get::<i64>(0)).unwrap_err();
        assert!(err.to_string().contains("expected an integer, found text"), "{err}");
        assert!(
            conn.query_row("SELECT a FROM t WHERE a = 8", params![], |r| r.get::<i64>(0))
                .optional()
                .unwrap()
                .is_none()
        );
    }
}
