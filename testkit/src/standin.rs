//! Trustline's own AWS-shaped stand-in, for what moto does not do faithfully: cross-account
//! trust enforcement (moto ignores it, and lets a *missing* ExternalId through). It speaks STS,
//! the IAM list calls (GetAccountAuthorizationDetails lists each account's users and roles,
//! ListAccessKeys their keys), EC2's Describe calls (empty) and CloudTrail's LookupEvents in
//! AWS's wire shapes, on loopback, on a free port.
//!
//! Callers are identified by the access key in the `Authorization` header (signatures are
//! moto's job); roles carry a trust policy that is evaluated the way IAM does for AssumeRole:
//! an Allow statement must match the action, the principal and every condition, and no Deny may.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

/// A role in the stand-in.
#[derive(Debug, Clone)]
pub struct Role {
    /// Its ARN.
    pub arn: String,
    /// Its trust policy (JSON).
    pub trust_policy: String,
    /// Actions its permissions deny (everything else is allowed), e.g. `iam:ListUsers`.
    pub denied_actions: Vec<String>,
    /// Its `MaxSessionDuration`.
    pub max_session_seconds: u32,
}

#[derive(Debug, Clone)]
struct Principal {
    /// The ARN trust policies match against (user, role root, or role for sessions).
    arn: String,
    account: String,
    /// For role sessions: the role, whose permissions apply.
    role: Option<String>,
}

/// A CloudTrail management event in the stand-in.
#[derive(Debug, Clone)]
pub struct TrailEvent {
    /// Unique id.
    pub id: String,
    /// Seconds since the epoch.
    pub time: i64,
    /// The API action.
    pub name: String,
}

#[derive(Default)]
struct World {
    roles: HashMap<String, Role>,
    keys: HashMap<String, Principal>,
    next_session: u64,
    /// (account, region) → events.
    events: HashMap<(String, String), Vec<TrailEvent>>,
    /// (account, region) → LookupEvents token bucket: (tokens, last refill). AWS documents
    /// 2 calls per second per account and region; the bucket holds 2.
    lookup_buckets: HashMap<(String, String), (f64, std::time::Instant)>,
    /// LookupEvents calls answered, and how many of them were throttled.
    lookups: u64,
    throttled: u64,
    /// Role sessions: how long they really last, and the lifetime their Expiration announces
    /// (None: sessions never expire). Announcing longer than they last models credentials that
    /// go bad early (a revoked session, a skewed clock): the client must recover on ExpiredToken.
    session_lifetime: Option<(std::time::Duration, std::time::Duration)>,
    /// Session key → when it stops working.
    session_expiry: HashMap<String, std::time::Instant>,
    /// AssumeRole calls that issued a session, and calls refused with ExpiredToken.
    sessions_issued: u64,
    expired_answers: u64,
}

impl World {
    /// Whether `key` is a role session past its real lifetime (and counts the refusal).
    fn expired(&mut self, key: &str) -> bool {
        let expired = self.session_expiry.get(key).is_some_and(|t| *t <= std::time::Instant::now());
        if expired {
            self.expired_answers += 1;
        }
        expired
    }
}

const EXPIRED: &str = "The security token included in the request is expired";

/// A running stand-in; stops when dropped.
#[derive(Debug)]
pub struct StandIn {
    addr: SocketAddr,
    world: Arc<Mutex<World>>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for World {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("World").field("roles", &self.roles.len()).finish_non_exhaustive()
    }
}

impl StandIn {
    /// Starts the stand-in on a free loopback port.
    pub fn start() -> StandIn {
        StandIn::start_on(0)
    }

