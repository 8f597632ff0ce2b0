//! STS and callers: the vendor's static key, explicit users' keys, role sessions (`ASIA` + the
//! account + a serial), `AssumeRole` (the generated roles' fixed trust rules, or an explicit
//! role's trust policy, evaluated) and `GetCallerIdentity`. Sessions live in a sharded table, so
//! looking one up never takes a lock that every request shares.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::explicit::{Directory, User, account_number};
use super::model::{Model, Owner, VENDOR_KEY_ID, VENDOR_ROLE, VENDOR_USER, hash, iso, upper_alnum};
use super::organizations::{ACTIVE, Members};
use super::trust;
use super::wire::{Family, Params, Reply};

/// Which role a session is of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RoleKind {
    /// The StackSet's role in an organization account (`role_name`).
    Member,
    /// The management account's `{role_name}-org-discovery`.
    OrgDiscovery,
    /// The vendor's own role, to chain from.
    Vendor,
    /// A role configured explicitly (its ARN is in the session).
    Explicit,
}

#[derive(Debug, Clone)]
struct Session {
    owner: Owner,
    role: RoleKind,
    /// An explicit role's ARN.
    role_arn: Option<Arc<str>>,
    name: Arc<str>,
    expires: Instant,
}

/// Who sent a request.
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    pub(crate) owner: Owner,
    /// `None` for the vendor's user.
    pub(crate) role: Option<RoleKind>,
    pub(crate) serial: Option<u64>,
    /// An explicit role's ARN, for its sessions.
    pub(crate) role_arn: Option<Arc<str>>,
    expires: Option<Instant>,
    /// The user's name, or the session's.
    pub(crate) name: Arc<str>,
}

impl Caller {
    /// An explicit user (its account checked when it was added).
    pub(crate) fn user(user: &User) -> Caller {
        Caller {
            owner: Owner::Other(account_number(&user.account).unwrap_or_default()),
            role: None,
            serial: None,
            role_arn: None,
            expires: None,
            name: Arc::from(user.name.as_str()),
        }
    }

    pub(crate) fn expired(&self, now: Instant) -> bool {
        self.expires.is_some_and(|t| t <= now)
    }

    pub(crate) fn role_name(&self, m: &Model) -> String {
        match self.role {
            Some(RoleKind::Member) => m.cfg.role_name.clone(),
            Some(RoleKind::OrgDiscovery) => m.org_role_name(),
            Some(RoleKind::Vendor) => VENDOR_ROLE.to_owned(),
            Some(RoleKind::Explicit) => {
                self.role_arn.as_deref().and_then(|a| a.rsplit('/').next()).unwrap_or_default().to_owned()
            }
            None => self.name.to_string(),
        }
    }

    pub(crate) fn arn(&self, m: &Model) -> String {
        let account = m.owner_account(self.owner);
        match self.role {
            None => format!("arn:aws:iam::{account}:user/{}", self.name),
            Some(_) => format!("arn:aws:sts::{account}:assumed-role/{}/{}", self.role_name(m), self.name),
        }
    }

    /// The role a session is of, as an IAM ARN (`None` for users).
    fn role_iam_arn(&self, m: &Model) -> Option<String> {
        self.role.map(|_| format!("arn:aws:iam::{}:role/{}", m.owner_account(self.owner), self.role_name(m)))
    }
}

const SHARDS: usize = 32;

/// Every session issued.
#[derive(Debug)]
pub(crate) struct Sessions {
    shards: Vec<Mutex<HashMap<u64, Session>>>,
    next: AtomicU64,
}

impl Sessions {
    pub(crate) fn new() -> Sessions {
        Sessions { shards: (0..SHARDS).map(|_| Mutex::default()).collect(), next: AtomicU64::new(1) }
    }

    fn shard(&self, serial: u64) -> std::sync::MutexGuard<'_, HashMap<u64, Session>> {
        self.shards[serial as usize % SHARDS].lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The caller an access key belongs to.
    pub(crate) fn identify(&self, m: &Model, key: &str) -> Option<Caller> {
        if key == VENDOR_KEY_ID {
            return Some(Caller {
                owner: Owner::Vendor,
                role: None,
                serial: None,
                role_arn: None,
                expires: None,
                name: Arc::from(VENDOR_USER),
            });
        }
        let rest = key.strip_prefix("ASIA")?;
        if rest.len() != 28 || !rest.is_ascii() {
            return None;
        }
        let serial = u64::from_str_radix(&rest[12..], 16).ok()?;
        let s = self.shard(serial).get(&serial).cloned()?;
        (m.owner_account(s.owner) == rest[..12]).then_some(Caller {
            owner: s.owner,
            role: Some(s.role),
            serial: Some(serial),
            role_arn: s.role_arn,
            expires: Some(s.expires),
            name: s.name,
        })
    }

