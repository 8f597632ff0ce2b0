//! The throttle-bound minimum: how long a complete sync of the organization must take, given
//! the simulator's token buckets and latency and the client's page sizes and concurrency.
//!
//! One pipeline is a run of calls through one bucket (rate `r`, burst `b`) where each call
//! takes the latency `L`. If its `n` calls need `rounds` latency-long steps one after another
//! (sequential pages count one each; `k` calls in flight make `ceil(n/k)` rounds), then
//!
//! ```text
//! T(n, rounds) = max(rounds · L, (n − b)/r + L)        (the second term only when n > b)
//! ```
//!
//! the first term being the latency chain, the second the bucket: after its burst, the bucket
//! lets the remaining `n − b` calls through at `r` per second, and the last still takes `L`.
//! Stages through the same bucket add their rounds and their calls.
//!
//! A sync is: (Organization) AssumeRole into the discovery role, `ListAccounts` pages; then for
//! every account AssumeRole (all through the vendor's STS bucket) → GetCallerIdentity (the
//! account's STS bucket) → side by side: IAM (GAAD pages → ListAccessKeys per user,
//! `access_key_concurrency` at once → GenerateCredentialReport → GetCredentialReport, one
//! bucket per account) and every region (EC2's five lists, `ec2_parallel_lists` at once, one
//! bucket; CloudTrail's pages one after another, another bucket; the two side by side or one
//! after the other). With `C` accounts at once the accounts go in `ceil(A/C)` waves:
//!
//! ```text
//! T = discovery + max(waves · (L + after), T_sts(A, 1) + after)
//! after = L(GetCallerIdentity) [+ L(DescribeRegions)] + max(T_iam, max over regions T_region)
//! ```
//!
//! Retries, refreshed sessions and the client's own pacing margins come on top.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::config::Rate;
use super::ec2::LISTS;
use super::model::Model;
use super::organizations::{ACTIVE, Members};
use super::{cloudtrail, ec2, iam, organizations};

/// How a client syncs: what it asks for per page and how much it does at once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClientShape {
    /// Accounts synced at once (the worker's `sync.concurrency`); 0: no limit, which makes
    /// the bound the throttles' alone. With a limit below the number of accounts they go in
    /// waves, each as long as the slowest account.
    pub account_concurrency: u32,
    /// Whether the sync discovers the accounts through the management account's discovery
    /// role first (and then syncs every ACTIVE account `ListAccounts` returns, the management
    /// account included); otherwise the ACTIVE member accounts are synced directly.
    pub organization: bool,
    /// `MaxResults` of `ListAccounts` (1–20).
    pub org_page: u32,
    /// `MaxItems` of `GetAccountAuthorizationDetails` (AWS's default when absent: 100).
    pub iam_max_items: u32,
    /// `ListAccessKeys` calls in flight per account.
    pub access_key_concurrency: u32,
    /// Whether the credential report is fetched after the keys (Generate, then Get).
    pub credential_report: bool,
    /// Whether each account's regions come from `DescribeRegions` first.
    pub describe_regions: bool,
    /// `MaxResults` of the EC2 lists (5–1000).
    pub ec2_max_results: u32,
    /// EC2 lists of a region read at once (1: one after another).
    pub ec2_parallel_lists: u32,
    /// `MaxResults` of `LookupEvents` (1–50).
    pub cloudtrail_page: u32,
    /// Whether a region's CloudTrail read waits for its EC2 lists (else they overlap).
    pub cloudtrail_after_ec2: bool,
}

impl Default for ClientShape {
    fn default() -> Self {
        ClientShape {
            account_concurrency: 0,
            organization: true,
            org_page: 20,
            iam_max_items: 100,
            access_key_concurrency: 8,
            credential_report: true,
            describe_regions: false,
            ec2_max_results: 1000,
            ec2_parallel_lists: 5,
            cloudtrail_page: 50,
            cloudtrail_after_ec2: false,
        }
    }
}

/// `T(n, rounds)` of the module docs, in seconds.
pub(crate) fn through(rate: Rate, latency: f64, calls: u64, rounds: u64) -> f64 {
    if calls == 0 {
        return 0.0;
    }
    let chain = rounds as f64 * latency;
    let burst = u64::from(rate.burst.max(1));
    if calls <= burst || rate.per_second <= 0.0 {
        return chain;
    }
    chain.max((calls - burst) as f64 / rate.per_second + latency)
}

