//! Principals configured one by one beside the generated organization: IAM users with access
//! keys, roles with their own trust policies and denied actions, and CloudTrail events per
//! account and region. They live in accounts of their own, outside the organization, and can
//! change while the simulator runs (a test replaces a role's trust policy between calls).
//!
//! Their accounts hold what was configured and nothing else: IAM lists those users and roles,
//! EC2's lists are empty, CloudTrail holds the events added.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::RwLock;

use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::model::{Model, hash, iso, upper_alnum, xml_escape};
use super::wire::{Api, Family, Params, Reply};

/// An IAM user with one access key (any secret is accepted: signatures are not checked).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// Its account (12 digits).
    pub account: String,
    /// Its name.
    pub name: String,
    /// Its access key ID.
    pub access_key_id: String,
}

/// A role with its own trust policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Role {
    /// Its ARN (`arn:aws:iam::ACCOUNT:role/NAME`).
    pub arn: String,
    /// Its trust policy (JSON).
    pub trust_policy: String,
    /// Actions its permissions deny (everything else is allowed), e.g. `iam:ListUsers`.
    #[serde(default)]
    pub denied_actions: Vec<String>,
    /// Its `MaxSessionDuration`.
    #[serde(default = "one_hour")]
    pub max_session_seconds: u32,
}

fn one_hour() -> u32 {
    3600
}

/// A CloudTrail management event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrailEvent {
    /// Unique id.
    pub id: String,
    /// Seconds since the epoch.
    pub time: i64,
    /// The API action.
    pub name: String,
}

/// The configured principals (`SimConfig::explicit`, and `aws-standin`'s seed file).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Explicit {
    /// Users with their keys.
    pub users: Vec<User>,
    /// Roles (a later one replaces an earlier one with the same ARN).
    pub roles: Vec<Role>,
}

/// The 12-digit account of an explicit principal, as a number.
pub(crate) fn account_number(account: &str) -> Result<u64, String> {
    match account.parse() {
        Ok(n) if account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()) => Ok(n),
        _ => Err(format!("an account ID is 12 digits, got '{account}'")),
    }
}

/// The account of a role ARN.
pub(crate) fn role_account(arn: &str) -> Result<u64, String> {
    let account = arn
        .strip_prefix("arn:aws:iam::")
        .and_then(|r| r.split_once(":role/"))
        .map(|(account, _)| account)
        .ok_or_else(|| format!("a role ARN looks like arn:aws:iam::123456789012:role/NAME, got '{arn}'"))?;
    account_number(account)
}

/// What is configured now.
#[derive(Debug, Default)]
pub(crate) struct Directory {
    /// Access key ID → user.
    users: RwLock<HashMap<String, User>>,
    /// ARN → role.
    roles: RwLock<HashMap<String, Role>>,
    /// (account, region) → events.
    trails: RwLock<HashMap<(u64, String), Vec<TrailEvent>>>,
}

impl Directory {
    pub(crate) fn new(explicit: &Explicit) -> Result<Directory, String> {
        let directory = Directory::default();
        for user in &explicit.users {
            directory.add_user(user.clone())?;
        }
        for role in &explicit.roles {
            directory.add_role(role.clone())?;
        }
        Ok(directory)
    }

    pub(crate) fn add_user(&self, user: User) -> Result<(), String> {
        account_number(&user.account)?;
        self.users.write().unwrap_or_else(|e| e.into_inner()).insert(user.access_key_id.clone(), user);
        Ok(())
    }

    pub(crate) fn add_role(&self, role: Role) -> Result<(), String> {
        role_account(&role.arn)?;
        self.roles.write().unwrap_or_else(|e| e.into_inner()).insert(role.arn.clone(), role);
        Ok(())
    }

    pub(crate) fn add_events(
        &self,
        account: &str,
        region: &str,
        events: Vec<TrailEvent>,
    ) -> Result<(), String> {
        let key = (account_number(account)?, region.to_owned());
        self.trails.write().unwrap_or_else(|e| e.into_inner()).entry(key).or_default().extend(events);
        Ok(())
    }

    pub(crate) fn user(&self, access_key_id: &str) -> Option<User> {
        self.users.read().unwrap_or_else(|e| e.into_inner()).get(access_key_id).cloned()
    }

    pub(crate) fn role(&self, arn: &str) -> Option<Role> {
        self.roles.read().unwrap_or_else(|e| e.into_inner()).get(arn).cloned()
    }