    /// Starts the stand-in on a given loopback port (0: any free one).
    pub fn start_on(port: u16) -> StandIn {
        let world = Arc::new(Mutex::new(World::default()));
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let state = world.clone();
        let thread = std::thread::spawn(move || {
            let runtime =
                tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
            runtime.block_on(async move {
                let listener =
                    tokio::net::TcpListener::bind(("127.0.0.1", port)).await.expect("bind loopback");
                addr_tx.send(listener.local_addr().expect("address")).ok();
                let app = Router::new().fallback(handle).with_state(state);
                axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        rx.await.ok();
                    })
                    .await
                    .ok();
            });
        });
        let addr = addr_rx.recv().expect("the stand-in started");
        StandIn { addr, world, shutdown: Some(tx), thread: Some(thread) }
    }

    /// The endpoint URL.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Adds an IAM user with an access key; returns the key ID (any secret is accepted).
    pub fn add_user(&self, account: &str, name: &str, access_key_id: &str) {
        let principal = Principal {
            arn: format!("arn:aws:iam::{account}:user/{name}"),
            account: account.into(),
            role: None,
        };
        self.lock().keys.insert(access_key_id.into(), principal);
    }

    /// Adds a role.
    pub fn add_role(&self, role: Role) {
        self.lock().roles.insert(role.arn.clone(), role);
    }

    /// Adds CloudTrail events to an account-region.
    pub fn add_events(&self, account: &str, region: &str, events: Vec<TrailEvent>) {
        self.lock().events.entry((account.into(), region.into())).or_default().extend(events);
    }

    /// Role sessions from now on last `actual` and announce an Expiration `reported` ahead.
    pub fn set_session_lifetime(&self, actual: std::time::Duration, reported: std::time::Duration) {
        self.lock().session_lifetime = Some((actual, reported));
    }

    /// Role sessions issued so far, and requests refused with ExpiredToken.
    pub fn session_counts(&self) -> (u64, u64) {
        let world = self.lock();
        (world.sessions_issued, world.expired_answers)
    }

    /// LookupEvents calls answered so far, and how many were throttled.
    pub fn lookup_counts(&self) -> (u64, u64) {
        let w = self.lock();
        (w.lookups, w.throttled)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, World> {
        self.world.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Drop for StandIn {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            tx.send(()).ok();
        }
        if let Some(t) = self.thread.take() {
            t.join().ok();
        }
    }
}

fn xml(status: StatusCode, body: String) -> Response {
    (status, [("content-type", "text/xml"), ("x-amzn-requestid", "standin-request-id")], body).into_response()
}

/// IAM/STS error shape: `<ErrorResponse><Error><Type>Sender</Type><Code>…`.
fn error(status: StatusCode, code: &str, message: &str) -> Response {
    xml(
        status,
        format!(
            "<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>standin-request-id</RequestId></ErrorResponse>"
        ),
    )
}

fn form(body: &[u8]) -> HashMap<String, String> {
    String::from_utf8_lossy(body)
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| {
            let decode = |s: &str| {
                percent_encoding::percent_decode_str(&s.replace('+', " ")).decode_utf8_lossy().into_owned()
            };
            (decode(k), decode(v))
        })
        .collect()
}

fn access_key(headers: &HeaderMap) -> Option<String> {
    let auth = headers.get("authorization")?.to_str().ok()?;
    let credential = auth.split("Credential=").nth(1)?;
    Some(credential.split('/').next()?.to_owned())
}

fn credential_region(headers: &HeaderMap) -> String {
    headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|a| a.split("Credential=").nth(1))
        .and_then(|c| c.split('/').nth(2))
        .unwrap_or("us-east-1")
        .to_owned()
}

fn json_error(status: StatusCode, kind: &str, message: &str) -> Response {
    (
        status,
        [("content-type", "application/x-amz-json-1.1")],
        serde_json::json!({ "__type": kind, "message": message }).to_string(),
    )
        .into_response()
}

