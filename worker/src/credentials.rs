//! Credentials: the vendor's own, from the standard chain, and each connected account's, the
//! way its integration kind prescribes. Temporary credentials are cached and refreshed five
//! minutes before they expire (a quarter of their life for short sessions), so a long sync
//! never presents an expired session.

mod chain;

use std::future::Future;
use std::sync::Arc;

use time::OffsetDateTime;
use trustline_core::aws::{AwsErrorKind, sts};
use trustline_core::{Credentials, ExternalId, Region, RoleArn};

use crate::client::{AwsClient, CallError, CredentialSource, CredentialsError};

pub use chain::vendor_chain;

/// Refresh this long before expiry (the SDKs use the same window)...
const REFRESH_WINDOW: time::Duration = time::Duration::minutes(5);

/// ...or, for sessions shorter than 20 minutes, a quarter of their life before it, so that a
/// short session is still reused for most of its life.
fn refresh_window(lifetime: time::Duration) -> time::Duration {
    REFRESH_WINDOW.min(lifetime / 4)
}

struct Cached {
    credentials: Credentials,
    expires: Option<OffsetDateTime>,
    fetched: OffsetDateTime,
}

/// The last credentials a provider fetched. The lock is held while fetching, so concurrent
/// callers wait for one fetch instead of each sending their own AssumeRole.
#[derive(Default)]
struct Cache(tokio::sync::Mutex<Option<Cached>>);

impl Cache {
    /// The cached credentials, or `fetch`'s when missing or close to expiry (see
    /// [`refresh_window`]).
    async fn get<F>(&self, fetch: impl FnOnce() -> F) -> Result<Credentials, CredentialsError>
    where
        F: Future<Output = Result<(Credentials, Option<OffsetDateTime>), CredentialsError>>,
    {
        let mut cache = self.0.lock().await;
        if let Some(cached) = cache.as_ref() {
            let fresh = cached
                .expires
                .is_none_or(|e| e - refresh_window(e - cached.fetched) > OffsetDateTime::now_utc());
            if fresh {
                return Ok(cached.credentials.clone());
            }
        }
        let (credentials, expires) = fetch().await?;
        *cache =
            Some(Cached { credentials: credentials.clone(), expires, fetched: OffsetDateTime::now_utc() });
        Ok(credentials)
    }

    async fn invalidate(&self, used: &Credentials) {
        let mut cache = self.0.lock().await;
        if cache.as_ref().is_some_and(|c| c.credentials.access_key_id() == used.access_key_id()) {
            *cache = None;
        }
    }
}

/// How a [`Provider`] gets fresh credentials: without any call of Trustline's own.
enum Source {
    /// Long-lived keys (access-key kind, a verified role's session, a customer's key).
    Static(Credentials),
    /// The AWS SDK's default credential chain (the vendor's own credentials).
    Sdk(aws_credential_types::provider::SharedCredentialsProvider),
}

/// Credentials that Trustline does not fetch through its own client: fixed keys, or the SDK's
/// chain (which makes its own calls). Cheap to share (`Arc`): the vendor's is one for the
/// whole worker, so every role assumed with it shares its cache.
pub struct Provider {
    source: Source,
    description: String,
    cache: Cache,
}

impl std::fmt::Debug for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the credentials themselves.
        f.debug_struct("Provider").field("source", &self.description).finish_non_exhaustive()
    }
}

impl Provider {
    fn new(source: Source, description: String) -> Arc<Provider> {
        Arc::new(Provider { source, description, cache: Cache::default() })
    }

    /// Fixed keys.
    pub fn fixed(credentials: Credentials, description: &str) -> Arc<Provider> {
        Provider::new(Source::Static(credentials), description.to_owned())
    }

    /// What this provider is, for messages (never secrets).
    pub fn describe(&self) -> &str {
        &self.description
    }

    async fn fetch(&self) -> Result<(Credentials, Option<OffsetDateTime>), CredentialsError> {
        match &self.source {
            Source::Static(c) => Ok((c.clone(), None)),
            Source::Sdk(chain) => chain::fetch(chain)
                .await
                .map_err(|message| CredentialsError::Chain { from: self.description.clone(), message }),
        }
    }
}

impl CredentialSource for Provider {
    async fn credentials(&self, _client: &AwsClient) -> Result<Credentials, CredentialsError> {
        self.cache.get(|| self.fetch()).await
    }