    /// Ends a session now (the `expired_token` fault).
    pub(crate) fn expire(&self, serial: u64) {
        if let Some(s) = self.shard(serial).get_mut(&serial) {
            s.expires = Instant::now();
        }
    }

    fn issue(&self, m: &Model, role: Assumed, name: &str, lifetime: Duration) -> String {
        let serial = self.next.fetch_add(1, Ordering::Relaxed);
        let owner = role.owner;
        let session = Session {
            owner,
            role: role.kind,
            role_arn: role.arn,
            name: Arc::from(name),
            expires: Instant::now() + lifetime,
        };
        self.shard(serial).insert(serial, session);
        format!("ASIA{}{serial:016X}", m.owner_account(owner))
    }
}

/// Which generated role of `owner` `role_name` is, if `caller` may assume it. Every role
/// trusts the vendor's account; the vendor's own role needs no ExternalId, the customers' roles
/// require theirs (`iam::member_trust_policy`, evaluated as any trust policy is).
fn may_assume(
    m: &Model,
    members: &Members,
    caller: &trust::Principal<'_>,
    owner: Owner,
    role_name: &str,
    external_id: Option<&str>,
    revoked: &dyn Fn(u32, &str) -> bool,
) -> Option<RoleKind> {
    match owner {
        Owner::Vendor => (role_name == VENDOR_ROLE
            && trust::allows(&vendor_role_trust_policy(), caller, None))
        .then_some(RoleKind::Vendor),
        // Explicit accounts hold only explicit roles, which `assumable` looked up first.
        Owner::Other(_) => None,
        Owner::Org(i) => {
            let kind = if role_name == m.cfg.role_name {
                RoleKind::Member
            } else if i == 0 && role_name == m.org_role_name() {
                RoleKind::OrgDiscovery
            } else {
                return None;
            };
            // A suspended or closing account cannot be entered; a removed one lost the
            // StackSet's role when it left the organization.
            let ok = trust::allows(&super::iam::member_trust_policy(m), caller, external_id)
                && members.status(i) == ACTIVE
                && !revoked(i, "sts:AssumeRole");
            ok.then_some(kind)
        }
    }
}

pub(crate) struct AssumeContext<'a> {
    pub(crate) m: &'a Model,
    pub(crate) members: &'a Members,
    pub(crate) sessions: &'a Sessions,
    pub(crate) directory: &'a Directory,
    pub(crate) revoked: &'a dyn Fn(u32, &str) -> bool,
    /// The simulator's clock, in seconds since the epoch.
    pub(crate) now: f64,
    /// How long sessions last, and how long their Expiration announces (each at most the
    /// `DurationSeconds` asked for).
    pub(crate) lifetime: (Duration, Duration),
}

/// The role a session is issued for.
struct Assumed {
    owner: Owner,
    kind: RoleKind,
    arn: Option<Arc<str>>,
    max_session_seconds: u64,
}

/// The role `role_arn` names, if `caller` may assume it with `external_id`.
fn assumable(
    cx: &AssumeContext<'_>,
    caller: &Caller,
    role_arn: &str,
    external_id: Option<&str>,
) -> Option<Assumed> {
    let m = cx.m;
    let (account, path) = role_arn.strip_prefix("arn:aws:iam::")?.split_once(":role/")?;
    let (arn, account_id) = (caller.arn(m), m.owner_account(caller.owner));
    let role_of_caller = caller.role_iam_arn(m);
    let principal = trust::Principal { arn: &arn, account: &account_id, role_arn: role_of_caller.as_deref() };
    if let Some(role) = cx.directory.role(role_arn) {
        return trust::allows(&role.trust_policy, &principal, external_id).then(|| Assumed {
            owner: Owner::Other(account_number(account).unwrap_or_default()),
            kind: RoleKind::Explicit,
            arn: Some(Arc::from(role_arn)),
            max_session_seconds: u64::from(role.max_session_seconds),
        });
    }
    let owner = m.owner_of(account)?;
    let kind =
        may_assume(m, cx.members, &principal, owner, path.rsplit('/').next()?, external_id, cx.revoked)?;
    // The generated roles keep IAM's default MaxSessionDuration of an hour.
    Some(Assumed { owner, kind, arn: None, max_session_seconds: 3600 })
}