/// CloudTrail LookupEvents: newest first, at most 50 a page, opaque tokens, 2 calls per second
/// per account and region (CloudTrail API reference).
fn lookup_events(world: &mut World, caller: &Principal, region: &str, body: &[u8]) -> Response {
    let key = (caller.account.clone(), region.to_owned());
    const RATE: f64 = 2.0;
    const CAPACITY: f64 = 2.0;
    world.lookups += 1;
    let now = std::time::Instant::now();
    let bucket = world.lookup_buckets.entry(key.clone()).or_insert((CAPACITY, now));
    bucket.0 = (bucket.0 + now.duration_since(bucket.1).as_secs_f64() * RATE).min(CAPACITY);
    bucket.1 = now;
    if bucket.0 < 1.0 {
        world.throttled += 1;
        return json_error(StatusCode::BAD_REQUEST, "ThrottlingException", "Rate exceeded");
    }
    bucket.0 -= 1.0;
    let Ok(request) = serde_json::from_slice::<Value>(body) else {
        return json_error(StatusCode::BAD_REQUEST, "SerializationException", "bad JSON");
    };
    let max = request["MaxResults"].as_u64().unwrap_or(50);
    if !(1..=50).contains(&max) {
        return json_error(
            StatusCode::BAD_REQUEST,
            "InvalidMaxResultsException",
            "MaxResults must be 1 to 50",
        );
    }
    let start = request["StartTime"].as_f64().map_or(i64::MIN, |t| t as i64);
    let end = request["EndTime"].as_f64().map_or(i64::MAX, |t| t as i64);
    let offset: usize = match request["NextToken"].as_str() {
        None => 0,
        Some(token) => match token
            .strip_prefix("standin-page-")
            .and_then(|t| t.split('-').next())
            .and_then(|n| n.parse().ok())
        {
            Some(n) => n,
            None => return json_error(StatusCode::BAD_REQUEST, "InvalidNextTokenException", "invalid token"),
        },
    };
    let mut matching: Vec<&TrailEvent> = world
        .events
        .get(&key)
        .map(|v| v.iter().filter(|e| e.time >= start && e.time <= end).collect())
        .unwrap_or_default();
    matching.sort_by(|a, b| b.time.cmp(&a.time).then(a.id.cmp(&b.id)));
    let page: Vec<Value> = matching
        .iter()
        .skip(offset)
        .take(max as usize)
        .map(|e| {
            serde_json::json!({
                "EventId": e.id, "EventName": e.name, "EventTime": e.time, "EventSource": "iam.amazonaws.com",
                "Username": "someone", "ReadOnly": "false",
                "CloudTrailEvent": serde_json::json!({"eventID": e.id, "eventName": e.name}).to_string(),
            })
        })
        .collect();
    let next = offset + page.len();
    let mut out = serde_json::json!({ "Events": page });
    if next < matching.len() {
        // Opaque to clients: an offset and a salt.
        out["NextToken"] = Value::String(format!("standin-page-{next}-{:x}", next * 7919 + 17));
    }
    (StatusCode::OK, [("content-type", "application/x-amz-json-1.1")], out.to_string()).into_response()
}

/// When the stand-in says its users, roles and keys were created.
const CREATED: &str = "2026-01-01T00:00:00Z";

/// GetAccountAuthorizationDetails' lists for `account`: its users (those with keys) and roles,
/// in one page, in AWS's shape (trust policies URL-encoded).
fn authorization_details(world: &World, account: &str) -> String {
    let id = |prefix: &str, name: &str| {
        let mut id: String =
            name.chars().filter(char::is_ascii_alphanumeric).map(|c| c.to_ascii_uppercase()).collect();
        id.truncate(17);
        format!("{prefix}{id}")
    };
    let mut users: Vec<&str> = world
        .keys
        .values()
        .filter(|p| p.account == account && p.role.is_none())
        .filter_map(|p| p.arn.split_once(":user/").map(|(_, name)| name))
        .collect();
    users.sort_unstable();
    users.dedup();
    let users: String = users
        .iter()
        .map(|name| {
            format!(
                "<member><UserName>{name}</UserName><UserId>{}</UserId><Arn>arn:aws:iam::{account}:user/{name}</Arn><Path>/</Path><CreateDate>{CREATED}</CreateDate><GroupList/><AttachedManagedPolicies/><UserPolicyList/><Tags/></member>",
                id("AIDA", name)
            )
        })
        .collect();
    let mut roles: Vec<&Role> =
        world.roles.values().filter(|r| r.arn.split(':').nth(4) == Some(account)).collect();
    roles.sort_by(|a, b| a.arn.cmp(&b.arn));
    let roles: String = roles
        .iter()
        .map(|r| {
            let name = r.arn.rsplit('/').next().unwrap_or_default();
            let trust = percent_encoding::utf8_percent_encode(&r.trust_policy, percent_encoding::NON_ALPHANUMERIC);
            format!(
                "<member><RoleName>{name}</RoleName><RoleId>{}</RoleId><Arn>{}</Arn><Path>/</Path><CreateDate>{CREATED}</CreateDate><AssumeRolePolicyDocument>{trust}</AssumeRolePolicyDocument><RolePolicyList/><AttachedManagedPolicies/><InstanceProfileList/><Tags/></member>",
                id("AROA", name),
                r.arn
            )
        })
        .collect();
    format!(
        "<UserDetailList>{users}</UserDetailList><GroupDetailList/><RoleDetailList>{roles}</RoleDetailList><Policies/>"
    )
}