/// The throttle-bound minimum of a complete sync (see the module docs).
pub(crate) fn throttle_bound(m: &Model, members: &Members, shape: &ClientShape) -> Duration {
    let rates = &m.cfg.rates;
    let l = m.cfg.latency.as_secs_f64();
    let cap = u64::from(m.cfg.page_cap.max(1));
    let synced: Vec<u32> = (0..m.org_accounts())
        .filter(|&i| (shape.organization || i > 0) && members.status(i) == ACTIVE)
        .collect();
    let a = synced.len() as u64;
    let discovery = if shape.organization {
        let listed = (0..m.org_accounts()).filter(|&i| members.status(i) != organizations::REMOVED).count();
        let pages = organizations::pages(m, listed as u64, shape.org_page);
        l + through(rates.organizations, l, pages, pages)
    } else {
        0.0
    };
    let iam = synced
        .iter()
        .map(|&i| {
            let (gaad, keys) = iam::calls(m, i, shape.iam_max_items);
            let report = if shape.credential_report { 2 } else { 0 };
            let rounds = gaad + keys.div_ceil(u64::from(shape.access_key_concurrency.max(1))) + report;
            through(rates.iam, l, gaad + keys + report, rounds)
        })
        .fold(0.0, f64::max);
    // Every account's regions have the same sizes; account 1 stands for all of them.
    let region = (1..=m.cfg.regions.len() as u16)
        .map(|r| {
            let ec2 = ec2::Region::new(m, 1, r);
            let size = u64::from(shape.ec2_max_results.clamp(5, 1000)).min(cap);
            let pages: Vec<u64> =
                LISTS.iter().map(|(api, _, _)| u64::from(ec2.count(*api)).div_ceil(size).max(1)).collect();
            let total: u64 = pages.iter().sum();
            let longest = pages.iter().copied().max().unwrap_or(0);
            let rounds = longest.max(total.div_ceil(u64::from(shape.ec2_parallel_lists.max(1))));
            let ec2 = through(rates.ec2, l, total, rounds);
            let pages = cloudtrail::Trail::new(m, 1, r).pages(shape.cloudtrail_page);
            let trail = through(rates.cloudtrail, l, pages, pages);
            if shape.cloudtrail_after_ec2 { ec2 + trail } else { ec2.max(trail) }
        })
        .fold(0.0, f64::max);
    let after = l + if shape.describe_regions { l } else { 0.0 } + iam.max(region);
    let waves = match shape.account_concurrency {
        0 => 1.0,
        c => a.div_ceil(u64::from(c)) as f64,
    };
    let sts = through(rates.sts, l, a, 1);
    let total = if a == 0 { discovery } else { discovery + (waves * (l + after)).max(sts + after) };
    Duration::from_secs_f64(total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::SimConfig;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn the_formula_by_hand() {
        let ct = Rate { per_second: 2.0, burst: 2 };
        // 40 LookupEvents pages, one after another: the bucket dominates (38 / 2 + 0.05).
        assert!(close(through(ct, 0.05, 40, 40), 19.05));
        // Within the burst only the latency chain counts.
        assert!(close(through(Rate { per_second: 20.0, burst: 100 }, 0.05, 10, 2), 0.10));
        // IAM: 1 GAAD page, 1000 users' keys 8 at a time (125 rounds), 2 report calls.
        let iam = Rate { per_second: 10.0, burst: 20 };
        assert!(close(through(iam, 0.05, 1003, 128), (1003.0 - 20.0) / 10.0 + 0.05));
        // Slow calls: latency dominates (100 sequential pages of 1 s within a big bucket).
        assert!(close(through(Rate { per_second: 1000.0, burst: 10 }, 1.0, 100, 100), 100.0));
        assert_eq!(through(ct, 0.05, 0, 0), 0.0);
    }

    fn sim(cfg: SimConfig) -> (Model, Members) {
        let m = Model::new(cfg);
        let members = Members::new(&m);
        (m, members)
    }

    #[test]
    fn a_small_organization_by_hand() {
        // 2 members + management, one region, nothing but the vendor roles, 100 events.
        let cfg = SimConfig {
            accounts: 2,
            regions: vec!["us-east-1".into()],
            users: 0,
            roles: 0,
            groups: 0,
            local_policies: 0,
            aws_managed_policies: 0,
            instances: 0,
            vpcs: 0,
            subnets: 0,
            security_groups: 0,
            interfaces: 0,
            events: 100,
            latency: Duration::from_millis(50),
            ..SimConfig::default()
        };
        let (m, members) = sim(cfg.clone());
        // discovery 0.05 + 0.05; per account: AssumeRole 0.05, GetCallerIdentity 0.05, then
        // max(IAM 3 calls = 0.15, region max(EC2 0.05, CloudTrail 2 pages = 0.10)).
        let t = throttle_bound(&m, &members, &ClientShape::default()).as_secs_f64();
        assert!(close(t, 0.10 + 0.05 + 0.05 + 0.15), "{t}");
        // 2,000 events: 40 CloudTrail pages through 2/s dominate.
        let (m, members) = sim(SimConfig { events: 2000, ..cfg.clone() });
        let t = throttle_bound(&m, &members, &ClientShape::default()).as_secs_f64();
        assert!(close(t, 0.10 + 0.05 + 0.05 + 19.05), "{t}");
        // One account at a time: three waves.
        let one = ClientShape { account_concurrency: 1, ..ClientShape::default() };
        let (m, members) = sim(cfg);
        let t = throttle_bound(&m, &members, &one).as_secs_f64();
        assert!(close(t, 0.10 + 3.0 * (0.05 + 0.05 + 0.15)), "{t}");
    }
}
