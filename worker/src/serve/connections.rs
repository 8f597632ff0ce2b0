//! A tenant's connections: verify, register, list/show/remove, syncs, ExternalId rotation.
//!
//! Every handler works inside the tenant named in the path (the authorization check has already
//! matched a session to it); another tenant's connection is simply not found. The ExternalId is
//! never taken on trust from the body: it is the one the worker issued to the tenant.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Json;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, StatusCode};
use serde::Serialize;
use trustline_core::api::{
    self, ConnectionList, RegisterRequest, RotationCompleted, RotationStarted, SecretStorage, SyncStarted,
    SyncState,
};
use trustline_core::{ExternalId, IntegrationKind, Region};

use super::auth::check_verify_rate;
use super::tenants::{existing, internal};
use super::verify::{self, Verdict, VerifyKeysRequest, VerifyReport, VerifyRoleRequest};
use super::{ApiError, AppState, Body};
use crate::store::{
    Access, AccountRun, AddRefused, Connection, ConnectionStatus, CustomerKey, SecretRef, Store, TrustedRole,
};

type Shared = State<Arc<AppState>>;

/// More regions than any partition has (AWS lists 37 as of 2026): a longer list is a mistake.
pub const MAX_REGIONS: usize = 40;

fn vendor(state: &AppState) -> Result<&Arc<crate::credentials::Provider>, ApiError> {
    state.vendor.as_ref().ok_or_else(|| {
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, None, "the worker has no AWS credentials of its own, so it cannot assume customers' roles; configure them (environment, profile, or the platform's role) and restart it")
    })
}

fn no_data_sets() -> ApiError {
    ApiError::invalid("data_sets", "choose at least one data set: iam, ec2-network, cloudtrail")
}

/// Regions as given, deduplicated, at most [`MAX_REGIONS`], each one AWS has (unless the
/// operator allows regions newer than this build).
pub(crate) fn check_regions(state: &AppState, regions: &[Region]) -> Result<Vec<Region>, ApiError> {
    let mut seen = BTreeSet::new();
    let unique: Vec<Region> =
        regions.iter().filter(|r| seen.insert(r.as_str().to_owned())).cloned().collect();
    if unique.len() > MAX_REGIONS {
        return Err(ApiError::invalid(
            "regions",
            format!(
                "name at most {MAX_REGIONS} regions (got {}), or none to read every enabled region",
                unique.len()
            ),
        ));
    }
    if !state.config.allow_unknown_regions {
        for (i, region) in unique.iter().enumerate() {
            crate::text::check_region(region).map_err(|e| ApiError::invalid(&format!("regions[{i}]"), e))?;
        }
    }
    Ok(unique)
}

/// The ExternalId for a request: the tenant's issued one, or the one the body names if (and
/// only if) it was issued to this tenant and is still in force.
fn tenant_external_id(
    state: &AppState,
    store: &mut Store,
    tenant: &str,
    named: Option<&ExternalId>,
) -> Result<ExternalId, ApiError> {
    let now = time::OffsetDateTime::now_utc();
    match named {
        Some(id) => {
            if store.usable_external_id(tenant, id, now).map_err(internal)? {
                Ok(id.clone())
            } else {
                Err(ApiError::invalid(
                    "external_id",
                    "this ExternalId was not issued to this customer (or has expired); omit it and Trustline uses the one it issued",
                ))
            }
        }
        None => {
            let tenants = &state.config.tenants;
            let issued = store
                .onboarding_external_id(tenant, now, tenants.unused_ttl(), || tenants.issue_external_id())
                .map_err(internal)?;
            Ok(issued.external_id)
        }
    }
}

pub(super) async fn verify_role(
    State(state): Shared,
    Path(tenant): Path<String>,
    peer: ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Body(req): Body<VerifyRoleRequest>,
) -> Result<Json<VerifyReport>, ApiError> {
    if req.data_sets.is_empty() {
        return Err(no_data_sets());
    }
    check_regions(&state, &req.regions)?;
    let (named, in_tenant) = (req.external_id.clone(), tenant.clone());
    let external_id = state
        .with_store(move |state, store| {
            existing(store, &in_tenant)?;
            tenant_external_id(state, store, &in_tenant, named.as_ref())
        })
        .await?;
    check_verify_rate(&state, &tenant, Some(&peer), &headers)?;
    let vendor = vendor(&state)?;
    Ok(Json(verify::verify_role(&state.client, vendor, &state.config.home_region, &req, &external_id).await))
}