async fn handle(State(world): State<Arc<Mutex<World>>>, headers: HeaderMap, body: Bytes) -> Response {
    let target = headers.get("x-amz-target").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    if target.ends_with(".LookupEvents") {
        let mut world = world.lock().unwrap_or_else(|e| e.into_inner());
        let key = access_key(&headers).unwrap_or_default();
        let Some(caller) = world.keys.get(&key).cloned() else {
            return json_error(
                StatusCode::BAD_REQUEST,
                "UnrecognizedClientException",
                "The security token included in the request is invalid.",
            );
        };
        if world.expired(&key) {
            return json_error(StatusCode::BAD_REQUEST, "ExpiredTokenException", EXPIRED);
        }
        return lookup_events(&mut world, &caller, &credential_region(&headers), &body);
    }
    let params = form(&body);
    let action = params.get("Action").cloned().unwrap_or_default();
    let mut world = world.lock().unwrap_or_else(|e| e.into_inner());
    let key = access_key(&headers).unwrap_or_default();
    let Some(caller) = world.keys.get(&key).cloned() else {
        return error(
            StatusCode::FORBIDDEN,
            "InvalidClientTokenId",
            "The security token included in the request is invalid.",
        );
    };
    if world.expired(&key) {
        return error(StatusCode::BAD_REQUEST, "ExpiredToken", EXPIRED);
    }
    match action.as_str() {
        "GetCallerIdentity" => xml(
            StatusCode::OK,
            format!(
                "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><GetCallerIdentityResult><Arn>{}</Arn><UserId>AIDASTANDIN</UserId><Account>{}</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>standin-request-id</RequestId></ResponseMetadata></GetCallerIdentityResponse>",
                caller.arn, caller.account
            ),
        ),
        "AssumeRole" => assume_role(&mut world, &caller, &params),
        "ListUsers" | "ListRoles" | "ListGroups" | "ListPolicies" | "GetAccountAuthorizationDetails" => {
            let denied = caller
                .role
                .as_ref()
                .and_then(|r| world.roles.get(r))
                .is_some_and(|r| r.denied_actions.iter().any(|a| *a == format!("iam:{action}")));
            if denied {
                return error(
                    StatusCode::FORBIDDEN,
                    "AccessDenied",
                    &format!("User: {} is not authorized to perform: iam:{action}", caller.arn),
                );
            }
            let list = match action.as_str() {
                "ListUsers" => "<Users/>".to_owned(),
                "ListRoles" => "<Roles/>".to_owned(),
                "ListGroups" => "<Groups/>".to_owned(),
                "ListPolicies" => "<Policies/>".to_owned(),
                _ => authorization_details(&world, &caller.account),
            };
            xml(
                StatusCode::OK,
                format!(
                    "<{action}Response xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><{action}Result>{list}<IsTruncated>false</IsTruncated></{action}Result><ResponseMetadata><RequestId>standin-request-id</RequestId></ResponseMetadata></{action}Response>"
                ),
            )
        }
        "ListAccessKeys" => {
            let user = params.get("UserName").cloned().unwrap_or_default();
            let arn = format!("arn:aws:iam::{}:user/{user}", caller.account);
            let mut keys: Vec<&String> =
                world.keys.iter().filter(|(_, p)| p.arn == arn).map(|(k, _)| k).collect();
            keys.sort();
            let members: String = keys
                .iter()
                .map(|k| format!("<member><UserName>{user}</UserName><AccessKeyId>{k}</AccessKeyId><Status>Active</Status><CreateDate>{CREATED}</CreateDate></member>"))
                .collect();
            xml(
                StatusCode::OK,
                format!(
                    "<ListAccessKeysResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><ListAccessKeysResult><AccessKeyMetadata>{members}</AccessKeyMetadata><IsTruncated>false</IsTruncated></ListAccessKeysResult><ResponseMetadata><RequestId>standin-request-id</RequestId></ResponseMetadata></ListAccessKeysResponse>"
                ),
            )
        }
        // EC2 reads answer with empty sets (and two regions): the stand-in models identity and
        // trust, not fleets; moto covers EC2's contents.
        "DescribeRegions"
        | "DescribeInstances"
        | "DescribeVpcs"
        | "DescribeSubnets"
        | "DescribeSecurityGroups"
        | "DescribeNetworkInterfaces" => {
            let denied = caller
                .role
                .as_ref()
                .and_then(|r| world.roles.get(r))
                .is_some_and(|r| r.denied_actions.iter().any(|a| *a == format!("ec2:{action}")));
            if denied {
                return xml(
                    StatusCode::FORBIDDEN,
                    "<Response><Errors><Error><Code>UnauthorizedOperation</Code><Message>You are not authorized to perform this operation.</Message></Error></Errors><RequestID>standin-request-id</RequestID></Response>".to_owned(),
                );
            }
            let set = match action.as_str() {
                "DescribeRegions" => {
                    "<regionInfo><item><regionName>us-east-1</regionName><regionEndpoint>ec2.us-east-1.amazonaws.com</regionEndpoint><optInStatus>opt-in-not-required</optInStatus></item><item><regionName>eu-west-1</regionName><regionEndpoint>ec2.eu-west-1.amazonaws.com</regionEndpoint><optInStatus>opt-in-not-required</optInStatus></item></regionInfo>"
                }
                "DescribeInstances" => "<reservationSet/>",
                "DescribeVpcs" => "<vpcSet/>",
                "DescribeSubnets" => "<subnetSet/>",
                "DescribeSecurityGroups" => "<securityGroupInfo/>",
                _ => "<networkInterfaceSet/>",
            };
            xml(
                StatusCode::OK,
                format!(
                    "<{action}Response xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\"><requestId>standin-request-id</requestId>{set}</{action}Response>"
                ),
            )
        }
        other => error(
            StatusCode::BAD_REQUEST,
            "InvalidAction",
            &format!("The stand-in does not implement {other}"),
        ),
    }
}

