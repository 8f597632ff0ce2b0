//! The API's handlers: verify, register, list/show/remove, trigger and read syncs.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use axum::Json;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use trustline_core::policy::permissions::DataSet;
use trustline_core::{ExternalId, IntegrationKind, Region, RoleArn};

use super::verify::{self, KeysRequest, RoleRequest, Verdict};
use super::{ApiError, AppState, Body, check_verify_rate};
use crate::store::{Connection, ConnectionStatus, Store};

type Shared = State<Arc<AppState>>;

fn vendor(state: &AppState) -> Result<&Arc<crate::credentials::Provider>, ApiError> {
    state.vendor.as_ref().ok_or_else(|| {
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, None, "the worker has no AWS credentials of its own, so it cannot assume customers' roles; configure them (environment, profile, or the platform's role) and restart it")
    })
}

fn reader(state: &AppState) -> Result<Store, ApiError> {
    Store::open_read_only(&state.config.store_path).map_err(|e| ApiError::internal(&e))
}

pub(super) async fn verify_role(
    State(state): Shared,
    client: ConnectInfo<SocketAddr>,
    Body(req): Body<RoleRequest>,
) -> Result<Json<verify::Report>, ApiError> {
    check_verify_rate(&state, &client)?;
    if req.data_sets.is_empty() {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("data_sets"),
            "choose at least one data set: iam, ec2-network, cloudtrail",
        ));
    }
    let vendor = vendor(&state)?;
    Ok(Json(verify::verify_role(&state.client, vendor, &state.config.home_region, &req).await))
}

pub(super) async fn verify_keys(
    State(state): Shared,
    client: ConnectInfo<SocketAddr>,
    Body(req): Body<KeysRequest>,
) -> Result<Json<verify::Report>, ApiError> {
    check_verify_rate(&state, &client)?;
    if !matches!(req.kind, IntegrationKind::Sts | IntegrationKind::AccessKey) {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("kind"),
            "keys are verified for the sts and access-key kinds only",
        ));
    }
    Ok(Json(verify::verify_keys(&state.client, &state.config.home_region, &req).await))
}

/// The body of `POST /v1/connections`: a role (cross-account-role), or a customer's key
/// (access-key), or both (sts).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    kind: IntegrationKind,
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    role_arn: Option<RoleArn>,
    #[serde(default)]
    external_id: Option<ExternalId>,
    #[serde(default)]
    access_key_id: Option<String>,
    #[serde(default, deserialize_with = "verify::optional_secret")]
    secret_access_key: Option<trustline_core::Secret>,
    data_sets: Vec<DataSet>,
    #[serde(default)]
    regions: Vec<Region>,
}

fn missing(field: &'static str, what: &str) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, Some(field), format!("{field} is required {what}"))
}

/// Turns a verification that did not pass into the registration's refusal.
fn refusal(report: &verify::Report, field: &'static str) -> Option<ApiError> {
    match report.verdict {
        Verdict::Verified => None,
        Verdict::Unsafe => Some(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(field),
            "refused: the role can be assumed without your ExternalId (see POST /v1/verify/role for the checks); fix its trust policy first",
        )),
        Verdict::Failed => {
            let failed: Vec<String> = report
                .checks
                .iter()
                .filter(|c| c.status == verify::Status::Fail)
                .map(|c| format!("{}: {}", c.id, c.message))
                .collect();
            Some(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(field),
                format!("the connection did not verify: {}", failed.join(" ")),
            ))
        }
    }
}