pub(super) async fn verify_keys(
    State(state): Shared,
    Path(tenant): Path<String>,
    peer: ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Body(req): Body<VerifyKeysRequest>,
) -> Result<Json<VerifyReport>, ApiError> {
    if !matches!(req.kind, IntegrationKind::Sts | IntegrationKind::AccessKey) {
        return Err(ApiError::invalid("kind", "keys are verified for the sts and access-key kinds only"));
    }
    check_access_key_id(&req.access_key_id)?;
    let (named, in_tenant) = (req.external_id.clone(), tenant.clone());
    state
        .with_store(move |state, store| {
            existing(store, &in_tenant)?;
            if let Some(named) = &named {
                tenant_external_id(state, store, &in_tenant, Some(named))?;
            }
            Ok(())
        })
        .await?;
    check_verify_rate(&state, &tenant, Some(&peer), &headers)?;
    Ok(Json(verify::verify_keys(&state.client, &state.config.home_region, &req).await))
}

/// An access key ID is letters, digits and `_` (IAM's AccessKeyId pattern `[\w]+`); anything
/// else cannot be signed into a request header, and would only cost a round of retries.
fn check_access_key_id(id: &str) -> Result<(), ApiError> {
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return Err(ApiError::invalid(
            "access_key_id",
            "an access key ID is letters and digits only (AKIA…); copy it again",
        ));
    }
    Ok(())
}

fn missing(field: &'static str, what: &str) -> ApiError {
    ApiError::invalid(field, format!("{field} is required {what}"))
}

/// Turns a verification that did not pass into the registration's refusal.
fn refusal(report: &VerifyReport, field: &'static str) -> Option<ApiError> {
    match report.verdict {
        Verdict::Verified => None,
        Verdict::Unsafe => Some(ApiError::invalid(
            field,
            "refused: the role can be assumed without your ExternalId (see the verify route's checks); fix its trust policy first",
        )),
        Verdict::Failed => {
            let failed: Vec<String> = report
                .checks
                .iter()
                .filter(|c| c.status == verify::CheckStatus::Fail)
                .map(|c| format!("{}: {}", c.id, c.message))
                .collect();
            Some(ApiError::invalid(field, format!("the connection did not verify: {}", failed.join(" "))))
        }
    }
}

fn refused_add(e: anyhow::Error) -> ApiError {
    match e.downcast_ref::<AddRefused>() {
        Some(r @ (AddRefused::RoleConnected(_) | AddRefused::OtherTenant | AddRefused::IdTaken)) => {
            ApiError::new(StatusCode::CONFLICT, Some("role_arn"), r.to_string())
        }
        Some(r @ AddRefused::ExternalIdNotIssued) => ApiError::invalid("external_id", r.to_string()),
        Some(r @ AddRefused::Quota(_)) => ApiError::new(StatusCode::FORBIDDEN, None, r.to_string()),
        Some(r @ AddRefused::NoTenant) => ApiError::new(StatusCode::NOT_FOUND, Some("tenant"), r.to_string()),
        None => ApiError::invalid("body", format!("{e:#}")),
    }
}

