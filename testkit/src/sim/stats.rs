//! Counters the benchmark and the fault suite read: lock-free atomics bumped on the hot path,
//! copied into a [`SimStats`] on demand.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;

use super::config::FaultKind;
use super::wire::Api;

/// What the simulator has seen and done so far.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SimStats {
    /// Requests received, all of them.
    pub requests: u64,
    /// Requests received per API (`LookupEvents`…), whatever their answer.
    pub requests_per_api: BTreeMap<String, u64>,
    /// Requests answered with a success.
    pub ok: u64,
    /// Requests refused because their token bucket was empty, per API.
    pub throttled_by_bucket: BTreeMap<String, u64>,
    /// Requests answered with a throttling error by the `throttle` fault.
    pub throttled_by_fault: u64,
    /// Faults injected, per kind (`clock_skew` counts requests refused for the clock).
    pub faults: BTreeMap<String, u64>,
    /// Role sessions issued by `AssumeRole`.
    pub sessions_issued: u64,
    /// Role sessions issued by `AssumeRole`, per account of the role assumed (12 digits).
    pub sessions_by_account: BTreeMap<String, u64>,
    /// `AssumeRole` requests refused (HTTP 403), per account of the role named: a sync's
    /// posture check asks for these on purpose (no ExternalId, a wrong one).
    pub assume_role_refused_by_account: BTreeMap<String, u64>,
    /// Requests refused because their session had expired (really, or by the fault).
    pub expired_token_answers: u64,
    /// Requests refused for a missing permission (trust, revocation, organization access).
    pub access_denied: u64,
    /// Requests the simulator could not read (unknown action, bad body) or with unknown keys.
    pub rejected: u64,
    /// The most requests in flight at once.
    pub peak_concurrent: u64,
}

impl SimStats {
    /// Requests throttled by their bucket, all APIs together.
    pub fn throttled_by_bucket_total(&self) -> u64 {
        self.throttled_by_bucket.values().sum()
    }

    /// Requests received for `api`.
    pub fn requests_for(&self, api: &str) -> u64 {
        self.requests_per_api.get(api).copied().unwrap_or(0)
    }

    /// Faults of `kind` injected.
    pub fn faults_of(&self, kind: &str) -> u64 {
        self.faults.get(kind).copied().unwrap_or(0)
    }
}

const FAULT_SLOTS: usize = FaultKind::ALL.len() + 1;

/// The live counters.
#[derive(Debug)]
pub(crate) struct Counters {
    requests: Vec<AtomicU64>,
    throttled: Vec<AtomicU64>,
    faults: [AtomicU64; FAULT_SLOTS],
    pub(crate) total: AtomicU64,
    pub(crate) ok: AtomicU64,
    pub(crate) throttled_by_fault: AtomicU64,
    pub(crate) sessions: AtomicU64,
    pub(crate) expired: AtomicU64,
    pub(crate) denied: AtomicU64,
    pub(crate) rejected: AtomicU64,
    in_flight: AtomicU64,
    peak: AtomicU64,
    /// AssumeRole outcomes per account of the role: (issued, refused). Off the hot path (one
    /// AssumeRole per account and session), so a lock is cheap enough.
    assume_role_by_account: std::sync::Mutex<BTreeMap<String, (u64, u64)>>,
}

/// Counts a request in flight until dropped.
#[derive(Debug)]
pub(crate) struct InFlight<'a>(&'a Counters);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Counters {
    pub(crate) fn new() -> Counters {
        let zeros = || Api::ALL.iter().map(|_| AtomicU64::new(0)).collect();
        Counters {
            requests: zeros(),
            throttled: zeros(),
            faults: Default::default(),
            total: AtomicU64::new(0),
            ok: AtomicU64::new(0),
            throttled_by_fault: AtomicU64::new(0),
            sessions: AtomicU64::new(0),
            expired: AtomicU64::new(0),
            denied: AtomicU64::new(0),
            rejected: AtomicU64::new(0),
            in_flight: AtomicU64::new(0),
            peak: AtomicU64::new(0),
            assume_role_by_account: std::sync::Mutex::default(),
        }
    }

    pub(crate) fn enter(&self) -> InFlight<'_> {
        self.total.fetch_add(1, Ordering::Relaxed);
        let now = self.in_flight.fetch_add(1, Ordering::Relaxed) + 1;
        self.peak.fetch_max(now, Ordering::Relaxed);
        InFlight(self)
    }

    pub(crate) fn request(&self, api: Api) {
        self.requests[api.index()].fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn throttled(&self, api: Api) {
        self.throttled[api.index()].fetch_add(1, Ordering::Relaxed);
    }

    /// A fault of `kind`, or (`None`) a clock-skew refusal.
    pub(crate) fn fault(&self, kind: Option<FaultKind>) {
        let slot = kind.map_or(FaultKind::ALL.len(), |k| k as usize);
        self.faults[slot].fetch_add(1, Ordering::Relaxed);
    }

    /// An `AssumeRole` of a role in `account`: a session issued, or refused.
    pub(crate) fn assume_role(&self, account: &str, issued: bool) {
        let mut by = self.assume_role_by_account.lock().unwrap_or_else(|e| e.into_inner());
        let entry = by.entry(account.to_owned()).or_default();
        if issued {
            entry.0 += 1;
        } else {
            entry.1 += 1;
        }
    }

    pub(crate) fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self) -> SimStats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let per_api = |v: &[AtomicU64]| {
            Api::ALL
                .iter()
                .filter(|a| get(&v[a.index()]) > 0)
                .map(|a| (a.name().to_owned(), get(&v[a.index()])))
                .collect()
        };
        let mut faults: BTreeMap<String, u64> =
            FaultKind::ALL.iter().map(|k| (k.as_str().to_owned(), get(&self.faults[*k as usize]))).collect();
        faults.insert("clock_skew".to_owned(), get(&self.faults[FaultKind::ALL.len()]));
        faults.retain(|_, n| *n > 0);
        let by_account = self.assume_role_by_account.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let per_account = |pick: fn(&(u64, u64)) -> u64| -> BTreeMap<String, u64> {
            by_account.iter().map(|(a, n)| (a.clone(), pick(n))).filter(|(_, n)| *n > 0).collect()
        };
        SimStats {
            requests: get(&self.total),
            requests_per_api: per_api(&self.requests),
            ok: get(&self.ok),
            throttled_by_bucket: per_api(&self.throttled),
            throttled_by_fault: get(&self.throttled_by_fault),
            faults,
            sessions_issued: get(&self.sessions),
            sessions_by_account: per_account(|n| n.0),
            assume_role_refused_by_account: per_account(|n| n.1),
            expired_token_answers: get(&self.expired),
            access_denied: get(&self.denied),
            rejected: get(&self.rejected),
            peak_concurrent: get(&self.peak),
        }
    }
}
