//! Connected accounts ("connections"): how to reach each one and what to read from it.
//!
//! Customer secrets are never stored in plaintext: a connection refers to an environment
//! variable or a file that holds the secret access key, or keeps it sealed with the operator's
//! key (see [`crate::seal`]).

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};
use trustline_core::policy::permissions::DataSet;
use trustline_core::{AccountId, ExternalId, IntegrationKind, Region, RoleArn};

use super::sql::{self, Conn, OptionalExt, Row, params};
use super::{Store, now_text};

/// Where a connection's secret access key is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretRef {
    /// An environment variable of the worker's.
    Env(String),
    /// A file readable by the worker (e.g. a mounted Kubernetes secret).
    File(String),
    /// Sealed with the operator's key (`sealed:v2:<kid>:…`, or `sealed:v1:…` from before key IDs),
    /// bound to the connection's ID.
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
        if crate::seal::is_sealed(s) {
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
                let key = crate::seal::SealKeys::from_env()?.ok_or_else(|| {
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

pub use trustline_core::api::ConnectionStatus;

/// A stored status; anything unknown reads as active.
fn parse_status(s: &str) -> ConnectionStatus {
    match s {
        "suspended" => ConnectionStatus::Suspended,
        "removed" => ConnectionStatus::Removed,
        _ => ConnectionStatus::Active,
    }
}

/// How an Organization connection finds and reaches its member accounts: ListAccounts (or the
/// OU tree, when filtered) through its own role, then each member's StackSet-deployed role, with
/// the same ExternalId.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrgSettings {
    /// The role name the StackSet deployed in every member account.
    pub member_role: String,
    /// Only accounts in these OUs or roots, and their sub-OUs; empty means the whole organization.
    #[serde(default)]
    pub include_ous: Vec<String>,
    /// Never accounts in these OUs, and their sub-OUs.
    #[serde(default)]
    pub exclude_ous: Vec<String>,
}

impl OrgSettings {
    fn validate(&self) -> Result<()> {
        trustline_core::arn::validate_role_name(&self.member_role)
            .map_err(|e| anyhow::anyhow!("member role name: {e}"))?;
        for (flag, ids) in [("include-ou", &self.include_ous), ("exclude-ou", &self.exclude_ous)] {
            for id in ids {
                let ok = (id.starts_with("ou-") || id.starts_with("r-"))
                    && id.len() <= 68
                    && id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
                if !ok {
                    bail!("--{flag}: expected an OU ID (ou-ab12-cdef3456) or a root ID (r-ab12), got '{id}'");
                }
            }
        }
        Ok(())
    }
}

/// A member account found in an Organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// Its ID.
    pub account: AccountId,
    /// Its name in the Organization.
    pub name: Option<String>,
    /// ACTIVE in the Organization (SUSPENDED and PENDING_CLOSURE are not).
    pub active: bool,
}

/// What reconciling an Organization's member list changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct MemberChanges {
    /// Members found.
    pub found: u64,
    /// New member connections.
    pub added: u64,
    /// Members now suspended.
    pub suspended: u64,
    /// Members no longer in the Organization (or the OU filter).
    pub removed: u64,
    /// Members left out because another customer connected their account.
    pub refused: u64,
}

/// A customer's long-lived IAM user key (the STS and access-key kinds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerKey {
    /// The access key ID.
    pub access_key_id: String,
    /// Where its secret is (never the secret itself).
    pub secret: SecretRef,
}

/// A role the vendor assumes with an ExternalId issued to the connection's tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedRole {
    /// The customer's role.
    pub role: RoleArn,
    /// The ExternalId its trust policy requires.
    pub external_id: ExternalId,
    /// During an ExternalId rotation: the new one, accepted beside `external_id` until the
    /// rotation completes.
    pub next_external_id: Option<ExternalId>,
}