    /// An IAM, EC2 or CloudTrail request to explicit account `account` (`region`: its index)
    /// by `user` (a user's name; `None` for a role's session).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn handle(
        &self,
        m: &Model,
        api: Api,
        account: u64,
        region: u16,
        p: &Params,
        rid: &str,
        user: Option<&str>,
    ) -> Reply {
        let id = format!("{account:012}");
        match api {
            Api::GetAccountAuthorizationDetails => {
                let result = format!(
                    "<IsTruncated>false</IsTruncated><UserDetailList>{}</UserDetailList><GroupDetailList/><RoleDetailList>{}</RoleDetailList><Policies/>",
                    self.users_xml(&id, true),
                    self.roles_xml(&id, true)
                );
                Reply::query(Family::Iam, api.name(), &result, rid)
            }
            Api::ListUsers | Api::ListRoles | Api::ListGroups | Api::ListPolicies => {
                let (list, members) = match api {
                    Api::ListUsers => ("Users", self.users_xml(&id, false)),
                    Api::ListRoles => ("Roles", self.roles_xml(&id, false)),
                    Api::ListGroups => ("Groups", String::new()),
                    _ => ("Policies", String::new()),
                };
                let result = format!("<{list}>{members}</{list}><IsTruncated>false</IsTruncated>");
                Reply::query(Family::Iam, api.name(), &result, rid)
            }
            Api::ListAccessKeys => self.access_keys(&id, p.str("UserName").or(user).unwrap_or_default(), rid),
            Api::GetRole => self.get_role(&id, p, rid),
            Api::LookupEvents => self.lookup_events(m, account, region, p, rid),
            Api::DescribeRegions => super::ec2::Region::new(m, 0, region).handle(api, p, rid),
            _ if api.family() == Family::Ec2 => super::ec2::empty(api, rid),
            _ => Reply::invalid(
                api.family(),
                "InvalidAction",
                &format!("The simulator does not implement {} for explicit accounts.", api.name()),
                rid,
            ),
        }
    }

    /// The names of `account`'s users (those with a key), sorted.
    fn user_names(&self, account: &str) -> Vec<String> {
        let users = self.users.read().unwrap_or_else(|e| e.into_inner());
        let mut names: Vec<String> =
            users.values().filter(|u| u.account == account).map(|u| u.name.clone()).collect();
        names.sort_unstable();
        names.dedup();
        names
    }

    /// `<member>`s of users, with GetAccountAuthorizationDetails' lists when `details`.
    fn users_xml(&self, account: &str, details: bool) -> String {
        let mut out = String::new();
        for name in self.user_names(account) {
            let id = upper_alnum(hash(&name.bytes().map(u64::from).collect::<Vec<_>>()), 17);
            let name = xml_escape(&name);
            let _ = write!(
                out,
                "<member><Path>/</Path><UserName>{name}</UserName><UserId>AIDA{id}</UserId><Arn>arn:aws:iam::{account}:user/{name}</Arn><CreateDate>{CREATED}</CreateDate>{}</member>",
                if details { "<GroupList/><AttachedManagedPolicies/><UserPolicyList/><Tags/>" } else { "" }
            );
        }
        out
    }

    /// `<member>`s of `account`'s roles (trust policies URL-encoded, as IAM sends them).
    fn roles_xml(&self, account: &str, details: bool) -> String {
        let roles = self.roles.read().unwrap_or_else(|e| e.into_inner());
        let mut mine: Vec<&Role> =
            roles.values().filter(|r| r.arn.split(':').nth(4) == Some(account)).collect();
        mine.sort_by(|a, b| a.arn.cmp(&b.arn));
        mine.into_iter().map(|r| role_xml(&r.arn, &r.trust_policy, r.max_session_seconds, details)).collect()
    }

    /// GetRole on `account`'s role `RoleName`, or NoSuchEntity as IAM answers.
    fn get_role(&self, account: &str, p: &Params, rid: &str) -> Reply {
        let name = p.str("RoleName").unwrap_or_default();
        let roles = self.roles.read().unwrap_or_else(|e| e.into_inner());
        let found = roles
            .values()
            .find(|r| r.arn.split(':').nth(4) == Some(account) && r.arn.rsplit('/').next() == Some(name));
        let Some(role) = found else {
            let message = format!("The role with name {name} cannot be found.");
            return Reply::error(Family::Iam, 404, "NoSuchEntity", &message, rid);
        };
        let member = role_xml(&role.arn, &role.trust_policy, role.max_session_seconds, false);
        let inner =
            member.strip_prefix("<member>").and_then(|x| x.strip_suffix("</member>")).unwrap_or(&member);
        Reply::query(Family::Iam, "GetRole", &format!("<Role>{inner}</Role>"), rid)
    }

    /// ListAccessKeys of `user` (IAM lists the caller's own keys when no UserName is sent).
    fn access_keys(&self, account: &str, user: &str, rid: &str) -> Reply {
        let mut keys: Vec<String> = self
            .users
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .filter(|u| u.account == account && u.name == user)
            .map(|u| u.access_key_id.clone())
            .collect();
        if keys.is_empty() {
            let message = format!("The user with name {user} cannot be found.");
            return Reply::error(Family::Iam, 404, "NoSuchEntity", &message, rid);
        }
        keys.sort_unstable();
        let user = xml_escape(user);
        let members: String = keys
            .iter()
            .map(|k| format!("<member><UserName>{user}</UserName><AccessKeyId>{k}</AccessKeyId><Status>Active</Status><CreateDate>{CREATED}</CreateDate></member>"))
            .collect();
        let result =
            format!("<AccessKeyMetadata>{members}</AccessKeyMetadata><IsTruncated>false</IsTruncated>");
        Reply::query(Family::Iam, "ListAccessKeys", &result, rid)
    }

    /// LookupEvents over the events added: newest first, at most `MaxResults` (1–50, default
    /// 50) a page, within `StartTime`–`EndTime`, continued by an opaque token.
    fn lookup_events(&self, m: &Model, account: u64, region: u16, p: &Params, rid: &str) -> Reply {
        let invalid = |code: &str, message: &str| Reply::invalid(Family::CloudTrail, code, message, rid);
        let max = match p.number("MaxResults") {
            Ok(None) => 50,
            Ok(Some(n)) if (1.0..=50.0).contains(&n) => n as usize,
            _ => return invalid("InvalidMaxResultsException", "MaxResults must be between 1 and 50."),
        };
        let time = |name: &str, default: i64| p.number(name).map(|t| t.map_or(default, |t| t.floor() as i64));
        let (Ok(start), Ok(end)) = (time("StartTime", i64::MIN), time("EndTime", i64::MAX)) else {
            return invalid("InvalidTimeRangeException", "StartTime and EndTime are timestamps.");
        };
        let scope = [0xE7, account, u64::from(region), start as u64, end as u64];
        let offset = match p.str("NextToken").filter(|t| !t.is_empty()) {
            None => 0,
            Some(t) => match m.untoken(&scope, t) {
                Some(o) => o as usize,
                None => return Reply::bad_token(Family::CloudTrail, rid),
            },
        };
        let trails = self.trails.read().unwrap_or_else(|e| e.into_inner());
        let mut matching: Vec<&TrailEvent> = trails
            .get(&(account, m.region_name(region).to_owned()))
            .map(|v| v.iter().filter(|e| e.time >= start && e.time <= end).collect())
            .unwrap_or_default();
        matching.sort_by(|a, b| b.time.cmp(&a.time).then(a.id.cmp(&b.id)));
        let page: Vec<serde_json::Value> = matching
            .iter()
            .skip(offset)
            .take(max)
            .map(|e| {
                json!({
                    "EventId": e.id, "EventName": e.name, "EventTime": e.time,
                    "EventSource": "iam.amazonaws.com", "Username": "someone", "ReadOnly": "false",
                    "CloudTrailEvent": json!({"eventID": e.id, "eventName": e.name, "eventTime": iso(e.time)}).to_string(),
                })
            })
            .collect();
        let next = offset + page.len();
        let mut out = json!({ "Events": page });
        if next < matching.len() {
            out["NextToken"] = m.token(&scope, next as u64).into();
        }
        Reply::json(out.to_string())
    }
}

