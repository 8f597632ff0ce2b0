//! The inventory: applying one account's snapshot atomically (with its change history), and
//! reading the inventory and changes back. Runs are in `runs`, CloudTrail events in `events`.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::Result;
use serde_json::Value;

use super::events::{insert_events, set_cursor};
use super::runs::{AccountOutcome, AccountStatus, record_account};
use super::sql::{self, Conn, Engine, OptionalExt, params};
use super::{Store, now_text};
use crate::resource::{Resource, ResourceKind, Snapshot};

/// A resource as stored, and one entry of the change history: the API's own types.
pub use trustline_core::api::{Change as ChangeRecord, Resource as StoredResource};

/// Where a page of the inventory ends: its last resource's key, in the inventory's order.
pub(crate) type ResourceKey = (String, String, String, String);

/// Filters for [`Store::inventory`].
#[derive(Debug, Clone, Default)]
pub struct InventoryFilter {
    /// Only this kind.
    pub kind: Option<String>,
    /// Only this connection.
    pub connection: Option<String>,
    /// Only this region.
    pub region: Option<String>,
    /// Only resources with one of these tags: (key, `None` for any value or the value). Keys
    /// and values match exactly, case included, as AWS compares them.
    pub tag: Vec<(String, Option<String>)>,
    /// Only this tenant's connections.
    pub tenant: Option<String>,
}

impl Store {
    /// Applies an account's whole snapshot in one transaction: upserts what was seen, records
    /// what was added, changed and removed (only within the lists read completely), clears
    /// `stale`. A running sync writes the same way piece by piece, through [`super::Writer`].
    pub fn commit_account(
        &mut self,
        run_id: i64,
        connection: &str,
        snapshot: &Snapshot,
        duration_ms: u64,
    ) -> Result<AccountOutcome> {
        let now = now_text();
        let tx = super::write_transaction(&mut self.db)?;
        let mut outcome = AccountOutcome::default();
        apply_part(&tx, run_id, connection, None, snapshot, &now, &mut outcome)?;
        // Pages as LookupEvents gives them: one region, at most 50 events.
        let mut by_region: std::collections::BTreeMap<&str, Vec<crate::resource::EventRecord>> =
            std::collections::BTreeMap::new();
        for e in &snapshot.events {
            by_region.entry(e.region.as_str()).or_default().push(e.clone());
        }
        for events in by_region.into_values() {
            for chunk in events.chunks(50) {
                let page = crate::resource::EventPage::pack(chunk.to_vec())?;
                outcome.events += insert_events(&tx, connection, &page)?;
            }
        }
        for (region, t) in &snapshot.cursors {
            set_cursor(&tx, connection, region, *t)?;
        }
        record_account(
            &tx,
            run_id,
            connection,
            AccountStatus::Ok,
            None,
            &mut outcome,
            snapshot.calls,
            duration_ms,
        )?;
        tx.commit()?;
        Ok(outcome)
    }

    /// The current inventory, filtered, in the order of its key (connection, region, kind, id).
    pub fn inventory(&self, filter: &InventoryFilter) -> Result<Vec<StoredResource>> {
        self.inventory_page(filter, None, usize::MAX)
    }

