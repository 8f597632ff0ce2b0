//! Tenants — the vendor's customers — and what belongs to each: the ExternalIds the worker
//! issued to it and its short-lived browser sessions.
//!
//! The tenant is the API's security boundary. An ExternalId is issued by the worker only (never
//! chosen by a customer), recorded against one tenant, and unique across the store by the
//! table's primary key; an unused one expires. Sessions are stored as the SHA-256 of their token,
//! so a copy of the store does not hand out live sessions.

use anyhow::{Context, Result, bail};
use serde::Serialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use trustline_core::ExternalId;

use super::sql::{self, Conn, OptionalExt, params};
use super::{Store, timestamp};

/// The tenant every store has, and that stores from before tenants were migrated into.
pub const DEFAULT_TENANT: &str = "default";

/// The prefix of a browser session's token, so it is recognised in logs and secret scanners.
pub const SESSION_PREFIX: &str = "tl_session_";

/// One of the vendor's customers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tenant {
    /// The vendor's own id for the customer.
    pub id: String,
    /// Display name.
    pub name: String,
    /// How many connections it may register (an Organization's discovered members not counted).
    pub max_connections: u32,
    /// When it was added.
    pub created_at: String,
}

impl Tenant {
    /// Checks a tenant id: 1–64 ASCII letters, digits, `-`, `_` or `.`, not starting with `.`.
    pub fn check_id(id: &str) -> Result<()> {
        let ok = !id.is_empty()
            && id.len() <= 64
            && !id.starts_with('.')
            && id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
        if !ok {
            bail!("use 1–64 letters, digits, '-', '_' or '.' (not starting with '.'), got {id:?}");
        }
        Ok(())
    }
}

/// An ExternalId the worker issued to a tenant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IssuedExternalId {
    /// The value, as it goes into the customer's trust policy.
    pub external_id: ExternalId,
    /// The tenant it was issued to.
    pub tenant: String,
    /// When it was issued.
    pub issued_at: String,
    /// When it stops being accepted if no connection uses it by then (`None` once one does).
    pub expires_at: Option<String>,
}

/// A browser session for one tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// Its tenant.
    pub tenant: String,
    /// When it stops working.
    pub expires_at: time::OffsetDateTime,
}

/// The SHA-256 of a session token, as stored.
fn token_hash(token: &str) -> String {
    data_encoding::HEXLOWER.encode(&Sha256::digest(token.as_bytes()))
}

fn parse_time(text: &str) -> Result<time::OffsetDateTime> {
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .with_context(|| format!("a time in the store is unreadable: {text:?}"))
}

impl Store {
    /// Adds a tenant; fails naming the id if it exists.
    pub fn add_tenant(&mut self, id: &str, name: &str, max_connections: u32) -> Result<Tenant> {
        Tenant::check_id(id).context("tenant id")?;
        let now = timestamp(time::OffsetDateTime::now_utc());
        let inserted = self.db.execute(
            "INSERT INTO tenants (id, name, max_connections, created_at) VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
            params![id, name, max_connections, now],
        )?;
        if inserted == 0 {
            bail!("a tenant '{id}' already exists");
        }
        Ok(Tenant { id: id.to_owned(), name: name.to_owned(), max_connections, created_at: now })
    }

    /// Every tenant, by id.
    pub fn tenants(&self) -> Result<Vec<Tenant>> {
        let mut stmt =
            self.db.prepare("SELECT id, name, max_connections, created_at FROM tenants ORDER BY id")?;
        let rows = stmt.query_map(params![], |r| {
            Ok(Tenant { id: r.get(0)?, name: r.get(1)?, max_connections: r.get(2)?, created_at: r.get(3)? })
        })?;
        Ok(rows.collect::<sql::Result<_>>()?)
    }

    /// One tenant.
    pub fn tenant(&self, id: &str) -> Result<Option<Tenant>> {
        Ok(self
            .db
            .query_row(
                "SELECT id, name, max_connections, created_at FROM tenants WHERE id = ?1",
                params![id],
                |r| {
                    Ok(Tenant {
                        id: r.get(0)?,
                        name: r.get(1)?,
                        max_connections: r.get(2)?,
                        created_at: r.get(3)?,
                    })
                },
            )
            .optional()?)
    }

