//! Token buckets per (account, region, service), sized from AWS's documented limits, so a sync
//! stays under them instead of bouncing off them.
//!
//! | service | sustained | burst | source |
//! |---|---|---|---|
//! | EC2 Describe* | 20/s | 100 | EC2 API reference, "Request throttling" (non-mutating actions) |
//! | CloudTrail LookupEvents | 2/s | 1 | CloudTrail API reference, LookupEvents: per account, per region |
//! | IAM | 10/s | 20 | not published; throttling starts in the low tens per account |
//! | Organizations | 5/s | 10 | not published; AWS advises backing off on TooManyRequestsException |
//! | STS | 300/s | 300 | one bucket for all of the worker's STS calls, see below |
//!
//! A request counts against the rate of the account whose credentials make it (AWS re:Post
//! Knowledge Center, "How do I resolve API throttling or 'Rate exceeded' errors for IAM and AWS
//! STS?"; IAM and STS throttle with token buckets, AWS Security Blog, "How to monitor and query
//! IAM resources at scale – Part 2"). Every other service is called with the customer's own
//! session, so its bucket is keyed by the customer's account; but every AssumeRole (sessions,
//! and the decoys that prove each ExternalId is still enforced) is made with the vendor's
//! credentials, or a role chained from them, so STS has one bucket for the whole worker: with
//! a bucket per customer account, 1,000 accounts' AssumeRoles left together and were throttled
//! by the vendor's own limit.
//!
//! Buckets refill 5% slower than the documented rate, so that jitter between Trustline and AWS
//! (requests sent evenly arrive unevenly) does not push a paced client over the limit. A
//! throttled answer pauses that bucket's key for a moment, on top of the caller's backoff.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use trustline_core::Service;

/// Requests per second and burst for one service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    /// Sustained requests per second.
    pub per_second: u32,
    /// Requests that may go at once after a quiet spell.
    pub burst: u32,
}

/// The documented default for a service (see the table above).
pub fn default_rate(service: Service) -> Rate {
    match service {
        Service::Ec2 => Rate { per_second: 20, burst: 100 },
        // A burst of 2 at exactly 2/s trips AWS's bucket whenever two requests arrive a little
        // apart; one at a time never does.
        Service::CloudTrail => Rate { per_second: 2, burst: 1 },
        Service::Organizations => Rate { per_second: 5, burst: 10 },
        Service::Sts => Rate { per_second: 300, burst: 300 },
        // IAM, and any service core adds later until it gets a row of its own: conservative.
        _ => Rate { per_second: 10, burst: 20 },
    }
}

type Key = (String, String, Service);

struct Bucket {
    limiter: Arc<DefaultDirectRateLimiter>,
    paused_until: Option<Instant>,
}

/// All buckets of a worker.
#[derive(Default)]
pub struct Limiter {
    buckets: Mutex<HashMap<Key, Bucket>>,
    /// Overrides of [`default_rate`] (tests, or an operator who knows their account's limits).
    overrides: HashMap<Service, Rate>,
}

impl std::fmt::Debug for Limiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Limiter").field("overrides", &self.overrides).finish_non_exhaustive()
    }
}

/// Refill slower than documented by this factor (see the module docs).
const SAFETY: f64 = 1.05;

/// How long a throttled key pauses before its bucket is used again.
const THROTTLE_PAUSE: Duration = Duration::from_millis(500);

impl Limiter {
    /// Buckets at the documented rates, with `overrides` where given.
    pub fn new(overrides: HashMap<Service, Rate>) -> Self {
        Limiter { buckets: Mutex::default(), overrides }
    }

    fn rate(&self, service: Service) -> Rate {
        self.overrides.get(&service).copied().unwrap_or_else(|| default_rate(service))
    }

    /// The bucket of a request: per (account, region, service), except STS's one bucket (see
    /// the module docs).
    fn key(account: &str, region: &str, service: Service) -> Key {
        match service {
            Service::Sts => (String::new(), String::new(), service),
            _ => (account.to_owned(), region.to_owned(), service),
        }
    }

    /// Waits until a request to `service` in `region` of `account` may go.
    pub async fn acquire(&self, account: &str, region: &str, service: Service) {
        let (limiter, paused_until) = {
            let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
            let rate = self.rate(service);
            let bucket = buckets.entry(Self::key(account, region, service)).or_insert_with(|| {
                let period = Duration::from_secs_f64(SAFETY / f64::from(rate.per_second.max(1)));
                let burst = NonZeroU32::new(rate.burst.max(1)).unwrap_or(NonZeroU32::MIN);
                let quota = Quota::with_period(period)
                    .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
                    .allow_burst(burst);
                Bucket { limiter: Arc::new(RateLimiter::direct(quota)), paused_until: None }
            });
            (bucket.limiter.clone(), bucket.paused_until)
        };
        if let Some(until) = paused_until {
            let now = Instant::now();
            if until > now {
                tokio::time::sleep(until - now).await;
            }
        }
        // On tokio's timer: governor's own `until_ready` waits on futures-timer, a thread of its
        // own woken for every paced call.
        loop {
            match limiter.check() {
                Ok(()) => return,
                Err(later) => {
                    let wait = later.wait_time_from(governor::clock::Clock::now(limiter.clock()));
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }

    /// Pauses a key after AWS throttled it.
    pub fn slow_down(&self, account: &str, region: &str, service: Service) {
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(bucket) = buckets.get_mut(&Self::key(account, region, service)) {
            bucket.paused_until = Some(Instant::now() + THROTTLE_PAUSE);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// STS calls for different customer accounts share the vendor's one bucket; other services'
    /// buckets are each account's own.
    #[tokio::test]
    async fn sts_has_one_bucket_and_other_services_one_per_account() {
        let slow = Rate { per_second: 10, burst: 1 };
        let limiter = Limiter::new([(Service::Sts, slow), (Service::Ec2, slow)].into());
        let started = Instant::now();
        for account in ["111111111111", "222222222222", "333333333333"] {
            limiter.acquire(account, "eu-west-1", Service::Ec2).await;
        }
        assert!(started.elapsed() < Duration::from_millis(50), "EC2: {:?}", started.elapsed());
        let started = Instant::now();
        for (account, region) in
            [("111111111111", "eu-west-1"), ("222222222222", "us-east-1"), ("333333333333", "eu-west-1")]
        {
            limiter.acquire(account, region, Service::Sts).await;
        }
        // The first goes at once, the next two wait a tenth of a second each.
        assert!(started.elapsed() >= Duration::from_millis(190), "STS: {:?}", started.elapsed());
    }
}
