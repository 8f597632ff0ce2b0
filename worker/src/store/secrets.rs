//! Sealed secrets as a set, for re-sealing them under a new key (see [`crate::seal::reseal`]).

use anyhow::{Context, Result, bail};
use rusqlite::params;

use super::Store;

impl Store {
    /// Every connection's sealed secret, as (connection ID, sealed text), by connection ID.
    pub fn sealed_secrets(&self) -> Result<Vec<(String, String)>> {
        let mut stmt = self
            .db
            .prepare("SELECT id, secret_ref FROM connections WHERE secret_ref LIKE 'sealed:%' ORDER BY id")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        let all: Vec<(String, String)> = rows.collect::<rusqlite::Result<_>>()?;
        Ok(all.into_iter().filter(|(_, s)| crate::seal::is_sealed(s)).collect())
    }

    /// Replaces the sealed secrets of the given connections, all or none. Only a sealed secret
    /// is replaced: a connection whose secret has become a reference since is an error, and the
    /// transaction rolls back.
    pub fn set_sealed_secrets(&mut self, secrets: &[(String, String)]) -> Result<()> {
        let tx = self.db.transaction()?;
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
        tx.commit()?;
        Ok(())
    }
}
