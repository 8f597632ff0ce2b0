//! Runs Trustline's AWS stand-in as a process, for the README's run command when no AWS
//! credentials are configured (and for manual testing). Loopback only.
//!
//! Usage: aws-standin --seed SEED.json [--port N]
//! SEED.json: {"users": [{"account", "name", "access_key_id"}],
//!             "roles": [{"arn", "trust_policy", "denied_actions", "max_session_seconds"}]}
//! Prints `listening on http://127.0.0.1:PORT`, then serves until killed.

use std::process::ExitCode;

use trustline_testkit::standin::{Role, StandIn};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let flag = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
    let Some(seed_path) = flag("--seed") else {
        #[allow(clippy::print_stderr)]
        {
            eprintln!("usage: aws-standin --seed SEED.json [--port N]");
        }
        return ExitCode::from(2);
    };
    let port: u16 = flag("--port").and_then(|p| p.parse().ok()).unwrap_or(0);
    let seed: serde_json::Value = match std::fs::read_to_string(&seed_path)
        .map_err(|e| e.to_string())
        .and_then(|t| serde_json::from_str(&t).map_err(|e| e.to_string()))
    {
        Ok(v) => v,
        Err(e) => {
            #[allow(clippy::print_stderr)]
            {
                eprintln!("aws-standin: cannot read {seed_path}: {e}");
            }
            return ExitCode::from(2);
        }
    };
    let standin = StandIn::start_on(port);
    let text = |v: &serde_json::Value, k: &str| v[k].as_str().unwrap_or_default().to_owned();
    for u in seed["users"].as_array().into_iter().flatten() {
        standin.add_user(&text(u, "account"), &text(u, "name"), &text(u, "access_key_id"));
    }
    for r in seed["roles"].as_array().into_iter().flatten() {
        standin.add_role(Role {
            arn: text(r, "arn"),
            trust_policy: text(r, "trust_policy"),
            denied_actions: r["denied_actions"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|a| a.as_str().map(str::to_owned))
                .collect(),
            max_session_seconds: r["max_session_seconds"]
                .as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .unwrap_or(3600),
        });
    }
    #[allow(clippy::print_stderr)]
    {
        eprintln!("listening on {}", standin.endpoint());
    }
    loop {
        std::thread::park();
    }
}
