//! The bodies of the worker's HTTP API (described in `docs/openapi.yaml`), as serde types shared by
//! the worker, which reads the requests and writes the responses, and the onboarding wizard, which
//! writes the requests and reads the responses. Field names are the wire names; requests refuse
//! unknown fields, so a misspelt field is an error naming it rather than a silent default.
//!
//! Secrets in request bodies are [`Secret`]s: never printed by `Debug`, zeroed when dropped, and
//! written to JSON only when the wizard sends them.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::policy::permissions::DataSet;
use crate::{AccountId, ExternalId, IntegrationKind, Region, RoleArn, Secret};

/// `POST /v1/tenants/{tenant}/verify/role`: a customer's role to verify before it is registered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifyRoleRequest {
    /// The customer's role.
    pub role_arn: RoleArn,
    /// An ExternalId issued to this customer; default (and usually): the one in force. One the
    /// customer was not issued is refused before any AWS call.
    #[serde(default)]
    pub external_id: Option<ExternalId>,
    /// The account the customer says it is.
    #[serde(default)]
    pub expected_account_id: Option<AccountId>,
    /// What Trustline will read.
    pub data_sets: Vec<DataSet>,
    /// Regions for regional probes (default: the home region).
    #[serde(default)]
    pub regions: Vec<Region>,
}

/// `POST /v1/tenants/{tenant}/verify/keys`: a customer's access key (the `sts` and `access-key`
/// kinds) to verify. The secret is held in memory only, never echoed or logged.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifyKeysRequest {
    /// `sts` or `access-key`.
    pub kind: IntegrationKind,
    /// The access key ID.
    pub access_key_id: String,
    /// The secret access key.
    #[serde(serialize_with = "expose", deserialize_with = "secret")]
    pub secret_access_key: Secret,
    /// A session token, for temporary keys.
    #[serde(default, serialize_with = "expose_optional", deserialize_with = "optional_secret")]
    pub session_token: Option<Secret>,
    /// The role to assume (the `sts` kind).
    #[serde(default)]
    pub role_arn: Option<RoleArn>,
    /// The ExternalId that role requires, if any.
    #[serde(default)]
    pub external_id: Option<ExternalId>,
}

impl std::fmt::Debug for VerifyKeysRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifyKeysRequest")
            .field("kind", &self.kind)
            .field("access_key_id", &self.access_key_id)
            .field("role_arn", &self.role_arn)
            .finish_non_exhaustive()
    }
}

/// `POST /v1/tenants/{tenant}/connections`: a role (`cross-account-role`), a customer's key
/// (`access-key`), or both (`sts`). The connection's id is the server's to choose, and its
/// ExternalId is the one issued to the tenant.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    /// How Trustline reaches the account.
    pub kind: IntegrationKind,
    /// Display name (default: the account id).
    #[serde(default)]
    pub name: Option<String>,
    /// The customer's role (`cross-account-role`, `sts`).
    #[serde(default)]
    pub role_arn: Option<RoleArn>,
    /// An ExternalId issued to this customer (default: the one in force).
    #[serde(default)]
    pub external_id: Option<ExternalId>,
    /// The customer's access key ID (`access-key`, `sts`).
    #[serde(default)]
    pub access_key_id: Option<String>,
    /// Its secret, sealed at rest by the worker.
    #[serde(default, serialize_with = "expose_optional", deserialize_with = "optional_secret")]
    pub secret_access_key: Option<Secret>,
    /// What Trustline reads.
    pub data_sets: Vec<DataSet>,
    /// Where it reads regional data sets (default: the worker's regions).
    #[serde(default)]
    pub regions: Vec<Region>,
}

impl std::fmt::Debug for RegisterRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegisterRequest")
            .field("kind", &self.kind)
            .field("name", &self.name)
            .field("role_arn", &self.role_arn)
            .field("access_key_id", &self.access_key_id)
            .field("data_sets", &self.data_sets)
            .field("regions", &self.regions)
            .finish_non_exhaustive()
    }
}

/// `POST /v1/tenants`: one of the vendor's customers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateTenant {
    /// The vendor's own id for the customer.
    pub id: String,
    /// Display name (default: the id).
    #[serde(default)]
    pub name: Option<String>,
    /// Connections it may register (default: the worker's `tenants.max_connections`).
    #[serde(default)]
    pub max_connections: Option<u32>,
}

/// `POST /v1/tenants/{tenant}/sessions`: a browser session for one tenant's onboarding page.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateSession {
    /// The session's lifetime in seconds (60–3600; default: the worker's `tenants.session_seconds`).
    #[serde(default)]
    pub ttl_seconds: Option<u32>,
}

