//! Credentials: the vendor's own, from the standard chain, and each connected account's, the
//! way its integration kind prescribes. Temporary credentials are cached and refreshed five
//! minutes before they expire (a quarter of their life for short sessions), so a long sync
//! never presents an expired session.

mod chain;

use std::future::Future;
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
        /// During an ExternalId rotation, the new one: tried when the current one is refused
        /// (the customer has already moved its trust policy to the new one).
        next_external_id: Option<ExternalId>,
        session_name: String,
        duration: u32,
        region: Region,
    },
    /// The AWS SDK's default credential chain (the vendor's own credentials).
    Sdk(aws_credential_types::provider::SharedCredentialsProvider),
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

/// STS's limit on RoleSessionName (2–64 characters of `[\w+=,.@-]`, AssumeRole API reference).
const MAX_SESSION_NAME: usize = 64;

/// A session name that fits STS's 64 characters: long names keep their start and end a short
/// digest of the whole, so two long names stay apart.
pub fn fit_session_name(name: &str) -> String {
    if name.len() <= MAX_SESSION_NAME {
        return name.to_owned();
    }
    use sha2::Digest;
    let digest = data_encoding::HEXLOWER.encode(&sha2::Sha256::digest(name.as_bytes())[..6]);
    let keep = MAX_SESSION_NAME - digest.len() - 1;
    // Session names are ASCII (ids and a fixed prefix), so any byte index is a char boundary.
    let head: String = name.chars().take(keep).collect();
    format!("{head}-{digest}")
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
        Provider::assume_role_rotating(base, role, external_id, None, session_name, region)
    }

    /// [`Provider::assume_role`] during an ExternalId rotation: `next_external_id` is tried
    /// when AWS refuses the current one.
    pub fn assume_role_rotating(
        base: Arc<Provider>,
        role: RoleArn,
        external_id: Option<ExternalId>,
        next_external_id: Option<ExternalId>,
        session_name: &str,
        region: Region,
    ) -> Arc<Provider> {
        let description = format!("role {role} via {}", base.description);
        // Role chaining (assuming a role with a role's session) caps sessions at one hour.
        let source = Source::AssumeRole {
            base,
            role,
            external_id,
            next_external_id,
            session_name: fit_session_name(session_name),
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
            Source::AssumeRole {
                base,
                role,
                external_id,
                next_external_id,
                session_name,
                duration,
                region,
            } => {
                let op = |id: Option<&ExternalId>| -> Result<sts::AssumeRole> {
                    let op = sts::AssumeRole::new(role.clone(), session_name)?.duration_seconds(*duration)?;
                    Ok(match id {
                        Some(id) => op.external_id(id.clone()),
                        None => op,
                    })
                };
                let account = role.account_id().to_string();
                let assumed = match client.call(&op(external_id.as_ref())?, &account, region, base).await {
                    Ok(assumed) => assumed,
                    Err(e)
                        if next_external_id.is_some()
                            && matches!(e.kind(), Some(trustline_core::aws::AwsErrorKind::AccessDenied)) =>
                    {
                        client.call(&op(next_external_id.as_ref())?, &account, region, base).await?
                    }
                    Err(e) => return Err(e.into()),
                };
                Ok((assumed.credentials, Some(assumed.expiration)))
            }
            Source::Sdk(chain) => chain::fetch(chain).await,
        }
    }
}

#[cfg(test)]
mod session_name_tests {
    use super::fit_session_name;

    #[test]
    fn session_names_always_fit_sts() {
        assert_eq!(fit_session_name("trustline-acme"), "trustline-acme");
        let long = format!("trustline-{}", "a".repeat(60));
        let other = format!("trustline-{}b", "a".repeat(59));
        let (a, b) = (fit_session_name(&long), fit_session_name(&other));
        assert_eq!(a.len(), 64);
        assert_ne!(a, b, "two long names stay apart");
        assert!(a.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-'));
    }
}