/// How Trustline reaches a connected account: each kind with exactly what it needs, so that a
/// connection that exists is one that can be reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    /// A cross-account role, assumed with the vendor's credentials and the ExternalId.
    CrossAccountRole(TrustedRole),
    /// An AWS Organization's management (or delegated-admin) role; every member is reached
    /// through the StackSet's role in it, with the same ExternalId.
    Organization(TrustedRole, OrgSettings),
    /// The customer's key, exchanged for the customer's role's short-lived credentials.
    Sts {
        /// The role the key assumes.
        role: RoleArn,
        /// An ExternalId, if that role requires one.
        external_id: Option<ExternalId>,
        /// The key.
        key: CustomerKey,
    },
    /// The customer's key, used as it is.
    AccessKey(CustomerKey),
    /// The worker's own credentials, running in the customer's account.
    SameAccountRole,
}

impl Access {
    /// The integration kind (an Organization is reached by cross-account roles).
    pub fn kind(&self) -> IntegrationKind {
        match self {
            Access::CrossAccountRole(_) | Access::Organization(..) => IntegrationKind::CrossAccountRole,
            Access::Sts { .. } => IntegrationKind::Sts,
            Access::AccessKey(_) => IntegrationKind::AccessKey,
            Access::SameAccountRole => IntegrationKind::SameAccountRole,
        }
    }

    /// The role assumed, for the kinds that assume one.
    pub fn role_arn(&self) -> Option<&RoleArn> {
        match self {
            Access::CrossAccountRole(t) | Access::Organization(t, _) => Some(&t.role),
            Access::Sts { role, .. } => Some(role),
            Access::AccessKey(_) | Access::SameAccountRole => None,
        }
    }

    /// The ExternalId presented, if any.
    pub fn external_id(&self) -> Option<&ExternalId> {
        match self {
            Access::CrossAccountRole(t) | Access::Organization(t, _) => Some(&t.external_id),
            Access::Sts { external_id, .. } => external_id.as_ref(),
            Access::AccessKey(_) | Access::SameAccountRole => None,
        }
    }

    /// The ExternalId a rotation is moving to, if one is in progress.
    pub fn next_external_id(&self) -> Option<&ExternalId> {
        match self {
            Access::CrossAccountRole(t) | Access::Organization(t, _) => t.next_external_id.as_ref(),
            _ => None,
        }
    }

    /// The customer's key, for the key kinds.
    pub fn key(&self) -> Option<&CustomerKey> {
        match self {
            Access::Sts { key, .. } | Access::AccessKey(key) => Some(key),
            _ => None,
        }
    }

    /// How an Organization connection discovers its members.
    pub fn org(&self) -> Option<&OrgSettings> {
        match self {
            Access::Organization(_, org) => Some(org),
            _ => None,
        }
    }
}

/// One connected account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    /// Short unique name: chosen by the operator on the CLI, generated (`c-…`) by the API.
    pub id: String,
    /// The vendor's customer it belongs to.
    pub tenant: String,
    /// Display name.
    pub name: String,
    /// How Trustline reaches the account.
    pub access: Access,
    /// The AWS account, once known.
    pub account_id: Option<AccountId>,
    /// What to read.
    pub data_sets: BTreeSet<DataSet>,
    /// Regions to read; empty means every enabled region (DescribeRegions).
    pub regions: Vec<Region>,
    /// Active, suspended or removed.
    pub status: ConnectionStatus,
    /// For a discovered member: its Organization connection.
    pub parent: Option<String>,
}

impl Connection {
    /// Checks a connection ID: 1–64 lower-case letters, digits and '-'.
    pub fn check_id(id: &str) -> Result<()> {
        let ok = !id.is_empty()
            && id.len() <= 64
            && id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !ok {
            bail!("use 1–64 lower-case letters, digits and '-', got '{id}'");
        }
        Ok(())
    }

