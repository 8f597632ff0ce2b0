//! IAM inventory (once per account): users, groups, roles, local policies and the AWS-managed
//! policies attached to something, from GetAccountAuthorizationDetails, plus every user's access
//! keys (ListAccessKeys, concurrently within the account's IAM rate).

use futures::stream::{self, StreamExt, TryStreamExt};
use serde_json::json;
use trustline_core::aws::iam::{
    AccessKey, CredentialReport, GenerateCredentialReport, GetCredentialReport, ListAccessKeys, Paging,
};
use trustline_core::aws::iam::{
    AttachedPolicy, AuthorizationDetails, DetailFilter, GetAccountAuthorizationDetails, InlinePolicy,
};

use tokio::sync::Semaphore;

use super::{Ctx, Sink};
use crate::client::CallError;
use crate::resource::{GLOBAL, Resource, ResourceKind, Snapshot, tag_map};
use crate::store::Scope;
use crate::store::timestamp;

/// Users whose keys are listed at once; the account's IAM bucket paces them anyway.
const KEY_LISTING_CONCURRENCY: usize = 8;

fn attached(policies: &[AttachedPolicy]) -> Vec<&str> {
    policies.iter().map(|p| p.arn.as_str()).collect()
}

fn inline(policies: &[InlinePolicy]) -> Vec<&str> {
    policies.iter().map(|p| p.name.as_str()).collect()
}

/// The lists GetAccountAuthorizationDetails answers for.
fn details_scope() -> Scope {
    [
        ResourceKind::IamUser,
        ResourceKind::IamGroup,
        ResourceKind::IamRole,
        ResourceKind::IamPolicy,
        ResourceKind::IamAwsManagedPolicy,
    ]
    .into_iter()
    .map(|k| (GLOBAL.to_owned(), k))
    .collect()
}

fn keys_scope() -> Scope {
    Scope::from([(GLOBAL.to_owned(), ResourceKind::IamAccessKey)])
}

/// Reads the account's IAM inventory and hands it to `sink` in two parts: the principals and
/// policies (read while holding one of the run's `lists` slots, as they are the bulk), then the
/// access keys. Returns what could not be read, and the trust policy of `own_role` (the
/// connection's role) when the inventory holds it.
pub(super) async fn sync(
    ctx: &Ctx<'_>,
    sink: &Sink,
    lists: &Semaphore,
    own_role: Option<&trustline_core::RoleArn>,
) -> (Vec<String>, Option<String>) {
    let (names, own_trust) = {
        let _slot = lists.acquire().await;
        let details = match read_details(ctx).await {
            Ok(d) => d,
            Err(e) => {
                sink.part(details_scope(), Snapshot::default()).await;
                sink.part(keys_scope(), Snapshot::default()).await;
                return (vec![format!("IAM: {e}")], None);
            }
        };
        let names: Vec<String> = details.users.iter().map(|u| u.user_name.clone()).collect();
        let own = own_role.map(ToString::to_string);
        let own_trust = details
            .roles
            .iter()
            .find(|r| own.as_deref() == Some(r.arn.as_str()))
            .and_then(|r| r.assume_role_policy_document.clone());
        sink.part(details_scope(), details_part(&details)).await;
        (names, own_trust)
    };
    match read_keys(ctx, names).await {
        Ok(keys) => {
            let mut part = Snapshot::default();
            part.add_complete(GLOBAL, ResourceKind::IamAccessKey, keys);
            sink.part(keys_scope(), part).await;
            (Vec::new(), own_trust)
        }
        Err(e) => {
            sink.part(keys_scope(), Snapshot::default()).await;
            (vec![format!("IAM access keys: {e}")], own_trust)
        }
    }
}

/// The GetAccountAuthorizationDetails page after `marker`, with everything the inventory keeps.
pub fn details_request(marker: Option<String>) -> GetAccountAuthorizationDetails {
    GetAccountAuthorizationDetails {
        filter: vec![
            DetailFilter::User,
            DetailFilter::Group,
            DetailFilter::Role,
            DetailFilter::LocalManagedPolicy,
            DetailFilter::AwsManagedPolicy,
        ],
        paging: Paging::after(marker),
    }
}

async fn read_details(ctx: &Ctx<'_>) -> Result<AuthorizationDetails, CallError> {
    let pages = super::paginate::paginate(details_request(None), |op| async move {
        ctx.call(&op, ctx.home_region()).await.map(|page| (page, ()))
    });
    pages
        .try_fold(AuthorizationDetails::default(), |mut details, (page, ())| async move {
            details.users.extend(page.users);
            details.groups.extend(page.groups);
            details.roles.extend(page.roles);
            details.policies.extend(page.policies);
            Ok(details)
        })
        .await
}

