//! `trustline serve`: the API behind the onboarding page and the vendor's backend
//! (docs/openapi.yaml, docs/verify-api.md).
//!
//! The vendor's customers (tenants) are the boundary. The operator's token (the vendor's backend)
//! manages tenants and creates short-lived browser sessions; a session can only verify, register
//! and read (connections, inventory, changes, events, runs) for its own tenant. Every ExternalId is issued by the worker and looked up on the
//! server. Every route is declared once in [`ROUTES`] with who may call it; the router and the
//! authorization check are both built from that table. The server answers only for its own host
//! names (DNS rebinding), refuses bodies over 64 KiB, times requests out, and rate-limits
//! verification per tenant. Secrets in requests are never echoed back or logged.

pub mod auth;
pub mod connections;
pub mod read;
mod static_files;
pub mod tenants;
pub mod verify;

use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, delete, get, post};
use axum::{Json, Router};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use serde::de::DeserializeOwned;
use serde_json::json;
use tower_http::cors::{AllowOrigin, CorsLayer};
use trustline_core::Region;
use trustline_core::api::{ErrorBody, ErrorResponse};

use crate::client::AwsClient;
use crate::config::TenantsConfig;
use crate::credentials::Provider;
use crate::store::Store;
use crate::sync::SyncOptions;

/// Largest request body accepted.
pub const BODY_LIMIT: usize = 64 * 1024;

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone (the health check).
    Public,
    /// The operator's token only: the vendor's backend.
    Operator,
    /// The operator, or a session of the tenant named in the path.
    Tenant,
}

/// One route: method, path (axum's syntax) and who may call it.
#[derive(Debug, Clone, Copy)]
pub struct RouteSpec {
    /// `GET`, `POST` or `DELETE`.
    pub method: &'static str,
    /// The path, with `{tenant}` and `{id}` parameters.
    pub path: &'static str,
    /// Who may call it.
    pub access: Access,
}

const fn route(method: &'static str, path: &'static str, access: Access) -> RouteSpec {
    RouteSpec { method, path, access }
}

/// Every route the API has. The router is built from this table alone, and the authorization
/// check reads each request's access from it, so a route cannot exist without a rule.
pub const ROUTES: &[RouteSpec] = &[
    route("GET", "/v1/health", Access::Public),
    route("POST", "/v1/tenants", Access::Operator),
    route("GET", "/v1/tenants", Access::Operator),
    route("GET", "/v1/tenants/{tenant}", Access::Operator),
    route("DELETE", "/v1/tenants/{tenant}", Access::Operator),
    route("POST", "/v1/tenants/{tenant}/sessions", Access::Operator),
    route("GET", "/v1/tenants/{tenant}/external-id", Access::Tenant),
    route("POST", "/v1/tenants/{tenant}/verify/role", Access::Tenant),
    route("POST", "/v1/tenants/{tenant}/verify/keys", Access::Tenant),
    route("POST", "/v1/tenants/{tenant}/connections", Access::Tenant),
    route("GET", "/v1/tenants/{tenant}/connections", Access::Tenant),
    route("GET", "/v1/tenants/{tenant}/connections/{id}", Access::Tenant),
    route("DELETE", "/v1/tenants/{tenant}/connections/{id}", Access::Operator),
    route("GET", "/v1/tenants/{tenant}/connections/{id}/sync", Access::Tenant),
    route("GET", "/v1/tenants/{tenant}/connections/{id}/posture", Access::Tenant),
    route("POST", "/v1/tenants/{tenant}/connections/{id}/sync", Access::Operator),
    route("POST", "/v1/tenants/{tenant}/connections/{id}/external-id/rotate", Access::Operator),
    route("POST", "/v1/tenants/{tenant}/connections/{id}/external-id/complete", Access::Operator),
    route("GET", "/v1/tenants/{tenant}/inventory", Access::Tenant),
    route("GET", "/v1/tenants/{tenant}/resource", Access::Tenant),
    route("GET", "/v1/tenants/{tenant}/changes", Access::Tenant),
    route("GET", "/v1/tenants/{tenant}/events", Access::Tenant),
    route("GET", "/v1/tenants/{tenant}/runs", Access::Tenant),
];

