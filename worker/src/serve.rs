//! `trustline serve`: the verify and registration API behind the onboarding page
//! (docs/verify-api.md, docs/openapi.yaml).
//!
//! Every route but `/v1/health` needs `Authorization: Bearer <token>`; CORS answers only the
//! configured dashboard origins; bodies over 64 KiB are refused; verify calls are rate-limited
//! per client because each one costs STS calls on the vendor's account. Secrets in requests are
//! never echoed back or logged.

pub mod connections;
mod static_files;
pub mod verify;

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;

use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, FromRequest, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use serde::de::DeserializeOwned;
use serde_json::json;
use tower_http::cors::{AllowOrigin, CorsLayer};
use trustline_core::Region;

use crate::client::AwsClient;
use crate::credentials::Provider;
use crate::sync::SyncOptions;

/// Largest request body accepted.
pub const BODY_LIMIT: usize = 64 * 1024;

/// What the server needs.
#[derive(Debug)]
pub struct ServeConfig {
    /// The bearer token clients must present.
    pub token: trustline_core::Secret,
    /// Origins allowed by CORS (`https://dashboard.example.com`).
    pub allowed_origins: Vec<String>,
    /// Verify calls per minute per client address.
    pub verify_per_minute: u32,
    /// The store's file.
    pub store_path: std::path::PathBuf,
    /// Home region for STS and IAM.
    pub home_region: Region,
    /// Sync settings for triggered syncs.
    pub sync: SyncOptions,
    /// The operator's key for sealing the secrets of key-based connections registered through
    /// the API; without it those registrations are refused.
    pub seal: Option<crate::seal::SealKey>,
    /// Serve these files (the built onboarding page) at `/`, so page and API share one origin.
    pub static_dir: Option<std::path::PathBuf>,
}

pub(crate) struct AppState {
    config: ServeConfig,
    client: AwsClient,
    vendor: Option<Arc<Provider>>,
    verify_limiter: DefaultKeyedRateLimiter<IpAddr>,
    /// The one writer; reads open their own read-only handle (WAL lets them run alongside).
    writer: Arc<tokio::sync::Mutex<crate::store::Store>>,
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
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(json!({ "error": { "field": self.field, "message": self.message } })))
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

/// Builds the router.
pub fn router(
    config: ServeConfig,
    client: AwsClient,
    vendor: Option<Arc<Provider>>,
) -> anyhow::Result<Router> {
    let per_minute = NonZeroU32::new(config.verify_per_minute.max(1)).unwrap_or(NonZeroU32::MIN);
    let writer = crate::store::Store::open(&config.store_path)?;
    let static_dir = config.static_dir.clone();
    let origins: Vec<HeaderValue> = config.allowed_origins.iter().filter_map(|o| o.parse().ok()).collect();
    let cors = CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([Method::GET, Method::POST, Method::DELETE])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE]);
    let state = Arc::new(AppState {
        config,
        client,
        vendor,
        verify_limiter: RateLimiter::keyed(Quota::per_minute(per_minute)),
        writer: Arc::new(tokio::sync::Mutex::new(writer)),
    });
    let api = Router::new()
        .route("/v1/verify/role", post(connections::verify_role))
        .route("/v1/verify/keys", post(connections::verify_keys))
        .route("/v1/connections", post(connections::register).get(connections::list))
        .route("/v1/connections/{id}", get(connections::show).delete(connections::remove))
        .route("/v1/connections/{id}/sync", post(connections::trigger_sync).get(connections::last_sync))
        .route_layer(middleware::from_fn_with_state(state.clone(), authenticate));
    let router =
        Router::new().route("/v1/health", get(|| async { Json(json!({ "status": "ok" })) })).merge(api);
    let router = match static_dir {
        Some(dir) => router.fallback_service(static_files::service(dir)?),
        None => router.fallback(|| async {
            ApiError::new(StatusCode::NOT_FOUND, None, "no such endpoint; see docs/openapi.yaml")
        }),
    };
    Ok(router.layer(axum::extract::DefaultBodyLimit::max(BODY_LIMIT)).layer(cors).with_state(state))
}

/// Every route but health needs the operator's bearer token (compared in constant time).
async fn authenticate(State(state): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    let expected = state.config.token.expose().as_bytes();
    let given = presented.as_bytes();
    let same = given.len() == expected.len()
        && given.iter().zip(expected).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0;
    if !same {
        return ApiError::new(
            StatusCode::UNAUTHORIZED,
            None,
            "missing or wrong bearer token (Authorization: Bearer <token>)",
        )
        .into_response();
    }
    next.run(request).await
}

/// Refuses a client that verifies too often.
pub(crate) fn check_verify_rate(state: &AppState, client: &ConnectInfo<SocketAddr>) -> Result<(), ApiError> {
    state.verify_limiter.check_key(&client.0.ip()).map_err(|_| {
        ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            None,
            format!("too many verification attempts from this address (limit {} per minute); wait a minute and try again", state.config.verify_per_minute),
        )
    })
}

/// Serves until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown)
        .await?;
    Ok(())
}
