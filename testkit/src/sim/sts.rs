//! STS and callers: the vendor's static key, role sessions (`ASIA` + the account + a serial),
//! `AssumeRole` with the trust rules of the roles the simulator holds, and
//! `GetCallerIdentity`. Sessions live in a sharded table, so looking one up never takes a lock
//! that every request shares.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::model::{Model, Owner, VENDOR_KEY_ID, VENDOR_ROLE, VENDOR_USER, iso, upper_alnum};
use super::organizations::{ACTIVE, Members};
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
}

#[derive(Debug, Clone)]
struct Session {
    owner: Owner,
    role: RoleKind,
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
    expires: Option<Instant>,
    name: Arc<str>,
}

impl Caller {
    pub(crate) fn expired(&self, now: Instant) -> bool {
        self.expires.is_some_and(|t| t <= now)
    }

    pub(crate) fn role_name(&self, m: &Model) -> String {
        match self.role {
            Some(RoleKind::Member) => m.cfg.role_name.clone(),
            Some(RoleKind::OrgDiscovery) => m.org_role_name(),
            Some(RoleKind::Vendor) => VENDOR_ROLE.to_owned(),
            None => VENDOR_USER.to_owned(),
        }
    }

    pub(crate) fn arn(&self, m: &Model) -> String {
        let account = m.owner_account(self.owner);
        match self.role {
            None => format!("arn:aws:iam::{account}:user/{VENDOR_USER}"),
            Some(_) => format!("arn:aws:sts::{account}:assumed-role/{}/{}", self.role_name(m), self.name),
        }
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
                expires: None,
                name: Arc::from(VENDOR_USER),
            });
        }
        let rest = key.strip_prefix("ASIA")?;
        if rest.len() != 28 || !rest.is_ascii() {
            return None;
        }
        let owner = m.owner_of(&rest[..12])?;
        let serial = u64::from_str_radix(&rest[12..], 16).ok()?;
        let s = self.shard(serial).get(&serial).cloned()?;
        (s.owner == owner).then_some(Caller {
            owner,
            role: Some(s.role),
            serial: Some(serial),
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

    fn issue(&self, m: &Model, owner: Owner, role: RoleKind, name: &str, lifetime: Duration) -> String {
        let serial = self.next.fetch_add(1, Ordering::Relaxed);
        let session = Session { owner, role, name: Arc::from(name), expires: Instant::now() + lifetime };
        self.shard(serial).insert(serial, session);
        format!("ASIA{}{serial:016X}", m.owner_account(owner))
    }
}

/// Whether the caller may assume `role` of `owner`, and what is wrong otherwise.
fn may_assume(
    m: &Model,
    members: &Members,
    caller: &Caller,
    owner: Owner,
    role_name: &str,
    external_id: Option<&str>,
    revoked: &dyn Fn(u32, &str) -> bool,
) -> Option<RoleKind> {
    // Every role trusts the vendor's account; the vendor's own role needs no ExternalId, the
    // customers' roles require theirs (StringEquals, so a missing one is refused too).
    if caller.owner != Owner::Vendor {
        return None;
    }
    match owner {
        Owner::Vendor => (role_name == VENDOR_ROLE).then_some(RoleKind::Vendor),
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
            let ok = external_id == Some(m.cfg.external_id.as_str())
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
    pub(crate) revoked: &'a dyn Fn(u32, &str) -> bool,
    /// The simulator's clock, in seconds since the epoch.
    pub(crate) now: f64,
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
    let parsed = role_arn
        .strip_prefix("arn:aws:iam::")
        .and_then(|r| r.split_once(":role/"))
        .and_then(|(account, path)| Some((m.owner_of(account)?, path.rsplit('/').next()?)));
    let Some((owner, role_name)) = parsed else { return denied() };
    let Some(kind) = may_assume(m, cx.members, caller, owner, role_name, p.str("ExternalId"), cx.revoked)
    else {
        return denied();
    };
    // Role chaining limits sessions to an hour; the roles here keep IAM's default
    // MaxSessionDuration of an hour as well.
    if duration > 3600 {
        return invalid(if caller.role.is_some() {
            "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining."
        } else {
            "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
        });
    }
    let lifetime = Duration::from_secs(duration).min(m.cfg.session_lifetime);
    let key = cx.sessions.issue(m, owner, kind, session_name, lifetime);
    // The Expiration is whole seconds on the simulator's clock, never later than the truth.
    let expiration = iso((cx.now + lifetime.as_secs_f64()).floor() as i64);
    let account = m.owner_account(owner);
    let role_id = upper_alnum(m.h(&[0xA20A, account.parse().unwrap_or(0), kind as u64]), 17);
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
        None => format!("AIDA{}", upper_alnum(m.h(&[0x1D]), 17)),
        Some(kind) => format!(
            "AROA{}:{}",
            upper_alnum(m.h(&[0xA20A, account.parse().unwrap_or(0), kind as u64]), 17),
            caller.name
        ),
    };
    let result =
        format!("<Arn>{}</Arn><UserId>{user_id}</UserId><Account>{account}</Account>", caller.arn(m));
    Reply::query(Family::Sts, "GetCallerIdentity", &result, rid)
}
