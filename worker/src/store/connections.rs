//! Connected accounts ("connections"): how to reach each one and what to read from it.
//!
//! Customer secrets are never stored in plaintext: a connection refers to an environment
//! variable or a file that holds the secret access key, or keeps it sealed with the operator's
//! key (see [`crate::seal`]).

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use anyhow::{Context, Result, bail};
use rusqlite::{OptionalExtension, Row, params};
use trustline_core::policy::permissions::DataSet;
use trustline_core::{AccountId, ExternalId, IntegrationKind, Region, RoleArn};

use super::{Store, now_text};

/// Where a connection's secret access key is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretRef {
    /// An environment variable of the worker's.
    Env(String),
    /// A file readable by the worker (e.g. a mounted Kubernetes secret).
    File(String),
    /// Sealed with the operator's key (`sealed:v1:…`), bound to the connection's ID.
    Sealed(String),
}

impl fmt::Display for SecretRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretRef::Env(v) => write!(f, "env:{v}"),
            SecretRef::File(p) => write!(f, "file:{p}"),
            SecretRef::Sealed(s) => f.write_str(s),
        }
    }
}

impl FromStr for SecretRef {
    type Err = anyhow::Error;
    fn from_str(s: &str) -> Result<Self> {
        if s.starts_with(crate::seal::PREFIX) {
            return Ok(SecretRef::Sealed(s.to_owned()));
        }
        match s.split_once(':') {
            Some(("env", var))
                if !var.is_empty() && var.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') =>
            {
                Ok(SecretRef::Env(var.to_owned()))
            }
            Some(("file", path)) if path.starts_with('/') => Ok(SecretRef::File(path.to_owned())),
            _ => bail!(
                "expected env:VARIABLE or file:/absolute/path for the secret access key (Trustline never stores the secret itself), got '{s}'"
            ),
        }
    }
}

impl SecretRef {
    /// Where the secret is, for people: the reference, or "sealed" (never the ciphertext).
    pub fn describe(&self) -> String {
        match self {
            SecretRef::Sealed(_) => format!("sealed (opened with {})", crate::seal::KEY_ENV),
            other => other.to_string(),
        }
    }

    /// Reads the secret of the connection `id`; the error names where it looked, never the value.
    pub fn read(&self, id: &str) -> Result<trustline_core::Secret> {
        let value = match self {
            SecretRef::Sealed(sealed) => {
                let key = crate::seal::SealKey::from_env()?.ok_or_else(|| {
                    anyhow::anyhow!(
                        "connection {id}'s secret is sealed: set {} (or {}) to the key it was sealed with",
                        crate::seal::KEY_ENV,
                        crate::seal::KEY_FILE_ENV
                    )
                })?;
                return key.open(sealed, id);
            }
            SecretRef::Env(var) => {
                std::env::var(var).with_context(|| format!("environment variable {var} is not set"))?
            }
            SecretRef::File(path) => {
                std::fs::read_to_string(path).with_context(|| format!("reading the secret file {path}"))?
            }
        };
        let value = value.trim();
        if value.is_empty() {
            bail!("the secret at {self} is empty");
        }
        Ok(trustline_core::Secret::new(value))
    }
}

/// Whether a connection is synced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectionStatus {
    /// Synced on every run.
    Active,
    /// The account is suspended in its Organization: skipped, its inventory kept and marked stale.
    Suspended,
}

impl ConnectionStatus {
    fn as_str(self) -> &'static str {
        match self {
            ConnectionStatus::Active => "active",
            ConnectionStatus::Suspended => "suspended",
        }
    }
}

/// One connected account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    /// Short unique name chosen by the operator (`acme-prod`).
    pub id: String,
    /// Display name.
    pub name: String,
    /// How credentials are obtained.
    pub kind: IntegrationKind,
    /// The AWS account, once known.
    pub account_id: Option<AccountId>,
    /// The role to assume (cross-account and STS kinds).
    pub role_arn: Option<RoleArn>,
    /// The ExternalId for the role (cross-account kind).
    pub external_id: Option<ExternalId>,
    /// The customer's access key ID (STS and access-key kinds).
    pub access_key_id: Option<String>,
    /// Where the customer's secret access key is (STS and access-key kinds).
    pub secret_ref: Option<SecretRef>,
    /// What to read.
    pub data_sets: BTreeSet<DataSet>,
    /// Regions to read; empty means every enabled region (DescribeRegions).
    pub regions: Vec<Region>,
    /// Active or suspended.
    pub status: ConnectionStatus,
}

impl Connection {
    /// Checks a connection ID: 1–64 lower-case letters, digits and '-'.
    pub fn check_id(id: &str) -> Result<()> {
        let ok = !id.is_empty()
            && id.len() <= 64
            && id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !ok {
            bail!("id: use 1–64 lower-case letters, digits and '-', got '{id}'");
        }
        Ok(())
    }