/// `GET /v1/health`: ok when the store answers (a load balancer's readiness check: a replica
/// whose store is unreachable takes no traffic), 503 naming the store otherwise.
async fn health(State(state): State<Arc<AppState>>) -> Result<Json<serde_json::Value>, ApiError> {
    state
        .with_reader(|state, store| {
            store.ping().map_err(|e| {
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    None,
                    format!("the store {} does not answer: {e:#}", state.config.store),
                )
            })
        })
        .await?;
    Ok(Json(json!({ "status": "ok" })))
}

/// The handler of a route in [`ROUTES`].
fn handler(spec: &RouteSpec) -> MethodRouter<Arc<AppState>> {
    use {connections as c, read as r, tenants as t};
    match (spec.method, spec.path) {
        ("GET", "/v1/health") => get(health),
        ("POST", "/v1/tenants") => post(t::create),
        ("GET", "/v1/tenants") => get(t::list),
        ("GET", "/v1/tenants/{tenant}") => get(t::show),
        ("DELETE", "/v1/tenants/{tenant}") => delete(t::remove),
        ("POST", "/v1/tenants/{tenant}/sessions") => post(t::create_session),
        ("GET", "/v1/tenants/{tenant}/external-id") => get(t::external_id),
        ("POST", "/v1/tenants/{tenant}/verify/role") => post(c::verify_role),
        ("POST", "/v1/tenants/{tenant}/verify/keys") => post(c::verify_keys),
        ("POST", "/v1/tenants/{tenant}/connections") => post(c::register),
        ("GET", "/v1/tenants/{tenant}/connections") => get(c::list),
        ("GET", "/v1/tenants/{tenant}/connections/{id}") => get(c::show),
        ("DELETE", "/v1/tenants/{tenant}/connections/{id}") => delete(c::remove),
        ("GET", "/v1/tenants/{tenant}/connections/{id}/sync") => get(c::last_sync),
        ("GET", "/v1/tenants/{tenant}/connections/{id}/posture") => get(c::posture),
        ("POST", "/v1/tenants/{tenant}/connections/{id}/sync") => post(c::trigger_sync),
        ("POST", "/v1/tenants/{tenant}/connections/{id}/external-id/rotate") => post(c::rotate_external_id),
        ("POST", "/v1/tenants/{tenant}/connections/{id}/external-id/complete") => post(c::complete_rotation),
        ("GET", "/v1/tenants/{tenant}/inventory") => get(r::inventory),
        ("GET", "/v1/tenants/{tenant}/resource") => get(r::resource),
        ("GET", "/v1/tenants/{tenant}/changes") => get(r::changes),
        ("GET", "/v1/tenants/{tenant}/events") => get(r::events),
        ("GET", "/v1/tenants/{tenant}/runs") => get(r::runs),
        (method, path) => unreachable!("ROUTES names {method} {path}, which has no handler"),
    }
}

/// What the server needs.
#[derive(Debug)]
pub struct ServeConfig {
    /// The operator's bearer token (the vendor's backend; never sent to a browser).
    pub token: trustline_core::Secret,
    /// Origins allowed by CORS (`https://dashboard.example.com`).
    pub allowed_origins: Vec<String>,
    /// The host names (with or without port) the server answers for; anything else is refused,
    /// so a DNS-rebinding page cannot reach it through the browser.
    pub public_hosts: Vec<String>,
    /// Proxies whose `X-Forwarded-For` is believed: behind one, verification is also limited per
    /// client address.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Verify calls per minute per tenant (and per client behind a trusted proxy).
    pub verify_per_minute: u32,
    /// How long one request may take.
    pub request_timeout: Duration,
    /// Where the store is.
    pub store: crate::store::Location,
    /// Home region for STS and IAM.
    pub home_region: Region,
    /// Sync settings for triggered syncs.
    pub sync: SyncOptions,
    /// What tenants are issued.
    pub tenants: TenantsConfig,
    /// Accept region names this build does not know.
    pub allow_unknown_regions: bool,
    /// The vendor's principal (for the customer's trust policy), handed to onboarding sessions.
    pub vendor_principal: Option<String>,
    /// The operator's key for sealing the secrets of key-based connections registered through
    /// the API; without it those registrations are refused.
    pub seal: Option<crate::seal::SealKey>,
    /// Serve these files (the built onboarding page) at `/`, so page and API share one origin.
    pub static_dir: Option<std::path::PathBuf>,
    /// Webhook delivery timing: the server sends the outbox's events while it runs.
    pub webhooks: crate::config::WebhooksConfig,
}

