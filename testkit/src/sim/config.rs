//! The simulator's settings: the organization's size and contents, AWS's rate limits, latency and
//! the fault plan. Every field has a default, so a JSON or TOML file names only what it changes;
//! durations are seconds (`0.05`) or text with a unit (`"50ms"`, `"2s"`, `"10m"`, `"7d"`).

use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::explicit::Explicit;

/// How the simulated organization looks and behaves.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SimConfig {
    /// Seeds every generated name, ID, count and fault decision.
    pub seed: u64,
    /// Member accounts (the management account comes on top).
    pub accounts: u32,
    /// Enabled regions: `DescribeRegions` lists them; EC2 and CloudTrail answer only there.
    pub regions: Vec<String>,
    /// The role every account holds for the vendor (the StackSet's member role). The management
    /// account also holds `{role_name}-org-discovery`, which may read Organizations.
    pub role_name: String,
    /// The ExternalId the roles' trust policies require.
    pub external_id: String,
    /// IAM users per account.
    pub users: u32,
    /// IAM roles per account, besides the vendor's role(s).
    pub roles: u32,
    /// IAM groups per account.
    pub groups: u32,
    /// Customer-managed policies per account.
    pub local_policies: u32,
    /// AWS-managed policies attached to something in each account (two unattached ones are
    /// listed as well when this is not zero, as `GetAccountAuthorizationDetails` may).
    pub aws_managed_policies: u32,
    /// EC2 instances per account and region.
    pub instances: u32,
    /// VPCs per account and region.
    pub vpcs: u32,
    /// Subnets per account and region.
    pub subnets: u32,
    /// Security groups per account and region.
    pub security_groups: u32,
    /// Network interfaces per account and region.
    pub interfaces: u32,
    /// CloudTrail management events per account and region.
    pub events: u32,
    /// The events are spread over this window, ending when the simulator starts.
    #[serde(with = "duration")]
    pub event_window: Duration,
    /// The most items any page holds, whatever `MaxItems`/`MaxResults` asks (AWS sends short pages).
    pub page_cap: u32,
    /// Added to every answer before it is sent.
    #[serde(with = "duration")]
    pub latency: Duration,
    /// Token buckets per API family.
    pub rates: Rates,
    /// Injected faults.
    pub faults: FaultPlan,
    /// How long role sessions really last (and their `Expiration` says so), at most the
    /// `DurationSeconds` asked for.
    #[serde(with = "duration")]
    pub session_lifetime: Duration,
    /// Member indices (0-based) whose accounts are `SUSPENDED`.
    pub suspended: Vec<u32>,
    /// Member indices whose accounts are `PENDING_CLOSURE`.
    pub pending_closure: Vec<u32>,
    /// Organizational units (half under the root, each of the others under the one before it).
    pub ous: u32,
    /// The simulator's clock runs this many seconds ahead of the machine's (negative: behind).
    pub clock_skew_seconds: i64,
    /// Runtime threads serving requests.
    pub workers: usize,
    /// Users and roles configured one by one, in accounts of their own beside the organization.
    pub explicit: Explicit,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            seed: 1,
            accounts: 3,
            regions: vec!["us-east-1".into(), "eu-west-1".into()],
            role_name: "TrustlineReadOnly".into(),
            external_id: "trustline-sim:tenant-1:k3xq9c2m7v".into(),
            users: 5,
            roles: 3,
            groups: 2,
            local_policies: 2,
            aws_managed_policies: 3,
            instances: 7,
            vpcs: 2,
            subnets: 4,
            security_groups: 3,
            interfaces: 6,
            events: 120,
            event_window: Duration::from_secs(24 * 3600),
            page_cap: 100,
            latency: Duration::ZERO,
            rates: Rates::default(),
            faults: FaultPlan::default(),
            session_lifetime: Duration::from_secs(3600),
            suspended: Vec::new(),
            pending_closure: Vec::new(),
            ous: 4,
            clock_skew_seconds: 0,
            workers: 1,
            explicit: Explicit::default(),
        }
    }
}

/// A token bucket: `per_second` tokens refill continuously up to `burst`; a request takes one.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rate {
    /// Sustained requests per second.
    pub per_second: f64,
    /// Bucket size: requests that may go at once after a quiet spell.
    pub burst: u32,
}

/// The buckets' sizes per API family. See the module docs of `sim` for the sources.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Rates {
    /// CloudTrail `LookupEvents`, per account and region.
    pub cloudtrail: Rate,
    /// EC2 `Describe*` (one bucket for all of them), per account and region.
    pub ec2: Rate,
    /// IAM, per account (IAM is global).
    pub iam: Rate,
    /// Organizations, per account.
    pub organizations: Rate,
    /// STS, per calling account.
    pub sts: Rate,
}

impl Default for Rates {
    fn default() -> Self {
        Rates {
            cloudtrail: Rate { per_second: 2.0, burst: 2 },
            ec2: Rate { per_second: 20.0, burst: 100 },
            iam: Rate { per_second: 10.0, burst: 20 },
            organizations: Rate { per_second: 5.0, burst: 10 },
            sts: Rate { per_second: 600.0, burst: 600 },
        }
    }
}