    /// Checks that the connection has what its kind needs.
    pub fn validate(&self) -> Result<()> {
        Connection::check_id(&self.id)?;
        match self.kind {
            IntegrationKind::CrossAccountRole => {
                if self.role_arn.is_none() || self.external_id.is_none() {
                    bail!("a cross-account-role connection needs --role-arn and --external-id");
                }
            }
            IntegrationKind::Sts => {
                if self.role_arn.is_none() || self.access_key_id.is_none() || self.secret_ref.is_none() {
                    bail!(
                        "an sts connection needs --role-arn, --access-key-id and --secret (env:VAR or file:/path)"
                    );
                }
            }
            IntegrationKind::AccessKey => {
                if self.access_key_id.is_none() || self.secret_ref.is_none() {
                    bail!(
                        "an access-key connection needs --access-key-id and --secret (env:VAR or file:/path)"
                    );
                }
            }
            IntegrationKind::SameAccountRole => {}
        }
        if self.data_sets.is_empty() {
            bail!("data_sets: choose at least one of iam, ec2-network, cloudtrail");
        }
        Ok(())
    }

    fn from_row(row: &Row<'_>) -> rusqlite::Result<Result<Connection>> {
        let get = |i: usize| row.get::<_, Option<String>>(i);
        let (id, name, kind, account, role, ext, key, secret, sets, regions, status) = (
            row.get::<_, String>(0)?,
            row.get::<_, String>(1)?,
            row.get::<_, String>(2)?,
            get(3)?,
            get(4)?,
            get(5)?,
            get(6)?,
            get(7)?,
            row.get::<_, String>(8)?,
            row.get::<_, String>(9)?,
            row.get::<_, String>(10)?,
        );
        Ok((|| -> Result<Connection> {
            Ok(Connection {
                kind: kind.parse()?,
                account_id: account.map(|a| a.parse()).transpose()?,
                role_arn: role.map(|a| a.parse()).transpose()?,
                external_id: ext.map(|a| a.parse()).transpose()?,
                access_key_id: key,
                secret_ref: secret.map(|s| s.parse()).transpose()?,
                data_sets: serde_json::from_str(&sets)?,
                regions: serde_json::from_str(&regions)?,
                status: if status == "suspended" {
                    ConnectionStatus::Suspended
                } else {
                    ConnectionStatus::Active
                },
                id,
                name,
            })
        })()
        .with_context(|| "a connection row in the store is unreadable"))
    }
}

const COLUMNS: &str = "id, name, kind, account_id, role_arn, external_id, access_key_id, secret_ref, data_sets, regions, status";

impl Store {
    /// Adds a connection; fails if the id is taken.
    pub fn add_connection(&mut self, c: &Connection) -> Result<()> {
        c.validate()?;
        let inserted = self.db.execute(
            &format!("INSERT OR IGNORE INTO connections ({COLUMNS}, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"),
            params![
                c.id,
                c.name,
                c.kind.id(),
                c.account_id.map(|a| a.to_string()),
                c.role_arn.as_ref().map(ToString::to_string),
                c.external_id.as_ref().map(ToString::to_string),
                c.access_key_id,
                c.secret_ref.as_ref().map(ToString::to_string),
                serde_json::to_string(&c.data_sets)?,
                serde_json::to_string(&c.regions)?,
                c.status.as_str(),
                now_text(),
            ],
        )?;
        if inserted == 0 {
            bail!("a connection with id '{}' already exists; remove it first or choose another id", c.id);
        }
        Ok(())
    }

    /// Every connection, by id.
    pub fn connections(&self) -> Result<Vec<Connection>> {
        let mut stmt = self.db.prepare(&format!("SELECT {COLUMNS} FROM connections ORDER BY id"))?;
        let rows = stmt.query_map([], Connection::from_row)?;
        rows.map(|r| r?).collect()
    }

    /// One connection.
    pub fn connection(&self, id: &str) -> Result<Option<Connection>> {
        let row = self
            .db
            .query_row(
                &format!("SELECT {COLUMNS} FROM connections WHERE id = ?1"),
                [id],
                Connection::from_row,
            )
            .optional()?;
        row.transpose()
    }

    /// Records the account ID learnt from GetCallerIdentity.
    pub fn set_account_id(&mut self, id: &str, account: AccountId) -> Result<()> {
        self.db.execute(
            "UPDATE connections SET account_id = ?2 WHERE id = ?1",
            params![id, account.to_string()],
        )?;
        Ok(())
    }

    /// Removes a connection and everything recorded for it, in one transaction.
    pub fn remove_connection(&mut self, id: &str) -> Result<bool> {
        let tx = self.db.transaction()?;
        let removed = tx.execute("DELETE FROM connections WHERE id = ?1", [id])?;
        for table in ["resources", "events", "cursors", "changes", "account_runs"] {
            tx.execute(&format!("DELETE FROM {table} WHERE connection_id = ?1"), [id])?;
        }
        tx.commit()?;
        Ok(removed > 0)
    }
}
