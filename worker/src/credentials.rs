//! Credentials: the vendor's own, from the standard chain, and each connected account's, the
//! way its integration kind prescribes. Temporary credentials are cached and refreshed five
//! minutes before they expire (a quarter of their life for short sessions), so a long sync
//! never presents an expired session.

mod chain;
mod profile;

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;

use anyhow::{Context, Result};
use time::OffsetDateTime;
use trustline_core::aws::sts;
use trustline_core::{Credentials, ExternalId, Region, RoleArn};

use crate::client::AwsClient;

pub use chain::vendor_chain;

/// Refresh this long before expiry (the SDKs use the same window)...
const REFRESH_WINDOW: time::Duration = time::Duration::minutes(5);

/// ...or, for sessions shorter than 20 minutes, a quarter of their life before it, so that a
/// short session is still reused for most of its life.
fn refresh_window(lifetime: time::Duration) -> time::Duration {
    REFRESH_WINDOW.min(lifetime / 4)
}

/// How a provider gets fresh credentials.
enum Source {
    /// Long-lived keys (access-key kind, the vendor's env or profile keys).
    Static(Credentials),
    /// AssumeRole with the base provider's credentials.
    AssumeRole {
        base: Arc<Provider>,
        role: RoleArn,
        external_id: Option<ExternalId>,
        session_name: String,
        duration: u32,
        region: Region,
    },
    /// AssumeRoleWithWebIdentity with a token file (EKS IRSA).
    WebIdentity { role: RoleArn, token_file: PathBuf, session_name: String, region: Region },
    /// An HTTP credentials endpoint (ECS container credentials, EC2 IMDSv2).
    Endpoint(chain::HttpSource),
}

struct Cached {
    credentials: Credentials,
    expires: Option<OffsetDateTime>,
    fetched: OffsetDateTime,
}

/// A source of credentials with a cache. Cheap to share (`Arc`).
pub struct Provider {
    source: Source,
    description: String,
    cache: tokio::sync::Mutex<Option<Cached>>,
}

impl std::fmt::Debug for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the credentials themselves.
        f.debug_struct("Provider").field("source", &self.description).finish_non_exhaustive()
    }
}

impl Provider {
    fn new(source: Source, description: String) -> Arc<Provider> {
        Arc::new(Provider { source, description, cache: tokio::sync::Mutex::new(None) })
    }

    /// Fixed keys.
    pub fn fixed(credentials: Credentials, description: &str) -> Arc<Provider> {
        Provider::new(Source::Static(credentials), description.to_owned())
    }

    /// A role assumed with `base`'s credentials, with an ExternalId for third-party roles.
    pub fn assume_role(
        base: Arc<Provider>,
        role: RoleArn,
        external_id: Option<ExternalId>,
        session_name: &str,
        region: Region,
    ) -> Arc<Provider> {
        let description = format!("role {role} via {}", base.description);
        // Role chaining (assuming a role with a role's session) caps sessions at one hour.
        let source = Source::AssumeRole {
            base,
            role,
            external_id,
            session_name: session_name.to_owned(),
            duration: 3_600,
            region,
        };
        Provider::new(source, description)
    }

    /// What this provider is, for messages (never secrets).
    pub fn describe(&self) -> &str {
        &self.description
    }

    /// Forgets the cached credentials if they are still `used`, which AWS said had expired
    /// (if another call has refreshed them meanwhile, the fresh ones stay).
    pub async fn invalidate(&self, used: &Credentials) {
        let mut cache = self.cache.lock().await;
        if cache.as_ref().is_some_and(|c| c.credentials.access_key_id() == used.access_key_id()) {
            *cache = None;
        }
    }

    /// Current credentials, refreshed when missing or close to expiry (see [`refresh_window`]).
    pub fn get<'a>(
        &'a self,
        client: &'a AwsClient,
    ) -> Pin<Box<dyn Future<Output = Result<Credentials>> + Send + 'a>> {
        Box::pin(async move {
            let mut cache = self.cache.lock().await;
            if let Some(cached) = cache.as_ref() {
                let fresh = cached
                    .expires
                    .is_none_or(|e| e - refresh_window(e - cached.fetched) > OffsetDateTime::now_utc());
                if fresh {
                    return Ok(cached.credentials.clone());
                }
            }
            let (credentials, expires) =
                self.fetch(client).await.with_context(|| format!("credentials from {}", self.description))?;
            *cache = Some(Cached {
                credentials: credentials.clone(),
                expires,
                fetched: OffsetDateTime::now_utc(),
            });
            Ok(credentials)
        })
    }

    async fn fetch(&self, client: &AwsClient) -> Result<(Credentials, Option<OffsetDateTime>)> {
        match &self.source {
            Source::Static(c) => Ok((c.clone(), None)),
            Source::AssumeRole { base, role, external_id, session_name, duration, region } => {
                let mut op = sts::AssumeRole::new(role.clone(), session_name)?.duration_seconds(*duration)?;
                if let Some(id) = external_id {
                    op = op.external_id(id.clone());
                }
                let account = role.account_id().to_string();
                let assumed = client.call(&op, &account, region, base).await?;
                Ok((assumed.credentials, Some(assumed.expiration)))
            }
            Source::WebIdentity { role, token_file, session_name, region } => {
                let token = std::fs::read_to_string(token_file)
                    .with_context(|| format!("reading the web identity token {}", token_file.display()))?;
                let op = sts::AssumeRoleWithWebIdentity::new(
                    role.clone(),
                    session_name,
                    trustline_core::Secret::new(token.trim()),
                )?;
                let anonymous = Provider::fixed(Credentials::new("anonymous", "", None), "no credentials");
                let assumed = client.call(&op, &role.account_id().to_string(), region, &anonymous).await?;
                Ok((assumed.role.credentials, Some(assumed.role.expiration)))
            }
            Source::Endpoint(source) => source.fetch().await,
        }
    }
}