/// What can go wrong with a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// A throttling error in the service's shape, though the bucket had room.
    Throttle,
    /// HTTP 500 (`InternalFailure`, EC2 `InternalError`).
    Http500,
    /// HTTP 503 (`ServiceUnavailable`, EC2 `Unavailable`).
    Http503,
    /// The connection closes with no response at all.
    Drop,
    /// The answer comes `slow_delay` late.
    Slow,
    /// The headers announce the whole body; half of it arrives, then the connection closes.
    Truncate,
    /// A request carrying a pagination token finds its session expired (and the session stays
    /// expired, as a real one would).
    ExpiredToken,
}

impl FaultKind {
    /// Every kind, in the order they are reported.
    pub const ALL: [FaultKind; 7] = [
        FaultKind::Throttle,
        FaultKind::Http500,
        FaultKind::Http503,
        FaultKind::Drop,
        FaultKind::Slow,
        FaultKind::Truncate,
        FaultKind::ExpiredToken,
    ];

    /// The name used in configuration and statistics.
    pub fn as_str(self) -> &'static str {
        match self {
            FaultKind::Throttle => "throttle",
            FaultKind::Http500 => "http500",
            FaultKind::Http503 => "http503",
            FaultKind::Drop => "drop",
            FaultKind::Slow => "slow",
            FaultKind::Truncate => "truncate",
            FaultKind::ExpiredToken => "expired_token",
        }
    }
}

/// One fault: how often, and on which APIs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fault {
    /// What happens.
    pub kind: FaultKind,
    /// The chance per eligible request (0 to 1), drawn deterministically from the seed.
    #[serde(default)]
    pub probability: f64,
    /// Also every Nth eligible request (0: never).
    #[serde(default)]
    pub every_nth: u64,
    /// The APIs (`LookupEvents`) or families (`ec2`, `iam`, `sts`, `cloudtrail`,
    /// `organizations`) it applies to; empty for all.
    #[serde(default)]
    pub apis: Vec<String>,
}

/// The faults to inject, and the clock's offset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FaultPlan {
    /// The faults, checked in order; the first that fires wins.
    pub faults: Vec<Fault>,
    /// How late a `slow` answer comes (on top of the latency).
    #[serde(with = "duration")]
    pub slow_delay: Duration,
    /// The `clock_skew` fault: when set, the simulator's clock runs this many seconds off the
    /// machine's instead of `SimConfig::clock_skew_seconds`. Requests signed more than five
    /// minutes (EC2: fifteen) from it are refused in the service's skew shape.
    pub clock_skew_seconds: Option<i64>,
}

impl Default for FaultPlan {
    fn default() -> Self {
        FaultPlan { faults: Vec::new(), slow_delay: Duration::from_secs(2), clock_skew_seconds: None }
    }
}

impl FaultPlan {
    /// No faults.
    pub fn none() -> Self {
        FaultPlan::default()
    }

    /// A plan with one fault of `kind` on every `nth` eligible request of `apis` (all if empty).
    pub fn every(kind: FaultKind, nth: u64, apis: &[&str]) -> Self {
        FaultPlan {
            faults: vec![Fault {
                kind,
                probability: 0.0,
                every_nth: nth,
                apis: apis.iter().map(|a| (*a).to_owned()).collect(),
            }],
            ..FaultPlan::default()
        }
    }
}

/// Durations in configuration files: seconds as a number, or text with a unit.
pub(crate) mod duration {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(d.as_secs_f64())
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Seconds(f64),
            Text(String),
        }
        match Raw::deserialize(d)? {
            Raw::Seconds(s) if s.is_finite() && s >= 0.0 => Ok(Duration::from_secs_f64(s)),
            Raw::Seconds(s) => Err(serde::de::Error::custom(format!("a duration must be >= 0, got {s}"))),
            Raw::Text(t) => parse(&t).map_err(serde::de::Error::custom),
        }
    }

    /// Parses `250ms`, `2s`, `1.5s`, `10m`, `2h`, `7d` (a bare number is seconds).
    pub(crate) fn parse(text: &str) -> Result<Duration, String> {
        let t = text.trim();
        let split = t.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(t.len());
        let (number, unit) = t.split_at(split);
        let value: f64 = number.parse().map_err(|_| format!("'{text}' is not a duration like 50ms or 2s"))?;
        let scale = match unit.trim() {
            "ms" => 0.001,
            "" | "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            "d" => 86_400.0,
            other => return Err(format!("unknown unit '{other}' in '{text}'; use ms, s, m, h or d")),
        };
        Ok(Duration::from_secs_f64(value * scale))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_numbers_or_text() {
        assert_eq!(duration::parse("50ms"), Ok(Duration::from_millis(50)));
        assert_eq!(duration::parse("7d"), Ok(Duration::from_secs(7 * 86_400)));
        assert_eq!(duration::parse("1.5"), Ok(Duration::from_millis(1500)));
        assert!(duration::parse("5 parsecs").is_err());
        let config: SimConfig =
            serde_json::from_str(r#"{"accounts": 7, "latency": "50ms", "event_window": 3600}"#).unwrap();
        assert_eq!(
            (config.accounts, config.latency, config.event_window),
            (7, Duration::from_millis(50), Duration::from_secs(3600))
        );
        let faults: FaultPlan =
            serde_json::from_str(r#"{"faults": [{"kind": "expired_token", "every_nth": 3}]}"#).unwrap();
        assert_eq!(faults.faults[0].kind, FaultKind::ExpiredToken);
        assert!(serde_json::from_str::<SimConfig>(r#"{"acounts": 7}"#).is_err(), "typos are refused");
    }
}