/// `AssumeRole`; returns the reply and whether a session was issued.
pub(crate) fn assume_role(cx: &AssumeContext<'_>, caller: &Caller, p: &Params, rid: &str) -> (Reply, bool) {
    let m = cx.m;
    let role_arn = p.str("RoleArn").unwrap_or_default();
    let invalid = |message: &str| (Reply::invalid(Family::Sts, "ValidationError", message, rid), false);
    let session_name = p.str("RoleSessionName").unwrap_or_default();
    let name_ok = session_name.bytes().all(|b| b.is_ascii_alphanumeric() || b"_+=,.@-".contains(&b));
    if !(2..=64).contains(&session_name.len()) || !name_ok {
        return invalid(
            "1 validation error detected: Value at 'roleSessionName' failed to satisfy constraint",
        );
    }
    let duration: u64 = match p.str("DurationSeconds").map(str::parse) {
        None => 3600,
        Some(Ok(d)) if (900..=43_200).contains(&d) => d,
        Some(_) => return invalid("The requested DurationSeconds is out of range (900 to 43200)."),
    };
    let denied = || {
        let message = format!(
            "User: {} is not authorized to perform: sts:AssumeRole on resource: {role_arn}",
            caller.arn(m)
        );
        (Reply::error(Family::Sts, 403, "AccessDenied", &message, rid), false)
    };
    let Some(role) = assumable(cx, caller, role_arn, p.str("ExternalId")) else { return denied() };
    // Role chaining limits sessions to an hour (STS API reference, AssumeRole).
    if caller.role.is_some() && duration > 3600 {
        return invalid(
            "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.",
        );
    }
    if duration > role.max_session_seconds {
        return invalid("The requested DurationSeconds exceeds the MaxSessionDuration set for this role.");
    }
    let asked = Duration::from_secs(duration);
    let (lifetime, announced) = (asked.min(cx.lifetime.0), asked.min(cx.lifetime.1));
    let (owner, kind) = (role.owner, role.kind);
    let role_name = role_arn.rsplit('/').next().unwrap_or_default();
    let key = cx.sessions.issue(m, role, session_name, lifetime);
    // The Expiration is whole seconds on the simulator's clock, never later than announced.
    let expiration = iso((cx.now + announced.as_secs_f64()).floor() as i64);
    let account = m.owner_account(owner);
    let role_id = role_id(m, &account, kind, role_name);
    let secret = upper_alnum(m.h(&[0x5EC, u64::from_str_radix(&key[16..], 16).unwrap_or(0)]), 40);
    let result = format!(
        "<Credentials><AccessKeyId>{key}</AccessKeyId><SecretAccessKey>{secret}</SecretAccessKey><SessionToken>FwoGZXIvYXdzEsim{}</SessionToken><Expiration>{expiration}</Expiration></Credentials><AssumedRoleUser><AssumedRoleId>AROA{role_id}:{session_name}</AssumedRoleId><Arn>arn:aws:sts::{account}:assumed-role/{role_name}/{session_name}</Arn></AssumedRoleUser><PackedPolicySize>6</PackedPolicySize>",
        &key[4..]
    );
    (Reply::query(Family::Sts, "AssumeRole", &result, rid), true)
}

pub(crate) fn caller_identity(m: &Model, caller: &Caller, rid: &str) -> Reply {
    let account = m.owner_account(caller.owner);
    let user_id = match caller.role {
        None if caller.owner == Owner::Vendor => format!("AIDA{}", upper_alnum(m.h(&[0x1D]), 17)),
        None => format!("AIDA{}", upper_alnum(m.h(&[0x1D, text_hash(&caller.name)]), 17)),
        Some(kind) => format!("AROA{}:{}", role_id(m, &account, kind, &caller.role_name(m)), caller.name),
    };
    let result =
        format!("<Arn>{}</Arn><UserId>{user_id}</UserId><Account>{account}</Account>", caller.arn(m));
    Reply::query(Family::Sts, "GetCallerIdentity", &result, rid)
}

/// A role's unique ID (without `AROA`); explicit roles' names tell them apart.
fn role_id(m: &Model, account: &str, kind: RoleKind, role_name: &str) -> String {
    let account = account.parse().unwrap_or(0);
    let h = match kind {
        RoleKind::Explicit => m.h(&[0xA20A, account, kind as u64, text_hash(role_name)]),
        _ => m.h(&[0xA20A, account, kind as u64]),
    };
    upper_alnum(h, 17)
}

fn text_hash(text: &str) -> u64 {
    hash(&text.bytes().map(u64::from).collect::<Vec<_>>())
}

/// The vendor's own role trusts its account, without an ExternalId (it is the vendor's).
fn vendor_role_trust_policy() -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{}:root"}},"Action":"sts:AssumeRole"}}]}}"#,
        super::model::VENDOR_ACCOUNT
    )
}