/// A check's outcome: `pass`, `fail`, `warn` or `skipped`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckStatus {
    /// As it should be.
    Pass,
    /// Must be fixed before the connection works.
    Fail,
    /// Works, but should be looked at.
    Warn,
    /// Not run because an earlier check failed.
    Skipped,
}

impl CheckStatus {
    /// A short label that does not rely on colour.
    pub fn label(self) -> &'static str {
        match self {
            CheckStatus::Pass => "Passed",
            CheckStatus::Fail => "Failed",
            CheckStatus::Warn => "Warning",
            CheckStatus::Skipped => "Skipped",
        }
    }
}

/// One check of a verification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Check {
    /// Stable id: `assume_role`, `permission:iam:ListUsers`, …
    pub id: String,
    /// What was checked, for people.
    pub title: String,
    /// The outcome.
    pub status: CheckStatus,
    /// AWS's error code, when AWS returned one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aws_error_code: Option<String>,
    /// One sentence for the customer: what passed, or what to fix.
    #[serde(default)]
    pub message: String,
}

impl Check {
    /// A check's result.
    pub fn new(
        id: &str,
        title: &str,
        status: CheckStatus,
        code: Option<&str>,
        message: impl Into<String>,
    ) -> Self {
        Check {
            id: id.into(),
            title: title.into(),
            status,
            aws_error_code: code.map(str::to_owned),
            message: message.into(),
        }
    }
}

/// A verification's overall answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Every required check passed (warnings allowed).
    Verified,
    /// The role can be assumed without the right ExternalId: never registered.
    Unsafe,
    /// Something the customer can fix failed.
    Failed,
}

/// The answer of both verify routes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifyReport {
    /// The verdict.
    pub verdict: Verdict,
    /// The account, when known.
    #[serde(default)]
    pub account_id: Option<AccountId>,
    /// Every check, in the order it ran.
    #[serde(default)]
    pub checks: Vec<Check>,
}

/// Every refusal: `{"error": {"field": …, "message": …}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorResponse {
    /// What went wrong.
    pub error: ErrorBody,
}

/// The field at fault, when one is, and what to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// The request field at fault (a JSON field name, `tenant` or `id` for the path).
    #[serde(default)]
    pub field: Option<String>,
    /// One sentence naming the problem and the fix.
    pub message: String,
}

impl ErrorResponse {
    /// A refusal naming `field`, when one is at fault.
    pub fn new(field: Option<&str>, message: impl Into<String>) -> Self {
        ErrorResponse { error: ErrorBody { field: field.map(str::to_owned), message: message.into() } }
    }
}

/// Whether a connection is synced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConnectionStatus {
    /// Synced on every run.
    Active,
    /// The account is suspended in its Organization: skipped, its inventory kept and marked stale.
    Suspended,
    /// The account left its Organization (or its OU filter): skipped, inventory kept as stale.
    Removed,
}

impl ConnectionStatus {
    /// The stored and shown name.
    pub fn as_str(self) -> &'static str {
        match self {
            ConnectionStatus::Active => "active",
            ConnectionStatus::Suspended => "suspended",
            ConnectionStatus::Removed => "removed",
        }
    }
}

/// Where a connection's secret access key is kept: sealed in the worker's store, or a reference
/// (`env:`, `file:`) the worker resolves when it syncs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SecretStorage {
    /// Encrypted in the store.
    Sealed,
    /// Resolved from the environment or a file at each sync.
    Reference,
}

/// A registered connection, as the API shows it (never its secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Connection {
    /// The server's id for it.
    pub id: String,
    /// Its tenant.
    pub tenant: String,
    /// Display name.
    pub name: String,
    /// How Trustline reaches the account.
    pub kind: IntegrationKind,
    /// The account, when known.
    pub account_id: Option<AccountId>,
    /// The customer's role, for the role kinds.
    pub role_arn: Option<RoleArn>,
    /// The ExternalId in force.
    pub external_id: Option<ExternalId>,
    /// The ExternalId a rotation in progress moves to.
    pub next_external_id: Option<ExternalId>,
    /// The customer's access key ID, for the key kinds.
    pub access_key_id: Option<String>,
    /// Where that key's secret is kept.
    pub secret: Option<SecretStorage>,
    /// What Trustline reads.
    pub data_sets: Vec<DataSet>,
    /// Where it reads regional data sets.
    pub regions: Vec<Region>,
    /// Whether it is synced.
    pub status: ConnectionStatus,
    /// The Organization connection it belongs to, for a member account.
    pub parent: Option<String>,
    /// Its posture as of its last check (re-verified on every sync); null before the first.
    pub posture: Option<Posture>,
    /// `started` in the answer to a registration: its first sync began in the background.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_sync: Option<SyncState>,
}