    /// Up to `limit` resources after `after` (a [`ResourceKey`]), in key order. One statement,
    /// so one read transaction: a page sees each list as a sync last committed it whole.
    pub fn inventory_page(
        &self,
        filter: &InventoryFilter,
        after: Option<&ResourceKey>,
        limit: usize,
    ) -> Result<Vec<StoredResource>> {
        // The tag filter runs in SQL, so that a page's LIMIT counts only matching resources.
        let tags = serde_json::to_string(&filter.tag)?;
        // ?9 is a JSON array of [key, value-or-null] pairs; a resource matches when one of its
        // tags has a wanted key and, if the pair has a value, that value. The JSON functions
        // differ between the engines: SQLite's json_each/json_extract, PostgreSQL's jsonb ones
        // (?9 is bound as TEXT and cast there: a parameter typed jsonb would be sent in jsonb's
        // binary format, which plain text is not).
        let tag_filter = match self.db.engine() {
            Engine::Sqlite => {
                "(json_array_length(?9) = 0 OR EXISTS (
                   SELECT 1 FROM json_each(?9) AS wanted, json_each(resources.tags) AS tag
                   WHERE tag.key = json_extract(wanted.value, '$[0]')
                     AND (json_extract(wanted.value, '$[1]') IS NULL OR tag.value = json_extract(wanted.value, '$[1]'))))"
            }
            Engine::Postgres => {
                "(jsonb_array_length(CAST(CAST(?9 AS TEXT) AS jsonb)) = 0 OR EXISTS (
                   SELECT 1 FROM jsonb_array_elements(CAST(CAST(?9 AS TEXT) AS jsonb)) AS wanted(value),
                     jsonb_each_text(CAST(resources.tags AS jsonb)) AS tag(key, value)
                   WHERE tag.key = (wanted.value ->> 0)
                     AND ((wanted.value ->> 1) IS NULL OR tag.value = (wanted.value ->> 1))))"
            }
        };
        let mut stmt = self.db.prepare_cached(&format!(
            "SELECT {RESOURCE_COLUMNS} FROM resources
             WHERE (CAST(?1 AS TEXT) IS NULL OR kind = ?1) AND (CAST(?2 AS TEXT) IS NULL OR connection_id = ?2)
               AND (CAST(?3 AS TEXT) IS NULL OR region = ?3)
               AND (CAST(?4 AS TEXT) IS NULL OR connection_id IN (SELECT id FROM connections WHERE tenant_id = ?4))
               AND (CAST(?5 AS TEXT) IS NULL OR (connection_id, region, kind, id) > (?5, ?6, ?7, ?8))
               AND {tag_filter}
             ORDER BY connection_id, region, kind, id
             LIMIT ?10"
        ))?;
        let (a, b, c, d) = match after {
            Some((a, b, c, d)) => (Some(a), Some(b), Some(c), Some(d)),
            None => (None, None, None, None),
        };
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = stmt.query_map(
            params![filter.kind, filter.connection, filter.region, filter.tenant, a, b, c, d, tags, limit],
            resource_row,
        )?;
        rows.map(|row| read_resource(row?)).collect()
    }

    /// One resource as stored now, if it is.
    pub fn resource(
        &self,
        connection: &str,
        region: &str,
        kind: &str,
        id: &str,
    ) -> Result<Option<StoredResource>> {
        let mut stmt = self.db.prepare_cached(&format!(
            "SELECT {RESOURCE_COLUMNS} FROM resources WHERE connection_id = ?1 AND region = ?2 AND kind = ?3 AND id = ?4"
        ))?;
        let row = stmt.query_row(params![connection, region, kind, id], resource_row).optional()?;
        row.map(read_resource).transpose()
    }

    /// A resource's change history, oldest first.
    pub fn resource_changes(
        &self,
        connection: &str,
        region: &str,
        kind: &str,
        id: &str,
    ) -> Result<Vec<ChangeRecord>> {
        self.change_rows(
            "WHERE connection_id = ?1 AND region = ?2 AND kind = ?3 AND id = ?4 ORDER BY seq",
            params![connection, region, kind, id],
        )
    }

    /// Up to `limit` changes after the change `after` (its `seq`), oldest first, optionally of
    /// one tenant's or one connection's resources.
    pub fn changes_page(
        &self,
        tenant: Option<&str>,
        connection: Option<&str>,
        after: i64,
        limit: usize,
    ) -> Result<Vec<ChangeRecord>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.change_rows(
            "WHERE seq > ?1 AND (CAST(?2 AS TEXT) IS NULL OR connection_id IN (SELECT id FROM connections WHERE tenant_id = ?2))
               AND (CAST(?3 AS TEXT) IS NULL OR connection_id = ?3)
             ORDER BY seq LIMIT ?4",
            params![after, tenant, connection, limit],
        )
    }

    fn change_rows(&self, condition: &str, params: sql::Params<'_>) -> Result<Vec<ChangeRecord>> {
        let mut stmt = self.db.prepare_cached(&format!(
            "SELECT seq, run_id, at, connection_id, region, kind, id, change, fields FROM changes {condition}"
        ))?;
        let rows = stmt.query_map(params, |row| {
            Ok((
                ChangeRecord {
                    seq: row.get(0)?,
                    run_id: row.get(1)?,
                    at: row.get(2)?,
                    connection: row.get(3)?,
                    region: row.get(4)?,
                    kind: row.get(5)?,
                    id: row.get(6)?,
                    change: row.get(7)?,
                    fields: Vec::new(),
                },
                row.get::<String>(8)?,
            ))
        })?;
        rows.map(|r| {
            let (mut c, fields) = r?;
            c.fields = serde_json::from_str(&fields)?;
            Ok(c)
        })
        .collect()
    }

    /// Changes recorded at or after `since` (RFC 3339), oldest first.
    pub fn changes_since(&self, since: &str) -> Result<Vec<ChangeRecord>> {
        self.change_rows("WHERE at >= ?1 ORDER BY seq", params![since])
    }
}