/// Registers a connection once it verifies, and starts its first sync; key-based ones keep
/// their secret sealed.
pub(super) async fn register(
    State(state): Shared,
    Path(tenant): Path<String>,
    peer: ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Body(req): Body<RegisterRequest>,
) -> Result<(StatusCode, Json<api::Connection>), ApiError> {
    if req.data_sets.is_empty() {
        return Err(no_data_sets());
    }
    // Everything that can be checked without AWS is checked first, so a bad body costs no call.
    let regions = check_regions(&state, &req.regions)?;
    if let Some(name) = &req.name {
        crate::text::check_name("name", name).map_err(|e| ApiError::invalid("name", e))?;
    }
    let keys = match req.kind {
        IntegrationKind::CrossAccountRole => {
            if req.role_arn.is_none() {
                return Err(missing("role_arn", "for a cross-account-role connection"));
            }
            if req.access_key_id.is_some() || req.secret_access_key.is_some() {
                return Err(ApiError::invalid(
                    "access_key_id",
                    "a cross-account-role connection takes no keys: Trustline assumes the role with its own credentials",
                ));
            }
            None
        }
        IntegrationKind::Sts | IntegrationKind::AccessKey => {
            let what = if req.kind == IntegrationKind::Sts {
                "for an sts connection"
            } else {
                "for an access-key connection"
            };
            if req.kind == IntegrationKind::Sts && req.role_arn.is_none() {
                return Err(missing("role_arn", what));
            }
            let key = req.access_key_id.clone().ok_or_else(|| missing("access_key_id", what))?;
            check_access_key_id(&key)?;
            let secret = req.secret_access_key.clone().ok_or_else(|| missing("secret_access_key", what))?;
            if state.config.seal.is_none() {
                return Err(ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    Some("kind"),
                    format!(
                        "this worker cannot store customer secrets: the operator has not set {} (see `trustline seal-key`)",
                        crate::seal::KEY_ENV
                    ),
                ));
            }
            Some(VerifyKeysRequest {
                kind: req.kind,
                access_key_id: key,
                secret_access_key: secret,
                session_token: None,
                role_arn: req.role_arn.clone(),
                external_id: req.external_id.clone(),
            })
        }
        IntegrationKind::SameAccountRole => {
            return Err(ApiError::invalid(
                "kind",
                "a same-account-role connection is the worker's own credentials: add it where the worker runs, with `trustline accounts add --kind same-account-role`",
            ));
        }
    };
    // The tenant, its quota, and the ExternalId: all from the store, none from the body.
    let (kind, named, in_tenant) = (req.kind, req.external_id.clone(), tenant.clone());
    let (tenant_row, external_id) = state
        .with_store(move |state, store| {
            let t = existing(store, &in_tenant)?;
            if store.tenant_connection_count(&in_tenant).map_err(internal)? >= t.max_connections {
                return Err(refused_add(AddRefused::Quota(t.max_connections).into()));
            }
            let ext = match (kind, &named) {
                // A role's connection always has one: the issued one unless the body names another.
                (IntegrationKind::CrossAccountRole, named) => {
                    Some(tenant_external_id(state, store, &in_tenant, named.as_ref())?)
                }
                (_, Some(named)) => Some(tenant_external_id(state, store, &in_tenant, Some(named))?),
                (_, None) => None,
            };
            Ok((t, ext))
        })
        .await?;
    check_verify_rate(&state, &tenant, Some(&peer), &headers)?;
    let report = match &keys {
        None => {
            let role_arn = req.role_arn.clone().ok_or_else(|| missing("role_arn", ""))?;
            let external_id = external_id.clone().ok_or_else(|| missing("external_id", ""))?;
            let verify_req = VerifyRoleRequest {
                role_arn,
                external_id: None,
                expected_account_id: None,
                data_sets: req.data_sets.clone(),
                regions: regions.clone(),
            };
            let vendor = vendor(&state)?;
            verify::verify_role(&state.client, vendor, &state.config.home_region, &verify_req, &external_id)
                .await
        }
        Some(keys) => verify::verify_keys(&state.client, &state.config.home_region, keys).await,
    };
    let field = if keys.is_some() { "access_key_id" } else { "role_arn" };
    if let Some(refused) = refusal(&report, field) {
        return Err(refused);
    }
    let id = crate::store::new_connection_id();
    // Every field was checked above for its kind; what a kind needs and lacks is a bug here.
    let key = match (&keys, &state.config.seal) {
        (Some(keys), Some(seal)) => Some(CustomerKey {
            access_key_id: keys.access_key_id.clone(),
            secret: SecretRef::Sealed(
                seal.seal(&keys.secret_access_key, &id).map_err(|e| ApiError::internal(&e))?,
            ),
        }),
        _ => None,
    };
    let lacking =
        |what: &str| ApiError::internal(&anyhow::anyhow!("a checked registration lacks its {what}"));
    let access = match req.kind {
        IntegrationKind::CrossAccountRole => Access::CrossAccountRole(TrustedRole {
            role: req.role_arn.ok_or_else(|| lacking("role"))?,
            external_id: external_id.ok_or_else(|| lacking("ExternalId"))?,
            next_external_id: None,
        }),
        IntegrationKind::Sts => Access::Sts {
            role: req.role_arn.ok_or_else(|| lacking("role"))?,
            external_id,
            key: key.ok_or_else(|| lacking("key"))?,
        },
        IntegrationKind::AccessKey => Access::AccessKey(key.ok_or_else(|| lacking("key"))?),
        IntegrationKind::SameAccountRole => return Err(lacking("kind")),
    };
    let connection = Connection {
        name: req.name.unwrap_or_else(|| id.clone()),
        id,
        tenant: tenant.clone(),
        access,
        account_id: report.account_id,
        data_sets: req.data_sets.into_iter().collect::<BTreeSet<_>>(),
        regions,
        status: ConnectionStatus::Active,
        parent: None,
    };
    let max = tenant_row.max_connections;
    let connection = state
        .with_store(move |_, store| {
            store.add_verified_connection(&connection, Some(max)).map_err(refused_add)?;
            Ok(connection)
        })
        .await?;
    start_sync(&state, &connection.id);
    let mut body = connection_body(&connection, None);
    body.first_sync = Some(SyncState::Started);
    Ok((StatusCode::CREATED, Json(body)))
}

