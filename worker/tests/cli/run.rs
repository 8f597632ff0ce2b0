//! `trustline run`: syncs at once, waits for the schedule, and on SIGTERM stops cleanly with
//! everything committed.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use trustline_testkit::standin::TrailEvent;

#[test]
fn runs_on_schedule_and_stops_cleanly_on_sigterm() {
    let aws = crate::standin_with_reader();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    aws.add_events(
        "222222222222",
        "us-east-1",
        vec![TrailEvent { id: "e-1".into(), time: now - 60, name: "CreateUser".into() }],
    );
    let dir = std::env::temp_dir().join(format!("trustline-run-{}", std::process::id()));
    std::fs::remove_dir_all(&dir).ok();
    let store = dir.join("db");
    let trustline = |args: &[&str]| crate::trustline_at(&store, &aws.endpoint(), args);
    crate::add_reader_connection(&store, &aws.endpoint(), "us-east-1");

    let mut child =
        trustline(&["run", "--schedule", "1h", "--jitter", "1s"]).stderr(Stdio::null()).spawn().unwrap();
    // The first run happens at once; wait for it to be committed.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let shown = trustline(&["accounts", "show", "acme"]).output().unwrap();
        let json: serde_json::Value = serde_json::from_slice(&shown.stdout).unwrap_or_default();
        if json["last_sync"]["status"] == "ok" {
            break;
        }
        assert!(Instant::now() < deadline, "the first scheduled run never completed");
        std::thread::sleep(Duration::from_millis(200));
    }
    let second = trustline(&["sync"]).output().unwrap();
    if crate::postgres_server().is_none() {
        // A second worker on the same SQLite store is refused while this one runs.
        assert!(!second.status.success());
        assert!(
            String::from_utf8_lossy(&second.stderr).contains("another trustline worker is using the store")
        );
    } else {
        // On PostgreSQL a second worker is one more replica: it syncs beside the first (a slot
        // of its own), and the event is still stored once.
        assert!(second.status.success(), "{}", String::from_utf8_lossy(&second.stderr));
    }

    let pid = child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let stopped = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(stopped.elapsed() < Duration::from_secs(10), "run did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(status.success(), "{status}");
    let events = trustline(&["events"]).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&events.stdout).lines().count(), 1);
    std::fs::remove_dir_all(&dir).ok();
}
