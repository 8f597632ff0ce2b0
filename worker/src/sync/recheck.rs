//! The calls that re-verify a connection on every sync, before any inventory is read, and for
//! `trustline posture --check`. At most four per connection besides the sync's own:
//!
//! - two AssumeRoles that AWS must refuse: without an ExternalId, and with another value
//!   carrying the customer's prefix (what a `StringLike "prefix*"` condition would let through);
//!   the onboarding check presents more (see [`crate::serve::verify::decoys`]);
//! - `iam:GetRole` on the role itself, with the role's own session, for its trust policy;
//! - for the key kinds, `iam:ListAccessKeys` with the key itself, for its age (the key's own
//!   metadata: a user may list its own keys without naming itself).
//!
//! Each data set's permissions are probed by the sync's own calls (an AccessDenied names its
//! action, see [`super::Ctx`]); whether a key is the root user's is read from the sync's own
//! GetCallerIdentity. Nothing here is logged with a secret.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use trustline_core::aws::{AwsErrorKind, iam, sts};
use trustline_core::{Credentials, ExternalId, RoleArn};

use super::Ctx;
use super::posture::{Decoy, Key, Observations, Trust};
use crate::client::{CallError, CredentialsError};
use crate::credentials::Provider;
use crate::store::{Access, Connection, CustomerKey};

/// The decoys a sync presents (of [`crate::serve::verify::decoys`]'s): no ExternalId at all,
/// and another value with the customer's prefix.
const SYNC_DECOYS: [&str; 2] = ["external_id_required_missing", "external_id_required_same_prefix"];

/// How a decoy is described in a finding.
fn presented(id: &str) -> &'static str {
    match id {
        "external_id_required_missing" => "without an ExternalId",
        "external_id_required_same_prefix" => "with another ExternalId carrying your prefix",
        _ => "with an ExternalId other than yours",
    }
}

/// The customer's key as a provider (the STS and access-key kinds).
pub(crate) fn customer_key(c: &Connection, key: &CustomerKey) -> Result<Arc<Provider>, CredentialsError> {
    let secret = key.secret.read(&c.id).map_err(|e| CredentialsError::Secret(format!("{e:#}")))?;
    let credentials = Credentials::new(key.access_key_id.clone(), secret, None);
    Ok(Provider::fixed(credentials, &format!("{}'s access key", c.id)))
}

/// What the checks before the read observed; `identity` is the sync's own GetCallerIdentity.
pub(super) async fn before_read(
    ctx: &Ctx<'_>,
    c: &Connection,
    vendor: Option<&Arc<Provider>>,
    identity: &sts::CallerIdentity,
) -> Observations {
    let own = c.access.role_arn().map_or(identity.account, RoleArn::account_id);
    let mut o = Observations::new(Some(own));
    o.external_ids = c.access.external_id().into_iter().chain(c.access.next_external_id()).cloned().collect();
    match &c.access {
        Access::CrossAccountRole(t) | Access::Organization(t, _) => {
            o.decoys = decoys(
                ctx,
                &t.role,
                &t.external_id,
                vendor.cloned().ok_or_else(|| CredentialsError::NoVendor.to_string()),
            )
            .await;
            o.trust = trust(ctx, &t.role).await;
        }
        Access::Sts { role, external_id, key } => {
            o.foreign_accounts_allowed = 0;
            let base = customer_key(c, key).map_err(|e| e.to_string());
            if let Some(external_id) = external_id {
                o.decoys = decoys(ctx, role, external_id, base.clone()).await;
            }
            o.trust = trust(ctx, role).await;
            // AWS refuses AssumeRole with the root user's keys (STS API Reference, "AssumeRole"),
            // so a key that assumed the role is not root's.
            o.key = Some(own_key(ctx, key, base.ok().as_deref(), false).await);
        }
        Access::AccessKey(key) => {
            let root = identity.arn.to_string().ends_with(":root");
            o.key = Some(own_key(ctx, key, None, root).await);
        }
        Access::SameAccountRole => {}
    }
    o
}

/// Presents [`SYNC_DECOYS`] to AWS as `base` (the vendor, or for STS the customer's key).
async fn decoys(
    ctx: &Ctx<'_>,
    role: &RoleArn,
    real: &ExternalId,
    base: Result<Arc<Provider>, String>,
) -> Vec<(String, String, Decoy)> {
    let mut out = Vec::new();
    for (id, _, value) in crate::serve::verify::decoys(real) {
        if !SYNC_DECOYS.contains(&id) {
            continue;
        }
        let answer = match &base {
            Err(e) => Decoy::Unproven(e.clone()),
            Ok(base) => {
                ctx.calls.fetch_add(1, Ordering::Relaxed);
                let op = sts::AssumeRole::new(role.clone(), "trustline-posture").map(|op| match value {
                    Some(v) => op.external_id(v),
                    None => op,
                });
                let result = match op {
                    Ok(op) => {
                        ctx.client.call(&op, &ctx.account, ctx.home_region(), &**base).await.map(|_| ())
                    }
                    Err(e) => Err(CallError::Build(e)),
                };
                match result {
                    Ok(()) => Decoy::Accepted,
                    Err(e) if matches!(e.kind(), Some(AwsErrorKind::AccessDenied)) => Decoy::Refused,
                    Err(e) => Decoy::Unproven(e.to_string()),
                }
            }
        };
        if answer == Decoy::Accepted {
            tracing::warn!(role = %role, check = id, "the role can be assumed without the customer's exact ExternalId");
        }
        out.push((id.to_owned(), presented(id).to_owned(), answer));
    }
    out
}

/// The role's trust policy, read by its own session (GetRole).
async fn trust(ctx: &Ctx<'_>, role: &RoleArn) -> Trust {
    let op = match iam::GetRole::new(role.name()) {
        Ok(op) => op,
        Err(e) => return Trust::Unreadable(e.to_string()),
    };
    ctx.calls.fetch_add(1, Ordering::Relaxed);
    match ctx.client.call(&op, &ctx.account, ctx.home_region(), &ctx.credentials).await {
        Ok(r) => match r.assume_role_policy_document {
            Some(doc) => Trust::Document(doc),
            None => Trust::Unreadable("GetRole answered no AssumeRolePolicyDocument".into()),
        },
        Err(e) => Trust::Unreadable(e.to_string()),
    }
}

/// The customer's key: root or not, and its creation time from its own metadata
/// (ListAccessKeys without a user name lists the caller's keys), as `base` (the key itself)
/// or, for the access-key kind, the sync's own credentials (which are the key).
async fn own_key(ctx: &Ctx<'_>, key: &CustomerKey, base: Option<&Provider>, root: bool) -> Key {
    let mut out = Key { access_key_id: key.access_key_id.clone(), root, created: None };
    if root {
        // The root user has no IAM user to list keys of; the finding says enough.
        return out;
    }
    let op = iam::ListAccessKeys { user_name: None, paging: iam::Paging::default() };
    ctx.calls.fetch_add(1, Ordering::Relaxed);
    let answer = match base {
        Some(base) => ctx.client.call(&op, &ctx.account, ctx.home_region(), base).await,
        None => ctx.client.call(&op, &ctx.account, ctx.home_region(), &ctx.credentials).await,
    };
    match answer {
        Ok(page) => {
            out.created =
                page.items.iter().find(|k| k.access_key_id == key.access_key_id).map(|k| k.create_date);
        }
        Err(e) => {
            tracing::info!(error = %e, "the key's own metadata is not readable; its age is not checked")
        }
    }
    out
}