pub(crate) struct AppState {
    config: ServeConfig,
    client: Arc<AwsClient>,
    vendor: Option<Arc<Provider>>,
    verify_limiter: DefaultKeyedRateLimiter<String>,
    /// The API's own store handle: short writes only (registrations, removals, sessions). A
    /// triggered sync writes through its own handle, so the API never waits for a sync. Locked
    /// only inside [`AppState::with_store`]'s blocking task, so a plain mutex: it is never held
    /// across an `.await`.
    store: Mutex<Store>,
    /// Connections whose triggered sync is queued or running.
    syncing: Mutex<std::collections::BTreeSet<String>>,
    /// One triggered sync at a time: each reads many accounts at once already.
    sync_slot: Arc<tokio::sync::Semaphore>,
    /// Cancelled when the server stops: triggered syncs start no new account and finish.
    shutdown: tokio_util::sync::CancellationToken,
    /// Triggered syncs, so that stopping waits for them to record their end.
    tasks: tokio_util::task::TaskTracker,
}

impl AppState {
    /// Runs `f` with the API's store handle, on a thread for blocking work: rusqlite waits on
    /// the disk and, while another handle writes, on SQLite's busy timeout, and either would
    /// stall every other request on that runtime worker (tokio's `spawn_blocking` docs: a
    /// blocking call in a future "may prevent the executor from driving other futures forward").
    pub(crate) async fn with_store<T: Send + 'static>(
        self: &Arc<Self>,
        f: impl FnOnce(&AppState, &mut Store) -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let state = Arc::clone(self);
        blocking(move || {
            // A panic while it was held leaves no half-done work: rusqlite rolls back an
            // unfinished transaction when it is dropped.
            let mut store = state.store.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            f(&state, &mut store)
        })
        .await
    }

    /// Runs `f` with a read-only handle of its own (reads never queue behind the API's writes),
    /// opened and used on a thread for blocking work, as in [`AppState::with_store`].
    pub(crate) async fn with_reader<T: Send + 'static>(
        self: &Arc<Self>,
        f: impl FnOnce(&AppState, &Store) -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let state = Arc::clone(self);
        blocking(move || {
            let store = Store::open_read_only_unchecked_pages(&state.config.store)
                .map_err(|e| ApiError::internal(&e))?;
            f(&state, &store)
        })
        .await
    }
}

/// `f` on tokio's blocking pool. If the request is dropped meanwhile (its timeout), `f` still
/// runs to its end, so a write is never cut in half.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    match tokio::task::spawn_blocking(f).await {
        Ok(result) => result,
        Err(e) => Err(ApiError::internal(&anyhow::anyhow!("a store task did not finish: {e}"))),
    }
}

/// A running server's handle for stopping it: cancel, then wait for what it started.
#[derive(Debug, Clone)]
pub struct Shutdown {
    /// Cancelled to stop.
    pub token: tokio_util::sync::CancellationToken,
    /// The server's background tasks (triggered syncs, webhook deliveries).
    pub tasks: tokio_util::task::TaskTracker,
}

/// An API error: a status and `{"error": {"field", "message"}}`.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    field: Option<String>,
    message: String,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, field: Option<&str>, message: impl Into<String>) -> Self {
        ApiError { status, field: field.map(str::to_owned), message: message.into() }
    }
    pub(crate) fn internal(err: &anyhow::Error) -> Self {
        tracing::error!("internal error: {err:#}");
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, None, "internal error; see the worker's log")
    }
    pub(crate) fn invalid(field: &str, message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, Some(field), message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(ErrorResponse { error: ErrorBody { field: self.field, message: self.message } }))
            .into_response()
    }
}

