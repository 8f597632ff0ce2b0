//! Sealed secrets as a set (connections' and webhook endpoints'), re-sealed under a new key
//! (`trustline seal-key rotate`).

use super::sql::{Conn, params};
use anyhow::{Context, Result, bail};

use super::Store;
use crate::seal::SealKeys;

impl Store {
    /// Every connection's sealed secret, as (connection ID, sealed text), by connection ID.
    pub fn sealed_secrets(&self) -> Result<Vec<(String, String)>> {
        let mut stmt = self
            .db
            .prepare("SELECT id, secret_ref FROM connections WHERE secret_ref LIKE 'sealed:%' ORDER BY id")?;
        let rows = stmt.query_map(params![], |r| Ok((r.get::<String>(0)?, r.get::<String>(1)?)))?;
        let all: Vec<(String, String)> = rows.collect::<super::sql::Result<_>>()?;
        Ok(all.into_iter().filter(|(_, s)| crate::seal::is_sealed(s)).collect())
    }

    /// Replaces the sealed secrets of the given connections, all or none. Only a sealed secret
    /// is replaced: a connection whose secret has become a reference since is an error, and the
    /// transaction rolls back.
    pub fn set_sealed_secrets(&mut self, secrets: &[(String, String)]) -> Result<()> {
        let tx = super::write_transaction(&mut self.db)?;
        set_connection_secrets(&tx, secrets)?;
        tx.commit()?;
        Ok(())
    }

    /// Re-seals every sealed secret in the store (connections' and webhook endpoints') that is
    /// not already under the current key, in one transaction, and returns how many changed. Every
    /// secret is opened before anything is written, so a secret no configured key opens leaves
    /// the store as it was.
    pub fn reseal(&mut self, keys: &SealKeys) -> Result<usize> {
        let mut connections = Vec::new();
        for (id, sealed) in self.sealed_secrets()? {
            if keys.is_current(&sealed) {
                continue;
            }
            let secret = keys.open(&sealed, &id)?;
            connections.push((id.clone(), keys.seal(&secret, &id)?));
        }
        let mut endpoints = Vec::new();
        for (id, sealed) in self.webhook_sealed_secrets()? {
            if keys.is_current(&sealed) {
                continue;
            }
            let secret = keys.open(&sealed, &id).with_context(|| format!("webhook endpoint {id}"))?;
            endpoints.push((id.clone(), keys.seal(&secret, &id)?));
        }
        let tx = super::write_transaction(&mut self.db)?;
        set_connection_secrets(&tx, &connections)?;
        super::webhooks::set_sealed_secrets(&tx, &endpoints)?;
        tx.commit()?;
        Ok(connections.len() + endpoints.len())
    }
}

fn set_connection_secrets(tx: &Conn, secrets: &[(String, String)]) -> Result<()> {
    for (id, sealed) in secrets {
        if !crate::seal::is_sealed(sealed) {
            bail!("connection {id}: refusing to store a secret that is not sealed");
        }
        let updated = tx
            .execute(
                "UPDATE connections SET secret_ref = ?2 WHERE id = ?1 AND secret_ref LIKE 'sealed:%'",
                params![id, sealed],
            )
            .with_context(|| format!("storing connection {id}'s re-sealed secret"))?;
        if updated != 1 {
            bail!("connection {id} no longer has a sealed secret; nothing was re-sealed");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use trustline_core::Secret;

    use super::*;
    use crate::seal::SealKey;

    fn key_of(byte: u8) -> SealKey {
        SealKey::from_base64(&data_encoding::BASE64.encode(&[byte; 32])).unwrap()
    }

    fn key_connection(id: &str, sealed: &str) -> crate::store::Connection {
        crate::store::Connection {
            id: id.to_owned(),
            tenant: crate::store::DEFAULT_TENANT.to_owned(),
            name: id.to_owned(),
            access: crate::store::Access::AccessKey(crate::store::CustomerKey {
                access_key_id: "AKIAEXAMPLE000000001".to_owned(),
                secret: crate::store::SecretRef::Sealed(sealed.to_owned()),
            }),
            account_id: None,
            data_sets: [trustline_core::policy::permissions::DataSet::Iam].into(),
            regions: Vec::new(),
            status: crate::store::ConnectionStatus::Active,
            parent: None,
        }
    }

    #[test]
    fn rotation_reseals_the_store_under_the_new_key() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path().join("t.db")).unwrap();
        let (a, b) = (key_of(1), key_of(2));
        for id in ["one", "two"] {
            store.add_connection(&key_connection(id, &a.seal(&Secret::new(id), id).unwrap())).unwrap();
        }
        let rotated = SealKeys::new(b.clone(), vec![a.clone()]);
        assert_eq!(store.reseal(&rotated).unwrap(), 2);
        assert_eq!(store.reseal(&rotated).unwrap(), 0, "already under the current key");
        for (id, sealed) in store.sealed_secrets().unwrap() {
            assert_eq!(b.open(&sealed, &id).unwrap().expose(), id, "opens under the new key alone");
            assert!(a.open(&sealed, &id).is_err());
        }
        // Without the old key nothing opens, and nothing is written.
        let mut other = Store::open(dir.path().join("u.db")).unwrap();
        other.add_connection(&key_connection("x", &a.seal(&Secret::new("x"), "x").unwrap())).unwrap();
        assert!(other.reseal(&SealKeys::new(b, vec![])).is_err());
        assert_eq!(other.sealed_secrets().unwrap()[0].1.split(':').nth(2), Some(a.kid()));
    }
}
