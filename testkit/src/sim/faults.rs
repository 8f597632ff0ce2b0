//! Deciding faults: each fault counts the requests it applies to, and fires on its every Nth or
//! when a hash of (seed, fault, count) falls under its probability. The decision never depends
//! on what the request asks for, so a retried request is as likely to succeed as any other and
//! gets the same page when it does.

use std::sync::atomic::{AtomicU64, Ordering};

use super::config::{FaultKind, FaultPlan};
use super::model::{hash, unit};
use super::wire::Api;

/// When a fault strikes: before the request is served, or on its answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    /// throttle, http500, http503, drop, expired_token: the request does no work.
    Before,
    /// slow, truncate: the request was served (and spent its token).
    After,
}

fn phase(kind: FaultKind) -> Phase {
    match kind {
        FaultKind::Slow | FaultKind::Truncate => Phase::After,
        _ => Phase::Before,
    }
}

/// A plan in force, with its counters.
#[derive(Debug)]
pub(crate) struct ActivePlan {
    pub(crate) plan: FaultPlan,
    seen: Vec<AtomicU64>,
    generation: u64,
}

impl ActivePlan {
    pub(crate) fn new(plan: FaultPlan, generation: u64) -> ActivePlan {
        let seen = plan.faults.iter().map(|_| AtomicU64::new(0)).collect();
        ActivePlan { plan, seen, generation }
    }

    /// The fault that strikes this request in `phase`, if any. `paging` says whether the
    /// request carries a pagination token from a role session (only those can have their
    /// session expire mid-pagination).
    pub(crate) fn decide(&self, seed: u64, api: Api, when: Phase, paging: bool) -> Option<FaultKind> {
        let mut fired = None;
        for (i, fault) in self.plan.faults.iter().enumerate() {
            if phase(fault.kind) != when
                || (fault.kind == FaultKind::ExpiredToken && !paging)
                || !(fault.apis.is_empty()
                    || fault.apis.iter().any(|a| a == api.name() || a == api.family().as_str()))
            {
                continue;
            }
            let n = self.seen[i].fetch_add(1, Ordering::Relaxed) + 1;
            let every = fault.every_nth > 0 && n.is_multiple_of(fault.every_nth);
            let drawn = fault.probability > 0.0
                && unit(hash(&[seed, self.generation, i as u64, n])) < fault.probability;
            if fired.is_none() && (every || drawn) {
                fired = Some(fault.kind);
            }
        }
        fired
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::config::Fault;

    #[test]
    fn every_nth_and_probability_are_deterministic() {
        let plan = FaultPlan {
            faults: vec![
                Fault { kind: FaultKind::Drop, probability: 0.0, every_nth: 3, apis: vec!["ec2".into()] },
                Fault { kind: FaultKind::Throttle, probability: 0.25, every_nth: 0, apis: vec![] },
            ],
            ..FaultPlan::default()
        };
        let run = || {
            let active = ActivePlan::new(plan.clone(), 0);
            (0..400).map(|_| active.decide(7, Api::DescribeVpcs, Phase::Before, false)).collect::<Vec<_>>()
        };
        let a = run();
        assert_eq!(a, run(), "same seed, same faults");
        assert_eq!(a.iter().filter(|f| **f == Some(FaultKind::Drop)).count(), 133);
        let throttles = a.iter().filter(|f| **f == Some(FaultKind::Throttle)).count();
        assert!((50..=100).contains(&throttles), "about a quarter of the rest: {throttles}");
        let active = ActivePlan::new(plan, 0);
        assert!((0..10).all(|_| active.decide(7, Api::ListAccounts, Phase::After, true).is_none()));
    }
}