    /// Removes a tenant with its connections (and their inventory), ExternalIds and sessions,
    /// in one transaction. Returns whether it existed.
    pub fn remove_tenant(&mut self, id: &str) -> Result<bool> {
        let ids: Vec<String> = {
            let mut stmt = self.db.prepare("SELECT id FROM connections WHERE tenant_id = ?1")?;
            stmt.query_map(params![id], |r| r.get(0))?.collect::<sql::Result<_>>()?
        };
        let tx = super::write_transaction(&mut self.db)?;
        for connection in &ids {
            super::connections::delete_connection_rows(&tx, connection)?;
        }
        tx.execute("DELETE FROM sessions WHERE tenant_id = ?1", params![id])?;
        tx.execute("DELETE FROM external_ids WHERE tenant_id = ?1", params![id])?;
        let removed = tx.execute("DELETE FROM tenants WHERE id = ?1", params![id])?;
        tx.commit()?;
        Ok(removed > 0)
    }

    /// How many connections a tenant registered itself (discovered members not counted).
    pub fn tenant_connection_count(&self, tenant: &str) -> Result<u32> {
        Ok(self.db.query_row(
            "SELECT COUNT(*) FROM connections WHERE tenant_id = ?1 AND parent_id IS NULL",
            params![tenant],
            |r| r.get(0),
        )?)
    }

    /// The ExternalId a tenant onboards with now: its newest one that is neither retired nor
    /// expired, or a new one issued with `issue` (valid for `unused_ttl` until a connection uses
    /// it). One per customer, as AWS recommends; rotation gives a connection a newer one.
    pub fn onboarding_external_id(
        &mut self,
        tenant: &str,
        now: time::OffsetDateTime,
        unused_ttl: time::Duration,
        issue: impl FnMut() -> Result<ExternalId>,
    ) -> Result<IssuedExternalId> {
        let now_text = timestamp(now);
        let current = self
            .db
            .query_row(
                "SELECT value, issued_at, expires_at FROM external_ids
                 WHERE tenant_id = ?1 AND retired_at IS NULL AND (expires_at IS NULL OR expires_at > ?2)
                 ORDER BY issued_at DESC, rowid DESC LIMIT 1",
                params![tenant, now_text],
                |r| Ok((r.get::<String>(0)?, r.get::<String>(1)?, r.get::<Option<String>>(2)?)),
            )
            .optional()?;
        if let Some((value, issued_at, expires_at)) = current {
            return Ok(IssuedExternalId {
                external_id: value.parse().context("an ExternalId in the store is unreadable")?,
                tenant: tenant.to_owned(),
                issued_at,
                expires_at,
            });
        }
        self.issue_external_id(tenant, now, Some(now + unused_ttl), issue)
    }

    /// Issues a new ExternalId to a tenant. Uniqueness is the table's primary key: a collision
    /// (160 random bits make one unthinkable, but an imported value may collide) draws again.
    pub fn issue_external_id(
        &mut self,
        tenant: &str,
        now: time::OffsetDateTime,
        expires: Option<time::OffsetDateTime>,
        mut issue: impl FnMut() -> Result<ExternalId>,
    ) -> Result<IssuedExternalId> {
        if self.tenant(tenant)?.is_none() {
            bail!("no tenant '{tenant}'");
        }
        let issued_at = timestamp(now);
        let expires_at = expires.map(timestamp);
        for _ in 0..4 {
            let value = issue()?;
            let inserted = self.db.execute(
                "INSERT INTO external_ids (value, tenant_id, issued_at, expires_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT DO NOTHING",
                params![value.as_str(), tenant, issued_at, expires_at],
            )?;
            if inserted == 1 {
                return Ok(IssuedExternalId {
                    external_id: value,
                    tenant: tenant.to_owned(),
                    issued_at,
                    expires_at,
                });
            }
        }
        bail!("could not issue a unique ExternalId: the random source keeps repeating itself")
    }

