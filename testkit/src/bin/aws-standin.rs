//! Runs Trustline's AWS stand-in as a process, for the README's run command when no AWS
//! credentials are configured (and for manual testing). Loopback only.
//!
//! Usage: aws-standin --seed SEED.json [--port N]
//! SEED.json: {"users": [{"account", "name", "access_key_id"}],
//!             "roles": [{"arn", "trust_policy", "denied_actions", "max_session_seconds"}]}
//! Prints `listening on http://127.0.0.1:PORT` on stderr, then serves until killed. It is the
//! organization simulator (`aws-sim`) with the seed as its explicit principals.
//!
//! While it runs, a role can be replaced without a restart (a trust policy loosened, a policy
//! detached): `curl -X PUT --data @role.json http://127.0.0.1:PORT/_sim/roles`, where role.json
//! is one of the seed's `roles`; `GET /_sim/stats` answers the request counters as JSON.

use std::process::ExitCode;

use trustline_testkit::sim::{Explicit, Sim, SimConfig};
use trustline_testkit::standin::StandIn;

#[allow(clippy::print_stderr)]
fn fail(message: &str) -> ExitCode {
    eprintln!("aws-standin: {message}");
    ExitCode::from(2)
}

#[allow(clippy::print_stderr)]
fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let flag = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
    let Some(seed_path) = flag("--seed") else {
        return fail("usage: aws-standin --seed SEED.json [--port N]");
    };
    let port: u16 = match flag("--port").map(|p| p.parse()) {
        None => 0,
        Some(Ok(p)) => p,
        Some(Err(_)) => return fail("--port takes a number"),
    };
    let seed: Explicit = match std::fs::read_to_string(&seed_path)
        .map_err(|e| e.to_string())
        .and_then(|t| serde_json::from_str(&t).map_err(|e| e.to_string()))
    {
        Ok(seed) => seed,
        Err(e) => return fail(&format!("cannot read {seed_path}: {e}")),
    };
    let config = SimConfig { explicit: seed, ..StandIn::config() };
    let sim = match Sim::start_on(config, port) {
        Ok(sim) => sim,
        Err(e) if e.kind() == std::io::ErrorKind::InvalidInput => {
            return fail(&format!("{seed_path} is not valid: {e}"));
        }
        Err(e) => return fail(&format!("cannot serve on 127.0.0.1:{port}: {e}")),
    };
    eprintln!("listening on {}", sim.endpoint());
    loop {
        std::thread::park();
    }
}