fn assume_role(world: &mut World, caller: &Principal, params: &HashMap<String, String>) -> Response {
    let role_arn = params.get("RoleArn").cloned().unwrap_or_default();
    let denied = || {
        error(
            StatusCode::FORBIDDEN,
            "AccessDenied",
            &format!(
                "User: {} is not authorized to perform: sts:AssumeRole on resource: {role_arn}",
                caller.arn
            ),
        )
    };
    let Some(role) = world.roles.get(&role_arn).cloned() else {
        // AWS answers AccessDenied for a role that does not exist, not NoSuchEntity.
        return denied();
    };
    let duration: u32 = params.get("DurationSeconds").and_then(|d| d.parse().ok()).unwrap_or(3600);
    if duration > role.max_session_seconds {
        return error(
            StatusCode::BAD_REQUEST,
            "ValidationError",
            "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
        );
    }
    let Ok(trust) = serde_json::from_str::<Value>(&role.trust_policy) else { return denied() };
    if !trust_allows(&trust, caller, params.get("ExternalId").map(String::as_str)) {
        return denied();
    }
    world.next_session += 1;
    let key = format!("ASIASTANDIN{:09}", world.next_session);
    let account = role_arn.split(':').nth(4).unwrap_or_default().to_owned();
    let name = role_arn.rsplit('/').next().unwrap_or_default();
    let session = params.get("RoleSessionName").cloned().unwrap_or_default();
    let assumed = format!("arn:aws:sts::{account}:assumed-role/{name}/{session}");
    world.keys.insert(key.clone(), Principal { arn: assumed.clone(), account, role: Some(role_arn.clone()) });
    world.sessions_issued += 1;
    let expiration = match world.session_lifetime {
        Some((actual, reported)) => {
            world.session_expiry.insert(key.clone(), std::time::Instant::now() + actual);
            (time::OffsetDateTime::now_utc() + reported)
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_else(|_| "2099-01-01T00:00:00Z".to_owned())
        }
        None => "2099-01-01T00:00:00Z".to_owned(),
    };
    xml(
        StatusCode::OK,
        format!(
            "<AssumeRoleResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><AssumeRoleResult><Credentials><AccessKeyId>{key}</AccessKeyId><SecretAccessKey>standin-secret</SecretAccessKey><SessionToken>standin-token</SessionToken><Expiration>{expiration}</Expiration></Credentials><AssumedRoleUser><AssumedRoleId>AROASTANDIN:{session}</AssumedRoleId><Arn>{assumed}</Arn></AssumedRoleUser></AssumeRoleResult><ResponseMetadata><RequestId>standin-request-id</RequestId></ResponseMetadata></AssumeRoleResponse>"
        ),
    )
}