/// `GET /v1/tenants/{tenant}/connections`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionList {
    /// The tenant's connections, by id.
    pub connections: Vec<Connection>,
}

/// A sync the API started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SyncState {
    /// Running in the background.
    Started,
}

/// The answer to `POST …/connections/{id}/sync`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncStarted {
    /// Always `started`.
    pub status: SyncState,
}

/// A tenant, as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tenant {
    /// The vendor's id for the customer.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Connections it may register.
    pub max_connections: u32,
    /// Connections it has.
    pub connections: u32,
    /// When it was added (RFC 3339).
    pub created_at: String,
}

/// `GET /v1/tenants`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantList {
    /// Every tenant, by id.
    pub tenants: Vec<Tenant>,
}

/// The answer to `POST /v1/tenants/{tenant}/sessions`: what the vendor's backend hands to the
/// onboarding page (`mount(…, { session })`).
#[derive(Clone, Serialize, Deserialize)]
pub struct SessionCreated {
    /// The bearer token (shown once; the worker keeps only its hash).
    #[serde(serialize_with = "expose", deserialize_with = "secret")]
    pub token: Secret,
    /// The tenant it acts for.
    pub tenant: String,
    /// When it stops working (RFC 3339).
    pub expires_at: String,
    /// The ExternalId the customer's role must require.
    pub external_id: ExternalId,
    /// When that ExternalId expires if no connection uses it (RFC 3339).
    pub external_id_expires_at: Option<String>,
    /// The vendor's AWS principal the customer's role trusts, when the worker knows it.
    pub vendor_principal: Option<String>,
}

impl std::fmt::Debug for SessionCreated {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionCreated")
            .field("tenant", &self.tenant)
            .field("expires_at", &self.expires_at)
            .field("external_id", &self.external_id)
            .finish_non_exhaustive()
    }
}

/// `GET /v1/tenants/{tenant}/external-id`: the ExternalId issued for the tenant's onboarding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuedExternalId {
    /// The value.
    pub external_id: ExternalId,
    /// When it was issued (RFC 3339).
    pub issued_at: String,
    /// When it expires if no connection uses it (RFC 3339).
    pub expires_at: Option<String>,
}

/// The answer to `POST …/external-id/rotate`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RotationStarted {
    /// The new ExternalId, accepted beside the old one until the rotation completes.
    pub external_id: ExternalId,
    /// The ExternalId in force until then.
    pub previous: Option<ExternalId>,
    /// What the customer does next.
    pub next_step: String,
}

/// The answer to `POST …/external-id/complete`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RotationCompleted {
    /// The ExternalId now in force.
    pub external_id: ExternalId,
    /// The one retired.
    pub retired: ExternalId,
    /// What AWS answered that proves it.
    pub proof: String,
}

/// A resource in a connection's inventory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Resource {
    /// The connection it was read through.
    pub connection: String,
    /// Its region (`global` for IAM).
    pub region: String,
    /// Its kind (`iam-user`, `ec2-instance`, …).
    pub kind: String,
    /// AWS's id for it.
    pub id: String,
    /// Its name, when it has one.
    pub name: Option<String>,
    /// Its ARN, when it has one.
    pub arn: Option<String>,
    /// Its tags.
    pub tags: std::collections::BTreeMap<String, String>,
    /// What AWS said about it, as read.
    pub attributes: serde_json::Value,
    /// When it was first read (RFC 3339).
    pub first_seen: String,
    /// When it was last read (RFC 3339).
    pub last_seen: String,
    /// Whether its list could not be read on the last sync (kept, but possibly out of date).
    pub stale: bool,
}

/// An addition, change or removal of a resource, as a sync recorded it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    /// Its place in the change history: increasing, so `after=` a seen `seq` reads what came next.
    pub seq: i64,
    /// The run that recorded it.
    pub run_id: i64,
    /// When (RFC 3339).
    pub at: String,
    /// The connection.
    pub connection: String,
    /// The resource's region.
    pub region: String,
    /// The resource's kind.
    pub kind: String,
    /// The resource's id.
    pub id: String,
    /// `added`, `changed` or `removed`.
    pub change: String,
    /// For `changed`: the top-level attributes (and `tags`, `name`) that differ.
    pub fields: Vec<String>,
}

/// A stored CloudTrail management event (the full record stays in the store).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// CloudTrail's EventId.
    pub event_id: String,
    /// The connection it was read through.
    pub connection: String,
    /// The region it happened in.
    pub region: String,
    /// When (RFC 3339).
    pub event_time: String,
    /// The API action.
    pub event_name: String,
    /// The service (`iam.amazonaws.com`).
    pub event_source: Option<String>,
    /// Who.
    pub username: Option<String>,
}

