//! Signed webhooks, following the Standard Webhooks specification (standardwebhooks.com; the
//! text is `spec/standard-webhooks.md` in github.com/standard-webhooks/standard-webhooks).
//!
//! The operator registers endpoints (`trustline webhooks add`), each for one tenant or for all,
//! optionally for some event types only. An event is written to the store's outbox in the same
//! SQLite transaction as the change it reports (a run's end, a verified registration, an
//! account's inventory write), with one delivery per endpoint that wants it; the delivery loop
//! ([`deliver::Deliverer`], in `trustline run` and `trustline serve`) sends what is due. So an
//! event is never reported for a change that did not commit, nor lost for one that did: a worker
//! killed between the commit and the delivery sends it after restarting, with the same
//! `webhook-id` (at-least-once; receivers deduplicate by that id, as the specification advises).
//!
//! Each request is a POST of the event's JSON body — `{"type", "timestamp", "tenant", "data"}`,
//! the specification's recommended shape — with the headers `webhook-id` (the event's id),
//! `webhook-timestamp` (the attempt's Unix time in seconds) and `webhook-signature`
//! (`v1,` + base64 of HMAC-SHA256 over `{id}.{timestamp}.{body}`; see [`sign`]).
//!
//! A 2xx answer delivers; anything else (another status, a timeout, a refused connection) is
//! retried with exponential backoff and full jitter ([`backoff`]) until the delivery has been
//! failing for `webhooks.retry_window` (24 hours by default), when it is marked failed. An
//! endpoint is disabled when every attempt to it has failed for that same window (no 2xx since
//! its first failure), or at once when it answers 410 Gone (the specification's advice); its
//! events are kept, and `trustline webhooks retry` re-enables it and queues its failed ones
//! again.

pub mod deliver;
pub mod sign;

use std::time::Duration;

use serde::Serialize;

/// The event types an endpoint can subscribe to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum EventType {
    /// A connection was registered through the API after it verified.
    ConnectionVerified,
    /// A connection's verified posture changed (see [`crate::store::PostureChanged`]).
    ConnectionPostureChanged,
    /// A sync run ended and read at least one of the tenant's accounts.
    SyncCompleted,
    /// A sync run ended without reading any of the tenant's accounts.
    SyncFailed,
    /// An account's inventory changed: counts and the change history's cursor.
    InventoryChanged,
    /// Sent by `trustline webhooks test`, to one endpoint, whatever its filter.
    Test,
}

impl EventType {
    /// The types an endpoint may subscribe to (`webhook.test` is sent on request only).
    pub const SUBSCRIBABLE: [EventType; 5] = [
        EventType::ConnectionVerified,
        EventType::ConnectionPostureChanged,
        EventType::SyncCompleted,
        EventType::SyncFailed,
        EventType::InventoryChanged,
    ];

    /// The type's name on the wire (the body's `type`): full-stop delimited, as the
    /// specification recommends.
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::ConnectionVerified => "connection.verified",
            EventType::ConnectionPostureChanged => "connection.posture_changed",
            EventType::SyncCompleted => "sync.completed",
            EventType::SyncFailed => "sync.failed",
            EventType::InventoryChanged => "inventory.changed",
            EventType::Test => "webhook.test",
        }
    }

    /// A subscribable type by name; the error lists the names.
    pub fn parse_subscribable(name: &str) -> Result<EventType, String> {
        EventType::SUBSCRIBABLE.into_iter().find(|t| t.as_str() == name).ok_or_else(|| {
            let names: Vec<&str> = EventType::SUBSCRIBABLE.iter().map(|t| t.as_str()).collect();
            format!("unknown event type '{name}'; choose from {}", names.join(", "))
        })
    }
}

/// Whether an endpoint (for `endpoint_tenant`, or every tenant when `None`; for `events`, or
/// every type when empty) receives an event of `event` belonging to `event_tenant`. A tenant's
/// endpoint never receives another tenant's events.
pub fn wants(
    endpoint_tenant: Option<&str>,
    events: &[String],
    event: EventType,
    event_tenant: Option<&str>,
) -> bool {
    let tenant_ok = match endpoint_tenant {
        None => true,
        Some(t) => event_tenant == Some(t),
    };
    tenant_ok && (events.is_empty() || events.iter().any(|e| e == event.as_str()))
}

/// Retry timing.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    /// The longest wait before the first retry.
    pub first: Duration,
    /// The longest wait before any retry.
    pub max: Duration,
}

/// The wait before retrying a delivery that has failed `failures` times (1 after the first
/// failure): "full jitter" — a uniformly random time between zero and min(max, first ×
/// 2^(failures−1)) (AWS Architecture Blog, "Exponential Backoff And Jitter", 2015), so retries
/// after a receiver's outage spread out instead of arriving together. `random` is a uniformly
/// random number (the delivery loop takes it from the operating system's RNG).
pub fn backoff(b: Backoff, failures: u32, random: u64) -> Duration {
    let doublings = failures.saturating_sub(1).min(32);
    let ceiling = b.first.saturating_mul(1u32 << doublings.min(31)).min(b.max);
    let ceiling_ms = u64::try_from(ceiling.as_millis()).unwrap_or(u64::MAX);
    if ceiling_ms == 0 {
        return Duration::ZERO;
    }
    Duration::from_millis(random % (ceiling_ms.saturating_add(1)))
}

