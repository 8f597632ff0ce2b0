//! A moto server child process on a free loopback port, killed when dropped.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::tools::{free_port, venv_bin};

/// A running `moto_server`. Each test gets its own, so tests can run in parallel.
#[derive(Debug)]
pub struct Moto {
    child: Child,
    port: u16,
}

/// How to start moto.
#[derive(Debug, Clone, Default)]
pub struct MotoOptions {
    /// Verify SigV4 signatures after this many calls (`INITIAL_NO_AUTH_ACTION_COUNT`).
    pub verify_signatures_after: Option<u32>,
    /// Load the ~1,600 AWS-managed IAM policies (slower start, needed for `ListPolicies Scope=AWS`).
    pub load_managed_policies: bool,
}

impl Moto {
    /// Starts moto with default options.
    pub fn start() -> Moto {
        Moto::start_with(&MotoOptions::default())
    }

    /// Starts moto and waits until it answers.
    pub fn start_with(options: &MotoOptions) -> Moto {
        let bin = venv_bin("moto_server");
        // A port can be taken between probing and binding; retry a few times.
        for _ in 0..5 {
            let port = free_port();
            let mut cmd = Command::new(&bin);
            cmd.args(["-H", "127.0.0.1", "-p", &port.to_string()])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                // Never let real credentials or a fixed account leak into the stand-in.
                .env_remove("MOTO_ACCOUNT_ID")
                .env("AWS_ACCESS_KEY_ID", "testing")
                .env("AWS_SECRET_ACCESS_KEY", "testing");
            if let Some(n) = options.verify_signatures_after {
                cmd.env("INITIAL_NO_AUTH_ACTION_COUNT", n.to_string());
            }
            if options.load_managed_policies {
                cmd.env("MOTO_IAM_LOAD_MANAGED_POLICIES", "true");
            }
            let child = cmd.spawn().unwrap_or_else(|e| panic!("start {}: {e}", bin.display()));
            let mut moto = Moto { child, port };
            if moto.wait_ready(Duration::from_secs(30)) {
                return moto;
            }
        }
        panic!("moto_server did not start on a free loopback port after 5 attempts");
    }

    fn wait_ready(&mut self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return false;
            }
            if self.get("/moto-api/").is_some() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }

    /// The port moto listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The endpoint URL to send AWS requests to (`http://127.0.0.1:PORT`).
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Clears all state (`POST /moto-api/reset`).
    pub fn reset(&self) {
        self.raw("POST", "/moto-api/reset", "", "").expect("reset moto");
    }

    /// A plain HTTP GET to moto, returning the body on success.
    fn get(&self, path: &str) -> Option<String> {
        self.raw("GET", path, "", "")
    }

    /// A request to moto's unsigned control API; the body on a 2xx answer.
    pub fn raw(&self, method: &str, path: &str, content_type: &str, body: &str) -> Option<String> {
        let url = format!("{}{path}", self.endpoint());
        let headers = (!content_type.is_empty()).then_some(("Content-Type", content_type));
        let response = crate::http::exchange(method, &url, headers, body.as_bytes()).ok()?;
        (200..300).contains(&response.status).then(|| response.text())
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
