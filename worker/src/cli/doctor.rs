//! `trustline doctor`: which store this worker uses, its migrations, and (for replicas sharing
//! a PostgreSQL store) which replicas are alive and how their leases stand.

use anyhow::Result;
use serde::Serialize;
use trustline_worker::store::{LeaseState, Store};

use super::GlobalArgs;
use super::common::config;

#[derive(Serialize)]
struct Report {
    store: String,
    engine: &'static str,
    engine_version: String,
    migrations_applied: usize,
    migrations_known: usize,
    worker_running: bool,
    leases: LeaseState,
}

pub(crate) fn doctor(global: &GlobalArgs, json: bool) -> Result<String> {
    let config = config(global)?;
    let location = config.store.location()?;
    let store = Store::open_read_only(&location)?;
    let (applied, known) = store.schema_version()?;
    let report = Report {
        store: location.to_string(),
        engine: match store.engine() {
            trustline_worker::store::sql::Engine::Sqlite => "sqlite",
            trustline_worker::store::sql::Engine::Postgres => "postgresql",
        },
        engine_version: store.engine_version()?,
        migrations_applied: applied,
        migrations_known: known,
        worker_running: store.worker_running()?,
        leases: store.lease_state()?,
    };
    if json {
        return Ok(serde_json::to_string_pretty(&report)? + "\n");
    }
    let mut out = format!(
        "store: {} ({} {})\nschema: {} of {} migrations applied{}\n",
        report.store,
        report.engine,
        report.engine_version,
        applied,
        known,
        if applied < known { " (the next worker to open it for writing applies the rest)" } else { "" },
    );
    let l = &report.leases;
    match report.engine {
        "postgresql" => {
            out.push_str(&format!("replicas alive: {}\n", l.live_replicas.len()));
            for r in &l.live_replicas {
                out.push_str(&format!(
                    "  {} on {} (pid {}), since {}, heartbeat {:.1} s ago\n",
                    r.id,
                    r.host,
                    r.pid,
                    r.started_at,
                    r.heartbeat_age_ms as f64 / 1000.0
                ));
            }
        }
        _ => out.push_str(&format!(
            "worker: {}\n",
            if report.worker_running { "running (it holds the store's lock)" } else { "none running" }
        )),
    }
    out.push_str(&format!(
        "leases: {} held, {} expired (their replica stopped; taken over by the next replica working on the slot), {} taken over in all\n",
        l.held, l.expired, l.takeovers
    ));
    for (slot, accounts) in &l.slots {
        out.push_str(&format!("  slot {slot}: {accounts} account(s) last synced in it\n"));
    }
    Ok(out)
}