/// One page of a list the API reads in a stable order. `next_cursor` is opaque: pass it back as
/// `cursor` for the next page; it is null on the last page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Page<T> {
    /// This page's items.
    pub items: Vec<T>,
    /// The cursor of the next page, or null when this is the last.
    pub next_cursor: Option<String>,
}

/// Items stored after a cursor, oldest first: a feed a reader polls (changes, CloudTrail events).
/// Unlike a [`Page`], its cursor is never null: it is where the next read resumes, whether more
/// items are already there (`more`) or the reader polls again later.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Feed<T> {
    /// Items after the cursor the reader gave.
    pub items: Vec<T>,
    /// Where the next read resumes: pass it back as `cursor`.
    pub cursor: String,
    /// Whether more items are stored after `cursor` already.
    pub more: bool,
}

/// `GET /v1/tenants/{tenant}/resource`: one resource and its change history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourceHistory {
    /// The resource as stored now; null once it was removed.
    pub resource: Option<Resource>,
    /// Its additions, changes and removals, oldest first.
    pub changes: Vec<Change>,
}

/// A sync run, as one tenant sees it: only its own accounts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunSummary {
    /// The run's id.
    pub id: i64,
    /// `running`, `ok`, `partial` or `interrupted`.
    pub status: String,
    /// When it started (RFC 3339).
    pub started_at: String,
    /// When it ended, if it did.
    pub finished_at: Option<String>,
    /// This tenant's accounts in it.
    pub accounts: Vec<RunAccount>,
}

/// One account's part of a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunAccount {
    /// The connection.
    pub connection: String,
    /// `ok`, `partial` or `failed`.
    pub status: String,
    /// Resources current after it.
    pub resources: i64,
    /// Added by it.
    pub added: i64,
    /// Changed by it.
    pub changed: i64,
    /// Removed by it.
    pub removed: i64,
    /// What went wrong, or what could not be read.
    pub error: Option<String>,
}

/// How safe a connection is, as of its last check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Posture {
    /// Nothing to fix (warnings aside).
    Healthy,
    /// Something the data sets need is denied; everything else is read and fresh.
    Degraded,
    /// Another party could reach the account through the vendor, or the key is root's.
    Unsafe,
}

impl Posture {
    /// The stored and shown name.
    pub fn as_str(self) -> &'static str {
        match self {
            Posture::Healthy => "healthy",
            Posture::Degraded => "degraded",
            Posture::Unsafe => "unsafe",
        }
    }

    /// The posture named `s`, as stored.
    pub fn parse(s: &str) -> Option<Posture> {
        match s {
            "healthy" => Some(Posture::Healthy),
            "degraded" => Some(Posture::Degraded),
            "unsafe" => Some(Posture::Unsafe),
            _ => None,
        }
    }
}

impl std::fmt::Display for Posture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How much a finding weighs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth fixing; the posture stays as it is.
    Warning,
    /// Makes the connection `degraded`.
    Error,
    /// Makes the connection `unsafe`.
    Critical,
}

/// One thing found: a stable id, its weight, what was seen, and what the customer should do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// Stable id (`external_id_required_missing`, `permission_denied:iam:ListUsers`, …).
    pub id: String,
    /// Its weight.
    pub severity: Severity,
    /// What Trustline saw (never a secret).
    pub evidence: String,
    /// One sentence telling the customer what to fix.
    pub fix: String,
}

/// A connection's current posture.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostureRow {
    /// The connection.
    pub connection: String,
    /// The verdict.
    pub posture: Posture,
    /// What the last check found.
    pub findings: Vec<Finding>,
    /// When the posture last changed.
    pub changed_at: String,
    /// When it was last checked.
    pub last_checked_at: String,
    /// The sync run of the last check, if it was a sync.
    pub run_id: Option<i64>,
}

/// One change in a connection's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostureHistory {
    /// The posture before (`None`: the first check).
    pub previous: Option<Posture>,
    /// The posture from then on.
    pub posture: Posture,
    /// The findings then.
    pub findings: Vec<Finding>,
    /// When.
    pub at: String,
    /// The sync run, if it was one.
    pub run_id: Option<i64>,
}

/// `GET /v1/tenants/{tenant}/connections/{id}/posture`: the connection's posture as of its last
/// check (null before the first) and every change of it, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostureReport {
    /// The current posture.
    pub current: Option<PostureRow>,
    /// Its changes.
    pub history: Vec<PostureHistory>,
}