    async fn invalidate(&self, used: &Credentials) {
        self.cache.invalidate(used).await;
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

/// A role assumed with a [`Provider`]'s credentials, with an ExternalId for third-party roles.
///
/// The base is a [`Provider`], never another role: fetching a role's session calls
/// [`AwsClient::call`] with the base, and a base that could itself call the client would make
/// the future recursive, which Rust can only build boxed. No connection kind chains two of
/// Trustline's AssumeRoles (the SDK chain may assume a role of its own; that happens inside it).
pub struct RoleProvider {
    base: Arc<Provider>,
    role: RoleArn,
    external_id: Option<ExternalId>,
    /// During an ExternalId rotation, the new one: tried when the current one is refused
    /// (the customer has already moved its trust policy to the new one).
    next_external_id: Option<ExternalId>,
    session_name: String,
    duration: u32,
    region: Region,
    description: String,
    cache: Cache,
}

impl std::fmt::Debug for RoleProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RoleProvider").field("source", &self.description).finish_non_exhaustive()
    }
}

impl RoleProvider {
    /// `role`, assumed with `base`'s credentials (and `external_id`, when it requires one).
    pub fn new(
        base: Arc<Provider>,
        role: RoleArn,
        external_id: Option<ExternalId>,
        session_name: &str,
        region: Region,
    ) -> RoleProvider {
        RoleProvider::rotating(base, role, external_id, None, session_name, region)
    }

    /// [`RoleProvider::new`] during an ExternalId rotation: `next_external_id` is tried when
    /// AWS refuses the current one.
    pub fn rotating(
        base: Arc<Provider>,
        role: RoleArn,
        external_id: Option<ExternalId>,
        next_external_id: Option<ExternalId>,
        session_name: &str,
        region: Region,
    ) -> RoleProvider {
        let description = format!("role {role} via {}", base.description);
        RoleProvider {
            base,
            role,
            external_id,
            next_external_id,
            session_name: fit_session_name(session_name),
            // Role chaining (assuming a role with a role's session) caps sessions at one hour.
            duration: 3_600,
            region,
            description,
            cache: Cache::default(),
        }
    }

    /// What this provider is, for messages (never secrets).
    pub fn describe(&self) -> &str {
        &self.description
    }

    async fn assume(
        &self,
        client: &AwsClient,
        external_id: Option<&ExternalId>,
    ) -> Result<sts::AssumedRole, CallError> {
        let op = sts::AssumeRole::new(self.role.clone(), &self.session_name)
            .and_then(|op| op.duration_seconds(self.duration))
            .map_err(CallError::Build)?;
        let op = match external_id {
            Some(id) => op.external_id(id.clone()),
            None => op,
        };
        client.call(&op, &self.role.account_id().to_string(), &self.region, &*self.base).await
    }

    async fn fetch(
        &self,
        client: &AwsClient,
    ) -> Result<(Credentials, Option<OffsetDateTime>), CredentialsError> {
        let assumed = match self.assume(client, self.external_id.as_ref()).await {
            Err(e) if self.next_external_id.is_some() && e.kind() == Some(AwsErrorKind::AccessDenied) => {
                self.assume(client, self.next_external_id.as_ref()).await
            }
            result => result,
        };
        match assumed {
            Ok(assumed) => Ok((assumed.credentials, Some(assumed.expiration))),
            Err(e) => Err(CredentialsError::Assume { from: self.description.clone(), error: Box::new(e) }),
        }
    }
}

impl CredentialSource for RoleProvider {
    async fn credentials(&self, client: &AwsClient) -> Result<Credentials, CredentialsError> {
        self.cache.get(|| self.fetch(client)).await
    }

    async fn invalidate(&self, used: &Credentials) {
        self.cache.invalidate(used).await;
    }
}

/// A connection's credentials, as its kind prescribes: a provider's own (keys, or the vendor's
/// for a same-account role), or a role assumed with them.
#[derive(Debug)]
pub enum AccountCredentials {
    /// Used as they are.
    Direct(Arc<Provider>),
    /// A role assumed with them.
    Role(Box<RoleProvider>),
}

impl CredentialSource for AccountCredentials {
    async fn credentials(&self, client: &AwsClient) -> Result<Credentials, CredentialsError> {
        match self {
            AccountCredentials::Direct(p) => p.credentials(client).await,
            AccountCredentials::Role(r) => r.credentials(client).await,
        }
    }

    async fn invalidate(&self, used: &Credentials) {
        match self {
            AccountCredentials::Direct(p) => p.invalidate(used).await,
            AccountCredentials::Role(r) => r.invalidate(used).await,
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
