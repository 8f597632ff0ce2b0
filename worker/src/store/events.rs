//! CloudTrail management events and each account-region's cursor (how far events were read).

use anyhow::{Context, Result};

use super::Store;
use super::sql::{self, Conn, params};

use crate::resource::EventPage;
/// A stored CloudTrail management event: the API's own type.
pub use trustline_core::api::Event;

/// Which events [`Store::events`] and [`Store::event_records`] read (`?1` a connection or NULL,
/// `?2` the earliest time), in the order both return them.
const SINCE: &str = "WHERE (CAST(?1 AS TEXT) IS NULL OR connection_id = ?1) AND event_time >= ?2
     ORDER BY event_time, event_id";

impl Store {
    /// Every connection's CloudTrail cursors: connection → region → read up to.
    pub fn all_cursors(
        &self,
    ) -> Result<std::collections::HashMap<String, std::collections::HashMap<String, time::OffsetDateTime>>>
    {
        let mut stmt = self.db.prepare("SELECT connection_id, region, last_event_time FROM cursors")?;
        let rows = stmt
            .query_map(params![], |r| Ok((r.get::<String>(0)?, r.get::<String>(1)?, r.get::<String>(2)?)))?;
        let mut out: std::collections::HashMap<_, std::collections::HashMap<_, _>> =
            std::collections::HashMap::new();
        for row in rows {
            let (connection, region, t) = row?;
            let t = time::OffsetDateTime::parse(&t, &time::format_description::well_known::Rfc3339)?;
            out.entry(connection).or_default().insert(region, t);
        }
        Ok(out)
    }

    /// Stored CloudTrail events, oldest first, optionally for one connection and since a time.
    pub fn events(&self, connection: Option<&str>, since: &str) -> Result<Vec<Event>> {
        let mut stmt = self.db.prepare(&format!(
            "SELECT event_id, connection_id, region, event_time, event_name, event_source, username FROM events {SINCE}"
        ))?;
        let rows = stmt.query_map(params![connection, since], |r| {
            Ok(Event {
                event_id: r.get(0)?,
                connection: r.get(1)?,
                region: r.get(2)?,
                event_time: r.get(3)?,
                event_name: r.get(4)?,
                event_source: r.get(5)?,
                username: r.get(6)?,
            })
        })?;
        Ok(rows.collect::<sql::Result<_>>()?)
    }
}

impl Store {
    /// The full CloudTrail records of [`Store::events`]' events, in the same order: the JSON
    /// CloudTrail keeps for each.
    pub fn event_records(&self, connection: Option<&str>, since: &str) -> Result<Vec<String>> {
        let mut stmt = self.db.prepare(&format!("SELECT raw, page_id, page_index FROM events {SINCE}"))?;
        let rows = stmt.query_map(params![connection, since], |r| {
            Ok((r.get::<Option<String>>(0)?, r.get::<Option<i64>>(1)?, r.get::<Option<i64>>(2)?))
        })?;
        let mut page = self.db.prepare("SELECT records FROM event_pages WHERE id = ?1")?;
        // Pages unpacked so far: an account-region's events are consecutive in time, so its
        // pages are read once each; the cache is emptied now and then to bound memory.
        let mut unpacked: std::collections::HashMap<i64, Vec<String>> = std::collections::HashMap::new();
        let mut out = Vec::new();
        for row in rows {
            let (raw, page_id, index) = row?;
            if let Some(raw) = raw {
                out.push(raw);
                continue;
            }
            let (Some(page_id), Some(index)) = (page_id, index) else {
                anyhow::bail!("an event row has neither its record nor its page: the store is damaged");
            };
            if !unpacked.contains_key(&page_id) {
                if unpacked.len() >= 1024 {
                    unpacked.clear();
                }
                let frame: Vec<u8> = page.query_row(params![page_id], |r| r.get(0))?;
                let records = EventPage::unpack(&frame)
                    .with_context(|| format!("reading the stored page of events {page_id}"))?;
                unpacked.insert(page_id, records);
            }
            let record = usize::try_from(index)
                .ok()
                .and_then(|i| unpacked.get(&page_id).and_then(|records| records.get(i)))
                .with_context(|| format!("the stored page of events {page_id} has no record {index}"))?;
            out.push(record.clone());
        }
        Ok(out)
    }

    /// Up to `limit` events stored after the one at `after` (a position in the order events were
    /// stored, not their time: CloudTrail delivers some late, and a reader polling with the
    /// last position it saw still gets those), optionally of one tenant or one connection.
    /// Each comes with its position.
    pub fn events_page(
        &self,
        tenant: Option<&str>,
        connection: Option<&str>,
        after: i64,
        limit: usize,
    ) -> Result<Vec<(i64, Event)>> {
        let mut stmt = self.db.prepare_cached(
            "SELECT rowid, event_id, connection_id, region, event_time, event_name, event_source, username FROM events
             WHERE rowid > ?1 AND (CAST(?2 AS TEXT) IS NULL OR connection_id IN (SELECT id FROM connections WHERE tenant_id = ?2))
               AND (CAST(?3 AS TEXT) IS NULL OR connection_id = ?3)
             ORDER BY rowid LIMIT ?4",
        )?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = stmt.query_map(params![after, tenant, connection, limit], |r| {
            Ok((
                r.get(0)?,
                Event {
                    event_id: r.get(1)?,
                    connection: r.get(2)?,
                    region: r.get(3)?,
                    event_time: r.get(4)?,
                    event_name: r.get(5)?,
                    event_source: r.get(6)?,
                    username: r.get(7)?,
                },
            ))
        })?;
        Ok(rows.collect::<sql::Result<_>>()?)
    }
}