/// The principals and policies as inventory.
pub fn details_part(details: &AuthorizationDetails) -> Snapshot {
    let users: Vec<Resource> = details
        .users
        .iter()
        .map(|u| Resource {
            region: GLOBAL.into(),
            kind: ResourceKind::IamUser,
            id: u.user_name.clone(),
            name: Some(u.user_name.clone()),
            arn: Some(u.arn.clone()),
            tags: tag_map(u.tags.iter().map(|t| (t.key.as_str(), t.value.as_str()))),
            attributes: json!({
                "user_id": u.user_id, "path": u.path, "created": timestamp(u.create_date),
                "groups": u.groups, "attached_policies": attached(&u.attached_policies),
                "inline_policies": inline(&u.inline_policies), "permissions_boundary": u.permissions_boundary_arn,
            }),
        })
        .collect();
    let groups = details.groups.iter().map(|g| Resource {
        region: GLOBAL.into(),
        kind: ResourceKind::IamGroup,
        id: g.group_name.clone(),
        name: Some(g.group_name.clone()),
        arn: Some(g.arn.clone()),
        tags: Default::default(),
        attributes: json!({
            "group_id": g.group_id, "path": g.path, "created": timestamp(g.create_date),
            "attached_policies": attached(&g.attached_policies), "inline_policies": inline(&g.inline_policies),
        }),
    });
    let roles = details.roles.iter().map(|r| Resource {
        region: GLOBAL.into(),
        kind: ResourceKind::IamRole,
        id: r.role_name.clone(),
        name: Some(r.role_name.clone()),
        arn: Some(r.arn.clone()),
        tags: tag_map(r.tags.iter().map(|t| (t.key.as_str(), t.value.as_str()))),
        attributes: json!({
            "role_id": r.role_id, "path": r.path, "created": timestamp(r.create_date),
            "trust_policy": r.assume_role_policy_document.as_deref().and_then(|d| serde_json::from_str::<serde_json::Value>(d).ok()),
            "attached_policies": attached(&r.attached_policies), "inline_policies": inline(&r.inline_policies),
            "permissions_boundary": r.permissions_boundary_arn, "last_used": r.last_used.map(timestamp),
            "last_used_region": r.last_used_region, "instance_profiles": r.instance_profile_arns,
        }),
    });
    let (mut local, mut aws_managed) = (Vec::new(), Vec::new());
    for p in &details.policies {
        let is_aws = p.policy.arn.contains(":iam::aws:policy/");
        // Only AWS-managed policies that something in the account uses are inventory.
        if is_aws && p.policy.attachment_count == 0 {
            continue;
        }
        let resource = Resource {
            region: GLOBAL.into(),
            kind: if is_aws { ResourceKind::IamAwsManagedPolicy } else { ResourceKind::IamPolicy },
            id: p.policy.arn.clone(),
            name: Some(p.policy.policy_name.clone()),
            arn: Some(p.policy.arn.clone()),
            tags: Default::default(),
            attributes: json!({
                "path": p.policy.path, "default_version": p.policy.default_version_id,
                "attachment_count": p.policy.attachment_count, "created": timestamp(p.policy.create_date),
                "policy_id": p.policy.policy_id, "updated": p.policy.update_date.map(timestamp),
                "is_attachable": p.policy.is_attachable, "description": p.policy.description,
                "permissions_boundary_usage_count": p.policy.permissions_boundary_usage_count,
            }),
        };
        if is_aws { aws_managed.push(resource) } else { local.push(resource) }
    }
    let mut part = Snapshot::default();
    part.add_complete(GLOBAL, ResourceKind::IamUser, users);
    part.add_complete(GLOBAL, ResourceKind::IamGroup, groups.collect());
    part.add_complete(GLOBAL, ResourceKind::IamRole, roles.collect());
    part.add_complete(GLOBAL, ResourceKind::IamPolicy, local);
    part.add_complete(GLOBAL, ResourceKind::IamAwsManagedPolicy, aws_managed);
    part
}

/// A user's access key as inventory.
pub fn access_key(user: &str, k: &AccessKey) -> Resource {
    Resource {
        region: GLOBAL.into(),
        kind: ResourceKind::IamAccessKey,
        id: k.access_key_id.clone(),
        name: k.user_name.clone().or_else(|| Some(user.to_owned())),
        arn: None,
        tags: Default::default(),
        attributes: json!({
            "user": user, "active": k.active, "status": k.status, "created": timestamp(k.create_date),
        }),
    }
}