fn connection_body(c: &Connection, posture: Option<api::Posture>) -> api::Connection {
    api::Connection {
        id: c.id.clone(),
        tenant: c.tenant.clone(),
        name: c.name.clone(),
        kind: c.access.kind(),
        account_id: c.account_id,
        role_arn: c.access.role_arn().cloned(),
        external_id: c.access.external_id().cloned(),
        next_external_id: c.access.next_external_id().cloned(),
        access_key_id: c.access.key().map(|k| k.access_key_id.clone()),
        secret: c.access.key().map(|k| match k.secret {
            SecretRef::Sealed(_) => SecretStorage::Sealed,
            _ => SecretStorage::Reference,
        }),
        data_sets: c.data_sets.iter().copied().collect(),
        regions: c.regions.clone(),
        status: c.status,
        parent: c.parent.clone(),
        posture,
        first_sync: None,
    }
}

pub(super) async fn list(
    State(state): Shared,
    Path(tenant): Path<String>,
) -> Result<Json<ConnectionList>, ApiError> {
    let connections = state
        .with_reader(move |_, store| {
            existing(store, &tenant)?;
            // Each connection's own posture row (a cached statement): never another tenant's.
            let list = store.tenant_connections(&tenant).map_err(internal)?;
            list.iter()
                .map(|c| {
                    let posture = store.posture(&c.id).map_err(internal)?.map(|p| p.posture);
                    Ok(connection_body(c, posture))
                })
                .collect()
        })
        .await?;
    Ok(Json(ConnectionList { connections }))
}

fn not_found(id: &str) -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, Some("id"), format!("no connection '{id}'"))
}

fn find(store: &Store, tenant: &str, id: &str) -> Result<Connection, ApiError> {
    store.tenant_connection(tenant, id).map_err(internal)?.ok_or_else(|| not_found(id))
}

pub(super) async fn show(
    State(state): Shared,
    Path((tenant, id)): Path<(String, String)>,
) -> Result<Json<api::Connection>, ApiError> {
    let body = state
        .with_reader(move |_, store| {
            let connection = find(store, &tenant, &id)?;
            let posture = store.posture(&id).map_err(internal)?.map(|p| p.posture);
            Ok(connection_body(&connection, posture))
        })
        .await?;
    Ok(Json(body))
}

/// `GET …/connections/{id}/posture`: the posture as of the last check, and its history.
pub(super) async fn posture(
    State(state): Shared,
    Path((tenant, id)): Path<(String, String)>,
) -> Result<Json<api::PostureReport>, ApiError> {
    let report = state
        .with_reader(move |_, store| {
            find(store, &tenant, &id)?;
            Ok(api::PostureReport {
                current: store.posture(&id).map_err(internal)?,
                history: store.posture_history(&id).map_err(internal)?,
            })
        })
        .await?;
    Ok(Json(report))
}

/// Whether any of these connections has a triggered sync queued or running.
pub(super) fn any_syncing(state: &AppState, ids: &[String]) -> bool {
    let running = state.syncing.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    ids.iter().any(|id| running.contains(id))
}