    /// Checks that the connection has what its kind needs.
    pub fn validate(&self) -> Result<()> {
        Connection::check_id(&self.id).context("id")?;
        super::Tenant::check_id(&self.tenant).context("tenant")?;
        crate::text::check_name("name", &self.name).map_err(|e| anyhow::anyhow!("{e}"))?;
        if self.data_sets.is_empty() {
            bail!("data_sets: choose at least one of iam, ec2-network, cloudtrail");
        }
        if let Some(org) = self.access.org() {
            if self.id.len() > 51 {
                bail!(
                    "id: an organization connection's id may have at most 51 characters (its members are named ID-ACCOUNT)"
                );
            }
            if self.member_data_sets().is_empty() {
                bail!(
                    "data_sets: an organization connection needs at least one of iam, ec2-network, cloudtrail for its members"
                );
            }
            org.validate()?;
        }
        Ok(())
    }

    /// What members of this Organization connection read: its data sets but Organizations.
    pub fn member_data_sets(&self) -> BTreeSet<DataSet> {
        self.data_sets.iter().copied().filter(|d| *d != DataSet::Organizations).collect()
    }

    /// Whether this connection's own account is inventoried through its own role: every
    /// connection but a delegated admin's discovery role (whose name is not the members' role).
    pub fn syncs_own_account(&self) -> bool {
        match &self.access {
            Access::Organization(trusted, org) => trusted.role.name() == org.member_role,
            _ => true,
        }
    }

    /// The connection for `member` of this Organization connection.
    /// The connection ID of this Organization connection's member `account`.
    pub fn member_id(&self, account: AccountId) -> String {
        format!("{}-{}", self.id, account)
    }

    fn member_connection(&self, member: &Member) -> Result<Connection> {
        let Access::Organization(trusted, org) = &self.access else {
            bail!("{} is not an organization connection", self.id);
        };
        let partition = trusted.role.partition();
        Ok(Connection {
            id: self.member_id(member.account),
            tenant: self.tenant.clone(),
            name: member.name.clone().unwrap_or_else(|| member.account.to_string()),
            access: Access::CrossAccountRole(TrustedRole {
                role: RoleArn::new(partition, member.account, "/", &org.member_role)?,
                external_id: trusted.external_id.clone(),
                next_external_id: trusted.next_external_id.clone(),
            }),
            account_id: Some(member.account),
            data_sets: self.member_data_sets(),
            regions: self.regions.clone(),
            status: if member.active { ConnectionStatus::Active } else { ConnectionStatus::Suspended },
            parent: Some(self.id.clone()),
        })
    }

    fn from_row(row: &Row<'_>) -> sql::Result<Result<Connection>> {
        let get = |i: usize| row.get::<Option<String>>(i);
        let (org, parent, tenant, next) = (get(11)?, get(12)?, row.get::<String>(13)?, get(14)?);
        let (id, name, kind, account, role, ext, key, secret, sets, regions, status) = (
            row.get::<String>(0)?,
            row.get::<String>(1)?,
            row.get::<String>(2)?,
            get(3)?,
            get(4)?,
            get(5)?,
            get(6)?,
            get(7)?,
            row.get::<String>(8)?,
            row.get::<String>(9)?,
            row.get::<String>(10)?,
        );
        Ok((|| -> Result<Connection> {
            let kind: IntegrationKind = kind.parse()?;
            let role: Option<RoleArn> = role.map(|a| a.parse()).transpose()?;
            let external_id: Option<ExternalId> = ext.map(|a| a.parse()).transpose()?;
            let next_external_id: Option<ExternalId> = next.map(|a| a.parse()).transpose()?;
            let key = match (key, secret) {
                (Some(access_key_id), Some(secret)) => {
                    Some(CustomerKey { access_key_id, secret: secret.parse()? })
                }
                _ => None,
            };
            let org: Option<OrgSettings> = org.map(|o| serde_json::from_str(&o)).transpose()?;
            let trusted = || -> Result<TrustedRole> {
                Ok(TrustedRole {
                    role: role.clone().context("no role")?,
                    external_id: external_id.clone().context("no ExternalId")?,
                    next_external_id: next_external_id.clone(),
                })
            };
            let access = match (kind, org) {
                (IntegrationKind::CrossAccountRole, Some(org)) => Access::Organization(trusted()?, org),
                (IntegrationKind::CrossAccountRole, None) => Access::CrossAccountRole(trusted()?),
                (IntegrationKind::Sts, _) => Access::Sts {
                    role: role.context("no role")?,
                    external_id,
                    key: key.context("no access key")?,
                },
                (IntegrationKind::AccessKey, _) => Access::AccessKey(key.context("no access key")?),
                (IntegrationKind::SameAccountRole, _) => Access::SameAccountRole,
            };
            Ok(Connection {
                access,
                account_id: account.map(|a| a.parse()).transpose()?,
                data_sets: serde_json::from_str(&sets)?,
                regions: serde_json::from_str(&regions)?,
                status: parse_status(&status),
                parent,
                id,
                tenant,
                name,
            })
        })()
        .with_context(|| "a connection row in the store is unreadable"))
    }
}