/// Stores a page of CloudTrail events, dropping those already stored (by EventId); returns how
/// many were new. A page none of whose events are new is not kept.
pub(super) fn insert_events(tx: &Conn, connection: &str, page: &EventPage) -> Result<u64> {
    if page.events.is_empty() {
        return Ok(0);
    }
    tx.on_engine(
        |db| insert_events_sqlite(db, connection, page),
        |pg| insert_events_postgres(pg, connection, page),
    )
}

/// [`insert_events`] on SQLite: one statement, prepared once, for the page's rows.
fn insert_events_sqlite(db: &rusqlite::Connection, connection: &str, page: &EventPage) -> Result<u64> {
    let region = page.events.first().map(|e| e.region.as_str()).unwrap_or_default();
    let page_id: i64 = db
        .prepare_cached(
            "INSERT INTO event_pages (connection_id, region, records) VALUES (?1, ?2, ?3) RETURNING id",
        )?
        .query_row(rusqlite::params![connection, region, page.records], |r| r.get(0))?;
    let mut insert = db.prepare_cached(
        "INSERT INTO events (event_id, connection_id, region, event_time, event_name, event_source, username, page_id, page_index)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) ON CONFLICT DO NOTHING",
    )?;
    let mut new = 0;
    for (index, e) in page.events.iter().enumerate() {
        new += insert.execute(rusqlite::params![
            e.event_id,
            connection,
            e.region,
            super::timestamp(e.event_time),
            e.event_name,
            e.event_source,
            e.username,
            page_id,
            index as i64
        ])? as u64;
    }
    if new == 0 {
        db.prepare_cached("DELETE FROM event_pages WHERE id = ?1")?.execute([page_id])?;
    }
    Ok(new)
}

/// [`insert_events`] on PostgreSQL: the page and its rows in one statement, the rows' columns
/// bound as arrays (`UNNEST`), rather than a round trip per event.
fn insert_events_postgres(pg: &mut super::sql::Pg, connection: &str, page: &EventPage) -> Result<u64> {
    let events = &page.events;
    let statement = pg.statement(
        "WITH page AS (
             INSERT INTO event_pages (connection_id, region, records) VALUES ($1, $2, $3) RETURNING id),
         new AS (
             INSERT INTO events (event_id, connection_id, region, event_time, event_name, event_source, username, page_id, page_index)
             SELECT e.id, $1, e.region, e.at, e.name, e.source, e.username, page.id, (e.n - 1)::int
             FROM page, UNNEST($4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[])
                  WITH ORDINALITY AS e(id, region, at, name, source, username, n)
             ON CONFLICT DO NOTHING RETURNING page_id)
         SELECT COUNT(new.page_id), MIN(page.id) FROM page LEFT JOIN new ON true",
    )?;
    let ids: Vec<&str> = events.iter().map(|e| e.event_id.as_str()).collect();
    let regions: Vec<&str> = events.iter().map(|e| e.region.as_str()).collect();
    let times: Vec<String> = events.iter().map(|e| super::timestamp(e.event_time)).collect();
    let names: Vec<&str> = events.iter().map(|e| e.event_name.as_str()).collect();
    let sources: Vec<Option<&str>> = events.iter().map(|e| e.event_source.as_deref()).collect();
    let users: Vec<Option<&str>> = events.iter().map(|e| e.username.as_deref()).collect();
    let region = regions.first().copied().unwrap_or_default();
    let client = pg.client();
    let row = super::sql::off_runtime(|| {
        client.query_one(
            &statement,
            &[&connection, &region, &page.records, &ids, &regions, &times, &names, &sources, &users],
        )
    })?;
    let new = u64::try_from(row.get::<_, i64>(0)).unwrap_or(0);
    if new == 0 {
        let page_id: i64 = row.get(1);
        let delete = pg.statement("DELETE FROM event_pages WHERE id = $1")?;
        let client = pg.client();
        super::sql::off_runtime(|| client.execute(&delete, &[&page_id]))?;
    }
    Ok(new)
}

/// Moves a region's CloudTrail cursor forward (never back: a replica that read an account again
/// after another, from an older cursor, leaves the newer one).
pub(super) fn set_cursor(
    tx: &Conn,
    connection: &str,
    region: &str,
    read_to: time::OffsetDateTime,
) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO cursors (connection_id, region, last_event_time) VALUES (?1, ?2, ?3)
         ON CONFLICT (connection_id, region) DO UPDATE SET last_event_time = excluded.last_event_time
         WHERE excluded.last_event_time > cursors.last_event_time",
    )?
    .execute(params![connection, region, super::timestamp(read_to)])?;
    Ok(())
}