/// A JSON body whose errors name the field: `role_arn: 'x' is a role name, not a role ARN…`.
pub(crate) struct Body<T>(pub(crate) T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = match axum::body::Bytes::from_request(req, state).await {
            Ok(b) => b,
            Err(e) => {
                return Err(ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    None,
                    format!("the request body is too large or unreadable (limit {BODY_LIMIT} bytes): {e}"),
                ));
            }
        };
        // Every body is a JSON object (serde would also fill a struct from an array).
        if let Some(first) = bytes.iter().find(|b| !b.is_ascii_whitespace())
            && *first != b'{'
        {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                "the body must be a JSON object",
            ));
        }
        // An empty body is an empty object, so that bodiless POSTs with optional fields work.
        let bytes = if bytes.iter().all(u8::is_ascii_whitespace) {
            axum::body::Bytes::from_static(b"{}")
        } else {
            bytes
        };
        let mut de = serde_json::Deserializer::from_slice(&bytes);
        match serde_path_to_error::deserialize::<_, T>(&mut de) {
            Ok(value) => Ok(Body(value)),
            Err(err) => {
                let path = err.path().to_string();
                let inner = err.into_inner();
                let text = inner.to_string();
                // Missing and unknown fields are reported at the parent; name the field itself.
                let field = if let Some(name) = text
                    .split('`')
                    .nth(1)
                    .filter(|_| text.starts_with("missing field") || text.starts_with("unknown field"))
                {
                    name.to_owned()
                } else if path == "." {
                    String::new()
                } else {
                    path
                };
                let message = text.split(" at line ").next().unwrap_or(&text).to_owned();
                let field = (!field.is_empty()).then_some(field);
                Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, field.as_deref(), message))
            }
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(e: JsonRejection) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, None, e.body_text())
    }
}

/// Builds the router from [`ROUTES`].
pub fn router(
    config: ServeConfig,
    client: AwsClient,
    vendor: Option<Arc<Provider>>,
    shutdown: &Shutdown,
) -> anyhow::Result<Router> {
    auth::check_operator_token(config.token.expose())?;
    let per_minute = NonZeroU32::new(config.verify_per_minute.max(1)).unwrap_or(NonZeroU32::MIN);
    let store = Store::open(&config.store)?;
    // Webhook deliveries, on a handle of their own, until the server stops.
    let deliverer = crate::webhooks::deliver::Deliverer::from_env(store.sibling()?, &config.webhooks)?;
    shutdown.tasks.spawn(deliverer.run(shutdown.token.clone()));
    let static_dir = config.static_dir.clone();
    let timeout = config.request_timeout;
    let origins: Vec<HeaderValue> = config.allowed_origins.iter().filter_map(|o| o.parse().ok()).collect();
    let cors = CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([Method::GET, Method::POST, Method::DELETE])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE]);
    let state = Arc::new(AppState {
        config,
        client: Arc::new(client),
        vendor,
        verify_limiter: RateLimiter::keyed(Quota::per_minute(per_minute)),
        store: Mutex::new(store),
        syncing: Mutex::new(std::collections::BTreeSet::new()),
        sync_slot: Arc::new(tokio::sync::Semaphore::new(1)),
        shutdown: shutdown.token.clone(),
        tasks: shutdown.tasks.clone(),
    });
    auth::spawn_limiter_eviction(&state);
    let mut api = Router::new();
    for spec in ROUTES {
        api = api.route(spec.path, handler(spec));
    }
    let api = api.route_layer(middleware::from_fn_with_state(state.clone(), auth::authorize));
    let router = match static_dir {
        Some(dir) => api.fallback_service(static_files::service(dir)?),
        None => api.fallback(|| async {
            ApiError::new(StatusCode::NOT_FOUND, None, "no such endpoint; see docs/openapi.yaml")
        }),
    };
    Ok(router
        .layer(axum::extract::DefaultBodyLimit::max(BODY_LIMIT))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, timeout))
        .layer(cors)
        .layer(middleware::from_fn_with_state(state.clone(), auth::check_host))
        .with_state(state))
}

/// Serves until `shutdown` is cancelled, then waits for the syncs it started to finish (they
/// start no new account once cancelled).
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: Shutdown,
) -> anyhow::Result<()> {
    let token = shutdown.token.clone();
    axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(async move { token.cancelled().await })
        .await?;
    shutdown.tasks.close();
    shutdown.tasks.wait().await;
    Ok(())
}