const COLUMNS: &str = "id, name, kind, account_id, role_arn, external_id, access_key_id, secret_ref, data_sets, regions, status, org, parent_id, tenant_id, next_external_id";
const PLACEHOLDERS: &str = "?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16";

/// A connection's row: [`COLUMNS`], then `created_at`.
fn row_values(c: &Connection) -> Result<Vec<sql::Value>> {
    use sql::Value as V;
    let text = |s: Option<String>| s.map_or(V::Null, V::Text);
    Ok(vec![
        V::Text(c.id.clone()),
        V::Text(c.name.clone()),
        V::Text(c.access.kind().id().to_owned()),
        text(c.account_id.map(|a| a.to_string())),
        text(c.access.role_arn().map(ToString::to_string)),
        text(c.access.external_id().map(ToString::to_string)),
        text(c.access.key().map(|k| k.access_key_id.clone())),
        text(c.access.key().map(|k| k.secret.to_string())),
        V::Text(serde_json::to_string(&c.data_sets)?),
        V::Text(serde_json::to_string(&c.regions)?),
        V::Text(c.status.as_str().to_owned()),
        text(c.access.org().map(serde_json::to_string).transpose()?),
        text(c.parent.clone()),
        V::Text(c.tenant.clone()),
        text(c.access.next_external_id().map(ToString::to_string)),
        V::Text(now_text()),
    ])
}

/// [`row_values`] as parameters.
fn bind(values: &[sql::Value]) -> Vec<&dyn sql::ToValue> {
    values.iter().map(|v| v as &dyn sql::ToValue).collect()
}

/// Why a connection could not be added.
#[derive(Debug)]
pub enum AddRefused {
    /// The id is taken.
    IdTaken,
    /// The tenant does not exist.
    NoTenant,
    /// The same tenant already connected this role (as the connection named).
    RoleConnected(String),
    /// The role or its account is connected by another tenant. Which one is never said.
    OtherTenant,
    /// The ExternalId was not issued to the connection's tenant, or is retired or expired.
    ExternalIdNotIssued,
    /// The tenant has as many connections as it may.
    Quota(u32),
}

impl fmt::Display for AddRefused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AddRefused::IdTaken => {
                f.write_str("a connection with this id already exists; remove it first or choose another id")
            }
            AddRefused::NoTenant => f.write_str("no such tenant; add it first (`trustline tenants add`)"),
            AddRefused::RoleConnected(id) => {
                write!(f, "this role is already connected, as connection {id}")
            }
            AddRefused::OtherTenant => f.write_str(
                "this role or its account is already connected; an AWS account can belong to one customer only",
            ),
            AddRefused::ExternalIdNotIssued => f.write_str(
                "this ExternalId was not issued to this customer (or is retired or expired); use the one Trustline issued",
            ),
            AddRefused::Quota(max) => {
                write!(f, "this customer already has {max} connections, its limit; remove one or raise the limit")
            }
        }
    }
}

