//! One request's way through the simulator, in the order AWS's front door takes it: which API,
//! who is calling, is the signature's time acceptable, has the session expired, then the fault
//! plan, permissions, the token bucket, and finally the answer (which faults may still slow
//! down or cut off).

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use hyper::HeaderMap;

use super::config::{FaultKind, FaultPlan};
use super::explicit::Directory;
use super::faults::{ActivePlan, Phase};
use super::limits::Buckets;
use super::model::{Model, Owner, hash, uuid};
use super::organizations::Members;
use super::stats::Counters;
use super::sts::{self, AssumeContext, Caller, RoleKind, Sessions};
use super::wire::{Api, Family, Params, Reply};
use super::{SimConfig, cloudtrail, ec2, iam, organizations};

/// How the answer leaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Delivery {
    Whole,
    /// Half the body, then the connection closes.
    Truncated,
    /// No answer: the connection closes.
    Dropped,
}

/// A request's outcome.
#[derive(Debug)]
pub(crate) struct Outcome {
    pub(crate) reply: Reply,
    pub(crate) request_id: String,
    pub(crate) delay: Duration,
    pub(crate) delivery: Delivery,
}

/// Everything the simulator knows and counts; shared by all connections.
#[derive(Debug)]
pub(crate) struct State {
    pub(crate) model: Model,
    pub(crate) members: Members,
    pub(crate) sessions: Sessions,
    /// Explicitly configured users, roles and events.
    pub(crate) directory: Directory,
    /// How long sessions issued from now on last, and how long their Expiration announces.
    lifetime: RwLock<(Duration, Duration)>,
    pub(crate) stats: Counters,
    buckets: Buckets,
    faults: RwLock<Arc<ActivePlan>>,
    plans: AtomicU64,
    /// Seconds the simulator's clock runs ahead of the machine's.
    skew: AtomicI64,
    revoked: RwLock<HashSet<(u32, String)>>,
    any_revoked: AtomicBool,
    sequence: AtomicU64,
}

impl State {
    /// The simulator's state; `Err` names what is wrong with the explicit principals.
    pub(crate) fn new(cfg: SimConfig) -> Result<State, String> {
        let directory = Directory::new(&cfg.explicit)?;
        let lifetime = RwLock::new((cfg.session_lifetime, cfg.session_lifetime));
        let plan = cfg.faults.clone();
        let skew = plan.clock_skew_seconds.unwrap_or(cfg.clock_skew_seconds);
        let buckets = Buckets::new(cfg.rates);
        let model = Model::new(cfg);
        Ok(State {
            members: Members::new(&model),
            model,
            sessions: Sessions::new(),
            directory,
            lifetime,
            stats: Counters::new(),
            buckets,
            faults: RwLock::new(Arc::new(ActivePlan::new(plan, 0))),
            plans: AtomicU64::new(1),
            skew: AtomicI64::new(skew),
            revoked: RwLock::default(),
            any_revoked: AtomicBool::new(false),
            sequence: AtomicU64::new(0),
        })
    }

    /// Sessions issued from now on last `actual` and announce an Expiration `reported` ahead
    /// (each at most the `DurationSeconds` asked for).
    pub(crate) fn set_session_lifetime(&self, actual: Duration, reported: Duration) {
        *self.lifetime.write().unwrap_or_else(|e| e.into_inner()) = (actual, reported);
    }

    pub(crate) fn set_faults(&self, plan: FaultPlan) {
        let skew = plan.clock_skew_seconds.unwrap_or(self.model.cfg.clock_skew_seconds);
        self.skew.store(skew, Ordering::Relaxed);
        let generation = self.plans.fetch_add(1, Ordering::Relaxed);
        *self.faults.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(ActivePlan::new(plan, generation));
    }

    fn plan(&self) -> Arc<ActivePlan> {
        self.faults.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub(crate) fn revoke(&self, index: u32, action: &str) {
        self.revoked.write().unwrap_or_else(|e| e.into_inner()).insert((index, action.to_owned()));
        self.any_revoked.store(true, Ordering::Relaxed);
    }

    fn is_revoked(&self, index: u32, action: &str) -> bool {
        self.any_revoked.load(Ordering::Relaxed)
            && self.revoked.read().unwrap_or_else(|e| e.into_inner()).contains(&(index, action.to_owned()))
    }

    /// The simulator's clock.
    pub(crate) fn now(&self) -> SystemTime {
        let skew = self.skew.load(Ordering::Relaxed);
        let now = SystemTime::now();
        if skew >= 0 {
            now + Duration::from_secs(skew.unsigned_abs())
        } else {
            now - Duration::from_secs(skew.unsigned_abs())
        }
    }

    fn now_seconds(&self) -> f64 {
        self.now().duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO).as_secs_f64()
    }