/// A resource row's columns, in the order [`resource_row`] reads them.
const RESOURCE_COLUMNS: &str =
    "connection_id, region, kind, id, name, arn, tags, attributes, first_seen, last_seen, stale";

/// A resource row, with its tags and attributes still JSON text.
fn resource_row(row: &sql::Row<'_>) -> sql::Result<(StoredResource, String, String)> {
    Ok((
        StoredResource {
            connection: row.get(0)?,
            region: row.get(1)?,
            kind: row.get(2)?,
            id: row.get(3)?,
            name: row.get(4)?,
            arn: row.get(5)?,
            tags: BTreeMap::new(),
            attributes: Value::Null,
            first_seen: row.get(8)?,
            last_seen: row.get(9)?,
            stale: row.get(10)?,
        },
        row.get(6)?,
        row.get(7)?,
    ))
}

fn read_resource((mut r, tags, attributes): (StoredResource, String, String)) -> Result<StoredResource> {
    r.tags = serde_json::from_str(&tags)?;
    r.attributes = serde_json::from_str(&attributes)?;
    Ok(r)
}

/// The lists a part of a sync covers: (region, kind) pairs, or everything the connection has.
pub type Scope = BTreeSet<(String, ResourceKind)>;

/// A part's change rows and resource rows on PostgreSQL: one statement each, columns bound as
/// arrays (`UNNEST`), rather than a round trip per row.
fn write_part_postgres(
    pg: &mut super::sql::Pg,
    run_id: i64,
    connection: &str,
    now: &str,
    changes: &[(&crate::resource::Resource, &str, String)],
    upserts: &[(&crate::resource::Resource, String, String)],
) -> Result<()> {
    if !changes.is_empty() {
        let statement = pg.statement(
            "INSERT INTO changes (run_id, connection_id, region, kind, id, change, fields, at)
             SELECT $1, $2, c.region, c.kind, c.id, c.change, c.fields, $3
             FROM UNNEST($4::text[], $5::text[], $6::text[], $7::text[], $8::text[]) WITH ORDINALITY
                  AS c(region, kind, id, change, fields, n)
             ORDER BY c.n",
        )?;
        let regions: Vec<&str> = changes.iter().map(|(r, _, _)| r.region.as_str()).collect();
        let kinds: Vec<&str> = changes.iter().map(|(r, _, _)| r.kind.as_str()).collect();
        let ids: Vec<&str> = changes.iter().map(|(r, _, _)| r.id.as_str()).collect();
        let whats: Vec<&str> = changes.iter().map(|(_, what, _)| *what).collect();
        let fields: Vec<&str> = changes.iter().map(|(_, _, f)| f.as_str()).collect();
        let client = pg.client();
        super::sql::off_runtime(|| {
            client.execute(&statement, &[&run_id, &connection, &now, &regions, &kinds, &ids, &whats, &fields])
        })?;
    }
    if !upserts.is_empty() {
        let statement = pg.statement(
            "INSERT INTO resources (connection_id, region, kind, id, name, arn, tags, attributes, first_seen, last_seen, stale)
             SELECT $1, r.region, r.kind, r.id, r.name, r.arn, r.tags, r.attributes, $2, $2, 0
             FROM UNNEST($3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[])
                  AS r(region, kind, id, name, arn, tags, attributes)
             ON CONFLICT (connection_id, region, kind, id) DO UPDATE SET
               name = excluded.name, arn = excluded.arn, tags = excluded.tags,
               attributes = excluded.attributes, last_seen = excluded.last_seen, stale = 0",
        )?;
        let regions: Vec<&str> = upserts.iter().map(|(r, _, _)| r.region.as_str()).collect();
        let kinds: Vec<&str> = upserts.iter().map(|(r, _, _)| r.kind.as_str()).collect();
        let ids: Vec<&str> = upserts.iter().map(|(r, _, _)| r.id.as_str()).collect();
        let names: Vec<Option<&str>> = upserts.iter().map(|(r, _, _)| r.name.as_deref()).collect();
        let arns: Vec<Option<&str>> = upserts.iter().map(|(r, _, _)| r.arn.as_deref()).collect();
        let tags: Vec<&str> = upserts.iter().map(|(_, t, _)| t.as_str()).collect();
        let attributes: Vec<&str> = upserts.iter().map(|(_, _, a)| a.as_str()).collect();
        let client = pg.client();
        super::sql::off_runtime(|| {
            client.execute(
                &statement,
                &[&connection, &now, &regions, &kinds, &ids, &names, &arns, &tags, &attributes],
            )
        })?;
    }
    Ok(())
}