/// A cursor as the API hands it out: where a page or a feed ended, as base64url of its JSON, so
/// that clients treat it as one opaque token.
pub fn encode_cursor<T: Serialize>(position: &T) -> String {
    let json = serde_json::to_vec(position).unwrap_or_default();
    data_encoding::BASE64URL_NOPAD.encode(&json)
}

/// A cursor [`encode_cursor`] made, read back; `None` for anything else.
pub fn decode_cursor<T: serde::de::DeserializeOwned>(cursor: &str) -> Option<T> {
    let json = data_encoding::BASE64URL_NOPAD.decode(cursor.as_bytes()).ok()?;
    serde_json::from_slice(&json).ok()
}

/// Writes a secret into a request body (the wizard's side).
fn expose<S: Serializer>(secret: &Secret, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(secret.expose())
}

fn expose_optional<S: Serializer>(secret: &Option<Secret>, s: S) -> Result<S::Ok, S::Error> {
    match secret {
        Some(secret) => s.serialize_str(secret.expose()),
        None => s.serialize_none(),
    }
}

/// Reads a non-empty secret without leaving a copy behind.
fn secret<'de, D: Deserializer<'de>>(d: D) -> Result<Secret, D::Error> {
    let value = zeroize::Zeroizing::new(String::deserialize(d)?);
    if value.is_empty() {
        return Err(serde::de::Error::custom("the secret is empty"));
    }
    Ok(Secret::new(value.as_str()))
}

/// Reads an optional secret; an empty string is none.
fn optional_secret<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Secret>, D::Error> {
    let value = Option::<String>::deserialize(d)?.map(zeroize::Zeroizing::new);
    Ok(value.filter(|v| !v.is_empty()).map(|v| Secret::new(v.as_str())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn requests_round_trip_and_refuse_unknown_fields() {
        let role = json!({
            "role_arn": "arn:aws:iam::123456789012:role/Trustline",
            "external_id": "tl-0123456789abcdef",
            "expected_account_id": "123456789012",
            "data_sets": ["iam", "ec2-network"],
            "regions": ["eu-west-1"],
        });
        let parsed: VerifyRoleRequest = serde_json::from_value(role.clone()).unwrap();
        assert_eq!(serde_json::to_value(&parsed).unwrap(), role);
        let mut misspelt = role;
        misspelt["data_set"] = json!(["iam"]);
        let err = serde_json::from_value::<VerifyRoleRequest>(misspelt).unwrap_err().to_string();
        assert!(err.contains("unknown field `data_set`"), "{err}");
    }

    #[test]
    fn secrets_are_sent_but_never_debug_printed() {
        let keys = json!({
            "kind": "sts",
            "access_key_id": "AKIAEXAMPLE",
            "secret_access_key": "wJalrXUtnFEMI/K7MDENG",
            "session_token": null,
            "role_arn": "arn:aws:iam::123456789012:role/R",
            "external_id": null,
        });
        let parsed: VerifyKeysRequest = serde_json::from_value(keys.clone()).unwrap();
        assert_eq!(serde_json::to_value(&parsed).unwrap(), keys);
        assert!(!format!("{parsed:?}").contains("wJalr"));
        let empty = json!({ "kind": "access-key", "access_key_id": "AKIA", "secret_access_key": "", "data_sets": [] });
        assert!(
            serde_json::from_value::<VerifyKeysRequest>(empty).unwrap_err().to_string().contains("empty")
        );
    }

    #[test]
    fn cursors_read_back_and_refuse_anything_else() {
        let key = ("c-1".to_owned(), "global".to_owned(), "iam-user".to_owned(), "AIDA".to_owned());
        assert_eq!(decode_cursor(&encode_cursor(&key)), Some(key));
        assert_eq!(decode_cursor::<i64>(&encode_cursor(&42_i64)), Some(42));
        assert_eq!(decode_cursor::<i64>("not a cursor"), None);
        assert_eq!(decode_cursor::<i64>(&encode_cursor(&"text")), None);
    }

    #[test]
    fn a_report_reads_back_as_written() {
        let report = VerifyReport {
            verdict: Verdict::Failed,
            account_id: Some("123456789012".parse().unwrap()),
            checks: vec![Check::new(
                "assume_role",
                "Assume",
                CheckStatus::Fail,
                Some("AccessDenied"),
                "fix it",
            )],
        };
        let text = serde_json::to_string(&report).unwrap();
        assert!(text.contains(r#""verdict":"failed""#) && text.contains(r#""status":"fail""#), "{text}");
        assert_eq!(serde_json::from_str::<VerifyReport>(&text).unwrap(), report);
    }
}
