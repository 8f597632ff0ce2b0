//! Token buckets per (account, region, API family), in a map sharded by key so that requests
//! for different accounts never wait on one lock. A refused request takes no token, as AWS's
//! buckets behave: only answered requests spend capacity.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use super::config::{Rate, Rates};
use super::wire::Family;

const SHARDS: usize = 64;

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    last: Instant,
}

/// All buckets.
#[derive(Debug)]
pub(crate) struct Buckets {
    rates: Rates,
    shards: Vec<Mutex<HashMap<u64, Bucket>>>,
}

impl Buckets {
    pub(crate) fn new(rates: Rates) -> Buckets {
        Buckets { rates, shards: (0..SHARDS).map(|_| Mutex::default()).collect() }
    }

    pub(crate) fn rate(&self, family: Family) -> Rate {
        match family {
            Family::Sts => self.rates.sts,
            Family::Iam => self.rates.iam,
            Family::Ec2 => self.rates.ec2,
            Family::CloudTrail => self.rates.cloudtrail,
            Family::Organizations => self.rates.organizations,
        }
    }

    /// The key of the bucket of the owner numbered `owner` (`Owner::number`) for `family` in
    /// `region` (0 for global services).
    pub(crate) fn key(owner: u64, region: u16, family: Family) -> u64 {
        super::model::hash(&[owner, u64::from(region), family.index()])
    }

    /// Takes a token from `key`'s bucket if it has one.
    pub(crate) fn take(&self, key: u64, family: Family, now: Instant) -> bool {
        let rate = self.rate(family);
        let shard = super::model::mix(key) as usize % SHARDS;
        let mut map = self.shards[shard].lock().unwrap_or_else(|e| e.into_inner());
        let capacity = f64::from(rate.burst.max(1));
        let bucket = map.entry(key).or_insert(Bucket { tokens: capacity, last: now });
        let elapsed = now.saturating_duration_since(bucket.last).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * rate.per_second).min(capacity);
        bucket.last = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn buckets_burst_then_refill_at_their_rate() {
        let rates = Rates { cloudtrail: Rate { per_second: 2.0, burst: 2 }, ..Rates::default() };
        let b = Buckets::new(rates);
        let t = Instant::now();
        let key = Buckets::key(1, 1, Family::CloudTrail);
        assert!(b.take(key, Family::CloudTrail, t) && b.take(key, Family::CloudTrail, t));
        assert!(!b.take(key, Family::CloudTrail, t), "the burst is spent");
        assert!(!b.take(key, Family::CloudTrail, t + Duration::from_millis(400)));
        assert!(b.take(key, Family::CloudTrail, t + Duration::from_millis(500)), "one token per 0.5 s");
        assert!(b.take(Buckets::key(1, 2, Family::CloudTrail), Family::CloudTrail, t), "regions apart");
    }
}
