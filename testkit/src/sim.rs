//! An AWS-shaped organization simulator for benchmarks and fault tests: a management
//! account and N member accounts with generated IAM, EC2 and CloudTrail inventories, served in
//! AWS's wire shapes on loopback, behind AWS's token buckets, with latency and a deterministic
//! fault plan.
//!
//! Inventories are computed from (seed, account, region, index) when asked for; nothing per
//! account is held in memory, so 1,000 accounts × 4 regions cost what their pages cost.
//!
//! Beside the organization, users, roles and CloudTrail events can be configured one by one
//! ([`Explicit`], and at runtime [`Sim::add_user`], [`Sim::add_role`], [`Sim::add_events`]):
//! roles whose trust policies are evaluated as IAM does, which is what moto does not do
//! faithfully (it lets a *missing* ExternalId through). [`crate::standin`] is that use.
//!
//! A test in another process (a script around `aws-standin`) changes a role between two syncs
//! over loopback: `PUT /_sim/roles` with a [`Role`] as JSON adds it, or replaces the role with
//! the same ARN (its trust policy and denied actions hold for every call from then on, sessions
//! already issued included); `GET /_sim/stats` answers [`SimStats`]. These routes are not AWS's,
//! and are neither counted nor throttled.
//!
//! Callers are identified by the access key in the `Authorization` header; signatures are not
//! checked (moto does that), their `X-Amz-Date` is (clock skew).
//!
//! Rate limits (defaults, all configurable in [`Rates`]):
//!
//! | family | rate | burst | per | source |
//! |---|---|---|---|---|
//! | CloudTrail LookupEvents | 2/s | 2 | account and region | CloudTrail API reference, LookupEvents ("two transactions per second per account per region") |
//! | EC2 Describe* | 20/s | 100 | account and region | EC2 API reference, "Request throttling" (non-mutating actions bucket) |
//! | IAM | 10/s | 20 | account | not published; the worker's limiter assumes the same (`worker/src/limiter.rs`) |
//! | Organizations | 5/s | 10 | account | not published; AWS advises backing off on TooManyRequestsException |
//! | STS | 600/s | 600 | calling account | not published as a rate (AWS's knowledge center, "IAM and AWS STS throttling errors", says only that calls count against an account-wide limit and advises caching sessions); set high so that it never paces a sync of 1,000 accounts |
//!
//! Throttling answers are AWS's: IAM/STS `Throttling` (HTTP 400), EC2 `RequestLimitExceeded`
//! (503), CloudTrail `ThrottlingException` (400), Organizations `TooManyRequestsException` (400).

mod bound;
mod cloudtrail;
mod config;
mod ec2;
mod explicit;
mod faults;
mod iam;
mod limits;
mod model;
mod organizations;
mod server;
mod service;
mod stats;
mod sts;
mod trust;
mod wire;

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::Arc;

pub use bound::ClientShape;
pub use config::{Fault, FaultKind, FaultPlan, Rate, Rates, SimConfig};
pub use explicit::{Explicit, Role, TrailEvent, User};
pub use stats::SimStats;

use model::{VENDOR_ACCOUNT, VENDOR_KEY_ID, VENDOR_ROLE, VENDOR_SECRET};
use service::State;

/// What a complete sync must store for one account.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expected {
    /// (region or `global`, kind, id): `iam-user` (name), `iam-group`, `iam-role`,
    /// `iam-policy` (local policy ARN), `iam-aws-managed-policy` (ARN, attached ones only),
    /// `iam-access-key` (key ID), `ec2-instance`, `ec2-vpc`, `ec2-subnet`, `ec2-security-group`,
    /// `ec2-network-interface`.
    pub resources: BTreeSet<(String, String, String)>,
    /// The CloudTrail event IDs of every region (all of them lie within `event_window`).
    pub event_ids: BTreeSet<String>,
}