/// A role as a `<member>` of IAM's role lists (its trust policy URL-encoded, as IAM sends it),
/// with GetAccountAuthorizationDetails' lists when `details`.
pub(crate) fn role_xml(arn: &str, trust_policy: &str, max_session_seconds: u32, details: bool) -> String {
    let name = xml_escape(arn.rsplit('/').next().unwrap_or_default());
    let id = upper_alnum(hash(&arn.bytes().map(u64::from).collect::<Vec<_>>()), 17);
    format!(
        "<member><Path>/</Path><RoleName>{name}</RoleName><RoleId>AROA{id}</RoleId><Arn>{}</Arn><CreateDate>{CREATED}</CreateDate><AssumeRolePolicyDocument>{}</AssumeRolePolicyDocument><MaxSessionDuration>{max_session_seconds}</MaxSessionDuration>{}</member>",
        xml_escape(arn),
        utf8_percent_encode(trust_policy, NON_ALPHANUMERIC),
        if details { "<InstanceProfileList/><RolePolicyList/><AttachedManagedPolicies/><Tags/>" } else { "" }
    )
}

/// When explicit users, roles and keys were created.
const CREATED: &str = "2026-01-01T00:00:00Z";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accounts_and_arns_are_checked() {
        assert_eq!(account_number("222222222222"), Ok(222_222_222_222));
        assert!(account_number("22222222222").unwrap_err().contains("12 digits"));
        assert!(account_number("+22222222222").is_err());
        assert_eq!(role_account("arn:aws:iam::222222222222:role/path/R"), Ok(222_222_222_222));
        assert!(role_account("arn:aws:iam::222222222222:user/R").unwrap_err().contains("role ARN"));
        let seed: Explicit = serde_json::from_str(
            r#"{"users":[{"account":"111111111111","name":"v","access_key_id":"AKIA1"}],"roles":[{"arn":"arn:aws:iam::222222222222:role/R","trust_policy":"{}"}]}"#,
        )
        .unwrap();
        assert_eq!((seed.roles[0].max_session_seconds, seed.roles[0].denied_actions.len()), (3600, 0));
        assert!(Directory::new(&seed).is_ok());
    }
}
