//! Each connection's posture as of its last check, and the history of its changes.
//!
//! Every check updates the current row's `last_checked_at` (and its findings' evidence); a row
//! is added to the history only when the posture or the set of findings changed. The one place
//! a change is recorded is [`record`], used by the sync's writer and by [`Store::record_posture`]
//! alike: what it returns is the change to announce (a `connection.posture_changed` event).

use anyhow::{Context, Result};
use serde::Serialize;

use super::sql::{self, Conn, OptionalExt, Row, params};
use super::{Store, now_text};
use crate::sync::posture::{Finding, Posture, Report};

/// A connection's posture moved from one verdict to another.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PostureChange {
    /// The connection.
    pub connection: String,
    /// The posture before; `None` for the connection's first check.
    pub from: Option<Posture>,
    /// The posture now.
    pub to: Posture,
    /// The findings behind it.
    pub findings: Vec<Finding>,
    /// When it was recorded (RFC 3339).
    pub at: String,
    /// The sync run that saw it (`None` for `trustline posture --check`).
    pub run_id: Option<i64>,
}

/// A connection's current posture, and one change in its history: the API's own types.
pub use trustline_core::api::{PostureHistory, PostureRow};

fn posture_row(r: &Row<'_>) -> sql::Result<PostureRow> {
    Ok(PostureRow {
        connection: r.get(0)?,
        posture: posture_column(r, 1)?,
        findings: findings_column(r, 2)?,
        changed_at: r.get(3)?,
        last_checked_at: r.get(4)?,
        run_id: r.get(5)?,
    })
}

fn posture_column(row: &Row<'_>, i: usize) -> sql::Result<Posture> {
    let text: String = row.get(i)?;
    Posture::parse(&text).ok_or_else(|| sql::Error::conversion(i, format!("unknown posture {text:?}")))
}

fn findings_column(row: &Row<'_>, i: usize) -> sql::Result<Vec<Finding>> {
    let text: String = row.get(i)?;
    serde_json::from_str(&text).map_err(|e| sql::Error::conversion(i, e))
}

fn finding_ids(findings: &[Finding]) -> Vec<&str> {
    let mut ids: Vec<&str> = findings.iter().map(|f| f.id.as_str()).collect();
    ids.sort_unstable();
    ids
}