    /// Serves one request (headers and body read); the caller sends the outcome.
    pub(crate) fn answer(&self, headers: &HeaderMap, body: &[u8]) -> Outcome {
        let seq = self.sequence.fetch_add(1, Ordering::Relaxed);
        let rid = uuid(hash(&[self.model.cfg.seed, 0x5E9, seq]));
        let done = |reply: Reply, rid: String| Outcome {
            reply,
            request_id: rid,
            delay: self.model.cfg.latency,
            delivery: Delivery::Whole,
        };
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        let credential = header("authorization").and_then(|a| a.split("Credential=").nth(1)).unwrap_or("");
        let mut scope = credential.split(['/', ',']);
        let key = scope.next().unwrap_or_default();
        let region = scope.nth(1).unwrap_or("us-east-1");
        let (api, params) = match header("x-amz-target") {
            Some(target) => {
                let api = Api::from_name(target.rsplit('.').next().unwrap_or_default());
                match serde_json::from_slice::<serde_json::Value>(body) {
                    Ok(serde_json::Value::Object(map)) => (api, Params::Json(map)),
                    _ if body.is_empty() => (api, Params::Json(serde_json::Map::new())),
                    _ => {
                        Counters::bump(&self.stats.rejected);
                        let family = api.map_or(Family::CloudTrail, Api::family);
                        let reply =
                            Reply::invalid(family, "SerializationException", "Malformed JSON body.", &rid);
                        return done(reply, rid);
                    }
                }
            }
            None => {
                let params = Params::form(body);
                (params.str("Action").and_then(Api::from_name), params)
            }
        };
        let Some(api) = api else {
            Counters::bump(&self.stats.rejected);
            let (family, code) = match params {
                Params::Json(_) => (Family::CloudTrail, "UnknownOperationException"),
                Params::Form(_) => (Family::Iam, "InvalidAction"),
            };
            let reply =
                Reply::invalid(family, code, "The simulator does not implement this operation.", &rid);
            return done(reply, rid);
        };
        self.stats.request(api);
        let (reply, delivery, extra) = self.serve(api, key, region, header("x-amz-date"), &params, &rid);
        if reply.status < 300 && delivery == Delivery::Whole {
            Counters::bump(&self.stats.ok);
        }
        Outcome { reply, request_id: rid, delay: self.model.cfg.latency + extra, delivery }
    }

    fn serve(
        &self,
        api: Api,
        key: &str,
        region: &str,
        date: Option<&str>,
        p: &Params,
        rid: &str,
    ) -> (Reply, Delivery, Duration) {
        let whole = |reply| (reply, Delivery::Whole, Duration::ZERO);
        let family = api.family();
        let m = &self.model;
        let caller =
            self.sessions.identify(m, key).or_else(|| self.directory.user(key).as_ref().map(Caller::user));
        let Some(caller) = caller else {
            Counters::bump(&self.stats.rejected);
            return whole(Reply::unknown_key(family, rid));
        };
        if let Some(reply) = date.and_then(|d| self.check_clock(family, d, rid)) {
            self.stats.fault(None);
            return whole(reply);
        }
        if caller.expired(Instant::now()) {
            Counters::bump(&self.stats.expired);
            return whole(Reply::expired(family, rid));
        }
        let region = match family {
            // Any region's endpoint lists the enabled regions.
            Family::Ec2 if api == Api::DescribeRegions => m.region_index(region).unwrap_or(0),
            Family::Ec2 | Family::CloudTrail => match m.region_index(region) {
                Some(r) => r,
                // A region the account has not enabled does not know its credentials.
                None => return whole(Reply::unknown_key(family, rid)),
            },
            _ => 0,
        };
        let plan = self.plan();
        let paging = p.page_token().is_some() && caller.serial.is_some();
        if let Some(kind) = plan.decide(m.cfg.seed, api, Phase::Before, paging) {
            self.stats.fault(Some(kind));
            return match kind {
                FaultKind::Throttle => {
                    Counters::bump(&self.stats.throttled_by_fault);
                    whole(Reply::throttled(family, rid))
                }
                FaultKind::Http500 => whole(Reply::internal_error(family, rid)),
                FaultKind::Drop => (Reply::internal_error(family, rid), Delivery::Dropped, Duration::ZERO),
                FaultKind::ExpiredToken => {
                    if let Some(serial) = caller.serial {
                        self.sessions.expire(serial);
                    }
                    Counters::bump(&self.stats.expired);
                    whole(Reply::expired(family, rid))
                }
                _ => whole(Reply::unavailable(family, rid)),
            };
        }
        if let Some(reply) = self.authorize(&caller, api, rid) {
            Counters::bump(&self.stats.denied);
            return whole(reply);
        }
        if !self.buckets.take(Buckets::key(caller.owner.number(), region, family), family, Instant::now()) {
            self.stats.throttled(api);
            return whole(Reply::throttled(family, rid));
        }
        let reply = self.dispatch(api, &caller, region, p, rid);
        match plan.decide(m.cfg.seed, api, Phase::After, false) {
            Some(FaultKind::Slow) => {
                self.stats.fault(Some(FaultKind::Slow));
                (reply, Delivery::Whole, plan.plan.slow_delay)
            }
            Some(kind) => {
                self.stats.fault(Some(kind));
                (reply, Delivery::Truncated, Duration::ZERO)
            }
            None => whole(reply),
        }
    }