/// Every user's access keys, with their last use from the credential report.
async fn read_keys(ctx: &Ctx<'_>, names: Vec<String>) -> Result<Vec<Resource>, CallError> {
    // Held as AWS's compact records while the account's other users are listed (with every
    // account of an organization in this phase at once, that is most of a run's memory), and
    // made inventory at the end.
    let keys: Vec<Vec<(String, AccessKey)>> = stream::iter(names)
        .map(|user| async move {
            let first = ListAccessKeys { user_name: Some(user.clone()), paging: Paging::default() };
            // Each call waits for its turn in the account's IAM bucket first, then is made
            // boxed: the call's state (several KB) is allocated for the one in flight, not for
            // every user waiting for a turn, in every account at once.
            let keys = super::paginate::all(first, |op| async move {
                ctx.pace(trustline_core::Service::Iam, ctx.home_region()).await;
                Box::pin(ctx.call_paced(&op, ctx.home_region())).await
            });
            Ok::<_, CallError>(keys.await?.into_iter().map(|k| (user.clone(), k)).collect::<Vec<_>>())
        })
        .buffer_unordered(KEY_LISTING_CONCURRENCY)
        .try_collect()
        .await?;

    let mut keys: Vec<Resource> = keys.into_iter().flatten().map(|(user, k)| access_key(&user, &k)).collect();
    match credential_report(ctx).await {
        Ok(report) => add_last_use(&mut keys, &report),
        // Last use is a detail of the keys, not the inventory: without the report (an older role
        // lacking iam:GenerateCredentialReport, say) the keys are still recorded.
        Err(e) => tracing::warn!(error = %e, "no credential report; access keys recorded without last use"),
    }
    Ok(keys)
}

/// How often, and how far apart, to ask whether the credential report is ready (AWS builds it
/// in seconds; it is reused for four hours).
const REPORT_POLLS: u32 = 20;
const REPORT_POLL_INTERVAL: std::time::Duration = std::time::Duration::from_millis(500);

/// The account's credential report: every user's key age and last use in one call.
async fn credential_report(ctx: &Ctx<'_>) -> Result<CredentialReport, CallError> {
    for _ in 0..REPORT_POLLS {
        let state = ctx.call(&GenerateCredentialReport, ctx.home_region()).await?;
        if state.is_complete() {
            return ctx.call(&GetCredentialReport, ctx.home_region()).await;
        }
        tokio::time::sleep(REPORT_POLL_INTERVAL).await;
    }
    ctx.call(&GetCredentialReport, ctx.home_region()).await
}

/// Adds last use to each key from the report. The report names a user's keys by slot (1 and 2),
/// not by ID; a slot's `last_rotated` is its key's creation time, which identifies it.
fn add_last_use(keys: &mut [Resource], report: &CredentialReport) {
    let rows: std::collections::HashMap<&str, _> = report.rows.iter().map(|r| (r.user.as_str(), r)).collect();
    for key in keys {
        let user = key.attributes["user"].as_str().unwrap_or_default();
        let created = key.attributes["created"].as_str().unwrap_or_default().to_owned();
        let Some(row) = rows.get(user) else { continue };
        let slot = row
            .access_keys
            .iter()
            .find(|k| k.last_rotated.map(timestamp).as_deref() == Some(created.as_str()));
        if let Some(usage) = slot {
            key.attributes["last_used"] = json!(usage.last_used.map(timestamp));
            key.attributes["last_used_region"] = json!(usage.last_used_region);
            key.attributes["last_used_service"] = json!(usage.last_used_service);
        }
    }
}

#[cfg(test)]
mod tests {
    use trustline_core::aws::iam::{AccessKeyUsage, CredentialReportRow};

    use super::*;

    fn at(s: &str) -> time::OffsetDateTime {
        time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).unwrap()
    }

    #[test]
    fn last_use_is_matched_to_keys_by_creation_time() {
        let usage = |rotated: &str, used: Option<&str>, region: Option<&str>| AccessKeyUsage {
            active: true,
            last_rotated: Some(at(rotated)),
            last_used: used.map(at),
            last_used_region: region.map(str::to_owned),
            last_used_service: used.map(|_| "s3".to_owned()),
        };
        let report = CredentialReport {
            generated_time: None,
            rows: vec![CredentialReportRow {
                user: "alice".into(),
                arn: "arn:aws:iam::123456789012:user/alice".into(),
                user_creation_time: None,
                password_enabled: None,
                password_last_used: None,
                mfa_active: false,
                access_keys: [
                    usage("2026-01-01T00:00:00Z", None, None),
                    usage("2026-06-01T12:00:00Z", Some("2026-11-20T08:00:00Z"), Some("eu-west-1")),
                ],
            }],
        };
        let key = |id: &str, created: &str| Resource {
            region: GLOBAL.into(),
            kind: ResourceKind::IamAccessKey,
            id: id.into(),
            name: None,
            arn: None,
            tags: Default::default(),
            attributes: json!({ "user": "alice", "active": true, "created": created }),
        };
        let mut keys = vec![key("AKIANEW", "2026-06-01T12:00:00Z"), key("AKIAOLD", "2026-01-01T00:00:00Z")];
        add_last_use(&mut keys, &report);
        assert_eq!(keys[0].attributes["last_used"], "2026-11-20T08:00:00Z");
        assert_eq!(keys[0].attributes["last_used_region"], "eu-west-1");
        assert_eq!(keys[1].attributes["last_used"], serde_json::Value::Null);
    }
}
