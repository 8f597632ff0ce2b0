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

/// The body of `POST /v1/connections`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    kind: IntegrationKind,
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    name: Option<String>,
    role_arn: RoleArn,
    external_id: ExternalId,
    data_sets: Vec<DataSet>,
    #[serde(default)]
    regions: Vec<Region>,
}

pub(super) async fn register(
    State(state): Shared,
    client: ConnectInfo<SocketAddr>,
    Body(req): Body<RegisterRequest>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    if req.kind != IntegrationKind::CrossAccountRole {
        // Key-based connections need their secret sealed at rest; this version stores secrets only
        // as references (env:VAR, file:/path), which an HTTP client cannot create.
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("kind"),
            "only cross-account-role connections can be registered through the API; add key-based ones with `trustline accounts add --secret env:VAR`",
        ));
    }
    check_verify_rate(&state, &client)?;
    let verify_req = RoleRequest {
        role_arn: req.role_arn.clone(),
        external_id: req.external_id.clone(),
        expected_account_id: None,
        data_sets: req.data_sets.clone(),
        regions: req.regions.clone(),
    };
    let report =
        verify::verify_role(&state.client, vendor(&state)?, &state.config.home_region, &verify_req).await;
    match report.verdict {
        Verdict::Verified => {}
        Verdict::Unsafe => {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                Some("role_arn"),
                "refused: the role can be assumed without your ExternalId (see POST /v1/verify/role for the checks); fix its trust policy first",
            ));
        }
        Verdict::Failed => {
            let failed: Vec<String> = report
                .checks
                .iter()
                .filter(|c| c.status == verify::Status::Fail)
                .map(|c| format!("{}: {}", c.id, c.message))
                .collect();
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                Some("role_arn"),
                format!("the connection did not verify: {}", failed.join(" ")),
            ));
        }
    }
    let account = report.account_id;
    let id = req.id.unwrap_or_else(|| {
        format!("aws-{}", account.map_or_else(|| req.role_arn.account_id().to_string(), |a| a.to_string()))
    });
    let connection = Connection {
        name: req.name.unwrap_or_else(|| id.clone()),
        id,
        kind: req.kind,
        account_id: account,
        role_arn: Some(req.role_arn),
        external_id: Some(req.external_id),
        access_key_id: None,
        secret_ref: None,
        data_sets: req.data_sets.into_iter().collect::<BTreeSet<_>>(),
        regions: req.regions,
        status: ConnectionStatus::Active,
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
        "data_sets": c.data_sets, "regions": c.regions,
        "status": match c.status { ConnectionStatus::Active => "active", ConnectionStatus::Suspended => "suspended" },
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
