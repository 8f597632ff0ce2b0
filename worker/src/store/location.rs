//! Where the store lives: a SQLite file (the default, embedded) or a PostgreSQL database shared
//! by several workers. Written as `--store` / `TRUSTLINE_STORE` take it: `sqlite:PATH`, a bare
//! path, or `postgres://USER:PASSWORD@HOST:PORT/DATABASE` (also `postgresql://`).

use std::fmt;
use std::path::PathBuf;

/// A store's location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A SQLite file.
    Sqlite(PathBuf),
    /// A PostgreSQL database.
    Postgres(PgUrl),
}

/// A PostgreSQL connection URL. Shown with its password replaced by `***`, so it can be
/// logged and printed; the password itself is used only to connect.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PgUrl(String);

impl PgUrl {
    /// The URL as given, password included (to connect with).
    pub fn secret_text(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PgUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match url::Url::parse(&self.0) {
            Ok(mut u) => {
                if u.password().is_some() {
                    let _ = u.set_password(Some("***"));
                }
                f.write_str(u.as_str())
            }
            Err(_) => f.write_str("postgres://(unreadable URL)"),
        }
    }
}

impl fmt::Debug for PgUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PgUrl({self})")
    }
}

impl Location {
    /// Reads a `--store` value; `Err` names the fix.
    pub fn parse(text: &str) -> Result<Location, String> {
        let text = text.trim();
        if text.is_empty() {
            return Err("the store is empty: pass a SQLite file's path or a postgres:// URL".into());
        }
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            let config: postgres::Config = text.parse().map_err(|e| {
                format!("the PostgreSQL URL is not readable ({e}); write postgres://USER:PASSWORD@HOST:PORT/DATABASE")
            })?;
            if config.get_dbname().is_none() {
                return Err(
                    "the PostgreSQL URL names no database; write postgres://USER:PASSWORD@HOST:PORT/DATABASE"
                        .into(),
                );
            }
            return Ok(Location::Postgres(PgUrl(text.to_owned())));
        }
        if let Some(scheme) = text.split_once("://").map(|(s, _)| s) {
            return Err(format!(
                "{scheme}:// is not a store Trustline knows; pass a SQLite file's path (or sqlite:PATH) or a postgres:// URL"
            ));
        }
        let path = text.strip_prefix("sqlite:").unwrap_or(text);
        if path.is_empty() {
            return Err("sqlite: names no file; write sqlite:PATH".into());
        }
        Ok(Location::Sqlite(PathBuf::from(path)))
    }

    /// The SQLite file, if the store is one.
    pub fn sqlite_path(&self) -> Option<&std::path::Path> {
        match self {
            Location::Sqlite(p) => Some(p),
            Location::Postgres(_) => None,
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Sqlite(p) => write!(f, "{}", p.display()),
            Location::Postgres(u) => u.fmt(f),
        }
    }
}

impl From<&Location> for Location {
    fn from(l: &Location) -> Location {
        l.clone()
    }
}

impl From<&std::path::Path> for Location {
    fn from(p: &std::path::Path) -> Location {
        Location::Sqlite(p.to_owned())
    }
}

impl From<&PathBuf> for Location {
    fn from(p: &PathBuf) -> Location {
        Location::Sqlite(p.clone())
    }
}

impl From<PathBuf> for Location {
    fn from(p: PathBuf) -> Location {
        Location::Sqlite(p)
    }
}

impl std::str::FromStr for Location {
    type Err = String;
    fn from_str(s: &str) -> Result<Location, String> {
        Location::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_store_is_a_path_a_sqlite_url_or_a_postgres_url() {
        assert_eq!(Location::parse("inv.db").unwrap(), Location::Sqlite("inv.db".into()));
        assert_eq!(Location::parse("sqlite:/var/t.db").unwrap(), Location::Sqlite("/var/t.db".into()));
        let pg = Location::parse("postgres://app:hunter2@db.internal:5432/trustline").unwrap();
        assert_eq!(pg.to_string(), "postgres://app:***@db.internal:5432/trustline");
        assert!(!format!("{pg:?}").contains("hunter2"));
        let err = Location::parse("postgres://db.internal:5432").unwrap_err();
        assert!(err.contains("names no database"), "{err}");
        let err = Location::parse("mysql://db/x").unwrap_err();
        assert!(err.contains("mysql:// is not a store"), "{err}");
        assert!(Location::parse("  ").is_err());
    }
}