pub(super) async fn remove(
    State(state): Shared,
    Path((tenant, id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    state
        .with_store(move |state, store| {
            find(store, &tenant, &id)?;
            // Removing rows a running sync is about to write would leave them orphaned: answer
            // at once instead of waiting for the sync.
            if any_syncing(state, std::slice::from_ref(&id)) {
                return Err(ApiError::new(
                    StatusCode::CONFLICT,
                    None,
                    "this connection's sync is running; try again when it has finished",
                ));
            }
            store.remove_connection(&id).map_err(internal)
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Queues a sync of one connection; false if one is already queued or running. Syncs run one
/// at a time, each on its own store handle, so the API's writes never wait for them.
fn start_sync(state: &Arc<AppState>, id: &str) -> bool {
    {
        let mut running = state.syncing.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if !running.insert(id.to_owned()) {
            return false;
        }
    }
    let task_state = state.clone();
    let id = id.to_owned();
    state.tasks.spawn(async move {
        let result = async {
            let _permit = task_state.sync_slot.clone().acquire_owned().await?;
            // Opening a handle is file work: off the runtime's threads, like the API's own.
            let opener = task_state.clone();
            let mut store = tokio::task::spawn_blocking(move || {
                opener.store.lock().unwrap_or_else(std::sync::PoisonError::into_inner).sibling()
            })
            .await??;
            crate::sync::run(
                &mut store,
                &task_state.client,
                task_state.vendor.clone(),
                &task_state.config.sync,
                Some(&id),
                None,
                &task_state.shutdown,
            )
            .await
        }
        .await;
        if let Err(e) = result {
            tracing::error!(connection = %id, "triggered sync failed: {e:#}");
        }
        task_state.syncing.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(&id);
    });
    true
}

pub(super) async fn trigger_sync(
    State(state): Shared,
    Path((tenant, id)): Path<(String, String)>,
) -> Result<(StatusCode, Json<SyncStarted>), ApiError> {
    let in_tenant = tenant.clone();
    let found = id.clone();
    state.with_reader(move |_, store| find(store, &in_tenant, &found)).await?;
    if !start_sync(&state, &id) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            None,
            "a sync of this connection is already running; try again when it has finished",
        ));
    }
    Ok((StatusCode::ACCEPTED, Json(SyncStarted { status: SyncState::Started })))
}

/// The answer to `GET …/connections/{id}/sync`.
#[derive(Debug, Serialize)]
pub struct SyncStatus {
    /// Whether a triggered sync is queued or running.
    pub running: bool,
    /// The connection's part of the last run, if it was ever synced.
    pub last: Option<AccountRun>,
}

pub(super) async fn last_sync(
    State(state): Shared,
    Path((tenant, id)): Path<(String, String)>,
) -> Result<Json<SyncStatus>, ApiError> {
    let (running, last) = state
        .with_reader(move |state, store| {
            find(store, &tenant, &id)?;
            let running = any_syncing(state, std::slice::from_ref(&id));
            Ok((running, store.last_account_run(&id).map_err(internal)?))
        })
        .await?;
    Ok(Json(SyncStatus { running, last }))
}

/// Rotation's first step: a new ExternalId for the connection, accepted beside the old one.
pub(super) async fn rotate_external_id(
    State(state): Shared,
    Path((tenant, id)): Path<(String, String)>,
) -> Result<(StatusCode, Json<RotationStarted>), ApiError> {
    let (c, issued) = state
        .with_store(move |state, store| {
            let c = find(store, &tenant, &id)?;
            if c.access.kind() != IntegrationKind::CrossAccountRole || c.parent.is_some() {
                return Err(ApiError::invalid(
                    "id",
                    "only a cross-account-role connection (or an Organization connection, for all its members) has an ExternalId to rotate",
                ));
            }
            if c.access.next_external_id().is_some() {
                return Err(ApiError::new(
                    StatusCode::CONFLICT,
                    None,
                    "a rotation is already in progress; complete it first",
                ));
            }
            let tenants = &state.config.tenants;
            let issued = store
                .issue_external_id(&tenant, time::OffsetDateTime::now_utc(), None, || tenants.issue_external_id())
                .map_err(internal)?;
            store.begin_rotation(&id, &issued.external_id).map_err(internal)?;
            Ok((c, issued))
        })
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(RotationStarted {
            external_id: issued.external_id,
            previous: c.access.external_id().cloned(),
            next_step: "Have the customer change the role's trust policy to require the new ExternalId (the stack's ExternalId parameter); until then Trustline accepts both. Then complete the rotation, which proves the old one is refused.".into(),
        }),
    ))
}

/// Rotation's last step: proves (by AssumeRole) that the role accepts the new ExternalId and
/// refuses the old one, then retires the old one.
pub(super) async fn complete_rotation(
    State(state): Shared,
    Path((tenant, id)): Path<(String, String)>,
) -> Result<Json<RotationCompleted>, ApiError> {
    let found = id.clone();
    let c = state.with_reader(move |_, store| find(store, &tenant, &found)).await?;
    let (Some(old), Some(new), Some(role)) =
        (&c.access.external_id(), &c.access.next_external_id(), &c.access.role_arn())
    else {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            None,
            "no rotation is in progress for this connection",
        ));
    };
    let vendor = vendor(&state)?;
    let home = &state.config.home_region;
    let proof = verify::prove_rotation(&state.client, vendor, home, role, old, new).await;
    if let Err(message) = proof {
        return Err(ApiError::new(StatusCode::CONFLICT, None, message));
    }
    state.with_store(move |_, store| store.complete_rotation(&id).map_err(internal)).await?;
    Ok(Json(RotationCompleted {
        external_id: (*new).clone(),
        retired: (*old).clone(),
        proof: "AWS refused AssumeRole with the old ExternalId (AccessDenied) and accepted the new one."
            .into(),
    }))
}
