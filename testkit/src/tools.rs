//! Where the test tools installed by `scripts/setup.sh` live.

use std::net::TcpListener;
use std::path::PathBuf;

/// The Python virtualenv with moto, the linters and botocore (`$TRUSTLINE_VENV`, by default
/// `~/.cache/trustline/venv`).
pub fn venv() -> PathBuf {
    if let Some(dir) = std::env::var_os("TRUSTLINE_VENV") {
        return PathBuf::from(dir);
    }
    let tools = std::env::var_os("TRUSTLINE_TOOLS").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(std::env::var_os("HOME").unwrap_or_else(|| "/root".into())).join(".cache/trustline")
    });
    tools.join("venv")
}

/// The path of an executable in the virtualenv, or a panic that says how to install it.
pub fn venv_bin(name: &str) -> PathBuf {
    let path = venv().join("bin").join(name);
    assert!(
        path.is_file(),
        "{} not found: run `bash scripts/setup.sh` (or set TRUSTLINE_VENV to a virtualenv with scripts/requirements.txt installed)",
        path.display()
    );
    path
}

/// A TCP port on 127.0.0.1 that was free a moment ago.
pub fn free_port() -> u16 {
    let listener = TcpListener::bind(("127.0.0.1", 0)).expect("bind an ephemeral loopback port");
    listener.local_addr().expect("local address").port()
}