/// A running simulator; stops when dropped.
#[derive(Debug)]
pub struct Sim {
    state: Arc<State>,
    addr: SocketAddr,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Sim {
    /// Starts the simulator on a free loopback port, on its own runtime thread(s).
    ///
    /// # Panics
    /// When no loopback port can be bound or no thread started (a broken test machine).
    pub fn start(config: SimConfig) -> Sim {
        Sim::start_on(config, 0).expect("the simulator binds a loopback port")
    }

    /// Starts the simulator on `port` (0: any free one). An explicit user or role whose
    /// account is not 12 digits is refused (`InvalidInput`).
    pub fn start_on(config: SimConfig, port: u16) -> std::io::Result<Sim> {
        let workers = config.workers.max(1);
        let state =
            State::new(config).map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
        let state = Arc::new(state);
        let (tx, rx) = tokio::sync::oneshot::channel();
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let serving = state.clone();
        let thread = std::thread::Builder::new().name("aws-sim".into()).spawn(move || {
            let runtime = match tokio::runtime::Builder::new_multi_thread()
                .worker_threads(workers)
                .thread_name("aws-sim-worker")
                .enable_all()
                .build()
            {
                Ok(r) => r,
                Err(e) => {
                    addr_tx.send(Err(e)).ok();
                    return;
                }
            };
            runtime.block_on(async move {
                match server::bind(port).await {
                    Ok((listener, addr)) => {
                        addr_tx.send(Ok(addr)).ok();
                        server::serve(serving, listener, rx).await;
                    }
                    Err(e) => {
                        addr_tx.send(Err(e)).ok();
                    }
                }
            });
            runtime.shutdown_timeout(std::time::Duration::from_millis(200));
        })?;
        let addr = addr_rx.recv().map_err(std::io::Error::other)??;
        Ok(Sim { state, addr, shutdown: Some(tx), thread: Some(thread) })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The vendor's static access key ID and secret (the secret is not checked).
    pub fn vendor_access_key(&self) -> (String, String) {
        (VENDOR_KEY_ID.to_owned(), VENDOR_SECRET.to_owned())
    }

    /// The vendor's account.
    pub fn vendor_account(&self) -> String {
        VENDOR_ACCOUNT.to_owned()
    }

    /// A role in the vendor's account its user may assume without an ExternalId, to chain
    /// from into the customers' roles.
    pub fn vendor_role_arn(&self) -> String {
        format!("arn:aws:iam::{VENDOR_ACCOUNT}:role/{VENDOR_ROLE}")
    }

    /// The ExternalId the roles require.
    pub fn external_id(&self) -> String {
        self.state.model.cfg.external_id.clone()
    }

    /// The management account (which `ListAccounts` lists too, as AWS does).
    pub fn management_account(&self) -> String {
        self.state.model.account_id(0)
    }

    /// The member accounts, in order (member `i` is `100000000001 + i`), removed ones included.
    pub fn member_accounts(&self) -> Vec<String> {
        (1..self.state.model.org_accounts()).map(|i| self.state.model.account_id(i)).collect()
    }

    /// The vendor's role in `account` (the StackSet's member role).
    pub fn role_arn(&self, account: &str) -> String {
        format!("arn:aws:iam::{account}:role/{}", self.state.model.cfg.role_name)
    }

    /// The management account's role for reading Organizations (`{role_name}-org-discovery`).
    pub fn org_role_arn(&self) -> String {
        format!("arn:aws:iam::{}:role/{}", self.management_account(), self.state.model.org_role_name())
    }

    /// The organization's root (`r-…`).
    pub fn root_id(&self) -> String {
        self.state.model.root_id.clone()
    }

    /// The organizational units as (id, parent id).
    pub fn organizational_units(&self) -> Vec<(String, String)> {
        let m = &self.state.model;
        (0..m.cfg.ous).map(|k| (organizations::ou_id(m, k), organizations::ou_parent(m, k))).collect()
    }

    /// The root or OU directly holding `account`.
    pub fn parent_of(&self, account: &str) -> Option<String> {
        let m = &self.state.model;
        m.account_index(account).map(|i| organizations::account_parent(m, i))
    }

    /// What a complete sync stores for `account` (any organization account); empty for others.
    pub fn expected(&self, account: &str) -> Expected {
        self.state.model.account_index(account).map(|i| self.state.model.expected(i)).unwrap_or_default()
    }

    /// How many resources and events a complete sync of every ACTIVE account `ListAccounts`
    /// returns (the management account included) stores.
    pub fn expected_totals(&self) -> (u64, u64) {
        let (m, members) = (&self.state.model, &self.state.members);
        (0..m.org_accounts())
            .filter(|&i| members.status(i) == organizations::ACTIVE)
            .map(|i| m.expected_counts(i))
            .fold((0, 0), |(r, e), (r2, e2)| (r + r2, e + e2))
    }

    /// The counters so far.
    pub fn stats(&self) -> SimStats {
        self.state.stats.snapshot()
    }

    /// The throttle-bound minimum wall time of a complete sync by a client of `shape` (see the
    /// `bound` module's docs for the formula).
    pub fn throttle_bound(&self, shape: &ClientShape) -> std::time::Duration {
        bound::throttle_bound(&self.state.model, &self.state.members, shape)
    }

    /// From now on the vendor's role in `account` is denied `action` (`cloudtrail:LookupEvents`,
    /// `ec2:DescribeInstances`, `iam:GetAccountAuthorizationDetails`, `sts:AssumeRole`…).
    pub fn revoke(&self, account: &str, action: &str) {
        if let Some(i) = self.state.model.account_index(account) {
            self.state.revoke(i, action);
        }
    }

    /// `account` leaves the organization: `ListAccounts` no longer lists it and its StackSet
    /// role is gone (AssumeRole is denied).
    pub fn remove_account(&self, account: &str) {
        if let Some(i) = self.state.model.account_index(account) {
            self.state.members.remove(i);
        }
    }

    /// Adds an IAM user with an access key, in an explicit account (any secret is accepted).
    ///
    /// # Panics
    /// When `account` is not 12 digits.
    pub fn add_user(&self, account: &str, name: &str, access_key_id: &str) {
        let user = User { account: account.into(), name: name.into(), access_key_id: access_key_id.into() };
        self.state.directory.add_user(user).unwrap_or_else(|e| panic!("add_user: {e}"));
    }

    /// Adds a role to an explicit account, or replaces the one with the same ARN (its
    /// sessions then have the new role's permissions).
    ///
    /// # Panics
    /// When the ARN is not a role ARN with a 12-digit account.
    pub fn add_role(&self, role: Role) {
        self.state.directory.add_role(role).unwrap_or_else(|e| panic!("add_role: {e}"));
    }

    /// Adds CloudTrail events to an explicit account in `region` (one of the config's
    /// `regions`: others do not know the account's credentials).
    ///
    /// # Panics
    /// When `account` is not 12 digits.
    pub fn add_events(&self, account: &str, region: &str, events: Vec<TrailEvent>) {
        self.state
            .directory
            .add_events(account, region, events)
            .unwrap_or_else(|e| panic!("add_events: {e}"));
    }

    /// Role sessions issued from now on last `actual` and announce an Expiration `reported`
    /// ahead, each at most the `DurationSeconds` asked for. Announcing longer than they last
    /// models credentials that go bad early (a revoked session, a skewed clock): clients must
    /// recover on ExpiredToken. `SimConfig::session_lifetime` sets both at the start.
    pub fn set_session_lifetime(&self, actual: std::time::Duration, reported: std::time::Duration) {
        self.state.set_session_lifetime(actual, reported);
    }

    /// Replaces the fault plan (its counters start again).
    pub fn set_faults(&self, plan: FaultPlan) {
        self.state.set_faults(plan);
    }

    /// The configuration it runs with.
    pub fn config(&self) -> &SimConfig {
        &self.state.model.cfg
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            tx.send(()).ok();
        }
        if let Some(t) = self.thread.take() {
            t.join().ok();
        }
    }
}
