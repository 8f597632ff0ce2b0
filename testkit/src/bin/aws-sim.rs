//! Runs the organization simulator as a process, for the 1,000-account benchmark (bench/org-scale).
//! Loopback only.
//!
//! Usage: aws-sim --config sim.json|sim.toml [--port N] [--shape shape.json] [--ignore-stdin]
//!
//! Prints `listening on http://127.0.0.1:PORT` on stderr and one JSON line on stdout (endpoint,
//! vendor key, role ARNs, ExternalId, member accounts, the throttle bound for the client shape,
//! and what a complete sync of every ACTIVE account, the management account included, stores);
//! on SIGTERM, SIGINT or end of stdin (unless `--ignore-stdin`) prints the final statistics as
//! one JSON line and exits.

use std::io::BufRead as _;
use std::process::ExitCode;

use serde_json::json;
use trustline_testkit::sim::{ClientShape, Sim, SimConfig};

#[allow(clippy::print_stderr)]
fn fail(message: &str) -> ExitCode {
    eprintln!("aws-sim: {message}");
    ExitCode::from(2)
}

fn read<T: serde::de::DeserializeOwned>(path: &str) -> Result<T, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"))?;
    if path.ends_with(".toml") {
        toml::from_str(&text).map_err(|e| format!("{path} is not valid: {e}"))
    } else {
        serde_json::from_str(&text).map_err(|e| format!("{path} is not valid: {e}"))
    }
}

#[allow(clippy::print_stdout, clippy::print_stderr)]
fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let flag = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
    let known = ["--config", "--port", "--shape", "--ignore-stdin"];
    if let Some(bad) = args.iter().find(|a| a.starts_with("--") && !known.contains(&a.as_str())) {
        return fail(&format!(
            "unknown option {bad}; usage: aws-sim --config sim.json|sim.toml [--port N] [--shape shape.json] [--ignore-stdin]"
        ));
    }
    let config: SimConfig = match flag("--config").map(|p| read(&p)) {
        Some(Ok(c)) => c,
        Some(Err(e)) => return fail(&e),
        None => SimConfig::default(),
    };
    let shape: ClientShape = match flag("--shape").map(|p| read(&p)) {
        Some(Ok(s)) => s,
        Some(Err(e)) => return fail(&e),
        None => ClientShape::default(),
    };
    let port: u16 = match flag("--port").map(|p| p.parse()) {
        None => 0,
        Some(Ok(p)) => p,
        Some(Err(_)) => return fail("--port takes a number"),
    };
    let sim = match Sim::start_on(config, port) {
        Ok(sim) => sim,
        Err(e) => return fail(&format!("cannot serve on 127.0.0.1:{port}: {e}")),
    };
    let (key, secret) = sim.vendor_access_key();
    let management = sim.management_account();
    let (resources, events) = sim.expected_totals();
    let started = json!({
        "endpoint": sim.endpoint(),
        "vendor_access_key_id": key,
        "vendor_secret_access_key": secret,
        "vendor_account": sim.vendor_account(),
        "vendor_role_arn": sim.vendor_role_arn(),
        "external_id": sim.external_id(),
        "role_name": sim.config().role_name,
        "management_account": management,
        "management_role_arn": sim.role_arn(&management),
        "org_role_arn": sim.org_role_arn(),
        "root_id": sim.root_id(),
        "regions": sim.config().regions,
        "member_accounts": sim.member_accounts(),
        "client_shape": shape,
        "throttle_bound_seconds": sim.throttle_bound(&shape).as_secs_f64(),
        "expected_resources": resources,
        "expected_events": events,
    });
    eprintln!("listening on {}", sim.endpoint());
    println!("{started}");

    let watch_stdin = !args.iter().any(|a| a == "--ignore-stdin");
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => return fail(&format!("no runtime for signals: {e}")),
    };
    runtime.block_on(async {
        let (eof_tx, eof_rx) = tokio::sync::oneshot::channel::<()>();
        // Without a stdin to watch, the sender stays here and the receiver never fires.
        let _unwatched = if watch_stdin {
            std::thread::spawn(move || {
                for line in std::io::stdin().lock().lines() {
                    if line.is_err() {
                        break;
                    }
                }
                eof_tx.send(()).ok();
            });
            None
        } else {
            Some(eof_tx)
        };
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        let terminated = async {
            match term.as_mut() {
                Some(t) => {
                    t.recv().await;
                }
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = terminated => {}
            _ = tokio::signal::ctrl_c() => {}
            _ = eof_rx => {}
        }
    });
    println!("{}", json!({ "stats": sim.stats() }));
    drop(sim);
    ExitCode::SUCCESS
}