    /// Who may call what: STS anyone known; IAM, EC2 and CloudTrail the roles in organization
    /// accounts (the discovery role reads Organizations only); Organizations the management
    /// account's roles. Revoked actions are denied on top. In explicit accounts, users and roles
    /// may call anything but Organizations, less their role's denied actions.
    fn authorize(&self, caller: &Caller, api: Api, rid: &str) -> Option<Reply> {
        let family = api.family();
        if family == Family::Sts {
            return None;
        }
        let m = &self.model;
        if let Owner::Other(_) = caller.owner {
            if family == Family::Organizations {
                let message = "Your account is not a member of an organization.";
                return Some(Reply::invalid(family, "AWSOrganizationsNotInUseException", message, rid));
            }
            let action = api.action();
            let role = caller.role_arn.as_deref().and_then(|arn| self.directory.role(arn));
            return role
                .is_some_and(|r| r.denied_actions.contains(&action))
                .then(|| Reply::denied(family, &caller.arn(m), &action, rid));
        }
        let index = match (caller.owner, caller.role) {
            (Owner::Org(i), Some(RoleKind::Member)) if family != Family::Organizations => Some(i),
            (Owner::Org(0), Some(RoleKind::Member | RoleKind::OrgDiscovery))
                if family == Family::Organizations =>
            {
                Some(0)
            }
            _ => None,
        };
        match index {
            Some(i) if !self.is_revoked(i, &api.action()) => None,
            _ if family == Family::Organizations && caller.owner != Owner::Org(0) => Some(Reply::invalid(
                family,
                "AccessDeniedException",
                "You don't have permissions to access this resource.",
                rid,
            )),
            _ => Some(Reply::denied(family, &caller.arn(m), &api.action(), rid)),
        }
    }

    fn dispatch(&self, api: Api, caller: &Caller, region: u16, p: &Params, rid: &str) -> Reply {
        let m = &self.model;
        let index = match caller.owner {
            Owner::Org(i) => i,
            Owner::Vendor => 0,
            Owner::Other(account) if api.family() != Family::Sts => {
                let user = caller.role.is_none().then(|| caller.name.as_ref());
                return self.directory.handle(m, api, account, region, p, rid, user);
            }
            Owner::Other(_) => 0,
        };
        match api.family() {
            Family::Sts if api == Api::AssumeRole => {
                let revoked = |i: u32, action: &str| self.is_revoked(i, action);
                let cx = AssumeContext {
                    m,
                    members: &self.members,
                    sessions: &self.sessions,
                    directory: &self.directory,
                    revoked: &revoked,
                    now: self.now_seconds(),
                    lifetime: *self.lifetime.read().unwrap_or_else(|e| e.into_inner()),
                };
                let (reply, issued) = sts::assume_role(&cx, caller, p, rid);
                // The role's account, as its ARN names it (`arn:aws:iam::ACCOUNT:role/…`).
                let account = p.str("RoleArn").and_then(|arn| arn.split(':').nth(4)).unwrap_or_default();
                if issued {
                    Counters::bump(&self.stats.sessions);
                    self.stats.assume_role(account, true);
                } else if reply.status == 403 {
                    Counters::bump(&self.stats.denied);
                    self.stats.assume_role(account, false);
                }
                reply
            }
            Family::Sts => sts::caller_identity(m, caller, rid),
            Family::Iam => iam::Account::new(m, index).handle(api, p, rid),
            Family::Ec2 => ec2::Region::new(m, index, region).handle(api, p, rid),
            Family::CloudTrail => cloudtrail::Trail::new(m, index, region).handle(p, rid),
            Family::Organizations => organizations::handle(m, &self.members, api, p, rid),
        }
    }

    /// AWS refuses a signature whose `X-Amz-Date` is more than 5 minutes from its clock
    /// (EC2: 15) and says so in the service's words; the `Date` header carries its time.
    fn check_clock(&self, family: Family, date: &str, rid: &str) -> Option<Reply> {
        let format = time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");
        let signed = time::PrimitiveDateTime::parse(date, &format).ok()?.assume_utc().unix_timestamp();
        let now = self.now_seconds().floor() as i64;
        let window: i64 = if family == Family::Ec2 { 900 } else { 300 };
        let stamp = |t: i64| {
            time::OffsetDateTime::from_unix_timestamp(t)
                .ok()
                .and_then(|t| t.format(&format).ok())
                .unwrap_or_default()
        };
        let minutes = window / 60;
        let message = if signed < now - window {
            format!(
                "Signature expired: {date} is now earlier than {} ({} - {minutes} min.)",
                stamp(now - window),
                stamp(now)
            )
        } else if signed > now + window {
            format!(
                "Signature not yet current: {date} is still later than {} ({} + {minutes} min.)",
                stamp(now + window),
                stamp(now)
            )
        } else {
            return None;
        };
        Some(match family {
            Family::Sts | Family::Iam => Reply::error(family, 403, "SignatureDoesNotMatch", &message, rid),
            // EC2 documents RequestExpired for a date stamp more than 15 minutes off.
            Family::Ec2 => Reply::error(family, 400, "RequestExpired", "Request has expired.", rid),
            _ => Reply::error(family, 403, "InvalidSignatureException", &message, rid),
        })
    }
}