    /// Records an ExternalId the vendor issued outside Trustline (an existing customer's role
    /// already requires it) as this tenant's. Refused if it belongs to another tenant.
    pub fn import_external_id(&mut self, tenant: &str, value: &ExternalId) -> Result<()> {
        match self.external_id_owner(value)? {
            Some(owner) if owner == tenant => Ok(()),
            Some(_) => bail!(
                "this ExternalId is already issued to another tenant; every customer needs its own (omit it and Trustline issues one)"
            ),
            None => {
                self.db.execute(
                    "INSERT INTO external_ids (value, tenant_id, issued_at) VALUES (?1, ?2, ?3)",
                    params![value.as_str(), tenant, timestamp(time::OffsetDateTime::now_utc())],
                )?;
                Ok(())
            }
        }
    }

    /// Which tenant an ExternalId was issued to, if any.
    pub fn external_id_owner(&self, value: &ExternalId) -> Result<Option<String>> {
        Ok(self
            .db
            .query_row("SELECT tenant_id FROM external_ids WHERE value = ?1", params![value.as_str()], |r| {
                r.get(0)
            })
            .optional()?)
    }

    /// An ExternalId issued to `tenant` that is still usable at `now` (not retired, not expired).
    pub fn usable_external_id(
        &self,
        tenant: &str,
        value: &ExternalId,
        now: time::OffsetDateTime,
    ) -> Result<bool> {
        Ok(self.db.exists(
            "SELECT 1 FROM external_ids WHERE value = ?1 AND tenant_id = ?2 AND retired_at IS NULL
             AND (expires_at IS NULL OR expires_at > ?3)",
            params![value.as_str(), tenant, timestamp(now)],
        )?)
    }

    /// Marks an ExternalId as in use, so it no longer expires.
    pub(crate) fn keep_external_id(tx: &Conn, value: &ExternalId) -> Result<()> {
        tx.execute("UPDATE external_ids SET expires_at = NULL WHERE value = ?1", params![value.as_str()])?;
        Ok(())
    }

    /// Creates a browser session for a tenant and returns its token (shown once, stored hashed).
    pub fn create_session(
        &mut self,
        tenant: &str,
        now: time::OffsetDateTime,
        ttl: time::Duration,
        random: [u8; 32],
    ) -> Result<(trustline_core::Secret, Session)> {
        if self.tenant(tenant)?.is_none() {
            bail!("no tenant '{tenant}'");
        }
        let token = format!("{SESSION_PREFIX}{}", data_encoding::BASE32_NOPAD.encode(&random).to_lowercase());
        let expires_at = now + ttl;
        // Expired sessions are of no use to anyone; drop them as new ones are made.
        self.db.execute("DELETE FROM sessions WHERE expires_at <= ?1", params![timestamp(now)])?;
        self.db.execute(
            "INSERT INTO sessions (token_hash, tenant_id, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)",
            params![token_hash(&token), tenant, timestamp(now), timestamp(expires_at)],
        )?;
        Ok((trustline_core::Secret::new(token), Session { tenant: tenant.to_owned(), expires_at }))
    }