impl std::error::Error for AddRefused {}

/// A new opaque connection id, `c-` and 80 random bits: it says nothing about the account or
/// the customer, and nobody can claim another customer's id in advance.
pub fn new_connection_id() -> String {
    let mut bytes = [0u8; 10];
    getrandom::fill(&mut bytes)
        .unwrap_or_else(|e| panic!("the operating system's random number generator failed: {e}"));
    format!("c-{}", data_encoding::BASE32_NOPAD.encode(&bytes).to_lowercase())
}

/// Deletes a connection's row and everything recorded for it.
pub(super) fn delete_connection_rows(tx: &Conn, id: &str) -> Result<usize> {
    let removed = tx.execute("DELETE FROM connections WHERE id = ?1", params![id])?;
    for table in [
        "resources",
        "events",
        "cursors",
        "changes",
        "account_runs",
        "webhook_change_cursors",
        "postures",
        "posture_history",
    ] {
        tx.execute(&format!("DELETE FROM {table} WHERE connection_id = ?1"), params![id])?;
    }
    Ok(removed)
}

impl Store {
    /// Adds a connection for its tenant. Refused (an [`AddRefused`] in the error) when the id
    /// is taken, the role or account belongs to another tenant, or the ExternalId was not issued
    /// to this tenant; an ExternalId in use no longer expires. One transaction: two registrations
    /// of one role at once yield one connection.
    pub fn add_connection(&mut self, c: &Connection) -> Result<()> {
        self.add_connection_within(c, None)
    }

    /// [`Store::add_connection`], refused when the tenant already has `quota` connections.
    pub fn add_connection_within(&mut self, c: &Connection, quota: Option<u32>) -> Result<()> {
        self.insert_connection(c, quota, false)
    }

    /// [`Store::add_connection_within`] for a connection that has just verified: its
    /// `connection.verified` webhook event is enqueued in the same transaction.
    pub fn add_verified_connection(&mut self, c: &Connection, quota: Option<u32>) -> Result<()> {
        self.insert_connection(c, quota, true)
    }