/// Registers a connection once it verifies; key-based ones keep their secret sealed.
pub(super) async fn register(
    State(state): Shared,
    client: ConnectInfo<SocketAddr>,
    Body(req): Body<RegisterRequest>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    if req.data_sets.is_empty() {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("data_sets"),
            "choose at least one data set: iam, ec2-network, cloudtrail",
        ));
    }
    // Everything that can be checked without AWS is checked first, so a bad body costs no call.
    let keys = match req.kind {
        IntegrationKind::CrossAccountRole => {
            if req.role_arn.is_none() {
                return Err(missing("role_arn", "for a cross-account-role connection"));
            }
            if req.external_id.is_none() {
                return Err(missing("external_id", "for a cross-account-role connection"));
            }
            if req.access_key_id.is_some() || req.secret_access_key.is_some() {
                return Err(ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    Some("access_key_id"),
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
            Some(KeysRequest {
                kind: req.kind,
                access_key_id: key,
                secret_access_key: secret,
                session_token: None,
                role_arn: req.role_arn.clone(),
                external_id: req.external_id.clone(),
            })
        }
        IntegrationKind::SameAccountRole => {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                Some("kind"),
                "a same-account-role connection is the worker's own credentials: add it where the worker runs, with `trustline accounts add --kind same-account-role`",
            ));
        }
    };
    if let Some(id) = &req.id {
        crate::store::Connection::check_id(id)
            .map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, Some("id"), format!("{e:#}")))?;
    }
    check_verify_rate(&state, &client)?;
    let report = match &keys {
        None => {
            let verify_req = RoleRequest {
                role_arn: req.role_arn.clone().ok_or_else(|| missing("role_arn", ""))?,
                external_id: req.external_id.clone().ok_or_else(|| missing("external_id", ""))?,
                expected_account_id: None,
                data_sets: req.data_sets.clone(),
                regions: req.regions.clone(),
            };
            verify::verify_role(&state.client, vendor(&state)?, &state.config.home_region, &verify_req).await
        }
        Some(keys) => verify::verify_keys(&state.client, &state.config.home_region, keys).await,
    };
    let field = if keys.is_some() { "access_key_id" } else { "role_arn" };
    if let Some(refused) = refusal(&report, field) {
        return Err(refused);
    }
    let account = report.account_id;
    let id = req.id.unwrap_or_else(|| {
        let fallback =
            || req.role_arn.as_ref().map_or_else(|| "unknown".to_owned(), |r| r.account_id().to_string());
        format!("aws-{}", account.map_or_else(fallback, |a| a.to_string()))
    });
    let secret_ref = match (&keys, &state.config.seal) {
        (Some(keys), Some(seal)) => Some(crate::store::SecretRef::Sealed(
            seal.seal(&keys.secret_access_key, &id).map_err(|e| ApiError::internal(&e))?,
        )),
        _ => None,
    };
    let connection = Connection {
        name: req.name.unwrap_or_else(|| id.clone()),
        id,
        kind: req.kind,
        account_id: account,
        role_arn: req.role_arn,
        external_id: req.external_id,
        access_key_id: keys.map(|k| k.access_key_id),
        secret_ref,
        data_sets: req.data_sets.into_iter().collect::<BTreeSet<_>>(),
        regions: req.regions,
        status: ConnectionStatus::Active,
        org: None,
        parent: None,
    };
    let mut store = state.writer.lock().await;
    if store.connection(&connection.id).map_err(|e| ApiError::internal(&e))?.is_some() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            Some("id"),
            format!("a connection '{}' already exists", connection.id),
        ));
    }
    store
        .add_connection(&connection)
        .map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, None, format!("{e:#}")))?;
    Ok((StatusCode::CREATED, Json(connection_json(&connection))))
}

fn connection_json(c: &Connection) -> Value {
    json!({
        "id": c.id, "name": c.name, "kind": c.kind, "account_id": c.account_id, "role_arn": c.role_arn,
        "access_key_id": c.access_key_id, "secret": c.secret_ref.as_ref().map(|r| match r {
            crate::store::SecretRef::Sealed(_) => "sealed",
            _ => "reference",
        }),
        "data_sets": c.data_sets, "regions": c.regions,
        "status": c.status.as_str(), "parent": c.parent,
    })
}

pub(super) async fn list(State(state): Shared) -> Result<Json<Value>, ApiError> {
    let store = reader(&state)?;
    let list = store.connections().map_err(|e| ApiError::internal(&e))?;
    Ok(Json(json!({ "connections": list.iter().map(connection_json).collect::<Vec<_>>() })))
}

fn not_found(id: &str) -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, Some("id"), format!("no connection '{id}'"))
}

pub(super) async fn show(State(state): Shared, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    let store = reader(&state)?;
    let c = store.connection(&id).map_err(|e| ApiError::internal(&e))?.ok_or_else(|| not_found(&id))?;
    Ok(Json(connection_json(&c)))
}

pub(super) async fn remove(State(state): Shared, Path(id): Path<String>) -> Result<StatusCode, ApiError> {
    let mut store = state.writer.lock().await;
    if store.remove_connection(&id).map_err(|e| ApiError::internal(&e))? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(not_found(&id))
    }
}

pub(super) async fn trigger_sync(
    State(state): Shared,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    if reader(&state)?.connection(&id).map_err(|e| ApiError::internal(&e))?.is_none() {
        return Err(not_found(&id));
    }
    let Ok(mut guard) = state.writer.clone().try_lock_owned() else {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            None,
            "a sync is already running; try again when it has finished",
        ));
    };
    let task_state = state.clone();
    tokio::spawn(async move {
        let stop = AtomicBool::new(false);
        let vendor = task_state.vendor.clone();
        let result = crate::sync::run(
            &mut guard,
            &task_state.client,
            vendor,
            &task_state.config.sync,
            Some(&id),
            &stop,
        )
        .await;
        if let Err(e) = result {
            tracing::error!(connection = %id, "triggered sync failed: {e:#}");
        }
    });
    Ok((StatusCode::ACCEPTED, Json(json!({ "status": "started" }))))
}

pub(super) async fn last_sync(State(state): Shared, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    let store = reader(&state)?;
    if store.connection(&id).map_err(|e| ApiError::internal(&e))?.is_none() {
        return Err(not_found(&id));
    }
    let running = state.writer.try_lock().is_err();
    let last = store.last_account_run(&id).map_err(|e| ApiError::internal(&e))?;
    Ok(Json(json!({ "running": running, "last": last })))
}
