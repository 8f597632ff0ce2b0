//! Tenants, their onboarding sessions and their issued ExternalId.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use trustline_core::api::{self, CreateSession, CreateTenant, SessionCreated, TenantList};

use super::{ApiError, AppState, Body};
use crate::store::{Store, Tenant};

type Shared = State<Arc<AppState>>;

fn no_tenant(id: &str) -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, Some("tenant"), format!("no tenant '{id}'"))
}

pub(crate) fn internal(e: anyhow::Error) -> ApiError {
    ApiError::internal(&e)
}

/// The tenant named in the path, or 404.
pub(super) fn existing(store: &Store, id: &str) -> Result<Tenant, ApiError> {
    store.tenant(id).map_err(internal)?.ok_or_else(|| no_tenant(id))
}

fn tenant_body(t: Tenant, connections: u32) -> api::Tenant {
    api::Tenant {
        id: t.id,
        name: t.name,
        max_connections: t.max_connections,
        connections,
        created_at: t.created_at,
    }
}

pub(super) async fn create(
    State(state): Shared,
    Body(req): Body<CreateTenant>,
) -> Result<(StatusCode, Json<api::Tenant>), ApiError> {
    Tenant::check_id(&req.id).map_err(|e| ApiError::invalid("id", format!("{e:#}")))?;
    let name = req.name.unwrap_or_else(|| req.id.clone());
    crate::text::check_name("name", &name).map_err(|e| ApiError::invalid("name", e))?;
    let max = req.max_connections.unwrap_or(state.config.tenants.max_connections);
    let id = req.id;
    let tenant = state
        .with_store(move |_, store| {
            if store.tenant(&id).map_err(internal)?.is_some() {
                return Err(ApiError::new(
                    StatusCode::CONFLICT,
                    Some("id"),
                    format!("a tenant '{id}' already exists"),
                ));
            }
            store.add_tenant(&id, &name, max).map_err(internal)
        })
        .await?;
    Ok((StatusCode::CREATED, Json(tenant_body(tenant, 0))))
}

pub(super) async fn list(State(state): Shared) -> Result<Json<TenantList>, ApiError> {
    let out = state
        .with_store(|_, store| {
            let mut out = Vec::new();
            for t in store.tenants().map_err(internal)? {
                let connections = store.tenant_connection_count(&t.id).map_err(internal)?;
                out.push(tenant_body(t, connections));
            }
            Ok(out)
        })
        .await?;
    Ok(Json(TenantList { tenants: out }))
}

pub(super) async fn show(
    State(state): Shared,
    Path(tenant): Path<String>,
) -> Result<Json<api::Tenant>, ApiError> {
    let body = state
        .with_store(move |_, store| {
            let t = existing(store, &tenant)?;
            let connections = store.tenant_connection_count(&t.id).map_err(internal)?;
            Ok(tenant_body(t, connections))
        })
        .await?;
    Ok(Json(body))
}

pub(super) async fn remove(State(state): Shared, Path(tenant): Path<String>) -> Result<StatusCode, ApiError> {
    state
        .with_store(move |state, store| {
            existing(store, &tenant)?;
            let ids: Vec<String> =
                store.tenant_connections(&tenant).map_err(internal)?.into_iter().map(|c| c.id).collect();
            if super::connections::any_syncing(state, &ids) {
                return Err(ApiError::new(
                    StatusCode::CONFLICT,
                    None,
                    "a sync of this customer's connections is running; try again when it has finished",
                ));
            }
            store.remove_tenant(&tenant).map_err(internal)
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The tenant's onboarding ExternalId, issued now if it has none in force.
fn onboarding(
    state: &AppState,
    store: &mut Store,
    tenant: &str,
) -> Result<crate::store::IssuedExternalId, ApiError> {
    let tenants = &state.config.tenants;
    store
        .onboarding_external_id(tenant, time::OffsetDateTime::now_utc(), tenants.unused_ttl(), || {
            tenants.issue_external_id()
        })
        .map_err(internal)
}

pub(super) async fn create_session(
    State(state): Shared,
    Path(tenant): Path<String>,
    Body(req): Body<CreateSession>,
) -> Result<(StatusCode, Json<SessionCreated>), ApiError> {
    let seconds = req.ttl_seconds.unwrap_or(state.config.tenants.session_seconds);
    if !(60..=3600).contains(&seconds) {
        return Err(ApiError::invalid(
            "ttl_seconds",
            format!("a session lasts 60 to 3600 seconds (one hour at most), got {seconds}"),
        ));
    }
    let body = state
        .with_store(move |state, store| {
            existing(store, &tenant)?;
            let issued = onboarding(state, store, &tenant)?;
            let mut random = [0u8; 32];
            getrandom::fill(&mut random).map_err(|e| {
                internal(anyhow::anyhow!("the operating system's random number generator failed: {e}"))
            })?;
            let (token, session) = store
                .create_session(
                    &tenant,
                    time::OffsetDateTime::now_utc(),
                    time::Duration::seconds(seconds.into()),
                    random,
                )
                .map_err(internal)?;
            Ok(SessionCreated {
                token,
                tenant,
                expires_at: crate::store::timestamp(session.expires_at),
                external_id: issued.external_id,
                external_id_expires_at: issued.expires_at,
                vendor_principal: state.config.vendor_principal.clone(),
            })
        })
        .await?;
    Ok((StatusCode::CREATED, Json(body)))
}

pub(super) async fn external_id(
    State(state): Shared,
    Path(tenant): Path<String>,
) -> Result<Json<api::IssuedExternalId>, ApiError> {
    let issued = state
        .with_store(move |state, store| {
            existing(store, &tenant)?;
            onboarding(state, store, &tenant)
        })
        .await?;
    Ok(Json(api::IssuedExternalId {
        external_id: issued.external_id,
        issued_at: issued.issued_at,
        expires_at: issued.expires_at,
    }))
}