    /// The session a token names, if it exists (expired or not: the caller decides, so that an
    /// expired session gets its own message).
    pub fn session(&self, token: &str) -> Result<Option<Session>> {
        let hash = token_hash(token);
        let row = self
            .db
            .query_row(
                "SELECT token_hash, tenant_id, expires_at FROM sessions WHERE token_hash = ?1",
                params![hash],
                |r| Ok((r.get::<String>(0)?, r.get::<String>(1)?, r.get::<String>(2)?)),
            )
            .optional()?;
        let Some((stored, tenant, expires_at)) = row else { return Ok(None) };
        // The index lookup already matched; compare again in constant time so that no code path
        // decides on a token by an early-exit comparison.
        if !bool::from(stored.as_bytes().ct_eq(hash.as_bytes())) {
            return Ok(None);
        }
        Ok(Some(Session { tenant, expires_at: parse_time(&expires_at)? }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join("t.db")).unwrap();
        (dir, store)
    }

    fn counter() -> impl FnMut() -> Result<ExternalId> {
        let mut n = 0;
        move || {
            n += 1;
            Ok(format!("test:ext-{n:04}").parse()?)
        }
    }

    #[test]
    fn the_default_tenant_exists_and_ids_are_checked() {
        let (_dir, mut store) = store();
        assert_eq!(store.tenants().unwrap()[0].id, DEFAULT_TENANT);
        store.add_tenant("acme-corp", "Acme", 10).unwrap();
        let err = store.add_tenant("acme-corp", "Acme again", 10).unwrap_err();
        assert!(err.to_string().contains("already exists"), "{err}");
        for bad in ["", ".hidden", "a/b", "a b", &"x".repeat(65)] {
            assert!(store.add_tenant(bad, "x", 1).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn an_unused_external_id_expires_and_a_used_one_does_not() {
        let (_dir, mut store) = store();
        store.add_tenant("a", "A", 10).unwrap();
        let t0 = time::macros::datetime!(2026-12-01 00:00 UTC);
        let week = time::Duration::days(7);
        let mut issue = counter();
        let first = store.onboarding_external_id("a", t0, week, &mut issue).unwrap();
        // Asked again within the week: the same one.
        let again =
            store.onboarding_external_id("a", t0 + time::Duration::days(6), week, &mut issue).unwrap();
        assert_eq!(first.external_id, again.external_id);
        assert!(store.usable_external_id("a", &first.external_id, t0).unwrap());
        // After the week it is refused, and a new one is issued.
        let later = t0 + time::Duration::days(8);
        assert!(!store.usable_external_id("a", &first.external_id, later).unwrap());
        let second = store.onboarding_external_id("a", later, week, &mut issue).unwrap();
        assert_ne!(first.external_id, second.external_id);
        // Once in use, it never expires.
        let tx = store.db.transaction().unwrap();
        Store::keep_external_id(&tx, &second.external_id).unwrap();
        tx.commit().unwrap();
        assert!(
            store.usable_external_id("a", &second.external_id, later + time::Duration::days(400)).unwrap()
        );
    }

    #[test]
    fn external_ids_are_unique_across_tenants() {
        let (_dir, mut store) = store();
        store.add_tenant("a", "A", 10).unwrap();
        store.add_tenant("b", "B", 10).unwrap();
        let now = time::OffsetDateTime::now_utc();
        let issued = store.issue_external_id("a", now, None, counter()).unwrap();
        // The same value cannot be issued or imported for another tenant (the primary key).
        let clash = store.db.execute(
            "INSERT INTO external_ids (value, tenant_id, issued_at) VALUES (?1, 'b', 'x')",
            params![issued.external_id.as_str()],
        );
        assert!(clash.is_err());
        let err = store.import_external_id("b", &issued.external_id).unwrap_err();
        assert!(err.to_string().contains("another tenant"), "{err}");
        assert!(!store.usable_external_id("b", &issued.external_id, now).unwrap());
        // A generator that repeats itself draws again.
        let mut repeats = {
            let first = issued.external_id.clone();
            let mut n = 0;
            move || {
                n += 1;
                if n < 3 { Ok(first.clone()) } else { Ok("test:fresh".parse()?) }
            }
        };
        let fresh = store.issue_external_id("a", now, None, &mut repeats).unwrap();
        assert_eq!(fresh.external_id.as_str(), "test:fresh");
    }

    #[test]
    fn sessions_are_stored_hashed_and_name_their_tenant() {
        let (_dir, mut store) = store();
        store.add_tenant("a", "A", 10).unwrap();
        let now = time::OffsetDateTime::now_utc();
        let (token, session) = store.create_session("a", now, time::Duration::minutes(15), [7; 32]).unwrap();
        assert!(token.expose().starts_with(SESSION_PREFIX));
        let found = store.session(token.expose()).unwrap().unwrap();
        assert_eq!(found.tenant, "a");
        assert_eq!(found.expires_at.unix_timestamp(), session.expires_at.unix_timestamp());
        assert!(store.session("tl_session_nope").unwrap().is_none());
        let stored: String =
            store.db.query_row("SELECT token_hash FROM sessions", params![], |r| r.get(0)).unwrap();
        assert_ne!(stored, token.expose());
        assert!(store.create_session("nobody", now, time::Duration::minutes(1), [1; 32]).is_err());
    }
}