fn as_list(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a.iter().filter_map(|x| x.as_str().map(str::to_owned)).collect(),
        _ => Vec::new(),
    }
}

fn principal_matches(principal: &Value, caller: &Principal) -> bool {
    if principal.as_str() == Some("*") {
        return true;
    }
    as_list(principal.get("AWS").unwrap_or(&Value::Null)).iter().any(|p| {
        p == "*"
            || *p == caller.arn
            || *p == caller.account
            || *p == format!("arn:aws:iam::{}:root", caller.account)
    })
}

fn action_matches(action: &Value) -> bool {
    as_list(action)
        .iter()
        .any(|a| matches!(a.to_ascii_lowercase().as_str(), "*" | "sts:*" | "sts:assumerole"))
}

fn wildcard_match(pattern: &str, value: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == value,
        Some((head, tail)) => {
            value.starts_with(head) && value.len() >= head.len() + tail.len() && value.ends_with(tail)
        }
    }
}

/// One condition block: every operator and key must hold. Only `sts:ExternalId` has a value in
/// the request context here; any other key is absent.
fn conditions_hold(condition: &Value, external_id: Option<&str>) -> bool {
    let Some(ops) = condition.as_object() else { return true };
    ops.iter().all(|(op, keys)| {
        keys.as_object().is_none_or(|keys| {
            keys.iter().all(|(key, wanted)| {
                let actual = if key.eq_ignore_ascii_case("sts:ExternalId") { external_id } else { None };
                let wanted = as_list(wanted);
                let (base, if_exists) =
                    op.strip_suffix("IfExists").map_or((op.as_str(), false), |b| (b, true));
                match actual {
                    None => if_exists || base.starts_with("ForAllValues:"),
                    Some(v) => {
                        match base.trim_start_matches("ForAnyValue:").trim_start_matches("ForAllValues:") {
                            "StringEquals" => wanted.iter().any(|w| w == v),
                            "StringNotEquals" => wanted.iter().all(|w| w != v),
                            "StringLike" => wanted.iter().any(|w| wildcard_match(w, v)),
                            _ => false,
                        }
                    }
                }
            })
        })
    })
}

fn trust_allows(trust: &Value, caller: &Principal, external_id: Option<&str>) -> bool {
    let statements = match &trust["Statement"] {
        Value::Array(a) => a.clone(),
        other => vec![other.clone()],
    };
    let applies = |s: &Value| {
        action_matches(&s["Action"])
            && principal_matches(&s["Principal"], caller)
            && conditions_hold(&s["Condition"], external_id)
    };
    let denied = statements.iter().any(|s| s["Effect"] == "Deny" && applies(s));
    let allowed = statements.iter().any(|s| s["Effect"] == "Allow" && applies(s));
    allowed && !denied
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller() -> Principal {
        Principal {
            arn: "arn:aws:iam::111111111111:user/vendor".into(),
            account: "111111111111".into(),
            role: None,
        }
    }

    fn trust(condition: &str) -> Value {
        serde_json::from_str(&format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::111111111111:root"}},"Action":"sts:AssumeRole"{condition}}}]}}"#
        ))
        .unwrap()
    }

    #[test]
    fn external_id_is_enforced_as_iam_does() {
        let exact = trust(r#","Condition":{"StringEquals":{"sts:ExternalId":"abc"}}"#);
        assert!(trust_allows(&exact, &caller(), Some("abc")));
        assert!(!trust_allows(&exact, &caller(), Some("abd")));
        assert!(
            !trust_allows(&exact, &caller(), None),
            "a missing ExternalId must be refused (moto lets it through)"
        );
        let if_exists = trust(r#","Condition":{"StringEqualsIfExists":{"sts:ExternalId":"abc"}}"#);
        assert!(trust_allows(&if_exists, &caller(), None));
        let none = trust("");
        assert!(trust_allows(&none, &caller(), None) && trust_allows(&none, &caller(), Some("anything")));
        let other_account = Principal {
            account: "999999999999".into(),
            arn: "arn:aws:iam::999999999999:user/x".into(),
            role: None,
        };
        assert!(!trust_allows(&exact, &other_account, Some("abc")));
    }
}