/// A random number from the operating system's RNG, for [`backoff`].
pub fn random_u64() -> u64 {
    // The jitter only spreads retries; a failing RNG (never expected) falls back to half.
    getrandom::u64().unwrap_or(u64::MAX / 2)
}

/// A new event id: `msg_` and 128 random bits in lower-case base32 (no `.`, which the
/// specification forbids in ids because they are joined with `.` for signing).
pub fn new_message_id() -> String {
    random_id("msg_", 16)
}

/// A new endpoint id: `ep_` and 80 random bits. Connection ids never hold `_`, so a sealed
/// endpoint secret (bound to its id) cannot be taken for a connection's.
pub fn new_endpoint_id() -> String {
    random_id("ep_", 10)
}

fn random_id(prefix: &str, len: usize) -> String {
    let mut bytes = vec![0u8; len];
    getrandom::fill(&mut bytes)
        .unwrap_or_else(|e| panic!("the operating system's random number generator failed: {e}"));
    format!("{prefix}{}", data_encoding::BASE32_NOPAD.encode(&bytes).to_lowercase())
}

/// Checks an endpoint URL: absolute http or https with a host, and no user name or password
/// (the signature authenticates the sender; credentials in a URL end up in logs).
pub fn check_url(text: &str) -> Result<reqwest::Url, String> {
    let url = reqwest::Url::parse(text)
        .map_err(|e| format!("'{text}' is not an absolute URL ({e}); use https://host/path"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("'{text}' uses {}:, but an endpoint must be http or https", url.scheme()));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(format!("'{text}' has no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(
            "an endpoint URL must not carry a user name or password: receivers authenticate Trustline by the webhook-signature header"
                .to_owned(),
        );
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap_with_full_jitter() {
        let b = Backoff { first: Duration::from_secs(5), max: Duration::from_secs(3600) };
        // A random number equal to the ceiling reaches it: 5 s, 10 s, 20 s, … capped at an hour.
        let exact: Vec<u64> = (1..=12)
            .map(|n| {
                let ceiling = (5_000u64 << (n - 1)).min(3_600_000);
                backoff(b, n, ceiling).as_millis() as u64
            })
            .collect();
        assert_eq!(
            exact,
            [
                5_000, 10_000, 20_000, 40_000, 80_000, 160_000, 320_000, 640_000, 1_280_000, 2_560_000,
                3_600_000, 3_600_000
            ]
        );
        // Full jitter: anything from zero to the ceiling.
        assert_eq!(backoff(b, 3, 0), Duration::ZERO);
        assert_eq!(backoff(b, 3, 20_001), Duration::ZERO);
        assert_eq!(backoff(b, 3, 12_345), Duration::from_millis(12_345));
        for _ in 0..1000 {
            assert!(backoff(b, 40, random_u64()) <= b.max, "never beyond the cap, even after many");
        }
        assert_eq!(backoff(Backoff { first: Duration::ZERO, max: b.max }, 1, 7), Duration::ZERO);
    }

    #[test]
    fn events_reach_their_tenant_and_global_endpoints_only() {
        use EventType::*;
        let all: Vec<String> = vec![];
        let syncs = vec!["sync.completed".to_owned(), "sync.failed".to_owned()];
        // Global endpoints receive every tenant's events.
        assert!(wants(None, &all, SyncCompleted, Some("acme")));
        assert!(wants(None, &all, InventoryChanged, Some("other")));
        // A tenant's endpoint receives its tenant's events only.
        assert!(wants(Some("acme"), &all, SyncCompleted, Some("acme")));
        assert!(!wants(Some("acme"), &all, SyncCompleted, Some("other")));
        assert!(!wants(Some("acme"), &all, SyncCompleted, None));
        // And only the types it subscribed to.
        assert!(wants(Some("acme"), &syncs, SyncFailed, Some("acme")));
        assert!(!wants(Some("acme"), &syncs, InventoryChanged, Some("acme")));
        assert!(!wants(None, &syncs, ConnectionVerified, Some("acme")));
    }

    #[test]
    fn event_names_and_urls_are_checked() {
        assert_eq!(EventType::parse_subscribable("inventory.changed"), Ok(EventType::InventoryChanged));
        let err = EventType::parse_subscribable("webhook.test").unwrap_err();
        assert!(err.contains("choose from connection.verified"), "{err}");
        assert!(check_url("https://hooks.example.com/trustline?x=1").is_ok());
        assert!(check_url("http://127.0.0.1:9000/").is_ok());
        assert!(check_url("ftp://example.com/").unwrap_err().contains("must be http or https"));
        assert!(check_url("example.com/hook").unwrap_err().contains("not an absolute URL"));
        assert!(check_url("https://user:pw@example.com/").unwrap_err().contains("user name or password"));
        let ids = [new_message_id(), new_message_id()];
        assert_ne!(ids[0], ids[1]);
        assert!(ids[0].starts_with("msg_") && ids[0].len() == 4 + 26 && !ids[0].contains('.'));
        assert!(new_endpoint_id().starts_with("ep_"));
    }
}