/// Applies resources read by a sync. Within `scope` (all of the connection's resources when
/// `None`), stored resources that were not seen are removed when their list was read completely
/// (`snapshot.complete`) and marked stale otherwise; each addition, change and removal is recorded
/// in the change history of `run_id`.
pub(super) fn apply_part(
    tx: &Conn,
    run_id: i64,
    connection: &str,
    scope: Option<&Scope>,
    snapshot: &Snapshot,
    now: &str,
    outcome: &mut AccountOutcome,
) -> Result<()> {
    let existing = match scope {
        None => load(tx, connection, None)?,
        Some(scope) => {
            let mut all = BTreeMap::new();
            for (region, kind) in scope {
                all.extend(load(tx, connection, Some((region, kind.as_str())))?);
            }
            all
        }
    };
    let mut seen = BTreeSet::new();
    // What this part writes, in order: a change row per new or different resource, and every
    // resource read (its last_seen moves even when nothing else did).
    let mut upserts = Vec::with_capacity(snapshot.resources.len());
    let mut changes = Vec::new();
    for r in &snapshot.resources {
        let key = (r.region.clone(), r.kind.as_str().to_owned(), r.id.clone());
        if !seen.insert(key.clone()) {
            continue; // AWS may list an object twice across pages; record it once.
        }
        let tags = serde_json::to_string(&r.tags)?;
        let attributes = serde_json::to_string(&r.attributes)?;
        match existing.get(&key) {
            None => {
                outcome.added += 1;
                changes.push((r, "added", "[]".to_owned()));
            }
            Some(old) => {
                let fields = differences(old, r, &tags);
                if !fields.is_empty() {
                    outcome.changed += 1;
                    changes.push((r, "changed", serde_json::to_string(&fields)?));
                }
            }
        }
        upserts.push((r, tags, attributes));
    }
    match tx.with_postgres(|pg| write_part_postgres(pg, run_id, connection, now, &changes, &upserts)) {
        Some(written) => written?,
        None => {
            let mut change = tx.prepare_cached(
                "INSERT INTO changes (run_id, connection_id, region, kind, id, change, fields, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?;
            for (r, what, fields) in &changes {
                change.execute(params![
                    run_id,
                    connection,
                    r.region,
                    r.kind.as_str(),
                    r.id,
                    what,
                    fields,
                    now
                ])?;
            }
            let mut upsert = tx.prepare_cached(
                "INSERT INTO resources (connection_id, region, kind, id, name, arn, tags, attributes, first_seen, last_seen, stale)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9, 0)
                 ON CONFLICT (connection_id, region, kind, id) DO UPDATE SET
                   name = excluded.name, arn = excluded.arn, tags = excluded.tags,
                   attributes = excluded.attributes, last_seen = excluded.last_seen, stale = 0",
            )?;
            for (r, tags, attributes) in &upserts {
                upsert.execute(params![
                    connection,
                    r.region,
                    r.kind.as_str(),
                    r.id,
                    r.name,
                    r.arn,
                    tags,
                    attributes,
                    now
                ])?;
            }
        }
    }
    let mut change = tx.prepare_cached(
        "INSERT INTO changes (run_id, connection_id, region, kind, id, change, fields, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?;
    let complete: BTreeSet<(String, String)> =
        snapshot.complete.iter().map(|(region, kind)| (region.clone(), kind.as_str().to_owned())).collect();
    let mut delete = tx.prepare_cached(
        "DELETE FROM resources WHERE connection_id = ?1 AND region = ?2 AND kind = ?3 AND id = ?4",
    )?;
    // Lists that could not be read keep their rows, but as the last known state.
    let mut stale = tx.prepare_cached(
        "UPDATE resources SET stale = 1 WHERE connection_id = ?1 AND region = ?2 AND kind = ?3 AND id = ?4",
    )?;
    for key in existing.keys().filter(|k| !seen.contains(*k)) {
        let (region, kind, id) = key;
        if complete.contains(&(region.clone(), kind.clone())) {
            outcome.removed += 1;
            change.execute(params![run_id, connection, region, kind, id, "removed", "[]", now])?;
            delete.execute(params![connection, region, kind, id])?;
        } else {
            stale.execute(params![connection, region, kind, id])?;
        }
    }
    Ok(())
}

type Key = (String, String, String);

struct Existing {
    name: Option<String>,
    tags: String,
    attributes: Value,
}

fn load(tx: &Conn, connection: &str, list: Option<(&str, &str)>) -> Result<BTreeMap<Key, Existing>> {
    // Two statements, so that a single list is read through the primary key's prefix.
    let (mut stmt, region, kind) = match list {
        None => (
            tx.prepare_cached(
                "SELECT region, kind, id, name, tags, attributes FROM resources WHERE connection_id = ?1 AND CAST(?2 AS TEXT) IS NULL AND CAST(?3 AS TEXT) IS NULL",
            )?,
            None,
            None,
        ),
        Some((region, kind)) => (
            tx.prepare_cached(
                "SELECT region, kind, id, name, tags, attributes FROM resources WHERE connection_id = ?1 AND region = ?2 AND kind = ?3",
            )?,
            Some(region),
            Some(kind),
        ),
    };
    let rows = stmt.query_map(params![connection, region, kind], |row| {
        Ok((
            (row.get(0)?, row.get(1)?, row.get(2)?),
            row.get::<Option<String>>(3)?,
            row.get::<String>(4)?,
            row.get::<String>(5)?,
        ))
    })?;
    let mut map = BTreeMap::new();
    for row in rows {
        let (key, name, tags, attributes) = row?;
        map.insert(key, Existing { name, tags, attributes: serde_json::from_str(&attributes)? });
    }
    Ok(map)
}

/// Attributes that move without anything changing (a role's last use moves every time the sync
/// itself assumes it): kept current, never reported as changes.
const VOLATILE: [&str; 3] = ["last_used", "last_used_region", "last_used_service"];

/// Which parts of a resource differ from its stored state.
fn differences(old: &Existing, new: &Resource, new_tags: &str) -> Vec<String> {
    let mut fields = Vec::new();
    if old.name != new.name {
        fields.push("name".to_owned());
    }
    if old.tags != new_tags {
        fields.push("tags".to_owned());
    }
    match (&old.attributes, &new.attributes) {
        (Value::Object(a), Value::Object(b)) => {
            let keys: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            fields.extend(
                keys.into_iter()
                    .filter(|k| !VOLATILE.contains(&k.as_str()) && a.get(*k) != b.get(*k))
                    .cloned(),
            );
        }
        (a, b) if a != b => fields.push("attributes".to_owned()),
        _ => {}
    }
    fields
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::resource::{GLOBAL, ResourceKind};

    fn user(id: &str, attrs: Value, tags: &[(&str, &str)]) -> Resource {
        Resource {
            region: GLOBAL.into(),
            kind: ResourceKind::IamUser,
            id: id.into(),
            name: Some(id.into()),
            arn: None,
            tags: crate::resource::tag_map(tags.iter().copied()),
            attributes: attrs,
        }
    }

    fn snapshot(resources: Vec<Resource>) -> Snapshot {
        let mut s = Snapshot::default();
        s.add_complete(GLOBAL, ResourceKind::IamUser, resources);
        s
    }

    fn temp_store(name: &str) -> (Store, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!("trustline-inv-{name}-{}", std::process::id()));
        std::fs::remove_dir_all(&dir).ok();
        (Store::open(dir.join("db.sqlite")).unwrap(), dir)
    }

    #[test]
    fn second_run_records_exactly_what_changed() {
        let (mut store, dir) = temp_store("changes");
        let run = store.begin_run().unwrap();
        let first =
            snapshot(vec![user("alice", json!({"path": "/"}), &[]), user("bob", json!({"path": "/"}), &[])]);
        let out = store.commit_account(run, "acme", &first, 1).unwrap();
        assert_eq!((out.resources, out.added, out.changed, out.removed), (2, 2, 0, 0));

        let run2 = store.begin_run().unwrap();
        let second = snapshot(vec![
            user("alice", json!({"path": "/admins/"}), &[("team", "sec")]),
            user("carol", json!({}), &[]),
        ]);
        let out = store.commit_account(run2, "acme", &second, 1).unwrap();
        assert_eq!((out.resources, out.added, out.changed, out.removed), (2, 1, 1, 1));
        let changes: Vec<(String, String, Vec<String>)> = store
            .changes_since("1970-01-01T00:00:00Z")
            .unwrap()
            .into_iter()
            .filter(|c| c.run_id == run2)
            .map(|c| (c.id, c.change, c.fields))
            .collect();
        assert_eq!(
            changes,
            [
                ("alice".into(), "changed".into(), vec!["tags".into(), "path".into()]),
                ("carol".into(), "added".into(), vec![]),
                ("bob".into(), "removed".into(), vec![]),
            ]
        );
        drop(store);
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn incomplete_lists_never_remove_and_failures_mark_stale() {
        let (mut store, dir) = temp_store("stale");
        let run = store.begin_run().unwrap();
        store.commit_account(run, "acme", &snapshot(vec![user("alice", json!({}), &[])]), 1).unwrap();
        // A run whose user list did not finish: alice is kept, as stale.
        let run2 = store.begin_run().unwrap();
        let out = store.commit_account(run2, "acme", &Snapshot::default(), 1).unwrap();
        assert_eq!(out.removed, 0);
        let inv = store.inventory(&InventoryFilter::default()).unwrap();
        assert!(inv.len() == 1 && inv[0].stale);
        // A failed account keeps everything, stale, and the error is recorded.
        let run3 = store.begin_run().unwrap();
        store.commit_account(run3, "acme", &snapshot(vec![user("alice", json!({}), &[])]), 1).unwrap();
        assert!(!store.inventory(&InventoryFilter::default()).unwrap()[0].stale);
        store.fail_account(run3, "acme", Some("AccessDenied"), "role deleted", 1).unwrap();
        assert!(store.inventory(&InventoryFilter::default()).unwrap()[0].stale);
        drop(store);
        std::fs::remove_dir_all(dir).ok();
    }
}