    fn insert_connection(&mut self, c: &Connection, quota: Option<u32>, verified: bool) -> Result<()> {
        c.validate()?;
        let now = time::OffsetDateTime::now_utc();
        if self.tenant(&c.tenant)?.is_none() {
            return Err(AddRefused::NoTenant.into());
        }
        for ext in c.access.external_id().iter().chain(&c.access.next_external_id()) {
            if !self.usable_external_id(&c.tenant, ext, now)? {
                return Err(AddRefused::ExternalIdNotIssued.into());
            }
        }
        let tx = super::write_transaction(&mut self.db)?;
        if let Some(max) = quota {
            let count: u32 = tx.query_row(
                "SELECT COUNT(*) FROM connections WHERE tenant_id = ?1 AND parent_id IS NULL",
                params![c.tenant],
                |r| r.get(0),
            )?;
            if count >= max {
                return Err(AddRefused::Quota(max).into());
            }
        }
        // Refused when the role is connected already: by this tenant (naming the connection) or
        // by another.
        let role_refusal = || -> Result<Option<AddRefused>> {
            let Some(role) = c.access.role_arn() else { return Ok(None) };
            let owner: Option<(String, String)> = tx
                .query_row(
                    "SELECT id, tenant_id FROM connections WHERE role_arn = ?1",
                    params![role.to_string()],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            Ok(owner.map(|(id, tenant)| {
                if tenant == c.tenant { AddRefused::RoleConnected(id) } else { AddRefused::OtherTenant }
            }))
        };
        if let Some(refused) = role_refusal()? {
            return Err(refused.into());
        }
        let values = row_values(c)?;
        let inserted = tx.execute(
            &format!(
                "INSERT INTO connections ({COLUMNS}, created_at) VALUES ({PLACEHOLDERS}) ON CONFLICT DO NOTHING"
            ),
            &bind(&values),
        );
        match inserted {
            // The id, or (on PostgreSQL, whose READ COMMITTED lets another transaction connect
            // the role since the check above) the role, is taken: a new statement sees which.
            Ok(0) => return Err(role_refusal()?.unwrap_or(AddRefused::IdTaken).into()),
            Ok(_) => {}
            // The one-tenant-per-account trigger (SQLite's RAISE, PostgreSQL's RAISE EXCEPTION).
            Err(e) if e.message().contains("account connected by another tenant") => {
                return Err(AddRefused::OtherTenant.into());
            }
            Err(e) => return Err(e.into()),
        }
        for ext in c.access.external_id().iter().chain(&c.access.next_external_id()) {
            Store::keep_external_id(&tx, ext)?;
        }
        if verified {
            super::webhooks::enqueue_connection_verified(&tx, c)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Every connection, by id.
    pub fn connections(&self) -> Result<Vec<Connection>> {
        let mut stmt = self.db.prepare(&format!("SELECT {COLUMNS} FROM connections ORDER BY id"))?;
        let rows = stmt.query_map(params![], Connection::from_row)?;
        rows.map(|r| r?).collect()
    }

    /// A tenant's connections, by id.
    pub fn tenant_connections(&self, tenant: &str) -> Result<Vec<Connection>> {
        let mut stmt = self
            .db
            .prepare(&format!("SELECT {COLUMNS} FROM connections WHERE tenant_id = ?1 ORDER BY id"))?;
        let rows = stmt.query_map(params![tenant], Connection::from_row)?;
        rows.map(|r| r?).collect()
    }

    /// One of a tenant's connections; another tenant's is not found.
    pub fn tenant_connection(&self, tenant: &str, id: &str) -> Result<Option<Connection>> {
        Ok(self.connection(id)?.filter(|c| c.tenant == tenant))
    }

    /// Starts an ExternalId rotation: `next` (already issued to the tenant) is accepted beside
    /// the current one until [`Store::complete_rotation`].
    pub fn begin_rotation(&mut self, id: &str, next: &ExternalId) -> Result<()> {
        let tx = super::write_transaction(&mut self.db)?;
        tx.execute(
            "UPDATE connections SET next_external_id = ?2 WHERE id = ?1 OR parent_id = ?1",
            params![id, next.as_str()],
        )?;
        Store::keep_external_id(&tx, next)?;
        tx.commit()?;
        Ok(())
    }

    /// Completes a rotation: the new ExternalId becomes the only one (for an Organization
    /// connection's members too), and the old one is retired once no connection uses it.
    pub fn complete_rotation(&mut self, id: &str) -> Result<()> {
        let c = self.connection(id)?.context("no such connection")?;
        let (Some(old), Some(next)) = (c.access.external_id(), c.access.next_external_id()) else {
            bail!("connection {id} has no rotation in progress");
        };
        let tx = super::write_transaction(&mut self.db)?;
        tx.execute(
            "UPDATE connections SET external_id = ?2, next_external_id = NULL WHERE id = ?1 OR parent_id = ?1",
            params![id, next.as_str()],
        )?;
        let still_used: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM connections WHERE external_id = ?1 OR next_external_id = ?1)",
            params![old.as_str()],
            |r| r.get(0),
        )?;
        if !still_used {
            tx.execute(
                "UPDATE external_ids SET retired_at = ?2 WHERE value = ?1",
                params![old.as_str(), now_text()],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// One connection.
    pub fn connection(&self, id: &str) -> Result<Option<Connection>> {
        let row = self
            .db
            .query_row(
                &format!("SELECT {COLUMNS} FROM connections WHERE id = ?1"),
                params![id],
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

    /// Removes a connection and everything recorded for it (an Organization connection's
    /// members too), in one transaction.
    pub fn remove_connection(&mut self, id: &str) -> Result<bool> {
        let tx = super::write_transaction(&mut self.db)?;
        let mut ids: Vec<String> = {
            let mut stmt = tx.prepare("SELECT id FROM connections WHERE parent_id = ?1")?;
            stmt.query_map(params![id], |r| r.get(0))?.collect::<sql::Result<_>>()?
        };
        ids.push(id.to_owned());
        let mut removed = 0;
        for id in &ids {
            removed += delete_connection_rows(&tx, id)?;
        }
        tx.commit()?;
        Ok(removed > 0)
    }

    /// Brings in the members found on one page of an Organization's listing, in one
    /// transaction, while the listing goes on: new accounts become connections with a lease (a
    /// run takes them from the next claim on), known ones follow the Organization connection's
    /// role, ExternalId, data sets and regions, and suspended ones are skipped from now on.
    /// [`Store::retire_members`] marks the members no longer found once the listing is complete.
    pub fn admit_members(&mut self, org: &Connection, found: &[Member]) -> Result<MemberChanges> {
        let mut changes = MemberChanges { found: found.len() as u64, ..MemberChanges::default() };
        let tx = super::write_transaction(&mut self.db)?;
        for member in found {
            let c = org.member_connection(member)?;
            c.validate()?;
            let before: Option<ConnectionStatus> = tx
                .query_row("SELECT status FROM connections WHERE id = ?1", params![c.id], |r| {
                    r.get::<String>(0)
                })
                .optional()?
                .map(|s| parse_status(&s));
            // A member account (or its role) connected by another tenant stays that tenant's:
            // the store's constraints refuse the row, and the member is left out.
            let taken: bool = tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM connections WHERE tenant_id <> ?1
                   AND (account_id = ?2 OR role_arn = ?3))",
                params![
                    c.tenant,
                    member.account.to_string(),
                    c.access.role_arn().as_ref().map(ToString::to_string)
                ],
                |r| r.get(0),
            )?;
            if taken {
                tracing::warn!(
                    organization = %org.id,
                    account = %member.account,
                    "member account left out: it is connected by another customer"
                );
                changes.refused += 1;
                continue;
            }
            if before.is_none() {
                changes.added += 1;
            }
            if c.status == ConnectionStatus::Suspended && before != Some(ConnectionStatus::Suspended) {
                changes.suspended += 1;
            }
            tx.execute(
                &format!(
                    "INSERT INTO connections ({COLUMNS}, created_at) VALUES ({PLACEHOLDERS})
                     ON CONFLICT(id) DO UPDATE SET name = excluded.name, role_arn = excluded.role_arn,
                       external_id = excluded.external_id, next_external_id = excluded.next_external_id,
                       data_sets = excluded.data_sets, regions = excluded.regions, status = excluded.status"
                ),
                &bind(&row_values(&c)?),
            )?;
            tx.execute(
                "INSERT INTO leases (connection_id) VALUES (?1) ON CONFLICT DO NOTHING",
                params![c.id],
            )?;
        }
        tx.commit()?;
        Ok(changes)
    }

    /// Marks removed the members of `org` that its complete listing, `found`, no longer has
    /// (their inventory kept, as stale); returns how many.
    pub fn retire_members(&mut self, org: &Connection, found: &[Member]) -> Result<u64> {
        let seen = found.iter().map(|m| org.member_id(m.account)).collect::<BTreeSet<_>>();
        let tx = super::write_transaction(&mut self.db)?;
        let existing: Vec<(String, String)> = {
            let mut stmt = tx.prepare("SELECT id, status FROM connections WHERE parent_id = ?1")?;
            stmt.query_map(params![org.id], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<sql::Result<_>>()?
        };
        let mut removed = 0;
        for (id, status) in existing {
            if seen.contains(&id) || parse_status(&status) == ConnectionStatus::Removed {
                continue;
            }
            tx.execute("UPDATE connections SET status = 'removed' WHERE id = ?1", params![id])?;
            removed += 1;
        }
        tx.commit()?;
        Ok(removed)
    }
}