/// Records a check of `connection` at `at`: always its check time and findings; a history row
/// when the posture or the set of findings changed; and returns the change when the posture
/// itself did (or this is the connection's first check).
pub(super) fn record(
    tx: &Conn,
    connection: &str,
    run_id: Option<i64>,
    report: &Report,
    at: &str,
) -> Result<Option<PostureChange>> {
    let previous: Option<(Posture, Vec<Finding>)> = tx
        .prepare_cached("SELECT posture, findings FROM postures WHERE connection_id = ?1")?
        .query_row(params![connection], |r| Ok((posture_column(r, 0)?, findings_column(r, 1)?)))
        .optional()?;
    let findings = serde_json::to_string(&report.findings).context("encoding the findings")?;
    let posture_moved = previous.as_ref().is_none_or(|(p, _)| *p != report.posture);
    let findings_moved =
        previous.as_ref().is_none_or(|(_, f)| finding_ids(f) != finding_ids(&report.findings));
    if posture_moved || findings_moved {
        tx.prepare_cached(
            "INSERT INTO posture_history (connection_id, previous, posture, findings, run_id, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?
        .execute(params![
            connection,
            previous.as_ref().map(|(p, _)| p.as_str()),
            report.posture.as_str(),
            findings,
            run_id,
            at
        ])?;
    }
    tx.prepare_cached(
        "INSERT INTO postures (connection_id, posture, findings, changed_at, last_checked_at, run_id)
         VALUES (?1, ?2, ?3, ?4, ?4, ?5)
         ON CONFLICT (connection_id) DO UPDATE SET posture = excluded.posture, findings = excluded.findings,
             changed_at = CASE WHEN postures.posture = excluded.posture THEN postures.changed_at
                 ELSE excluded.changed_at END,
             last_checked_at = excluded.last_checked_at, run_id = excluded.run_id",
    )?
    .execute(params![connection, report.posture.as_str(), findings, at, run_id])?;
    // Announced in the same transaction: a move from one posture to another, or a first check
    // that is not healthy (a healthy first check is what `connection.verified` already said).
    let announce = posture_moved && (previous.is_some() || report.posture != Posture::Healthy);
    if announce {
        let tenant: Option<String> = tx
            .prepare_cached("SELECT tenant_id FROM connections WHERE id = ?1")?
            .query_row(params![connection], |r| r.get(0))
            .optional()?;
        if let Some(tenant) = tenant {
            let event = super::PostureChanged {
                connection_id: connection.to_owned(),
                tenant,
                from: previous.as_ref().map_or("unchecked", |(p, _)| p.as_str()).to_owned(),
                to: report.posture.as_str().to_owned(),
                findings_count: report.findings.len() as u64,
            };
            super::enqueue_posture_changed(tx, &event)?;
        }
    }
    Ok(posture_moved.then(|| PostureChange {
        connection: connection.to_owned(),
        from: previous.map(|(p, _)| p),
        to: report.posture,
        findings: report.findings.clone(),
        at: at.to_owned(),
        run_id,
    }))
}

impl Store {
    /// Records a check of `connection` through the one function that records posture changes
    /// (the sync's writer uses it too), and returns the change to announce, if the posture
    /// changed.
    pub fn record_posture(
        &mut self,
        connection: &str,
        run_id: Option<i64>,
        report: &Report,
    ) -> Result<Option<PostureChange>> {
        let tx = self.db.transaction()?;
        let change = record(&tx, connection, run_id, report, &now_text())?;
        tx.commit()?;
        Ok(change)
    }

    /// A connection's current posture, if it was ever checked.
    pub fn posture(&self, connection: &str) -> Result<Option<PostureRow>> {
        let mut stmt = self.db.prepare_cached(
            "SELECT connection_id, posture, findings, changed_at, last_checked_at, run_id FROM postures WHERE connection_id = ?1",
        )?;
        Ok(stmt.query_row(params![connection], posture_row).optional()?)
    }

    /// Every checked connection's current posture, by connection.
    pub fn postures(&self) -> Result<Vec<PostureRow>> {
        let mut stmt = self.db.prepare(
            "SELECT connection_id, posture, findings, changed_at, last_checked_at, run_id FROM postures ORDER BY connection_id",
        )?;
        let rows = stmt.query_map(params![], posture_row)?;
        Ok(rows.collect::<sql::Result<_>>()?)
    }

    /// A connection's posture changes, oldest first.
    pub fn posture_history(&self, connection: &str) -> Result<Vec<PostureHistory>> {
        let mut stmt = self.db.prepare(
            "SELECT previous, posture, findings, at, run_id FROM posture_history WHERE connection_id = ?1 ORDER BY seq",
        )?;
        let rows = stmt.query_map(params![connection], |r| {
            let previous: Option<String> = r.get(0)?;
            Ok(PostureHistory {
                previous: previous.as_deref().and_then(Posture::parse),
                posture: posture_column(r, 1)?,
                findings: findings_column(r, 2)?,
                at: r.get(3)?,
                run_id: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<sql::Result<_>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::posture::Severity;

    fn report(posture: Posture, ids: &[&str]) -> Report {
        let findings = ids
            .iter()
            .map(|id| Finding {
                id: (*id).into(),
                severity: Severity::Critical,
                evidence: format!("seen {id}"),
                fix: "fix it".into(),
            })
            .collect();
        Report { posture, findings }
    }

    #[test]
    fn only_changes_are_history_and_every_check_is_timed() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path().join("t.db")).unwrap();
        let first = store.record_posture("acme", Some(1), &report(Posture::Healthy, &[])).unwrap().unwrap();
        assert_eq!((first.from, first.to), (None, Posture::Healthy));
        assert!(store.record_posture("acme", Some(2), &report(Posture::Healthy, &[])).unwrap().is_none());
        let row = store.posture("acme").unwrap().unwrap();
        assert_eq!((row.run_id, row.posture), (Some(2), Posture::Healthy));

        let change = store
            .record_posture("acme", Some(3), &report(Posture::Unsafe, &["trust_principal_widened"]))
            .unwrap();
        let change = change.unwrap();
        assert_eq!(
            (change.from, change.to, change.run_id),
            (Some(Posture::Healthy), Posture::Unsafe, Some(3))
        );
        // Another finding, same posture: history, but no change to announce.
        let more = report(Posture::Unsafe, &["trust_principal_widened", "external_id_required_missing"]);
        assert!(store.record_posture("acme", None, &more).unwrap().is_none());
        assert!(store.record_posture("acme", None, &more).unwrap().is_none());
        let back = store.record_posture("acme", Some(6), &report(Posture::Healthy, &[])).unwrap().unwrap();
        assert_eq!(back.from, Some(Posture::Unsafe));

        let history = store.posture_history("acme").unwrap();
        let steps: Vec<_> = history.iter().map(|h| (h.previous, h.posture, h.findings.len())).collect();
        assert_eq!(
            steps,
            [
                (None, Posture::Healthy, 0),
                (Some(Posture::Healthy), Posture::Unsafe, 1),
                (Some(Posture::Unsafe), Posture::Unsafe, 2),
                (Some(Posture::Unsafe), Posture::Healthy, 0),
            ]
        );
        let row = store.posture("acme").unwrap().unwrap();
        assert_eq!((row.posture, row.run_id, row.findings.len()), (Posture::Healthy, Some(6), 0));
        assert!(row.changed_at <= row.last_checked_at);
        assert!(store.posture("other").unwrap().is_none());
    }
}
