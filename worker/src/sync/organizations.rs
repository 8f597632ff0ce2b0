//! Organization discovery: the member accounts of an Organization connection, from
//! ListAccounts, or from the OU tree (ListOrganizationalUnitsForParent and ListAccountsForParent)
//! when the connection includes or excludes OUs.

use std::collections::{BTreeMap, BTreeSet};

use trustline_core::aws::organizations::{
    Account, ListAccounts, ListAccountsForParent, ListOrganizationalUnitsForParent, Paging,
};

use super::Ctx;
use crate::client::CallError;
use crate::store::{Member, OrgSettings};

/// Every item of an Organizations list (a global service: calls go to the home region).
async fn all_pages<O, T>(ctx: &Ctx<'_>, first: O) -> Result<Vec<T>, CallError>
where
    O: trustline_core::aws::Paginated<Output = trustline_core::aws::Page<T>>,
{
    super::paginate::all(first, |op| async move { ctx.call(&op, ctx.home_region()).await }).await
}

/// The accounts under `parent` (a root or OU) and all its sub-OUs.
async fn subtree(ctx: &Ctx<'_>, parent: &str) -> Result<Vec<Account>, CallError> {
    let invalid = CallError::Build;
    let mut accounts = Vec::new();
    let mut queue = vec![parent.to_owned()];
    let mut visited = BTreeSet::new();
    while let Some(ou) = queue.pop() {
        if !visited.insert(ou.clone()) {
            continue;
        }
        let list = ListAccountsForParent::new(&ou).map_err(invalid)?;
        accounts.extend(all_pages(ctx, list).await?);
        let children = ListOrganizationalUnitsForParent::new(&ou).map_err(invalid)?;
        let units = all_pages(ctx, children).await?;
        queue.extend(units.into_iter().map(|u| u.id));
    }
    Ok(accounts)
}

/// The Organization's member accounts that `settings` selects, by ID.
pub(super) async fn discover(ctx: &Ctx<'_>, settings: &OrgSettings) -> Result<Vec<Member>, CallError> {
    let mut accounts: BTreeMap<String, Account> = BTreeMap::new();
    if settings.include_ous.is_empty() {
        for a in all_pages(ctx, ListAccounts { paging: Paging::default() }).await? {
            accounts.insert(a.id.clone(), a);
        }
    } else {
        for ou in &settings.include_ous {
            for a in subtree(ctx, ou).await? {
                accounts.insert(a.id.clone(), a);
            }
        }
    }
    for ou in &settings.exclude_ous {
        for a in subtree(ctx, ou).await? {
            accounts.remove(&a.id);
        }
    }
    accounts
        .into_values()
        .map(|a| {
            Ok(Member {
                account: a.id.parse().map_err(CallError::Build)?,
                name: a.name,
                // ACTIVE; SUSPENDED and PENDING_CLOSURE accounts cannot be assumed into.
                active: a.status.as_deref().is_none_or(|s| s == "ACTIVE"),
            })
        })
        .collect()
}
